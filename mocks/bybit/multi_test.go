package bybit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/internal/mocktest"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/mocks/mockutil"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// ethBook is the one venue of a second simulated market, ETH at 3000 on Bybit's ETHUSDT grids (tick 0.01, lot
// 0.01), on clk.
func ethBook(t *testing.T, clk clock.Clock) *market.Venue {
	return mocktest.ETHBook(t, clk, "c", 5.5, "0.01", "0.01")
}

// ethInstrument is Bybit's linear ETHUSDT with its real rules, trading on book.
func ethInstrument(book Book) Instrument {
	return Instrument{Symbol: "ETHUSDT", Book: book, TickSize: dec("0.01"), QtyStep: dec("0.01"), MinOrderQty: dec("0.01"),
		MaxOrderQty: dec("7240"), MaxMktOrderQty: dec("724"), MinNotionalValue: dec("5")}
}

// newMultiServer is a server listing BTCUSDT (the default rules, on the BTC book) and ETHUSDT (on its own book);
// it returns the ETH book too.
func newMultiServer(t *testing.T) (*Server, *market.Venue) {
	t.Helper()
	book, clk := mocktest.Book(t, "c", 5.5, "0.001")
	eth := ethBook(t, clk)
	s, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: []Instrument{ethInstrument(eth)}})
	mocktest.Serve(t, s, err)
	return s, eth
}

