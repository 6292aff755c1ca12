package binance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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

// Instrument is a symbol the mock lists beside Config.Symbol, with its own book and filters (all required).
type Instrument struct {
	Symbol string
	Book   Book
	// The filters: PRICE_FILTER tickSize, LOT_SIZE stepSize, minQty and maxQty, MARKET_LOT_SIZE maxQty and
	// MIN_NOTIONAL notional. Prices and quantities are written with as many decimals as the tick (at least 2) and
	// the step have.
	TickSize, StepSize, MinQty, MaxQty, MarketMaxQty, MinNotional decimal.Decimal
}

// Config configures one mock venue (one account).
type Config struct {
	Name   string // venue name, e.g. "a"
	Book   Book
	Symbol string // default "BTCUSDT"
	// Filters; zero values take the real BTCUSDT filters: 0.10, 0.001, 0.001, 1000, 120, 100.
	TickSize, StepSize, MinQty, MaxQty, MarketMaxQty, MinNotional decimal.Decimal
	// More are the other symbols the venue lists, each trading against its own book on the same account; every
	// endpoint serves each symbol with its own book, filters and precision.
	More                     []Instrument
	TakerFeeBps, MakerFeeBps float64
	APIKey                   string
	APISecret                string
	Leverage                 int             // default 20
	Balance                  decimal.Decimal // USDT wallet, default 1,000,000
	Clock                    clock.Clock     // simulated clock for event and trade times; default wall
	// DisableRateLimits turns off the weight (2400/min) and order (300/10s, 1200/min) limits, on by default.
	DisableRateLimits bool
	// ListenKeyTTL is how long a listenKey lives without keepalive (wall time), default 60 minutes.
	ListenKeyTTL time.Duration
	// MatchInterval is the wall period of the resting-order sweep, default 50ms.
	MatchInterval time.Duration
	Logger        *zap.Logger
}

func (c *Config) defaults() error {
	err := exchange.Settings{Mock: "binance mock", HasBook: c.Book != nil, HasCredentials: c.APIKey != "" && c.APISecret != "",
		Credentials: "API key and secret", Balance: &c.Balance, Leverage: &c.Leverage, DefaultLeverage: 20, Clock: &c.Clock,
		MatchInterval: &c.MatchInterval, Logger: &c.Logger}.Defaults()
	if err != nil {
		return err
	}
	exchange.Default(&c.TickSize, "0.10")
	exchange.Default(&c.StepSize, "0.001")
	exchange.Default(&c.MinQty, "0.001")
	exchange.Default(&c.MaxQty, "1000")
	exchange.Default(&c.MarketMaxQty, "120")
	exchange.Default(&c.MinNotional, "100")
	if c.Symbol == "" {
		c.Symbol = "BTCUSDT"
	}
	if c.ListenKeyTTL <= 0 {
		c.ListenKeyTTL = time.Hour
	}
	c.More = slices.Clone(c.More)
	seen := map[string]bool{c.Symbol: true}
	for i, in := range c.More {
		name := in.Symbol
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		bad := func(what string) error { return fmt.Errorf("binance mock: instrument %s: %s", name, what) }
		switch {
		case in.Symbol == "":
			return bad("empty symbol")
		case in.Symbol == c.Symbol:
			return bad("the same symbol as Config.Symbol")
		case seen[in.Symbol]:
			return bad("duplicate symbol")
		case in.Book == nil:
			return bad("no book")
		}
		seen[in.Symbol] = true
		for _, f := range []struct {
			name string
			v    decimal.Decimal
		}{{"tick size", in.TickSize}, {"step size", in.StepSize}, {"min qty", in.MinQty}, {"max qty", in.MaxQty},
			{"market max qty", in.MarketMaxQty}} {
			if !f.v.IsPositive() {
				return bad(f.name + " must be positive, got " + f.v.String())
			}
		}
		if in.MinNotional.IsNegative() {
			return bad("min notional must not be negative, got " + in.MinNotional.String())
		}
	}
	return nil
}

// Server is one mock venue. Several Servers in one process share nothing.
type Server struct {
	cfg    Config
	log    *zap.Logger
	faults mockutil.Faults
	limits *limiter
	acct   *account

	life mockutil.Lifecycle
	tail mockutil.Tail[*apiError]
}

