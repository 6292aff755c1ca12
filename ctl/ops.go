package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/execd-dev/execd/api"
)

func (c *cli) targetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Set or read the aggregate position to hold across venues",
		Args:  noArgs,
	}
	var (
		in       api.TargetRequest
		venues   string
		slippage int
		startAt  string
		endAt    string
	)
	set := &cobra.Command{
		Use:     "set INSTRUMENT --id ID --position P (--duration D | --end-at T) [flags]",
		Short:   "Set an instrument's target aggregate position (idempotent by --id); it supersedes the running one",
		Example: `  execctl target set BTC-USDT-PERP --id tgt-2026-12-07 --position 2.2166 --duration 10m`,
		Args:    exactArgs("INSTRUMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			for _, f := range []string{"id", "position"} {
				if !cmd.Flags().Changed(f) {
					return usagef("--%s is required", f)
				}
			}
			if venues != "" {
				in.Venues = strings.Split(venues, ",")
			}
			if cmd.Flags().Changed("max-slippage-bps") {
				in.MaxSlippageBps = &slippage
			}
			var err error
			if in.StartAt, err = rfc3339("start-at", startAt); err != nil {
				return err
			}
			if in.EndAt, err = rfc3339("end-at", endAt); err != nil {
				return err
			}
			var t api.Target
			status, err := c.call(cmd.Context(), http.MethodPut, "/v1/targets/"+url.PathEscape(args[0]), in, &t)
			if err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(t)
			}
			what := "set"
			if status == http.StatusOK {
				what = "already set (same id and request)"
			}
			fmt.Fprintf(c.o.Stdout, "target %s on %s %s\n", t.ID, t.Instrument, what)
			return c.targetTable([]api.Target{t})
		},
	}
	f := set.Flags()
	f.StringVar(&in.ID, "id", "", "the target's id: its idempotency key")
	f.StringVar(&in.Position, "position", "", "aggregate position to hold (signed decimal: negative is short)")
	f.StringVar(&in.Duration, "duration", "", "horizon to reach it, e.g. 10m (or --end-at)")
	f.StringVar(&endAt, "end-at", "", "hard end, RFC 3339")
	f.StringVar(&startAt, "start-at", "", "start, RFC 3339: accepted now, nothing sent before")
	f.IntVar(&slippage, "max-slippage-bps", 0, "price band around the mark, bps (default: the daemon's)")
	f.StringVar(&venues, "venues", "", "comma-separated venues to use (default: all enabled)")
	f.StringVar(&in.Execution, "execution", "", "maker_first or taker (default: the daemon's)")
	get := &cobra.Command{
		Use:   "get [INSTRUMENT]",
		Short: "Show every instrument's target, or one instrument's with its history",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("target get takes at most one instrument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			if len(args) == 1 {
				var d api.TargetDetail
				if err := c.get(cmd.Context(), "/v1/targets/"+url.PathEscape(args[0]), &d); err != nil {
					return err
				}
				if c.output == "json" {
					return c.printJSON(d)
				}
				if d.Target == nil {
					fmt.Fprintf(c.o.Stdout, "no target on %s\n", d.Instrument)
					return nil
				}
				if err := c.targetTable([]api.Target{*d.Target}); err != nil {
					return err
				}
				if len(d.History) > 0 {
					fmt.Fprintln(c.o.Stdout, "\nhistory:")
					return c.targetTable(d.History)
				}
				return nil
			}
			var l struct {
				Targets []api.Target `json:"targets"`
			}
			if err := c.get(cmd.Context(), "/v1/targets", &l); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(l)
			}
			return c.targetTable(l.Targets)
		},
	}
	cmd.AddCommand(set, get)
	return cmd
}

func rfc3339(flag, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, usagef("--%s %q: want RFC 3339, e.g. 2026-12-07T16:00:00Z", flag, v)
	}
	return &t, nil
}

func (c *cli) targetTable(ts []api.Target) error {
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, []string{t.Instrument, t.ID, t.State, t.Position.String(), t.Aggregate.String(), t.Drift.String(),
			dash(t.Working), strconv.Itoa(len(t.Parents)), t.UpdatedAt.UTC().Format(time.RFC3339), dash(t.Reason)})
	}
	return c.table([]string{"INSTRUMENT", "ID", "STATE", "POSITION", "AGGREGATE", "DRIFT", "WORKING", "PARENTS", "UPDATED", "REASON"}, rows)
}

func (c *cli) positionsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "positions",
		Short: "Show positions per venue (the ledger beside the venue's own) and in aggregate, with targets (-o csv too)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := c.format("csv")
			if err != nil {
				return err
			}
			var p api.PositionsView
			if err := c.get(cmd.Context(), "/v1/positions", &p); err != nil {
				return err
			}
			header := []string{"VENUE", "INSTRUMENT", "POSITION", "NOTIONAL", "VENUE POSITION", "DIFFERENCE", "READ AT", "FLAGGED"}
			rows := make([][]string, 0, len(p.Venues))
			for _, v := range p.Venues {
				rows = append(rows, []string{v.Venue, v.Instrument, v.Position.String(), v.Notional.Round(2).String(),
					decStr(v.VenuePosition), decStr(v.Difference), timeStr(v.ReadAt), strconv.FormatBool(v.Flagged)})
			}
			switch format {
			case "json":
				return c.printJSON(p)
			case "csv":
				return writeCSV(c.o.Stdout, header, rows)
			}
			if err := c.table(header, rows); err != nil {
				return err
			}
			fmt.Fprintln(c.o.Stdout)
			agg := make([][]string, 0, len(p.Aggregate))
			for _, a := range p.Aggregate {
				agg = append(agg, []string{a.Instrument, a.Position.String(), a.Notional.Round(2).String(), decStr(a.Target), decStr(a.Drift)})
			}
			return c.table([]string{"INSTRUMENT", "AGGREGATE", "NOTIONAL", "TARGET", "DRIFT"}, agg)
		},
	}
}

