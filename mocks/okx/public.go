package okx

import (
	"strconv"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
)

// instruments lists every swap the mock lists, or the one instId names.
func (s *Server) instruments(r *request) (any, *apiError) {
	if t := r.query.Get("instType"); t == "" {
		return nil, errEmpty("instType")
	} else if t != "SWAP" {
		return []any{}, nil
	}
	list := s.acct.swaps.list
	if id := r.query.Get("instId"); id != "" {
		in, ok := s.acct.swaps.get(id)
		if !ok {
			return nil, errInstrument
		}
		list = []*Instrument{in}
	}
	out := make([]any, 0, len(list))
	for _, in := range list {
		uly, ccy := in.underlying()
		out = append(out, map[string]string{
			"instType": "SWAP", "instId": in.InstID, "uly": uly, "instFamily": uly, "baseCcy": "",
			"quoteCcy": "", "settleCcy": "USDT", "ctValCcy": ccy, "ctVal": in.CtVal.String(), "ctMult": "1",
			"ctType": "linear", "lotSz": in.LotSz.String(), "minSz": in.MinSz.String(), "tickSz": in.TickSz.String(),
			"maxLmtSz": "100000000", "maxMktSz": "12000", "lever": "100", "state": "live", "listTime": "1611916828000",
			"expTime": "", "alias": "", "optType": "", "stk": "", "category": "1",
		})
	}
	return out, nil
}

func (s *Server) ticker(r *request) (any, *apiError) {
	in, aerr := s.checkInst(r.query, false)
	if aerr != nil {
		return nil, aerr
	}
	q := in.Book.Quote()
	v := in.Book.Volume24h()
	bids, asks := in.Book.Depth(1)
	bidSz, askSz := "0", "0"
	if len(bids) > 0 {
		bidSz = in.contracts(bids[0].Qty).String()
	}
	if len(asks) > 0 {
		askSz = in.contracts(asks[0].Qty).String()
	}
	last, lastSz := v.Last, "0"
	if t := in.Book.Trades(1); len(t) == 1 {
		last, lastSz = t[0].Price, in.contracts(t[0].Qty).String()
	}
	return []any{map[string]string{
		"instType": "SWAP", "instId": in.InstID, "last": in.px(last), "lastSz": lastSz, "askPx": in.px(q.Ask),
		"askSz": askSz, "bidPx": in.px(q.Bid), "bidSz": bidSz, "open24h": in.px(v.Open), "high24h": in.px(v.High),
		"low24h": in.px(v.Low), "vol24h": in.contracts(v.Base).String(), "volCcy24h": v.Base.String(),
		"sodUtc0": in.px(v.Open), "sodUtc8": in.px(v.Open), "ts": ms(q.Time),
	}}, nil
}

// markPrice gives the mark of the swap instId names, or without one of every listed swap.
func (s *Server) markPrice(r *request) (any, *apiError) {
	if r.query.Get("instType") == "" {
		return nil, errEmpty("instType")
	}
	in, aerr := s.checkInst(r.query, true)
	if aerr != nil {
		return nil, aerr
	}
	list := s.acct.swaps.list
	if in != nil {
		list = []*Instrument{in}
	}
	out := make([]any, 0, len(list))
	for _, in := range list {
		q := in.Book.Quote()
		out = append(out, map[string]string{"instType": "SWAP", "instId": in.InstID, "markPx": q.Mark.String(), "ts": ms(q.Time)})
	}
	return out, nil
}

func (s *Server) fundingRate(r *request) (any, *apiError) {
	in, aerr := s.checkInst(r.query, false)
	if aerr != nil {
		return nil, aerr
	}
	q := in.Book.Quote()
	return []any{map[string]string{
		"instType": "SWAP", "instId": in.InstID, "fundingRate": q.FundingRate.String(),
		"nextFundingRate": "", "fundingTime": ms(q.NextFunding), "nextFundingTime": ms(q.NextFunding.Add(8 * 3600e9)),
		"method": "current_period", "ts": ms(q.Time),
	}}, nil
}

func (s *Server) books(r *request) (any, *apiError) {
	in, aerr := s.checkInst(r.query, false)
	if aerr != nil {
		return nil, aerr
	}
	n := 1
	if v := r.query.Get("sz"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 400 {
			return nil, errParam("sz")
		}
	}
	bids, asks := in.Book.Depth(n)
	conv := func(ls []market.Level) [][]string {
		return exchange.Convert(ls, func(l *market.Level) []string {
			return []string{in.px(l.Price), in.contracts(l.Qty).String(), "0", "1"}
		})
	}
	return []any{map[string]any{"asks": conv(asks), "bids": conv(bids), "ts": ms(s.cfg.Clock.Now())}}, nil
}
