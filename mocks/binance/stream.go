package binance

import (
	"github.com/shopspring/decimal"

	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// One account has at most one live listenKey; POST returns it (and extends it) while it lives, as the venue does.
func (a *account) startListenKey(*request) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, lk := range a.keys {
		lk.expires = time.Now().Add(a.cfg.ListenKeyTTL)
		return map[string]string{"listenKey": k}, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	k := hex.EncodeToString(b)
	a.keys[k] = &listenKey{expires: time.Now().Add(a.cfg.ListenKeyTTL)}
	return map[string]string{"listenKey": k}, nil
}

func (a *account) keepaliveListenKey(r *request) (any, *apiError) {
	k := r.params.Get("listenKey")
	a.mu.Lock()
	defer a.mu.Unlock()
	lk, ok := a.keys[k]
	if !ok {
		return nil, errListenKey
	}
	lk.expires = time.Now().Add(a.cfg.ListenKeyTTL)
	return map[string]string{"listenKey": k}, nil
}

func (a *account) closeListenKey(r *request) (any, *apiError) {
	k := r.params.Get("listenKey")
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.keys[k]; !ok {
		return nil, errListenKey
	}
	delete(a.keys, k)
	a.hub.Cut(mockutil.Tagged(keyTag(k)))
	return struct{}{}, nil
}

// keyTag is the hub tag of the connections of listenKey k.
func keyTag(k string) string { return "listenKey:" + k }

// expireListenKeys sends listenKeyExpired on the streams of every key past its expiry and closes them.
func (a *account) expireListenKeys(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, lk := range a.keys {
		if now.Before(lk.expires) {
			continue
		}
		to := mockutil.Tagged(keyTag(k))
		a.hub.Publish(map[string]any{"e": "listenKeyExpired", "E": a.now().UnixMilli(), "listenKey": k}, to)
		a.hub.Drain(to) // the writers send what is queued, then close the connections
		delete(a.keys, k)
	}
}

// closeStreams cuts every open user-data connection (the keys stay valid).
func (a *account) closeStreams() { a.hub.Cut(nil) }

func (a *account) serveStream(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("listenKey")
	a.mu.Lock()
	_, ok := a.keys[k]
	a.mu.Unlock()
	if !ok {
		_ = mockutil.WriteJSON(w, errListenKey.Status, map[string]any{"code": errListenKey.Code, "msg": errListenKey.Msg})
		return
	}
	c, err := a.hub.Upgrade(w, r, keyTag(k))
	if err != nil {
		return
	}
	a.mu.Lock()
	_, ok = a.keys[k] // closed or expired while upgrading
	a.mu.Unlock()
	if !ok {
		c.Close()
		return
	}
	// A user-data stream gets every push of the account once connected: it is subscribed (WaitSubscribed).
	c.Tag(mockutil.TagSubscribed)
	for { // the reader answers pings (gorilla does) and notices the close
		if _, err := c.Read(); err != nil {
			break
		}
	}
	c.Close()
}

// push turns the engine's events into ORDER_TRADE_UPDATE and ACCOUNT_UPDATE on every open stream of the
// account; a stream that cannot keep up is cut. The engine calls it in order, so all streams see events in the
// order they happened.
func (a *account) push(events []exchange.Event) {
	for i := range events {
		e := &events[i]
		o := record(&e.Order)
		switch e.Kind {
		case exchange.Accepted:
			a.pushOrder(&o, "NEW", nil)
		case exchange.Executed:
			if a.faults != nil && a.faults.TakeLostFill() {
				continue
			}
			t := tradeOf(&e.Fill)
			a.pushOrder(&o, "TRADE", &t)
			a.pushAccount(&e.Position, e.Wallet, "ORDER")
		case exchange.Ended:
			a.pushOrder(&o, o.Status, nil)
		case exchange.Amended:
			a.pushOrder(&o, "AMENDMENT", nil)
		case exchange.PositionSet:
			a.pushAccount(&e.Position, e.Wallet, "ORDER")
		}
	}
}

func (a *account) avgPrice(o *OrderRecord) decimal.Decimal {
	if o.ExecutedQty.IsZero() {
		return decimal.Zero
	}
	return o.CumQuote.Div(o.ExecutedQty)
}

// pushOrder sends ORDER_TRADE_UPDATE for o with execution type x (NEW, TRADE, AMENDMENT, CANCELED, EXPIRED), in
// the precision of o's symbol.
func (a *account) pushOrder(o *OrderRecord, x string, t *trade) {
	now := a.now().UnixMilli()
	in := a.of(o.Symbol)
	u := wsOrder{Symbol: o.Symbol, ClientID: o.ClientOrderID, Side: o.Side, Type: o.Type, TIF: o.TimeInForce,
		Qty: in.qty(o.OrigQty), Price: in.px(o.Price), Avg: a.avgPrice(o).StringFixed(5), Stop: "0", Exec: x,
		Status: o.Status, OrderID: o.OrderID, LastQty: "0", CumQty: in.qty(o.ExecutedQty), LastPx: "0", Time: now,
		Bid: "0", Ask: "0", ReduceOnly: o.ReduceOnly, WorkingType: "CONTRACT_PRICE", OrigType: o.Type, PosSide: "BOTH",
		Realized: "0", STPMode: "EXPIRE_MAKER", PriceMatch: "NONE"}
	if t != nil {
		u.LastQty, u.LastPx, u.TradeID, u.Maker = in.qty(t.Qty), in.px(t.Price), t.ID, t.Maker
		u.Commission, u.CommAsset, u.Realized, u.Time = t.Commission.StringFixed(8), "USDT", t.Realized.StringFixed(8), t.Time.UnixMilli()
	}
	a.hub.Publish(&wsOrderUpdate{Event: "ORDER_TRADE_UPDATE", EventTime: now, TxTime: now, Order: u}, nil)
}

// pushAccount sends ACCOUNT_UPDATE with the wallet and the position p, in the precision of p's symbol.
func (a *account) pushAccount(p *exchange.Position, wallet decimal.Decimal, reason string) {
	now := a.now().UnixMilli()
	w := wallet.StringFixed(8)
	a.hub.Publish(&wsAccountUpdate{Event: "ACCOUNT_UPDATE", EventTime: now, TxTime: now, Account: wsAccount{
		Reason:   reason,
		Balances: []wsBalance{{Asset: "USDT", Wallet: w, Cross: w, Change: "0"}},
		Positions: []wsPosition{{Symbol: p.Symbol, Amount: a.of(p.Symbol).qty(p.Qty), Entry: p.Entry.StringFixed(8),
			BreakEven: p.Entry.StringFixed(8), Realized: p.Realized.StringFixed(8), Unrealized: "0", Margin: "cross",
			Isolated: "0", PosSide: "BOTH"}},
	}}, nil)
}

// The user-data pushes, as the venue spells them (typed, so that encoding them is cheap: a busy account pushes
// two of them per fill).
type wsOrderUpdate struct {
	Event     string  `json:"e"`
	EventTime int64   `json:"E"`
	TxTime    int64   `json:"T"`
	Order     wsOrder `json:"o"`
}

type wsOrder struct {
	Symbol      string `json:"s"`
	ClientID    string `json:"c"`
	Side        string `json:"S"`
	Type        string `json:"o"`
	TIF         string `json:"f"`
	Qty         string `json:"q"`
	Price       string `json:"p"`
	Avg         string `json:"ap"`
	Stop        string `json:"sp"`
	Exec        string `json:"x"`
	Status      string `json:"X"`
	OrderID     int64  `json:"i"`
	LastQty     string `json:"l"`
	CumQty      string `json:"z"`
	LastPx      string `json:"L"`
	CommAsset   string `json:"N,omitempty"` // only on a trade
	Commission  string `json:"n,omitempty"` // only on a trade
	Time        int64  `json:"T"`
	TradeID     int64  `json:"t"`
	Bid         string `json:"b"`
	Ask         string `json:"a"`
	Maker       bool   `json:"m"`
	ReduceOnly  bool   `json:"R"`
	WorkingType string `json:"wt"`
	OrigType    string `json:"ot"`
	PosSide     string `json:"ps"`
	ClosePos    bool   `json:"cp"`
	Realized    string `json:"rp"`
	PriceProt   bool   `json:"pP"`
	SI          int    `json:"si"`
	SS          int    `json:"ss"`
	STPMode     string `json:"V"`
	PriceMatch  string `json:"pm"`
	GTD         int64  `json:"gtd"`
}

type wsAccountUpdate struct {
	Event     string    `json:"e"`
	EventTime int64     `json:"E"`
	TxTime    int64     `json:"T"`
	Account   wsAccount `json:"a"`
}

type wsAccount struct {
	Reason    string       `json:"m"`
	Balances  []wsBalance  `json:"B"`
	Positions []wsPosition `json:"P"`
}

type wsBalance struct {
	Asset  string `json:"a"`
	Wallet string `json:"wb"`
	Cross  string `json:"cw"`
	Change string `json:"bc"`
}

type wsPosition struct {
	Symbol     string `json:"s"`
	Amount     string `json:"pa"`
	Entry      string `json:"ep"`
	BreakEven  string `json:"bep"`
	Realized   string `json:"cr"`
	Unrealized string `json:"up"`
	Margin     string `json:"mt"`
	Isolated   string `json:"iw"`
	PosSide    string `json:"ps"`
}
