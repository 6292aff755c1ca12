package binance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
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

// ethBook is the one venue of a second simulated market, ETH at 3000 on Binance's ETHUSDT grids (tick 0.01, lot
// 0.001), on clk.
func ethBook(t *testing.T, clk clock.Clock) *market.Venue {
	return mocktest.ETHBook(t, clk, "a", 5, "0.01", "0.001")
}

// ethInstrument is Binance's ETHUSDT perpetual with its real filters, trading on book.
func ethInstrument(book Book) Instrument {
	return Instrument{Symbol: "ETHUSDT", Book: book, TickSize: dec("0.01"), StepSize: dec("0.001"), MinQty: dec("0.001"),
		MaxQty: dec("10000"), MarketMaxQty: dec("2000"), MinNotional: dec("20")}
}

// newMultiServer is a server listing BTCUSDT (the default filters, on the BTC book) and ETHUSDT (on its own book);
// it returns the ETH book too.
func newMultiServer(t *testing.T) (*Server, *market.Venue) {
	t.Helper()
	book, clk := mocktest.Book(t, "a", 5, "0.001")
	eth := ethBook(t, clk)
	s, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: []Instrument{ethInstrument(eth)}})
	mocktest.Serve(t, s, err)
	return s, eth
}

// call sends a request, signed unless params is nil (then query is sent as is), and decodes the answer into out.
func call(t *testing.T, s *Server, method, path string, params url.Values, query string, out any) int {
	t.Helper()
	if params != nil {
		params.Set("timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
		query = params.Encode()
		query += "&signature=" + mockutil.HMACHex("s", query)
	}
	req, err := http.NewRequest(method, s.URL()+path+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-MBX-APIKEY", "k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return res.StatusCode
}

// rows is a list answer by symbol (each symbol at most once).
func rows(t *testing.T, list []map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range list {
		sym, _ := r["symbol"].(string)
		if _, dup := out[sym]; dup {
			t.Fatalf("symbol %q listed twice: %v", sym, list)
		}
		out[sym] = r
	}
	return out
}

// wantCode checks a 400 error answer's code.
func wantCode(t *testing.T, what string, status int, body map[string]any, code float64) {
	t.Helper()
	if status != http.StatusBadRequest || body["code"] != code {
		t.Errorf("%s: %d %v, want 400 code %v", what, status, body, code)
	}
}

// ethCrossingBuy is a buy price for ETHUSDT on its 0.01 tick but off BTCUSDT's 0.10, 5 USDT through the ask.
func ethCrossingBuy(eth *market.Venue) decimal.Decimal {
	px := eth.Quote().Ask.Add(dec("5")).Truncate(2)
	if px.Mod(dec("0.1")).IsZero() {
		px = px.Add(dec("0.01"))
	}
	return px
}

// TestExchangeInfoListsEverySymbol: exchangeInfo lists BTCUSDT with the default filters and ETHUSDT with its own
// (precision from its tick and step, base asset ETH); the ticker and premium index answer for each symbol, and for
// both without one.
func TestExchangeInfoListsEverySymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	var info struct{ Symbols []map[string]any }
	if status := call(t, s, http.MethodGet, "/fapi/v1/exchangeInfo", nil, "", &info); status != 200 {
		t.Fatalf("exchangeInfo %d", status)
	}
	syms := rows(t, info.Symbols)
	if len(syms) != 2 {
		t.Fatalf("symbols %v", info.Symbols)
	}
	for sym, want := range map[string]map[string]string{
		"BTCUSDT": {"baseAsset": "BTC", "PRICE_FILTER.tickSize": "0.1", "PRICE_FILTER.minPrice": "556.80",
			"LOT_SIZE.stepSize": "0.001", "LOT_SIZE.minQty": "0.001", "LOT_SIZE.maxQty": "1000",
			"MARKET_LOT_SIZE.maxQty": "120", "MIN_NOTIONAL.notional": "100", "pricePrecision": "2", "quantityPrecision": "3"},
		"ETHUSDT": {"baseAsset": "ETH", "PRICE_FILTER.tickSize": "0.01", "PRICE_FILTER.minPrice": "0.01",
			"LOT_SIZE.stepSize": "0.001", "LOT_SIZE.minQty": "0.001", "LOT_SIZE.maxQty": "10000",
			"MARKET_LOT_SIZE.maxQty": "2000", "MIN_NOTIONAL.notional": "20", "pricePrecision": "2", "quantityPrecision": "3"},
	} {
		got := map[string]string{"baseAsset": syms[sym]["baseAsset"].(string),
			"pricePrecision":    strconv.FormatFloat(syms[sym]["pricePrecision"].(float64), 'f', -1, 64),
			"quantityPrecision": strconv.FormatFloat(syms[sym]["quantityPrecision"].(float64), 'f', -1, 64)}
		filters, _ := syms[sym]["filters"].([]any)
		for _, f := range filters {
			f := f.(map[string]any)
			for k, v := range f {
				if str, ok := v.(string); ok && k != "filterType" {
					got[f["filterType"].(string)+"."+k] = str
				}
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s = %q, want %q", sym, k, got[k], v)
			}
		}
	}

	var tickers []map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v1/ticker/24hr", nil, "", &tickers); status != 200 || len(rows(t, tickers)) != 2 {
		t.Fatalf("tickers %d %v", status, tickers)
	}
	var marks []map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v1/premiumIndex", nil, "", &marks); status != 200 || len(rows(t, marks)) != 2 {
		t.Fatalf("premium index %d %v", status, marks)
	}
	var p map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v1/premiumIndex", nil, "symbol=ETHUSDT", &p); status != 200 ||
		p["symbol"] != "ETHUSDT" || !dec(p["markPrice"].(string)).Equal(eth.Quote().Mark) {
		t.Fatalf("ETH premium index %d %v, mark %s", status, p, eth.Quote().Mark)
	}
	if !dec(rows(t, marks)["BTCUSDT"]["markPrice"].(string)).Equal(s.cfg.Book.Quote().Mark) {
		t.Fatalf("BTC premium index %v", rows(t, marks)["BTCUSDT"])
	}
	var books []map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v1/ticker/bookTicker", nil, "", &books); status != 200 || len(rows(t, books)) != 2 {
		t.Fatalf("book tickers %d %v", status, books)
	}
	var bt map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v1/ticker/bookTicker", nil, "symbol=ETHUSDT", &bt); status != 200 ||
		bt["symbol"] != "ETHUSDT" || !dec(bt["bidPrice"].(string)).Equal(eth.Quote().Bid) ||
		!dec(bt["askPrice"].(string)).Equal(eth.Quote().Ask) || !dec(bt["askQty"].(string)).IsPositive() {
		t.Fatalf("ETH book ticker %d %v, touch %s/%s", status, bt, eth.Quote().Bid, eth.Quote().Ask)
	}
	var depth struct{ Asks [][2]string }
	if status := call(t, s, http.MethodGet, "/fapi/v1/depth", nil, "symbol=ETHUSDT&limit=5", &depth); status != 200 ||
		len(depth.Asks) == 0 || !dec(depth.Asks[0][0]).Equal(eth.Quote().Ask) {
		t.Fatalf("ETH depth %d %v, ask %s", status, depth, eth.Quote().Ask)
	}
}

