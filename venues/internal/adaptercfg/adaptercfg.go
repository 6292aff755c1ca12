// Package adaptercfg holds the configuration checks and defaults every adapter's New applies, so the adapters
// agree on what a usable configuration is and on the wording of their refusals.
package adaptercfg

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// DefaultRecvWindow is the receive window of a signed request when the configuration gives none.
const DefaultRecvWindow = 5 * time.Second

// Check validates the settings every adapter needs. proto names the protocol in the messages ("binance");
// credsOK says whether all credentials are present and creds names them ("API key and secret").
func Check(proto, name, baseURL, wsURL string, credsOK bool, creds string) error {
	switch {
	case name == "":
		return errors.New(proto + ": venue name is required")
	case baseURL == "" || wsURL == "":
		return fmt.Errorf("%s %s: base URL and websocket URL are required", proto, name)
	case !credsOK:
		return fmt.Errorf("%s %s: %s are required", proto, name, creds)
	}
	return nil
}

// RecvWindow is d, or DefaultRecvWindow when d is not positive.
func RecvWindow(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultRecvWindow
	}
	return d
}

// Logger is l, or a no-op logger when l is nil.
func Logger(l *zap.Logger) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	return l
}
