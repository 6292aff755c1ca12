// Package twap turns one venue's allocation into a randomized slice schedule and prices its child orders. It
// is pure: the start time and the random source are passed in, nothing sleeps, logs or calls a venue.
//
// Schedule cuts the window [Start, Start+Horizon−EndBuffer] into n slices, n being the horizon over
// MeanInterval, lowered when the quantity cannot be cut into that many slices of at least the minimum size
// (min qty, min notional at RefPrice) and raised when MaxChildQty needs more. The gaps between slices are
// independent draws of the mean interval ±TimeJitter/2, scaled to fill the window, so the next slice's time
// cannot be told from the previous ones (slices jittered around a fixed grid would give the grid away: their
// intervals alternate long and short), and two venues scheduled from different random streams do not trade in
// lockstep. Sizes are whole lots, each weighted by the gap before it (so the cumulative quantity keeps pace
// with the clock) and varied by up to ±SizeJitter, kept within [minimum, MaxChildQty] and summing exactly to
// the quantity.
//
// At run time ChildQuantity tells the engine how much to send at a slice, carrying anything unfilled from
// earlier slices forward, and LimitPrice gives the IOC limit: the slippage band around the mark, rounded onto
// the tick grid toward the mark, never through the parent's limit.
package twap
