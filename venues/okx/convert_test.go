package okx

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/instcache"
)

func testInstrument(t testing.TB) instrument {
	in, err := toInstrument(instrumentRow{InstType: "SWAP", InstID: "BTC-USDT-SWAP", SettleCcy: "USDT", CtVal: "0.01",
		CtMult: "1", CtValCcy: "BTC", CtType: "linear", LotSz: "1", MinSz: "1", TickSz: "0.1", MaxLmtSz: "100000"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestInstrumentMapping(t *testing.T) {
	in := testInstrument(t)
	if in.rules.Instrument != "BTC-USDT-PERP" || !in.rules.LotSize.Equal(d("0.01")) || !in.rules.MaxQty.Equal(d("1000")) {
		t.Fatalf("%+v", in.rules)
	}
	if _, err := toInstrument(instrumentRow{InstType: "SWAP", InstID: "BTC-USD-SWAP", CtVal: "100", CtMult: "1",
		CtValCcy: "USD", CtType: "inverse", LotSz: "1", MinSz: "1", TickSz: "0.1"}); err == nil {
		t.Fatal("an inverse swap must not map")
	}
	if _, err := toInstrument(instrumentRow{InstType: "SWAP", InstID: "BTC-USDT-SWAP", SettleCcy: "USDT", CtVal: "0.01",
		CtMult: "1", CtValCcy: "BTC", CtType: "linear", LotSz: "1", MinSz: "1", TickSz: "0.1"}); err == nil ||
		!strings.Contains(err.Error(), "maxLmtSz") {
		t.Fatalf("an instrument without maxLmtSz must not map to a rule without a maximum: %v", err)
	}
	if id, err := instIDFromInstrument("BTC-USDT-PERP"); err != nil || id != "BTC-USDT-SWAP" {
		t.Fatal(id, err)
	}
}

func TestEventFeeSignAndUnits(t *testing.T) {
	in := testInstrument(t)
	ev, err := toEvent("okx", in, orderRow{InstID: "BTC-USDT-SWAP", OrdID: "1", ClOrdID: "c1", Px: "10500.0", Sz: "7",
		OrdType: "ioc", Side: "sell", PosSide: "net", AccFillSz: "3", AvgPx: "10499.5", State: "canceled",
		ReduceOnly: "false", UTime: "1700000000000", TradeID: "9", FillPx: "10499.5", FillSz: "3",
		FillTime: "1700000000000", FillFee: "-0.0157", FillFeeCcy: "USDT", ExecType: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Order.Status != venues.StatusExpired || !ev.Order.Quantity.Equal(d("0.07")) || !ev.Order.FilledQty.Equal(d("0.03")) {
		t.Fatalf("order %+v", ev.Order)
	}
	if !ev.Fill.Quantity.Equal(d("0.03")) || !ev.Fill.Fee.Equal(d("0.0157")) || ev.Fill.Maker {
		t.Fatalf("fill %+v", ev.Fill)
	}
	if _, err := toEvent("okx", in, orderRow{InstID: "BTC-USDT-SWAP", OrdID: "1", ClOrdID: "c1", Sz: "1",
		OrdType: "fok", Side: "buy", AccFillSz: "0", State: "live", Px: "1"}); err == nil {
		t.Fatal("an unsupported ordType must fail")
	}
}

// FuzzConvert feeds arbitrary orders-channel payloads through the decoder: it must never panic, and whatever it
// accepts must be in base units on the contract grid, with filled within the order's quantity.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","ordId":"1","clOrdId":"c","px":"1.0","sz":"2","ordType":"limit","side":"buy","posSide":"net","accFillSz":"1","avgPx":"1","state":"partially_filled","reduceOnly":"false","uTime":"1","tradeId":"5","fillPx":"1","fillSz":"1","fillTime":"1","fillFee":"-0.1","fillFeeCcy":"USDT","execType":"M"}]}`))
	f.Add([]byte(`{"event":"error","code":"60009","msg":"x"}`))
	f.Add([]byte(`pong`))
	f.Add([]byte(`{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT-SWAP","sz":"1e400"}]}`))
	in := testInstrument(f)
	a := &Adapter{cfg: Config{Name: "okx"}, insts: &instcache.Cache[instrument]{}}
	set := instcache.NewSet[instrument]()
	set.Add(in.rules.Instrument, "BTC-USDT-SWAP", in)
	a.insts.Store(set)
	a.log = zapNop()
	f.Fuzz(func(t *testing.T, raw []byte) {
		evs, err := a.decode(raw)
		if err != nil {
			return
		}
		for _, ev := range evs {
			o := ev.Order
			if o == nil || !o.Quantity.IsPositive() || o.FilledQty.GreaterThan(o.Quantity) ||
				!o.Quantity.Mod(in.ctVal).IsZero() || !o.FilledQty.Mod(in.ctVal).IsZero() {
				t.Fatalf("accepted %+v", o)
			}
			if ev.Fill != nil && (!ev.Fill.Quantity.IsPositive() || !ev.Fill.Price.IsPositive()) {
				t.Fatalf("accepted fill %+v", ev.Fill)
			}
		}
		var rows []fillRow
		if json.Unmarshal(raw, &rows) == nil {
			for _, r := range rows {
				if fl, err := toFill("okx", in, r); err == nil && !fl.Quantity.IsPositive() {
					t.Fatalf("accepted fill %+v", fl)
				}
			}
		}
	})
}

func zapNop() *zap.Logger { return zap.NewNop() }

func TestToQuote(t *testing.T) {
	in := testInstrument(t)
	q, err := toQuote(in, markRow{InstID: "BTC-USDT-SWAP", MarkPx: "10490.12", Ts: "1700000000000"})
	if err != nil || q.Instrument != "BTC-USDT-PERP" || q.Mark.String() != "10490.12" || !q.Bid.IsZero() ||
		q.Time.UnixMilli() != 1700000000000 {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []markRow{
		{InstID: "ETH-USDT-SWAP", MarkPx: "1", Ts: "1"},
		{InstID: "BTC-USDT-SWAP", MarkPx: "", Ts: "1"},
		{InstID: "BTC-USDT-SWAP", MarkPx: "-1", Ts: "1"},
		{InstID: "BTC-USDT-SWAP", MarkPx: "1", Ts: ""},
		{InstID: "BTC-USDT-SWAP", MarkPx: "1", Ts: "x"},
	} {
		if _, err := toQuote(in, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// The funding row gives the rate and when it is settled; a malformed time is an error, an absent one unknown.
func TestToStatsFunding(t *testing.T) {
	in := testInstrument(t)
	tk := tickerRow{InstID: "BTC-USDT-SWAP", Last: "10490", Vol24h: "100"}
	mk := markRow{InstID: "BTC-USDT-SWAP", MarkPx: "10490.12", Ts: "1700000000000"}
	st, err := toStats(in, tk, mk, fundingRow{InstID: "BTC-USDT-SWAP", FundingRate: "0.0001", FundingTime: "1700006400000"})
	if err != nil || st.FundingRate.String() != "0.0001" || st.NextFunding.UnixMilli() != 1700006400000 {
		t.Fatalf("%+v %v", st, err)
	}
	if st, err := toStats(in, tk, mk, fundingRow{InstID: "BTC-USDT-SWAP", FundingRate: "0.0001"}); err != nil || !st.NextFunding.IsZero() {
		t.Fatalf("no funding time: %+v %v", st, err)
	}
	if _, err := toStats(in, tk, mk, fundingRow{InstID: "BTC-USDT-SWAP", FundingRate: "0.0001", FundingTime: "soon"}); err == nil {
		t.Fatal("a malformed funding time accepted")
	}
}
