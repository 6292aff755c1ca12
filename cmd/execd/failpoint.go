package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// failpointFromSpec parses EXECD_FAILPOINT ("name:n": kill this process with SIGKILL the n-th time the engine
// passes the failpoint called name). Crash tests use it to kill the daemon at an exact place (between a child's
// intent and its send, between a venue's answer and its journaling, between a fill's arrival and its journaling).
// An empty spec is no failpoint.
func failpointFromSpec(spec string) (func(string), error) {
	if spec == "" {
		return nil, nil
	}
	name, count, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 || name == "" {
		return nil, fmt.Errorf("EXECD_FAILPOINT %q: want name:n with n >= 1", spec)
	}
	var hits atomic.Int64
	return func(at string) {
		if at == name && hits.Add(1) == int64(n) {
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way; do nothing more
		}
	}, nil
}
