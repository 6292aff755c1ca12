package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	s := New("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprintf("%v", struct{ K String }{s})} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %s", out)
		}
	}
	b, _ := json.Marshal(map[string]String{"k": s})
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("secret leaked in JSON: %s", b)
	}
	if s.Reveal() != "hunter2" || s.Empty() || !New("").Empty() {
		t.Fatal("Reveal/Empty")
	}
}