// TestETHOrderFillsOnItsOwnBook: an ETHUSDT order at a price on ETH's 0.01 tick (off BTC's 0.10) and a notional
// under BTC's minimum but over ETH's fills against the ETH book; the BTC position stays flat; positionRisk and the
// account show both positions; allOrders, userTrades and order queries are per symbol.
func TestETHOrderFillsOnItsOwnBook(t *testing.T) {
	s, eth := newMultiServer(t)
	px := ethCrossingBuy(eth)
	var o map[string]any
	status := call(t, s, http.MethodPost, "/fapi/v1/order", url.Values{"symbol": {"ETHUSDT"}, "side": {"BUY"},
		"type": {"LIMIT"}, "timeInForce": {"IOC"}, "quantity": {"0.010"}, "price": {px.String()},
		"newOrderRespType": {"RESULT"}, "newClientOrderId": {"e1"}}, "", &o)
	if status != 200 || o["symbol"] != "ETHUSDT" || o["status"] != "FILLED" || o["executedQty"] != "0.010" ||
		o["price"] != px.StringFixed(2) {
		t.Fatalf("ETH order %d %v", status, o)
	}
	if avg := dec(o["avgPrice"].(string)); avg.LessThan(dec("2500")) || avg.GreaterThan(px) {
		t.Fatalf("ETH fill at %s, not on the ETH book (price %s)", avg, px)
	}
	if !s.Position("ETHUSDT").Equal(dec("0.01")) || !s.Position("BTCUSDT").IsZero() {
		t.Fatalf("positions ETH %s BTC %s", s.Position("ETHUSDT"), s.Position("BTCUSDT"))
	}

	var risk []map[string]any
	if status := call(t, s, http.MethodGet, "/fapi/v2/positionRisk", url.Values{}, "", &risk); status != 200 {
		t.Fatalf("positionRisk %d", status)
	}
	r := rows(t, risk)
	if len(r) != 2 || r["ETHUSDT"]["positionAmt"] != "0.010" || r["BTCUSDT"]["positionAmt"] != "0.000" ||
		!dec(r["ETHUSDT"]["markPrice"].(string)).Equal(eth.Quote().Mark) {
		t.Fatalf("positionRisk %v", risk)
	}
	risk = nil
	if status := call(t, s, http.MethodGet, "/fapi/v3/positionRisk", url.Values{"symbol": {"ETHUSDT"}}, "", &risk); status != 200 ||
		len(risk) != 1 || risk[0]["symbol"] != "ETHUSDT" || risk[0]["positionAmt"] != "0.010" {
		t.Fatalf("positionRisk ETHUSDT %d %v", status, risk)
	}
	var acct struct{ Positions []map[string]any }
	if status := call(t, s, http.MethodGet, "/fapi/v3/account", url.Values{}, "", &acct); status != 200 {
		t.Fatalf("account %d", status)
	}
	if a := rows(t, acct.Positions); len(a) != 2 || a["ETHUSDT"]["positionAmt"] != "0.010" || a["BTCUSDT"]["positionAmt"] != "0.000" {
		t.Fatalf("account positions %v", acct.Positions)
	}

	var list []map[string]any
	if call(t, s, http.MethodGet, "/fapi/v1/allOrders", url.Values{"symbol": {"ETHUSDT"}}, "", &list); len(list) != 1 || list[0]["clientOrderId"] != "e1" {
		t.Fatalf("ETH allOrders %v", list)
	}
	list = nil
	if call(t, s, http.MethodGet, "/fapi/v1/allOrders", url.Values{"symbol": {"BTCUSDT"}}, "", &list); len(list) != 0 {
		t.Fatalf("BTC allOrders %v", list)
	}
	list = nil
	if call(t, s, http.MethodGet, "/fapi/v1/userTrades", url.Values{"symbol": {"ETHUSDT"}}, "", &list); len(list) == 0 ||
		list[0]["symbol"] != "ETHUSDT" || list[0]["orderId"] != o["orderId"] {
		t.Fatalf("ETH userTrades %v", list)
	}
	var got map[string]any
	id := strconv.FormatFloat(o["orderId"].(float64), 'f', -1, 64)
	if status := call(t, s, http.MethodGet, "/fapi/v1/order", url.Values{"symbol": {"ETHUSDT"}, "orderId": {id}}, "", &got); status != 200 ||
		got["clientOrderId"] != "e1" {
		t.Fatalf("ETH order query %d %v", status, got)
	}
	got = nil
	status = call(t, s, http.MethodGet, "/fapi/v1/order", url.Values{"symbol": {"BTCUSDT"}, "orderId": {id}}, "", &got)
	wantCode(t, "ETH order queried as BTCUSDT", status, got, -2013)
}