func signedPost(t *testing.T, s *Server, path string, body any) env {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	tsS := decimal.NewFromInt(time.Now().UnixMilli()).String()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-BAPI-API-KEY", "k")
	req.Header.Set("X-BAPI-TIMESTAMP", tsS)
	req.Header.Set("X-BAPI-RECV-WINDOW", "5000")
	req.Header.Set("X-BAPI-SIGN", mockutil.HMACHex("s", tsS+"k"+"5000"+string(raw)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e env
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

func publicGet(t *testing.T, s *Server, path, query string) env {
	t.Helper()
	res, err := http.Get(s.URL() + path + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e env
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// list decodes the result.list of an answer, failing the test on a non-zero retCode.
func list(t *testing.T, e env) []map[string]any {
	t.Helper()
	if e.RetCode != 0 {
		t.Fatalf("retCode %d: %s", e.RetCode, e.RetMsg)
	}
	var r struct {
		List []map[string]any `json:"list"`
	}
	if err := json.Unmarshal(e.Result, &r); err != nil {
		t.Fatal(err)
	}
	return r.List
}

// bySymbol indexes rows by their "symbol", failing on a repeated one.
func bySymbol(t *testing.T, rows []map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range rows {
		sym, _ := r["symbol"].(string)
		if _, dup := out[sym]; dup {
			t.Fatalf("symbol %s listed twice: %v", sym, rows)
		}
		out[sym] = r
	}
	return out
}

// ethBuy is a limit IOC buy of qty ETHUSDT at the ETH ask plus 5.03 (a price on the 0.01 tick, off BTC's 0.10).
func ethBuy(eth *market.Venue, qty, link string) map[string]any {
	price := eth.Quote().Ask.Add(dec("5.03")).StringFixed(2)
	return map[string]any{"category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit",
		"qty": qty, "price": price, "timeInForce": "IOC", "orderLinkId": link}
}

func TestInstrumentsInfoListsEverySymbol(t *testing.T) {
	s, _ := newMultiServer(t)
	all := bySymbol(t, list(t, publicGet(t, s, "/v5/market/instruments-info", "category=linear")))
	if len(all) != 2 {
		t.Fatalf("want BTCUSDT and ETHUSDT, got %v", all)
	}
	want := map[string]map[string]string{
		"BTCUSDT": {"baseCoin": "BTC", "priceScale": "2", "tickSize": "0.10", "qtyStep": "0.001", "minOrderQty": "0.001",
			"maxOrderQty": "1190.000", "maxMktOrderQty": "119.000", "minNotionalValue": "5"},
		"ETHUSDT": {"baseCoin": "ETH", "priceScale": "2", "tickSize": "0.01", "qtyStep": "0.01", "minOrderQty": "0.01",
			"maxOrderQty": "7240.00", "maxMktOrderQty": "724.00", "minNotionalValue": "5"},
	}
	for sym, w := range want {
		in, ok := all[sym]
		if !ok {
			t.Fatalf("%s not listed: %v", sym, all)
		}
		price, _ := in["priceFilter"].(map[string]any)
		lot, _ := in["lotSizeFilter"].(map[string]any)
		got := map[string]string{"baseCoin": in["baseCoin"].(string), "priceScale": in["priceScale"].(string),
			"tickSize": price["tickSize"].(string), "qtyStep": lot["qtyStep"].(string), "minOrderQty": lot["minOrderQty"].(string),
			"maxOrderQty": lot["maxOrderQty"].(string), "maxMktOrderQty": lot["maxMktOrderQty"].(string),
			"minNotionalValue": lot["minNotionalValue"].(string)}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("%s %s = %q, want %q", sym, k, got[k], v)
			}
		}
	}
	// One symbol asked for: that one only.
	one := list(t, publicGet(t, s, "/v5/market/instruments-info", "category=linear&symbol=ETHUSDT"))
	if len(one) != 1 || one[0]["symbol"] != "ETHUSDT" {
		t.Fatalf("symbol=ETHUSDT: %v", one)
	}
	// Tickers and the order book serve each symbol's own book.
	tick := bySymbol(t, list(t, publicGet(t, s, "/v5/market/tickers", "category=linear")))
	ethMark, _ := decimal.NewFromString(tick["ETHUSDT"]["markPrice"].(string))
	btcMark, _ := decimal.NewFromString(tick["BTCUSDT"]["markPrice"].(string))
	if len(tick) != 2 || ethMark.LessThan(dec("2500")) || ethMark.GreaterThan(dec("3500")) || btcMark.LessThan(dec("9000")) {
		t.Fatalf("tickers: %v", tick)
	}
	e := publicGet(t, s, "/v5/market/orderbook", "category=linear&symbol=ETHUSDT&limit=1")
	var ob struct {
		S string      `json:"s"`
		A [][2]string `json:"a"`
	}
	if err := json.Unmarshal(e.Result, &ob); err != nil || e.RetCode != 0 || ob.S != "ETHUSDT" || len(ob.A) != 1 {
		t.Fatalf("orderbook: %d %s %v", e.RetCode, e.Result, err)
	}
	if ask, _ := decimal.NewFromString(ob.A[0][0]); ask.GreaterThan(dec("3500")) {
		t.Fatalf("ETHUSDT order book is not ETH's: %v", ob.A)
	}
}

func TestETHOrderFillsOnItsOwnBook(t *testing.T) {
	s, eth := newMultiServer(t)
	s.SetPosition("BTCUSDT", dec("0.5"), dec("10000"))
	e := signedPost(t, s, "/v5/order/create", ethBuy(eth, "0.05", "eth-1"))
	if e.RetCode != 0 {
		t.Fatalf("ETHUSDT create: retCode %d %s", e.RetCode, e.RetMsg)
	}
	if got := s.Position("ETHUSDT"); !got.Equal(dec("0.05")) {
		t.Fatalf("ETHUSDT position %s, want 0.05", got)
	}
	if got := s.Position("BTCUSDT"); !got.Equal(dec("0.5")) {
		t.Fatalf("BTCUSDT position moved to %s", got)
	}
	_, res := signedGet(t, s, "/v5/execution/list", "category=linear&symbol=ETHUSDT")
	execs := list(t, res)
	if len(execs) == 0 {
		t.Fatal("no ETHUSDT executions")
	}
	for _, x := range execs {
		px := x["execPrice"].(string)
		p, _ := decimal.NewFromString(px)
		if x["symbol"] != "ETHUSDT" || p.GreaterThan(dec("3500")) || p.LessThan(dec("2500")) ||
			!strings.Contains(px, ".") || len(px)-strings.Index(px, ".") != 3 || x["orderLinkId"] != "eth-1" {
			t.Fatalf("ETHUSDT execution not on the ETH book at 2 decimals: %v", x)
		}
	}
	_, res = signedGet(t, s, "/v5/execution/list", "category=linear&symbol=BTCUSDT")
	if btc := list(t, res); len(btc) != 0 {
		t.Fatalf("BTCUSDT executions: %v", btc)
	}
	_, res = signedGet(t, s, "/v5/order/history", "category=linear&symbol=ETHUSDT")
	hist := list(t, res)
	if len(hist) != 1 || hist[0]["symbol"] != "ETHUSDT" || hist[0]["orderStatus"] != "Filled" || hist[0]["cumExecQty"] != "0.05" {
		t.Fatalf("ETHUSDT history: %v", hist)
	}
	_, res = signedGet(t, s, "/v5/order/history", "category=linear&symbol=BTCUSDT")
	if btc := list(t, res); len(btc) != 0 {
		t.Fatalf("BTCUSDT history: %v", btc)
	}
	if recs := s.Orders(); len(recs) != 1 || recs[0].Symbol != "ETHUSDT" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestETHRulesAndUnknownSymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	// 0.015 is on BTCUSDT's 0.001 step, off ETHUSDT's 0.01.
	if e := signedPost(t, s, "/v5/order/create", ethBuy(eth, "0.015", "eth-step")); e.RetCode != 10001 ||
		e.RetMsg != "params error: qty invalid" {
		t.Fatalf("qty off the ETHUSDT step: retCode %d %s", e.RetCode, e.RetMsg)
	}
	// 0.005 is above BTCUSDT's minimum, below ETHUSDT's 0.01 (and off its step).
	if e := signedPost(t, s, "/v5/order/create", ethBuy(eth, "0.005", "eth-min")); e.RetCode != 10001 {
		t.Fatalf("qty below the ETHUSDT minimum: retCode %d %s", e.RetCode, e.RetMsg)
	}
	// 800 is within BTCUSDT's 1190 maximum but above ETHUSDT's market maximum of 724.
	mkt := map[string]any{"category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "800"}
	if e := signedPost(t, s, "/v5/order/create", mkt); e.RetCode != 10001 || e.RetMsg != errQtyMax.Msg {
		t.Fatalf("ETHUSDT market qty above 724: retCode %d %s", e.RetCode, e.RetMsg)
	}
	// A BTCUSDT price off its 0.10 tick is still refused.
	btc := map[string]any{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01",
		"price": "10000.05"}
	if e := signedPost(t, s, "/v5/order/create", btc); e.RetCode != 10001 || e.RetMsg != "params error: price invalid" {
		t.Fatalf("BTCUSDT price off tick: retCode %d %s", e.RetCode, e.RetMsg)
	}
	if !s.Position("ETHUSDT").IsZero() || len(s.Orders()) != 0 {
		t.Fatalf("refused orders traded: %s %+v", s.Position("ETHUSDT"), s.Orders())
	}

	// A symbol the mock does not list.
	sol := map[string]any{"category": "linear", "symbol": "SOLUSDT", "side": "Buy", "orderType": "Market", "qty": "1"}
	if e := signedPost(t, s, "/v5/order/create", sol); e.RetCode != 10001 || e.RetMsg != errSymbol.Msg {
		t.Fatalf("SOLUSDT create: retCode %d %s", e.RetCode, e.RetMsg)
	}
	for _, c := range []struct{ path, query string }{
		{"/v5/market/instruments-info", "category=linear&symbol=SOLUSDT"},
		{"/v5/market/tickers", "category=linear&symbol=SOLUSDT"},
		{"/v5/market/orderbook", "category=linear&symbol=SOLUSDT"},
	} {
		if e := publicGet(t, s, c.path, c.query); e.RetCode != 10001 || e.RetMsg != errSymbol.Msg {
			t.Fatalf("%s?%s: retCode %d %s", c.path, c.query, e.RetCode, e.RetMsg)
		}
	}
	for _, path := range []string{"/v5/position/list", "/v5/order/realtime", "/v5/order/history", "/v5/execution/list"} {
		if _, e := signedGet(t, s, path, "category=linear&symbol=SOLUSDT"); e.RetCode != 10001 || e.RetMsg != errSymbol.Msg {
			t.Fatalf("%s SOLUSDT: retCode %d %s", path, e.RetCode, e.RetMsg)
		}
	}
	if err := s.ExternalTrade("SOLUSDT", true, dec("1"), "manual-sol"); err == nil {
		t.Fatal("ExternalTrade in an unlisted symbol succeeded")
	}
	if len(s.Orders()) != 0 {
		t.Fatalf("unlisted symbol traded: %+v", s.Orders())
	}
}

func TestPositionListShowsEverySymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	s.SetPosition("BTCUSDT", dec("-0.25"), dec("10400"))
	if e := signedPost(t, s, "/v5/order/create", ethBuy(eth, "0.3", "eth-p")); e.RetCode != 0 {
		t.Fatalf("ETHUSDT create: retCode %d %s", e.RetCode, e.RetMsg)
	}
	if err := s.ExternalTrade("ETHUSDT", false, dec("0.1"), "manual-eth"); err != nil {
		t.Fatal(err)
	}
	_, res := signedGet(t, s, "/v5/position/list", "category=linear&settleCoin=USDT")
	all := bySymbol(t, list(t, res))
	if len(all) != 2 {
		t.Fatalf("want both positions, got %v", all)
	}
	if p := all["BTCUSDT"]; p["size"] != "0.250" || p["side"] != "Sell" {
		t.Fatalf("BTCUSDT position: %v", p)
	}
	p := all["ETHUSDT"]
	mark, _ := decimal.NewFromString(p["markPrice"].(string))
	if p["size"] != "0.20" || p["side"] != "Buy" || mark.GreaterThan(dec("3500")) || mark.LessThan(dec("2500")) {
		t.Fatalf("ETHUSDT position: %v", p)
	}
	_, res = signedGet(t, s, "/v5/position/list", "category=linear&symbol=ETHUSDT")
	if one := list(t, res); len(one) != 1 || one[0]["symbol"] != "ETHUSDT" || one[0]["size"] != "0.20" {
		t.Fatalf("symbol=ETHUSDT: %v", one)
	}
}

func TestCancelAndRealtimePerSymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	low := eth.Quote().Bid.Sub(dec("500.01")).StringFixed(2) // rests: far below the ETH bid
	rest := map[string]any{"category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit",
		"qty": "0.1", "price": low, "orderLinkId": "eth-rest"}
	if e := signedPost(t, s, "/v5/order/create", rest); e.RetCode != 0 {
		t.Fatalf("ETHUSDT resting create: retCode %d %s", e.RetCode, e.RetMsg)
	}
	_, res := signedGet(t, s, "/v5/order/realtime", "category=linear&symbol=ETHUSDT")
	if open := list(t, res); len(open) != 1 || open[0]["orderLinkId"] != "eth-rest" || open[0]["price"] != low {
		t.Fatalf("ETHUSDT open orders: %v", open)
	}
	_, res = signedGet(t, s, "/v5/order/realtime", "category=linear&symbol=BTCUSDT")
	if open := list(t, res); len(open) != 0 {
		t.Fatalf("BTCUSDT open orders: %v", open)
	}
	// Amend and cancel name the order's own symbol: under BTCUSDT the ETH order does not exist.
	amend := map[string]any{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "eth-rest", "qty": "0.2"}
	if e := signedPost(t, s, "/v5/order/amend", amend); e.RetCode != 110001 {
		t.Fatalf("amend under BTCUSDT: retCode %d %s", e.RetCode, e.RetMsg)
	}
	amend["symbol"], amend["qty"] = "ETHUSDT", "0.255" // on BTC's step, off ETH's
	if e := signedPost(t, s, "/v5/order/amend", amend); e.RetCode != 10001 {
		t.Fatalf("amend off the ETHUSDT step: retCode %d %s", e.RetCode, e.RetMsg)
	}
	amend["qty"] = "0.2"
	if e := signedPost(t, s, "/v5/order/amend", amend); e.RetCode != 0 {
		t.Fatalf("amend under ETHUSDT: retCode %d %s", e.RetCode, e.RetMsg)
	}
	cancel := map[string]any{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "eth-rest"}
	if e := signedPost(t, s, "/v5/order/cancel", cancel); e.RetCode != 110001 {
		t.Fatalf("cancel under BTCUSDT: retCode %d %s", e.RetCode, e.RetMsg)
	}
	cancel["symbol"] = "ETHUSDT"
	if e := signedPost(t, s, "/v5/order/cancel", cancel); e.RetCode != 0 {
		t.Fatalf("cancel under ETHUSDT: retCode %d %s", e.RetCode, e.RetMsg)
	}
	if recs := s.Orders(); len(recs) != 1 || recs[0].OrderStatus != "Cancelled" || !recs[0].Qty.Equal(dec("0.2")) {
		t.Fatalf("records: %+v", recs)
	}
}

func TestStreamPushesCarryTheSymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	c, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	read := func() map[string]any {
		t.Helper()
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	exp := time.Now().Add(10 * time.Second).UnixMilli()
	_ = c.WriteJSON(map[string]any{"op": "auth", "args": []any{"k", exp,
		mockutil.HMACHex("s", "GET/realtime"+decimal.NewFromInt(exp).String())}})
	if m := read(); m["success"] != true {
		t.Fatalf("auth: %v", m)
	}
	_ = c.WriteJSON(map[string]any{"op": "subscribe", "args": []string{"order", "execution", "position"}})
	if m := read(); m["success"] != true {
		t.Fatalf("subscribe: %v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSubscribed(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if e := signedPost(t, s, "/v5/order/create", ethBuy(eth, "0.05", "eth-ws")); e.RetCode != 0 {
		t.Fatalf("ETHUSDT create: retCode %d %s", e.RetCode, e.RetMsg)
	}
	// Pushes come in order: the order's acceptance, then per execution the execution, the order and the position;
	// read them until the position holds the whole order.
	var execs []map[string]any
	for done := false; !done; {
		m := read()
		data, _ := m["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("push: %v", m)
		}
		d := data[0].(map[string]any)
		if d["symbol"] != "ETHUSDT" {
			t.Fatalf("%v push of the ETHUSDT order says %v: %v", m["topic"], d["symbol"], d)
		}
		switch m["topic"] {
		case "execution":
			execs = append(execs, d)
		case "order":
			if d["qty"] != "0.05" {
				t.Fatalf("order push not at ETHUSDT's qty precision: %v", d)
			}
		case "position":
			done = d["size"] == "0.05" && d["side"] == "Buy"
		}
	}
	if len(execs) == 0 {
		t.Fatal("no execution push")
	}
	for _, x := range execs {
		pxS, qtyS := x["execPrice"].(string), x["execQty"].(string)
		px, _ := decimal.NewFromString(pxS)
		if x["orderLinkId"] != "eth-ws" || px.GreaterThan(dec("3500")) || px.LessThan(dec("2500")) ||
			len(pxS)-strings.Index(pxS, ".") != 3 || len(qtyS)-strings.Index(qtyS, ".") != 3 {
			t.Fatalf("execution push not ETH's: %v", x)
		}
	}
}

func TestMoreValidation(t *testing.T) {
	book, clk := mocktest.Book(t, "c", 5.5, "0.001")
	eth := ethInstrument(ethBook(t, clk))
	for _, c := range []struct {
		name string
		edit func(in *Instrument) []Instrument
		want string
	}{
		{"empty symbol", func(in *Instrument) []Instrument { in.Symbol = ""; return []Instrument{*in} }, "empty symbol"},
		{"Config.Symbol", func(in *Instrument) []Instrument { in.Symbol = "BTCUSDT"; return []Instrument{*in} }, "Config.Symbol"},
		{"twice", func(in *Instrument) []Instrument { return []Instrument{*in, *in} }, "listed twice"},
		{"no book", func(in *Instrument) []Instrument { in.Book = nil; return []Instrument{*in} }, "no book"},
		{"tick", func(in *Instrument) []Instrument { in.TickSize = decimal.Zero; return []Instrument{*in} }, "tick size"},
		{"step", func(in *Instrument) []Instrument { in.QtyStep = dec("-0.01"); return []Instrument{*in} }, "qty step"},
		{"min", func(in *Instrument) []Instrument { in.MinOrderQty = decimal.Zero; return []Instrument{*in} }, "min order qty"},
		{"max", func(in *Instrument) []Instrument { in.MaxOrderQty = decimal.Zero; return []Instrument{*in} }, "max order qty"},
		{"max market", func(in *Instrument) []Instrument { in.MaxMktOrderQty = decimal.Zero; return []Instrument{*in} },
			"max market order qty"},
		{"min notional", func(in *Instrument) []Instrument { in.MinNotionalValue = dec("-1"); return []Instrument{*in} },
			"min notional"},
	} {
		in := eth
		_, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: c.edit(&in)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
	in := eth
	in.MinNotionalValue = decimal.Zero // no minimum is allowed
	if _, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: []Instrument{in}}); err != nil {
		t.Fatal(err)
	}
}
