package journal

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/execd-dev/execd/venues"
)

// Store is the engine's durable state. It is safe for concurrent use. Every Put/Add/Append is durable when it
// returns nil, and changes nothing when it returns an error; PutChildAsync reports the same to its done.
type Store interface {
	PutParent(p Parent) error // insert or replace by p.ID
	PutChild(c Child) error   // insert or replace by (c.Parent, c.ClientID)
	// PutChildAsync is PutChild without waiting: done (may be nil) is called exactly once, holding no journal
	// lock, when the record is durable (nil) or failed. An invalid record is refused at once, by a call to done
	// before PutChildAsync returns.
	PutChildAsync(c Child, done func(error))
	AddFill(f venues.Fill) (fresh bool, err error) // false if (f.Venue, f.TradeID) is already stored
	// AddFillAsync is AddFill without waiting: done (may be nil) is called exactly once, holding no journal lock,
	// with fresh once the fill is durable, or with the error; an invalid fill is refused at once.
	AddFillAsync(f venues.Fill, done func(fresh bool, err error))
	AppendOps(o Ops) (seq uint64, err error)               // assigns o.Seq (monotonic from 1)
	Flush() error                                          // waits until every write queued before it is durable or failed
	Parents() ([]Parent, error)                            // all parents, sorted by Created then ID
	Children(parentID string) ([]Child, error)             // sorted by Venue then Seq
	FillsFor(clientID string) ([]venues.Fill, error)       // fills of one child order, sorted by Time then TradeID
	Ops() ([]Ops, error)                                   // in Seq order
	PutTarget(t Target) error                              // insert or replace by t.ID
	Targets() ([]Target, error)                            // sorted by Created then ID
	AppendAdjustment(a Adjustment) (seq uint64, err error) // assigns a.Seq (monotonic from 1)
	Adjustments() ([]Adjustment, error)                    // in Seq order
	// PutMarkouts stores a parent's markouts unless the stored ones already count as many samples or more (an
	// older snapshot written late never replaces a newer one); MarkoutsOf reads them (ok false: none stored).
	PutMarkouts(m Markouts) error
	MarkoutsOf(parentID string) (m Markouts, ok bool, err error)
	Close() error // flushes queued writes, then closes
}

var _ Store = (*Bolt)(nil)

// FileName is the database file inside the journal directory.
const FileName = "execd.db"

// OpenTimeout is how long Open waits for another process's lock on the database.
const OpenTimeout = 2 * time.Second

const (
	bucketMeta       = "meta"
	bucketParents    = "parents"
	bucketChildren   = "children"
	bucketFills      = "fills"
	bucketChildFills = "child_fills"
	bucketOps        = "ops"
	// Added after layout version 1 was first written: Open creates them in an existing database (an empty bucket
	// means the same as no bucket), so the layout version did not change.
	bucketTargets     = "targets"
	bucketAdjustments = "adjustments"
	bucketMarkouts    = "markouts"

	// versionKey holds the database's FormatVersion in the meta bucket, a 4-byte big-endian integer.
	versionKey = "format_version"
)

func dataBuckets() []string {
	return []string{bucketParents, bucketChildren, bucketFills, bucketChildFills, bucketOps, bucketTargets, bucketAdjustments,
		bucketMarkouts}
}

// Bolt is the bbolt implementation of Store.
type Bolt struct {
	db    *bbolt.DB
	group *group // group commit of writes: see group.go
}