// TestETHFiltersAndUnknownSymbol: ETHUSDT orders are checked against ETH's filters (step, minimum notional); a
// resting ETH order is listed, modified and cancelled under its symbol only; an unlisted symbol is -1121 everywhere
// and ExternalTrade refuses it.
func TestETHFiltersAndUnknownSymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	order := func(sym, qty, price string) (int, map[string]any) {
		var body map[string]any
		status := call(t, s, http.MethodPost, "/fapi/v1/order", url.Values{"symbol": {sym}, "side": {"BUY"},
			"type": {"LIMIT"}, "timeInForce": {"GTC"}, "quantity": {qty}, "price": {price}}, "", &body)
		return status, body
	}
	low := eth.Quote().Bid.Sub(dec("300")).Truncate(2)
	if low.Mod(dec("0.1")).IsZero() {
		low = low.Add(dec("0.01"))
	}
	status, body := order("ETHUSDT", "0.0015", low.String())
	wantCode(t, "quantity off ETH's step", status, body, -1111)
	status, body = order("ETHUSDT", "0.005", low.String())
	wantCode(t, "notional under ETH's 20", status, body, -4164)
	if msg, _ := body["msg"].(string); !strings.Contains(msg, "no smaller than 20 ") {
		t.Errorf("min notional message %q", msg)
	}
	status, body = order("ETHUSDT", "0.010", low.StringFixed(2)+"5")
	wantCode(t, "price off ETH's tick", status, body, -1111)
	status, body = order("BTCUSDT", "0.010", low.String())
	wantCode(t, "ETH's tick on BTCUSDT", status, body, -4014)

	status, rest := order("ETHUSDT", "0.010", low.String())
	if status != 200 || rest["status"] != "NEW" || rest["symbol"] != "ETHUSDT" {
		t.Fatalf("resting ETH order %d %v", status, rest)
	}
	var open []map[string]any
	if call(t, s, http.MethodGet, "/fapi/v1/openOrders", url.Values{"symbol": {"ETHUSDT"}}, "", &open); len(open) != 1 {
		t.Fatalf("ETH open orders %v", open)
	}
	open = nil
	if call(t, s, http.MethodGet, "/fapi/v1/openOrders", url.Values{"symbol": {"BTCUSDT"}}, "", &open); len(open) != 0 {
		t.Fatalf("BTC open orders %v", open)
	}
	id := strconv.FormatFloat(rest["orderId"].(float64), 'f', -1, 64)
	moved := low.Add(dec("0.01"))
	var m map[string]any
	if status := call(t, s, http.MethodPut, "/fapi/v1/order", url.Values{"symbol": {"ETHUSDT"}, "orderId": {id},
		"side": {"BUY"}, "quantity": {"0.020"}, "price": {moved.String()}}, "", &m); status != 200 ||
		m["price"] != moved.StringFixed(2) || m["origQty"] != "0.020" {
		t.Fatalf("ETH modify %d %v", status, m)
	}
	var c map[string]any
	status = call(t, s, http.MethodDelete, "/fapi/v1/order", url.Values{"symbol": {"BTCUSDT"}, "orderId": {id}}, "", &c)
	wantCode(t, "ETH order cancelled as BTCUSDT", status, c, -2011)
	c = nil
	if status := call(t, s, http.MethodDelete, "/fapi/v1/order", url.Values{"symbol": {"ETHUSDT"}, "orderId": {id}}, "", &c); status != 200 ||
		c["status"] != "CANCELED" {
		t.Fatalf("ETH cancel %d %v", status, c)
	}

	status, body = order("XRPUSDT", "1", "1")
	wantCode(t, "order in XRPUSDT", status, body, -1121)
	for _, q := range []struct{ path, query string }{{"/fapi/v1/depth", "symbol=XRPUSDT"}, {"/fapi/v1/trades", "symbol=XRPUSDT"},
		{"/fapi/v1/ticker/24hr", "symbol=XRPUSDT"}, {"/fapi/v1/ticker/bookTicker", "symbol=XRPUSDT"}, {"/fapi/v1/premiumIndex", "symbol=XRPUSDT"}} {
		var e map[string]any
		wantCode(t, q.path, call(t, s, http.MethodGet, q.path, nil, q.query, &e), e, -1121)
	}
	for _, path := range []string{"/fapi/v2/positionRisk", "/fapi/v1/openOrders", "/fapi/v1/order"} {
		var e map[string]any
		wantCode(t, path, call(t, s, http.MethodGet, path, url.Values{"symbol": {"XRPUSDT"}, "orderId": {id}}, "", &e), e, -1121)
	}
	if err := s.ExternalTrade("XRPUSDT", true, dec("1"), "manual1"); err == nil {
		t.Error("ExternalTrade in an unlisted symbol accepted")
	}
	if err := s.ExternalTrade("ETHUSDT", false, dec("0.5"), "manual2"); err != nil || !s.Position("ETHUSDT").Equal(dec("-0.5")) ||
		!s.Position("BTCUSDT").IsZero() {
		t.Fatalf("ExternalTrade ETHUSDT: %v, ETH %s BTC %s", err, s.Position("ETHUSDT"), s.Position("BTCUSDT"))
	}
}