func (c *cli) venuesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "venues",
		Short: "Show the venues: enabled, weight, breaker, volume share, mark; 'venues set' changes one",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			var l struct {
				Venues []api.VenueStatus `json:"venues"`
			}
			if err := c.get(cmd.Context(), "/v1/venues", &l); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(l)
			}
			rows := make([][]string, 0, len(l.Venues))
			for _, v := range l.Venues {
				rows = append(rows, c.venueRow(v))
			}
			return c.table(venueHeader, rows)
		},
	}
	var (
		weight  string
		enabled bool
		reset   bool
	)
	set := &cobra.Command{
		Use:   "set VENUE [--weight W] [--enabled=true|false] [--reset]",
		Short: "Change a venue's weight or enabled flag live (journaled with your token's name), or --reset it to the config file's",
		Example: `  execctl venues set b --weight 0.5
  execctl venues set c --enabled=false
  execctl venues set c --reset`,
		Args: exactArgs("VENUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			body := map[string]any{}
			fl := cmd.Flags()
			switch {
			case reset && (fl.Changed("weight") || fl.Changed("enabled")):
				return usagef("--reset returns the venue to the config file's values: give it alone")
			case reset:
				body["reset"] = true
			case !fl.Changed("weight") && !fl.Changed("enabled"):
				return usagef("give --weight, --enabled or both, or --reset")
			}
			if fl.Changed("weight") {
				body["weight"] = weight
			}
			if fl.Changed("enabled") {
				body["enabled"] = enabled
			}
			var v api.VenueStatus
			if _, err := c.call(cmd.Context(), http.MethodPut, "/v1/venues/"+url.PathEscape(args[0]), body, &v); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(v)
			}
			return c.table(venueHeader, [][]string{c.venueRow(v)})
		},
	}
	set.Flags().StringVar(&weight, "weight", "", "routing weight, a decimal from 0 to 100 (0: no new work)")
	set.Flags().BoolVar(&enabled, "enabled", true, "whether the venue takes work")
	set.Flags().BoolVar(&reset, "reset", false, "back to the config file's weight and enabled flag")
	cmd.AddCommand(set)
	return cmd
}

var venueHeader = []string{"VENUE", "PROTOCOL", "ENABLED", "WEIGHT", "BREAKER", "HEALTHY", "VOLUME SHARE", "MARK", "ERROR"}

func (c *cli) venueRow(v api.VenueStatus) []string {
	return []string{v.Venue, v.Protocol, strconv.FormatBool(v.Enabled), v.Weight.String(), v.Breaker,
		strconv.FormatBool(v.Healthy), decStr(v.VolumeShare), decStr(v.MarkPrice), dash(v.Error)}
}

// stateCmd sets the trading state.
func (c *cli) stateCmd(name, state, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name,
		Short: short + " (PUT /v1/trading-state " + state + ")",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			var out map[string]string
			if _, err := c.call(cmd.Context(), http.MethodPut, "/v1/trading-state", map[string]string{"state": state}, &out); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(out)
			}
			fmt.Fprintf(c.o.Stdout, "trading state: %s\n", out["state"])
			return nil
		},
	}
}

func (c *cli) auditCmd() *cobra.Command {
	var (
		since uint64
		limit int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List ops changes and config reloads: who, when, what (-o csv too)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := c.format("csv")
			if err != nil {
				return err
			}
			var l api.AuditList
			if err := c.get(cmd.Context(), fmt.Sprintf("/v1/audit?since=%d&limit=%d", since, limit), &l); err != nil {
				return err
			}
			header := []string{"SEQ", "TIME", "ACTOR", "KIND", "CHANGE"}
			rows := make([][]string, 0, len(l.Entries))
			for _, e := range l.Entries {
				rows = append(rows, []string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339), e.Actor, e.Kind, auditChange(e)})
			}
			switch format {
			case "json":
				return c.printJSON(l)
			case "csv":
				return writeCSV(c.o.Stdout, header, rows)
			}
			return c.table(header, rows)
		},
	}
	cmd.Flags().Uint64Var(&since, "since", 0, "only entries after this sequence number")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many entries (1–1000)")
	return cmd
}

// auditChange says what an audit entry changed, in a few words.
func auditChange(e api.AuditEntry) string {
	switch e.Kind {
	case "venue":
		if e.Reset {
			return e.Venue + ": reset to the config file's values"
		}
		var parts []string
		if e.Weight != nil {
			parts = append(parts, "weight "+e.Weight.String())
		}
		if e.Enabled != nil {
			parts = append(parts, "enabled "+strconv.FormatBool(*e.Enabled))
		}
		return e.Venue + ": " + strings.Join(parts, ", ")
	case "trading_state":
		return "trading state " + e.State
	case "config_reload":
		if e.Refused != "" {
			return "reload refused: " + e.Refused
		}
		return "reloaded config " + shortHash(e.ConfigHash)
	}
	return e.Kind
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func (c *cli) reloadCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "Reload the daemon's config file, as SIGHUP does; says why when it is refused",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			var r api.ReloadResult
			if _, err := c.call(cmd.Context(), http.MethodPost, "/v1/config/reload", nil, &r); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(r)
			}
			fmt.Fprintf(c.o.Stdout, "config reloaded (sha256 %s)\n", r.ConfigHash)
			return nil
		},
	}
}