// Open opens or creates dir/execd.db (creating dir with mode 0700), and checks or sets its format version.
func Open(dir string) (*Bolt, error) {
	if dir == "" {
		return nil, errors.New("journal: open: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openBolt(path)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	if err := db.Update(initLayout); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	return &Bolt{db: db, group: newGroup(AsyncWindow)}, nil
}

// openBolt opens the file, turning a panic inside bbolt on a damaged file into ErrCorrupt.
func openBolt(path string) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt panicked opening the file: %v", ErrCorrupt, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: OpenTimeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// initLayout creates the buckets and version of a new database, or checks those of an existing one.
func initLayout(tx *bbolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		var found []string
		if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			found = append(found, string(name))
			return nil
		}); err != nil {
			return err
		}
		if len(found) > 0 {
			return fmt.Errorf("%w: no meta bucket, but buckets %q", ErrCorrupt, found)
		}
		var err error
		if meta, err = tx.CreateBucket([]byte(bucketMeta)); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint32(nil, FormatVersion)
		if err := meta.Put([]byte(versionKey), v); err != nil {
			return err
		}
	}
	v := meta.Get([]byte(versionKey))
	switch {
	case v == nil:
		return fmt.Errorf("%w: meta bucket has no %s", ErrCorrupt, versionKey)
	case len(v) != 4:
		return fmt.Errorf("%w: meta %s is %d bytes, want 4", ErrCorrupt, versionKey, len(v))
	case binary.BigEndian.Uint32(v) != FormatVersion:
		return fmt.Errorf("%w: database has version %d, this build reads %d", ErrVersion,
			binary.BigEndian.Uint32(v), FormatVersion)
	}
	for _, name := range dataBuckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the database. Writes already queued, synchronous or not, are committed first and their outcomes
// delivered (every done called); a write that comes after Close began fails (with bbolt's ErrDatabaseNotOpen) and
// changes nothing. A done callback must not call Close.
func (s *Bolt) Close() error {
	s.closeWrites()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// encodeValue is Encode, refusing a record too large for a bbolt value, so that nothing about a record can fail once
// it is queued for a group commit.
func encodeValue(v any) ([]byte, error) {
	b, err := Encode(v)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > bbolt.MaxValueSize {
		return nil, invalid("record of %d bytes, larger than bbolt's %d", len(b), int64(bbolt.MaxValueSize))
	}
	return b, nil
}

func key(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// update makes fn's writes durable as part of the next group commit (see group.go). fn must set every result it
// has on each run, since it may run again in a fresh transaction.
func (s *Bolt) update(what string, fn func(tx *bbolt.Tx) error) error {
	return s.write(what, fn)
}

func (s *Bolt) view(what string, fn func(tx *bbolt.Tx) error) error {
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("journal: %s: %w", what, err)
	}
	return nil
}

// PutParent inserts or replaces the parent p.ID.
func (s *Bolt) PutParent(p Parent) error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("journal: put parent: %w", err)
	}
	b, err := encodeValue(p)
	if err != nil {
		return fmt.Errorf("journal: put parent %s: %w", p.ID, err)
	}
	return s.update("put parent "+p.ID, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketParents)).Put([]byte(p.ID), b)
	})
}

// PutChild inserts or replaces the child (c.Parent, c.ClientID).
func (s *Bolt) PutChild(c Child) error {
	what, apply, err := childWrite(c)
	if err != nil {
		return err
	}
	return s.update(what, apply)
}

// PutChildAsync inserts or replaces the child (c.Parent, c.ClientID) as PutChild does, but without waiting for it to
// be durable: the record joins the next group commit (see group.go) and done, if not nil, is called exactly once
// with the outcome — nil once the record is durable, else the error that kept it (and its group, if the commit
// failed) from being stored. done runs on the goroutine that committed the group, holding no journal lock; it
// should be quick, may write to the journal, and must not call Flush or Close (they would wait for it). A record
// that fails validation or encoding, or comes after Close began, never joins a group: done is called with the
// error before PutChildAsync returns. Writes are applied in the order they were queued, whichever method queued
// them: one goroutine's PutChildAsync then PutChild of the same child leaves the second.
func (s *Bolt) PutChildAsync(c Child, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	what, apply, err := childWrite(c)
	if err != nil {
		done(err)
		return
	}
	s.writeAsync(what, apply, done)
}

