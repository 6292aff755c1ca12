package adaptercfg

import (
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name, base, ws string
		creds          bool
		want           string
	}{
		{"", "u", "w", true, "x: venue name is required"},
		{"a", "", "w", true, "x a: base URL and websocket URL are required"},
		{"a", "u", "", true, "x a: base URL and websocket URL are required"},
		{"a", "u", "w", false, "x a: API key and secret are required"},
	} {
		err := Check("x", c.name, c.base, c.ws, c.creds, "API key and secret")
		if err == nil || err.Error() != c.want {
			t.Errorf("Check(%q, %q, %q, %v) = %v, want %q", c.name, c.base, c.ws, c.creds, err, c.want)
		}
	}
	if err := Check("x", "a", "u", "w", true, "API key and secret"); err != nil {
		t.Fatal(err)
	}
	if RecvWindow(0) != DefaultRecvWindow || RecvWindow(time.Second) != time.Second || Logger(nil) == nil {
		t.Fatal("defaults")
	}
}
