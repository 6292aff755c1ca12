// Package venuetest holds what every venue adapter's tests share: the table of venue error answers and the class
// each must map to (Retryable, Rejected, Unknown), so the safety rules of order handling are written down once and
// every adapter's Classify is checked against them; and the conformance scenarios every adapter runs against its
// protocol mock under the same names (Run), including those of the optional capabilities (venues.Quoter,
// venues.OrderFiller, venues.Amender), which are skipped for an adapter that lacks one.
//
// Among them: post-only orders (venues.PostOnly) that rest, that would cross — never executed, each venue's way
// (refused, or accepted and ended) — on the private stream, and amended; and fills that race a cancel or an
// amendment (Harness.FillBeforeNextChange: the mock's market takes the resting order just before the venue handles
// the request), after which the adapter must report the order's real final state and filled quantity.
package venuetest
