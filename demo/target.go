package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
)

// TargetResult is what `demo -json` prints for a target scenario.
type TargetResult struct {
	Target    api.Target        `json:"target"`
	Order     api.Order         `json:"order"` // the parent that worked the difference
	Positions api.PositionsView `json:"positions"`
}

// runTarget sets the scenario's target, follows the parent execd starts for it, waits until the target is
// reached (or failed) and prints the report and where the target stands.
func runTarget(ctx context.Context, o Options, sc Scenario, d *app.App, cl *api.Client, clk clock.Clock, before api.PositionsView) error {
	tgt := *sc.Target
	tgt.ID = fmt.Sprintf("tg-%s-btc3s-%d", clk.Now().Format("2006-01-02"), o.Seed)
	inst := sc.Instrument
	// The keeper names the target's first parent after the target; follow it, and the target's events, from
	// before either exists.
	f, err := api.NewFollower(ctx, cl, "tgt:"+tgt.ID+":1")
	if err != nil {
		return err
	}
	defer f.Stop()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tev, tend, err := cl.Events(tctx, api.EventsRequest{Kinds: []string{api.KindTarget}, Key: inst})
	if err != nil {
		return err
	}
	var set api.Target
	if err := cl.Do(ctx, "PUT", "/v1/targets/"+inst, tgt, &set); err != nil {
		return err
	}
	if !o.JSON {
		fmt.Fprintf(o.Stdout, "execd demo — scenario %s (market seed %d)\n%s\n", sc.Name, o.Seed, sc.Description)
		fmt.Fprintf(o.Stdout, "daemon on %s; simulated clock ×%g; target %s %s over %s (aggregate now %s)\n\n",
			d.Addr(), sc.Speed, inst, tgt.Position, tgt.Duration, aggregateOf(before, inst))
	}
	wallStart := time.Now()
	bar, progress := newProgress(o, clk)
	rep, raw, err := f.Follow(api.Order{}, progress)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("the target's parent did not finish within %s of wall time (state %s, filled %s)", o.WallLimit, rep.State, rep.Filled)
		}
		return err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	// The target is reached (or failed) once the keeper has looked at the reconciled aggregate after the parent.
	var last api.TargetEvent
	for last.Kind != "reached" && last.Kind != "failed" {
		e, ok := <-tev
		if !ok {
			if ctx.Err() != nil {
				return fmt.Errorf("target %s not reached within %s of wall time", tgt.ID, o.WallLimit)
			}
			return fmt.Errorf("target events: %w", tend())
		}
		var te api.TargetEvent
		if err := e.Decode(&te); err != nil {
			return err
		}
		if te.TargetID == tgt.ID {
			last = te
		}
	}
	var detail api.TargetDetail
	if err := cl.Do(ctx, "GET", "/v1/targets/"+inst, nil, &detail); err != nil {
		return err
	}
	var after api.PositionsView
	if err := cl.Do(ctx, "GET", "/v1/positions", nil, &after); err != nil {
		return err
	}
	if detail.Target == nil {
		return fmt.Errorf("target %s vanished", tgt.ID)
	}
	if o.JSON {
		res := TargetResult{Target: *detail.Target, Positions: after}
		if err := json.Unmarshal(raw, &res.Order); err != nil {
			return fmt.Errorf("the final order: %w", err)
		}
		if err := printJSON(o.Stdout, res); err != nil {
			return err
		}
	} else {
		printReport(o.Stdout, rep, before, after, time.Since(wallStart))
		printTarget(o.Stdout, *detail.Target)
	}
	if last.Kind != "reached" {
		return fmt.Errorf("target %s %s: %s", tgt.ID, last.Kind, last.Reason)
	}
	return nil
}

func aggregateOf(v api.PositionsView, inst string) string {
	for _, a := range v.Aggregate {
		if a.Instrument == inst {
			return a.Position.String()
		}
	}
	return "0"
}

func printTarget(w io.Writer, t api.Target) {
	fmt.Fprintf(w, "\nTarget %s: %s — position %s, reached %s, drift %s (aggregate − target), parents %v\n",
		t.ID, t.State, t.Position, t.Aggregate, t.Drift, t.Parents)
}

// printJSON writes v as indented JSON: the one thing `demo -json` prints.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
