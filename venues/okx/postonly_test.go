package okx

import (
	"testing"

	"github.com/execd-dev/execd/venues"
)

// TestPostOnly: a post-only order goes out as ordType post_only and rests as such. One that would cross is placed
// (sCode 0) and then canceled by the venue with cancelSource 31: the adapter returns it with no error,
// StatusRejected, nothing filled. An amendment that would make a resting post_only order cross is refused with
// 51511, Rejected and not a not-found, and the order rests as it was.
func TestPostOnly(t *testing.T) {
	e := newEnv(t, nil)
	q := e.book.Quote()
	rest := venues.OrderRequest{ClientOrderID: "po1", Instrument: inst, Side: venues.Buy, Type: venues.Limit,
		TimeInForce: venues.PostOnly, Quantity: d("0.02"), Price: q.Bid}
	o, err := e.ad.Place(ctx(t), rest)
	if err != nil || o.Status != venues.StatusNew || o.TimeInForce != venues.PostOnly {
		t.Fatalf("resting post-only %+v %v", o, err)
	}
	cross := rest
	cross.ClientOrderID, cross.Price = "po2", q.Ask
	o, err = e.ad.Place(ctx(t), cross)
	if err != nil || o.Status != venues.StatusRejected || !o.FilledQty.IsZero() || o.TimeInForce != venues.PostOnly {
		t.Fatalf("crossing post-only %+v %v", o, err)
	}
	recs := e.srv.Orders()
	if len(recs) != 2 || recs[0].OrdType != "post_only" || recs[0].State != "live" || recs[1].State != "canceled" ||
		recs[1].CancelSource != "31" || !recs[1].AccFillSz.IsZero() {
		t.Fatalf("venue records %+v", recs)
	}
	_, err = e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "po1", Price: q.Ask})
	if ve := wantErr(t, err, venues.Rejected, codeAmendPostOnly); venues.IsNotFound(ve) {
		t.Fatalf("refused amendment: %v", err)
	}
	if o, err := e.ad.Query(ctx(t), inst, "po1"); err != nil || o.Status != venues.StatusNew || !o.Price.Equal(q.Bid) {
		t.Fatalf("after the refused amendment: %+v %v", o, err)
	}
}

// TestPostOnlyStatusMapping: post_only maps both ways; a canceled post_only order is StatusRejected when OKX
// canceled it for crossing (cancelSource 31) and StatusCanceled otherwise.
func TestPostOnlyStatusMapping(t *testing.T) {
	if typ, err := ordTypeToVenue(venues.Limit, venues.PostOnly); err != nil || typ != "post_only" {
		t.Fatalf("ordType %q %v", typ, err)
	}
	in := testInstrument(t)
	row := orderRow{InstID: "BTC-USDT-SWAP", OrdID: "1", ClOrdID: "c1", Px: "10500.0", Sz: "2", OrdType: "post_only",
		Side: "buy", PosSide: "net", AccFillSz: "0", State: "canceled", ReduceOnly: "false", UTime: "1700000000000"}
	for source, want := range map[string]venues.OrderStatus{"31": venues.StatusRejected, "1": venues.StatusCanceled,
		"": venues.StatusCanceled} {
		row.CancelSource = source
		o, err := toOrder(in, row)
		if err != nil || o.Status != want || o.TimeInForce != venues.PostOnly || o.Type != venues.Limit {
			t.Fatalf("cancelSource %q: %+v %v, want %s", source, o, err, want)
		}
	}
}
