package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/report"
)

func (c *cli) submitCmd() *cobra.Command {
	var (
		in       api.OrderRequest
		file     string
		venues   string
		slippage int
		limit    string
		startAt  string
		endAt    string
		watch    bool
	)
	cmd := &cobra.Command{
		Use:   "submit --id ID --instrument I --side buy|sell --quantity Q (--duration D | --end-at T) [flags]",
		Short: "Submit a parent order (idempotent by --id); --watch follows it to its end",
		Long: `Submit a parent order to be worked over a horizon across the venues (POST /v1/orders).

The id is the idempotency key: submitting the same id and request again answers with the order already there
(nothing new is traded); the same id with another request is refused. -f FILE sends a JSON request body
(as the API takes it; "-" reads stdin) instead of the flags.`,
		Example: `  execctl submit --id rb-2026-12-07 --instrument BTC-USDT-PERP --side buy --quantity 2.2166 --duration 10m --watch
  execctl submit --id rb-close --instrument BTC-USDT-PERP --side sell --quantity 1 --duration 5m --reduce-only --execution taker`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			if file != "" {
				if cmd.Flags().NFlag() > countSet(cmd, "file", "watch", "addr", "token", "output", "timeout") {
					return usagef("-f takes the whole request: give no order flags with it")
				}
				b, err := c.readFile(file)
				if err != nil {
					return err
				}
				dec := json.NewDecoder(strings.NewReader(string(b)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&in); err != nil {
					return usagef("-f %s: %v", file, err)
				}
			} else {
				for _, f := range []string{"id", "instrument", "side", "quantity"} {
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
				if limit != "" {
					in.LimitPrice = &limit
				}
				if startAt != "" {
					in.StartAt = &startAt
				}
				if endAt != "" {
					in.EndAt = &endAt
				}
			}
			return c.submit(cmd.Context(), in, watch)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "a JSON request body (\"-\": stdin) instead of the flags")
	f.StringVar(&in.ID, "id", "", "the order's id: its idempotency key (1–64 of [A-Za-z0-9._:-])")
	f.StringVar(&in.Instrument, "instrument", "", "instrument, e.g. BTC-USDT-PERP")
	f.StringVar(&in.Side, "side", "", "buy or sell")
	f.StringVar(&in.Quantity, "quantity", "", "quantity in the base asset, a decimal string")
	f.StringVar(&in.Duration, "duration", "", "horizon, e.g. 10m (or --end-at)")
	f.StringVar(&endAt, "end-at", "", "hard end, RFC 3339 (instead of --duration)")
	f.StringVar(&startAt, "start-at", "", "start, RFC 3339: accepted now, nothing sent before")
	f.BoolVar(&in.ReduceOnly, "reduce-only", false, "every child order reduce-only")
	f.IntVar(&slippage, "max-slippage-bps", 0, "price band around the mark, bps (default: the daemon's)")
	f.StringVar(&venues, "venues", "", "comma-separated venues to use (default: all enabled)")
	f.StringVar(&limit, "limit-price", "", "worst price any child may trade at")
	f.StringVar(&in.Execution, "execution", "", "maker_first or taker (default: the daemon's)")
	f.BoolVar(&watch, "watch", false, "follow the order until it ends, then print its report")
	return cmd
}

// countSet counts the flags among names that were set.
func countSet(cmd *cobra.Command, names ...string) int {
	n := 0
	for _, name := range names {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			n++
		}
	}
	return n
}

func (c *cli) readFile(name string) ([]byte, error) {
	if name == "-" {
		if c.o.Stdin == nil {
			return nil, usagef("-f -: no standard input")
		}
		b, err := io.ReadAll(io.LimitReader(c.o.Stdin, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("-f -: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("-f: %v", err)
	}
	return b, nil
}

// submit posts the order; with watch it follows it from before the post, so no event is missed.
func (c *cli) submit(ctx context.Context, in api.OrderRequest, watch bool) error {
	var f *api.Follower
	if watch {
		var err error
		if f, err = api.NewFollower(ctx, c.client, in.ID); err != nil {
			return err
		}
		defer f.Stop()
	}
	var o api.Order
	status, err := c.call(ctx, http.MethodPost, "/v1/orders", in, &o)
	if err != nil {
		return err
	}
	if c.output == "json" && !watch {
		return c.printJSON(o)
	}
	if c.output != "json" {
		what := "created"
		if status == http.StatusOK {
			what = "already there (same id and request): nothing new submitted"
		}
		fmt.Fprintf(c.o.Stdout, "order %s %s\n", o.ID, what)
	}
	if !watch {
		return c.orderTable(o)
	}
	return c.follow(f, o)
}

func (c *cli) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a parent order: its state, fills and each venue's part",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			var o api.Order
			if err := c.get(cmd.Context(), "/v1/orders/"+url.PathEscape(args[0]), &o); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(o)
			}
			return c.orderTable(o)
		},
	}
}

