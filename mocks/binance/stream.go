package binance

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
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
	a.keys[k] = &listenKey{expires: time.Now().Add(a.cfg.ListenKeyTTL), conns: map[*streamConn]struct{}{}}
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
	lk, ok := a.keys[k]
	if !ok {
		return nil, errListenKey
	}
	delete(a.keys, k)
	for c := range lk.conns {
		c.close()
		close(c.send)
	}
	return struct{}{}, nil
}

// expireListenKeys sends listenKeyExpired on the streams of every key past its expiry and closes them.
func (a *account) expireListenKeys(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, lk := range a.keys {
		if now.Before(lk.expires) {
			continue
		}
		msg, _ := json.Marshal(map[string]any{"e": "listenKeyExpired", "E": a.now().UnixMilli(), "listenKey": k})
		for c := range lk.conns {
			select {
			case c.send <- msg:
			default:
			}
			close(c.send) // the writer sends what is queued, then closes the connection
		}
		lk.conns = nil
		delete(a.keys, k)
	}
}

// closeStreams closes every open user-data connection (the keys stay valid).
func (a *account) closeStreams() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lk := range a.keys {
		for c := range lk.conns {
			c.close()
			delete(lk.conns, c)
			close(c.send)
		}
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (a *account) serveStream(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("listenKey")
	a.mu.Lock()
	_, ok := a.keys[k]
	a.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(errListenKey.Status)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": errListenKey.Code, "msg": errListenKey.Msg})
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &streamConn{conn: conn, send: make(chan []byte, 4096)}
	a.mu.Lock()
	lk, ok := a.keys[k]
	if !ok {
		a.mu.Unlock()
		_ = conn.Close()
		return
	}
	lk.conns[c] = struct{}{}
	a.wg.Add(2)
	a.mu.Unlock()
	go func() { // writer
		defer a.wg.Done()
		defer c.close()
		for msg := range c.send {
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		}
	}()
	go func() { // reader: answers pings, notices the close
		defer a.wg.Done()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
		c.close()
		a.mu.Lock()
		defer a.mu.Unlock()
		if lk, ok := a.keys[k]; ok {
			if _, live := lk.conns[c]; live {
				delete(lk.conns, c)
				close(c.send)
			}
		}
	}()
}

// publish queues msg on every open stream of the account; a stream that cannot keep up is cut. Called with a.mu
// held, so all streams see events in the order they happened.
func (a *account) publish(v any) {
	msg, err := json.Marshal(v)
	if err != nil {
		a.cfg.Logger.Error("marshal stream event", zap.Error(err))
		return
	}
	for _, lk := range a.keys {
		for c := range lk.conns {
			select {
			case c.send <- msg:
			default:
				c.close()
			}
		}
	}
}

// pushOrder sends ORDER_TRADE_UPDATE for o with execution type x (NEW, TRADE, CANCELED, EXPIRED).
func (a *account) pushOrder(o *OrderRecord, x string, t *trade) {
	now := a.now().UnixMilli()
	u := map[string]any{
		"s": o.Symbol, "c": o.ClientOrderID, "S": o.Side, "o": o.Type, "f": o.TimeInForce, "q": a.qty(o.OrigQty),
		"p": a.px(o.Price), "ap": a.avgPrice(o).StringFixed(5), "sp": "0", "x": x, "X": o.Status, "i": o.OrderID,
		"l": "0", "z": a.qty(o.ExecutedQty), "L": "0", "T": now, "t": 0, "b": "0", "a": "0", "m": false,
		"R": o.ReduceOnly, "wt": "CONTRACT_PRICE", "ot": o.Type, "ps": "BOTH", "cp": false, "rp": "0", "pP": false,
		"si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
	}
	if t != nil {
		u["l"], u["L"], u["t"], u["m"] = a.qty(t.Qty), a.px(t.Price), t.ID, t.Maker
		u["n"], u["N"], u["rp"], u["T"] = t.Commission.StringFixed(8), "USDT", t.Realized.StringFixed(8), t.Time.UnixMilli()
	}
	a.publish(map[string]any{"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": u})
}

// pushAccount sends ACCOUNT_UPDATE with the wallet and the position in symbol.
func (a *account) pushAccount(symbol, reason string) {
	now := a.now().UnixMilli()
	p := a.pos(symbol)
	w := a.wallet.StringFixed(8)
	a.publish(map[string]any{"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": map[string]any{
		"m": reason,
		"B": []map[string]any{{"a": "USDT", "wb": w, "cw": w, "bc": "0"}},
		"P": []map[string]any{{"s": symbol, "pa": a.qty(p.Qty), "ep": p.Entry.StringFixed(8), "bep": p.Entry.StringFixed(8),
			"cr": p.Realized.StringFixed(8), "up": "0", "mt": "cross", "iw": "0", "ps": "BOTH"}},
	}})
}
