package bybit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// Book is the simulated-market venue the mock serves and trades against; *market.Venue satisfies it.
type Book = exchange.Venue

// Config configures one mock venue (one account).
type Config struct {
	Name   string // venue name, e.g. "c"
	Book   Book
	Symbol string // default "BTCUSDT"
	// Instrument rules; zero values take Bybit's BTCUSDT linear rules: priceFilter.tickSize 0.10,
	// lotSizeFilter.qtyStep 0.001, minOrderQty 0.001, maxOrderQty 1190, maxMktOrderQty 119, minNotionalValue 5.
	TickSize, QtyStep, MinOrderQty, MaxOrderQty, MaxMktOrderQty, MinNotionalValue decimal.Decimal
	TakerFeeBps, MakerFeeBps                                                      float64 // e.g. 5.5 and 2
	APIKey                                                                        string
	APISecret                                                                     string
	Leverage                                                                      int             // default 10
	Balance                                                                       decimal.Decimal // USDT wallet, default 1,000,000
	Clock                                                                         clock.Clock     // simulated clock for event times; default wall
	// DisableRateLimits turns off the per-UID limits (order create/cancel 10/s, other private calls 50/s) and
	// the IP limit (600 per 5 s), on by default.
	DisableRateLimits bool
	// MatchInterval is the wall period of the resting-order sweep, default 50ms.
	MatchInterval time.Duration
	Logger        *zap.Logger
	// More lists further linear symbols on the same account, each with its own book and rules; Symbol stays the
	// first listed.
	More []Instrument
}

// Instrument is a linear symbol the mock lists beside Config.Symbol, with its own book and rules (all required).
// The book's executions must fall on the QtyStep grid (configure the market venue's LotSize as QtyStep): one off
// it is logged and skipped, as the account trades the symbol with QtyStep as its lot.
type Instrument struct {
	Symbol                                                                        string
	Book                                                                          Book
	TickSize, QtyStep, MinOrderQty, MaxOrderQty, MaxMktOrderQty, MinNotionalValue decimal.Decimal
}

// check reports what is wrong with in, listed beside main (Config.Symbol) and the symbols in seen.
func (in *Instrument) check(main string, seen map[string]bool) error {
	switch {
	case in.Symbol == "":
		return errors.New("empty symbol")
	case in.Symbol == main:
		return errors.New("the symbol is Config.Symbol")
	case seen[in.Symbol]:
		return errors.New("symbol listed twice")
	case in.Book == nil:
		return errors.New("no book")
	}
	for _, f := range []struct {
		name string
		v    decimal.Decimal
	}{{"tick size", in.TickSize}, {"qty step", in.QtyStep}, {"min order qty", in.MinOrderQty},
		{"max order qty", in.MaxOrderQty}, {"max market order qty", in.MaxMktOrderQty}} {
		if !f.v.IsPositive() {
			return fmt.Errorf("%s must be positive, got %s", f.name, f.v)
		}
	}
	if in.MinNotionalValue.IsNegative() {
		return fmt.Errorf("min notional value must not be negative, got %s", in.MinNotionalValue)
	}
	return nil
}

func (c *Config) defaults() error {
	err := exchange.Settings{Mock: "bybit mock", HasBook: c.Book != nil, HasCredentials: c.APIKey != "" && c.APISecret != "",
		Credentials: "API key and secret", Balance: &c.Balance, Leverage: &c.Leverage, DefaultLeverage: 10, Clock: &c.Clock,
		MatchInterval: &c.MatchInterval, Logger: &c.Logger}.Defaults()
	if err != nil {
		return err
	}
	exchange.Default(&c.TickSize, "0.10")
	exchange.Default(&c.QtyStep, "0.001")
	exchange.Default(&c.MinOrderQty, "0.001")
	exchange.Default(&c.MaxOrderQty, "1190")
	exchange.Default(&c.MaxMktOrderQty, "119")
	exchange.Default(&c.MinNotionalValue, "5")
	if c.Symbol == "" {
		c.Symbol = "BTCUSDT"
	}
	c.More = slices.Clone(c.More)
	seen := map[string]bool{}
	for i := range c.More {
		in := &c.More[i]
		if err := in.check(c.Symbol, seen); err != nil {
			return fmt.Errorf("bybit mock: instrument %d (%q): %w", i, in.Symbol, err)
		}
		seen[in.Symbol] = true
	}
	return nil
}

