package okx

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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
	Name   string // venue name, e.g. "okx"
	Book   Book
	InstID string // default "BTC-USDT-SWAP"
	// Contract terms; zero values take BTC-USDT-SWAP's: ctVal 0.01 BTC, lotSz 1, minSz 1, tickSz 0.1.
	CtVal, LotSz, MinSz, TickSz decimal.Decimal
	TakerFeeBps, MakerFeeBps    float64
	APIKey, APISecret           string
	Passphrase                  string
	Leverage                    int             // default 20
	Balance                     decimal.Decimal // USDT, default 1,000,000
	Clock                       clock.Clock     // simulated clock for order, fill and position times; default wall
	// DisableRateLimits turns off the per-endpoint limits (e.g. 60 orders per 2 s), on by default.
	DisableRateLimits bool
	// MatchInterval is the wall period of the resting-order sweep, default 50ms.
	MatchInterval time.Duration
	Logger        *zap.Logger
	// More lists further swaps on the same account, each trading against its own book with its own contract terms,
	// e.g. ETH-USDT-SWAP (ctVal 0.1 ETH, lotSz 1, minSz 1, tickSz 0.01). Their instIds must be distinct and differ
	// from InstID; every field is required.
	More []Instrument
}

func (c *Config) defaults() error {
	err := exchange.Settings{Mock: "okx mock", HasBook: c.Book != nil, HasCredentials: c.APIKey != "" && c.APISecret != "" && c.Passphrase != "",
		Credentials: "API key, secret and passphrase", Balance: &c.Balance, Leverage: &c.Leverage, DefaultLeverage: 20, Clock: &c.Clock,
		MatchInterval: &c.MatchInterval, Logger: &c.Logger}.Defaults()
	if err != nil {
		return err
	}
	exchange.Default(&c.CtVal, "0.01")
	exchange.Default(&c.LotSz, "1")
	exchange.Default(&c.MinSz, "1")
	exchange.Default(&c.TickSz, "0.1")
	if c.InstID == "" {
		c.InstID = "BTC-USDT-SWAP"
	}
	c.More = slices.Clone(c.More) // the server's own: the caller's slice may change
	return validateMore(c.InstID, c.More)
}

// Server is one mock venue. Several Servers in one process share nothing.
type Server struct {
	cfg    Config
	log    *zap.Logger
	faults mockutil.Faults
	limits map[string]*limit // by route pattern
	hub    *mockutil.Hub
	acct   *account

	life mockutil.Lifecycle
	tail mockutil.Tail[*apiError]
}

type limit struct {
	n int
	w *mockutil.Window
}

// New builds a server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With(zap.String("mock", "okx"), zap.String("venue", cfg.Name)),
		limits: map[string]*limit{}, hub: mockutil.NewHub()}
	s.acct = newAccount(&s.cfg, s.hub)
	s.acct.faults = &s.faults
	s.faults.OnDropUserStreams(func() { s.hub.Cut(nil) })
	s.tail = mockutil.Tail[*apiError]{Faults: &s.faults, Done: s.life.Done(), Sweep: s.acct.ex.Sweep, Before: errUnavailable,
		After: errUnavailable, Fail: s.writeErr, OK: func(w http.ResponseWriter, v any) {
			s.write(w, http.StatusOK, map[string]any{"code": "0", "msg": "", "data": v})
		}}
	return s, nil
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until Close.
func (s *Server) Start(addr string) error {
	return s.life.Start("okx mock", addr, s.routes(), s.log, s.cfg.MatchInterval, s.acct.ex.Sweep)
}

// URL is the REST base URL, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return "http://" + s.addr() }

// WSURL is the private websocket URL, ws://host/ws/v5/private.
func (s *Server) WSURL() string { return "ws://" + s.addr() + "/ws/v5/private" }

func (s *Server) addr() string { return s.life.Addr() }

// Close stops the HTTP server, the websockets and the matching goroutine.
func (s *Server) Close() error { return s.life.Close(s.hub.Close) }

// Faults is the fault injector of this server.
func (s *Server) Faults() *mockutil.Faults { return &s.faults }

// WaitSubscribed blocks until at least n private connections are subscribed (logged in, and a subscribe request
// for the orders channel answered), or until ctx ends or the server closes (the error). Tests call it after
// starting a stream and before placing the order whose events they expect.
func (s *Server) WaitSubscribed(ctx context.Context, n int) error {
	return s.hub.WaitTagged(ctx, mockutil.TagSubscribed, n)
}