// New builds a server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With(zap.String("mock", "binance"), zap.String("venue", cfg.Name)),
		limits: newLimiter(!cfg.DisableRateLimits)}
	s.acct = newAccount(&s.cfg)
	s.acct.faults = &s.faults
	s.faults.OnDropUserStreams(s.acct.closeStreams)
	s.tail = mockutil.Tail[*apiError]{Faults: &s.faults, Done: s.life.Done(), Sweep: s.acct.ex.Sweep, Before: errInternal,
		After: errTimeout, Fail: s.writeErr, OK: func(w http.ResponseWriter, v any) { s.writeJSON(w, http.StatusOK, v) }}
	return s, nil
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until Close.
func (s *Server) Start(addr string) error {
	return s.life.Start("binance mock", addr, s.routes(), s.log, s.cfg.MatchInterval, func() {
		s.acct.ex.Sweep()
		s.acct.expireListenKeys(time.Now())
	})
}

// URL is the REST base URL, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return "http://" + s.addr() }

// WSURL is the websocket base; a user-data stream is at WSURL()+"/"+listenKey.
func (s *Server) WSURL() string { return "ws://" + s.addr() + "/ws" }

func (s *Server) addr() string { return s.life.Addr() }

// Close stops the HTTP server, the websockets and the matching goroutine.
func (s *Server) Close() error { return s.life.Close(s.acct.hub.Close) }

// Faults is the fault injector of this server.
func (s *Server) Faults() *mockutil.Faults { return &s.faults }

// WaitSubscribed blocks until at least n user-data stream connections are open (connected on a live listenKey:
// from then on they get every push of the account), or until ctx ends or the server closes (the error). Tests
// call it after starting a stream and before placing the order whose events they expect.
func (s *Server) WaitSubscribed(ctx context.Context, n int) error {
	return s.acct.hub.WaitTagged(ctx, mockutil.TagSubscribed, n)
}

// SetPosition sets the account's signed position and entry price in symbol (Config.Symbol or one of Config.More),
// for scenario setup.
func (s *Server) SetPosition(symbol string, qty, entryPrice decimal.Decimal) {
	s.acct.ex.SetPosition(symbol, qty, entryPrice)
}

// Position is the account's signed position in symbol.
func (s *Server) Position(symbol string) decimal.Decimal { return s.acct.ex.Qty(symbol) }

// Orders is the venue's own record of every order it accepted, in acceptance order.
func (s *Server) Orders() []OrderRecord { return s.acct.records() }

// endpoint is one route: its weight, whether it is signed (or API-key only), and the handler.
type endpoint struct {
	weight func(q url.Values) int
	auth   authKind
	order  bool // counts against the order limits
	handle func(r *request) (any, *apiError)
}

type authKind int

const (
	authNone authKind = iota
	authKey
	authSigned
)

// request is a parsed call: query and body parameters merged.
type request struct {
	*http.Request
	params url.Values
	w      http.ResponseWriter
}

