package okx

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
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

const (
	btcID = "BTC-USDT-SWAP"
	ethID = "ETH-USDT-SWAP"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// ethBook is the one venue of a second simulated market, ETH at 3000 on a 0.01 tick, with OKX's ETH-USDT-SWAP
// contract (0.1 ETH) as its lot.
func ethBook(t *testing.T) *market.Venue {
	return mocktest.ETHBook(t, clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), "okx", 5, "0.01", "0.1")
}

// ethSwap is OKX's ETH-USDT-SWAP on book: ctVal 0.1 ETH, lotSz 1, minSz 1, tickSz 0.01.
func ethSwap(book Book) Instrument {
	return Instrument{InstID: ethID, Book: book, CtVal: dec("0.1"), LotSz: dec("1"), MinSz: dec("1"), TickSz: dec("0.01")}
}

// newTwoSwaps serves BTC-USDT-SWAP (the default terms) and ETH-USDT-SWAP on one account.
func newTwoSwaps(t *testing.T) *Server {
	t.Helper()
	book, clk := mocktest.Book(t, "okx", 5, "0.01")
	s, err := New(Config{Name: "okx", Book: book, APIKey: "k", APISecret: "s", Passphrase: "p", Clock: clk,
		DisableRateLimits: true, More: []Instrument{ethSwap(ethBook(t))}})
	mocktest.Serve(t, s, err)
	return s
}

// answer is OKX's envelope, data rows kept as string maps.
type answer struct {
	Code string              `json:"code"`
	Msg  string              `json:"msg"`
	Data []map[string]string `json:"data"`
}

