package okx

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
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

// Config configures one OKX venue.
type Config struct {
	Name       string        // venue name
	BaseURL    string        // REST base, e.g. the mock's URL() or https://www.okx.com
	WSURL      string        // private websocket, e.g. the mock's WSURL() or wss://ws.okx.com:8443/ws/v5/private
	APIKey     string        //
	Secret     secret.String //
	Passphrase secret.String //
	HTTPClient *http.Client  // nil: a client with a 10 s timeout
	Logger     *zap.Logger
}

// Adapter is a venues.Venue speaking OKX v5 swaps. Safe for concurrent use.
type Adapter struct {
	cfg    Config
	log    *zap.Logger
	http   *http.Client
	now    func() time.Time // wall clock for request timestamps; tests skew it
	offset clocksync.Offset // ms our clock is ahead of the venue's, learned on a timestamp error

	insts *instcache.Cache[instrument] // public instruments: canonical instrument ↔ instId, contract terms
}

var (
	_ venues.Venue       = (*Adapter)(nil)
	_ venues.Quoter      = (*Adapter)(nil)
	_ venues.OrderFiller = (*Adapter)(nil)
	_ venues.Amender     = (*Adapter)(nil)
)

const (
	instrumentsTTL = instcache.DefaultTTL
	pageLimit      = 100
	tsLayout       = "2006-01-02T15:04:05.000Z"
	maxBody        = 4 << 20
)

// clOrdIDRe is what OKX accepts as clOrdId.
var clOrdIDRe = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)

// New checks the config and builds the adapter; it does no I/O.
func New(cfg Config) (*Adapter, error) {
	if err := adaptercfg.Check("okx", cfg.Name, cfg.BaseURL, cfg.WSURL,
		cfg.APIKey != "" && !cfg.Secret.Empty() && !cfg.Passphrase.Empty(), "API key, secret and passphrase"); err != nil {
		return nil, err
	}
	cfg.Logger = adaptercfg.Logger(cfg.Logger)
	a := &Adapter{cfg: cfg, log: cfg.Logger.With(zap.String("venue", cfg.Name)), http: httpx.NewClient(cfg.HTTPClient),
		now: time.Now}
	a.insts = &instcache.Cache[instrument]{Load: a.loadInstruments, TTL: instrumentsTTL, Log: a.log, What: "instruments"}
	return a, nil
}

// Name is the configured venue name.
func (a *Adapter) Name() string { return a.cfg.Name }

// venueNow is our best estimate of the venue's clock.
func (a *Adapter) venueNow() time.Time {
	return a.offset.VenueTime(a.now())
}