// SetPosition sets the account's signed position in instID, in contracts of that swap, at its book's current mark
// as entry price. An instID the mock does not list (Config.InstID or Config.More) is ignored: nothing changes.
func (s *Server) SetPosition(instID string, contracts decimal.Decimal) {
	in, ok := s.acct.swaps.get(instID)
	if !ok {
		s.log.Warn("SetPosition of an instrument the mock does not list: ignored", zap.String("instId", instID))
		return
	}
	s.acct.ex.SetPosition(instID, in.base(contracts), in.Book.Quote().Mark)
}

// Position is the account's signed position in instID, in contracts of that swap; zero for one the mock does not
// list.
func (s *Server) Position(instID string) decimal.Decimal {
	in, ok := s.acct.swaps.get(instID)
	if !ok {
		return decimal.Zero
	}
	return in.contracts(s.acct.ex.Qty(instID))
}

// Orders is the venue's own record of every order it accepted, in acceptance order.
func (s *Server) Orders() []OrderRecord { return s.acct.records() }

// endpoint is one route: its limit per 2 s (0: none), whether it is signed, whether it is an order create (the
// after-accept faults apply), and the handler, which returns the data rows.
type endpoint struct {
	limit  int
	signed bool
	place  bool
	handle func(r *request) (any, *apiError)
}

// request is a parsed call.
type request struct {
	*http.Request
	query url.Values
	body  []byte
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, e endpoint) {
		if e.limit > 0 {
			s.limits[pattern] = &limit{n: e.limit, w: mockutil.NewWindow(2 * time.Second)}
		}
		mux.Handle(pattern, s.wrap(pattern, e))
	}
	route("GET /api/v5/public/time", endpoint{limit: 10, handle: func(*request) (any, *apiError) {
		return []any{map[string]string{"ts": ms(s.faults.Now())}}, nil
	}})
	route("GET /api/v5/public/instruments", endpoint{limit: 20, handle: s.instruments})
	route("GET /api/v5/market/ticker", endpoint{limit: 20, handle: s.ticker})
	route("GET /api/v5/public/mark-price", endpoint{limit: 10, handle: s.markPrice})
	route("GET /api/v5/public/funding-rate", endpoint{limit: 20, handle: s.fundingRate})
	route("GET /api/v5/market/books", endpoint{limit: 40, handle: s.books})
	route("POST /api/v5/trade/order", endpoint{limit: 60, signed: true, place: true, handle: s.acct.placeOrder})
	route("POST /api/v5/trade/cancel-order", endpoint{limit: 60, signed: true, handle: s.acct.cancelOrder})
	route("POST /api/v5/trade/amend-order", endpoint{limit: 60, signed: true, handle: s.acct.amendOrder})
	route("GET /api/v5/trade/order", endpoint{limit: 60, signed: true, handle: s.acct.getOrder})
	route("GET /api/v5/trade/orders-pending", endpoint{limit: 60, signed: true, handle: s.acct.ordersPending})
	route("GET /api/v5/trade/orders-history", endpoint{limit: 40, signed: true, handle: s.acct.ordersHistory})
	route("GET /api/v5/trade/fills", endpoint{limit: 60, signed: true, handle: s.acct.getFills})
	route("GET /api/v5/account/positions", endpoint{limit: 10, signed: true, handle: s.acct.getPositions})
	route("GET /api/v5/account/balance", endpoint{limit: 10, signed: true, handle: s.acct.getBalance})
	mux.HandleFunc("GET /ws/v5/private", s.serveStream)
	return mux
}

