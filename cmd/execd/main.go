// Command execd is the execution daemon: `serve` runs it from a config, `mocks` runs the simulated market and the
// mock venues of a config as a standalone process, and `demo` runs the seed's rebalance end to end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/demo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: execd <command> [flags]
commands:
  demo   [-scenario three-venues|seed] [-seed N] [-json] [-v]   run a rebalance end to end on the simulated market
  serve  -config configs/execd.yaml [-check-config] run the daemon (or only validate its config)
  mocks  -config configs/execd.yaml                 run the simulated market and the config's mock venues
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "mocks":
		err = runMocks(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	default:
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "execd:", err)
		return 1
	}
	return 0
}

// newLogger is a JSON logger on w at level, whose level can be changed later (a reload sets it).
func newLogger(level string, w io.Writer) (*zap.Logger, zap.AtomicLevel, error) {
	lvl, err := zap.ParseAtomicLevel(level)
	if err != nil {
		return nil, lvl, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), lvl)
	return zap.New(core), lvl, nil
}

// loadConfig reads a config file and builds the logger it asks for.
func loadConfig(path string, stderr io.Writer) (*config.Config, *zap.Logger, zap.AtomicLevel, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, zap.AtomicLevel{}, err
	}
	log, lvl, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return nil, nil, lvl, err
	}
	return cfg, log, lvl, nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "three-venues", "scenario: "+demo.ScenarioNames())
	seed := fs.Int64("seed", 1, "the simulated market's seed")
	asJSON := fs.Bool("json", false, "print one JSON object {order, positions} on stdout and nothing else")
	verbose := fs.Bool("v", false, "log the daemon at info level on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := "error"
	if *verbose {
		level = "info"
	}
	log, _, err := newLogger(level, stderr)
	if err != nil {
		return err
	}
	defer log.Sync()
	return demo.Run(ctx, demo.Options{Scenario: *scenario, Seed: *seed, JSON: *asJSON, Stdout: stdout, Stderr: stderr, Logger: log})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "configs/execd.yaml", "config file")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "how long a stop waits for in-flight venue calls")
	check := fs.Bool("check-config", false, "validate the config file and exit (0: valid)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, lvl, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	defer log.Sync()
	if *check {
		if _, err := app.New(cfg, app.Options{Logger: log}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "config %s is valid: %d venue(s), %d instrument(s), sha256 %s\n", *path, len(cfg.Venues),
			len(cfg.Instruments), cfg.Hash)
		return nil
	}
	fp, err := failpointFromSpec(os.Getenv("EXECD_FAILPOINT"))
	if err != nil {
		return err
	}
	a, err := app.New(cfg, app.Options{Logger: log, Failpoint: fp, Level: &lvl,
		ConfigSource: func() (*config.Config, error) { return config.Load(*path) }})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "execd: serving on %s\n", a.Addr())
	// SIGHUP reloads; signals that arrive while a reload runs coalesce into one more.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			if _, err := a.ReloadConfig(app.SignalActor); err != nil {
				log.Error("reload refused; running config unchanged", zap.Error(err))
			}
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), *grace)
			defer cancel()
			return a.Stop(sctx)
		}
	}
}

func runMocks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mocks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "configs/execd.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, _, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	defer log.Sync()
	clk := app.SimClock(cfg.Clock)
	ms, err := app.StartMocks(cfg, clk, log, os.Getenv, true)
	if err != nil {
		return err
	}
	defer ms.Close()
	if len(ms.Venues) == 0 {
		return errors.New("the config has no mock venues")
	}
	for _, v := range ms.Venues {
		fmt.Fprintf(stdout, "venue %s %s %s %s\n", v.Name, v.Protocol, v.RESTURL, v.WSURL)
	}
	<-ctx.Done()
	return nil
}