// stream opens a user-data stream and waits until the server counts it subscribed.
func stream(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	var lk struct{ ListenKey string }
	if status := call(t, s, http.MethodPost, "/fapi/v1/listenKey", nil, "", &lk); status != 200 {
		t.Fatalf("listenKey %d", status)
	}
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL()+"/"+lk.ListenKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSubscribed(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return conn
}

// nextFill reads the stream up to the next ORDER_TRADE_UPDATE of a trade and the ACCOUNT_UPDATE after it, and
// returns the order update and the position update.
func nextFill(t *testing.T, conn *websocket.Conn) (trade, position map[string]any) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for trade == nil || position == nil {
		var ev struct {
			E    string         `json:"e"`
			Time int64          `json:"E"` // else "E" would land in e, JSON names matching without case
			O    map[string]any `json:"o"`
			A    struct {
				P []map[string]any `json:"P"`
			} `json:"a"`
		}
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatalf("stream: %v", err)
		}
		switch {
		case ev.E == "ORDER_TRADE_UPDATE" && ev.O["x"] == "TRADE" && trade == nil:
			trade = ev.O
		case ev.E == "ACCOUNT_UPDATE" && trade != nil && len(ev.A.P) == 1:
			position = ev.A.P[0]
		}
	}
	return trade, position
}

