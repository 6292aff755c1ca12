package bench

import "time"

// Child is one child order as the simulated market saw it: one taker order on one venue.
type Child struct {
	Venue  string
	At     time.Duration // simulated time since the parent's arrival
	Qty    float64       // quantity asked for, base units
	Filled float64       // quantity executed, base units
	Maker  bool          // of Execution.Fills: a resting order's fill (maker fee)
	IOC    bool          // of a daemon run's Children: an immediate-or-cancel order (a taker child)
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
	// Fills are the executions (takes and resting orders' fills) at their own times, sorted by At; Qty is zero.
	// ScheduleError reads them when there are any.
	Fills []Child
	// In bps of the arrival mid, positive when it costs: IS = Cost + Timing (the implementation shortfall and its
	// split into what the trading cost and what the common price did meanwhile); Fees apart.
	IS, Cost, Timing, Fees float64
	// Total = IS + Fees: what the user pays. Path is the common price's own move averaged over the horizon (1 s
	// samples), side-signed, in bps: the same for every strategy on a seed and zero in expectation whatever the
	// strategy does, so TotalAdj = Total − Path has Total's expectation with most of the price path's noise removed
	// — also for strategies whose fill times depend on the price (maker orders), where Timing is not zero-mean.
	Total, Path, TotalAdj float64
	MakerShare            float64    // the part of the filled quantity that rested (maker fills, maker fee)
	Markouts              [3]float64 // fill-weighted side × (F(t+h) − fill price) / fill price, bps, h = 1 s, 10 s, 60 s
	Cleanup               float64    // the quantity the benchmark crossed at the horizon for a strategy that left it
	FilledFrac            float64    // filled / quantity
}

// MarkoutHorizons are the horizons of Execution.Markouts.
var MarkoutHorizons = [3]time.Duration{time.Second, 10 * time.Second, time.Minute}
