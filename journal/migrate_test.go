package journal

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.etcd.io/bbolt"

	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/venues"
)

// childV1Bytes is a child record exactly as version 1 wrote it: the old Child type (field set and JSON names of
// records.go before ChildVersion 2), encoding/json, and the envelope with version byte 1.
func childV1Bytes(t *testing.T, clientID, state, status string) []byte {
	t.Helper()
	type oldChild struct {
		Parent   string          `json:"parent"`
		Venue    string          `json:"venue"`
		Seq      int             `json:"seq"`
		ClientID string          `json:"client_id"`
		Quantity decimal.Decimal `json:"quantity"`
		Price    decimal.Decimal `json:"price"`
		State    string          `json:"state"`
		Status   string          `json:"status"`
		Reported decimal.Decimal `json:"reported"`
		Updated  time.Time       `json:"updated"`
	}
	payload, err := json.Marshal(oldChild{
		Parent: "p1", Venue: "a", Seq: 3, ClientID: clientID, Quantity: dec("0.443"), Price: dec("10495.3"),
		State: state, Status: status, Reported: dec("0.2"), Updated: t0(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return frameV(1, payload)
}

var childV1Cases = []struct {
	state, status string
	want          lifecycle.State
}{
	{"intent", "", lifecycle.Intent},
	{"sent", "", lifecycle.Sent},
	{"unknown", "", lifecycle.Unknown},
	{"not_sent", "rejected", lifecycle.NotSent},
	{"not_sent", "", lifecycle.NotSent},
	{"final", "filled", lifecycle.Filled},
	{"final", "canceled", lifecycle.Cancelled},
	{"final", "expired", lifecycle.Expired},
	{"final", "rejected", lifecycle.Rejected},
	{"final", "new", lifecycle.Open},
	{"final", "partially_filled", lifecycle.Open},
	{"final", "", lifecycle.Unknown},
	{"final", "borked", lifecycle.Unknown},
}

func TestChildV1Migrates(t *testing.T) {
	for _, tc := range childV1Cases {
		t.Run(tc.state+"/"+tc.status, func(t *testing.T) {
			var c Child
			if err := Decode(childV1Bytes(t, "c1", tc.state, tc.status), &c); err != nil {
				t.Fatal(err)
			}
			want := Child{Parent: "p1", Venue: "a", Seq: 3, ClientID: "c1", Quantity: dec("0.443"),
				Price: dec("10495.3"), State: tc.want, Filled: dec("0.2"), Updated: t0()}
			sameEncoding(t, "migrated child", want, c)
			if err := c.validate(); err != nil {
				t.Fatalf("a migrated child does not validate: %v", err)
			}
		})
	}
	for _, bad := range []struct{ name, state string }{{"empty", ""}, {"not a v1 state", "open"}} {
		err := Decode(childV1Bytes(t, "c1", bad.state, ""), new(Child))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", bad.name, err)
		}
	}
}

// Version 1 children stored in a database are read back migrated, and written again in version 2.
func TestStoreReadsV1Children(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	s.Close()
	rawUpdate(t, dir, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucketChildren))
		for i, tc := range childV1Cases {
			id := "c" + string(rune('a'+i))
			if err := b.Put(key("p1", id), childV1Bytes(t, id, tc.state, tc.status)); err != nil {
				return err
			}
		}
		return nil
	})
	s = openT(t, dir)
	defer s.Close()
	cs, err := s.Children("p1")
	if err != nil || len(cs) != len(childV1Cases) {
		t.Fatalf("children: %d %v", len(cs), err)
	}
	byID := map[string]Child{}
	for _, c := range cs {
		byID[c.ClientID] = c
	}
	for i, tc := range childV1Cases {
		if c := byID["c"+string(rune('a'+i))]; c.State != tc.want || !c.Filled.Equal(dec("0.2")) {
			t.Errorf("%s/%s: %s filled %s, want %s", tc.state, tc.status, c.State, c.Filled, tc.want)
		}
	}
	c := byID["ca"]
	c.State = lifecycle.Sent
	if err := s.PutChild(c); err != nil {
		t.Fatal(err)
	}
	if err := s.view("raw", func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte(bucketChildren)).Get(key("p1", "ca")); v[3] != ChildVersion {
			t.Errorf("rewritten child has version %d, want %d", v[3], ChildVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestChildEveryStateRoundTrips(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	var want []Child
	for i, st := range lifecycle.All {
		c := sampleChild("p1", "c"+string(st), "a", i)
		c.State, c.Filled, c.VenueOrderID, c.TimeInForce, c.PostOnly = st, dec("0.1"), "v"+string(st), "gtc", i%2 == 0
		var got Child
		mustRoundTrip(t, c, &got)
		sameEncoding(t, string(st), c, got)
		if got.State != st {
			t.Fatalf("state %s decoded as %s", st, got.State)
		}
		if err := s.PutChild(c); err != nil {
			t.Fatalf("put %s: %v", st, err)
		}
		want = append(want, c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	defer s.Close()
	cs, err := s.Children("p1")
	if err != nil || len(cs) != len(want) {
		t.Fatalf("children: %d %v", len(cs), err)
	}
	for i := range want { // sorted by Seq, which is the index in lifecycle.All
		sameEncoding(t, string(want[i].State), want[i], cs[i])
	}
}

// oldReport is engine.Report as the engine marshalled it into version 1 parent records (the field names were the
// json tags engine/types.go carried until the engine stopped marshalling it; prices and basis points are decimal
// strings or null).
type oldReport struct {
	ID             string           `json:"id"`
	State          string           `json:"state"`
	Instrument     string           `json:"instrument"`
	Side           string           `json:"side"`
	Quantity       decimal.Decimal  `json:"quantity"`
	ReduceOnly     bool             `json:"reduce_only"`
	Duration       string           `json:"duration"`
	MaxSlippageBps int              `json:"max_slippage_bps"`
	LimitPrice     *string          `json:"limit_price"`
	Filled         decimal.Decimal  `json:"filled"`
	Residual       decimal.Decimal  `json:"residual"`
	Unfilled       decimal.Decimal  `json:"unfilled"`
	AvgPrice       *string          `json:"avg_price"`
	ArrivalPrice   decimal.Decimal  `json:"arrival_price"`
	ShortfallBps   *string          `json:"shortfall_bps"`
	Fees           decimal.Decimal  `json:"fees"`
	ChildOrders    int              `json:"child_orders"`
	CreatedAt      time.Time        `json:"created_at"`
	Deadline       time.Time        `json:"deadline"`
	UpdatedAt      time.Time        `json:"updated_at"`
	EndedAt        *time.Time       `json:"ended_at"`
	Reason         string           `json:"reason,omitempty"`
	Venues         []oldVenueReport `json:"venues"`
}

type oldVenueReport struct {
	Venue       string          `json:"venue"`
	VolumeShare decimal.Decimal `json:"volume_share"`
	Weight      decimal.Decimal `json:"weight"`
	Allocated   decimal.Decimal `json:"allocated"`
	Filled      decimal.Decimal `json:"filled"`
	AvgPrice    *string         `json:"avg_price"`
	ChildOrders int             `json:"child_orders"`
	Rejected    int             `json:"rejected"`
	Out         string          `json:"out,omitempty"`
}

func strp(s string) *string { return &s }

// parentV1Bytes is a parent record as version 1 wrote it: the old Parent type's fields, with report holding the
// engine's report JSON (nil: null, as a working parent had).
func parentV1Bytes(t *testing.T, id string, report json.RawMessage) []byte {
	t.Helper()
	p := sampleParent(id) // version 2; re-marshalled below with the version 1 field set
	type oldParent struct {
		ID          string          `json:"id"`
		Request     Request         `json:"request"`
		State       string          `json:"state"`
		Reason      string          `json:"reason"`
		Created     time.Time       `json:"created"`
		Deadline    time.Time       `json:"deadline"`
		Arrival     decimal.Decimal `json:"arrival"`
		Residual    decimal.Decimal `json:"residual"`
		SlippageBps int             `json:"slippage_bps"`
		Seed        uint64          `json:"seed"`
		Params      Params          `json:"params"`
		Venues      []Venue         `json:"venues"`
		Stranded    decimal.Decimal `json:"stranded"`
		Fees        decimal.Decimal `json:"fees"`
		Ended       *time.Time      `json:"ended"`
		Cancelled   bool            `json:"cancelled"`
		Report      json.RawMessage `json:"report"`
		Updated     time.Time       `json:"updated"`
	}
	payload, err := json.Marshal(oldParent{
		ID: p.ID, Request: p.Request, State: p.State, Reason: p.Reason, Created: p.Created, Deadline: p.Deadline,
		Arrival: p.Arrival, Residual: p.Residual, SlippageBps: p.SlippageBps, Seed: p.Seed, Params: p.Params,
		Venues: p.Venues, Stranded: p.Stranded, Fees: p.Fees, Ended: p.Ended, Cancelled: p.Cancelled,
		Report: report, Updated: p.Updated,
	})
	if err != nil {
		t.Fatal(err)
	}
	return frameV(1, payload)
}

func sampleOldReport() oldReport {
	ended := t0().Add(10 * time.Minute)
	return oldReport{
		ID: "p1", State: "done", Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: dec("2.2166"), ReduceOnly: true,
		Duration: "10m0s", MaxSlippageBps: 50, LimitPrice: strp("10600.5"), Filled: dec("2.216"),
		Residual: dec("0.0006"), Unfilled: dec("0"), AvgPrice: strp("10490.5"), ArrivalPrice: dec("10490.12"),
		ShortfallBps: strp("-0.36"), Fees: dec("-0.00011988"), ChildOrders: 4, CreatedAt: t0(),
		Deadline: t0().Add(10 * time.Minute), UpdatedAt: ended, EndedAt: &ended, Reason: "filled",
		Venues: []oldVenueReport{
			{Venue: "a", VolumeShare: dec("0.4"), Weight: dec("1"), Allocated: dec("0.886"), Filled: dec("0.886"),
				AvgPrice: strp("10490.1"), ChildOrders: 2, Rejected: 1},
			{Venue: "b", VolumeShare: dec("0.6"), Weight: dec("0.5"), Allocated: dec("1.33"), Filled: dec("0"),
				AvgPrice: nil, ChildOrders: 0, Out: "circuit breaker open"},
		},
	}
}

func TestParentV1Migrates(t *testing.T) {
	report, err := json.Marshal(sampleOldReport())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), `"avg_price":null`) || !strings.Contains(string(report), `"volume_share":"0.6"`) {
		t.Fatalf("the old report is not what the engine wrote: %s", report)
	}
	var p Parent
	if err := Decode(parentV1Bytes(t, "p1", report), &p); err != nil {
		t.Fatal(err)
	}
	want := sampleParent("p1") // its Summary is sampleOldReport's figures
	sameEncoding(t, "migrated parent", want, p)
	if err := p.validate(); err != nil {
		t.Fatalf("a migrated parent does not validate: %v", err)
	}
	if p.Summary.AvgPrice == nil || p.Summary.AvgPrice.String() != "10490.5" || p.Summary.Venues[1].AvgPrice != nil {
		t.Fatalf("prices: %+v", p.Summary)
	}

	// A working parent's report was null.
	var w Parent
	if err := Decode(parentV1Bytes(t, "p2", nil), &w); err != nil || w.Summary != nil {
		t.Fatalf("working parent: %+v %v", w.Summary, err)
	}
	// Other shapes the engine wrote: no reason (omitted), no fill (null prices), no venues.
	r := sampleOldReport()
	r.Reason, r.AvgPrice, r.ShortfallBps, r.Venues, r.EndedAt = "", nil, nil, nil, nil
	b, _ := json.Marshal(r)
	var q Parent
	if err := Decode(parentV1Bytes(t, "p3", b), &q); err != nil {
		t.Fatal(err)
	}
	if s := q.Summary; s.Reason != "" || s.AvgPrice != nil || s.ShortfallBps != nil || s.Venues != nil || s.Ended != nil {
		t.Fatalf("sparse report: %+v", s)
	}
}

func TestParentV1BadReport(t *testing.T) {
	for name, report := range map[string]string{
		"not an object":   `"done"`,
		"unknown field":   `{"state":"done","bogus":1}`,
		"bad avg price":   `{"state":"done","avg_price":"ten"}`,
		"avg price type":  `{"state":"done","avg_price":10490.5}`,
		"bad venue price": `{"state":"done","venues":[{"venue":"a","avg_price":"1.2.3"}]}`,
		"huge exponent":   `{"state":"done","shortfall_bps":"1e999999999"}`,
		"huge filled":     `{"state":"done","filled":"1e999999999"}`,
	} {
		err := Decode(parentV1Bytes(t, "p1", json.RawMessage(report)), new(Parent))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func TestStoreReadsV1Parents(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	s.Close()
	report, _ := json.Marshal(sampleOldReport())
	rawUpdate(t, dir, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucketParents))
		if err := b.Put([]byte("p1"), parentV1Bytes(t, "p1", report)); err != nil {
			return err
		}
		return b.Put([]byte("p2"), parentV1Bytes(t, "p2", nil))
	})
	s = openT(t, dir)
	defer s.Close()
	ps, err := s.Parents()
	if err != nil || len(ps) != 2 {
		t.Fatalf("parents: %d %v", len(ps), err)
	}
	sameEncoding(t, "p1", sampleParent("p1"), ps[0])
	if ps[1].Summary != nil {
		t.Fatalf("p2 summary %+v", ps[1].Summary)
	}
}

func TestNewerRecordVersionRefused(t *testing.T) {
	for _, v := range []any{sampleParent("p1"), sampleChild("p1", "c1", "a", 1), sampleFill("a", "t1", "c1"), sampleOps()} {
		b, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		b[3]++
		if err := Decode(b, newOf(v)); !errors.Is(err, ErrVersion) {
			t.Errorf("%T of version %d: %v, want ErrVersion", v, b[3], err)
		}
	}
}

func TestRecordVersionsWritten(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want byte
	}{
		{sampleParent("p1"), ParentVersion}, {sampleChild("p1", "c1", "a", 1), ChildVersion},
		{sampleFill("a", "t1", "c1"), FillVersion}, {sampleOps(), OpsVersion},
	} {
		b, err := Encode(tc.v)
		if err != nil || b[3] != tc.want {
			t.Errorf("%T: version %d %v, want %d", tc.v, b[3], err, tc.want)
		}
	}
}

