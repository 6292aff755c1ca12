package okx

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/mockutil"
)

const (
	tagLogin     = "login"
	tagOrders    = "orders"
	tagPositions = "positions"
)

type wsArg struct {
	Channel    string `json:"channel"`
	InstType   string `json:"instType,omitempty"`
	InstID     string `json:"instId,omitempty"`
	APIKey     string `json:"apiKey,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
	Timestamp  string `json:"timestamp,omitempty"`
	Sign       string `json:"sign,omitempty"`
}

type wsOp struct {
	Op   string  `json:"op"`
	Args []wsArg `json:"args"`
}

// serveStream is the private websocket: login, then subscribe to orders and positions; a text "ping" is answered
// with a text "pong", as OKX does.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	c, err := s.hub.Upgrade(w, r)
	if err != nil {
		return
	}
	defer s.life.Hold()()
	defer c.Close()
	connID := strconv.FormatInt(time.Now().UnixNano(), 36)
	wsErr := func(code, msg string) {
		c.Send(map[string]string{"event": "error", "code": code, "msg": msg, "connId": connID})
	}
	for {
		msg, err := c.Read()
		if err != nil {
			return
		}
		if string(msg) == "ping" {
			c.SendText("pong")
			continue
		}
		var op wsOp
		if err := json.Unmarshal(msg, &op); err != nil {
			wsErr("60012", "Invalid request: "+string(msg))
			continue
		}
		switch op.Op {
		case "login":
			if len(op.Args) != 1 {
				wsErr("60013", "Invalid args")
				continue
			}
			if code, m := s.wsLogin(op.Args[0]); code != "" {
				wsErr(code, m)
				continue
			}
			c.Tag(tagLogin)
			c.Send(map[string]string{"event": "login", "code": "0", "msg": "", "connId": connID})
		case "subscribe":
			if !c.Has(tagLogin) {
				wsErr("60011", "Please log in")
				continue
			}
			for _, a := range op.Args {
				if (a.Channel != tagOrders && a.Channel != tagPositions) || (a.InstType != "SWAP" && a.InstType != "ANY") {
					wsErr("60018", "Wrong URL or channel:"+a.Channel+" doesn't exist.")
					continue
				}
				c.Tag(a.Channel)
				c.Send(map[string]any{"event": "subscribe", "arg": map[string]string{"channel": a.Channel, "instType": a.InstType}, "connId": connID})
			}
			if c.Has(tagOrders) { // logged in, subscribe answered: orders and fills reach it (WaitSubscribed)
				c.Tag(mockutil.TagSubscribed)
			}
		default:
			wsErr("60019", "Invalid op: "+op.Op)
		}
	}
}

// wsLogin checks a login: key, passphrase, timestamp (Unix seconds, within 30 s) and sign =
// base64(HMAC-SHA256(secret, timestamp+"GET"+"/users/self/verify")). It returns the error code and message, or "".
func (s *Server) wsLogin(a wsArg) (string, string) {
	ts, err := strconv.ParseInt(a.Timestamp, 10, 64)
	switch {
	case !mockutil.EqualSig(a.APIKey, s.cfg.APIKey):
		return "60005", "Invalid apiKey"
	case !mockutil.EqualSig(a.Passphrase, s.cfg.Passphrase):
		return "60024", "Wrong passphrase"
	case err != nil:
		return "60004", "Invalid timestamp"
	}
	if d := s.faults.Now().Sub(time.Unix(ts, 0)); d > 30*time.Second || d < -30*time.Second {
		return "60006", "Timestamp request expired"
	}
	if !mockutil.EqualSig(a.Sign, mockutil.HMACBase64(s.cfg.APISecret, a.Timestamp+"GET/users/self/verify")) {
		return "60007", "Invalid sign"
	}
	return "", ""
}

// push turns the engine's events into the orders and positions channels. The engine calls it in order, so every
// stream sees events in the order they happened.
func (a *account) push(events []exchange.Event) {
	for i := range events {
		e := &events[i]
		switch e.Kind {
		case exchange.Accepted, exchange.Ended:
			a.pushOrder(&e.Order, nil, "")
		case exchange.Amended:
			a.pushOrder(&e.Order, nil, "0")
		case exchange.Executed:
			if a.faults != nil && a.faults.TakeLostFill() {
				continue
			}
			a.pushOrder(&e.Order, &e.Fill, "")
			a.pushPosition(&e.Position)
		case exchange.PositionSet:
			a.pushPosition(&e.Position)
		}
	}
}

// pushOrder sends the orders-channel update of o, with the execution ef if any; amendResult is "0" on the push of
// a successful amendment, "" otherwise.
func (a *account) pushOrder(eo *exchange.Order, ef *exchange.Fill, amendResult string) {
	o := a.record(eo)
	var f *fill
	if ef != nil {
		f = new(a.fillOf(ef))
	}
	m := a.orderJSON(&o, f)
	m["fillFee"], m["fillFeeCcy"], m["execType"], m["fillPnl"] = "0", "USDT", "", "0"
	if f != nil {
		m["fillFee"], m["execType"] = f.Fee.String(), "T"
		if f.Maker {
			m["execType"] = "M"
		}
	}
	m["code"], m["msg"], m["amendResult"], m["reqId"] = "0", "", amendResult, ""
	a.hub.Publish(map[string]any{"arg": map[string]string{"channel": tagOrders, "instType": "SWAP", "uid": "1"},
		"data": []any{m}}, mockutil.Tagged(tagOrders))
}

// pushPosition sends the positions-channel update of p, in contracts of its swap at its swap's mark.
func (a *account) pushPosition(p *exchange.Position) {
	a.hub.Publish(map[string]any{"arg": map[string]string{"channel": tagPositions, "instType": "SWAP", "uid": "1"},
		"data": []any{a.positionJSON(p)}}, mockutil.Tagged(tagPositions))
}
