package convert

import (
	"testing"
	"time"
)

func TestDec(t *testing.T) {
	if d, err := Dec("x", "1.50"); err != nil || d.String() != "1.5" {
		t.Fatalf("Dec: %s %v", d, err)
	}
	for _, s := range []string{"", "abc", "1..2"} {
		if _, err := Dec("x", s); err == nil {
			t.Errorf("Dec(%q): no error", s)
		}
	}
	if d, err := DecOpt("x", ""); err != nil || !d.IsZero() {
		t.Fatalf("DecOpt empty: %s %v", d, err)
	}
	if _, err := DecOpt("x", "nope"); err == nil {
		t.Fatal("DecOpt malformed: no error")
	}
}

func TestMillis(t *testing.T) {
	if tm, err := Millis("ts", ""); err != nil || !tm.IsZero() {
		t.Fatalf("empty: %v %v", tm, err)
	}
	if tm, err := Millis("ts", "1700000000123"); err != nil || !tm.Equal(time.UnixMilli(1700000000123)) || tm.Location() != time.UTC {
		t.Fatalf("value: %v %v", tm, err)
	}
	if _, err := Millis("ts", "12x"); err == nil {
		t.Fatal("malformed: no error")
	}
}

func TestErrs(t *testing.T) {
	var errs Errs
	errs.Add(nil)
	if errs.Err() != nil {
		t.Fatal("no errors: want nil")
	}
	_, err := Dec("a", "")
	errs.Add(err)
	_, err = Dec("b", "x")
	errs.Add(err)
	if len(errs) != 2 || errs.Err() == nil {
		t.Fatalf("errs %v", errs)
	}
}
