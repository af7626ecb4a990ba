// Command worker is a Stampede load generator. In cluster mode it registers
// in ZooKeeper and runs the plans the leading master gives it; `worker run
// -f SPEC` runs a spec on this machine without ZooKeeper.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/obs"
	"github.com/stampede-load/stampede/pkg/policy"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/version"
	"github.com/stampede-load/stampede/worker/internal/agent"
	"github.com/stampede-load/stampede/worker/internal/standalone"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "run":
			return standalone.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
		case "--version", "-version", "version":
			fmt.Println("stampede worker", version.Version)
			return 0
		}
	}
	err := run(ctx, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "\nSubcommand: run -f SPEC | run -u URL [-r RATE] [-c CONNS] [-d DUR] (see worker run --help).")
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string) error {
	host, _ := os.Hostname()
	fs := config.New("worker")
	zk := fs.String("zk", "127.0.0.1:2181", "ZooKeeper servers, comma-separated host:port")
	root := fs.String("zk-root", "/stampede", "ZooKeeper root node of this Stampede cluster")
	listen := fs.String("listen", ":8082", "address of the health and metrics endpoints")
	id := fs.String("id", host, "stable worker id (default: the host name; the pod name on Kubernetes)")
	session := fs.Duration("session-timeout", coord.DefaultConfig("").SessionTimeout, "ZooKeeper session timeout")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	allow := fs.String("allow-targets", policy.AllowAll, "targets this worker sends load to: hosts, host:port, CIDRs or * (link-local, metadata and ZooKeeper addresses only when named by IP); a plan aimed elsewhere is refused")
	limits := fs.Limits(true)
	zkAuthFile := fs.String("zk-auth-file", "", `ZooKeeper secret "user:password": authenticate and create every node with a digest ACL for it only`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := proto.CheckWorkerID(*id); err != nil {
		return fmt.Errorf("--id: %w", err)
	}
	var zkAuth string
	if *zkAuthFile != "" {
		a, err := coord.ReadAuthFile(*zkAuthFile)
		if err != nil {
			return err
		}
		zkAuth = a
	}
	pol, err := policy.New(ctx, *allow, *zk, nil)
	if err != nil {
		return err
	}
	lim := limits()
	if lim.RatePerWorker <= 0 || lim.ConnectionsPerWorker <= 0 || lim.Duration <= 0 || lim.RequestTimeout <= 0 {
		return fmt.Errorf("--max-rate-per-worker, --max-connections-per-worker, --max-test-duration and --max-request-timeout must be positive")
	}
	log := newLogger(*logLevel).With("worker", *id)
	slog.SetDefault(log)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	cfg := coord.DefaultConfig(*zk)
	cfg.SessionTimeout = *session
	cfg.Logger = log
	cfg.Auth = zkAuth
	log.Info("starting", "version", version.Version, "zk", *zk, "root", *root, "listen", ln.Addr().String())
	c, err := coord.Dial(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer c.Close()

	a := agent.New(c, agent.Config{ID: *id, Root: *root, Version: version.Version, Policy: pol, Limits: &lim, Logger: log})
	mux := http.NewServeMux()
	obs.Mount(mux, obs.NewRegistry(), a.Ready)
	errc := make(chan error, 1)
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx)) // health stays up until the agent is done
	defer hcancel()
	go func() { errc <- obs.Serve(hctx, ln, mux, log) }()

	err = a.Run(ctx)
	hcancel()
	<-errc
	log.Info("stopped")
	return err
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