// childWrite validates and encodes c and returns the write that stores it.
func childWrite(c Child) (what string, apply func(tx *bbolt.Tx) error, err error) {
	if err := c.validate(); err != nil {
		return "", nil, fmt.Errorf("journal: put child: %w", err)
	}
	b, err := encodeValue(c)
	if err != nil {
		return "", nil, fmt.Errorf("journal: put child %s: %w", c.ClientID, err)
	}
	return "put child " + c.ClientID, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketChildren)).Put(key(c.Parent, c.ClientID), b)
	}, nil
}

// Flush waits until every write queued before it (by any goroutine, synchronous or not) is durable or has failed,
// and its outcome delivered (every done called). It returns nil, or the first failure among the writes whose
// outcome had not been delivered when Flush was called (a write whose done already ran is reported there only). It
// returns at once when nothing is queued or committing; asynchronous writes waiting for a synchronous one to carry
// them (AsyncWindow) are committed at once. A done callback must not call Flush.
func (s *Bolt) Flush() error {
	return s.flush()
}

// AddFill stores f unless a fill with the same (venue, trade id) is stored already; fresh says which.
// A duplicate changes nothing, even if its other fields differ.
func (s *Bolt) AddFill(f venues.Fill) (fresh bool, err error) {
	what, apply, fresh1, err := fillWrite(f)
	if err != nil {
		return false, err
	}
	if err := s.update(what, apply); err != nil {
		return false, err
	}
	return *fresh1, nil
}

// AddFillAsync is AddFill without waiting: the fill joins a group commit and done, if not nil, is called exactly
// once — with fresh as AddFill would return it once the fill is durable, or with the error that kept it from being
// stored — under the same rules as PutChildAsync's done. A fill that fails validation never joins a group: done is
// called with the error before AddFillAsync returns.
func (s *Bolt) AddFillAsync(f venues.Fill, done func(fresh bool, err error)) {
	if done == nil {
		done = func(bool, error) {}
	}
	what, apply, fresh, err := fillWrite(f)
	if err != nil {
		done(false, err)
		return
	}
	s.writeAsync(what, apply, func(err error) { done(err == nil && *fresh, err) })
}

// fillWrite validates and encodes f and returns the write that stores it unless its (venue, trade id) is stored;
// *fresh says, after the write committed, whether it stored it.
func fillWrite(f venues.Fill) (what string, apply func(tx *bbolt.Tx) error, fresh *bool, err error) {
	if err := validateFill(f); err != nil {
		return "", nil, nil, fmt.Errorf("journal: add fill: %w", err)
	}
	b, err := encodeValue(f)
	if err != nil {
		return "", nil, nil, fmt.Errorf("journal: add fill %s/%s: %w", f.Venue, f.TradeID, err)
	}
	fresh = new(bool)
	return "add fill " + f.Venue + "/" + f.TradeID, func(tx *bbolt.Tx) error {
		*fresh = false
		fills := tx.Bucket([]byte(bucketFills))
		k := key(f.Venue, f.TradeID)
		if fills.Get(k) != nil { // stored before, or earlier in this group
			return nil
		}
		if err := fills.Put(k, b); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketChildFills)).Put(key(f.ClientOrderID, f.Venue, f.TradeID), []byte{}); err != nil {
			return err
		}
		*fresh = true
		return nil
	}, fresh, nil
}

