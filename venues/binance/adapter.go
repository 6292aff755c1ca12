package binance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/adshao/go-binance/v2/futures"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/adaptercfg"
	"github.com/execd-dev/execd/venues/internal/clocksync"
	"github.com/execd-dev/execd/venues/internal/convert"
	"github.com/execd-dev/execd/venues/internal/httpx"
	"github.com/execd-dev/execd/venues/internal/instcache"
)

// Config configures one Binance-protocol venue.
type Config struct {
	Name       string        // venue name
	BaseURL    string        // REST base, e.g. the mock's URL() or https://fapi.binance.com
	WSURL      string        // user-data stream base, e.g. the mock's WSURL() or wss://fstream.binance.com/ws
	APIKey     string        //
	Secret     secret.String //
	HTTPClient *http.Client  // nil: a client with a 10 s timeout
	RecvWindow time.Duration // default 5 s
	Logger     *zap.Logger
}

// Adapter is a venues.Venue speaking Binance USDⓈ-M futures. Safe for concurrent use.
type Adapter struct {
	cfg    Config
	log    *zap.Logger
	http   *http.Client
	offset clocksync.Offset // ms the local clock is ahead of the venue's, as go-binance's TimeOffset

	symbols *instcache.Cache[symbolInfo] // exchangeInfo: canonical instrument ↔ symbol, rules

	mu        sync.Mutex
	clientIDs map[int64]string // orderId → clientOrderId, immutable facts
}

var (
	_ venues.Venue       = (*Adapter)(nil)
	_ venues.Quoter      = (*Adapter)(nil)
	_ venues.OrderFiller = (*Adapter)(nil)
	_ venues.Amender     = (*Adapter)(nil)
)

const (
	exchangeInfoTTL = instcache.DefaultTTL
	maxClientIDs    = 10000
)

// New checks the config and builds the adapter; it does no I/O.
func New(cfg Config) (*Adapter, error) {
	if err := adaptercfg.Check("binance", cfg.Name, cfg.BaseURL, cfg.WSURL, cfg.APIKey != "" && !cfg.Secret.Empty(),
		"API key and secret"); err != nil {
		return nil, err
	}
	cfg.RecvWindow, cfg.Logger = adaptercfg.RecvWindow(cfg.RecvWindow), adaptercfg.Logger(cfg.Logger)
	a := &Adapter{cfg: cfg, log: cfg.Logger.With(zap.String("venue", cfg.Name)), http: httpx.NewClient(cfg.HTTPClient),
		clientIDs: map[int64]string{}}
	a.symbols = &instcache.Cache[symbolInfo]{Load: a.loadExchangeInfo, TTL: exchangeInfoTTL, Log: a.log, What: "exchangeInfo"}
	return a, nil
}

// Name is the configured venue name.
func (a *Adapter) Name() string { return a.cfg.Name }

// client returns a go-binance client for one call. A fresh struct per call keeps TimeOffset free of data races.
func (a *Adapter) client() *futures.Client {
	c := futures.NewClient(a.cfg.APIKey, a.cfg.Secret.Reveal())
	c.BaseURL = a.cfg.BaseURL
	c.HTTPClient = a.http
	c.Logger = log.New(io.Discard, "", 0)
	c.Debug = false
	c.TimeOffset = a.offset.Load()
	return c
}

func (a *Adapter) recvWindow() futures.RequestOption {
	return futures.WithRecvWindow(a.cfg.RecvWindow.Milliseconds())
}

// do runs one REST call and classifies its failure. On -1021 it resyncs the clock offset once.
func (a *Adapter) do(ctx context.Context, op string, mutating bool, fn func(context.Context, *futures.Client) error) error {
	cctx, info := httpx.WithInfo(ctx)
	err := fn(cctx, a.client())
	if err == nil {
		return nil
	}
	verr := a.classify(op, info, mutating, err)
	var ve *venues.Error
	if errors.As(verr, &ve) && ve.Code == "-1021" {
		a.resyncTime(ctx)
	}
	return verr
}

func (a *Adapter) resyncTime(ctx context.Context) {
	a.offset.Resync(ctx, a.log, time.Now, func(ctx context.Context) (int64, error) {
		return a.client().NewServerTimeService().Do(ctx)
	})
}

