package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/execd-dev/execd/venues"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := sampleParent("rb-2026-11-22-btc3s")
	var gp Parent
	mustRoundTrip(t, p, &gp)
	sameEncoding(t, "parent", p, gp)
	if gp.Request.Quantity.String() != "2.2166" || gp.Fees.String() != "-11.988" || gp.Venues[0].Base.String() != "-11.988" {
		t.Fatalf("decimals not exact: %s %s %s", gp.Request.Quantity, gp.Fees, gp.Venues[0].Base)
	}
	if !gp.Created.Equal(p.Created) || gp.Created.Nanosecond() != 123456789 || !gp.Ended.Equal(*p.Ended) {
		t.Fatalf("times not exact: %v %v", gp.Created, gp.Ended)
	}
	if gp.Seed != p.Seed {
		t.Fatalf("seed %d, want %d", gp.Seed, p.Seed)
	}

	c := sampleChild("p", "c1", "a", 3)
	var gc Child
	mustRoundTrip(t, c, &gc)
	sameEncoding(t, "child", c, gc)

	f := sampleFill("a", "t1", "c1")
	var gf venues.Fill
	mustRoundTrip(t, f, &gf)
	sameEncoding(t, "fill", f, gf)
	if gf.Fee.String() != "-0.00011988" {
		t.Fatalf("fee %s", gf.Fee)
	}

	o := sampleOps()
	var gotOps Ops
	mustRoundTrip(t, o, &gotOps)
	sameEncoding(t, "ops", o, gotOps)
	if gotOps.Weight == nil || gotOps.Weight.String() != "0.5" || gotOps.Enabled == nil || !*gotOps.Enabled {
		t.Fatalf("ops pointers: %+v", gotOps)
	}
}

func mustRoundTrip(t *testing.T, v, into any) {
	t.Helper()
	b, err := Encode(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	if err := Decode(b, into); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// frame wraps payload in a valid envelope of the current child version.
func frame(payload []byte) []byte { return frameV(ChildVersion, payload) }

// frameV wraps payload in a valid envelope of the given record version, as Encode would.
func frameV(version byte, payload []byte) []byte {
	b := make([]byte, headerLen, headerLen+len(payload))
	copy(b, magic)
	b[3] = version
	binary.BigEndian.PutUint32(b[4:8], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	binary.BigEndian.PutUint32(b[8:12], uint32(len(payload)))
	return append(b, payload...)
}

func TestDecodeErrors(t *testing.T) {
	good, err := Encode(sampleChild("p", "c1", "a", 1))
	if err != nil {
		t.Fatal(err)
	}
	withVersion := bytes.Clone(good)
	withVersion[3] = ChildVersion + 1
	withVersion0 := bytes.Clone(good)
	withVersion0[3] = 0
	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x01
	badCRC := bytes.Clone(good)
	badCRC[5] ^= 0x80
	payload := good[headerLen:]

	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short header", good[:7], ErrCorrupt},
		{"bad magic", append([]byte("XXJ\x01"), good[4:]...), ErrCorrupt},
		{"newer version", withVersion, ErrVersion},
		{"version 0", withVersion0, ErrVersion},
		{"v1 unknown field", frameV(1, []byte(`{"parent":"p","filled":"1"}`)), ErrCorrupt},
		{"v1 unknown state", frameV(1, []byte(`{"parent":"p","state":"open"}`)), ErrCorrupt},
		{"v2 old state", frame([]byte(`{"parent":"p","state":"final"}`)), ErrCorrupt},
		{"v2 old field", frame([]byte(`{"parent":"p","state":"open","status":"new"}`)), ErrCorrupt},
		{"truncated", good[:len(good)-1], ErrCorrupt},
		{"trailing byte", append(bytes.Clone(good), 0), ErrCorrupt},
		{"bit flip in payload", flipped, ErrCorrupt},
		{"bit flip in crc", badCRC, ErrCorrupt},
		{"unknown field", frame([]byte(`{"parent":"p","bogus":1}`)), ErrCorrupt},
		{"two values", frame(append(bytes.Clone(payload), payload...)), ErrCorrupt},
		{"trailing garbage", frame(append(bytes.Clone(payload), '}')), ErrCorrupt},
		{"null", frame([]byte(" null ")), ErrCorrupt},
		{"not json", frame([]byte("hello")), ErrCorrupt},
		{"wrong type", frame([]byte(`{"seq":"one"}`)), ErrCorrupt},
		{"huge exponent", frame([]byte(`{"quantity":"1e999999999"}`)), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Child{ClientID: "untouched"}
			err := Decode(tc.b, &c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if c.ClientID != "untouched" {
				t.Fatalf("failed decode modified the target: %+v", c)
			}
		})
	}
	if err := Decode(good, Child{}); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("decode into a non-pointer: %v", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	if _, err := Encode(nil); err == nil {
		t.Fatal("encode nil: no error")
	}
	c := sampleChild("p", "c", "a", 1)
	c.Quantity = dec("1e2000")
	if _, err := Encode(c); err == nil || !strings.Contains(err.Error(), "exponent") {
		t.Fatalf("encode huge exponent: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range []any{sampleParent("p1"), sampleChild("p1", "c1", "a", 1), sampleFill("a", "t1", "c1"), sampleOps()} {
		b, err := Encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[headerLen:]) // as a payload: the target also tries it inside a valid envelope
		f.Add(b[:len(b)-1])
		f.Add(b[:headerLen])
		for _, i := range []int{0, 3, 5, 9, headerLen, len(b) / 2, len(b) - 1} {
			flipped := bytes.Clone(b)
			flipped[i] ^= 0x04
			f.Add(flipped)
		}
	}
	f.Add([]byte(`{"quantity":"1e5","seq":-1}`))
	f.Add([]byte(`{"time":"0000-01-01T00:00:00+01:00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		checkDecode(t, frameV(1, b))
		checkDecode(t, frameV(2, b))
	})
}

// checkDecode asserts Decode's properties on b for every record type: it never panics; it fails only with
// ErrCorrupt or ErrVersion; a success re-encodes to a fixed point; a truncation of a success fails with ErrCorrupt.
func checkDecode(t *testing.T, b []byte) {
	for _, fresh := range []func() any{
		func() any { return new(Parent) },
		func() any { return new(Child) },
		func() any { return new(venues.Fill) },
		func() any { return new(Ops) },
	} {
		v := fresh()
		err := Decode(b, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("decode %T: error wraps neither ErrCorrupt nor ErrVersion: %v", v, err)
			}
			continue
		}
		if err := Decode(b[:len(b)-1], fresh()); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decode %T of a truncated record: %v, want ErrCorrupt", v, err)
		}
		e1, err := Encode(v)
		if err != nil {
			t.Fatalf("re-encode %T %+v: %v", v, v, err)
		}
		v2 := fresh()
		if err := Decode(e1, v2); err != nil {
			t.Fatalf("decode re-encoded %T: %v\n%s", v, err, e1[headerLen:])
		}
		e2, err := Encode(v2)
		if err != nil {
			t.Fatalf("re-encode %T twice: %v", v, err)
		}
		if !bytes.Equal(e1, e2) {
			t.Fatalf("%T is not a fixed point:\n%s\n%s", v, e1[headerLen:], e2[headerLen:])
		}
	}
}