// TestStreamPushesTheETHSymbol: the user-data stream's ORDER_TRADE_UPDATE and ACCOUNT_UPDATE for an ETHUSDT fill
// say ETHUSDT, with ETH's figures.
func TestStreamPushesTheETHSymbol(t *testing.T) {
	s, eth := newMultiServer(t)
	conn := stream(t, s)
	px := ethCrossingBuy(eth)
	var o map[string]any
	if status := call(t, s, http.MethodPost, "/fapi/v1/order", url.Values{"symbol": {"ETHUSDT"}, "side": {"BUY"},
		"type": {"LIMIT"}, "timeInForce": {"IOC"}, "quantity": {"0.010"}, "price": {px.String()},
		"newClientOrderId": {"e2"}}, "", &o); status != 200 {
		t.Fatalf("ETH order %d %v", status, o)
	}
	trade, account := nextFill(t, conn)
	if trade["s"] != "ETHUSDT" || trade["c"] != "e2" || trade["p"] != px.StringFixed(2) || trade["l"] != "0.010" {
		t.Fatalf("ORDER_TRADE_UPDATE %v", trade)
	}
	if l := dec(trade["L"].(string)); l.LessThan(dec("2500")) || l.GreaterThan(px) {
		t.Fatalf("trade price %s not on the ETH book", l)
	}
	if account["s"] != "ETHUSDT" || account["pa"] != "0.010" {
		t.Fatalf("ACCOUNT_UPDATE %v", account)
	}
}

