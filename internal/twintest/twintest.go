// Package twintest is the harness of tests that run on the in-memory
// coordination twin (coord.MemServer, docs/testing.md): sessions on it, and
// a scripted worker that speaks the worker's side of the protocol so that
// the master's side can be tested in one process, in seconds. Only tests
// import it.
package twintest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
)

// Quiet is a logger that drops everything (the recipes' expected warnings).
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Config is the session configuration of twin clients: a 2 s session
// timeout (how long a partitioned session lives) and a 5 s call timeout.
func Config() coord.Config {
	return coord.Config{SessionTimeout: 2 * time.Second, OpTimeout: 5 * time.Second, Logger: Quiet()}
}

// Dial opens a session on srv with Config, closed when t ends.
func Dial(t testing.TB, srv *coord.MemServer) *coord.Client {
	t.Helper()
	return DialWith(t, srv, Config())
}

// DialWith opens a session on srv with cfg, closed when t ends.
func DialWith(t testing.TB, srv *coord.MemServer, cfg coord.Config) *coord.Client {
	t.Helper()
	c, err := coord.DialMemory(context.Background(), srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
