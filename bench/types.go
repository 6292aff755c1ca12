package bench

import "time"

// Child is one child order as the simulated market saw it: one taker order on one venue.
type Child struct {
	Venue  string
	At     time.Duration // simulated time since the parent's arrival
	Qty    float64       // quantity asked for, base units
	Filled float64       // quantity executed, base units
}

// Execution is one parent order worked by one strategy on one seed, judged from the market's own take records.
type Execution struct {
	Strategy string
	Size     string // the size class, e.g. "1%"
	Seed     int64
	Side     int     // +1 buy, −1 sell
	Quantity float64 // the parent's quantity, base units
	Horizon  time.Duration
	Children []Child // sorted by At
	// In bps of the arrival mid, positive when it costs: IS = Cost + Timing (the implementation shortfall and its
	// split into what the trading cost and what the common price did meanwhile); Fees apart.
	IS, Cost, Timing, Fees float64
	FilledFrac             float64 // filled / quantity
}
