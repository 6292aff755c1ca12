package binance

import (
	"net/http"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

// checkSymbol reads the symbol parameter: the instrument it names, or without one (when not required) every listed
// instrument; an unlisted symbol is -1121.
func (s *Server) checkSymbol(r *request, required bool) ([]*instrument, *apiError) {
	sym := r.params.Get("symbol")
	if sym == "" {
		if required {
			return nil, errMandatory("symbol")
		}
		return s.acct.insts, nil
	}
	in, ok := s.acct.instrument(sym)
	if !ok {
		return nil, errSymbol
	}
	return []*instrument{in}, nil
}

// one is what an endpoint answers for the instruments checkSymbol read: the object of the one named by the symbol
// parameter, else the list of every listed instrument's.
func one(r *request, insts []*instrument, f func(*instrument) map[string]any) any {
	if r.params.Get("symbol") != "" {
		return f(insts[0])
	}
	out := make([]any, 0, len(insts))
	for _, in := range insts {
		out = append(out, f(in))
	}
	return out
}

func (s *Server) exchangeInfo(*request) (any, *apiError) {
	filter := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	symbols := make([]map[string]any, 0, len(s.acct.insts))
	for _, c := range s.acct.insts {
		symbols = append(symbols, map[string]any{
			"symbol": c.Symbol, "pair": c.Symbol, "contractType": "PERPETUAL", "deliveryDate": int64(4133404800000),
			"onboardDate": int64(1569398400000), "status": "TRADING", "maintMarginPercent": "2.5000",
			"requiredMarginPercent": "5.0000", "baseAsset": c.base, "quoteAsset": "USDT", "marginAsset": "USDT",
			"pricePrecision": int(c.listPricePrec), "quantityPrecision": int(c.listQtyPrec), "baseAssetPrecision": 8,
			"quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": c.subType, "settlePlan": 0,
			"triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
			"filters": []map[string]any{
				filter("filterType", "PRICE_FILTER", "minPrice", c.minPriceText, "maxPrice", c.maxPriceText, "tickSize", c.TickSize.String()),
				filter("filterType", "LOT_SIZE", "stepSize", c.StepSize.String(), "minQty", c.MinQty.String(), "maxQty", c.MaxQty.String()),
				filter("filterType", "MARKET_LOT_SIZE", "stepSize", c.StepSize.String(), "minQty", c.MinQty.String(), "maxQty", c.MarketMaxQty.String()),
				filter("filterType", "MAX_NUM_ORDERS", "limit", 200),
				filter("filterType", "MAX_NUM_ALGO_ORDERS", "limit", 10),
				filter("filterType", "MIN_NOTIONAL", "notional", c.MinNotional.String()),
				filter("filterType", "PERCENT_PRICE", "multiplierUp", "1.0500", "multiplierDown", "0.9500", "multiplierDecimal", "4"),
			},
			"orderTypes":  []string{"LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"},
			"timeInForce": []string{"GTC", "IOC", "FOK", "GTX", "GTD"},
		})
	}
	limit := func(typ, interval string, num, lim int) map[string]any {
		return map[string]any{"rateLimitType": typ, "interval": interval, "intervalNum": num, "limit": lim}
	}
	return map[string]any{
		"timezone": "UTC", "serverTime": s.faults.Now().UnixMilli(), "futuresType": "U_MARGINED",
		"rateLimits": []map[string]any{
			limit("REQUEST_WEIGHT", "MINUTE", 1, weightLimit),
			limit("ORDERS", "MINUTE", 1, orders1mLimit),
			limit("ORDERS", "SECOND", 10, orders10sLimit),
		},
		"exchangeFilters": []any{},
		"assets":          []map[string]any{{"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "-10000"}},
		"symbols":         symbols,
	}, nil
}

// ticker24h is the 24h ticker of the symbol, or without one the list of every listed symbol's.
func (s *Server) ticker24h(r *request) (any, *apiError) {
	insts, err := s.checkSymbol(r, false)
	if err != nil {
		return nil, err
	}
	return one(r, insts, func(in *instrument) map[string]any {
		v := in.Book.Volume24h()
		change := v.Last.Sub(v.Open)
		pct, wavg := decimal.Zero, decimal.Zero
		if v.Open.IsPositive() {
			pct = change.Div(v.Open).Mul(decimal.NewFromInt(100))
		}
		if v.Base.IsPositive() {
			wavg = v.Quote.Div(v.Base)
		}
		px := func(d decimal.Decimal) string { return d.StringFixed(in.listPricePrec) }
		return map[string]any{
			"symbol": in.Symbol, "priceChange": px(change), "priceChangePercent": pct.StringFixed(3),
			"weightedAvgPrice": px(wavg), "lastPrice": px(v.Last), "lastQty": in.lastQty,
			"openPrice": px(v.Open), "highPrice": px(v.High), "lowPrice": px(v.Low),
			"volume": v.Base.StringFixed(in.listQtyPrec), "quoteVolume": v.Quote.StringFixed(2), "openTime": v.OpenTime.UnixMilli(),
			"closeTime": v.CloseTime.UnixMilli(), "firstId": int64(1), "lastId": v.Count, "count": v.Count,
		}
	}), nil
}

// premiumIndex is the mark, index and funding of the symbol, or without one the list of every listed symbol's.
func (s *Server) premiumIndex(r *request) (any, *apiError) {
	insts, err := s.checkSymbol(r, false)
	if err != nil {
		return nil, err
	}
	return one(r, insts, func(in *instrument) map[string]any {
		q := in.Book.Quote()
		return map[string]any{
			"symbol": in.Symbol, "markPrice": q.Mark.StringFixed(8), "indexPrice": q.Index.StringFixed(8),
			"estimatedSettlePrice": q.Index.StringFixed(8), "lastFundingRate": q.FundingRate.StringFixed(8),
			"interestRate": "0.00010000", "nextFundingTime": q.NextFunding.UnixMilli(), "time": s.cfg.Clock.Now().UnixMilli(),
		}
	}), nil
}

// bookTicker is the best bid and ask of the symbol with their quantities, or without one of every listed symbol
// (GET /fapi/v1/ticker/bookTicker).
func (s *Server) bookTicker(r *request) (any, *apiError) {
	insts, err := s.checkSymbol(r, false)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now().UnixMilli()
	return one(r, insts, func(in *instrument) map[string]any {
		q := in.Book.Quote()
		bids, asks := in.Book.Depth(1)
		bidQty, askQty := decimal.Zero, decimal.Zero
		if len(bids) > 0 {
			bidQty = bids[0].Qty
		}
		if len(asks) > 0 {
			askQty = asks[0].Qty
		}
		return map[string]any{
			"symbol": in.Symbol, "bidPrice": q.Bid.StringFixed(in.listPricePrec), "bidQty": bidQty.StringFixed(in.listQtyPrec),
			"askPrice": q.Ask.StringFixed(in.listPricePrec), "askQty": askQty.StringFixed(in.listQtyPrec), "time": now,
			"lastUpdateId": now,
		}
	}), nil
}

func (s *Server) depth(r *request) (any, *apiError) {
	insts, aerr := s.checkSymbol(r, true)
	if aerr != nil {
		return nil, aerr
	}
	in := insts[0]
	n := 500
	if l := r.params.Get("limit"); l != "" {
		var err error
		if n, err = strconv.Atoi(l); err != nil {
			return nil, errMandatory("limit")
		}
		switch n {
		case 5, 10, 20, 50, 100, 500, 1000:
		default:
			return nil, errf(http.StatusBadRequest, -4021, "'%d' is not valid depth limit.", n)
		}
	}
	bids, asks := in.Book.Depth(n)
	levels := func(ls []market.Level) [][2]string {
		return exchange.Convert(ls, func(l *market.Level) [2]string { return [2]string{in.px(l.Price), in.qty(l.Qty)} })
	}
	now := s.cfg.Clock.Now().UnixMilli()
	return map[string]any{"lastUpdateId": now, "E": now, "T": now, "bids": levels(bids), "asks": levels(asks)}, nil
}

func (s *Server) trades(r *request) (any, *apiError) {
	insts, aerr := s.checkSymbol(r, true)
	if aerr != nil {
		return nil, aerr
	}
	in := insts[0]
	n := 500
	if l := r.params.Get("limit"); l != "" {
		var err error
		if n, err = strconv.Atoi(l); err != nil || n < 1 || n > 1000 {
			return nil, errMandatory("limit")
		}
	}
	out := []map[string]any{}
	for _, t := range in.Book.Trades(n) {
		out = append(out, map[string]any{"id": t.ID, "price": t.Price.StringFixed(in.listPricePrec), "qty": t.Qty.StringFixed(in.listQtyPrec),
			"quoteQty": t.Price.Mul(t.Qty).StringFixed(5), "time": t.Time.UnixMilli(), "isBuyerMaker": t.BuyerMaker})
	}
	return out, nil
}
