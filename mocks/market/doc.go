// Package market is the simulated multi-venue BTC perpetual market behind the protocol mock servers.
//
// One Market holds a common fair price F and, per venue, a book derived from it. The mocks ask it for quotes and
// depth and send it taker orders; it answers in decimal.Decimal on each venue's tick and lot grids, while the
// stochastic model inside runs in float64.
//
// # Time
//
// The model runs on an injected clock.Clock and advances lazily: every public call first steps the model from its
// last step to the clock's now on a fixed grid of Config.Step anchored at the time New was called. The random
// streams (math/rand/v2 PCG seeded from Config.Seed: one for the price path, one for background flow) are consumed
// per step, so the path of F is a function of the seed alone, whoever looks and whenever. A gap of more than
// 20,000 steps (over half an hour at the default step) is advanced in one-minute chunks with exact aggregate
// transitions (a GBM over n steps is one normal with n times the variance; exponential decays are exact for any
// dt), and a gap of more than a day first jumps to the last day in one draw. Such coarse paths are still
// deterministic for the same seed and the same query times.
//
// # Model
//
// F is a geometric random walk with per-step sigma AnnualVolatility·sqrt(Step/365d). Venue v's undisturbed mid is
// mid0 = F·exp(basis), where basis is the venue's fixed BasisBps plus an Ornstein–Uhlenbeck noise with stationary
// std BasisNoiseBps and the coupling half-life. Its quoted mid is mid0·(1+y), with y the venue's transient impact.
//
// Impact follows the square-root law (Donier & Bonart): with σ_D = AnnualVolatility/sqrt(365) and V the venue's
// daily volume (VolumeShare·TotalVolume24h), the impact of a signed quantity Q is g(Q) = Y·σ_D·sign(Q)·sqrt(|Q|/V),
// and y is held as its equivalent quantity Q = g⁻¹(y). The marginal ask at state Q is mid0·(1+h+g(Q)) and the
// marginal bid mid0·(1−h+g(Q)), h the half-spread. The book is that curve on the grids: each lot is priced at the
// marginal price at its midpoint, rounded away from the mid to the tick (ask up, bid down), and lots on one tick
// form one level. Depth and Take walk the same levels, so a buy of q from rest costs about (2/3)·Y·σ_D·sqrt(q/V)
// beyond the half-spread, and after a take y = g(Q±q).
//
// Each step, every y relaxes towards the volume-weighted mean c = Σ w_u·y_u with the coupling half-life (arbitrage
// spreads one venue's impact to the others) and all of them decay towards zero with the impact half-life (transient
// impact, resilience).
//
// Background flow: per venue and step a Poisson number of trades (4 a second) with exponential sizes whose
// mean makes the expected daily volume V; each trade is a buy or a sell at random, the step's buys print as one
// public trade at the ask and its sells as one at the bid. Background flow does not move y. The last 1000
// public trades per venue are kept.
//
// Informed flow (Config.InformedShare, InformedHalfLives, InformedFollow; off when the share is zero): the flow then
// carries part of the price. After each step's flow has traded, log F moves by κ·z, z the step's volume-weighted
// buy-minus-sell imbalance across the venues scaled to unit variance, and the step's normal draw is scaled down to
// √(1−share); κ is chosen so that the share of the long-run variance is InformedShare and the volatility stays the
// configured one. With half-lives, one Ornstein–Uhlenbeck signal per half-life sets the side of an equal part of
// InformedFollow of the trades (the rest stay at random), so trade signs are correlated over the signals' lifetimes,
// as large orders worked in pieces make them, and a run of sells keeps pushing F down. The configs use a share of
// 0.5 and one 1.5 s signal followed by half the trades.
//
// # Resting orders
//
// A participant (Venue.NewMaker, one per account and venue) tells the venue where its limit orders rest; the venue
// keeps them in queues it does not show (Quote and Depth are the model's book alone, and takers never meet them) and
// lets the background flow trade with them. An order resting at tick p joins the back of the queue there: ahead of it
// is the quantity Depth shows at p on its side at that moment (zero inside the spread). Each step, after the price and
// the impact have moved, the step's background sells (QueueShare of them, default all) meet the resting buys at the
// bid or above it, best price first and in time priority at a price: the buys above the bid are the touch for the
// flow and fill first, with nothing ahead; at the bid each buy's queue ahead is consumed before it fills. What is left
// prints at the bid as before; the fills above it print at their own price. Buys below the bid do not fill from the
// flow: the flow trades at the touch only, and the displayed bid is taken as replenished behind the queue. The sells
// meet the background buys the same way. The queue ahead only shrinks: by the flow, and, each step, down to what the
// book still shows at p (liquidity that is no longer shown was ahead). A changed price or a larger quantity re-queues
// the order at the back (Maker.Rest again); a smaller one keeps its place (Maker.Resize). The fills — as maker, at the
// order's price — wait in the Maker until Maker.Drain, so the venue never calls its participants. Resting orders
// change neither the random streams nor F, the basis or the impact, so the path and every take are the same with
// them or without; only the tape differs when the flow fills an order inside the spread.
//
// With uninformed flow (the price a martingale the flow neither moves nor foretells) the fills the flow makes at the
// queue are not adversely selected: their markout against F is positive on average and below the half-spread; only
// the fills of a price running through the order (the mock exchange's sweep) are adverse. With informed flow the sells
// that fill a resting buy are the sells that move F down, and foretell more of them: the average markout of passive
// fills is negative 1 s, 10 s and 60 s after the fill. mocks/exchange's TestPassiveFillMarkouts measures both.
//
// Volume24h sums 1440 one-minute buckets. New pre-fills the previous day with buckets drawn around V/1440 (±20%,
// from the seed) over a backward random walk of the price, so volumes and shares are right from the first call.
// Funding is the constant FundingRate8h, due at 00:00, 08:00 and 16:00 UTC; the mark price is the venue mid.
//
// # Benchmarks
//
// Config.NoiseFree freezes F and zeroes the basis noise (impact, resilience, coupling and flow remain): the
// market on which a schedule's pure trading cost is measured. After RecordTakes the market keeps a TakeRecord of
// every taker order (time, venue, side, requested and filled quantity, notional, F and the venue mid before it):
// benchmarks judge executions by it, whatever protocol the order came through.
//
// All methods are safe for concurrent use; one mutex guards the market and nothing is called while it is held.
package market
