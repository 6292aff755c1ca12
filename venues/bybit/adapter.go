package bybit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/adaptercfg"
	"github.com/execd-dev/execd/venues/internal/clocksync"
	"github.com/execd-dev/execd/venues/internal/httpx"
	"github.com/execd-dev/execd/venues/internal/instcache"
)

// Config configures one Bybit-protocol venue.
type Config struct {
	Name       string        // venue name
	BaseURL    string        // REST base, e.g. the mock's URL() or https://api.bybit.com
	WSURL      string        // private stream, e.g. the mock's WSURL() or wss://stream.bybit.com/v5/private
	APIKey     string        //
	Secret     secret.String //
	HTTPClient *http.Client  // nil: a client with a 10 s timeout
	RecvWindow time.Duration // default 5 s
	Logger     *zap.Logger
}

// Adapter is a venues.Venue speaking Bybit v5 (linear). Safe for concurrent use.
type Adapter struct {
	cfg    Config
	log    *zap.Logger
	http   *http.Client
	offset clocksync.Offset // ms the local clock is ahead of the venue's

	insts *instcache.Cache[venues.Rules] // instruments-info: canonical instrument ↔ symbol, rules

	subscribed func() // test hook: called after each private-stream subscribe succeeds
}

var (
	_ venues.Venue       = (*Adapter)(nil)
	_ venues.Quoter      = (*Adapter)(nil)
	_ venues.OrderFiller = (*Adapter)(nil)
	_ venues.Amender     = (*Adapter)(nil)
)

const (
	instrumentsTTL = instcache.DefaultTTL
	maxBody        = 4 << 20
	fillsPageLimit = 100
	maxFillPages   = 50
)

// New checks the config and builds the adapter; it does no I/O.
func New(cfg Config) (*Adapter, error) {
	if err := adaptercfg.Check("bybit", cfg.Name, cfg.BaseURL, cfg.WSURL, cfg.APIKey != "" && !cfg.Secret.Empty(),
		"API key and secret"); err != nil {
		return nil, err
	}
	cfg.RecvWindow, cfg.Logger = adaptercfg.RecvWindow(cfg.RecvWindow), adaptercfg.Logger(cfg.Logger)
	a := &Adapter{cfg: cfg, log: cfg.Logger.With(zap.String("venue", cfg.Name)), http: httpx.NewClient(cfg.HTTPClient)}
	a.insts = &instcache.Cache[venues.Rules]{Load: a.loadInstruments, TTL: instrumentsTTL, Log: a.log, What: "instruments-info"}
	return a, nil
}

// Name is the configured venue name.
func (a *Adapter) Name() string { return a.cfg.Name }

// call is one REST request.
type call struct {
	op       string
	method   string
	path     string
	query    url.Values // GET
	body     any        // POST, encoded as JSON
	signed   bool
	mutating bool // an order create or cancel: a lost answer is Unknown
}

func (a *Adapter) fail(c *call, class venues.Class, status int, code int, msg string, err error) *venues.Error {
	e := &venues.Error{Venue: a.cfg.Name, Op: c.op, Class: class, Status: status, Msg: a.redact(msg), Err: err}
	if code != 0 {
		e.Code = strconv.Itoa(code)
	}
	return e
}

func (a *Adapter) redact(s string) string {
	return httpx.Redact(s, a.cfg.Secret.Reveal(), a.cfg.APIKey)
}

// do runs one REST call, decodes its result into out and classifies any failure. On 10002 (time window) it
// resyncs the clock offset once, for the caller's retry.
func (a *Adapter) do(ctx context.Context, c call, out any) (time.Time, error) {
	at, err := a.roundTrip(ctx, &c, out)
	var ve *venues.Error
	if errors.As(err, &ve) && ve.Code == strconv.Itoa(codeTimeWindow) {
		a.resyncTime(ctx)
	}
	return at, err
}

