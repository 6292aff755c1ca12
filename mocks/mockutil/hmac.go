package mockutil

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// HMACHex is the lowercase hex HMAC-SHA256 of msg under secret (Binance, Bybit).
func HMACHex(secret, msg string) string { return hex.EncodeToString(mac(secret, msg)) }

// HMACBase64 is the standard base64 HMAC-SHA256 of msg under secret (OKX).
func HMACBase64(secret, msg string) string {
	return base64.StdEncoding.EncodeToString(mac(secret, msg))
}

// EqualSig compares two signatures in constant time.
func EqualSig(got, want string) bool { return hmac.Equal([]byte(got), []byte(want)) }

func mac(secret, msg string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// WriteJSON answers with status and v encoded as JSON. The error is the client's (a write failure); callers may
// log it.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