// symbol returns the venue symbol and rules of a canonical instrument, loading exchangeInfo when stale.
func (a *Adapter) symbol(ctx context.Context, op, instrument string) (symbolInfo, error) {
	if _, _, err := venues.ParseInstrument(instrument); err != nil {
		return symbolInfo{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	info, listed, err := a.symbols.Lookup(ctx, op, instrument)
	if err != nil {
		return symbolInfo{}, err
	}
	if !listed {
		err := fmt.Errorf("instrument %s is not listed as a perpetual", instrument)
		return symbolInfo{}, &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
	}
	return info, nil
}

// loadExchangeInfo reads the listed perpetuals (the symbols cache's loader).
func (a *Adapter) loadExchangeInfo(ctx context.Context, op string) (instcache.Set[symbolInfo], error) {
	var ei *futures.ExchangeInfo
	if err := a.do(ctx, op, false, func(ctx context.Context, c *futures.Client) (err error) {
		ei, err = c.NewExchangeInfoService().Do(ctx)
		return err
	}); err != nil {
		return instcache.Set[symbolInfo]{}, err
	}
	set := instcache.NewSet[symbolInfo]()
	for i := range ei.Symbols {
		s := &ei.Symbols[i]
		if s.ContractType != futures.ContractTypePerpetual {
			continue
		}
		info, err := toSymbol(s)
		if err != nil {
			a.log.Warn("skipping symbol", zap.String("symbol", s.Symbol), zap.Error(err))
			continue
		}
		set.Add(info.instrument, s.Symbol, info)
	}
	return set, nil
}

// instrumentOf maps a venue symbol to its canonical instrument, if known.
func (a *Adapter) instrumentOf(symbol string) (string, bool) { return a.symbols.Instrument(symbol) }

func (a *Adapter) rememberClientID(orderID int64, clientID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.clientIDs) >= maxClientIDs {
		clear(a.clientIDs)
	}
	a.clientIDs[orderID] = clientID
}

// Rules returns the instrument's trading rules from exchangeInfo (cached, refreshed every 5 minutes).
func (a *Adapter) Rules(ctx context.Context, instrument string) (venues.Rules, error) {
	info, err := a.symbol(ctx, "rules", instrument)
	return info.rules, err
}

// Stats returns mark price and funding (premiumIndex) and 24 h volume (ticker).
func (a *Adapter) Stats(ctx context.Context, instrument string) (venues.Stats, error) {
	info, err := a.symbol(ctx, "stats", instrument)
	if err != nil {
		return venues.Stats{}, err
	}
	sym := info.rules.Symbol
	var tickers []*futures.PriceChangeStats
	var premium []*futures.PremiumIndex
	if err := a.do(ctx, "stats", false, func(ctx context.Context, c *futures.Client) (err error) {
		if tickers, err = c.NewListPriceChangeStatsService().Symbol(sym).Do(ctx); err != nil {
			return err
		}
		premium, err = c.NewPremiumIndexService().Symbol(sym).Do(ctx)
		return err
	}); err != nil {
		return venues.Stats{}, err
	}
	if len(tickers) != 1 || len(premium) != 1 || tickers[0] == nil || premium[0] == nil {
		return venues.Stats{}, a.badPayload("stats", false, fmt.Errorf("want one ticker and one premium index for %s", sym))
	}
	vol, err1 := convert.Dec("volume", tickers[0].Volume)
	qvol, err2 := convert.Dec("quoteVolume", tickers[0].QuoteVolume)
	mark, err3 := convert.Dec("markPrice", premium[0].MarkPrice)
	fund, err4 := convert.Dec("lastFundingRate", premium[0].LastFundingRate)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return venues.Stats{}, a.badPayload("stats", false, err)
	}
	st := venues.Stats{Instrument: instrument, MarkPrice: mark, Volume24h: vol, QuoteVol24h: qvol, FundingRate: fund,
		Time: time.UnixMilli(premium[0].Time).UTC()}
	switch next := premium[0].NextFundingTime; {
	case next < 0:
		return venues.Stats{}, a.badPayload("stats", false, fmt.Errorf("nextFundingTime %d", next))
	case next > 0:
		st.NextFunding = time.UnixMilli(next).UTC()
	}
	return st, nil
}

