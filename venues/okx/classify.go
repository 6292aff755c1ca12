package okx

import (
	"net/http"

	"github.com/execd-dev/execd/venues"
)

// Classify maps an HTTP status and an OKX code ("" if none) to what the caller may do next.
func Classify(status int, code string) venues.Class {
	switch {
	case status == http.StatusTooManyRequests:
		return venues.Retryable
	case code == "50011" || code == "50061": // rate limit (user, sub-account): not processed
		return venues.Retryable
	case code == "50102" || code == "50112": // timestamp expired or invalid: refused before processing
		return venues.Retryable
	case code == "50001" || code == "50004" || code == "50013" || code == "50026":
		// service unavailable, endpoint timeout ("does not mean that the request was successful or failed"),
		// system busy, system error: the order may have been processed
		return venues.Unknown
	case status >= 500:
		return venues.Unknown
	case code != "" && code != "0":
		return venues.Rejected
	case status >= 400:
		return venues.Rejected
	}
	return venues.Unknown
}

// notFound reports whether a code says the order does not exist.
func notFound(code string) bool { return code == "51603" }

// cancelFailedFinal reports whether a cancel failed because the order is final or unknown (then it is queried).
func cancelFailedFinal(code string) bool {
	return code == "51400" || code == "51401" || code == "51402" || code == "51603"
}

// codeAmendPostOnly refuses an amendment whose new price would make a post_only order take liquidity; the order
// stays as it was, so it is a plain Rejected error (not queried).
const codeAmendPostOnly = "51511"

// amendFailedFinal reports whether an amendment failed because the order does not exist or has ended (then it is
// queried): 51503 (does not exist; "filled, canceled or does not exist" in OKX's newer wording), 51509 (canceled),
// 51510 (completed), 51603.
func amendFailedFinal(code string) bool {
	return code == "51503" || code == "51509" || code == "51510" || code == "51603"
}
