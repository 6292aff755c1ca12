package binance

import (
	"testing"

	"github.com/adshao/go-binance/v2/futures"

	"github.com/execd-dev/execd/venues"
)

// TestPostOnlyGTX: a post-only order goes out as timeInForce GTX and comes back post-only. One that would cross is
// refused with HTTP 400, -5022, Rejected and not a not-found, and leaves no trace at the venue: no order record, and
// a query of its client id finds nothing. A modify that would make a resting GTX order cross cancels it: the adapter
// returns the cancelled order, nothing filled.
func TestPostOnlyGTX(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	q := e.book.Quote()
	rest := venues.OrderRequest{ClientOrderID: "gtx1", Instrument: inst, Side: venues.Buy, Type: venues.Limit,
		TimeInForce: venues.PostOnly, Quantity: d("0.02"), Price: q.Bid}
	o, err := e.ad.Place(ctx(t), rest)
	if err != nil || o.Status != venues.StatusNew || o.TimeInForce != venues.PostOnly {
		t.Fatalf("resting post-only %+v %v", o, err)
	}
	if recs := e.srv.Orders(); len(recs) != 1 || recs[0].TimeInForce != "GTX" || recs[0].Status != "NEW" {
		t.Fatalf("venue records %+v", recs)
	}

	cross := rest
	cross.ClientOrderID, cross.Price = "gtx2", q.Ask
	_, err = e.ad.Place(ctx(t), cross)
	ve := wantErr(t, err, venues.Rejected, "-5022")
	if ve.Status != 400 || venues.IsNotFound(err) {
		t.Fatalf("refusal %v (http %d)", err, ve.Status)
	}
	if n := len(e.srv.Orders()); n != 1 {
		t.Fatalf("a refused GTX order must not be recorded: %d orders", n)
	}
	if _, err := e.ad.Query(ctx(t), inst, "gtx2"); !venues.IsNotFound(err) {
		t.Fatalf("query of the refused order: %v", err)
	}

	c, err := e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "gtx1", Price: q.Ask})
	if err != nil || c.Status != venues.StatusCanceled || !c.FilledQty.IsZero() || c.TimeInForce != venues.PostOnly {
		t.Fatalf("modify through the book: %+v %v", c, err)
	}
	if recs := e.srv.Orders(); recs[0].Status != "CANCELED" || !recs[0].ExecutedQty.IsZero() {
		t.Fatalf("venue record after the modify %+v", recs[0])
	}
}

// TestTimeInForceMapping: GTC, IOC and GTX map to and from the venue; a time in force execd never sends is an
// error, not a guess.
func TestTimeInForceMapping(t *testing.T) {
	for tif, want := range map[futures.TimeInForceType]venues.TimeInForce{futures.TimeInForceTypeGTC: venues.GTC,
		futures.TimeInForceTypeIOC: venues.IOC, futures.TimeInForceTypeGTX: venues.PostOnly} {
		typ, got, err := typeFromVenue(futures.OrderTypeLimit, tif)
		if err != nil || typ != venues.Limit || got != want {
			t.Fatalf("%s: %s %s %v", tif, typ, got, err)
		}
	}
	for _, tif := range []futures.TimeInForceType{futures.TimeInForceTypeFOK, futures.TimeInForceTypeGTD, ""} {
		if _, _, err := typeFromVenue(futures.OrderTypeLimit, tif); err == nil {
			t.Fatalf("time in force %q must not map", tif)
		}
	}
	u := &futures.WsOrderTradeUpdate{Symbol: "BTCUSDT", ClientOrderID: "g", ID: 1, Side: futures.SideTypeBuy,
		Type: futures.OrderTypeLimit, TimeInForce: futures.TimeInForceTypeGTX, Status: futures.OrderStatusTypeNew,
		OriginalPrice: "100", OriginalQty: "1", AccumulatedFilledQty: "0", AveragePrice: "0",
		ExecutionType: futures.OrderExecutionTypeNew}
	ev, err := toEvent("a", inst, u)
	if err != nil || ev.Order.TimeInForce != venues.PostOnly || ev.Fill != nil {
		t.Fatalf("stream update of a GTX order: %+v %v", ev, err)
	}
}

// TestTouch: the adapter reads the venue's best bid and ask from the book ticker (the peg's reference), a symbol
// it does not trade is an error before any request.
func TestTouch(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	q := e.book.Quote()
	got, err := e.ad.Touch(ctx(t), inst)
	if err != nil || !got.Bid.Equal(q.Bid) || !got.Ask.Equal(q.Ask) || got.Instrument != inst || !got.Mark.IsZero() {
		t.Fatalf("touch %+v %v; book %s/%s", got, err, q.Bid, q.Ask)
	}
	if _, err := e.ad.Touch(ctx(t), "DOGE-USDT-PERP"); err == nil {
		t.Fatal("touch of an instrument the venue does not list")
	}
}
