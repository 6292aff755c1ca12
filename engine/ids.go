package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strconv"
)

// ClientIDPrefix starts every client order id execd sends, so its orders can be told apart at a venue. It reveals
// nothing about the parent, the sequence or the size.
const ClientIDPrefix = "ex"

// ClientOrderID derives a child's client order id from the parent id, the venue and the child's sequence at that
// venue: "ex" and 22 base-62 characters of an HMAC keyed by the installation's salt (invariant 2). The same inputs
// give the same id after a restart; without the salt the id says nothing about its inputs.
func ClientOrderID(salt []byte, parentID, venue string, seq int) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("child\x00" + parentID + "\x00" + venue + "\x00" + strconv.Itoa(seq)))
	sum := m.Sum(nil)
	s := new(big.Int).SetBytes(sum[:16]).Text(62)
	for len(s) < 22 {
		s = "0" + s
	}
	return ClientIDPrefix + s
}

// scheduleSeed derives the parent's schedule seed from the salt and the parent id, so a restart re-derives the
// same schedule and nobody without the salt can predict it.
func scheduleSeed(salt []byte, parentID string) uint64 {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("seed\x00" + parentID))
	return binary.BigEndian.Uint64(m.Sum(nil)[:8])
}

// venueStream derives the second PCG word of a venue's schedule stream.
func venueStream(venue string) uint64 {
	h := sha256.Sum256([]byte("venue\x00" + venue))
	return binary.BigEndian.Uint64(h[:8])
}