// Quote reads the mark price in one request, GET /fapi/v1/premiumIndex; it gives no bid or ask, so they are zero.
func (a *Adapter) Quote(ctx context.Context, instrument string) (venues.Quote, error) {
	info, err := a.symbol(ctx, "quote", instrument)
	if err != nil {
		return venues.Quote{}, err
	}
	sym := info.rules.Symbol
	var premium []*futures.PremiumIndex
	if err := a.do(ctx, "quote", false, func(ctx context.Context, c *futures.Client) (err error) {
		premium, err = c.NewPremiumIndexService().Symbol(sym).Do(ctx)
		return err
	}); err != nil {
		return venues.Quote{}, err
	}
	if len(premium) != 1 || premium[0] == nil {
		return venues.Quote{}, a.badPayload("quote", false, fmt.Errorf("want one premium index for %s, got %d", sym, len(premium)))
	}
	q, err := toQuote(instrument, sym, premium[0])
	if err != nil {
		return venues.Quote{}, a.badPayload("quote", false, err)
	}
	return q, nil
}

// Touch reads the best bid and ask in one request, GET /fapi/v1/ticker/bookTicker (weight 2; venues.Toucher).
func (a *Adapter) Touch(ctx context.Context, instrument string) (venues.Quote, error) {
	info, err := a.symbol(ctx, "touch", instrument)
	if err != nil {
		return venues.Quote{}, err
	}
	sym := info.rules.Symbol
	var books []*futures.BookTicker
	if err := a.do(ctx, "touch", false, func(ctx context.Context, c *futures.Client) (err error) {
		books, err = c.NewListBookTickersService().Symbol(sym).Do(ctx)
		return err
	}); err != nil {
		return venues.Quote{}, err
	}
	if len(books) != 1 || books[0] == nil {
		return venues.Quote{}, a.badPayload("touch", false, fmt.Errorf("want one book ticker for %s, got %d", sym, len(books)))
	}
	q, err := toTouch(instrument, sym, books[0])
	if err != nil {
		return venues.Quote{}, a.badPayload("touch", false, err)
	}
	return q, nil
}

var _ venues.Toucher = (*Adapter)(nil)

// clientIDRe is what Binance accepts as newClientOrderId.
var clientIDRe = regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)

func (a *Adapter) invalid(op string, err error) error {
	return &venues.Error{Venue: a.cfg.Name, Op: op, Class: venues.Rejected, Msg: err.Error(), Err: err}
}

// Place sends a new order with newOrderRespType RESULT. A post-only order goes as timeInForce GTX; if it would take
// liquidity Binance refuses it with -5022 (HTTP 400), returned as a Rejected error, and keeps no record of it, so a
// query of its client id then finds nothing (USDⓈ-M "Error Codes" page, -5022 GTX_ORDER_REJECT; derivatives change
// log, entry of 2023-03-08: since 2023-03-22 such an order is refused rather than accepted and then EXPIRED).
func (a *Adapter) Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	info, err := a.symbol(ctx, "place", req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	side, err := sideToVenue(req.Side)
	switch {
	case err != nil:
		return venues.Order{}, a.invalid("place", err)
	case !clientIDRe.MatchString(req.ClientOrderID):
		return venues.Order{}, a.invalid("place", fmt.Errorf("client order id %q is not valid", req.ClientOrderID))
	case !req.Quantity.IsPositive():
		return venues.Order{}, a.invalid("place", fmt.Errorf("quantity %s is not positive", req.Quantity))
	}
	build := func(c *futures.Client) (*futures.CreateOrderService, error) {
		s := c.NewCreateOrderService().Symbol(info.rules.Symbol).Side(side).Quantity(req.Quantity.String()).
			NewClientOrderID(req.ClientOrderID).NewOrderResponseType(futures.NewOrderRespTypeRESULT)
		if req.ReduceOnly {
			s = s.ReduceOnly(true)
		}
		switch req.Type {
		case venues.Market:
			return s.Type(futures.OrderTypeMarket), nil
		case venues.Limit:
			if !req.Price.IsPositive() {
				return nil, fmt.Errorf("limit price %s is not positive", req.Price)
			}
			s = s.Type(futures.OrderTypeLimit).Price(req.Price.String())
			switch req.TimeInForce {
			case venues.GTC:
				return s.TimeInForce(futures.TimeInForceTypeGTC), nil
			case venues.IOC:
				return s.TimeInForce(futures.TimeInForceTypeIOC), nil
			case venues.PostOnly:
				return s.TimeInForce(futures.TimeInForceTypeGTX), nil
			}
			return nil, fmt.Errorf("time in force %q", req.TimeInForce)
		}
		return nil, fmt.Errorf("order type %q", req.Type)
	}
	if _, err := build(a.client()); err != nil { // validate before anything is sent
		return venues.Order{}, a.invalid("place", err)
	}
	var res *futures.CreateOrderResponse
	if err := a.do(ctx, "place", true, func(ctx context.Context, c *futures.Client) error {
		s, err := build(c)
		if err != nil {
			return err
		}
		res, err = s.Do(ctx, a.recvWindow())
		return err
	}); err != nil {
		return venues.Order{}, err
	}
	o, err := toOrder(req.Instrument, fieldsOfCreate(res))
	if err != nil {
		return venues.Order{}, a.badPayload("place", true, err)
	}
	a.rememberClientID(res.OrderID, res.ClientOrderID)
	return o, nil
}

