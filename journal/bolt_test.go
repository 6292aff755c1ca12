package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/venues"
)

// rawUpdate changes the closed database in dir with bbolt directly.
func rawUpdate(t *testing.T, dir string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()

	p2 := sampleParent("p2")
	p1 := sampleParent("p1")
	p1.Created = p2.Created.Add(-time.Second) // sorts first despite its id
	p3 := sampleParent("p0")
	p3.Created = p2.Created // same time: sorted by id
	for _, p := range []Parent{p2, p1, p3} {
		if err := s.PutParent(p); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := s.Parents()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].ID != "p1" || ps[1].ID != "p0" || ps[2].ID != "p2" {
		t.Fatalf("parents order: %v", ids(ps))
	}
	sameEncoding(t, "parent", p1, ps[0])
	if !ps[0].Request.Quantity.Equal(dec("2.2166")) || ps[0].Fees.String() != "-11.988" {
		t.Fatalf("decimals: %s %s", ps[0].Request.Quantity, ps[0].Fees)
	}

	for _, c := range []Child{
		sampleChild("p1", "cb2", "b", 2), sampleChild("p1", "ca1", "a", 1), sampleChild("p1", "cb1", "b", 1),
		sampleChild("p10", "other", "a", 1), // a parent id that p1 is a prefix of
	} {
		if err := s.PutChild(c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Children("p1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(clientIDs(cs)); got != "[ca1 cb1 cb2]" {
		t.Fatalf("children: %s", got)
	}
	sameEncoding(t, "child", sampleChild("p1", "ca1", "a", 1), cs[0])
	if cs, err := s.Children("nobody"); err != nil || len(cs) != 0 {
		t.Fatalf("children of unknown parent: %v %v", cs, err)
	}

	f := sampleFill("a", "t1", "ca1")
	if fresh, err := s.AddFill(f); err != nil || !fresh {
		t.Fatalf("add fill: %v %v", fresh, err)
	}
	fs, err := s.FillsFor("ca1")
	if err != nil || len(fs) != 1 {
		t.Fatalf("fills: %v %v", fs, err)
	}
	sameEncoding(t, "fill", f, fs[0])

	o := sampleOps()
	seq, err := s.AppendOps(o)
	if err != nil || seq != 1 {
		t.Fatalf("append ops: %d %v", seq, err)
	}
	ops, err := s.Ops()
	if err != nil || len(ops) != 1 {
		t.Fatalf("ops: %v %v", ops, err)
	}
	o.Seq = 1
	sameEncoding(t, "ops", o, ops[0])
}

func ids(ps []Parent) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func clientIDs(cs []Child) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ClientID)
	}
	return out
}

func TestReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal", "nested")
	s := openT(t, dir)
	p := sampleParent("p1")
	c := sampleChild("p1", "c1", "a", 1)
	f := sampleFill("a", "t1", "c1")
	if err := s.PutParent(p); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChild(c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFill(f); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendOps(sampleOps()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode: %v %v", fi.Mode(), err)
	}

	s = openT(t, dir)
	defer s.Close()
	ps, err := s.Parents()
	if err != nil || len(ps) != 1 {
		t.Fatalf("parents: %v %v", ps, err)
	}
	sameEncoding(t, "parent", p, ps[0])
	cs, err := s.Children("p1")
	if err != nil || len(cs) != 1 {
		t.Fatalf("children: %v %v", cs, err)
	}
	sameEncoding(t, "child", c, cs[0])
	fs, err := s.FillsFor("c1")
	if err != nil || len(fs) != 1 {
		t.Fatalf("fills: %v %v", fs, err)
	}
	sameEncoding(t, "fill", f, fs[0])
	if fresh, err := s.AddFill(f); err != nil || fresh {
		t.Fatalf("re-add after reopen: fresh=%v err=%v", fresh, err)
	}
	if ops, err := s.Ops(); err != nil || len(ops) != 1 {
		t.Fatalf("ops: %v %v", ops, err)
	}
}

func TestOpenVersionMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if err := s.PutParent(sampleParent("p1")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, dir, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(versionKey), binary.BigEndian.AppendUint32(nil, 99))
	})
	_, err := Open(dir)
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("open version 99: %v, want ErrVersion", err)
	}
	t.Log(err)
}

