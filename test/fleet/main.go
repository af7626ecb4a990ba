// Command fleet is the fleet simulator: N real worker agents in one
// process, each with its own ZooKeeper session, running the real load
// engine over an in-process transport that answers after a latency drawn
// from a fixed distribution (no sockets). It is how the ZooKeeper and
// master side are measured at 100 … 5,000 workers on one machine
// (docs/scale.md). It exits cleanly on SIGTERM: running tests are stopped,
// their final reports published and every worker deregistered.
//
//	fleet --zk 127.0.0.1:2181 --zk-root /stampede --workers 1000 --id-prefix sim-
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/obs"
	"github.com/stampede-load/stampede/worker/fleet"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	zk := fs.String("zk", "127.0.0.1:2181", "ZooKeeper servers, comma-separated host:port")
	root := fs.String("zk-root", "/stampede", "ZooKeeper root node of the Stampede cluster")
	workers := fs.Int("workers", 100, "number of simulated workers")
	prefix := fs.String("id-prefix", "sim-", "worker ids are this prefix and a 5-digit number from 1")
	authFile := fs.String("zk-auth-file", "", `ZooKeeper secret "user:password" (as for the worker)`)
	session := fs.Duration("session-timeout", coord.DefaultConfig("").SessionTimeout, "each worker's ZooKeeper session timeout")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stopProfile, err := obs.StartCPUProfile(*cpuProfile, 0)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	if *workers < 1 || *workers > 20000 {
		return fmt.Errorf("--workers must be between 1 and 20000, got %d", *workers)
	}
	var auth string
	if *authFile != "" {
		a, err := coord.ReadAuthFile(*authFile)
		if err != nil {
			return err
		}
		auth = a
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	began := time.Now()
	cfg := fleet.Config{
		ZK: *zk, Root: *root, Workers: *workers, IDPrefix: *prefix, Auth: auth,
		SessionTimeout: *session, Logger: log,
		Transports: func(i int) load.OpenTransports { return simTransports(uint64(i)) },
	}
	err := fleet.Run(ctx, cfg, func() {
		// the scale harness waits for this line
		fmt.Printf("fleet ready: %d workers registered in %.1f s\n", *workers, time.Since(began).Seconds())
	})
	if err == nil {
		fmt.Println("fleet stopped")
	}
	return err
}