func fixed(n int) func(url.Values) int { return func(url.Values) int { return n } }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, e endpoint) { mux.Handle(pattern, s.wrap(e)) }
	bySymbol := func(with, without int) func(url.Values) int {
		return func(q url.Values) int {
			if q.Get("symbol") != "" {
				return with
			}
			return without
		}
	}
	route("GET /fapi/v1/ping", endpoint{weight: fixed(1), handle: func(*request) (any, *apiError) { return struct{}{}, nil }})
	route("GET /fapi/v1/time", endpoint{weight: fixed(1), handle: func(*request) (any, *apiError) {
		return map[string]int64{"serverTime": s.faults.Now().UnixMilli()}, nil
	}})
	route("GET /fapi/v1/exchangeInfo", endpoint{weight: fixed(1), handle: s.exchangeInfo})
	route("GET /fapi/v1/ticker/24hr", endpoint{weight: bySymbol(1, 40), handle: s.ticker24h})
	route("GET /fapi/v1/premiumIndex", endpoint{weight: fixed(1), handle: s.premiumIndex})
	route("GET /fapi/v1/ticker/bookTicker", endpoint{weight: bySymbol(2, 5), handle: s.bookTicker})
	route("GET /fapi/v1/depth", endpoint{weight: depthWeight, handle: s.depth})
	route("GET /fapi/v1/trades", endpoint{weight: fixed(5), handle: s.trades})
	route("POST /fapi/v1/order", endpoint{weight: fixed(0), auth: authSigned, order: true, handle: s.acct.newOrder})
	route("GET /fapi/v1/order", endpoint{weight: fixed(1), auth: authSigned, handle: s.acct.getOrder})
	route("DELETE /fapi/v1/order", endpoint{weight: fixed(1), auth: authSigned, handle: s.acct.cancelOrder})
	route("PUT /fapi/v1/order", endpoint{weight: fixed(1), auth: authSigned, order: true, handle: s.acct.modifyOrder})
	route("GET /fapi/v1/openOrders", endpoint{weight: bySymbol(1, 40), auth: authSigned, handle: s.acct.openOrders})
	route("GET /fapi/v1/allOrders", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.allOrders})
	route("GET /fapi/v1/userTrades", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.userTrades})
	route("GET /fapi/v2/positionRisk", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.positionRisk})
	route("GET /fapi/v3/positionRisk", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.positionRisk})
	route("GET /fapi/v2/account", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.accountInfo})
	route("GET /fapi/v3/account", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.accountInfo})
	route("GET /fapi/v3/balance", endpoint{weight: fixed(5), auth: authSigned, handle: s.acct.balance})
	route("POST /fapi/v1/listenKey", endpoint{weight: fixed(1), auth: authKey, handle: s.acct.startListenKey})
	route("PUT /fapi/v1/listenKey", endpoint{weight: fixed(1), auth: authKey, handle: s.acct.keepaliveListenKey})
	route("DELETE /fapi/v1/listenKey", endpoint{weight: fixed(1), auth: authKey, handle: s.acct.closeListenKey})
	mux.HandleFunc("GET /ws/{listenKey}", s.acct.serveStream)
	return mux
}

func depthWeight(q url.Values) int {
	switch n, _ := strconv.Atoi(q.Get("limit")); {
	case n == 0 || n > 100 && n <= 500:
		return 10
	case n <= 50:
		return 2
	case n <= 100:
		return 5
	}
	return 20
}

// wrap applies the venue's request pipeline: injected latency, the ban (418), injected maintenance, injected 429s,
// weight, authentication (on the venue's clock, which an injected skew moves), order limits, the handler and the
// after-accept faults.
func (s *Server) wrap(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		if !s.faults.HoldRequest(w, hr, s.tail.Done) { // injected latency: the request arrives late
			return
		}
		now := time.Now()                // wall: the rate-limit windows
		vnow := now.Add(s.faults.Skew()) // the venue's clock: timestamps it checks and reports
		raw, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
		if err != nil {
			s.writeErr(w, &apiError{http.StatusBadRequest, -1102, "Malformed request body."})
			return
		}
		params, perr := mergeParams(hr.URL.RawQuery, string(raw))
		// A client that keeps sending inside a 429's Retry-After is banned (418), as Binance does.
		s.faults.NotBackingOff(banAfterIgnored, banFor)
		if left := s.faults.Banned(); left > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(left.Seconds())+1))
			s.writeErr(w, errBanned(vnow.Add(left)))
			return
		}
		if s.faults.UnderMaintenance() {
			s.writeErr(w, errMaintenance)
			return
		}
		if s.faults.TakeRateLimit() {
			s.tooMany(w, errTooMany, time.Second)
			return
		}
		used, aerr := s.limits.use(now, e.weight(params))
		w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(used))
		if aerr != nil {
			s.tooMany(w, aerr, time.Until(now.Truncate(time.Minute).Add(time.Minute)))
			return
		}
		if perr != nil {
			s.writeErr(w, errIllegal("query"))
			return
		}
		if aerr := s.authenticate(hr, e.auth, params, raw, vnow); aerr != nil {
			s.writeErr(w, aerr)
			return
		}
		if e.order {
			c10, c1m, oerr := s.limits.order(now)
			w.Header().Set("X-MBX-ORDER-COUNT-10S", strconv.Itoa(c10))
			w.Header().Set("X-MBX-ORDER-COUNT-1M", strconv.Itoa(c1m))
			if oerr != nil {
				s.tooMany(w, oerr, time.Second)
				return
			}
		}
		s.tail.Run(w, hr, e.order, func() (any, *apiError) { return e.handle(&request{Request: hr, params: params, w: w}) })
	})
}