// Query returns the order with the given client order id; -2013 wraps venues.ErrNotFound.
func (a *Adapter) Query(ctx context.Context, instrument, clientOrderID string) (venues.Order, error) {
	info, err := a.symbol(ctx, "query", instrument)
	if err != nil {
		return venues.Order{}, err
	}
	var res *futures.Order
	if err := a.do(ctx, "query", false, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewGetOrderService().Symbol(info.rules.Symbol).OrigClientOrderID(clientOrderID).Do(ctx, a.recvWindow())
		return err
	}); err != nil {
		return venues.Order{}, err
	}
	o, err := toOrder(instrument, fieldsOfOrder(res))
	if err != nil {
		return venues.Order{}, a.badPayload("query", false, err)
	}
	a.rememberClientID(res.OrderID, res.ClientOrderID)
	return o, nil
}

// Cancel cancels by client order id. When the venue answers -2011 (unknown or already final) the order is
// queried: its final state is returned if it exists, an error wrapping venues.ErrNotFound if it does not.
func (a *Adapter) Cancel(ctx context.Context, instrument, clientOrderID string) (venues.Order, error) {
	info, err := a.symbol(ctx, "cancel", instrument)
	if err != nil {
		return venues.Order{}, err
	}
	var res *futures.CancelOrderResponse
	err = a.do(ctx, "cancel", true, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewCancelOrderService().Symbol(info.rules.Symbol).OrigClientOrderID(clientOrderID).Do(ctx, a.recvWindow())
		return err
	})
	if err != nil {
		if venues.IsNotFound(err) {
			return a.Query(ctx, instrument, clientOrderID)
		}
		return venues.Order{}, err
	}
	f, err := fieldsOfCancel(res)
	if err != nil {
		return venues.Order{}, a.badPayload("cancel", true, err)
	}
	o, err := toOrder(instrument, f)
	if err != nil {
		return venues.Order{}, a.badPayload("cancel", true, err)
	}
	return o, nil
}

// Amend modifies an open LIMIT order (PUT /fapi/v1/order). Binance's modify needs the side, the quantity and the
// price, so the order is read first (by client order id) and what the request leaves unchanged is taken from it;
// the modify then names the order by its orderId. A quantity at or below what has filled makes Binance cancel the
// order, and so does a new price that would make a GTX (post-only) order execute at once (USDⓈ-M Modify Order page):
// either way the cancelled order is returned. When the venue answers -2013/-2011 (not open, or unknown) the order is
// read again: an order that has ended is a Rejected error, one that does not exist wraps venues.ErrNotFound.
func (a *Adapter) Amend(ctx context.Context, req venues.AmendRequest) (venues.Order, error) {
	const op = "amend"
	info, err := a.symbol(ctx, op, req.Instrument)
	if err != nil {
		return venues.Order{}, err
	}
	if err := checkAmend(info.rules, req); err != nil {
		return venues.Order{}, a.invalid(op, err)
	}
	cur, err := a.Query(ctx, req.Instrument, req.ClientOrderID)
	if err != nil {
		return venues.Order{}, err
	}
	if cur.Status.Terminal() {
		return venues.Order{}, endedError(a.cfg.Name, op, "", cur)
	}
	side, err := sideToVenue(cur.Side)
	if err != nil {
		return venues.Order{}, a.badPayload(op, false, err)
	}
	orderID, err := strconv.ParseInt(cur.VenueOrderID, 10, 64)
	if err != nil {
		return venues.Order{}, a.badPayload(op, false, err)
	}
	qty, price := cur.Quantity, cur.Price
	if !req.Quantity.IsZero() {
		qty = req.Quantity
	}
	if !req.Price.IsZero() {
		price = req.Price
	}
	var res *futures.ModifyOrderResponse
	err = a.do(ctx, op, true, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewModifyOrderService().Symbol(info.rules.Symbol).OrderID(orderID).Side(side).
			Quantity(qty.String()).Price(price.String()).Do(ctx, a.recvWindow())
		return err
	})
	if err != nil {
		if !venues.IsNotFound(err) {
			return venues.Order{}, err
		}
		code := ""
		if ve := (*venues.Error)(nil); errors.As(err, &ve) {
			code = ve.Code
		}
		now, qerr := a.Query(ctx, req.Instrument, req.ClientOrderID)
		if qerr != nil {
			return venues.Order{}, qerr
		}
		return venues.Order{}, endedError(a.cfg.Name, op, code, now)
	}
	o, err := toOrder(req.Instrument, fieldsOfModify(res))
	if err != nil {
		return venues.Order{}, a.badPayload(op, true, err)
	}
	return o, nil
}