func TestAddFillDedup(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	f := sampleFill("a", "t1", "c1")
	if fresh, err := s.AddFill(f); err != nil || !fresh {
		t.Fatalf("first: %v %v", fresh, err)
	}
	dup := f
	dup.Quantity = dec("9") // a duplicate changes nothing, even with other fields
	dup.ClientOrderID = "c2"
	if fresh, err := s.AddFill(dup); err != nil || fresh {
		t.Fatalf("duplicate: fresh=%v err=%v", fresh, err)
	}
	otherVenue := sampleFill("b", "t1", "c2")
	if fresh, err := s.AddFill(otherVenue); err != nil || !fresh {
		t.Fatalf("same trade id on another venue: %v %v", fresh, err)
	}
	second := sampleFill("a", "t0()", "c1")
	second.Time = f.Time // same time: sorted by trade id
	if fresh, err := s.AddFill(second); err != nil || !fresh {
		t.Fatalf("second fill of c1: %v %v", fresh, err)
	}

	fs, err := s.FillsFor("c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].TradeID != "t0()" || fs[1].TradeID != "t1" || !fs[1].Quantity.Equal(f.Quantity) {
		t.Fatalf("fills of c1: %+v", fs)
	}
	fs, err = s.FillsFor("c2")
	if err != nil || len(fs) != 1 || fs[0].Venue != "b" {
		t.Fatalf("fills of c2: %+v %v", fs, err)
	}
	if fs, err := s.FillsFor("c"); err != nil || len(fs) != 0 {
		t.Fatalf("fills of a prefix id: %+v %v", fs, err)
	}
}

func TestPutChildReplace(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	c := sampleChild("p1", "c1", "a", 1)
	if err := s.PutChild(c); err != nil {
		t.Fatal(err)
	}
	c.State, c.Filled, c.Updated = lifecycle.Filled, dec("0.443"), c.Updated.Add(time.Second)
	c.VenueOrderID, c.TimeInForce, c.PostOnly = "8389765", "gtc", true
	if err := s.PutChild(c); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Children("p1")
	if err != nil || len(cs) != 1 {
		t.Fatalf("children: %v %v", cs, err)
	}
	if cs[0].State != lifecycle.Filled || cs[0].Filled.String() != "0.443" || cs[0].VenueOrderID != "8389765" ||
		cs[0].TimeInForce != "gtc" || !cs[0].PostOnly {
		t.Fatalf("child: %+v", cs[0])
	}
}

func TestOpsSeqAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		s := openT(t, dir)
		for i := range 2 {
			o := Ops{Time: t0(), Kind: OpsTradingState, State: "halted", Actor: "ops", Seq: 77} // Seq is assigned
			seq, err := s.AppendOps(o)
			if want := uint64(round*2 + i + 1); err != nil || seq != want {
				t.Fatalf("round %d: seq %d err %v, want %d", round, seq, err, want)
			}
		}
		s.Close()
	}
	s := openT(t, dir)
	defer s.Close()
	ops, err := s.Ops()
	if err != nil || len(ops) != 6 {
		t.Fatalf("ops: %v %v", ops, err)
	}
	for i, o := range ops {
		if o.Seq != uint64(i+1) {
			t.Fatalf("ops[%d].Seq = %d", i, o.Seq)
		}
	}
}

func TestCorruptValue(t *testing.T) {
	for _, tc := range []struct {
		bucket string
		key    []byte
		offset int // from the end of the value; 1 is the last payload byte
		read   func(*Bolt) error
	}{
		{bucketParents, []byte("p1"), 5, func(s *Bolt) error { _, err := s.Parents(); return err }},
		{bucketChildren, key("p1", "c1"), 5, func(s *Bolt) error { _, err := s.Children("p1"); return err }},
		{bucketFills, key("a", "t1"), 5, func(s *Bolt) error { _, err := s.FillsFor("c1"); return err }},
		{bucketOps, seqKey(1), 5, func(s *Bolt) error { _, err := s.Ops(); return err }},
		{bucketChildren, key("p1", "c1"), -1, func(s *Bolt) error { _, err := s.Children("p1"); return err }}, // header
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir)
			if err := s.PutParent(sampleParent("p1")); err != nil {
				t.Fatal(err)
			}
			if err := s.PutChild(sampleChild("p1", "c1", "a", 1)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddFill(sampleFill("a", "t1", "c1")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AppendOps(sampleOps()); err != nil {
				t.Fatal(err)
			}
			s.Close()
			rawUpdate(t, dir, func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte(tc.bucket))
				v := bytes.Clone(b.Get(tc.key))
				if v == nil {
					return fmt.Errorf("no %s/%q", tc.bucket, tc.key)
				}
				if tc.offset < 0 {
					v[-tc.offset] ^= 0xff
				} else {
					v[len(v)-tc.offset] ^= 0x01
				}
				return b.Put(tc.key, v)
			})
			s = openT(t, dir)
			defer s.Close()
			err := tc.read(s)
			if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte(tc.bucket)) {
				t.Fatalf("read: %v, want ErrCorrupt naming %s", err, tc.bucket)
			}
			t.Log(err)
		})
	}
}

func TestOpenGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for name, content := range map[string][]byte{
		"text":   []byte("this is not a bbolt database\n"),
		"random": big,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatal("open garbage: no error")
			}
			t.Log(err)
		})
	}
}

func TestOpenMetaMissing(t *testing.T) {
	dir := t.TempDir()
	rawCreate := func() {
		db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }); err != nil {
			t.Fatal(err)
		}
	}
	rawCreate()
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open a foreign bbolt db: %v, want ErrCorrupt", err)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	defer s.Close()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		s2, err := Open(dir)
		if err == nil {
			s2.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("second open succeeded")
		}
		t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(OpenTimeout + 5*time.Second):
		t.Fatal("second open hangs")
	}
}

func TestInvalidRecordsChangeNothing(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	badParent := func(mod func(*Parent)) Parent { p := sampleParent("p1"); mod(&p); return p }
	badChild := func(mod func(*Child)) Child { c := sampleChild("p1", "c1", "a", 1); mod(&c); return c }
	badFill := func(mod func(*venues.Fill)) venues.Fill { f := sampleFill("a", "t1", "c1"); mod(&f); return f }
	for i, p := range []Parent{
		badParent(func(p *Parent) { p.ID = "" }),
		badParent(func(p *Parent) { p.ID = "a\x00b" }),
		badParent(func(p *Parent) { p.ID = "bad\xffutf8" }),
		badParent(func(p *Parent) { p.State = "pending" }),
		badParent(func(p *Parent) { p.Request.Side = "long" }),
		badParent(func(p *Parent) { p.Request.Quantity = dec("-2.2166") }),
		badParent(func(p *Parent) { p.Venues[0].Slices[1].Quantity = dec("-1") }),
		badParent(func(p *Parent) { p.Summary.State = ParentWorking }),
		badParent(func(p *Parent) { p.Summary.Filled = dec("-1") }),
		badParent(func(p *Parent) { p.Summary.AvgPrice = decp("-1") }),
		badParent(func(p *Parent) { p.Summary.Venues[0].Venue = "" }),
		badParent(func(p *Parent) { p.Summary.Venues[1].ChildOrders = -1 }),
	} {
		if err := s.PutParent(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("parent %d: %v, want ErrInvalid", i, err)
		}
	}
	for i, c := range []Child{
		badChild(func(c *Child) { c.ClientID = "" }),
		badChild(func(c *Child) { c.Parent = "" }),
		badChild(func(c *Child) { c.Parent = "p\x001" }),
		badChild(func(c *Child) { c.Quantity = dec("-0.001") }),
		badChild(func(c *Child) { c.State = "" }),
		badChild(func(c *Child) { c.State = "final" }), // a version 1 state, no longer one
		badChild(func(c *Child) { c.Filled = dec("-0.001") }),
		badChild(func(c *Child) { c.Seq = -1 }),
	} {
		if err := s.PutChild(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("child %d: %v, want ErrInvalid", i, err)
		}
	}
	for i, f := range []venues.Fill{
		badFill(func(f *venues.Fill) { f.Venue = "" }),
		badFill(func(f *venues.Fill) { f.TradeID = "" }),
		badFill(func(f *venues.Fill) { f.ClientOrderID = "" }),
		badFill(func(f *venues.Fill) { f.TradeID = "t\x00" }),
		badFill(func(f *venues.Fill) { f.Quantity = dec("0") }),
		badFill(func(f *venues.Fill) { f.Quantity = dec("-1") }),
		badFill(func(f *venues.Fill) { f.Side = "BUY" }),
	} {
		if fresh, err := s.AddFill(f); !errors.Is(err, ErrInvalid) || fresh {
			t.Errorf("fill %d: %v %v, want ErrInvalid", i, fresh, err)
		}
	}
	neg := dec("-0.5")
	for i, o := range []Ops{
		{Kind: "weights"},
		{Kind: OpsVenue},
		{Kind: OpsVenue, Venue: "a", Weight: &neg},
		{Kind: OpsVenue, Venue: "a"},
		{Kind: OpsVenue, Venue: "a", Reset: true, Weight: &neg},
		{Kind: OpsTradingState},
	} {
		if _, err := s.AppendOps(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("ops %d: %v, want ErrInvalid", i, err)
		}
	}
	ps, _ := s.Parents()
	cs, _ := s.Children("p1")
	fs, _ := s.FillsFor("c1")
	ops, _ := s.Ops()
	if len(ps)+len(cs)+len(fs)+len(ops) != 0 {
		t.Fatalf("invalid records were stored: %d %d %d %d", len(ps), len(cs), len(fs), len(ops))
	}
	if seq, err := s.AppendOps(sampleOps()); err != nil || seq != 1 {
		t.Fatalf("refused ops consumed a sequence number: %d %v", seq, err)
	}
}