// mergeParams parses the query string and the form body; the venue reads both.
func mergeParams(query, body string) (url.Values, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return q, err
	}
	b, err := url.ParseQuery(body)
	if err != nil {
		return q, err
	}
	for k, v := range b {
		q[k] = append(q[k], v...)
	}
	return q, nil
}

// authenticate checks the API key, and for signed endpoints the HMAC-SHA256 signature over the query string (less
// the signature) concatenated with the body, and the timestamp against the venue's clock (now: the wall clock plus
// any injected skew) and recvWindow.
func (s *Server) authenticate(r *http.Request, kind authKind, params url.Values, body []byte, now time.Time) *apiError {
	if kind == authNone {
		return nil
	}
	key := r.Header.Get("X-MBX-APIKEY")
	if key == "" || strings.ContainsFunc(key, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return errBadKeyFormat
	}
	if !mockutil.EqualSig(key, s.cfg.APIKey) {
		return errRejectedKey
	}
	sig := params.Get("signature")
	if kind == authKey && sig == "" {
		return nil
	}
	if sig == "" {
		return errMandatory("signature")
	}
	want := mockutil.HMACHex(s.cfg.APISecret, stripSignature(r.URL.RawQuery)+string(body))
	if !mockutil.EqualSig(strings.ToLower(sig), want) {
		return errSignature
	}
	ts, err := strconv.ParseInt(params.Get("timestamp"), 10, 64)
	if err != nil {
		return errMandatory("timestamp")
	}
	window := int64(5000)
	if rw := params.Get("recvWindow"); rw != "" {
		if window, err = strconv.ParseInt(rw, 10, 64); err != nil || window <= 0 || window > 60000 {
			return errMandatory("recvWindow")
		}
	}
	nowMs := now.UnixMilli()
	switch {
	case ts > nowMs+1000:
		return errAhead
	case nowMs-ts > window:
		return errRecvWindow
	}
	return nil
}

// stripSignature removes the signature parameter from a raw query string, keeping the rest byte for byte.
func stripSignature(raw string) string {
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		if !strings.HasPrefix(p, "signature=") {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

// Binance bans an address that goes on sending after 429s: here the third request inside a Retry-After bans it
// for two minutes.
const (
	banAfterIgnored = 3
	banFor          = 2 * time.Minute
)

// tooMany answers a rate-limit error with the seconds to wait in Retry-After, and remembers them: a client that
// does not wait is banned.
func (s *Server) tooMany(w http.ResponseWriter, e *apiError, wait time.Duration) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.faults.RateLimited(time.Duration(secs) * time.Second)
	s.writeErr(w, e)
}

func (s *Server) writeErr(w http.ResponseWriter, e *apiError) {
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusTeapot {
		s.faults.Throttled()
	}
	s.writeJSON(w, e.Status, map[string]any{"code": e.Code, "msg": e.Msg})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	if err := mockutil.WriteJSON(w, status, v); err != nil {
		s.log.Debug("write response", zap.Error(err))
	}
}

// ExternalTrade executes a market order on the account for another program (a manual trade, or with the venue's
// liquidation client id, a liquidation): the position moves, the venue records the order and its trades, and the
// private stream pushes them like any other. qty is in base units; buy false sells. symbol must be listed
// (Config.Symbol or one of Config.More).
func (s *Server) ExternalTrade(symbol string, buy bool, qty decimal.Decimal, clientID string) error {
	if _, ok := s.acct.instrument(symbol); !ok {
		return fmt.Errorf("binance mock: symbol %q is not listed", symbol)
	}
	side := market.Sell
	if buy {
		side = market.Buy
	}
	_, _, err := s.acct.ex.Place(exchange.Request{ClientID: clientID, Symbol: symbol, Side: side, Qty: qty})
	return err
}
