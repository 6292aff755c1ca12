// Command execctl is a command line over execd's internal API: see package ctl, or run execctl --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/execd-dev/execd/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], ctl.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