func (a *Adapter) roundTrip(ctx context.Context, c *call, out any) (time.Time, error) {
	var payload []byte
	rawQuery := ""
	if c.method == http.MethodGet {
		rawQuery = c.query.Encode()
	} else {
		b, err := json.Marshal(c.body)
		if err != nil {
			return time.Time{}, a.fail(c, venues.Rejected, 0, 0, "encode request", err)
		}
		payload = b
	}
	u := a.cfg.BaseURL + c.path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	cctx, info := httpx.WithInfo(ctx)
	req, err := http.NewRequestWithContext(cctx, c.method, u, bytes.NewReader(payload))
	if err != nil {
		return time.Time{}, a.fail(c, venues.Rejected, 0, 0, "build request", httpx.Sanitize(err))
	}
	if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.signed {
		ts := strconv.FormatInt(a.offset.VenueTime(time.Now()).UnixMilli(), 10)
		rw := strconv.FormatInt(a.cfg.RecvWindow.Milliseconds(), 10)
		signed := rawQuery
		if c.method == http.MethodPost {
			signed = string(payload)
		}
		req.Header.Set("X-BAPI-API-KEY", a.cfg.APIKey)
		req.Header.Set("X-BAPI-TIMESTAMP", ts)
		req.Header.Set("X-BAPI-RECV-WINDOW", rw)
		req.Header.Set("X-BAPI-SIGN", sign(a.cfg.Secret, ts+a.cfg.APIKey+rw+signed))
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return time.Time{}, httpx.TransportError(a.cfg.Name, c.op, info, c.mutating, classifyStatus, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return time.Time{}, httpx.TransportError(a.cfg.Name, c.op, info, c.mutating, classifyStatus, err)
	}
	var env envelope
	perr := json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusOK {
		code, msg := 0, http.StatusText(resp.StatusCode)
		if perr == nil && env.RetCode != 0 {
			code, msg = env.RetCode, env.RetMsg
		}
		return time.Time{}, a.fail(c, Classify(resp.StatusCode, code), resp.StatusCode, code, msg, nil)
	}
	if perr != nil {
		return time.Time{}, a.fail(c, httpx.Class(info, c.mutating, classifyStatus), resp.StatusCode, 0,
			"cannot parse response", perr)
	}
	if env.RetCode != codeOK {
		var under error
		if env.RetCode == codeNoOrder {
			under = venues.ErrNotFound
		}
		return time.Time{}, a.fail(c, Classify(resp.StatusCode, env.RetCode), resp.StatusCode, env.RetCode, env.RetMsg, under)
	}
	at := time.UnixMilli(env.Time).UTC()
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return at, a.fail(c, httpx.Class(info, c.mutating, classifyStatus), resp.StatusCode, 0,
				"cannot parse result", err)
		}
	}
	return at, nil
}

func (a *Adapter) resyncTime(ctx context.Context) {
	a.offset.Resync(ctx, a.log, time.Now, func(ctx context.Context) (int64, error) {
		var res struct {
			TimeNano string `json:"timeNano"`
		}
		_, err := a.roundTrip(ctx, &call{op: "time", method: http.MethodGet, path: "/v5/market/time"}, &res)
		nano, perr := strconv.ParseInt(res.TimeNano, 10, 64)
		return nano / int64(time.Millisecond), errors.Join(err, perr)
	})
}

