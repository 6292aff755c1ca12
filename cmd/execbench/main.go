// Command execbench measures execd: the execution cost of its default strategy against four others on the
// simulated market, how predictable its child orders are, and the engine's overhead against a bare go-binance
// loop. It writes DIR/results.json, DIR/cost.png and DIR/report.md.
//
//	go run ./cmd/execbench -out DIR          # the full run: 50 seeds (under 10 minutes on 2 cores)
//	go run ./cmd/execbench -out DIR -quick   # 6 seeds and shorter throughput windows (under 2 minutes)
//	go run ./cmd/execbench -out DIR -doc docs/BENCHMARKS.md   # also rewrite the doc and its chart from this run
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/execd-dev/execd/bench"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "execbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("execbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for results.json, cost.png and report.md (required)")
	quick := fs.Bool("quick", false, "a reduced run: 6 seeds, 2s throughput windows")
	seeds := fs.Int("seeds", 0, "market seeds (each worked as a buy and a sell); default 50, or 6 with -quick")
	parallel := fs.Int("parallel", 12, "daemon runs at once")
	speed := fs.Float64("speed", 60, "simulated clock acceleration of the daemon runs")
	horizon := fs.Duration("horizon", 10*time.Minute, "every parent's duration")
	window := fs.Duration("window", 0, "throughput: wall time each phase is measured over; default 5s, or 2s with -quick")
	conc := fs.Int("concurrency", 8, "throughput: parents worked at once, and goroutines of the bare loop")
	configPath := fs.String("config", "", "daemon config to benchmark (default: the embedded configs/execd.yaml)")
	doc := fs.String("doc", "", "also write this markdown file (docs/BENCHMARKS.md) and cost.png beside it")
	render := fs.Bool("render", false, "measure nothing: redraw cost.png, report.md (and -doc) from -out's results.json")
	profile := fs.String("tp-profile", "", "throughput: write a CPU profile (pprof) of the full-path window to this file")
	tpOnly := fs.Bool("throughput-only", false, "measure only the engine overhead and print it; writes nothing but -out/throughput.json")
	dump := fs.String("dump", "", "also write every execution (children, fills, figures) to this file, one JSON object per line")
	sizesFlag := fs.String("sizes", "0.001,0.01,0.05", "parent sizes as fractions of the largest venue's daily volume, comma-separated (the headline is 0.01)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("-out is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *render {
		return rerender(*out, *doc, stdout)
	}
	fractions, err := parseSizes(*sizesFlag)
	if err != nil {
		return err
	}
	if *seeds == 0 {
		*seeds = 50
		if *quick {
			*seeds = 6
		}
	}
	if *window == 0 {
		*window = 5 * time.Second
		if *quick {
			*window = 2 * time.Second
		}
	}
	raw := configs.Default
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return err
		}
		raw = b
	}
	cfg, err := config.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	tpOpts := bench.ThroughputOptions{Concurrency: *conc, Window: *window}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		tpOpts.Profile = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *tpOnly {
		return throughputOnly(ctx, tpOpts, *out, stdout)
	}
	var dumpW io.Writer
	if *dump != "" {
		f, err := os.Create(*dump)
		if err != nil {
			return err
		}
		defer f.Close()
		dumpW = f
	}
	start := time.Now()
	res, err := bench.Run(ctx, bench.Options{
		Dump:   dumpW,
		Config: cfg, Seeds: *seeds, Horizon: *horizon, Fractions: fractions, BandBps: 50,
		Speed: *speed, Parallel: *parallel, FloorIters: 2000, Lags: 3,
		Throughput: tpOpts,
		Progress:   stderr,
	})
	if err != nil {
		return err
	}
	res.Wall["total"] = time.Since(start).Seconds()
	res.Command = "go run ./cmd/execbench " + strings.Join(args, " ")
	if err := writeJSON(filepath.Join(*out, "results.json"), res); err != nil {
		return err
	}
	if err := writeAll(res, *out, *doc); err != nil {
		return err
	}
	return bench.PrintSummary(stdout, res, *out)
}

// parseSizes reads -sizes: fractions in (0, 1), at least one, none twice.
func parseSizes(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v < 1) {
			return nil, fmt.Errorf("-sizes: %q is not a fraction in (0, 1)", f)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("-sizes: %v given twice", v)
		}
		out = append(out, v)
	}
	return out, nil
}

// rerender redraws the chart and the reports from a run's results.json: the figures stay the ones measured.
func rerender(out, doc string, stdout io.Writer) error {
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		return err
	}
	var res bench.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s/results.json: %w", out, err)
	}
	if res.Command == "" || len(res.Cost) == 0 {
		return fmt.Errorf("%s/results.json: not an execbench result", out)
	}
	// The goals are judged again from the stored figures (the targets may have changed since the run).
	res.Goals = bench.Goals(&res)
	if err := writeJSON(filepath.Join(out, "results.json"), &res); err != nil {
		return err
	}
	if err := writeAll(&res, out, doc); err != nil {
		return err
	}
	return bench.PrintSummary(stdout, &res, out)
}

func writeAll(res *bench.Results, out, doc string) error {
	if err := writeChart(filepath.Join(out, "cost.png"), res); err != nil {
		return err
	}
	if err := writeMarkdown(filepath.Join(out, "report.md"), res, res.Command, "cost.png"); err != nil {
		return err
	}
	if doc == "" {
		return nil
	}
	if err := writeChart(filepath.Join(filepath.Dir(doc), "cost.png"), res); err != nil {
		return err
	}
	return writeMarkdown(doc, res, res.Command, "cost.png")
}

func writeJSON(path string, res *bench.Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("results.json: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func writeChart(path string, res *bench.Results) error {
	var buf bytes.Buffer
	title := fmt.Sprintf("execd vs baselines: %s parents, %d seeds x {buy, sell} (median, p10-p90)", res.Setup.Horizon, res.Setup.Seeds)
	var sizes []string
	for _, s := range res.Setup.Sizes {
		sizes = append(sizes, s.Name)
	}
	if err := bench.CostChart(&buf, title, bench.Strategies(), sizes, res.Cost); err != nil {
		return fmt.Errorf("cost.png: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func writeMarkdown(path string, res *bench.Results, command, chart string) error {
	var buf bytes.Buffer
	if err := bench.Markdown(&buf, res, command, chart); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// throughputOnly measures the engine overhead alone, for work on the engine's cost per child: it prints the
// figures and writes them to out/throughput.json. It regenerates no report: the goals are judged on a full run.
func throughputOnly(ctx context.Context, o bench.ThroughputOptions, out string, stdout io.Writer) error {
	tr, err := bench.Throughput(ctx, o)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "throughput.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "full path %.0f children/s, bare %.0f orders/s, ratio %.3f; CPU per child %.3f ms vs %.3f ms (%.2f×); "+
		"decision-to-wire p50 %.2f ms, p99 %.2f ms\n", tr.FullPathPerSecond, tr.BarePerSecond, tr.Ratio,
		tr.FullPathCPUPerChildMs, tr.BareCPUPerOrderMs, tr.FullPathCPUPerChildMs/tr.BareCPUPerOrderMs,
		tr.DecisionToWireP50Ms, tr.DecisionToWireP99Ms)
	return err
}
