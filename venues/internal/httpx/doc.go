// Package httpx is the HTTP plumbing the venue adapters share: a RoundTripper that records, per call, the HTTP
// status and whether the request was fully written to the wire, and the classification of transport-level failures
// that follows from it.
//
// Usage, per adapter:
//
//	hc := httpx.NewClient(cfg.HTTPClient)          // copies the client and wraps its transport
//	ctx, info := httpx.WithInfo(ctx)               // one Info per call
//	resp, err := hc.Do(req.WithContext(ctx))
//	if err != nil {
//		return httpx.TransportError(venue, op, info, mutating, classifyStatus, err)
//	}
//
// A request that never left (refused, DNS, ctx done before sending) is Retryable; one that was written and got no
// answer is Unknown (the venue may have acted); one with a status is classified by the venue's own status table.
// Transport errors are sanitized: the query (timestamps, signatures) is stripped from URLs, and Redact removes
// secrets from any string before it reaches a log or an error.
package httpx
