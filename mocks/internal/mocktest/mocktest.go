// Package mocktest holds the test setup the venue mocks' tests share: a one-venue simulated market to trade against,
// and starting a mock server for the length of a test.
package mocktest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
)

// Book is the one venue of a fresh simulated market (seed 3, 10490, on a manual clock at 2026-01-01) with the given
// name, taker fee and lot size, and the market's clock.
func Book(t testing.TB, name string, takerFeeBps float64, lotSize string) (*market.Venue, clock.Clock) {
	t.Helper()
	m, err := market.New(market.Config{Seed: 3, StartPrice: 10490, AnnualVolatility: 0.6, TotalVolume24h: 100000,
		Venues: []market.VenueConfig{{Name: name, VolumeShare: 1, TakerFeeBps: takerFeeBps,
			TickSize: decimal.RequireFromString("0.1"), LotSize: decimal.RequireFromString(lotSize)}}},
		clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	book, err := m.Venue(name)
	if err != nil {
		t.Fatal(err)
	}
	return book, m.Clock()
}

// Server is what Serve starts and stops.
type Server interface {
	Start(addr string) error
	Close() error
}

// Serve starts s on a free loopback port and closes it when the test ends.
func Serve(t testing.TB, s Server, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
}

// ETHBook is the one venue of a second simulated market, ETH at 3000 (seed 5), with the given name, taker fee and
// the venue's ETH tick and lot, on clk (the first market's clock, so both move together).
func ETHBook(t testing.TB, clk clock.Clock, name string, takerFeeBps float64, tick, lot string) *market.Venue {
	t.Helper()
	m, err := market.New(market.Config{Seed: 5, StartPrice: 3000, AnnualVolatility: 0.7, TotalVolume24h: 1000000,
		Venues: []market.VenueConfig{{Name: name, VolumeShare: 1, TakerFeeBps: takerFeeBps,
			TickSize: decimal.RequireFromString(tick), LotSize: decimal.RequireFromString(lot)}}}, clk)
	if err != nil {
		t.Fatal(err)
	}
	book, err := m.Venue(name)
	if err != nil {
		t.Fatal(err)
	}
	return book
}
