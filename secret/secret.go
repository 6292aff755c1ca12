// Package secret holds the type execd keeps credentials in: it prints as [redacted] in every format, log field and
// JSON encoding, so an API secret cannot reach a log line or an error string by accident (invariant 12).
package secret

// String is a secret value. Reveal is the only way to read it.
type String struct{ v string }

// New wraps a secret.
func New(v string) String { return String{v: v} }

// Reveal returns the secret itself, for signing.
func (s String) Reveal() string { return s.v }

// Empty reports whether no secret is set.
func (s String) Empty() bool { return s.v == "" }

const redacted = "[redacted]"

func (s String) String() string   { return redacted }
func (s String) GoString() string { return redacted }

// MarshalJSON and MarshalText keep the secret out of encodings.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s String) MarshalText() ([]byte, error) { return []byte(redacted), nil }
