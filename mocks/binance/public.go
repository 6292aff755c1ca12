package binance

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

func (s *Server) checkSymbol(r *request, required bool) *apiError {
	sym := r.params.Get("symbol")
	if sym == "" && required {
		return errMandatory("symbol")
	}
	if sym != "" && sym != s.cfg.Symbol {
		return errSymbol
	}
	return nil
}

func (s *Server) exchangeInfo(*request) (any, *apiError) {
	c := s.cfg
	filter := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	sym := map[string]any{
		"symbol": c.Symbol, "pair": c.Symbol, "contractType": "PERPETUAL", "deliveryDate": int64(4133404800000),
		"onboardDate": int64(1569398400000), "status": "TRADING", "maintMarginPercent": "2.5000",
		"requiredMarginPercent": "5.0000", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
		"pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
		"underlyingType": "COIN", "underlyingSubType": []string{"PoW"}, "settlePlan": 0, "triggerProtect": "0.0500",
		"liquidationFee": "0.012500", "marketTakeBound": "0.05",
		"filters": []map[string]any{
			filter("filterType", "PRICE_FILTER", "minPrice", "556.80", "maxPrice", "4529764", "tickSize", c.TickSize.String()),
			filter("filterType", "LOT_SIZE", "stepSize", c.StepSize.String(), "minQty", c.MinQty.String(), "maxQty", c.MaxQty.String()),
			filter("filterType", "MARKET_LOT_SIZE", "stepSize", c.StepSize.String(), "minQty", c.MinQty.String(), "maxQty", c.MarketMaxQty.String()),
			filter("filterType", "MAX_NUM_ORDERS", "limit", 200),
			filter("filterType", "MAX_NUM_ALGO_ORDERS", "limit", 10),
			filter("filterType", "MIN_NOTIONAL", "notional", c.MinNotional.String()),
			filter("filterType", "PERCENT_PRICE", "multiplierUp", "1.0500", "multiplierDown", "0.9500", "multiplierDecimal", "4"),
		},
		"orderTypes":  []string{"LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"},
		"timeInForce": []string{"GTC", "IOC", "FOK", "GTX", "GTD"},
	}
	limit := func(typ, interval string, num, lim int) map[string]any {
		return map[string]any{"rateLimitType": typ, "interval": interval, "intervalNum": num, "limit": lim}
	}
	return map[string]any{
		"timezone": "UTC", "serverTime": time.Now().UnixMilli(), "futuresType": "U_MARGINED",
		"rateLimits": []map[string]any{
			limit("REQUEST_WEIGHT", "MINUTE", 1, weightLimit),
			limit("ORDERS", "MINUTE", 1, orders1mLimit),
			limit("ORDERS", "SECOND", 10, orders10sLimit),
		},
		"exchangeFilters": []any{},
		"assets":          []map[string]any{{"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "-10000"}},
		"symbols":         []map[string]any{sym},
	}, nil
}

func (s *Server) ticker24h(r *request) (any, *apiError) {
	if err := s.checkSymbol(r, false); err != nil {
		return nil, err
	}
	v := s.cfg.Book.Volume24h()
	change := v.Last.Sub(v.Open)
	pct, wavg := decimal.Zero, decimal.Zero
	if v.Open.IsPositive() {
		pct = change.Div(v.Open).Mul(decimal.NewFromInt(100))
	}
	if v.Base.IsPositive() {
		wavg = v.Quote.Div(v.Base)
	}
	t := map[string]any{
		"symbol": s.cfg.Symbol, "priceChange": change.StringFixed(2), "priceChangePercent": pct.StringFixed(3),
		"weightedAvgPrice": wavg.StringFixed(2), "lastPrice": v.Last.StringFixed(2), "lastQty": "0.001",
		"openPrice": v.Open.StringFixed(2), "highPrice": v.High.StringFixed(2), "lowPrice": v.Low.StringFixed(2),
		"volume": v.Base.StringFixed(3), "quoteVolume": v.Quote.StringFixed(2), "openTime": v.OpenTime.UnixMilli(),
		"closeTime": v.CloseTime.UnixMilli(), "firstId": int64(1), "lastId": v.Count, "count": v.Count,
	}
	if r.params.Get("symbol") == "" {
		return []any{t}, nil
	}
	return t, nil
}

func (s *Server) premiumIndex(r *request) (any, *apiError) {
	if err := s.checkSymbol(r, false); err != nil {
		return nil, err
	}
	q := s.cfg.Book.Quote()
	p := map[string]any{
		"symbol": s.cfg.Symbol, "markPrice": q.Mark.StringFixed(8), "indexPrice": q.Index.StringFixed(8),
		"estimatedSettlePrice": q.Index.StringFixed(8), "lastFundingRate": q.FundingRate.StringFixed(8),
		"interestRate": "0.00010000", "nextFundingTime": q.NextFunding.UnixMilli(), "time": s.cfg.Clock.Now().UnixMilli(),
	}
	if r.params.Get("symbol") == "" {
		return []any{p}, nil
	}
	return p, nil
}

func (s *Server) depth(r *request) (any, *apiError) {
	if err := s.checkSymbol(r, true); err != nil {
		return nil, err
	}
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
	bids, asks := s.cfg.Book.Depth(n)
	levels := func(ls []market.Level) [][2]string {
		return exchange.Convert(ls, func(l *market.Level) [2]string { return [2]string{s.acct.px(l.Price), s.acct.qty(l.Qty)} })
	}
	now := s.cfg.Clock.Now().UnixMilli()
	return map[string]any{"lastUpdateId": now, "E": now, "T": now, "bids": levels(bids), "asks": levels(asks)}, nil
}

func (s *Server) trades(r *request) (any, *apiError) {
	if err := s.checkSymbol(r, true); err != nil {
		return nil, err
	}
	n := 500
	if l := r.params.Get("limit"); l != "" {
		var err error
		if n, err = strconv.Atoi(l); err != nil || n < 1 || n > 1000 {
			return nil, errMandatory("limit")
		}
	}
	out := []map[string]any{}
	for _, t := range s.cfg.Book.Trades(n) {
		out = append(out, map[string]any{"id": t.ID, "price": t.Price.StringFixed(2), "qty": t.Qty.StringFixed(3),
			"quoteQty": t.Price.Mul(t.Qty).StringFixed(5), "time": t.Time.UnixMilli(), "isBuyerMaker": t.BuyerMaker})
	}
	return out, nil
}
