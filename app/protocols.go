package app

import (
	"time"

	"fmt"
	"net/http"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	mockbinance "github.com/execd-dev/execd/mocks/binance"
	mockbybit "github.com/execd-dev/execd/mocks/bybit"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/mocks/mockutil"
	mockokx "github.com/execd-dev/execd/mocks/okx"
	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/binance"
	"github.com/execd-dev/execd/venues/bybit"
	"github.com/execd-dev/execd/venues/okx"
	"github.com/execd-dev/execd/venues/ratelimit"
)

// MockOrder is a mock venue's own record of one order, in base units, whatever its protocol: the judge of tests.
type MockOrder struct {
	ClientOrderID string
	Instrument    string // canonical
	Quantity      decimal.Decimal
	Executed      decimal.Decimal
	Price         decimal.Decimal
	Open          bool
	ReduceOnly    bool
	Limit, IOC    bool
	PostOnly      bool      // a maker order: refused rather than take liquidity
	Time          time.Time // when the venue took it, on the venue's (market) clock
}

// MockControl is what tests and the demo use of a mock venue. Safe for concurrent use.
type MockControl interface {
	Orders() []MockOrder
	// Position is the account's position in a canonical instrument, base units.
	Position(instrument string) decimal.Decimal
	SetPosition(instrument string, qty, entry decimal.Decimal) error
	Faults() *mockutil.Faults
	// ExternalTrade trades qty (base units) at market on the account for another program under clientID — a
	// manual trade, or with a liquidation's client id a liquidation — as if execd were not there.
	ExternalTrade(instrument string, side venues.Side, qty decimal.Decimal, clientID string) error
}

type mockServer interface {
	Start(addr string) error
	URL() string
	WSURL() string
	Close() error
}

// endpoint is how an adapter reaches its venue.
type endpoint struct {
	name, rest, ws, key string
	secret, passphrase  secret.String
	http                *http.Client
	log                 *zap.Logger
}

// mockParams is what a mock venue is built from.
type mockParams struct {
	name               string
	book               *market.Venue            // the first instrument's
	more               map[string]*market.Venue // the other instruments' books, by canonical instrument
	mock               config.MockVenue
	key                string
	secret, passphrase secret.String
	clk                clock.Clock
	log                *zap.Logger
}

// rateLimits is whether the mock enforces its venue's rate limits (default on).
func (p mockParams) rateLimits() bool { return p.mock.RateLimits == nil || *p.mock.RateLimits }

// protocol is one wire protocol execd speaks: its mock and its adapter.
type protocol struct {
	// grids are the simulated book's price and quantity grids (base units) for each instrument the protocol's
	// mock lists: the venue's own tick and lot.
	grids      map[string]grid
	passphrase bool // the venue's API also takes a passphrase
	limits     func() ratelimit.Table
	mock       func(p mockParams) (mockServer, MockControl, error)
	adapter    func(e endpoint) (venues.Venue, error)
}

// grid is an instrument's tick and lot at a venue, in quote and base units.
type grid struct{ tick, lot decimal.Decimal }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The instruments the mocks list.
const (
	instBTC = "BTC-USDT-PERP"
	instETH = "ETH-USDT-PERP"
)

func protocols() map[string]protocol {
	return map[string]protocol{
		"binance": {grids: map[string]grid{instBTC: {dec("0.1"), dec("0.001")}, instETH: {dec("0.01"), dec("0.001")}}, limits: binance.Limits, mock: startBinance, adapter: func(e endpoint) (venues.Venue, error) {
			return binance.New(binance.Config{Name: e.name, BaseURL: e.rest, WSURL: e.ws, APIKey: e.key, Secret: e.secret,
				HTTPClient: e.http, Logger: e.log})
		}},
		"bybit": {grids: map[string]grid{instBTC: {dec("0.1"), dec("0.001")}, instETH: {dec("0.01"), dec("0.01")}}, limits: bybit.Limits, mock: startBybit, adapter: func(e endpoint) (venues.Venue, error) {
			return bybit.New(bybit.Config{Name: e.name, BaseURL: e.rest, WSURL: e.ws, APIKey: e.key, Secret: e.secret,
				HTTPClient: e.http, Logger: e.log})
		}},
		// OKX trades swaps in contracts (BTC-USDT-SWAP 0.01 BTC, ETH-USDT-SWAP 0.1 ETH): the book's grid is one.
		"okx": {grids: map[string]grid{instBTC: {dec("0.1"), okxCtVal[instBTC]}, instETH: {dec("0.01"), okxCtVal[instETH]}},
			passphrase: true, limits: okx.Limits, mock: startOKX, adapter: func(e endpoint) (venues.Venue, error) {
				return okx.New(okx.Config{Name: e.name, BaseURL: e.rest, WSURL: e.ws, APIKey: e.key, Secret: e.secret,
					Passphrase: e.passphrase, HTTPClient: e.http, Logger: e.log})
			}},
	}
}

