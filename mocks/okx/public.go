package okx

import (
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

func (s *Server) instruments(r *request) (any, *apiError) {
	if t := r.query.Get("instType"); t == "" {
		return nil, errEmpty("instType")
	} else if t != "SWAP" {
		return []any{}, nil
	}
	if id := r.query.Get("instId"); id != "" && id != s.cfg.InstID {
		return nil, errInstrument
	}
	c := s.cfg
	return []any{map[string]string{
		"instType": "SWAP", "instId": c.InstID, "uly": "BTC-USDT", "instFamily": "BTC-USDT", "baseCcy": "",
		"quoteCcy": "", "settleCcy": "USDT", "ctValCcy": "BTC", "ctVal": c.CtVal.String(), "ctMult": "1",
		"ctType": "linear", "lotSz": c.LotSz.String(), "minSz": c.MinSz.String(), "tickSz": c.TickSz.String(),
		"maxLmtSz": "100000000", "maxMktSz": "12000", "lever": "100", "state": "live", "listTime": "1611916828000",
		"expTime": "", "alias": "", "optType": "", "stk": "", "category": "1",
	}}, nil
}

// contracts converts a BTC quantity of the book to contracts.
func (s *Server) contracts(btc decimal.Decimal) decimal.Decimal { return s.acct.contracts(btc) }

func (s *Server) px(d decimal.Decimal) string { return s.acct.px(d) }

func (s *Server) ticker(r *request) (any, *apiError) {
	if err := s.checkInst(r.query, false); err != nil {
		return nil, err
	}
	q := s.cfg.Book.Quote()
	v := s.cfg.Book.Volume24h()
	bids, asks := s.cfg.Book.Depth(1)
	bidSz, askSz := "0", "0"
	if len(bids) > 0 {
		bidSz = s.contracts(bids[0].Qty).String()
	}
	if len(asks) > 0 {
		askSz = s.contracts(asks[0].Qty).String()
	}
	last, lastSz := v.Last, "0"
	if t := s.cfg.Book.Trades(1); len(t) == 1 {
		last, lastSz = t[0].Price, s.contracts(t[0].Qty).String()
	}
	return []any{map[string]string{
		"instType": "SWAP", "instId": s.cfg.InstID, "last": s.px(last), "lastSz": lastSz, "askPx": s.px(q.Ask),
		"askSz": askSz, "bidPx": s.px(q.Bid), "bidSz": bidSz, "open24h": s.px(v.Open), "high24h": s.px(v.High),
		"low24h": s.px(v.Low), "vol24h": s.contracts(v.Base).String(), "volCcy24h": v.Base.String(),
		"sodUtc0": s.px(v.Open), "sodUtc8": s.px(v.Open), "ts": ms(q.Time),
	}}, nil
}

func (s *Server) markPrice(r *request) (any, *apiError) {
	if r.query.Get("instType") == "" {
		return nil, errEmpty("instType")
	}
	if err := s.checkInst(r.query, true); err != nil {
		return nil, err
	}
	q := s.cfg.Book.Quote()
	return []any{map[string]string{"instType": "SWAP", "instId": s.cfg.InstID, "markPx": q.Mark.String(), "ts": ms(q.Time)}}, nil
}

func (s *Server) fundingRate(r *request) (any, *apiError) {
	if err := s.checkInst(r.query, false); err != nil {
		return nil, err
	}
	q := s.cfg.Book.Quote()
	return []any{map[string]string{
		"instType": "SWAP", "instId": s.cfg.InstID, "fundingRate": q.FundingRate.String(),
		"nextFundingRate": "", "fundingTime": ms(q.NextFunding), "nextFundingTime": ms(q.NextFunding.Add(8 * 3600e9)),
		"method": "current_period", "ts": ms(q.Time),
	}}, nil
}

func (s *Server) books(r *request) (any, *apiError) {
	if err := s.checkInst(r.query, false); err != nil {
		return nil, err
	}
	n := 1
	if v := r.query.Get("sz"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 400 {
			return nil, errParam("sz")
		}
	}
	bids, asks := s.cfg.Book.Depth(n)
	conv := func(ls []market.Level) [][]string {
		return exchange.Convert(ls, func(l *market.Level) []string {
			return []string{s.px(l.Price), s.contracts(l.Qty).String(), "0", "1"}
		})
	}
	return []any{map[string]any{"asks": conv(asks), "bids": conv(bids), "ts": ms(s.cfg.Clock.Now())}}, nil
}
