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
	u := map[string]any{
		"s": o.Symbol, "c": o.ClientOrderID, "S": o.Side, "o": o.Type, "f": o.TimeInForce, "q": in.qty(o.OrigQty),
		"p": in.px(o.Price), "ap": a.avgPrice(o).StringFixed(5), "sp": "0", "x": x, "X": o.Status, "i": o.OrderID,
		"l": "0", "z": in.qty(o.ExecutedQty), "L": "0", "T": now, "t": 0, "b": "0", "a": "0", "m": false,
		"R": o.ReduceOnly, "wt": "CONTRACT_PRICE", "ot": o.Type, "ps": "BOTH", "cp": false, "rp": "0", "pP": false,
		"si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
	}
	if t != nil {
		u["l"], u["L"], u["t"], u["m"] = in.qty(t.Qty), in.px(t.Price), t.ID, t.Maker
		u["n"], u["N"], u["rp"], u["T"] = t.Commission.StringFixed(8), "USDT", t.Realized.StringFixed(8), t.Time.UnixMilli()
	}
	a.hub.Publish(map[string]any{"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": u}, nil)
}

// pushAccount sends ACCOUNT_UPDATE with the wallet and the position p, in the precision of p's symbol.
func (a *account) pushAccount(p *exchange.Position, wallet decimal.Decimal, reason string) {
	now := a.now().UnixMilli()
	w := wallet.StringFixed(8)
	a.hub.Publish(map[string]any{"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": map[string]any{
		"m": reason,
		"B": []map[string]any{{"a": "USDT", "wb": w, "cw": w, "bc": "0"}},
		"P": []map[string]any{{"s": p.Symbol, "pa": a.of(p.Symbol).qty(p.Qty), "ep": p.Entry.StringFixed(8), "bep": p.Entry.StringFixed(8),
			"cr": p.Realized.StringFixed(8), "up": "0", "mt": "cross", "iw": "0", "ps": "BOTH"}},
	}}, nil)
}