func (a *Adapter) sign(prehash string) string {
	m := hmac.New(sha256.New, []byte(a.cfg.Secret.Reveal()))
	m.Write([]byte(prehash))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (a *Adapter) reject(op string, err error) error {
	return &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
}

// badPayload is the error for a 2xx answer whose content the adapter cannot translate: Unknown for the mutating
// calls (the venue acted), Rejected for reads.
func (a *Adapter) badPayload(op string, mutating bool, err error) error {
	return httpx.BadPayload(a.cfg.Name, op, mutating, err)
}

// envelope is every OKX answer.
type envelope struct {
	Code string          `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// sResult is a per-order result row of place and cancel.
type sResult struct {
	ClOrdID string `json:"clOrdId"`
	OrdID   string `json:"ordId"`
	SCode   string `json:"sCode"`
	SMsg    string `json:"sMsg"`
}

// call does one REST call and decodes data into out. It returns a classified *venues.Error on any failure; a
// per-order failure (code "1" with data[0].sCode) carries sCode as the error code.
func (a *Adapter) call(ctx context.Context, op, method, path string, query url.Values, body any, signed, mutating bool, out any) error {
	requestPath := path
	if len(query) > 0 {
		requestPath += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return a.reject(op, fmt.Errorf("encode request: %w", err))
		}
	}
	cctx, info := httpx.WithInfo(ctx)
	req, err := http.NewRequestWithContext(cctx, method, a.cfg.BaseURL+requestPath, bytes.NewReader(payload))
	if err != nil {
		return a.reject(op, fmt.Errorf("build request: %w", httpx.Sanitize(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if signed {
		ts := a.venueNow().UTC().Format(tsLayout)
		req.Header.Set("OK-ACCESS-KEY", a.cfg.APIKey)
		req.Header.Set("OK-ACCESS-SIGN", a.sign(ts+method+requestPath+string(payload)))
		req.Header.Set("OK-ACCESS-TIMESTAMP", ts)
		req.Header.Set("OK-ACCESS-PASSPHRASE", a.cfg.Passphrase.Reveal())
	}
	byStatus := func(status int) venues.Class { return Classify(status, "") }
	resp, err := a.http.Do(req)
	if err != nil {
		return httpx.TransportError(a.cfg.Name, op, info, mutating, byStatus, err)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	if err != nil {
		return httpx.TransportError(a.cfg.Name, op, info, mutating, byStatus, err)
	}
	status := resp.StatusCode
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Code == "" {
		if status >= 200 && status < 300 {
			return a.badPayload(op, mutating, fmt.Errorf("envelope: %w", errors.Join(err, errors.New("no code"))))
		}
		return &venues.Error{Venue: a.cfg.Name, Op: op, Status: status, Class: Classify(status, ""), Msg: "unparseable error body"}
	}
	code, msg := env.Code, env.Msg
	if code == "1" || code == "2" || (code == "0" && mutating) {
		var rows []sResult
		if err := json.Unmarshal(env.Data, &rows); err == nil && len(rows) == 1 && rows[0].SCode != "" && rows[0].SCode != "0" {
			code, msg = rows[0].SCode, rows[0].SMsg
		}
	}
	if code != "0" {
		e := &venues.Error{Venue: a.cfg.Name, Op: op, Status: status, Class: Classify(status, code), Code: code, Msg: msg}
		if notFound(code) {
			e.Err = venues.ErrNotFound
		}
		if code == "50102" || code == "50112" {
			a.resyncTime(ctx)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return a.badPayload(op, mutating, fmt.Errorf("data: %w", err))
		}
	}
	return nil
}

// resyncTime learns the offset of the venue's clock from /api/v5/public/time.
func (a *Adapter) resyncTime(ctx context.Context) {
	a.offset.Resync(ctx, a.log, a.now, func(ctx context.Context) (int64, error) {
		var rows []struct {
			Ts string `json:"ts"`
		}
		if err := a.call(ctx, "time", http.MethodGet, "/api/v5/public/time", nil, nil, false, false, &rows); err != nil || len(rows) != 1 {
			return 0, err
		}
		return strconv.ParseInt(rows[0].Ts, 10, 64)
	})
}

// instrument returns the instrument of a canonical name, loading the instruments when stale.
func (a *Adapter) instrument(ctx context.Context, op, inst string) (instrument, error) {
	if _, err := instIDFromInstrument(inst); err != nil {
		return instrument{}, a.reject(op, err)
	}
	in, listed, err := a.insts.Lookup(ctx, op, inst)
	if err != nil {
		return instrument{}, err
	}
	if !listed {
		return instrument{}, a.reject(op, fmt.Errorf("instrument %s is not listed as a linear swap", inst))
	}
	return in, nil
}

// loadInstruments reads the live swaps (the instruments cache's loader).
func (a *Adapter) loadInstruments(ctx context.Context, op string) (instcache.Set[instrument], error) {
	var rows []instrumentRow
	if err := a.call(ctx, op, http.MethodGet, "/api/v5/public/instruments", url.Values{"instType": {"SWAP"}}, nil, false, false, &rows); err != nil {
		return instcache.Set[instrument]{}, err
	}
	set := instcache.NewSet[instrument]()
	for _, r := range rows {
		if r.State != "" && r.State != "live" {
			continue
		}
		in, err := toInstrument(r)
		if err != nil {
			a.log.Debug("skipping instrument", zap.String("instId", r.InstID), zap.Error(err))
			continue
		}
		set.Add(in.rules.Instrument, r.InstID, in)
	}
	return set, nil
}

// Rules returns the instrument's rules in base units (cached, refreshed every 5 minutes).
func (a *Adapter) Rules(ctx context.Context, inst string) (venues.Rules, error) {
	in, err := a.instrument(ctx, "rules", inst)
	return in.rules, err
}

// Stats returns mark price, funding and 24 h volume in base units.
func (a *Adapter) Stats(ctx context.Context, inst string) (venues.Stats, error) {
	in, err := a.instrument(ctx, "stats", inst)
	if err != nil {
		return venues.Stats{}, err
	}
	id := in.rules.Symbol
	var t []tickerRow
	var m []markRow
	var f []fundingRow
	if err := a.call(ctx, "stats", http.MethodGet, "/api/v5/market/ticker", url.Values{"instId": {id}}, nil, false, false, &t); err != nil {
		return venues.Stats{}, err
	}
	if err := a.call(ctx, "stats", http.MethodGet, "/api/v5/public/mark-price", url.Values{"instType": {"SWAP"}, "instId": {id}}, nil, false, false, &m); err != nil {
		return venues.Stats{}, err
	}
	if err := a.call(ctx, "stats", http.MethodGet, "/api/v5/public/funding-rate", url.Values{"instId": {id}}, nil, false, false, &f); err != nil {
		return venues.Stats{}, err
	}
	if len(t) != 1 || len(m) != 1 || len(f) != 1 {
		return venues.Stats{}, a.badPayload("stats", false, fmt.Errorf("want one ticker, mark price and funding rate for %s", id))
	}
	s, err := toStats(in, t[0], m[0], f[0])
	if err != nil {
		return venues.Stats{}, a.badPayload("stats", false, err)
	}
	return s, nil
}

// Quote reads the mark price in one request, GET /api/v5/public/mark-price; it gives no bid or ask, so they are
// zero.
func (a *Adapter) Quote(ctx context.Context, inst string) (venues.Quote, error) {
	in, err := a.instrument(ctx, "quote", inst)
	if err != nil {
		return venues.Quote{}, err
	}
	id := in.rules.Symbol
	var m []markRow
	if err := a.call(ctx, "quote", http.MethodGet, "/api/v5/public/mark-price", url.Values{"instType": {"SWAP"}, "instId": {id}}, nil, false, false, &m); err != nil {
		return venues.Quote{}, err
	}
	if len(m) != 1 {
		return venues.Quote{}, a.badPayload("quote", false, fmt.Errorf("want one mark price for %s, got %d", id, len(m)))
	}
	q, err := toQuote(in, m[0])
	if err != nil {
		return venues.Quote{}, a.badPayload("quote", false, err)
	}
	return q, nil
}

// Touch reads the best bid and ask in one request, GET /api/v5/market/ticker (venues.Toucher).
func (a *Adapter) Touch(ctx context.Context, inst string) (venues.Quote, error) {
	in, err := a.instrument(ctx, "touch", inst)
	if err != nil {
		return venues.Quote{}, err
	}
	id := in.rules.Symbol
	var t []tickerRow
	if err := a.call(ctx, "touch", http.MethodGet, "/api/v5/market/ticker", url.Values{"instId": {id}}, nil, false, false, &t); err != nil {
		return venues.Quote{}, err
	}
	if len(t) != 1 {
		return venues.Quote{}, a.badPayload("touch", false, fmt.Errorf("want one ticker for %s, got %d", id, len(t)))
	}
	q, err := withTouch(venues.Quote{Instrument: in.rules.Instrument}, in, t[0])
	if err != nil {
		return venues.Quote{}, a.badPayload("touch", false, err)
	}
	return q, nil
}

var _ venues.Toucher = (*Adapter)(nil)

// placeRequest is POST /api/v5/trade/order's body.
type placeRequest struct {
	InstID     string `json:"instId"`
	TdMode     string `json:"tdMode"`
	Side       string `json:"side"`
	OrdType    string `json:"ordType"`
	Sz         string `json:"sz"`
	Px         string `json:"px,omitempty"`
	ClOrdID    string `json:"clOrdId"`
	ReduceOnly bool   `json:"reduceOnly,omitempty"`
}

// Place converts the quantity to contracts (exactly, or a Rejected error before anything is sent), sends the
// order in cross margin, then queries it for its state after matching. If that query fails the order is
// returned as new: it exists, and its fills arrive on the stream or by query. A post-only order goes as ordType
// post_only; one that would take liquidity is placed and then canceled by OKX (cancelSource 31), so the query
// returns it ended, StatusRejected, nothing filled.
func (a *Adapter) Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	in, err := a.instrument(ctx, "place", req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	body, err := buildPlace(in, req)
	if err != nil {
		return venues.Order{}, a.reject("place", err)
	}
	var rows []sResult
	if err := a.call(ctx, "place", http.MethodPost, "/api/v5/trade/order", nil, body, true, true, &rows); err != nil {
		return venues.Order{}, err
	}
	if len(rows) != 1 || rows[0].ClOrdID != req.ClientOrderID {
		return venues.Order{}, a.badPayload("place", true, fmt.Errorf("place answer %+v does not echo clOrdId %s", rows, req.ClientOrderID))
	}
	o, err := a.Query(ctx, req.Instrument, req.ClientOrderID)
	if err != nil {
		a.log.Warn("order placed but not queried; reporting it as new", zap.String("clOrdId", req.ClientOrderID), zap.Error(err))
		return venues.Order{ClientOrderID: req.ClientOrderID, VenueOrderID: rows[0].OrdID, Instrument: req.Instrument,
			Side: req.Side, Type: req.Type, TimeInForce: req.TimeInForce, Quantity: req.Quantity, Price: req.Price,
			Status: venues.StatusNew, ReduceOnly: req.ReduceOnly, UpdateTime: a.now().UTC()}, nil
	}
	return o, nil
}

// buildPlace validates and translates an order request; it is where quantities become contracts.
func buildPlace(in instrument, req venues.OrderRequest) (placeRequest, error) {
	if !clOrdIDRe.MatchString(req.ClientOrderID) {
		return placeRequest{}, fmt.Errorf("client order id %q is not 1-32 alphanumerics", req.ClientOrderID)
	}
	if req.Side != venues.Buy && req.Side != venues.Sell {
		return placeRequest{}, fmt.Errorf("side %q", req.Side)
	}
	ordType, err := ordTypeToVenue(req.Type, req.TimeInForce)
	if err != nil {
		return placeRequest{}, err
	}
	sz, err := in.toContracts(req.Quantity)
	if err != nil {
		return placeRequest{}, err
	}
	p := placeRequest{InstID: in.rules.Symbol, TdMode: "cross", Side: string(req.Side), OrdType: ordType,
		Sz: sz.String(), ClOrdID: req.ClientOrderID, ReduceOnly: req.ReduceOnly}
	if req.Type == venues.Limit {
		if !req.Price.IsPositive() || !in.rules.OnTick(req.Price) {
			return placeRequest{}, fmt.Errorf("limit price %s is not a positive multiple of tick %s", req.Price, in.rules.TickSize)
		}
		p.Px = req.Price.String()
	}
	return p, nil
}

// Query returns the order with the given client order id; 51603 wraps venues.ErrNotFound.
func (a *Adapter) Query(ctx context.Context, inst, clientOrderID string) (venues.Order, error) {
	in, err := a.instrument(ctx, "query", inst)
	if err != nil {
		return venues.Order{}, err
	}
	var rows []orderRow
	q := url.Values{"instId": {in.rules.Symbol}, "clOrdId": {clientOrderID}}
	if err := a.call(ctx, "query", http.MethodGet, "/api/v5/trade/order", q, nil, true, false, &rows); err != nil {
		return venues.Order{}, err
	}
	if len(rows) != 1 {
		return venues.Order{}, a.badPayload("query", false, fmt.Errorf("%d orders for clOrdId %s", len(rows), clientOrderID))
	}
	o, err := toOrder(in, rows[0])
	if err != nil {
		return venues.Order{}, a.badPayload("query", false, err)
	}
	return o, nil
}

// Cancel cancels by client order id and returns the order's final state (queried: OKX's cancel answer carries
// none). When the venue says the order is final or unknown (51400-51402), the order is queried: its state if it
// exists, an error wrapping venues.ErrNotFound if it does not.
func (a *Adapter) Cancel(ctx context.Context, inst, clientOrderID string) (venues.Order, error) {
	in, err := a.instrument(ctx, "cancel", inst)
	if err != nil {
		return venues.Order{}, err
	}
	body := map[string]string{"instId": in.rules.Symbol, "clOrdId": clientOrderID}
	var rows []sResult
	err = a.call(ctx, "cancel", http.MethodPost, "/api/v5/trade/cancel-order", nil, body, true, true, &rows)
	var ve *venues.Error
	if err != nil && !(errors.As(err, &ve) && cancelFailedFinal(ve.Code)) {
		return venues.Order{}, err
	}
	return a.Query(ctx, inst, clientOrderID)
}

// amendRequest is POST /api/v5/trade/amend-order's body.
type amendRequest struct {
	InstID  string `json:"instId"`
	ClOrdID string `json:"clOrdId"`
	NewSz   string `json:"newSz,omitempty"`
	NewPx   string `json:"newPx,omitempty"`
}

// Amend changes an open order's size and/or price by clOrdId (amend-order; only what changes is sent), the
// quantity converted to contracts exactly or refused before anything is sent, and returns the order read back.
// When the venue says the order is not open or unknown (51503, 51509, 51510) the order is queried: an order that
// has ended is a Rejected error, one that does not exist wraps venues.ErrNotFound. If the amendment was accepted
// but the read-back fails, the error is Unknown: the order's state must be queried.
func (a *Adapter) Amend(ctx context.Context, req venues.AmendRequest) (venues.Order, error) {
	const op = "amend"
	in, err := a.instrument(ctx, op, req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	body, err := buildAmend(in, req)
	if err != nil {
		return venues.Order{}, a.reject(op, err)
	}
	var rows []sResult
	err = a.call(ctx, op, http.MethodPost, "/api/v5/trade/amend-order", nil, body, true, true, &rows)
	var ve *venues.Error
	if err != nil {
		if !errors.As(err, &ve) || !amendFailedFinal(ve.Code) {
			return venues.Order{}, err
		}
		o, qerr := a.Query(ctx, req.Instrument, req.ClientOrderID)
		if qerr != nil {
			return venues.Order{}, qerr
		}
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Status: ve.Status,
			Code: ve.Code, Msg: fmt.Sprintf("order %s is %s: it cannot be amended", o.ClientOrderID, o.Status)}
	}
	if len(rows) != 1 || rows[0].ClOrdID != req.ClientOrderID {
		return venues.Order{}, a.badPayload(op, true, fmt.Errorf("amend answer %+v does not echo clOrdId %s", rows, req.ClientOrderID))
	}
	o, err := a.Query(ctx, req.Instrument, req.ClientOrderID)
	if err != nil {
		return venues.Order{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Unknown,
			Msg: "amended, but the order could not be read back", Err: err}
	}
	return o, nil
}

// buildAmend validates and translates an amendment; the new quantity becomes contracts exactly.
func buildAmend(in instrument, req venues.AmendRequest) (amendRequest, error) {
	if !clOrdIDRe.MatchString(req.ClientOrderID) {
		return amendRequest{}, fmt.Errorf("client order id %q is not 1-32 alphanumerics", req.ClientOrderID)
	}
	if req.Quantity.IsZero() && req.Price.IsZero() {
		return amendRequest{}, errors.New("an amendment changes the quantity, the price or both")
	}
	b := amendRequest{InstID: in.rules.Symbol, ClOrdID: req.ClientOrderID}
	if !req.Quantity.IsZero() {
		sz, err := in.toContracts(req.Quantity)
		if err != nil {
			return amendRequest{}, err
		}
		b.NewSz = sz.String()
	}
	if !req.Price.IsZero() {
		if !req.Price.IsPositive() || !in.rules.OnTick(req.Price) {
			return amendRequest{}, fmt.Errorf("price %s is not a positive multiple of tick %s", req.Price, in.rules.TickSize)
		}
		b.NewPx = req.Price.String()
	}
	return b, nil
}

// OpenOrders lists the working orders on an instrument (orders-pending, paged).
func (a *Adapter) OpenOrders(ctx context.Context, inst string) ([]venues.Order, error) {
	in, err := a.instrument(ctx, "open_orders", inst)
	if err != nil {
		return nil, err
	}
	var out []venues.Order
	for after := ""; ; {
		q := url.Values{"instType": {"SWAP"}, "instId": {in.rules.Symbol}, "limit": {strconv.Itoa(pageLimit)}}
		if after != "" {
			q.Set("after", after)
		}
		var rows []orderRow
		if err := a.call(ctx, "open_orders", http.MethodGet, "/api/v5/trade/orders-pending", q, nil, true, false, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			o, err := toOrder(in, r)
			if err != nil {
				return nil, a.badPayload("open_orders", false, err)
			}
			out = append(out, o)
		}
		if len(rows) < pageLimit {
			return out, nil
		}
		after = rows[len(rows)-1].OrdID
	}
}

// Fills returns the account's fills on an instrument since sinceMillis (trade/fills: the last 3 days), paged by
// billId, oldest first.
func (a *Adapter) Fills(ctx context.Context, inst string, sinceMillis int64) ([]venues.Fill, error) {
	in, err := a.instrument(ctx, "fills", inst)
	if err != nil {
		return nil, err
	}
	return a.fills(ctx, "fills", in, "", sinceMillis)
}

// OrderFills returns one order's fills since sinceMillis: trade/fills filtered by ordId (venueOrderID). Without
// venueOrderID the order is first queried by clOrdId for its ordId. A fill of another order in the answer is an
// error.
func (a *Adapter) OrderFills(ctx context.Context, inst, clientOrderID, venueOrderID string, sinceMillis int64) ([]venues.Fill, error) {
	const op = "order_fills"
	in, err := a.instrument(ctx, op, inst)
	if err != nil {
		return nil, err
	}
	if venueOrderID == "" {
		if clientOrderID == "" {
			return nil, a.reject(op, errors.New("neither a client nor a venue order id"))
		}
		o, err := a.Query(ctx, inst, clientOrderID)
		if err != nil {
			return nil, err
		}
		venueOrderID = o.VenueOrderID
	}
	out, err := a.fills(ctx, op, in, venueOrderID, sinceMillis)
	if err != nil {
		return nil, err
	}
	for _, f := range out {
		if f.VenueOrderID != venueOrderID || clientOrderID != "" && f.ClientOrderID != clientOrderID {
			return nil, a.badPayload(op, false, fmt.Errorf("fill %s of order %s/%s in the fills of order %s/%s", f.TradeID,
				f.ClientOrderID, f.VenueOrderID, clientOrderID, venueOrderID))
		}
	}
	return out, nil
}

// fills reads every page of trade/fills on in since sinceMillis, of one order if ordID is not empty, oldest first.
func (a *Adapter) fills(ctx context.Context, op string, in instrument, ordID string, sinceMillis int64) ([]venues.Fill, error) {
	var out []venues.Fill
	for after := ""; ; {
		q := url.Values{"instType": {"SWAP"}, "instId": {in.rules.Symbol}, "limit": {strconv.Itoa(pageLimit)}}
		if ordID != "" {
			q.Set("ordId", ordID)
		}
		if sinceMillis > 0 {
			q.Set("begin", strconv.FormatInt(sinceMillis, 10))
		}
		if after != "" {
			q.Set("after", after)
		}
		var rows []fillRow
		if err := a.call(ctx, op, http.MethodGet, "/api/v5/trade/fills", q, nil, true, false, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			f, err := toFill(a.cfg.Name, in, r)
			if err != nil {
				return nil, a.badPayload(op, false, err)
			}
			out = append(out, f)
		}
		if len(rows) < pageLimit {
			break
		}
		if after = rows[len(rows)-1].BillID; after == "" {
			return nil, a.badPayload(op, false, errors.New("fill without billId"))
		}
	}
	slices.Reverse(out) // newest first on the wire
	return out, nil
}

// Positions returns the account's non-zero swap positions in base units. A position the adapter cannot map (an
// unlisted instrument, hedge mode) is an error: hiding exposure from the reconcile loop is worse than failing.
func (a *Adapter) Positions(ctx context.Context) ([]venues.Position, error) {
	if err := a.insts.Ensure(ctx, "positions"); err != nil {
		return nil, err
	}
	var rows []positionRow
	if err := a.call(ctx, "positions", http.MethodGet, "/api/v5/account/positions", url.Values{"instType": {"SWAP"}}, nil, true, false, &rows); err != nil {
		return nil, err
	}
	var out []venues.Position
	for _, r := range rows {
		if r.Pos == "" || r.Pos == "0" {
			continue
		}
		in, ok := a.insts.ByVenue(r.InstID)
		if !ok {
			return nil, a.badPayload("positions", false, fmt.Errorf("position in unmapped instrument %s", r.InstID))
		}
		p, err := toPosition(a.cfg.Name, in, r)
		if err != nil {
			return nil, a.badPayload("positions", false, err)
		}
		if !p.Quantity.IsZero() {
			out = append(out, p)
		}
	}
	return out, nil
}