func TestConcurrent(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				client := fmt.Sprintf("c%d", w)
				c := sampleChild("p1", client, "a", w)
				c.Filled = dec(fmt.Sprintf("0.%03d", i))
				if err := s.PutChild(c); err != nil {
					errs <- err
				}
				// every worker adds the same shared fills too: exactly one of them wins each
				if _, err := s.AddFill(sampleFill("a", fmt.Sprintf("shared-%d", i), "shared")); err != nil {
					errs <- err
				}
				if _, err := s.AddFill(sampleFill("b", fmt.Sprintf("t%d-%d", w, i), client)); err != nil {
					errs <- err
				}
				if _, err := s.Children("p1"); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cs, err := s.Children("p1")
	if err != nil || len(cs) != workers {
		t.Fatalf("children: %d %v", len(cs), err)
	}
	for _, c := range cs {
		if c.Filled.String() != fmt.Sprintf("0.%03d", each-1) {
			t.Fatalf("child %s: last write lost: %s", c.ClientID, c.Filled)
		}
	}
	if fs, err := s.FillsFor("shared"); err != nil || len(fs) != each {
		t.Fatalf("shared fills: %d %v", len(fs), err)
	}
	for w := range workers {
		if fs, err := s.FillsFor(fmt.Sprintf("c%d", w)); err != nil || len(fs) != each {
			t.Fatalf("fills of c%d: %d %v", w, len(fs), err)
		}
	}
}

func BenchmarkPutChild(b *testing.B) {
	s := openT(b, b.TempDir())
	defer s.Close()
	c := sampleChild("p1", "", "a", 0)
	i := 0
	for b.Loop() {
		c.ClientID = fmt.Sprintf("c%d", i)
		c.Seq = i
		if err := s.PutChild(c); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPutChildParallel writes distinct children from 4×GOMAXPROCS goroutines (8 on a 2-core machine, like 8
// concurrent parents), each waiting for its own write to be durable; writes/commit is the mean group size.
func BenchmarkPutChildParallel(b *testing.B) {
	s := openT(b, b.TempDir())
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		c := sampleChild("p1", "", "a", 0)
		for pb.Next() {
			i := next.Add(1)
			c.ClientID = fmt.Sprintf("c%d", i)
			c.Seq = int(i)
			if err := s.PutChild(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if commits, written := s.groupStats(); commits > 0 {
		b.ReportMetric(float64(written)/float64(commits), "writes/commit")
	}
}

func BenchmarkEncodeDecodeParent(b *testing.B) {
	p := sampleParent("p1")
	for b.Loop() {
		enc, err := Encode(p)
		if err != nil {
			b.Fatal(err)
		}
		var got Parent
		if err := Decode(enc, &got); err != nil {
			b.Fatal(err)
		}
	}
}