// okxCtVal is the base value of one contract of each OKX swap the mock lists.
var okxCtVal = map[string]decimal.Decimal{instBTC: dec("0.01"), instETH: dec("0.1")}

// contracts converts base units of an OKX swap to contracts, refusing a fraction of one.
func okxContracts(instrument string, qty decimal.Decimal) (decimal.Decimal, error) {
	ct, ok := okxCtVal[instrument]
	if !ok {
		return decimal.Zero, fmt.Errorf("okx mock: %s is not listed", instrument)
	}
	n := qty.Div(ct)
	if !n.IsInteger() {
		return decimal.Zero, fmt.Errorf("okx: %s is not a whole number of %s contracts", qty, ct)
	}
	return n, nil
}

// okxInstID maps a canonical instrument to OKX's swap id: BTC-USDT-PERP → BTC-USDT-SWAP.
func okxInstID(instrument string) (string, error) {
	base, quote, err := venues.ParseInstrument(instrument)
	return base + "-" + quote + "-SWAP", err
}

type okxControl struct{ s *mockokx.Server }

func startOKX(p mockParams) (mockServer, MockControl, error) {
	var more []mockokx.Instrument
	for inst, book := range p.more {
		if inst != instETH {
			return nil, nil, fmt.Errorf("the okx mock does not list %s", inst)
		}
		more = append(more, mockokx.Instrument{InstID: "ETH-USDT-SWAP", Book: book, CtVal: okxCtVal[instETH],
			LotSz: dec("1"), MinSz: dec("1"), TickSz: dec("0.01")})
	}
	s, err := mockokx.New(mockokx.Config{Name: p.name, Book: p.book, TakerFeeBps: p.mock.TakerFeeBps,
		MakerFeeBps: p.mock.MakerFeeBps, APIKey: p.key, APISecret: p.secret.Reveal(), Passphrase: p.passphrase.Reveal(),
		Clock: p.clk, DisableRateLimits: !p.rateLimits(), Logger: p.log, More: more})
	return s, okxControl{s}, err
}

func (c okxControl) Orders() []MockOrder {
	var out []MockOrder
	for _, o := range c.s.Orders() {
		ct := okxCtVal[instBTC]
		if o.InstID == "ETH-USDT-SWAP" {
			ct = okxCtVal[instETH]
		}
		out = append(out, MockOrder{ClientOrderID: o.ClOrdID, Instrument: canonicalOf(o.InstID), Quantity: o.Sz.Mul(ct),
			Executed: o.AccFillSz.Mul(ct), Price: o.Px, Open: o.State == "live" || o.State == "partially_filled",
			ReduceOnly: o.ReduceOnly, Limit: o.OrdType == "limit" || o.OrdType == "ioc" || o.OrdType == "post_only",
			IOC: o.OrdType == "ioc", PostOnly: o.OrdType == "post_only", Time: o.CTime})
	}
	return out
}

func (c okxControl) Position(instrument string) decimal.Decimal {
	id, err := okxInstID(instrument)
	if err != nil {
		return decimal.Zero
	}
	return c.s.Position(id).Mul(okxCtVal[instrument])
}

// SetPosition takes base units and refuses a quantity that is not a whole number of contracts.
func (c okxControl) SetPosition(instrument string, qty, _ decimal.Decimal) error {
	id, err := okxInstID(instrument)
	if err != nil {
		return err
	}
	contracts, err := okxContracts(instrument, qty)
	if err != nil {
		return err
	}
	c.s.SetPosition(id, contracts)
	return nil
}

func (c okxControl) Faults() *mockutil.Faults { return c.s.Faults() }

func (c okxControl) ExternalTrade(instrument string, side venues.Side, qty decimal.Decimal, clientID string) error {
	id, err := okxInstID(instrument)
	if err != nil {
		return err
	}
	contracts, err := okxContracts(instrument, qty)
	if err != nil {
		return err
	}
	return c.s.ExternalTrade(id, side == venues.Buy, contracts, clientID)
}

// symbolOf maps a canonical instrument to the BASEQUOTE symbol Binance and Bybit use.
func symbolOf(instrument string) (string, error) {
	base, quote, err := venues.ParseInstrument(instrument)
	return base + quote, err
}

// symbolControl is the MockControl of a mock that keys positions by BASEQUOTE symbol in base units (the Binance
// and Bybit mocks).
type symbolControl struct {
	orders   func() []MockOrder
	position func(symbol string) decimal.Decimal
	set      func(symbol string, qty, entry decimal.Decimal)
	trade    func(symbol string, buy bool, qty decimal.Decimal, clientID string) error
	faults   *mockutil.Faults
}

func (c symbolControl) ExternalTrade(instrument string, side venues.Side, qty decimal.Decimal, clientID string) error {
	s, err := symbolOf(instrument)
	if err != nil {
		return err
	}
	return c.trade(s, side == venues.Buy, qty, clientID)
}

