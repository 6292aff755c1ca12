package bybit

import (
	"strconv"
	"strings"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

// checkSymbol validates category=linear and, if given or required, the symbol; it returns the symbol named, or
// every listed symbol if none is.
func (s *Server) checkSymbol(r *request, required bool) ([]*spec, *apiError) {
	if r.query.Get("category") != "linear" {
		return nil, errCategory
	}
	sym := r.query.Get("symbol")
	if sym == "" && required {
		return nil, errSymbol
	}
	return s.acct.selected(sym)
}

func (s *Server) instruments(r *request) (any, *apiError) {
	specs, aerr := s.checkSymbol(r, false)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"category": "linear", "nextPageCursor": "", "list": exchange.Convert(specs, instrumentJSON)}, nil
}

// instrumentJSON is a listed symbol as /v5/market/instruments-info shows it.
func instrumentJSON(pp **spec) map[string]any {
	p := *pp
	return map[string]any{
		"symbol": p.Symbol, "contractType": "LinearPerpetual", "status": "Trading",
		"baseCoin": strings.TrimSuffix(p.Symbol, "USDT"), "quoteCoin": "USDT", "settleCoin": "USDT",
		"launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
		"priceScale": strconv.Itoa(int(p.pricePrec)), "unifiedMarginTrade": true, "fundingInterval": 480,
		"copyTrading": "both", "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375",
		"leverageFilter": map[string]string{"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
		"priceFilter": map[string]string{"minPrice": p.px(p.TickSize), "maxPrice": "1999999.80",
			"tickSize": p.px(p.TickSize)},
		"lotSizeFilter": map[string]string{"maxOrderQty": p.qty(p.MaxOrderQty), "maxMktOrderQty": p.qty(p.MaxMktOrderQty),
			"minOrderQty": p.qty(p.MinOrderQty), "qtyStep": p.qty(p.QtyStep), "postOnlyMaxOrderQty": p.qty(p.MaxOrderQty),
			"minNotionalValue": p.MinNotionalValue.String()},
	}
}

func (s *Server) tickers(r *request) (any, *apiError) {
	specs, aerr := s.checkSymbol(r, false)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"category": "linear", "list": exchange.Convert(specs, tickerJSON)}, nil
}

// tickerJSON is a listed symbol's book as /v5/market/tickers shows it.
func tickerJSON(pp **spec) map[string]any {
	p := *pp
	q := p.Book.Quote()
	v := p.Book.Volume24h()
	bids, asks := p.Book.Depth(1)
	bidSz, askSz := "0", "0"
	if len(bids) > 0 {
		bidSz = p.qty(bids[0].Qty)
	}
	if len(asks) > 0 {
		askSz = p.qty(asks[0].Qty)
	}
	pct := "0"
	if v.Open.IsPositive() {
		pct = v.Last.Sub(v.Open).Div(v.Open).StringFixed(6)
	}
	return map[string]any{
		"symbol": p.Symbol, "lastPrice": p.px(v.Last), "indexPrice": p.px(q.Index), "markPrice": p.px(q.Mark),
		"prevPrice24h": p.px(v.Open), "price24hPcnt": pct, "highPrice24h": p.px(v.High), "lowPrice24h": p.px(v.Low),
		"prevPrice1h": p.px(v.Last), "openInterest": "0", "openInterestValue": "0",
		"turnover24h": v.Quote.StringFixed(4), "volume24h": p.qty(v.Base), "fundingRate": q.FundingRate.String(),
		"nextFundingTime": strconv.FormatInt(q.NextFunding.UnixMilli(), 10), "predictedDeliveryPrice": "",
		"basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
		"bid1Price": p.px(q.Bid), "bid1Size": bidSz, "ask1Price": p.px(q.Ask), "ask1Size": askSz,
	}
}

func (s *Server) orderbook(r *request) (any, *apiError) {
	specs, aerr := s.checkSymbol(r, true)
	if aerr != nil {
		return nil, aerr
	}
	p := specs[0]
	n := 25
	if l := r.query.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 500 {
			return nil, errParams("params error: limit invalid")
		}
		n = v
	}
	bids, asks := p.Book.Depth(n)
	conv := func(ls []market.Level) [][2]string {
		return exchange.Convert(ls, func(l *market.Level) [2]string { return [2]string{p.px(l.Price), p.qty(l.Qty)} })
	}
	now := s.acct.now().UnixMilli()
	return map[string]any{"s": p.Symbol, "b": conv(bids), "a": conv(asks), "ts": now, "u": now,
		"seq": now, "cts": s.faults.Now().UnixMilli()}, nil
}