func (c *cli) listCmd() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the parent orders, newest first (-o csv too)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := c.format("csv")
			if err != nil {
				return err
			}
			var l api.OrderList
			if err := c.get(cmd.Context(), "/v1/orders", &l); err != nil {
				return err
			}
			rows := l.Orders[:0]
			for _, o := range l.Orders {
				if state == "" || o.State == state {
					rows = append(rows, o)
				}
			}
			switch format {
			case "json":
				return c.printJSON(api.OrderList{Orders: rows})
			case "csv":
				return writeCSV(c.o.Stdout, orderHeader, orderRows(rows))
			}
			return c.table(orderHeader, orderRows(rows))
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only orders in this state (scheduled, working, done, cancelled, failed)")
	return cmd
}

var orderHeader = []string{"ID", "STATE", "INSTRUMENT", "SIDE", "QUANTITY", "FILLED", "AVG PRICE", "SHORTFALL BPS", "FEES", "CHILDREN", "CREATED"}

func orderRows(os []api.Order) [][]string {
	rows := make([][]string, 0, len(os))
	for _, o := range os {
		rows = append(rows, []string{o.ID, o.State, o.Instrument, o.Side, o.Quantity.String(), o.Filled.String(),
			report.Deref(o.AvgPrice), report.Deref(o.ShortfallBps), o.Fees.Round(4).String(), fmt.Sprint(o.ChildOrders),
			o.CreatedAt.UTC().Format(time.RFC3339)})
	}
	return rows
}

// orderTable prints an order's row and its venues.
func (c *cli) orderTable(o api.Order) error {
	if err := c.table(orderHeader, orderRows([]api.Order{o})); err != nil {
		return err
	}
	fmt.Fprintln(c.o.Stdout)
	rows := make([][]string, 0, len(o.Venues))
	for _, v := range o.Venues {
		rows = append(rows, []string{v.Venue, v.Weight.String(), v.Allocated.String(), v.Filled.String(), v.MakerFilled.String(),
			report.Deref(v.AvgPrice), fmt.Sprint(v.ChildOrders), fmt.Sprint(v.Rejected), dash(v.Out)})
	}
	if err := c.table([]string{"VENUE", "WEIGHT", "ALLOCATED", "FILLED", "MAKER FILLED", "AVG PRICE", "CHILDREN", "REJECTED", "OUT"}, rows); err != nil {
		return err
	}
	if o.Reason != "" {
		fmt.Fprintf(c.o.Stdout, "\nnote: %s\n", o.Reason)
	}
	return nil
}

func (c *cli) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel what is left of a parent order (what filled stays filled)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			var o api.Order
			if _, err := c.call(cmd.Context(), http.MethodDelete, "/v1/orders/"+url.PathEscape(args[0]), nil, &o); err != nil {
				return err
			}
			if c.output == "json" {
				return c.printJSON(o)
			}
			fmt.Fprintf(c.o.Stdout, "order %s: cancel requested (state %s, filled %s of %s)\n", o.ID, o.State, o.Filled, o.Quantity)
			return nil
		},
	}
}

func (c *cli) watchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a parent order live (a bar per venue) until it ends, then print its report",
		Long: `Follow a parent order on the event stream (GET /v1/events), a progress bar per venue, until it ends;
then print its report. On a terminal the bars are redrawn in place; otherwise one line per update.
Exit code 0 when the order ended done, 4 when it ended cancelled or failed.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.format(); err != nil {
				return err
			}
			f, err := api.NewFollower(cmd.Context(), c.client, args[0])
			if err != nil {
				return err
			}
			defer f.Stop()
			var o api.Order
			if err := c.get(cmd.Context(), "/v1/orders/"+url.PathEscape(args[0]), &o); err != nil {
				return err
			}
			return c.follow(f, o)
		},
	}
}

// follow draws o's progress until it ends, then prints the report; an order that ended other than done is an
// error (exit 4).
func (c *cli) follow(f *api.Follower, o api.Order) error {
	var bars *bars
	if c.output != "json" {
		bars = newBars(c.o.Stdout, c.isTTY())
		bars.draw(o)
	}
	if !api.Ended(o.State) {
		var err error
		if o, _, err = f.Follow(o, func(cur api.Order) {
			if bars != nil {
				bars.draw(cur)
			}
		}); err != nil {
			return err
		}
	}
	if bars != nil {
		bars.done()
	}
	if c.output == "json" {
		if err := c.printJSON(o); err != nil {
			return err
		}
	} else if err := report.Text(c.o.Stdout, o); err != nil {
		return err
	}
	if o.State != api.StateDone {
		return notDone{state: o.State}
	}
	return nil
}

func (c *cli) reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report ID",
		Short: "Print a parent order's report: cost (shortfall + fees), funding, markouts, venues, re-routings (-o csv too)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := c.format("csv")
			if err != nil {
				return err
			}
			var o api.Order
			if err := c.get(cmd.Context(), "/v1/orders/"+url.PathEscape(args[0]), &o); err != nil {
				return err
			}
			switch format {
			case "json":
				return c.printJSON(o)
			case "csv":
				return report.CSV(c.o.Stdout, o)
			}
			return report.Text(c.o.Stdout, o)
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// table writes rows under header, aligned.
func (c *cli) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(c.o.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