// Rate limits, per Bybit's v5 rate-limit page and the calibration (10 orders/s).
const (
	orderLimitPerSec   = 10  // /v5/order/create, /v5/order/amend, /v5/order/cancel
	privateLimitPerSec = 50  // other private endpoints
	ipLimitPer5s       = 600 // every request, HTTP 403 when over
	defaultRecvWindow  = 5000
)

// Server is one mock venue. Several Servers in one process share nothing.
type Server struct {
	cfg    Config
	log    *zap.Logger
	faults mockutil.Faults
	acct   *account
	ipLim  *mockutil.Window

	mu     sync.Mutex
	limits map[string]*mockutil.Window // per endpoint path
	life   mockutil.Lifecycle
	tail   mockutil.Tail[*apiError]
}

// New builds a server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With(zap.String("mock", "bybit"), zap.String("venue", cfg.Name)),
		ipLim: mockutil.NewWindow(5 * time.Second), limits: map[string]*mockutil.Window{}}
	s.acct = newAccount(&s.cfg)
	s.acct.faults = &s.faults
	s.faults.OnDropUserStreams(func() { s.acct.hub.Cut(nil) })
	s.tail = mockutil.Tail[*apiError]{Faults: &s.faults, Done: s.life.Done(), Sweep: s.acct.ex.Sweep, Before: errServer,
		After: errServer, Fail: s.writeErr, OK: func(w http.ResponseWriter, v any) { s.write(w, http.StatusOK, 0, "OK", v) }}
	return s, nil
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until Close.
func (s *Server) Start(addr string) error {
	return s.life.Start("bybit mock", addr, s.routes(), s.log, s.cfg.MatchInterval, s.acct.ex.Sweep)
}

// URL is the REST base URL, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return "http://" + s.addr() }

// WSURL is the private stream URL, e.g. ws://127.0.0.1:40123/v5/private.
func (s *Server) WSURL() string { return "ws://" + s.addr() + "/v5/private" }

func (s *Server) addr() string { return s.life.Addr() }

// Close stops the HTTP server, the websockets and the matching goroutine.
func (s *Server) Close() error { return s.life.Close(s.acct.hub.Close) }

// Faults is the fault injector of this server.
func (s *Server) Faults() *mockutil.Faults { return &s.faults }

// WaitSubscribed blocks until at least n private connections are subscribed (authenticated, and a subscribe
// request answered), or until ctx ends or the server closes (the error). Tests call it after starting a stream
// and before placing the order whose events they expect.
func (s *Server) WaitSubscribed(ctx context.Context, n int) error {
	return s.acct.hub.WaitTagged(ctx, mockutil.TagSubscribed, n)
}

// SetPosition sets the account's signed position and entry price in symbol, for scenario setup.
func (s *Server) SetPosition(symbol string, qty, entryPrice decimal.Decimal) {
	s.acct.ex.SetPosition(symbol, qty, entryPrice)
}

// Position is the account's signed position in symbol.
func (s *Server) Position(symbol string) decimal.Decimal { return s.acct.ex.Qty(symbol) }

// Orders is the venue's own record of every order it accepted, in acceptance order.
func (s *Server) Orders() []OrderRecord { return s.acct.records() }

// endpoint is one route: whether it is signed, whether it is an order create (faults apply), its per-UID limit.
type endpoint struct {
	signed bool
	create bool
	limit  int
	handle func(r *request) (any, *apiError)
}

