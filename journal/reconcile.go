package journal

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"go.etcd.io/bbolt"

	"github.com/execd-dev/execd/venues"
)

// Target states.
const (
	TargetWorking    = "working"    // a parent is working the difference, or will be
	TargetReached    = "reached"    // the aggregate is within tolerance of the target
	TargetSuperseded = "superseded" // a newer target for the instrument replaced it
	TargetFailed     = "failed"     // the difference could not be worked (no venue could take it)
)

// Target is a desired aggregate position in one instrument across venues, and how execd is working it.
type Target struct {
	ID             string          `json:"id"`
	Instrument     string          `json:"instrument"`
	Position       decimal.Decimal `json:"position"` // signed, base units
	Duration       time.Duration   `json:"duration"` // nanoseconds; zero when EndAt is set
	StartAt        *time.Time      `json:"start_at"`
	EndAt          *time.Time      `json:"end_at"`
	MaxSlippageBps int             `json:"max_slippage_bps"`
	Venues         []string        `json:"venues"`
	Execution      string          `json:"execution,omitempty"` // the parents' execution; "" the default
	State          string          `json:"state"`
	Reason         string          `json:"reason"`
	// Parents are the parent orders that worked this target, oldest first: the first for the difference when the
	// target was set, later ones corrective.
	Parents      []string        `json:"parents"`
	Reached      decimal.Decimal `json:"reached"` // the aggregate when it last changed state
	SupersededBy string          `json:"superseded_by"`
	Created      time.Time       `json:"created"`
	Updated      time.Time       `json:"updated"`
}

// Adjustment is an external change booked by reconciliation: the venue's position differed from the ledger's
// with nothing of execd's in flight to explain it (a manual trade, a liquidation or auto-deleveraging, a fill
// execd never saw). The ledger is moved by Delta.
type Adjustment struct {
	Seq        uint64          `json:"seq"`
	Time       time.Time       `json:"time"`
	Venue      string          `json:"venue"`
	Instrument string          `json:"instrument"`
	Ledger     decimal.Decimal `json:"ledger"`   // the ledger's position before
	Observed   decimal.Decimal `json:"observed"` // the venue's position as read
	Delta      decimal.Decimal `json:"delta"`    // observed − ledger
	// TradeIDs are the venue's ids of external trades seen since the last adjustment of this key; their sum
	// explains Delta when Explained is set.
	TradeIDs  []string `json:"trade_ids"`
	Explained bool     `json:"explained"`
}

func (t Target) validate() error {
	if err := checkAll(checkID("target id", t.ID), checkID("target instrument", t.Instrument)); err != nil {
		return err
	}
	if _, _, err := venues.ParseInstrument(t.Instrument); err != nil {
		return invalid("target %s: %v", t.ID, err)
	}
	switch t.State {
	case TargetWorking, TargetReached, TargetSuperseded, TargetFailed:
	default:
		return invalid("target %s: state %q", t.ID, t.State)
	}
	if t.Duration < 0 || t.MaxSlippageBps < 0 {
		return invalid("target %s: negative duration or slippage", t.ID)
	}
	if t.Created.IsZero() {
		return invalid("target %s: no creation time", t.ID)
	}
	return nil
}

func (a Adjustment) validate() error {
	if err := checkAll(checkID("adjustment venue", a.Venue), checkID("adjustment instrument", a.Instrument)); err != nil {
		return err
	}
	if a.Delta.IsZero() {
		return invalid("adjustment %s %s: zero delta", a.Venue, a.Instrument)
	}
	if !a.Observed.Sub(a.Ledger).Equal(a.Delta) {
		return invalid("adjustment %s %s: delta %s is not observed %s − ledger %s", a.Venue, a.Instrument, a.Delta, a.Observed, a.Ledger)
	}
	return nil
}

// PutTarget inserts or replaces the target t.ID.
func (s *Bolt) PutTarget(t Target) error {
	if err := t.validate(); err != nil {
		return fmt.Errorf("journal: put target: %w", err)
	}
	b, err := encodeValue(t)
	if err != nil {
		return fmt.Errorf("journal: put target %s: %w", t.ID, err)
	}
	return s.update("put target "+t.ID, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketTargets)).Put([]byte(t.ID), b)
	})
}

// Targets returns every target, sorted by Created then ID.
func (s *Bolt) Targets() ([]Target, error) {
	var out []Target
	err := s.view("targets", func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketTargets)).ForEach(func(k, v []byte) error {
			var t Target
			if err := decodeAt(bucketTargets, k, v, &t); err != nil {
				return err
			}
			if t.ID != string(k) {
				return mismatch(bucketTargets, k, "record has id %q", t.ID)
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// AppendAdjustment appends a to the adjustments log with the next sequence number, which it returns.
func (s *Bolt) AppendAdjustment(a Adjustment) (seq uint64, err error) {
	if err := a.validate(); err != nil {
		return 0, fmt.Errorf("journal: append adjustment: %w", err)
	}
	a.Seq = math.MaxUint64
	if _, err := encodeValue(a); err != nil {
		return 0, fmt.Errorf("journal: append adjustment: %w", err)
	}
	err = s.update("append adjustment", func(tx *bbolt.Tx) error {
		bucket := tx.Bucket([]byte(bucketAdjustments))
		n, err := bucket.NextSequence()
		if err != nil {
			return err
		}
		a.Seq = n
		b, err := Encode(a)
		if err != nil {
			return err
		}
		seq = n
		return bucket.Put(seqKey(n), b)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// Adjustments returns the adjustments log in Seq order.
func (s *Bolt) Adjustments() ([]Adjustment, error) {
	var out []Adjustment
	err := s.view("adjustments", func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketAdjustments)).ForEach(func(k, v []byte) error {
			var a Adjustment
			if err := decodeAt(bucketAdjustments, k, v, &a); err != nil {
				return err
			}
			if !bytes.Equal(k, seqKey(a.Seq)) {
				return mismatch(bucketAdjustments, k, "record has seq %d", a.Seq)
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutMarkouts stores m unless the stored markouts of m.Parent count as many samples or more.
func (s *Bolt) PutMarkouts(m Markouts) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("journal: put markouts: %w", err)
	}
	b, err := encodeValue(m)
	if err != nil {
		return fmt.Errorf("journal: put markouts of %s: %w", m.Parent, err)
	}
	return s.update("put markouts of "+m.Parent, func(tx *bbolt.Tx) error {
		bucket := tx.Bucket([]byte(bucketMarkouts))
		if old := bucket.Get([]byte(m.Parent)); old != nil {
			var was Markouts
			if err := decodeAt(bucketMarkouts, []byte(m.Parent), old, &was); err != nil {
				return err
			}
			if was.Samples >= m.Samples {
				return nil
			}
		}
		return bucket.Put([]byte(m.Parent), b)
	})
}

// MarkoutsOf returns the stored markouts of a parent; ok is false when there are none.
func (s *Bolt) MarkoutsOf(parentID string) (m Markouts, ok bool, err error) {
	err = s.view("markouts of "+parentID, func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte(bucketMarkouts)).Get([]byte(parentID))
		if v == nil {
			return nil
		}
		if err := decodeAt(bucketMarkouts, []byte(parentID), v, &m); err != nil {
			return err
		}
		if m.Parent != parentID {
			return mismatch(bucketMarkouts, []byte(parentID), "record has parent %q", m.Parent)
		}
		ok = true
		return nil
	})
	return m, ok, err
}