// rulesFor returns the venue symbol's rules for a canonical instrument, loading instruments-info when stale.
func (a *Adapter) rulesFor(ctx context.Context, op, instrument string) (venues.Rules, error) {
	if _, err := symbolOf(instrument); err != nil {
		return venues.Rules{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	r, listed, err := a.insts.Lookup(ctx, op, instrument)
	if err != nil {
		return venues.Rules{}, err
	}
	if !listed {
		err := fmt.Errorf("instrument %s is not listed as a linear perpetual", instrument)
		return venues.Rules{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	return r, nil
}

// loadInstruments reads the linear perpetuals from instruments-info, all pages (the instruments cache's loader).
func (a *Adapter) loadInstruments(ctx context.Context, op string) (instcache.Set[venues.Rules], error) {
	set := instcache.NewSet[venues.Rules]()
	q := url.Values{"category": {"linear"}, "limit": {"1000"}}
	for page := 0; page < 20; page++ {
		var res listResult[instrumentJSON]
		if _, err := a.do(ctx, call{op: op, method: http.MethodGet, path: "/v5/market/instruments-info", query: q}, &res); err != nil {
			return instcache.Set[venues.Rules]{}, err
		}
		for _, in := range res.List {
			r, ok, err := toRules(in)
			if err != nil {
				a.log.Warn("skipping symbol", zap.String("symbol", in.Symbol), zap.Error(err))
				continue
			}
			if ok {
				set.Add(r.Instrument, r.Symbol, r)
			}
		}
		if res.NextPageCursor == "" {
			break
		}
		q.Set("cursor", res.NextPageCursor)
	}
	return set, nil
}

// instrumentOf maps a venue symbol to its canonical instrument; an error if the symbol is unknown.
func (a *Adapter) instrumentOf(symbol string) (string, error) {
	inst, ok := a.insts.Instrument(symbol)
	if !ok {
		return "", fmt.Errorf("symbol %q is not a known linear perpetual", symbol)
	}
	return inst, nil
}

// Rules returns the instrument's trading rules from instruments-info (cached, refreshed every 5 minutes).
func (a *Adapter) Rules(ctx context.Context, instrument string) (venues.Rules, error) {
	return a.rulesFor(ctx, "rules", instrument)
}

// Stats returns mark price, 24 h volume and turnover and the funding rate from tickers.
func (a *Adapter) Stats(ctx context.Context, instrument string) (venues.Stats, error) {
	r, err := a.rulesFor(ctx, "stats", instrument)
	if err != nil {
		return venues.Stats{}, err
	}
	c := call{op: "stats", method: http.MethodGet, path: "/v5/market/tickers",
		query: url.Values{"category": {"linear"}, "symbol": {r.Symbol}}}
	var res listResult[tickerJSON]
	at, err := a.do(ctx, c, &res)
	if err != nil {
		return venues.Stats{}, err
	}
	for _, t := range res.List {
		if t.Symbol == r.Symbol {
			s, err := toStats(instrument, t, at.UnixMilli())
			if err != nil {
				return venues.Stats{}, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
			}
			return s, nil
		}
	}
	err = fmt.Errorf("no ticker for %s", r.Symbol)
	return venues.Stats{}, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
}

// Quote reads the mark price and the best bid and ask in one request, GET /v5/market/tickers; its time is the
// answer's.
func (a *Adapter) Quote(ctx context.Context, instrument string) (venues.Quote, error) {
	r, err := a.rulesFor(ctx, "quote", instrument)
	if err != nil {
		return venues.Quote{}, err
	}
	c := call{op: "quote", method: http.MethodGet, path: "/v5/market/tickers",
		query: url.Values{"category": {"linear"}, "symbol": {r.Symbol}}}
	var res listResult[tickerJSON]
	at, err := a.do(ctx, c, &res)
	if err != nil {
		return venues.Quote{}, err
	}
	if len(res.List) != 1 || res.List[0].Symbol != r.Symbol {
		err := fmt.Errorf("want one ticker for %s, got %d", r.Symbol, len(res.List))
		return venues.Quote{}, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
	}
	q, err := toQuote(instrument, res.List[0], at)
	if err != nil {
		return venues.Quote{}, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
	}
	return q, nil
}

// Place sends a new order. Bybit answers a create with the ids only, so the order is then read back by
// orderLinkId; if that read fails, the accepted order is returned as new. A PostOnly order that would take liquidity
// is acknowledged and then cancelled by the venue: the read-back returns it ended, StatusRejected, nothing filled
// (creation is asynchronous at Bybit, so a read-back that comes first shows it New and the stream reports the end).
func (a *Adapter) Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	r, err := a.rulesFor(ctx, "place", req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	body, err := createBody(r.Symbol, r, req)
	if err != nil {
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: "place", Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	var res struct {
		OrderID     string `json:"orderId"`
		OrderLinkID string `json:"orderLinkId"`
	}
	at, err := a.do(ctx, call{op: "place", method: http.MethodPost, path: "/v5/order/create", body: body, signed: true,
		mutating: true}, &res)
	if err != nil {
		return venues.Order{}, err
	}
	o, qerr := a.Query(ctx, req.Instrument, req.ClientOrderID)
	if qerr == nil {
		return o, nil
	}
	a.log.Warn("read-back after place failed", zap.String("client_order_id", req.ClientOrderID), zap.Error(qerr))
	tif := req.TimeInForce
	if req.Type == venues.Market {
		tif = ""
	}
	return venues.Order{ClientOrderID: req.ClientOrderID, VenueOrderID: res.OrderID, Instrument: req.Instrument,
		Side: req.Side, Type: req.Type, TimeInForce: tif, Quantity: req.Quantity, Price: req.Price,
		Status: venues.StatusNew, ReduceOnly: req.ReduceOnly, UpdateTime: at}, nil
}

// orders lists orders from path (realtime or history) with q and translates them.
func (a *Adapter) orders(ctx context.Context, op, path, instrument string, q url.Values) ([]venues.Order, error) {
	c := call{op: op, method: http.MethodGet, path: path, query: q, signed: true}
	var res listResult[orderJSON]
	if _, err := a.do(ctx, c, &res); err != nil {
		return nil, err
	}
	out := make([]venues.Order, 0, len(res.List))
	for _, d := range res.List {
		o, err := toOrder(instrument, d)
		if err != nil {
			return nil, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
		}
		out = append(out, o)
	}
	return out, nil
}

// Query reads the order by orderLinkId from the realtime list (open and recent orders), then from history; an
// error wrapping venues.ErrNotFound when neither knows it.
func (a *Adapter) Query(ctx context.Context, instrument, clientOrderID string) (venues.Order, error) {
	r, err := a.rulesFor(ctx, "query", instrument)
	if err != nil {
		return venues.Order{}, err
	}
	q := url.Values{"category": {"linear"}, "symbol": {r.Symbol}, "orderLinkId": {clientOrderID}}
	for _, path := range []string{"/v5/order/realtime", "/v5/order/history"} {
		os, err := a.orders(ctx, "query", path, instrument, q)
		if err != nil {
			return venues.Order{}, err
		}
		for _, o := range os {
			if o.ClientOrderID == clientOrderID {
				return o, nil
			}
		}
	}
	return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: "query", Class: venues.Rejected,
		Msg: "order " + clientOrderID + " does not exist", Err: venues.ErrNotFound}
}

// Cancel cancels by orderLinkId and returns the order's state read back. When the venue answers 110001 (does not
// exist or too late to cancel) the order is queried: its final state is returned if it exists, an error wrapping
// venues.ErrNotFound if it does not.
func (a *Adapter) Cancel(ctx context.Context, instrument, clientOrderID string) (venues.Order, error) {
	r, err := a.rulesFor(ctx, "cancel", instrument)
	if err != nil {
		return venues.Order{}, err
	}
	body := map[string]string{"category": "linear", "symbol": r.Symbol, "orderLinkId": clientOrderID}
	_, err = a.do(ctx, call{op: "cancel", method: http.MethodPost, path: "/v5/order/cancel", body: body, signed: true,
		mutating: true}, nil)
	if err != nil && !venues.IsNotFound(err) {
		return venues.Order{}, err
	}
	return a.Query(ctx, instrument, clientOrderID)
}

// Amend changes an open order's qty and/or price by orderLinkId (POST /v5/order/amend; only what changes is sent)
// and returns the order read back. When the venue answers 110001 (does not exist or too late to replace) the
// order is queried: an order that has ended is a Rejected error, one that does not exist wraps venues.ErrNotFound.
// If the amendment was accepted but the read-back fails, the error is Unknown: the order's state must be queried.
func (a *Adapter) Amend(ctx context.Context, req venues.AmendRequest) (venues.Order, error) {
	const op = "amend"
	r, err := a.rulesFor(ctx, op, req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	body, err := amendBody(r, req)
	if err != nil {
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	_, err = a.do(ctx, call{op: op, method: http.MethodPost, path: "/v5/order/amend", body: body, signed: true,
		mutating: true}, nil)
	if err != nil {
		if !venues.IsNotFound(err) {
			return venues.Order{}, err
		}
		o, qerr := a.Query(ctx, req.Instrument, req.ClientOrderID)
		if qerr != nil {
			return venues.Order{}, qerr
		}
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected,
			Code: strconv.Itoa(codeNoOrder), Msg: fmt.Sprintf("order %s is %s: it cannot be amended", o.ClientOrderID, o.Status)}
	}
	o, err := a.Query(ctx, req.Instrument, req.ClientOrderID)
	if err != nil {
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Unknown,
			Msg: "amended, but the order could not be read back", Err: err}
	}
	return o, nil
}

// OpenOrders lists the orders still working on an instrument.
func (a *Adapter) OpenOrders(ctx context.Context, instrument string) ([]venues.Order, error) {
	r, err := a.rulesFor(ctx, "open_orders", instrument)
	if err != nil {
		return nil, err
	}
	var all []venues.Order
	q := url.Values{"category": {"linear"}, "symbol": {r.Symbol}, "openOnly": {"0"}, "limit": {"50"}}
	for page := 0; page < 20; page++ {
		c := call{op: "open_orders", method: http.MethodGet, path: "/v5/order/realtime", query: q, signed: true}
		var res listResult[orderJSON]
		if _, err := a.do(ctx, c, &res); err != nil {
			return nil, err
		}
		for _, d := range res.List {
			o, err := toOrder(instrument, d)
			if err != nil {
				return nil, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
			}
			if !o.Status.Terminal() {
				all = append(all, o)
			}
		}
		if res.NextPageCursor == "" {
			break
		}
		q.Set("cursor", res.NextPageCursor)
	}
	return all, nil
}

// Fills returns the account's executions on an instrument since sinceMillis (all pages), oldest first.
func (a *Adapter) Fills(ctx context.Context, instrument string, sinceMillis int64) ([]venues.Fill, error) {
	r, err := a.rulesFor(ctx, "fills", instrument)
	if err != nil {
		return nil, err
	}
	return a.executions(ctx, "fills", instrument, url.Values{"category": {"linear"}, "symbol": {r.Symbol}}, sinceMillis, nil)
}

// OrderFills returns one order's executions since sinceMillis: /v5/execution/list filtered by orderLinkId (by
// orderId when no client order id is given). An execution of another order in the answer is an error.
func (a *Adapter) OrderFills(ctx context.Context, instrument, clientOrderID, venueOrderID string, sinceMillis int64) ([]venues.Fill, error) {
	const op = "order_fills"
	r, err := a.rulesFor(ctx, op, instrument)
	if err != nil {
		return nil, err
	}
	q := url.Values{"category": {"linear"}, "symbol": {r.Symbol}}
	switch {
	case clientOrderID != "":
		q.Set("orderLinkId", clientOrderID)
	case venueOrderID != "":
		q.Set("orderId", venueOrderID)
	default:
		err := errors.New("neither a client nor a venue order id")
		return nil, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	return a.executions(ctx, op, instrument, q, sinceMillis, func(f *venues.Fill) error {
		if clientOrderID != "" && f.ClientOrderID != clientOrderID || venueOrderID != "" && f.VenueOrderID != venueOrderID {
			return fmt.Errorf("execution %s of order %s/%s in the executions of order %s/%s", f.TradeID, f.ClientOrderID,
				f.VenueOrderID, clientOrderID, venueOrderID)
		}
		return nil
	})
}

// executions reads every page of /v5/execution/list with q since sinceMillis, checks each fill with check (if not
// nil) and returns them oldest first.
func (a *Adapter) executions(ctx context.Context, op, instrument string, q url.Values, sinceMillis int64,
	check func(*venues.Fill) error) ([]venues.Fill, error) {
	q.Set("limit", strconv.Itoa(fillsPageLimit))
	if sinceMillis > 0 {
		q.Set("startTime", strconv.FormatInt(sinceMillis, 10))
	}
	var out []venues.Fill
	for page := 0; ; page++ {
		if page == maxFillPages {
			// Stopping here would drop the oldest executions silently; recovery relies on having all of them.
			err := fmt.Errorf("more than %d pages of executions since %d", maxFillPages, sinceMillis)
			return nil, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Retryable, Msg: err.Error(), Err: err}
		}
		c := call{op: op, method: http.MethodGet, path: "/v5/execution/list", query: q, signed: true}
		var res listResult[execJSON]
		if _, err := a.do(ctx, c, &res); err != nil {
			return nil, err
		}
		for _, d := range res.List {
			f, ok, err := toFill(a.cfg.Name, instrument, d)
			if err == nil && ok && check != nil {
				err = check(&f)
			}
			if err != nil {
				return nil, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
			}
			if ok {
				out = append(out, f)
			}
		}
		if res.NextPageCursor == "" {
			break
		}
		q.Set("cursor", res.NextPageCursor)
	}
	slices.Reverse(out) // the venue lists newest first
	return out, nil
}

// Positions returns the account's non-zero USDT linear positions, signed from Bybit's side and size.
func (a *Adapter) Positions(ctx context.Context) ([]venues.Position, error) {
	if err := a.insts.EnsureLoaded(ctx, "positions"); err != nil {
		return nil, err
	}
	c := call{op: "positions", method: http.MethodGet, path: "/v5/position/list",
		query: url.Values{"category": {"linear"}, "settleCoin": {"USDT"}, "limit": {"200"}}, signed: true}
	var res listResult[positionJSON]
	if _, err := a.do(ctx, c, &res); err != nil {
		return nil, err
	}
	var out []venues.Position
	for _, d := range res.List {
		inst, err := a.instrumentOf(d.Symbol)
		if err != nil {
			return nil, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
		}
		p, err := toPosition(a.cfg.Name, inst, d)
		if err != nil {
			return nil, a.fail(&c, venues.Rejected, http.StatusOK, 0, err.Error(), err)
		}
		if !p.Quantity.IsZero() {
			out = append(out, p)
		}
	}
	return out, nil
}