// checkAmend validates an amendment against the instrument's rules before anything is sent.
func checkAmend(r venues.Rules, req venues.AmendRequest) error {
	switch {
	case !clientIDRe.MatchString(req.ClientOrderID):
		return fmt.Errorf("client order id %q is not valid", req.ClientOrderID)
	case req.Quantity.IsZero() && req.Price.IsZero():
		return errors.New("an amendment changes the quantity, the price or both")
	case req.Quantity.IsNegative() || !r.OnLot(req.Quantity):
		return fmt.Errorf("quantity %s is not a multiple of the lot %s", req.Quantity, r.LotSize)
	case req.Price.IsNegative() || !r.OnTick(req.Price):
		return fmt.Errorf("price %s is not a multiple of the tick %s", req.Price, r.TickSize)
	}
	return nil
}

// endedError is the Rejected error for an amendment of order o that is not open (or, if the read-back says it is,
// that the venue refused as not open): never venues.ErrNotFound, the order exists.
func endedError(venue, op, code string, o venues.Order) error {
	return &venues.Error{Venue: venue, Op: op, Class: venues.Rejected, Code: code,
		Msg: fmt.Sprintf("order %s is %s: it cannot be amended", o.ClientOrderID, o.Status)}
}

// OpenOrders lists the working orders on an instrument.
func (a *Adapter) OpenOrders(ctx context.Context, instrument string) ([]venues.Order, error) {
	info, err := a.symbol(ctx, "open_orders", instrument)
	if err != nil {
		return nil, err
	}
	var res []*futures.Order
	if err := a.do(ctx, "open_orders", false, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewListOpenOrdersService().Symbol(info.rules.Symbol).Do(ctx, a.recvWindow())
		return err
	}); err != nil {
		return nil, err
	}
	out := make([]venues.Order, 0, len(res))
	for _, r := range res {
		o, err := toOrder(instrument, fieldsOfOrder(r))
		if err != nil {
			return nil, a.badPayload("open_orders", false, err)
		}
		a.rememberClientID(r.OrderID, r.ClientOrderID)
		out = append(out, o)
	}
	return out, nil
}