func (c symbolControl) Orders() []MockOrder      { return c.orders() }
func (c symbolControl) Faults() *mockutil.Faults { return c.faults }

func (c symbolControl) Position(instrument string) decimal.Decimal {
	s, err := symbolOf(instrument)
	if err != nil {
		return decimal.Zero
	}
	return c.position(s)
}

func (c symbolControl) SetPosition(instrument string, qty, entry decimal.Decimal) error {
	s, err := symbolOf(instrument)
	if err != nil {
		return err
	}
	c.set(s, qty, entry)
	return nil
}

func startBinance(p mockParams) (mockServer, MockControl, error) {
	var more []mockbinance.Instrument
	for inst, book := range p.more {
		if inst != instETH {
			return nil, nil, fmt.Errorf("the binance mock does not list %s", inst)
		}
		// Binance USDⓈ-M ETHUSDT's filters.
		more = append(more, mockbinance.Instrument{Symbol: "ETHUSDT", Book: book, TickSize: dec("0.01"), StepSize: dec("0.001"),
			MinQty: dec("0.001"), MaxQty: dec("10000"), MarketMaxQty: dec("2000"), MinNotional: dec("20")})
	}
	s, err := mockbinance.New(mockbinance.Config{Name: p.name, Book: p.book, TakerFeeBps: p.mock.TakerFeeBps,
		MakerFeeBps: p.mock.MakerFeeBps, APIKey: p.key, APISecret: p.secret.Reveal(), Clock: p.clk,
		DisableRateLimits: !p.rateLimits(), Logger: p.log, More: more})
	if err != nil {
		return nil, nil, err
	}
	orders := func() []MockOrder {
		var out []MockOrder
		for _, o := range s.Orders() {
			out = append(out, MockOrder{ClientOrderID: o.ClientOrderID, Instrument: canonicalOf(o.Symbol), Quantity: o.OrigQty, Executed: o.ExecutedQty,
				Price: o.Price, Open: o.Status == "NEW" || o.Status == "PARTIALLY_FILLED", ReduceOnly: o.ReduceOnly,
				Limit: o.Type == "LIMIT", IOC: o.TimeInForce == "IOC", PostOnly: o.TimeInForce == "GTX", Time: o.Time})
		}
		return out
	}
	return s, symbolControl{orders: orders, position: s.Position, set: s.SetPosition, trade: s.ExternalTrade, faults: s.Faults()}, nil
}

func startBybit(p mockParams) (mockServer, MockControl, error) {
	var more []mockbybit.Instrument
	for inst, book := range p.more {
		if inst != instETH {
			return nil, nil, fmt.Errorf("the bybit mock does not list %s", inst)
		}
		// Bybit v5 linear ETHUSDT's rules.
		more = append(more, mockbybit.Instrument{Symbol: "ETHUSDT", Book: book, TickSize: dec("0.01"), QtyStep: dec("0.01"),
			MinOrderQty: dec("0.01"), MaxOrderQty: dec("7240"), MaxMktOrderQty: dec("724"), MinNotionalValue: dec("5")})
	}
	s, err := mockbybit.New(mockbybit.Config{Name: p.name, Book: p.book, TakerFeeBps: p.mock.TakerFeeBps,
		MakerFeeBps: p.mock.MakerFeeBps, APIKey: p.key, APISecret: p.secret.Reveal(), Clock: p.clk,
		DisableRateLimits: !p.rateLimits(), Logger: p.log, More: more})
	if err != nil {
		return nil, nil, err
	}
	orders := func() []MockOrder {
		var out []MockOrder
		for _, o := range s.Orders() {
			out = append(out, MockOrder{ClientOrderID: o.OrderLinkID, Instrument: canonicalOf(o.Symbol), Quantity: o.Qty, Executed: o.CumExecQty,
				Price: o.Price, Open: o.OrderStatus == "New" || o.OrderStatus == "PartiallyFilled", ReduceOnly: o.ReduceOnly,
				Limit: o.OrderType == "Limit", IOC: o.TimeInForce == "IOC", PostOnly: o.TimeInForce == "PostOnly", Time: o.CreatedTime})
		}
		return out
	}
	return s, symbolControl{orders: orders, position: s.Position, set: s.SetPosition, trade: s.ExternalTrade, faults: s.Faults()}, nil
}

func unknownProtocol(name string) error {
	return fmt.Errorf("protocol %q is not supported", name)
}

// canonicalOf maps a mock's symbol (BTCUSDT, ETH-USDT-SWAP) to the canonical instrument; "" if it is not listed.
func canonicalOf(symbol string) string {
	switch symbol {
	case "BTCUSDT", "BTC-USDT-SWAP":
		return instBTC
	case "ETHUSDT", "ETH-USDT-SWAP":
		return instETH
	}
	return ""
}