func newOf(v any) any {
	switch v.(type) {
	case Parent:
		return new(Parent)
	case Child:
		return new(Child)
	case Ops:
		return new(Ops)
	}
	return new(venues.Fill)
}

// TestOpsV1Migrates: an ops record as version 1 wrote it (no reset, no reload fields) reads as the same change.
func TestOpsV1Migrates(t *testing.T) {
	type oldOps struct {
		Seq     uint64           `json:"seq"`
		Time    time.Time        `json:"time"`
		Kind    string           `json:"kind"`
		Venue   string           `json:"venue"`
		Weight  *decimal.Decimal `json:"weight"`
		Enabled *bool            `json:"enabled"`
		State   string           `json:"state"`
		Actor   string           `json:"actor"`
	}
	w, off := dec("0.25"), false
	payload, err := json.Marshal(oldOps{Seq: 4, Time: t0(), Kind: OpsVenue, Venue: "b", Weight: &w, Enabled: &off, Actor: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	var got Ops
	if err := Decode(frameV(1, payload), &got); err != nil {
		t.Fatal(err)
	}
	if got.Seq != 4 || got.Kind != OpsVenue || got.Venue != "b" || got.Weight == nil || !got.Weight.Equal(w) ||
		got.Enabled == nil || *got.Enabled || got.Actor != "ops" || got.Reset || !got.Time.Equal(t0()) {
		t.Fatalf("migrated %+v", got)
	}
	// A version 1 payload with a field version 1 did not have is damaged, not migrated.
	bad := append(payload[:len(payload)-1:len(payload)-1], []byte(`,"reset":true}`)...)
	if err := Decode(frameV(1, bad), &got); err == nil {
		t.Fatal("a version 1 ops record with a reset field decoded")
	}
}