// Fills returns the account's trades since sinceMillis (userTrades, paged by id), each with its order's client id.
func (a *Adapter) Fills(ctx context.Context, instrument string, sinceMillis int64) ([]venues.Fill, error) {
	info, err := a.symbol(ctx, "fills", instrument)
	if err != nil {
		return nil, err
	}
	trades, err := a.userTrades(ctx, "fills", info.rules.Symbol, 0, sinceMillis)
	if err != nil {
		return nil, err
	}
	out := make([]venues.Fill, 0, len(trades))
	for _, t := range trades {
		cid, err := a.clientIDOf(ctx, info.rules.Symbol, t.OrderID)
		if err != nil {
			return nil, err
		}
		f, err := toFill(a.cfg.Name, instrument, cid, t)
		if err != nil {
			return nil, a.badPayload("fills", false, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// OrderFills returns one order's trades since sinceMillis: userTrades filtered by orderId (Binance's numeric order
// id, venueOrderID). Without venueOrderID the order is first queried by client order id; without clientOrderID its
// client id is read from the order. A trade of another order in the answer is an error.
func (a *Adapter) OrderFills(ctx context.Context, instrument, clientOrderID, venueOrderID string, sinceMillis int64) ([]venues.Fill, error) {
	const op = "order_fills"
	info, err := a.symbol(ctx, op, instrument)
	if err != nil {
		return nil, err
	}
	sym := info.rules.Symbol
	var orderID int64
	switch {
	case venueOrderID != "":
		if orderID, err = strconv.ParseInt(venueOrderID, 10, 64); err != nil || orderID <= 0 {
			return nil, a.invalid(op, fmt.Errorf("venue order id %q is not a Binance orderId", venueOrderID))
		}
		if clientOrderID == "" {
			if clientOrderID, err = a.clientIDOf(ctx, sym, orderID); err != nil {
				return nil, err
			}
		}
	case clientOrderID != "":
		o, err := a.Query(ctx, instrument, clientOrderID)
		if err != nil {
			return nil, err
		}
		if orderID, err = strconv.ParseInt(o.VenueOrderID, 10, 64); err != nil {
			return nil, a.badPayload(op, false, err)
		}
	default:
		return nil, a.invalid(op, errors.New("neither a client nor a venue order id"))
	}
	trades, err := a.userTrades(ctx, op, sym, orderID, sinceMillis)
	if err != nil {
		return nil, err
	}
	out := make([]venues.Fill, 0, len(trades))
	for _, t := range trades {
		if t.OrderID != orderID {
			return nil, a.badPayload(op, false, fmt.Errorf("trade %d of order %d in the trades of order %d", t.ID, t.OrderID, orderID))
		}
		f, err := toFill(a.cfg.Name, instrument, clientOrderID, t)
		if err != nil {
			return nil, a.badPayload(op, false, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// userTrades reads the account's trades in symbol since sinceMillis, of one order if orderID is not zero: every page
// of GET /fapi/v1/userTrades, the first from the start time, the next from the id after the last trade.
func (a *Adapter) userTrades(ctx context.Context, op, symbol string, orderID, sinceMillis int64) ([]*futures.AccountTrade, error) {
	const page = 1000
	var trades []*futures.AccountTrade
	for fromID := int64(-1); ; {
		var res []*futures.AccountTrade
		if err := a.do(ctx, op, false, func(ctx context.Context, c *futures.Client) (err error) {
			s := c.NewListAccountTradeService().Symbol(symbol).Limit(page)
			if orderID != 0 {
				s = s.OrderID(orderID)
			}
			switch {
			case fromID >= 0:
				s = s.FromID(fromID)
			case sinceMillis > 0: // startTime=0 would ask for the first week after the epoch
				s = s.StartTime(sinceMillis)
			}
			res, err = s.Do(ctx, a.recvWindow())
			return err
		}); err != nil {
			return nil, err
		}
		for _, t := range res {
			if t == nil {
				return nil, a.badPayload(op, false, errors.New("null trade"))
			}
		}
		trades = append(trades, res...)
		if len(res) < page {
			return trades, nil
		}
		fromID = res[len(res)-1].ID + 1
	}
}

// clientIDOf finds an order's client id: from the cache, else by querying the order by id.
func (a *Adapter) clientIDOf(ctx context.Context, symbol string, orderID int64) (string, error) {
	a.mu.Lock()
	cid, ok := a.clientIDs[orderID]
	a.mu.Unlock()
	if ok {
		return cid, nil
	}
	var res *futures.Order
	if err := a.do(ctx, "fills", false, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewGetOrderService().Symbol(symbol).OrderID(orderID).Do(ctx, a.recvWindow())
		return err
	}); err != nil {
		return "", err
	}
	a.rememberClientID(orderID, res.ClientOrderID)
	return res.ClientOrderID, nil
}

// Positions returns the account's non-zero positions (positionRisk). A position the adapter cannot map (not a
// listed perpetual, or hedge mode) is an error: hiding exposure from the reconcile loop is worse than failing.
func (a *Adapter) Positions(ctx context.Context) ([]venues.Position, error) {
	if err := a.symbols.Ensure(ctx, "positions"); err != nil {
		return nil, err
	}
	var res []*futures.PositionRisk
	if err := a.do(ctx, "positions", false, func(ctx context.Context, c *futures.Client) (err error) {
		res, err = c.NewGetPositionRiskService().Do(ctx, a.recvWindow())
		return err
	}); err != nil {
		return nil, err
	}
	var out []venues.Position
	for _, r := range res {
		if r == nil {
			return nil, a.badPayload("positions", false, errors.New("null position"))
		}
		amt, err := convert.Dec("positionAmt", r.PositionAmt)
		if err != nil {
			return nil, a.badPayload("positions", false, err)
		}
		if amt.IsZero() {
			continue
		}
		inst, ok := a.instrumentOf(r.Symbol)
		if !ok {
			return nil, a.badPayload("positions", false, fmt.Errorf("position in unmapped symbol %s", r.Symbol))
		}
		p, err := toPosition(a.cfg.Name, inst, r)
		if err != nil {
			return nil, a.badPayload("positions", false, err)
		}
		out = append(out, p)
	}
	return out, nil
}
