package gateway

import "fmt"

// CheckLive reports whether g.live is exactly the orders not final. Call it only after the loop has ended
// (Done is closed): it reads the loop's state.
func CheckLive(g *Gateway) error {
	for id, o := range g.orders {
		if _, in := g.live[id]; in == o.state.Final() {
			return fmt.Errorf("order %s in state %s: in the live set %v", id, o.state, in)
		}
	}
	for id, o := range g.live {
		if g.orders[id] != o {
			return fmt.Errorf("order %s in the live set but not among the orders", id)
		}
	}
	return nil
}
