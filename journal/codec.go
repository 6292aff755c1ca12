package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"reflect"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/lifecycle"
)

// FormatVersion is the version of the database layout (buckets, keys, the record envelope). It is written in the
// meta bucket; Open refuses a database of any other layout version.
const FormatVersion = 1

// Record versions. The envelope's version byte is the version of the record's own type, so that one type's shape
// can change without touching the others: Encode writes a type's current version, and Decode reads that version
// strictly, migrates an older one (a type that changed says how, see migrate.go), and refuses a newer one with
// ErrVersion. Version 1 is the shape every type had when the header byte was the layout version (also 1), so
// records written before per-type versions decode as version 1 of their type.
const (
	// ParentVersion 2: the final report is a Summary (journal-owned), no longer the engine's report as raw JSON.
	ParentVersion = 2
	// ChildVersion 2: State is a lifecycle.State; the venue's Status is gone (the state says it); Reported is
	// Filled; VenueOrderID, TimeInForce and PostOnly are new.
	ChildVersion = 2
	// OpsVersion 2: Reset, ConfigHash and Refused are new (and the kind OpsReload).
	OpsVersion = 2
	// FillVersion: unchanged since version 1.
	FillVersion = 1
)

// versioned is a record type whose current version is not 1.
type versioned interface{ recordVersion() byte }

// migrating is a record type that reads older versions of itself: migrate decodes an older payload (decode
// decodes it strictly into a value of that version's own type) and sets the receiver to its current-version
// equivalent. It returns an error for a version it does not read.
type migrating interface {
	migrate(version byte, decode func(into any) error) error
}

// checkedOnRead is a record type with a field whose values are an enumeration the JSON decoder cannot check; a
// decoded record that holds another value is corrupt.
type checkedOnRead interface{ checkRead() error }

func (c *Child) checkRead() error {
	_, err := lifecycle.Parse(string(c.State))
	return err
}

func (Parent) recordVersion() byte { return ParentVersion }
func (Child) recordVersion() byte  { return ChildVersion }
func (Ops) recordVersion() byte    { return OpsVersion }

// versionOf is the version Encode writes for v: its type's current version.
func versionOf(v any) byte {
	if r, ok := v.(versioned); ok {
		return r.recordVersion()
	}
	return 1 // FillVersion, and any other type
}

// ErrCorrupt is wrapped by every error about a stored value or database that cannot be trusted: bad magic, wrong
// length, CRC mismatch, malformed or unexpected JSON, a key that does not match its record.
var ErrCorrupt = errors.New("corrupt record")

// ErrVersion is wrapped when a database was written with another FormatVersion, or a record with a version of its
// type this build does not read (a newer one, or version 0).
var ErrVersion = errors.New("unsupported format version")

// ErrInvalid is wrapped when a record is refused before it is written (empty id, negative quantity, ...).
var ErrInvalid = errors.New("invalid record")

const (
	magic     = "EXJ"
	headerLen = 12 // magic(3) + version(1) + crc32c(4) + length(4)
	// maxExponent bounds a decimal's exponent in a record, so that printing it cannot blow up: "1e999999999" is
	// valid JSON for shopspring but its decimal string is a billion digits long.
	maxExponent = 1000
	maxDepth    = 64
)

func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// Encode wraps the JSON encoding of v in a record envelope:
//
//	"EXJ" | record version (1 byte) | CRC-32C of payload (4 bytes, big-endian) | len(payload) (4 bytes, big-endian) | payload
//
// The record version is that of v's type (ParentVersion, ChildVersion, FillVersion, OpsVersion).
// The payload is encoding/json's output: decimals as strings, times in RFC 3339 with nanoseconds.
func Encode(v any) ([]byte, error) {
	if err := checkDecimals(reflect.ValueOf(v), "", 0); err != nil {
		return nil, fmt.Errorf("journal: encode: %w", err)
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("journal: encode: %w", err)
	}
	if string(payload) == "null" {
		return nil, errors.New("journal: encode: nil value")
	}
	if uint64(len(payload)) > math.MaxUint32 {
		return nil, fmt.Errorf("journal: encode: payload of %d bytes is too large", len(payload))
	}
	out := make([]byte, headerLen+len(payload))
	copy(out, magic)
	out[3] = versionOf(v)
	binary.BigEndian.PutUint32(out[4:8], crc32.Checksum(payload, castagnoli()))
	binary.BigEndian.PutUint32(out[8:12], uint32(len(payload)))
	copy(out[headerLen:], payload)
	return out, nil
}

