package bybit

import (
	"testing"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
)

// TestPostOnly: a post-only order goes out as timeInForce PostOnly and rests as such. One that would cross is
// acknowledged by the create and then cancelled by the venue: the adapter returns it with no error, StatusRejected,
// nothing filled, and the venue's record is Cancelled with rejectReason EC_PostOnlyWillTakeLiquidity. An amend that
// reprices a resting PostOnly order through the book ends it the same way (the mock's reading of the venue).
func TestPostOnly(t *testing.T) {
	f := newFixture(t)
	q := f.book.Quote()
	rest := venues.OrderRequest{ClientOrderID: "po1", Instrument: inst, Side: venues.Sell, Type: venues.Limit,
		TimeInForce: venues.PostOnly, Quantity: d("0.01"), Price: q.Ask}
	o, err := f.ad.Place(venuetesting.Ctx(t), rest)
	if err != nil || o.Status != venues.StatusNew || o.TimeInForce != venues.PostOnly {
		t.Fatalf("resting post-only %+v %v", o, err)
	}
	cross := rest
	cross.ClientOrderID, cross.Price = "po2", q.Bid
	o, err = f.ad.Place(venuetesting.Ctx(t), cross)
	if err != nil || o.Status != venues.StatusRejected || !o.FilledQty.IsZero() || o.TimeInForce != venues.PostOnly {
		t.Fatalf("crossing post-only %+v %v", o, err)
	}
	recs := f.srv.Orders()
	if len(recs) != 2 || recs[0].TimeInForce != "PostOnly" || recs[0].OrderStatus != "New" ||
		recs[1].OrderStatus != "Cancelled" || recs[1].RejectReason != "EC_PostOnlyWillTakeLiquidity" || !recs[1].CumExecQty.IsZero() {
		t.Fatalf("venue records %+v", recs)
	}
	a, err := f.ad.Amend(venuetesting.Ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "po1", Price: q.Bid})
	if err != nil || a.Status != venues.StatusRejected || !a.FilledQty.IsZero() {
		t.Fatalf("amend through the book: %+v %v", a, err)
	}
}

// TestPostOnlyStatusMapping: a Cancelled (or Rejected) PostOnly order with rejectReason EC_PostOnlyWillTakeLiquidity
// is StatusRejected; cancelled by request it is StatusCanceled; a timeInForce execd never sends is an error.
func TestPostOnlyStatusMapping(t *testing.T) {
	base := orderJSON{Symbol: "BTCUSDT", OrderID: "1", OrderLinkID: "p", Side: "Buy", OrderType: "Limit",
		TimeInForce: "PostOnly", Price: "100", Qty: "1", CumExecQty: "0", UpdatedTime: "1700000000000"}
	for _, c := range []struct {
		status, reason string
		want           venues.OrderStatus
	}{
		{"New", "EC_NoError", venues.StatusNew},
		{"Cancelled", "EC_PostOnlyWillTakeLiquidity", venues.StatusRejected},
		{"Rejected", "EC_PostOnlyWillTakeLiquidity", venues.StatusRejected},
		{"Cancelled", "EC_NoError", venues.StatusCanceled},
		{"Cancelled", "", venues.StatusCanceled},
	} {
		j := base
		j.OrderStatus, j.RejectReason = c.status, c.reason
		o, err := toOrder(inst, j)
		if err != nil || o.Status != c.want || o.TimeInForce != venues.PostOnly {
			t.Fatalf("%s/%s: %+v %v, want %s", c.status, c.reason, o, err, c.want)
		}
	}
	j := base
	j.OrderStatus, j.TimeInForce = "New", "FOK"
	if _, err := toOrder(inst, j); err == nil {
		t.Fatal("timeInForce FOK must not map")
	}
}