// call makes a request, signed as OKX wants, and decodes the answer.
func call(t *testing.T, s *Server, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().UTC().Format(tsLayout)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("OK-ACCESS-KEY", "k")
	req.Header.Set("OK-ACCESS-PASSPHRASE", "p")
	req.Header.Set("OK-ACCESS-TIMESTAMP", ts)
	req.Header.Set("OK-ACCESS-SIGN", mockutil.HMACBase64("s", ts+method+path+body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

// byInst indexes rows by instId, failing on a repeat.
func byInst(t *testing.T, rows []map[string]string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, r := range rows {
		if _, dup := out[r["instId"]]; dup {
			t.Fatalf("instId %s twice in %v", r["instId"], rows)
		}
		out[r["instId"]] = r
	}
	return out
}

// decimals is the number of digits after the point of a wire price.
func decimals(px string) int {
	_, frac, _ := strings.Cut(px, ".")
	return len(frac)
}

// crossingPx is a buy limit price above the ask of book, on ETH's 0.01 grid but off BTC's 0.1 grid (x.x5), so
// it is accepted only under the swap's own tick.
func crossingPx(book Book) decimal.Decimal {
	return book.Quote().Ask.Mul(dec("1.01")).Truncate(1).Add(dec("0.05"))
}

// TestInstrumentsListsEverySwap: public/instruments, without an instId, lists both swaps with their own terms; with
// one, that swap alone; mark-price lists both marks from their own books; the ETH ticker and book come from ETH's
// book at two decimals, in contracts of 0.1 ETH.
func TestInstrumentsListsEverySwap(t *testing.T) {
	s := newTwoSwaps(t)
	a := call(t, s, http.MethodGet, "/api/v5/public/instruments?instType=SWAP", "")
	if a.Code != "0" || len(a.Data) != 2 {
		t.Fatalf("instruments %+v", a)
	}
	if a.Data[0]["instId"] != btcID || a.Data[1]["instId"] != ethID {
		t.Fatalf("order %s, %s", a.Data[0]["instId"], a.Data[1]["instId"])
	}
	want := map[string]map[string]string{
		btcID: {"ctVal": "0.01", "lotSz": "1", "minSz": "1", "tickSz": "0.1", "ctValCcy": "BTC", "uly": "BTC-USDT", "settleCcy": "USDT"},
		ethID: {"ctVal": "0.1", "lotSz": "1", "minSz": "1", "tickSz": "0.01", "ctValCcy": "ETH", "uly": "ETH-USDT", "settleCcy": "USDT"},
	}
	rows := byInst(t, a.Data)
	for id, fields := range want {
		for k, v := range fields {
			if rows[id][k] != v {
				t.Errorf("%s %s = %q, want %q", id, k, rows[id][k], v)
			}
		}
	}
	one := call(t, s, http.MethodGet, "/api/v5/public/instruments?instType=SWAP&instId="+ethID, "")
	if one.Code != "0" || len(one.Data) != 1 || one.Data[0]["instId"] != ethID || one.Data[0]["ctVal"] != "0.1" {
		t.Fatalf("instruments of ETH %+v", one)
	}

	marks := call(t, s, http.MethodGet, "/api/v5/public/mark-price?instType=SWAP", "")
	if marks.Code != "0" || len(marks.Data) != 2 {
		t.Fatalf("mark-price %+v", marks)
	}
	m := byInst(t, marks.Data)
	btcMark, ethMark := dec(m[btcID]["markPx"]), dec(m[ethID]["markPx"])
	if !btcMark.Equal(s.cfg.Book.Quote().Mark) || !ethMark.Equal(s.cfg.More[0].Book.Quote().Mark) ||
		ethMark.GreaterThan(dec("4000")) || btcMark.LessThan(dec("9000")) {
		t.Fatalf("marks BTC %s ETH %s", btcMark, ethMark)
	}

	tk := call(t, s, http.MethodGet, "/api/v5/market/ticker?instId="+ethID, "")
	if tk.Code != "0" || len(tk.Data) != 1 || tk.Data[0]["instId"] != ethID {
		t.Fatalf("ticker %+v", tk)
	}
	q := s.cfg.More[0].Book.Quote()
	if tk.Data[0]["bidPx"] != q.Bid.StringFixed(2) || tk.Data[0]["askPx"] != q.Ask.StringFixed(2) {
		t.Fatalf("ETH ticker bid %s ask %s, book %s/%s", tk.Data[0]["bidPx"], tk.Data[0]["askPx"], q.Bid, q.Ask)
	}
	bids, _ := s.cfg.More[0].Book.Depth(1)
	if want := bids[0].Qty.Div(dec("0.1")).String(); tk.Data[0]["bidSz"] != want {
		t.Fatalf("ETH bidSz %s, want %s contracts", tk.Data[0]["bidSz"], want)
	}

	var books struct {
		Code string `json:"code"`
		Data []struct {
			Bids [][]string `json:"bids"`
		} `json:"data"`
	}
	res, err := http.Get(s.URL() + "/api/v5/market/books?instId=" + ethID + "&sz=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&books); err != nil || books.Code != "0" || len(books.Data) != 1 ||
		len(books.Data[0].Bids) != 1 {
		t.Fatalf("books %+v %v", books, err)
	}
	if lv := books.Data[0].Bids[0]; lv[0] != bids[0].Price.StringFixed(2) || lv[1] != bids[0].Qty.Div(dec("0.1")).String() {
		t.Fatalf("ETH book level %v, want %s × %s ETH", lv, bids[0].Price, bids[0].Qty)
	}
}

// placeBodyJSON is a place-order body.
func placeBodyJSON(instID, side, ordType, sz, px, clOrdID string) string {
	b, _ := json.Marshal(map[string]string{"instId": instID, "tdMode": "cross", "side": side, "ordType": ordType,
		"sz": sz, "px": px, "clOrdId": clOrdID})
	return string(b)
}

// TestOrderOnSecondSwap: an ETH-USDT-SWAP IOC buy of 3 contracts at a price on ETH's 0.01 tick (off BTC's 0.1)
// fills against ETH's book; the position reads 3 contracts, the engine holds 0.3 ETH, BTC is untouched; the
// order, its fills and the order lists show it under ETH in ETH's contracts and precision; a px off ETH's tick is
// refused with sCode 51000, and the same x.x5 px is refused on BTC, whose tick is 0.1.
func TestOrderOnSecondSwap(t *testing.T) {
	s := newTwoSwaps(t)
	eth := s.cfg.More[0].Book
	px := crossingPx(eth)
	a := call(t, s, http.MethodPost, "/api/v5/trade/order", placeBodyJSON(ethID, "buy", "ioc", "3", px.String(), "eth1"))
	if a.Code != "0" || len(a.Data) != 1 || a.Data[0]["sCode"] != "0" {
		t.Fatalf("ETH order %+v", a)
	}
	ordID := a.Data[0]["ordId"]
	if got := s.Position(ethID); !got.Equal(dec("3")) {
		t.Fatalf("ETH position %s contracts, want 3", got)
	}
	if got := s.acct.ex.Qty(ethID); !got.Equal(dec("0.3")) {
		t.Fatalf("engine ETH position %s, want 0.3 ETH", got)
	}
	if got := s.Position(btcID); !got.IsZero() {
		t.Fatalf("BTC position %s, want untouched", got)
	}

	o := call(t, s, http.MethodGet, "/api/v5/trade/order?instId="+ethID+"&ordId="+ordID, "")
	if o.Code != "0" || len(o.Data) != 1 {
		t.Fatalf("ETH order query %+v", o)
	}
	r := o.Data[0]
	avg := dec(r["avgPx"])
	if r["instId"] != ethID || r["sz"] != "3" || r["accFillSz"] != "3" || r["state"] != "filled" ||
		r["px"] != px.StringFixed(2) || decimals(r["fillPx"]) != 2 || avg.GreaterThan(px) || avg.LessThan(dec("2000")) {
		t.Fatalf("ETH order %v (px %s)", r, px)
	}
	if q := call(t, s, http.MethodGet, "/api/v5/trade/order?instId="+btcID+"&ordId="+ordID, ""); q.Code != errNoOrder.Code {
		t.Fatalf("ETH order under BTC's instId %+v, want %s", q, errNoOrder.Code)
	}
	fills := call(t, s, http.MethodGet, "/api/v5/trade/fills?instId="+ethID, "")
	if fills.Code != "0" || len(fills.Data) == 0 {
		t.Fatalf("ETH fills %+v", fills)
	}
	total := decimal.Zero
	for _, f := range fills.Data {
		if f["instId"] != ethID || decimals(f["fillPx"]) != 2 {
			t.Fatalf("fill %v", f)
		}
		total = total.Add(dec(f["fillSz"]))
	}
	if !total.Equal(dec("3")) {
		t.Fatalf("ETH fills total %s contracts, want 3", total)
	}
	if f := call(t, s, http.MethodGet, "/api/v5/trade/fills?instId="+btcID, ""); f.Code != "0" || len(f.Data) != 0 {
		t.Fatalf("BTC fills %+v, want none", f)
	}
	if h := call(t, s, http.MethodGet, "/api/v5/trade/orders-history?instType=SWAP&instId="+btcID, ""); h.Code != "0" || len(h.Data) != 0 {
		t.Fatalf("BTC history %+v, want none", h)
	}
	if h := call(t, s, http.MethodGet, "/api/v5/trade/orders-history?instType=SWAP&instId="+ethID, ""); h.Code != "0" ||
		len(h.Data) != 1 || h.Data[0]["ordId"] != ordID {
		t.Fatalf("ETH history %+v", h)
	}

	// A px off ETH's 0.01 tick; the x.x5 px on BTC, whose tick is 0.1.
	off := px.Add(dec("0.005"))
	for _, b := range []string{placeBodyJSON(ethID, "buy", "limit", "1", off.String(), "off1"),
		placeBodyJSON(btcID, "buy", "limit", "1", crossingPx(s.cfg.Book).String(), "off2")} {
		a := call(t, s, http.MethodPost, "/api/v5/trade/order", b)
		if a.Code != "1" || len(a.Data) != 1 || a.Data[0]["sCode"] != sParam {
			t.Fatalf("%s: %+v, want sCode %s", b, a, sParam)
		}
	}
	if got := s.acct.ex.Qty(ethID); !got.Equal(dec("0.3")) {
		t.Fatalf("engine ETH position %s after the refusals, want 0.3", got)
	}
}

// TestRestingOrderOnSecondSwap: a resting ETH order is pending under ETH alone, amends by ETH's lot and tick into
// ETH base units, and cancels only under its own instId.
func TestRestingOrderOnSecondSwap(t *testing.T) {
	s := newTwoSwaps(t)
	eth := s.cfg.More[0].Book
	low := eth.Quote().Bid.Mul(dec("0.9")).Truncate(1).Add(dec("0.05"))
	a := call(t, s, http.MethodPost, "/api/v5/trade/order", placeBodyJSON(ethID, "buy", "limit", "2", low.String(), "rest1"))
	if a.Code != "0" {
		t.Fatalf("ETH order %+v", a)
	}
	ordID := a.Data[0]["ordId"]
	if p := call(t, s, http.MethodGet, "/api/v5/trade/orders-pending?instId="+btcID, ""); p.Code != "0" || len(p.Data) != 0 {
		t.Fatalf("BTC pending %+v, want none", p)
	}
	if p := call(t, s, http.MethodGet, "/api/v5/trade/orders-pending?instId="+ethID, ""); p.Code != "0" || len(p.Data) != 1 ||
		p.Data[0]["sz"] != "2" || p.Data[0]["px"] != low.StringFixed(2) {
		t.Fatalf("ETH pending %+v", p)
	}
	amend := func(instID, newSz, newPx string) answer {
		b, _ := json.Marshal(map[string]string{"instId": instID, "ordId": ordID, "newSz": newSz, "newPx": newPx})
		return call(t, s, http.MethodPost, "/api/v5/trade/amend-order", string(b))
	}
	if r := amend(btcID, "4", ""); r.Code != "1" || r.Data[0]["sCode"] != sAmendNone {
		t.Fatalf("amend under BTC %+v, want sCode %s", r, sAmendNone)
	}
	newPx := low.Sub(dec("0.01"))
	if r := amend(ethID, "4", newPx.String()); r.Code != "0" || r.Data[0]["sCode"] != "0" {
		t.Fatalf("amend under ETH %+v", r)
	}
	o, ok := s.acct.ex.Find(ref(ordID, ""))
	if !ok || !o.Qty.Equal(dec("0.4")) || !o.Price.Equal(newPx) || o.Symbol != ethID {
		t.Fatalf("engine order after amend %+v, want 0.4 ETH at %s", o, newPx)
	}
	cancel := func(instID string) answer {
		b, _ := json.Marshal(map[string]string{"instId": instID, "ordId": ordID})
		return call(t, s, http.MethodPost, "/api/v5/trade/cancel-order", string(b))
	}
	if r := cancel(btcID); r.Code != "1" || r.Data[0]["sCode"] != sCancelFinal {
		t.Fatalf("cancel under BTC %+v, want sCode %s", r, sCancelFinal)
	}
	if r := cancel(ethID); r.Code != "0" || r.Data[0]["sCode"] != "0" {
		t.Fatalf("cancel under ETH %+v", r)
	}
}

// TestPositionsOfEverySwap: account/positions without an instId shows both swaps, each in its own contracts at its
// own mark; with one, that swap alone. Server.SetPosition, Position and ExternalTrade work per swap.
func TestPositionsOfEverySwap(t *testing.T) {
	s := newTwoSwaps(t)
	s.SetPosition(btcID, dec("-2"))
	s.SetPosition(ethID, dec("5"))
	if err := s.ExternalTrade(ethID, true, dec("2"), "ext1"); err != nil {
		t.Fatal(err)
	}
	if got := s.acct.ex.Qty(ethID); !got.Equal(dec("0.7")) {
		t.Fatalf("engine ETH %s, want 0.7", got)
	}
	if got := s.acct.ex.Qty(btcID); !got.Equal(dec("-0.02")) {
		t.Fatalf("engine BTC %s, want -0.02", got)
	}
	if got := s.Position(ethID); !got.Equal(dec("7")) {
		t.Fatalf("ETH %s contracts, want 7", got)
	}
	a := call(t, s, http.MethodGet, "/api/v5/account/positions", "")
	if a.Code != "0" || len(a.Data) != 2 || a.Data[0]["instId"] != btcID || a.Data[1]["instId"] != ethID {
		t.Fatalf("positions %+v", a)
	}
	rows := byInst(t, a.Data)
	for id, want := range map[string]struct {
		pos   string
		ctVal string
		book  Book
	}{btcID: {"-2", "0.01", s.cfg.Book}, ethID: {"7", "0.1", s.cfg.More[0].Book}} {
		r := rows[id]
		mark := want.book.Quote().Mark
		notional := dec(want.pos).Abs().Mul(dec(want.ctVal)).Mul(mark).Round(8)
		if r["pos"] != want.pos || r["markPx"] != mark.String() || !dec(r["notionalUsd"]).Equal(notional) {
			t.Errorf("%s position %v, want pos %s at mark %s, notional %s", id, r, want.pos, mark, notional)
		}
	}
	one := call(t, s, http.MethodGet, "/api/v5/account/positions?instId="+ethID, "")
	if one.Code != "0" || len(one.Data) != 1 || one.Data[0]["instId"] != ethID || one.Data[0]["pos"] != "7" {
		t.Fatalf("ETH positions %+v", one)
	}
}

// TestUnknownInstIDStillRefused: an instId the mock does not list is refused everywhere as before, and the
// control methods refuse or ignore it.
func TestUnknownInstIDStillRefused(t *testing.T) {
	s := newTwoSwaps(t)
	const sol = "SOL-USDT-SWAP"
	a := call(t, s, http.MethodPost, "/api/v5/trade/order", placeBodyJSON(sol, "buy", "market", "1", "", "sol1"))
	if a.Code != "1" || len(a.Data) != 1 || a.Data[0]["sCode"] != sInstrument {
		t.Fatalf("place %+v, want sCode %s", a, sInstrument)
	}
	for _, path := range []string{
		"/api/v5/public/instruments?instType=SWAP&instId=" + sol,
		"/api/v5/market/ticker?instId=" + sol,
		"/api/v5/market/books?instId=" + sol,
		"/api/v5/public/mark-price?instType=SWAP&instId=" + sol,
		"/api/v5/public/funding-rate?instId=" + sol,
		"/api/v5/account/positions?instId=" + sol,
		"/api/v5/trade/orders-pending?instId=" + sol,
		"/api/v5/trade/fills?instId=" + sol,
		"/api/v5/trade/order?instId=" + sol + "&ordId=1",
	} {
		if a := call(t, s, http.MethodGet, path, ""); a.Code != errInstrument.Code {
			t.Errorf("%s: code %s, want %s", path, a.Code, errInstrument.Code)
		}
	}
	if err := s.ExternalTrade(sol, true, dec("1"), "x"); err == nil {
		t.Fatal("ExternalTrade of an unlisted instId accepted")
	}
	s.SetPosition(sol, dec("3"))
	if len(s.acct.ex.Orders()) != 0 || !s.Position(sol).IsZero() || !s.acct.ex.Qty(btcID).IsZero() {
		t.Fatalf("an unlisted instId changed the account: orders %d", len(s.acct.ex.Orders()))
	}
	for _, p := range s.acct.ex.Positions() {
		if p.Symbol == sol {
			t.Fatalf("position in %s: %+v", sol, p)
		}
	}
}

// TestMoreValidated: New refuses a More swap without an instId, with a repeated one or Config.InstID's, without a
// book, or with a term not positive.
func TestMoreValidated(t *testing.T) {
	book, clk := mocktest.Book(t, "okx", 5, "0.01")
	eth := ethSwap(ethBook(t))
	base := Config{Name: "okx", Book: book, APIKey: "k", APISecret: "s", Passphrase: "p", Clock: clk}
	for name, c := range map[string]struct {
		more []Instrument
		want string
	}{
		"no instId":  {[]Instrument{func() Instrument { i := eth; i.InstID = ""; return i }()}, "no instId"},
		"twice":      {[]Instrument{eth, eth}, "listed twice"},
		"main's":     {[]Instrument{func() Instrument { i := eth; i.InstID = "btc-usdt-swap"; return i }()}, "Config.InstID"},
		"no book":    {[]Instrument{func() Instrument { i := eth; i.Book = nil; return i }()}, "no book"},
		"zero ctVal": {[]Instrument{func() Instrument { i := eth; i.CtVal = decimal.Zero; return i }()}, "CtVal must be positive"},
		"neg tickSz": {[]Instrument{func() Instrument { i := eth; i.TickSz = dec("-0.01"); return i }()}, "TickSz must be positive"},
		"zero lotSz": {[]Instrument{func() Instrument { i := eth; i.LotSz = decimal.Zero; return i }()}, "LotSz must be positive"},
		"zero minSz": {[]Instrument{func() Instrument { i := eth; i.MinSz = decimal.Zero; return i }()}, "MinSz must be positive"},
	} {
		cfg := base
		cfg.More = c.more
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	cfg := base
	cfg.More = []Instrument{eth}
	if _, err := New(cfg); err != nil {
		t.Fatalf("valid More refused: %v", err)
	}
}

// TestStreamPushesSecondSwap: the orders push of an ETH fill names ETH-USDT-SWAP, with sz and fillSz in ETH
// contracts and fillPx at ETH's precision; the positions push carries ETH's position in contracts.
func TestStreamPushesSecondSwap(t *testing.T) {
	s := newTwoSwaps(t)
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	login := wsOp{Op: "login", Args: []wsArg{{APIKey: "k", Passphrase: "p", Timestamp: ts,
		Sign: mockutil.HMACBase64("s", ts+"GET/users/self/verify")}}}
	sub := wsOp{Op: "subscribe", Args: []wsArg{{Channel: tagOrders, InstType: "SWAP"}, {Channel: tagPositions, InstType: "SWAP"}}}
	for _, op := range []wsOp{login, sub} {
		if err := conn.WriteJSON(op); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitSubscribed(ctx, 1); err != nil {
		t.Fatal(err)
	}
	px := crossingPx(s.cfg.More[0].Book)
	if a := call(t, s, http.MethodPost, "/api/v5/trade/order", placeBodyJSON(ethID, "buy", "ioc", "3", px.String(), "ws1")); a.Code != "0" {
		t.Fatalf("ETH order %+v", a)
	}
	var fill, pos map[string]string
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for fill == nil || pos == nil {
		var msg struct {
			Event string              `json:"event"`
			Code  string              `json:"code"`
			Arg   map[string]string   `json:"arg"`
			Data  []map[string]string `json:"data"`
		}
		if err := conn.ReadJSON(&msg); err != nil {
			t.Fatalf("read: %v (fill %v, position %v)", err, fill, pos)
		}
		if msg.Event == "error" {
			t.Fatalf("stream error %+v", msg)
		}
		if len(msg.Data) != 1 {
			continue
		}
		switch d := msg.Data[0]; msg.Arg["channel"] {
		case tagOrders:
			if d["tradeId"] != "" && fill == nil {
				fill = d
			}
		case tagPositions:
			pos = d // the last: the position after every fill of the order
			if pos["pos"] != "3" {
				pos = nil
			}
		}
	}
	if fill["instId"] != ethID || fill["sz"] != "3" || fill["clOrdId"] != "ws1" || decimals(fill["fillPx"]) != 2 ||
		fill["px"] != px.StringFixed(2) {
		t.Fatalf("orders push %v (px %s)", fill, px)
	}
	if sz := dec(fill["fillSz"]); !sz.IsInteger() || !sz.IsPositive() || sz.GreaterThan(dec("3")) {
		t.Fatalf("fillSz %s, want whole ETH contracts", fill["fillSz"])
	}
	if pos["instId"] != ethID || pos["markPx"] != s.cfg.More[0].Book.Quote().Mark.String() {
		t.Fatalf("positions push %v", pos)
	}
}
