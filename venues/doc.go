// Package venues holds what every venue adapter shares and nothing venue-specific: the normalized order, fill,
// position and instrument types (quantities in base units, money in decimal.Decimal), the error classes every
// adapter maps its failures to (retryable, rejected, outcome unknown), and the Venue interface the engine and
// the reconcile loop consume. Optional capabilities beyond Venue (Quoter, OrderFiller, Amender) are small interfaces
// found by type assertion. One subpackage per venue protocol translates at its boundary (convert.go) and
// returns an error for anything it cannot map; venue types never leak above this package.
package venues
