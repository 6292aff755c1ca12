// Package configs holds execd's example configurations. The default (execd.yaml) runs on the simulated market
// with mock venues on loopback; it is embedded so the demo and the tests run from any directory without it.
package configs

import _ "embed"

// Default is configs/execd.yaml.
//
//go:embed execd.yaml
var Default []byte

// Seed is configs/seed.yaml: the seed's two exchanges a (40%) and b (60%) holding -4.795 and -7.193 BTC.
//
//go:embed seed.yaml
var Seed []byte