// AppendOps appends o to the ops log with the next sequence number, which it returns.
func (s *Bolt) AppendOps(o Ops) (seq uint64, err error) {
	if err := o.validate(); err != nil {
		return 0, fmt.Errorf("journal: append ops: %w", err)
	}
	// The record's Seq is only known inside the transaction; encoding it now (with a placeholder Seq, which cannot
	// change whether it encodes) refuses a bad record before it joins a group.
	o.Seq = math.MaxUint64
	if _, err := encodeValue(o); err != nil {
		return 0, fmt.Errorf("journal: append ops: %w", err)
	}
	err = s.update("append ops", func(tx *bbolt.Tx) error {
		bucket := tx.Bucket([]byte(bucketOps))
		n, err := bucket.NextSequence()
		if err != nil {
			return err
		}
		o.Seq = n
		b, err := Encode(o)
		if err != nil {
			return err
		}
		if err := bucket.Put(seqKey(n), b); err != nil {
			return err
		}
		seq = n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

func decodeAt(bucket string, k, v []byte, into any) error {
	if err := Decode(v, into); err != nil {
		return fmt.Errorf("%s/%q: %w", bucket, k, err)
	}
	return nil
}

func mismatch(bucket string, k []byte, format string, a ...any) error {
	return fmt.Errorf("%w: %s/%q: %s", ErrCorrupt, bucket, k, fmt.Sprintf(format, a...))
}

// Parents returns every parent, sorted by Created then ID.
func (s *Bolt) Parents() ([]Parent, error) {
	var out []Parent
	err := s.view("parents", func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketParents)).ForEach(func(k, v []byte) error {
			var p Parent
			if err := decodeAt(bucketParents, k, v, &p); err != nil {
				return err
			}
			if p.ID != string(k) {
				return mismatch(bucketParents, k, "record has id %q", p.ID)
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Parent) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Children returns the children of one parent, sorted by Venue then Seq.
func (s *Bolt) Children(parentID string) ([]Child, error) {
	if err := checkID("parent id", parentID); err != nil {
		return nil, fmt.Errorf("journal: children: %w", err)
	}
	var out []Child
	prefix := key(parentID, "")
	err := s.view("children of "+parentID, func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte(bucketChildren)).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var ch Child
			if err := decodeAt(bucketChildren, k, v, &ch); err != nil {
				return err
			}
			if !bytes.Equal(k, key(ch.Parent, ch.ClientID)) {
				return mismatch(bucketChildren, k, "record is child %q of %q", ch.ClientID, ch.Parent)
			}
			out = append(out, ch)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Child) int {
		return cmp.Or(cmp.Compare(a.Venue, b.Venue), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}

// FillsFor returns the fills of one child order, sorted by Time then TradeID.
func (s *Bolt) FillsFor(clientID string) ([]venues.Fill, error) {
	if err := checkID("client id", clientID); err != nil {
		return nil, fmt.Errorf("journal: fills: %w", err)
	}
	var out []venues.Fill
	prefix := key(clientID, "")
	err := s.view("fills for "+clientID, func(tx *bbolt.Tx) error {
		fills := tx.Bucket([]byte(bucketFills))
		c := tx.Bucket([]byte(bucketChildFills)).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			fk := k[len(prefix):]
			v := fills.Get(fk)
			if v == nil {
				return mismatch(bucketChildFills, k, "index entry without a fill")
			}
			var f venues.Fill
			if err := decodeAt(bucketFills, fk, v, &f); err != nil {
				return err
			}
			if !bytes.Equal(fk, key(f.Venue, f.TradeID)) || f.ClientOrderID != clientID {
				return mismatch(bucketFills, fk, "record is fill %s/%s of %q", f.Venue, f.TradeID, f.ClientOrderID)
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b venues.Fill) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.TradeID, b.TradeID), cmp.Compare(a.Venue, b.Venue))
	})
	return out, nil
}

// Ops returns the ops log in Seq order.
func (s *Bolt) Ops() ([]Ops, error) {
	var out []Ops
	err := s.view("ops", func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketOps)).ForEach(func(k, v []byte) error {
			var o Ops
			if err := decodeAt(bucketOps, k, v, &o); err != nil {
				return err
			}
			if !bytes.Equal(k, seqKey(o.Seq)) {
				return mismatch(bucketOps, k, "record has seq %d", o.Seq)
			}
			out = append(out, o)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