// request is a parsed call: the query for GET, the JSON body for POST.
type request struct {
	*http.Request
	query url.Values
	body  []byte
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, e endpoint) { mux.Handle(pattern, s.wrap(strings.Fields(pattern)[1], e)) }
	route("GET /v5/market/time", endpoint{handle: func(*request) (any, *apiError) {
		now := s.faults.Now()
		return map[string]string{"timeSecond": strconv.FormatInt(now.Unix(), 10),
			"timeNano": strconv.FormatInt(now.UnixNano(), 10)}, nil
	}})
	route("GET /v5/market/instruments-info", endpoint{handle: s.instruments})
	route("GET /v5/market/tickers", endpoint{handle: s.tickers})
	route("GET /v5/market/orderbook", endpoint{handle: s.orderbook})
	route("POST /v5/order/create", endpoint{signed: true, create: true, limit: orderLimitPerSec, handle: s.acct.create})
	route("POST /v5/order/cancel", endpoint{signed: true, limit: orderLimitPerSec, handle: s.acct.cancel})
	route("POST /v5/order/amend", endpoint{signed: true, limit: orderLimitPerSec, handle: s.acct.amend})
	route("GET /v5/order/realtime", endpoint{signed: true, limit: privateLimitPerSec, handle: s.acct.realtime})
	route("GET /v5/order/history", endpoint{signed: true, limit: privateLimitPerSec, handle: s.acct.history})
	route("GET /v5/execution/list", endpoint{signed: true, limit: privateLimitPerSec, handle: s.acct.executions})
	route("GET /v5/position/list", endpoint{signed: true, limit: privateLimitPerSec, handle: s.acct.positionList})
	route("GET /v5/account/wallet-balance", endpoint{signed: true, limit: privateLimitPerSec, handle: s.acct.walletBalance})
	mux.HandleFunc("GET /v5/private", s.acct.serveStream)
	return mux
}

// wrap applies the venue's request pipeline: injected latency, the IP ban and limit (403), injected maintenance,
// injected 10006s, authentication (on the venue's clock, which an injected skew moves), the per-UID limit and its
// headers, 5xx before accept, the handler, and the after-accept faults.
func (s *Server) wrap(path string, e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		if !s.faults.HoldRequest(w, hr, s.tail.Done) { // injected latency: the request arrives late
			return
		}
		now := time.Now()          // wall: the rate-limit windows
		skew := s.faults.Skew()    // the venue's clock runs skew ahead of the wall clock
		vnow := now.Add(skew)      // timestamps the venue checks and reports
		if s.faults.Banned() > 0 { // an injected IP ban answers as the IP limit does
			s.faults.Throttled()
			ipBanned(w)
			return
		}
		if n, _ := s.ipLim.Add(now, 1); n > ipLimitPer5s && !s.cfg.DisableRateLimits {
			s.faults.Throttled()
			ipBanned(w)
			return
		}
		if s.faults.UnderMaintenance() {
			s.writeErr(w, errMaintenance)
			return
		}
		body, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
		if err != nil {
			s.writeErr(w, errParams("cannot read body"))
			return
		}
		if s.faults.TakeRateLimit() {
			setLimitHeaders(w, max(e.limit, 1), 0, vnow.Add(time.Second))
			s.writeErr(w, errTooMany)
			return
		}
		if e.signed {
			if aerr := s.authenticate(hr, body, vnow); aerr != nil {
				s.writeErr(w, aerr)
				return
			}
			used, reset := s.window(path).Add(now, 1)
			if used > e.limit && !s.cfg.DisableRateLimits {
				setLimitHeaders(w, e.limit, 0, reset.Add(skew))
				s.writeErr(w, errTooMany)
				return
			}
			setLimitHeaders(w, e.limit, max(0, e.limit-used), vnow)
		}
		s.tail.Run(w, hr, e.create, func() (any, *apiError) { return e.handle(&request{Request: hr, query: hr.URL.Query(), body: body}) })
	})
}

func (s *Server) window(path string) *mockutil.Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.limits[path]
	if !ok {
		w = mockutil.NewWindow(time.Second)
		s.limits[path] = w
	}
	return w
}

