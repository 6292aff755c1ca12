package bybit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/execd-dev/execd/venues"
)

func knownSymbol(symbol string) (string, error) {
	if symbol == "BTCUSDT" {
		return "BTC-USDT-PERP", nil
	}
	return "", errors.New("unknown symbol")
}

func TestDecodeStreamIOCRemainder(t *testing.T) {
	msg := `{"topic":"order","creationTime":1,"data":[{"symbol":"BTCUSDT","orderId":"x1","orderLinkId":"c1","side":"Buy",
	"orderType":"Limit","timeInForce":"IOC","price":"10490.0","qty":"1.000","cumExecQty":"0.400","avgPrice":"10489.5",
	"orderStatus":"Cancelled","reduceOnly":false,"updatedTime":"1700000000000"}]}`
	evs, err := decodeStream("c", []byte(msg), knownSymbol)
	if err != nil || len(evs) != 1 || evs[0].Order == nil {
		t.Fatalf("%+v %v", evs, err)
	}
	if o := evs[0].Order; o.Status != venues.StatusExpired || o.FilledQty.String() != "0.4" {
		t.Fatalf("order %+v", o)
	}
	for _, bad := range []string{
		`{"topic":"order","data":[{"symbol":"BTCUSDT","orderId":"x","side":"Up","orderType":"Limit","timeInForce":"GTC","qty":"1","orderStatus":"New"}]}`,
		`{"topic":"execution","data":[{"symbol":"ETHUSDT","execId":"e","side":"Buy","execQty":"1","execPrice":"1","execType":"Trade"}]}`,
		`{"topic":"execution","data":[{"symbol":"BTCUSDT","execId":"e","side":"Buy","execQty":"x","execPrice":"1","execType":"Trade"}]}`,
		`{"op":"auth","success":false,"ret_msg":"Invalid sign"}`,
	} {
		if _, err := decodeStream("c", []byte(bad), knownSymbol); err == nil {
			t.Errorf("no error for %s", bad)
		}
	}
	if evs, err := decodeStream("c", []byte(`{"op":"pong","args":["1"]}`), knownSymbol); err != nil || len(evs) != 0 {
		t.Fatalf("pong: %+v %v", evs, err)
	}
}

func TestToPositionSigned(t *testing.T) {
	p, err := toPosition("c", "BTC-USDT-PERP", positionJSON{Symbol: "BTCUSDT", Side: "Sell", Size: "2.5", AvgPrice: "100"})
	if err != nil || p.Quantity.String() != "-2.5" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := toPosition("c", "BTC-USDT-PERP", positionJSON{Symbol: "BTCUSDT", Side: "", Size: "1"}); err == nil {
		t.Fatal("size without side accepted")
	}
}

// FuzzConvert feeds arbitrary payloads to the stream decoder and the REST translators: they must never panic, and
// whatever they accept must be well-formed.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"topic":"execution","data":[{"symbol":"BTCUSDT","orderId":"o","orderLinkId":"c","side":"Sell","execId":"e1","execPrice":"10490.1","execQty":"0.010","execFee":"0.05","execType":"Trade","execTime":"1700000000000","isMaker":false}]}`))
	f.Add([]byte(`{"topic":"order","data":[{"symbol":"BTCUSDT","orderId":"o","side":"Buy","orderType":"Market","timeInForce":"IOC","price":"0","qty":"0.5","cumExecQty":"0.5","orderStatus":"Filled"}]}`))
	f.Add([]byte(`{"topic":"position","data":[{"symbol":"BTCUSDT","side":"Buy","size":"1"}]}`))
	f.Add([]byte(`{"op":"subscribe","success":true}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		evs, err := decodeStream("c", msg, knownSymbol)
		if err != nil {
			return
		}
		for _, ev := range evs {
			switch {
			case ev.Fill != nil:
				if !ev.Fill.Quantity.IsPositive() || ev.Fill.TradeID == "" || (ev.Fill.Side != venues.Buy && ev.Fill.Side != venues.Sell) {
					t.Fatalf("bad fill %+v", ev.Fill)
				}
			case ev.Order != nil:
				if ev.Order.FilledQty.GreaterThan(ev.Order.Quantity) || ev.Order.Status == "" || ev.Order.VenueOrderID == "" {
					t.Fatalf("bad order %+v", ev.Order)
				}
			default:
				t.Fatalf("empty event %+v", ev)
			}
		}
		var in instrumentJSON
		if json.Unmarshal(msg, &in) != nil {
			return
		}
		if r, ok, err := toRules(in); err == nil && ok {
			if r.Validate() != nil {
				t.Fatalf("invalid rules accepted %+v", r)
			}
		}
	})
}

func TestToQuote(t *testing.T) {
	at := time.UnixMilli(1700000000000).UTC()
	q, err := toQuote("BTC-USDT-PERP", tickerJSON{Symbol: "BTCUSDT", MarkPrice: "10490.5", Bid1Price: "10490.1",
		Ask1Price: "10490.2"}, at)
	if err != nil || q.Mark.String() != "10490.5" || q.Bid.String() != "10490.1" || q.Ask.String() != "10490.2" || !q.Time.Equal(at) {
		t.Fatalf("%+v %v", q, err)
	}
	// An empty side of the book is zero.
	if q, err := toQuote("BTC-USDT-PERP", tickerJSON{Symbol: "BTCUSDT", MarkPrice: "1"}, at); err != nil || !q.Bid.IsZero() || !q.Ask.IsZero() {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []tickerJSON{
		{Symbol: "BTCUSDT", MarkPrice: ""},
		{Symbol: "BTCUSDT", MarkPrice: "0"},
		{Symbol: "BTCUSDT", MarkPrice: "1", Bid1Price: "x"},
		{Symbol: "BTCUSDT", MarkPrice: "1", Bid1Price: "2", Ask1Price: "2"},
		{Symbol: "BTCUSDT", MarkPrice: "1", Bid1Price: "-1"},
	} {
		if _, err := toQuote("BTC-USDT-PERP", bad, at); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := toQuote("BTC-USDT-PERP", tickerJSON{Symbol: "BTCUSDT", MarkPrice: "1"}, time.Time{}); err == nil {
		t.Error("a quote without a time accepted")
	}
}

// The ticker's next funding time: milliseconds; "" or "0" unknown; malformed an error.
func TestToStatsFunding(t *testing.T) {
	tk := tickerJSON{Symbol: "BTCUSDT", MarkPrice: "10490", Volume24h: "1", Turnover24h: "10490", FundingRate: "0.0001",
		NextFundingTime: "1700006400000"}
	st, err := toStats(inst, tk, 1700000000000)
	if err != nil || st.NextFunding.UnixMilli() != 1700006400000 || st.FundingRate.String() != "0.0001" {
		t.Fatalf("%+v %v", st, err)
	}
	for _, none := range []string{"", "0"} {
		tk.NextFundingTime = none
		if st, err := toStats(inst, tk, 1700000000000); err != nil || !st.NextFunding.IsZero() {
			t.Fatalf("%q: %+v %v", none, st, err)
		}
	}
	tk.NextFundingTime = "1.5e12"
	if _, err := toStats(inst, tk, 1700000000000); err == nil {
		t.Fatal("a malformed next funding time accepted")
	}
}
