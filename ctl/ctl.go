package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/execd-dev/execd/api"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailed      = 1 // the daemon refused or failed the request (its 4xx or 5xx), or output could not be written
	ExitUsage       = 2 // bad flags or arguments
	ExitUnreachable = 3 // no answer from the daemon
	ExitNotDone     = 4 // watch: the order ended cancelled or failed
)

// DefaultAddr is the daemon's address when neither --addr nor EXECD_ADDR gives one (configs/execd.yaml's listen).
const DefaultAddr = "http://127.0.0.1:8080"

// Options are what Main needs of its process.
type Options struct {
	Stdin          io.Reader // for -f -; nil: none
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// TTY says whether Stdout is a terminal (watch redraws its bars in place; otherwise one line per update).
	// nil: detected when Stdout is an *os.File.
	TTY *bool
}

// usageError is a mistake in the command line: exit 2.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// notDone is a watched order that ended other than done: exit 4.
type notDone struct{ state string }

func (e notDone) Error() string { return "the order ended " + e.state }

// cli is one invocation's settings and client.
type cli struct {
	o       Options
	addr    string
	token   string
	output  string
	timeout time.Duration
	client  *api.Client
}

// Main runs execctl with args (without the program name) and returns its exit code.
func Main(ctx context.Context, args []string, o Options) int {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	c := &cli{o: o}
	root := c.root()
	root.SetArgs(args)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") { // cobra's own, for a command name it does not know
		err = usageError{err}
	}
	fmt.Fprintln(o.Stderr, "execctl:", err)
	var ue usageError
	var se *api.StatusError
	var nd notDone
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(o.Stderr, "run 'execctl --help' or 'execctl <command> --help' for usage")
		return ExitUsage
	case errors.As(err, &nd):
		return ExitNotDone
	case errors.As(err, &se):
		return ExitFailed
	case unreachable(err):
		return ExitUnreachable
	}
	return ExitFailed
}

// unreachable says whether err means the daemon did not answer (refused, timed out, no route), not that it
// answered no.
func unreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &ne) || (errors.As(err, &ue) && !errors.Is(err, context.Canceled))
}

func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "execctl",
		Short: "Command line over execd's API: orders, targets, positions, venues, trading state, audit",
		Long: `execctl talks to a running execd (execd serve) over its internal API v1.

The address and token come from --addr / --token or EXECD_ADDR / EXECD_TOKEN (the dev tokens of
configs/execd.yaml are dev-rebalancer-token, dev-ops-token and dev-viewer-token). Output is a table;
-o json prints the API's JSON for programs (-o csv where the command says so).

Exit codes: 0 done; 1 the daemon refused or failed the request; 2 bad usage; 3 the daemon could not be
reached; 4 a watched order ended cancelled or failed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return c.setup()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.addr, "addr", "", "daemon address (default $EXECD_ADDR, else "+DefaultAddr+")")
	pf.StringVar(&c.token, "token", "", "API bearer token (default $EXECD_TOKEN)")
	pf.StringVarP(&c.output, "output", "o", "table", "output: table or json (csv where a command says so)")
	pf.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound on each API call (watch follows until the order ends)")
	root.AddCommand(c.submitCmd(), c.getCmd(), c.listCmd(), c.watchCmd(), c.cancelCmd(), c.reportCmd(), c.targetCmd(),
		c.positionsCmd(), c.venuesCmd(), c.stateCmd("halt", "halted", "Halt trading: refuse new orders, pause every running parent"),
		c.stateCmd("reduce", "reducing", "Reduce only: reduce-only orders run, the other parents pause"),
		c.stateCmd("resume", "active", "Resume trading: every parent works again"), c.auditCmd(), c.reloadCmd())
	return root
}

// setup resolves the address and token once the flags are parsed.
func (c *cli) setup() error {
	if c.addr == "" {
		c.addr = c.o.Getenv("EXECD_ADDR")
	}
	if c.addr == "" {
		c.addr = DefaultAddr
	}
	if !strings.Contains(c.addr, "://") {
		c.addr = "http://" + c.addr
	}
	u, err := url.Parse(c.addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--addr %q: want http://host:port", c.addr)
	}
	if c.token == "" {
		c.token = c.o.Getenv("EXECD_TOKEN")
	}
	if c.token == "" {
		return usagef("no token: give --token or set EXECD_TOKEN")
	}
	if c.timeout <= 0 {
		return usagef("--timeout %s: want a positive duration", c.timeout)
	}
	c.client = &api.Client{Base: strings.TrimRight(c.addr, "/"), Token: c.token, HTTP: &http.Client{}}
	return nil
}

// formats checks -o against what a command can print.
func (c *cli) format(allowed ...string) (string, error) {
	for _, a := range append([]string{"table", "json"}, allowed...) {
		if c.output == a {
			return a, nil
		}
	}
	return "", usagef("-o %q: want one of table, json%s", c.output, strings.Join(append([]string{""}, allowed...), ", "))
}

// call is one API call bounded by --timeout.
func (c *cli) call(ctx context.Context, method, path string, body, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.client.Call(ctx, method, path, body, out)
}

// get is a GET into out.
func (c *cli) get(ctx context.Context, path string, out any) error {
	_, err := c.call(ctx, http.MethodGet, path, nil, out)
	return err
}

// printJSON writes v indented.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.o.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTTY says whether stdout is a terminal.
func (c *cli) isTTY() bool {
	if c.o.TTY != nil {
		return *c.o.TTY
	}
	f, ok := c.o.Stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exactArgs is cobra.ExactArgs whose error is a usage error naming what is missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("%s takes %d argument(s): %s", cmd.CommandPath(), len(names), strings.Join(names, " "))
		}
		return nil
	}
}

// noArgs refuses arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments (got %q)", cmd.CommandPath(), args)
	}
	return nil
}
