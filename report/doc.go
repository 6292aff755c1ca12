// Package report renders a parent order's report (the API's Order) for people and spreadsheets: the cost lines
// (implementation shortfall and fees side by side, and their sum; funding; markouts), a table per venue, the
// re-routings, and the same as CSV. The demo, execctl and the API's report route print what it writes, so a figure
// reads the same wherever it is seen. It computes nothing the order does not carry but ratios of its figures.
package report
