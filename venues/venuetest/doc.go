// Package venuetest holds what every venue adapter's tests share: the table of venue error answers and the class
// each must map to (Retryable, Rejected, Unknown), so the safety rules of order handling are written down once and
// every adapter's Classify is checked against them.
package venuetest
