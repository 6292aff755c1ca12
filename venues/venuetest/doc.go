// Package venuetest holds what every venue adapter's tests share: the table of venue error answers and the class
// each must map to (Retryable, Rejected, Unknown), so the safety rules of order handling are written down once and
// every adapter's Classify is checked against them; and the conformance scenarios every adapter runs against its
// protocol mock under the same names (Run), including those of the optional capabilities (venues.Quoter,
// venues.OrderFiller, venues.Amender), which are skipped for an adapter that lacks one.
package venuetest
