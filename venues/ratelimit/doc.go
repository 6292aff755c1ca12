// Package ratelimit paces one venue's requests under its published limits, below the adapter, on the HTTP
// transport: every request an adapter makes — orders, queries, market data, listen-key keepalives, the order
// lookups behind a fills read — passes through it, so it is the one place that sees them all.
//
// A Table is a venue protocol's limits ("300 orders per 10 s", "2,400 request weight per minute", "60 orders per
// 2 s") and what each request draws on them. The Transport keeps one token bucket per limit, sized so that no
// window of the limit's length can ever hold more than the limit (90% of it at the steady rate, 10% as burst): a
// request waits for its tokens, bounded by its context, and is never sent past a limit. What the venue says in its
// answers tightens the buckets (Binance's X-MBX-USED-WEIGHT-1M and order counts, Bybit's X-Bapi-Limit-Status: the
// account may be shared with other programs); a 429 stops every request to the venue until its Retry-After has
// passed, a 418 (an IP ban) until the ban ends. A request that is not sent because of a stop fails at once with an
// error that says it never left, which the adapters class as retryable.
package ratelimit