// wrap applies the venue's request pipeline: injected latency, the ban and injected maintenance, injected rate
// limits, the endpoint's limit, authentication (on the venue's clock, which an injected skew moves), the
// before-accept faults, the handler and the after-accept faults.
func (s *Server) wrap(pattern string, e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		if !s.faults.HoldRequest(w, hr, s.tail.Done) { // injected latency: the request arrives late
			return
		}
		now := time.Now() // wall: the rate-limit windows
		// An injected ban: OKX has no ban of its own kind; a client it refuses for its request rate gets the
		// rate-limit answer on every request, as here until the ban ends.
		if s.faults.Banned() > 0 {
			s.writeErr(w, errRateLimit)
			return
		}
		if s.faults.UnderMaintenance() {
			s.writeErr(w, errMaintenance)
			return
		}
		body, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
		if err != nil {
			s.writeErr(w, errJSON)
			return
		}
		if s.faults.TakeRateLimit() {
			s.writeErr(w, errRateLimit)
			return
		}
		if l := s.limits[pattern]; l != nil && !s.cfg.DisableRateLimits {
			if n, _ := l.w.Add(now, 1); n > l.n {
				s.writeErr(w, errRateLimit)
				return
			}
		}
		if e.signed {
			if aerr := s.authenticate(hr, body, now.Add(s.faults.Skew())); aerr != nil {
				s.writeErr(w, aerr)
				return
			}
		}
		s.tail.Run(w, hr, e.place, func() (any, *apiError) { return e.handle(&request{Request: hr, query: hr.URL.Query(), body: body}) })
	})
}

// tsLayout is OK-ACCESS-TIMESTAMP's format: ISO 8601 UTC with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z"

// authenticate checks the four OK-ACCESS headers: key, passphrase, timestamp within 30 s of now (the venue's clock:
// the wall clock plus any injected skew), and the signature over timestamp + method + path?query + body.
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time) *apiError {
	key, sign := r.Header.Get("OK-ACCESS-KEY"), r.Header.Get("OK-ACCESS-SIGN")
	ts, pass := r.Header.Get("OK-ACCESS-TIMESTAMP"), r.Header.Get("OK-ACCESS-PASSPHRASE")
	switch {
	case key == "":
		return errKeyEmpty
	case sign == "":
		return errSignEmpty
	case ts == "":
		return errTimestampEmpty
	case pass == "":
		return errPassphraseEmpty
	case !mockutil.EqualSig(key, s.cfg.APIKey):
		return errKey
	case !mockutil.EqualSig(pass, s.cfg.Passphrase):
		return errPassphrase
	}
	t, err := time.Parse(tsLayout, ts)
	if err != nil {
		return errTimestamp
	}
	if d := now.Sub(t); d > 30*time.Second || d < -30*time.Second {
		return errExpired
	}
	want := mockutil.HMACBase64(s.cfg.APISecret, ts+r.Method+r.URL.RequestURI()+string(body))
	if !mockutil.EqualSig(sign, want) {
		return errSign
	}
	return nil
}

func (s *Server) writeErr(w http.ResponseWriter, e *apiError) {
	if e == errRateLimit { // OKX's answer to a client over its limits carries msg and code alone, no data
		s.faults.Throttled()
		s.write(w, e.Status, map[string]any{"msg": e.Msg, "code": e.Code})
		return
	}
	data := e.Data
	if data == nil {
		data = []any{}
	}
	s.write(w, e.Status, map[string]any{"code": e.Code, "msg": e.Msg, "data": data})
}

func (s *Server) write(w http.ResponseWriter, status int, v any) {
	if err := mockutil.WriteJSON(w, status, v); err != nil {
		s.log.Debug("write response", zap.Error(err))
	}
}

// ms formats a time as OKX does: Unix milliseconds in a string.
func ms(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }

// checkInst reads instId (required unless optional) and returns the listed swap it names (case aside), or nil
// when it is optional and absent.
func (s *Server) checkInst(q url.Values, optional bool) (*Instrument, *apiError) {
	id := q.Get("instId")
	if id == "" {
		if optional {
			return nil, nil
		}
		return nil, errEmpty("instId")
	}
	in, ok := s.acct.swaps.fold(id)
	if !ok {
		return nil, errInstrument
	}
	return in, nil
}

// ExternalTrade executes a market order of contracts on the account for another program (a manual trade, or a
// liquidation): the position moves, the venue records the order and its trades, and the private stream pushes
// them like any other. buy false sells. instID must be a swap the mock lists; contracts are of that swap.
func (s *Server) ExternalTrade(instID string, buy bool, contracts decimal.Decimal, clientID string) error {
	in, ok := s.acct.swaps.get(instID)
	if !ok {
		return fmt.Errorf("okx mock: instrument %q is not listed", instID)
	}
	side := market.Sell
	if buy {
		side = market.Buy
	}
	_, _, err := s.acct.ex.Place(exchange.Request{ClientID: clientID, Symbol: instID, Side: side, Qty: in.base(contracts)})
	return err
}