// Decode checks a record envelope written by Encode — magic, version, exact length, CRC — and decodes its payload
// into v, which must be a non-nil pointer. The payload must be exactly one JSON value with no field the type of its
// version does not have. A record of an older version of v's type is migrated to the current one. Any failure
// wraps ErrCorrupt, or ErrVersion for a version this build does not read; on failure v is left untouched.
func Decode(b []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("journal: decode into %T: need a non-nil pointer", v)
	}
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), headerLen)
	}
	if string(b[:3]) != magic {
		return fmt.Errorf("%w: bad magic %q", ErrCorrupt, b[:3])
	}
	// Decode into a fresh value so a failure leaves v as it was.
	tmp := reflect.New(rv.Elem().Type())
	version, current := b[3], versionOf(tmp.Interface())
	m, migrates := tmp.Interface().(migrating)
	if version != current && (version == 0 || version > current || !migrates) {
		return fmt.Errorf("%w: %v record has version %d, this build reads %d", ErrVersion, rv.Elem().Type(), version, current)
	}
	payload := b[headerLen:]
	if n := binary.BigEndian.Uint32(b[8:12]); uint64(len(payload)) != uint64(n) {
		return fmt.Errorf("%w: header says %d payload bytes, record has %d", ErrCorrupt, n, len(payload))
	}
	if want, got := binary.BigEndian.Uint32(b[4:8]), crc32.Checksum(payload, castagnoli()); want != got {
		return fmt.Errorf("%w: crc %08x, header says %08x", ErrCorrupt, got, want)
	}
	if string(bytes.TrimSpace(payload)) == "null" {
		return fmt.Errorf("%w: null payload", ErrCorrupt)
	}
	if version == current {
		if err := decodeStrict(payload, tmp.Interface()); err != nil {
			return err
		}
	} else if err := m.migrate(version, func(into any) error { return decodeStrict(payload, into) }); err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion) {
			return fmt.Errorf("version %d %v record: %w", version, rv.Elem().Type(), err)
		}
		return fmt.Errorf("%w: version %d %v record: %w", ErrCorrupt, version, rv.Elem().Type(), err)
	}
	if err := checkDecimals(tmp, "", 0); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if c, ok := tmp.Interface().(checkedOnRead); ok {
		if err := c.checkRead(); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	rv.Elem().Set(tmp.Elem())
	return nil
}

// decodeStrict decodes payload into v, a pointer: exactly one JSON value, no field v does not have. Failures wrap
// ErrCorrupt.
func decodeStrict(payload []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("%w: after the JSON value: %w", ErrCorrupt, err)
		}
		return fmt.Errorf("%w: trailing data after the JSON value: %v", ErrCorrupt, tok)
	}
	return nil
}

// checkDecimals walks v's exported fields and refuses a decimal whose exponent is out of range.
func checkDecimals(v reflect.Value, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("value nested deeper than %d at %s", maxDepth, path)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkDecimals(v.Elem(), path, depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[decimal.Decimal]() {
			d := v.Interface().(decimal.Decimal)
			if e := d.Exponent(); e > maxExponent || e < -maxExponent {
				return fmt.Errorf("decimal at %s has exponent %d, outside ±%d", path, e, maxExponent)
			}
			return nil
		}
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				if err := checkDecimals(v.Field(i), path+"."+f.Name, depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if err := checkDecimals(v.Index(i), path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkDecimals(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key()), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