// setLimitHeaders sets X-Bapi-Limit (the limit), X-Bapi-Limit-Status (remaining) and X-Bapi-Limit-Reset-Timestamp
// (when the limit resets if exceeded, otherwise the current time), as the venue does.
func setLimitHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-Bapi-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Bapi-Limit-Status", strconv.Itoa(remaining))
	w.Header().Set("X-Bapi-Limit-Reset-Timestamp", strconv.FormatInt(reset.UnixMilli(), 10))
}

// ipBanned answers a request from an address over the IP limit, or banned: Bybit's v5 rate-limit page says such a
// client gets HTTP 403 with "access too frequent" (and should stop and wait before sending again); no retCode
// envelope and no Retry-After come with it.
func ipBanned(w http.ResponseWriter) {
	http.Error(w, "access too frequent", http.StatusForbidden)
}

// authenticate checks X-BAPI-API-KEY, X-BAPI-SIGN = hex HMAC-SHA256(secret, timestamp+apiKey+recvWindow+payload)
// where payload is the raw query string (GET) or the raw JSON body (POST), and the timestamp rule
// server_time - recv_window <= timestamp < server_time + 1000, server_time being now, the venue's clock (the wall
// clock plus any injected skew).
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time) *apiError {
	key := r.Header.Get("X-BAPI-API-KEY")
	if key == "" || !mockutil.EqualSig(key, s.cfg.APIKey) {
		return errAPIKey
	}
	tsRaw, sig := r.Header.Get("X-BAPI-TIMESTAMP"), r.Header.Get("X-BAPI-SIGN")
	if tsRaw == "" || sig == "" {
		return errParams("missing X-BAPI-TIMESTAMP or X-BAPI-SIGN")
	}
	rwRaw := r.Header.Get("X-BAPI-RECV-WINDOW")
	payload := r.URL.RawQuery
	if r.Method == http.MethodPost {
		payload = string(body)
	}
	if !mockutil.EqualSig(strings.ToLower(sig), mockutil.HMACHex(s.cfg.APISecret, tsRaw+key+rwRaw+payload)) {
		return errSign
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return errParams("invalid X-BAPI-TIMESTAMP")
	}
	window := int64(defaultRecvWindow)
	if rwRaw != "" {
		if window, err = strconv.ParseInt(rwRaw, 10, 64); err != nil || window <= 0 {
			return errParams("invalid X-BAPI-RECV-WINDOW")
		}
	}
	nowMs := now.UnixMilli()
	if ts < nowMs-window || ts >= nowMs+1000 {
		return errRecvWindow(ts, nowMs, window)
	}
	return nil
}

func (s *Server) writeErr(w http.ResponseWriter, e *apiError) {
	if e == errTooMany {
		s.faults.Throttled()
	}
	s.write(w, e.Status, e.Code, e.Msg, struct{}{})
}

// write answers with the v5 envelope.
func (s *Server) write(w http.ResponseWriter, status, code int, msg string, result any) {
	if err := mockutil.WriteJSON(w, status, map[string]any{"retCode": code, "retMsg": msg, "result": result,
		"retExtInfo": struct{}{}, "time": s.faults.Now().UnixMilli()}); err != nil {
		s.log.Debug("write response", zap.Error(err))
	}
}

// ExternalTrade executes a market order on the account for another program (a manual trade, or with the venue's
// liquidation client id, a liquidation): the position moves, the venue records the order and its trades, and the
// private stream pushes them like any other. qty is in base units; buy false sells. symbol must be listed
// (Config.Symbol or one in Config.More).
func (s *Server) ExternalTrade(symbol string, buy bool, qty decimal.Decimal, clientID string) error {
	if _, ok := s.acct.listed(symbol); !ok {
		return fmt.Errorf("bybit mock: symbol %q is not listed", symbol)
	}
	side := market.Sell
	if buy {
		side = market.Buy
	}
	_, _, err := s.acct.ex.Place(exchange.Request{ClientID: clientID, Symbol: symbol, Side: side, Qty: qty})
	return err
}