// TestPrecisionPerSymbol: a symbol with a finer tick and a whole-unit step than BTCUSDT's (DOGEUSDT's 0.00001 and
// 1) is listed, quoted, validated and written with its own decimals, on REST and on the stream, and its prices
// may be below BTCUSDT's minimum price.
func TestPrecisionPerSymbol(t *testing.T) {
	book, clk := mocktest.Book(t, "a", 5, "0.001")
	m, err := market.New(market.Config{Seed: 7, StartPrice: 0.2, AnnualVolatility: 0.9, TotalVolume24h: 1e9,
		Venues: []market.VenueConfig{{Name: "a", VolumeShare: 1, TakerFeeBps: 5, TickSize: dec("0.00001"),
			LotSize: dec("1")}}}, clk)
	if err != nil {
		t.Fatal(err)
	}
	doge, err := m.Venue("a")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: []Instrument{{Symbol: "DOGEUSDT",
		Book: doge, TickSize: dec("0.00001"), StepSize: dec("1"), MinQty: dec("1"), MaxQty: dec("50000000"),
		MarketMaxQty: dec("30000000"), MinNotional: dec("5")}}})
	mocktest.Serve(t, s, err)
	conn := stream(t, s)

	var info struct{ Symbols []map[string]any }
	call(t, s, http.MethodGet, "/fapi/v1/exchangeInfo", nil, "", &info)
	if d := rows(t, info.Symbols)["DOGEUSDT"]; d["pricePrecision"] != 5.0 || d["quantityPrecision"] != 0.0 || d["baseAsset"] != "DOGE" {
		t.Fatalf("DOGEUSDT listing %v", d)
	}
	var depth struct{ Bids [][2]string }
	call(t, s, http.MethodGet, "/fapi/v1/depth", nil, "symbol=DOGEUSDT&limit=5", &depth)
	if len(depth.Bids) == 0 || depth.Bids[0][0] != doge.Quote().Bid.StringFixed(5) || strings.Contains(depth.Bids[0][1], ".") {
		t.Fatalf("DOGE depth %v, bid %s", depth.Bids, doge.Quote().Bid)
	}

	order := func(qty, price string) (int, map[string]any) {
		var body map[string]any
		status := call(t, s, http.MethodPost, "/fapi/v1/order", url.Values{"symbol": {"DOGEUSDT"}, "side": {"BUY"},
			"type": {"LIMIT"}, "timeInForce": {"IOC"}, "quantity": {qty}, "price": {price}, "newOrderRespType": {"RESULT"}}, "", &body)
		return status, body
	}
	px := doge.Quote().Ask.Add(dec("0.001")).Truncate(5)
	status, body := order("100.5", px.String())
	wantCode(t, "fractional DOGE", status, body, -1111)
	status, body = order("100", px.StringFixed(5)+"1")
	wantCode(t, "DOGE price under its tick", status, body, -1111)
	status, o := order("100", px.String())
	if status != 200 || o["status"] != "FILLED" || o["executedQty"] != "100" || o["price"] != px.StringFixed(5) {
		t.Fatalf("DOGE order %d %v", status, o)
	}
	trade, position := nextFill(t, conn)
	if trade["s"] != "DOGEUSDT" || trade["l"] != "100" || trade["q"] != "100" || trade["p"] != px.StringFixed(5) ||
		len(trade["L"].(string)) != len(px.StringFixed(5)) {
		t.Fatalf("ORDER_TRADE_UPDATE %v", trade)
	}
	if position["s"] != "DOGEUSDT" || position["pa"] != "100" {
		t.Fatalf("ACCOUNT_UPDATE %v", position)
	}
	var risk []map[string]any
	call(t, s, http.MethodGet, "/fapi/v2/positionRisk", url.Values{"symbol": {"DOGEUSDT"}}, "", &risk)
	if len(risk) != 1 || risk[0]["positionAmt"] != "100" {
		t.Fatalf("positionRisk %v", risk)
	}
}

// TestMoreValidation: New refuses an extra instrument without a symbol or a book, with a symbol already listed, or
// with a filter out of range.
func TestMoreValidation(t *testing.T) {
	book, clk := mocktest.Book(t, "a", 5, "0.001")
	eth := ethInstrument(ethBook(t, clk))
	for name, c := range map[string]struct {
		edit func(*Instrument)
		want string
	}{
		"empty symbol":       {func(in *Instrument) { in.Symbol = "" }, "empty symbol"},
		"main symbol":        {func(in *Instrument) { in.Symbol = "BTCUSDT" }, "Config.Symbol"},
		"no book":            {func(in *Instrument) { in.Book = nil }, "no book"},
		"zero tick":          {func(in *Instrument) { in.TickSize = decimal.Zero }, "tick size"},
		"zero step":          {func(in *Instrument) { in.StepSize = decimal.Zero }, "step size"},
		"zero min qty":       {func(in *Instrument) { in.MinQty = decimal.Zero }, "min qty"},
		"zero max qty":       {func(in *Instrument) { in.MaxQty = decimal.Zero }, "max qty"},
		"zero market max":    {func(in *Instrument) { in.MarketMaxQty = decimal.Zero }, "market max qty"},
		"negative notional":  {func(in *Instrument) { in.MinNotional = dec("-1") }, "min notional"},
		"duplicate (second)": {nil, "duplicate"},
	} {
		more := []Instrument{eth}
		if c.edit != nil {
			c.edit(&more[0])
		} else {
			more = append(more, eth)
		}
		_, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: more})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, c.want)
		}
	}
	eth.MinNotional = decimal.Zero
	if _, err := New(Config{Book: book, APIKey: "k", APISecret: "s", Clock: clk, More: []Instrument{eth}}); err != nil {
		t.Errorf("zero min notional: %v", err)
	}
}
