// Package configs holds execd's example configurations. The default (execd.yaml) runs on the simulated market
// with mock venues on loopback; it is embedded so the demo and the tests run from any directory without it.
package configs

import _ "embed"

// Default is configs/execd.yaml.
//
//go:embed execd.yaml
var Default []byte
