package bybit

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// wsRequest is a client message on the private stream.
type wsRequest struct {
	ReqID string            `json:"req_id"`
	Op    string            `json:"op"`
	Args  []json.RawMessage `json:"args"`
}

// privateTopics are the topics the mock serves, all-in-one and categorised.
var privateTopics = map[string]bool{"order": true, "order.linear": true, "execution": true, "execution.linear": true,
	"position": true, "position.linear": true}

const authTag = "auth"

// serveStream runs one private websocket connection: auth, subscribe and ping requests, until it closes.
func (a *account) serveStream(w http.ResponseWriter, r *http.Request) {
	c, err := a.hub.Upgrade(w, r)
	if err != nil {
		return
	}
	defer c.Close()
	a.mu.Lock()
	a.nextMsg++
	connID := "mock-" + strconv.FormatInt(a.nextMsg, 10)
	a.mu.Unlock()
	ack := func(req *wsRequest, ok bool, msg string) {
		c.Send(map[string]any{"req_id": req.ReqID, "success": ok, "ret_msg": msg, "op": req.Op, "conn_id": connID})
	}
	for {
		raw, err := c.Read()
		if err != nil {
			return
		}
		var req wsRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			c.Send(map[string]any{"success": false, "ret_msg": "error:request not json", "conn_id": connID})
			continue
		}
		switch req.Op {
		case "ping":
			c.Send(map[string]any{"req_id": req.ReqID, "op": "pong",
				"args": []string{strconv.FormatInt(a.faults.Now().UnixMilli(), 10)}, "conn_id": connID})
		case "auth":
			ok, msg := a.checkAuth(req.Args)
			if ok {
				c.Tag(authTag)
			}
			ack(&req, ok, msg)
		case "subscribe":
			if !c.Has(authTag) {
				ack(&req, false, "Request not authorized")
				continue
			}
			topics := make([]string, 0, len(req.Args))
			valid := true
			for _, arg := range req.Args {
				var t string
				if json.Unmarshal(arg, &t) != nil || !privateTopics[t] {
					valid = false
					break
				}
				topics = append(topics, t)
			}
			if !valid || len(topics) == 0 {
				ack(&req, false, "error:topic invalid")
				continue
			}
			// Tag and ack in order with the pushes: the ack precedes every push the tags let through. The connection
			// counts as subscribed (WaitSubscribed) once the ack is queued.
			a.ex.Serialize(func() {
				c.Tag(topics...)
				ack(&req, true, "")
				c.Tag(mockutil.TagSubscribed)
			})
		default:
			ack(&req, false, "error:op invalid")
		}
	}
}

// checkAuth verifies ["apiKey", expires, "signature"] with signature = hex HMAC-SHA256(secret, "GET/realtime"+expires)
// and expires (ms) in the future.
func (a *account) checkAuth(args []json.RawMessage) (bool, string) {
	if len(args) != 3 {
		return false, "Params Error"
	}
	var key, sig string
	if json.Unmarshal(args[0], &key) != nil || json.Unmarshal(args[2], &sig) != nil {
		return false, "Params Error"
	}
	var expires int64
	if err := json.Unmarshal(args[1], &expires); err != nil {
		var s string
		if json.Unmarshal(args[1], &s) != nil {
			return false, "Params Error"
		}
		if expires, err = strconv.ParseInt(s, 10, 64); err != nil {
			return false, "Params Error"
		}
	}
	switch {
	case !mockutil.EqualSig(key, a.cfg.APIKey):
		return false, "Invalid apikey"
	case !mockutil.EqualSig(sig, mockutil.HMACHex(a.cfg.APISecret, "GET/realtime"+strconv.FormatInt(expires, 10))):
		return false, "Invalid sign"
	case expires <= a.faults.Now().UnixMilli(): // the venue's clock
		return false, "Request expired"
	}
	return true, ""
}

// push turns the engine's events into the order, execution and position topics. The engine calls it in order,
// so every stream sees events in the order they happened.
func (a *account) push(events []exchange.Event) {
	for i := range events {
		e := &events[i]
		switch e.Kind {
		case exchange.Accepted, exchange.Ended, exchange.Amended:
			a.pushOrder(&e.Order)
		case exchange.Executed:
			if a.faults != nil && a.faults.TakeLostFill() {
				continue
			}
			a.pushExecution(&e.Fill)
			a.pushOrder(&e.Order)
			a.pushPosition(&e.Position)
		case exchange.PositionSet:
			a.pushPosition(&e.Position)
		}
	}
}

// publish queues a topic message on every authenticated connection subscribed to topic or topic.linear.
func (a *account) publish(topic string, data []map[string]any) {
	a.mu.Lock()
	a.nextMsg++
	id := strconv.FormatInt(a.nextMsg, 10) + "-mock"
	a.mu.Unlock()
	msg := map[string]any{"id": id, "topic": topic, "creationTime": a.now().UnixMilli(), "data": data}
	a.hub.Publish(msg, func(c *mockutil.Conn) bool {
		return c.Has(authTag) && (c.Has(topic) || c.Has(topic+".linear"))
	})
}

func (a *account) pushOrder(o *exchange.Order) {
	r := record(o)
	d := a.orderJSON(&r)
	d["category"] = "linear"
	a.publish("order", []map[string]any{d})
}

func (a *account) pushExecution(f *exchange.Fill) {
	e := executionOf(f)
	d := a.execJSON(&e)
	d["category"] = "linear"
	a.publish("execution", []map[string]any{d})
}

func (a *account) pushPosition(p *exchange.Position) {
	d := a.positionJSON(p)
	d["category"] = "linear"
	d["entryPrice"] = d["avgPrice"]
	delete(d, "avgPrice")
	a.publish("position", []map[string]any{d})
}
