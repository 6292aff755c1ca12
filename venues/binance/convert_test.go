package binance

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/adshao/go-binance/v2/futures"
)

func TestToEventRejectsBadDecimals(t *testing.T) {
	u := &futures.WsOrderTradeUpdate{Symbol: "BTCUSDT", ClientOrderID: "c1", Side: "BUY", Type: "LIMIT",
		TimeInForce: "IOC", OriginalQty: "0.010", OriginalPrice: "10490.0", AveragePrice: "10490", ExecutionType: "TRADE",
		Status: "FILLED", ID: 1, LastFilledQty: "0.010", AccumulatedFilledQty: "0.010", LastFilledPrice: "10490.0",
		Commission: "0.05", CommissionAsset: "USDT", TradeID: 9}
	if _, err := toEvent("a", inst, u); err != nil {
		t.Fatal(err)
	}
	bad := *u
	bad.LastFilledQty = "1e"
	if _, err := toEvent("a", inst, &bad); err == nil {
		t.Fatal("bad decimal accepted")
	}
	bad = *u
	bad.Status = "NEW_ADL"
	if _, err := toEvent("a", inst, &bad); err == nil {
		t.Fatal("unknown status accepted")
	}
}

func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"c1","S":"BUY","o":"LIMIT","f":"IOC","q":"0.010","p":"10490.0","ap":"10490","x":"TRADE","X":"FILLED","i":1,"l":"0.010","z":"0.010","L":"10490.0","n":"0.05","N":"USDT","T":1,"t":9}}`),
		[]byte(`{"symbol":"BTCUSDT","orderId":1,"clientOrderId":"c1","price":"1","origQty":"x","executedQty":"0","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY"}`),
		[]byte(`{"id":1,"orderId":2,"price":"10490.1","qty":"0.001","commission":"0.0052","commissionAsset":"USDT","side":"SELL","time":1}`))
	f.Fuzz(func(t *testing.T, ev, order, trade []byte) {
		var e futures.WsUserDataEvent
		if json.Unmarshal(ev, &e) == nil && e.Event == futures.UserDataEventTypeOrderTradeUpdate {
			_, _ = toEvent("a", inst, &e.OrderTradeUpdate)
		}
		var o futures.Order
		if json.Unmarshal(order, &o) == nil {
			_, _ = toOrder(inst, fieldsOfOrder(&o))
		}
		var c futures.CancelOrderResponse
		if json.Unmarshal(order, &c) == nil {
			if f, err := fieldsOfCancel(&c); err == nil {
				_, _ = toOrder(inst, f)
			}
		}
		var tr futures.AccountTrade
		if json.Unmarshal(trade, &tr) == nil {
			_, _ = toFill("a", inst, "c", &tr)
		}
		var s futures.Symbol
		if json.Unmarshal(trade, &s) == nil {
			_, _ = toSymbol(&s)
		}
		var p futures.PositionRisk
		if json.Unmarshal(trade, &p) == nil {
			_, _ = toPosition("a", inst, &p)
		}
	})
}

func TestToQuote(t *testing.T) {
	p := &futures.PremiumIndex{Symbol: "BTCUSDT", MarkPrice: "10490.12345678", Time: 1700000000000}
	q, err := toQuote(inst, "BTCUSDT", p)
	if err != nil || q.Instrument != inst || q.Mark.String() != "10490.12345678" || !q.Bid.IsZero() || !q.Ask.IsZero() ||
		q.Time.UnixMilli() != 1700000000000 {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []futures.PremiumIndex{
		{Symbol: "ETHUSDT", MarkPrice: "1", Time: 1},
		{Symbol: "BTCUSDT", MarkPrice: "", Time: 1},
		{Symbol: "BTCUSDT", MarkPrice: "0", Time: 1},
		{Symbol: "BTCUSDT", MarkPrice: "1x", Time: 1},
		{Symbol: "BTCUSDT", MarkPrice: "1"},
	} {
		if _, err := toQuote(inst, "BTCUSDT", &bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestToTouch(t *testing.T) {
	b := &futures.BookTicker{Symbol: "BTCUSDT", BidPrice: "10490.10", AskPrice: "10490.20", Time: 1700000000000}
	q, err := toTouch(inst, "BTCUSDT", b)
	if err != nil || q.Instrument != inst || q.Bid.String() != "10490.1" || q.Ask.String() != "10490.2" || !q.Mark.IsZero() ||
		q.Time.UnixMilli() != 1700000000000 {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []futures.BookTicker{
		{Symbol: "ETHUSDT", BidPrice: "1", AskPrice: "2", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "", AskPrice: "2", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "0", AskPrice: "2", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "2", AskPrice: "2", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "3", AskPrice: "2", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "1", AskPrice: "2x", Time: 1},
		{Symbol: "BTCUSDT", BidPrice: "1", AskPrice: "2"},
	} {
		if _, err := toTouch(inst, "BTCUSDT", &bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestLeadingEventType(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want futures.UserDataEventType
		ok   bool
	}{
		{`{"e":"ORDER_TRADE_UPDATE","E":1,"o":{}}`, futures.UserDataEventTypeOrderTradeUpdate, true},
		{`{"e":"ACCOUNT_UPDATE","E":1}`, futures.UserDataEventTypeAccountUpdate, true},
		{`{"e":"listenKeyExpired","E":1}`, futures.UserDataEventTypeListenKeyExpired, true},
		{`{"E":1,"e":"ORDER_TRADE_UPDATE"}`, "", false}, // another order: decoded in full
		{`{ "e":"ORDER_TRADE_UPDATE"}`, "", false},
		{`{"e":"ORDER\u005fTRADE_UPDATE"}`, "", false}, // an escape: decoded in full
		{`{"e":""}`, "", false},
		{`{"e":"ORDER_TRADE_UPDATE`, "", false},
		{``, "", false},
	} {
		got, ok := leadingEventType([]byte(c.msg))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %q %v, want %q %v", c.msg, got, ok, c.want, c.ok)
		}
	}
}

// FuzzLeadingEventType: where the fast path reads an event type, a full decode of a valid message with one "e" key
// reads the same and no escapes (with the key repeated or spelled with an escape, encoding/json keeps the last; the venue does
// neither).
func FuzzLeadingEventType(f *testing.F) {
	f.Add([]byte(`{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT"}}`))
	f.Add([]byte(`{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER"}}`))
	f.Add([]byte(`{"e":"a\"b"}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, ok := leadingEventType(msg)
		if !ok || !json.Valid(msg) || bytes.Count(msg, []byte(`"e"`)) != 1 || bytes.IndexByte(msg, '\\') >= 0 {
			return
		}
		var head struct {
			Event futures.UserDataEventType `json:"e"`
			Time  json.RawMessage           `json:"E"`
		}
		if err := json.Unmarshal(msg, &head); err != nil {
			return
		}
		if head.Event != got {
			t.Fatalf("fast path %q, full decode %q", got, head.Event)
		}
	})
}
