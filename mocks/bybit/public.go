package bybit

import (
	"strconv"
	"time"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

// checkSymbol validates category=linear and, if given or required, the symbol.
func (s *Server) checkSymbol(r *request, required bool) *apiError {
	if r.query.Get("category") != "linear" {
		return errCategory
	}
	sym := r.query.Get("symbol")
	if (sym == "" && required) || (sym != "" && sym != s.cfg.Symbol) {
		return errSymbol
	}
	return nil
}

func (s *Server) instruments(r *request) (any, *apiError) {
	if aerr := s.checkSymbol(r, false); aerr != nil {
		return nil, aerr
	}
	c := s.cfg
	a := s.acct
	return map[string]any{"category": "linear", "nextPageCursor": "", "list": []map[string]any{{
		"symbol": c.Symbol, "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": "BTC",
		"quoteCoin": "USDT", "settleCoin": "USDT", "launchTime": "1585526400000", "deliveryTime": "0",
		"deliveryFeeRate": "", "priceScale": strconv.Itoa(int(a.pricePrec)), "unifiedMarginTrade": true,
		"fundingInterval": 480, "copyTrading": "both", "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375",
		"leverageFilter": map[string]string{"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
		"priceFilter":    map[string]string{"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": c.TickSize.StringFixed(a.pricePrec)},
		"lotSizeFilter": map[string]string{"maxOrderQty": a.qty(c.MaxOrderQty), "maxMktOrderQty": a.qty(c.MaxMktOrderQty),
			"minOrderQty": a.qty(c.MinOrderQty), "qtyStep": a.qty(c.QtyStep), "postOnlyMaxOrderQty": a.qty(c.MaxOrderQty),
			"minNotionalValue": c.MinNotionalValue.String()},
	}}}, nil
}

func (s *Server) tickers(r *request) (any, *apiError) {
	if aerr := s.checkSymbol(r, false); aerr != nil {
		return nil, aerr
	}
	q := s.cfg.Book.Quote()
	v := s.cfg.Book.Volume24h()
	bids, asks := s.cfg.Book.Depth(1)
	a := s.acct
	bidSz, askSz := "0", "0"
	if len(bids) > 0 {
		bidSz = a.qty(bids[0].Qty)
	}
	if len(asks) > 0 {
		askSz = a.qty(asks[0].Qty)
	}
	pct := "0"
	if v.Open.IsPositive() {
		pct = v.Last.Sub(v.Open).Div(v.Open).StringFixed(6)
	}
	return map[string]any{"category": "linear", "list": []map[string]any{{
		"symbol": s.cfg.Symbol, "lastPrice": a.px(v.Last), "indexPrice": a.px(q.Index), "markPrice": a.px(q.Mark),
		"prevPrice24h": a.px(v.Open), "price24hPcnt": pct, "highPrice24h": a.px(v.High), "lowPrice24h": a.px(v.Low),
		"prevPrice1h": a.px(v.Last), "openInterest": "0", "openInterestValue": "0",
		"turnover24h": v.Quote.StringFixed(4), "volume24h": a.qty(v.Base), "fundingRate": q.FundingRate.String(),
		"nextFundingTime": strconv.FormatInt(q.NextFunding.UnixMilli(), 10), "predictedDeliveryPrice": "",
		"basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
		"bid1Price": a.px(q.Bid), "bid1Size": bidSz, "ask1Price": a.px(q.Ask), "ask1Size": askSz,
	}}}, nil
}

func (s *Server) orderbook(r *request) (any, *apiError) {
	if aerr := s.checkSymbol(r, true); aerr != nil {
		return nil, aerr
	}
	n := 25
	if l := r.query.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 500 {
			return nil, errParams("params error: limit invalid")
		}
		n = v
	}
	bids, asks := s.cfg.Book.Depth(n)
	conv := func(ls []market.Level) [][2]string {
		return exchange.Convert(ls, func(l *market.Level) [2]string { return [2]string{s.acct.px(l.Price), s.acct.qty(l.Qty)} })
	}
	now := s.acct.now().UnixMilli()
	return map[string]any{"s": s.cfg.Symbol, "b": conv(bids), "a": conv(asks), "ts": now, "u": now,
		"seq": now, "cts": time.Now().UnixMilli()}, nil
}
