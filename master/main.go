// Command master is a Stampede master: every replica serves the REST API
// and the dashboard; the elected leader plans tests, releases start
// barriers, merges reports and writes results. `master submit -f SPEC`
// submits a test to a running cluster and follows it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stampede-load/stampede/master/internal/app"
	"github.com/stampede-load/stampede/master/internal/orchestrator"
	"github.com/stampede-load/stampede/master/internal/submit"
	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/obs"
	"github.com/stampede-load/stampede/pkg/version"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		switch cmd := os.Args[1]; {
		case cmd == "submit":
			return submit.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
		case slices.Contains(submit.Commands, cmd):
			return submit.Sibling(ctx, cmd, os.Args[2:], os.Stdout, os.Stderr)
		case cmd == "--version" || cmd == "-version" || cmd == "version":
			fmt.Println("stampede master", version.Version)
			return 0
		}
	}
	err := run(ctx, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "\nSubcommands: submit -f SPEC, list, show ID, stop ID, delete ID, export ID --out FILE (each with --help).")
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "master:", err)
		return 1
	}
	return 0
}

// maxProfile bounds --cpuprofile.
const maxProfile = 30 * time.Minute

func run(ctx context.Context, args []string) error {
	host, _ := os.Hostname()
	def := orchestrator.DefaultConfig("")
	fs := config.New("master")
	zk := fs.String("zk", "127.0.0.1:2181", "ZooKeeper servers, comma-separated host:port")
	root := fs.String("zk-root", "/stampede", "ZooKeeper root node of this Stampede cluster")
	listen := fs.String("listen", ":8080", "address of the API, dashboard, health and metrics")
	id := fs.String("id", host, "master id shown in the cluster view")
	apiURL := fs.String("api-url", "", "URL other masters and users reach this master at (default http://<host>:<port>)")
	session := fs.Duration("session-timeout", coord.MasterSessionTimeout, "ZooKeeper session timeout (short, so that failover is quick)")
	readyTimeout := fs.Duration("ready-timeout", def.ReadyTimeout, "how long the leader waits for every chosen worker to be ready")
	queueWait := fs.Duration("queue-wait", def.QueueWait, "how long a queued test may ask for more workers than are live before it fails")
	finalGrace := fs.Duration("final-grace", def.FinalGrace, "how long the leader waits for a missing worker's final report")
	pointGrace := fs.Duration("point-grace", def.PointGrace, "how long after a second ends its timeline point waits for a live worker's late report before it is kept as a gap")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this master into this file until it exits (at most "+maxProfile.String()+"; for measuring, docs/scale.md)")
	bounds := app.BoundsFlags(fs)
	sec := app.BindSecurityFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *queueWait <= 0 {
		return fmt.Errorf("--queue-wait must be positive, got %v", *queueWait)
	}
	if *pointGrace <= 0 {
		return fmt.Errorf("--point-grace must be positive, got %v", *pointGrace)
	}
	if *cpuProfile != "" {
		stopProfile, err := obs.StartCPUProfile(*cpuProfile, maxProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	guard, err := bounds(ctx, *zk)
	if err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})).With("master", *id)
	slog.SetDefault(log)

	cfg := app.Config{}
	if err := sec.Apply(&cfg, log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *apiURL == "" {
		port := ln.Addr().(*net.TCPAddr).Port
		h := host
		if strings.HasPrefix(*listen, "127.0.0.1") || strings.HasPrefix(*listen, "localhost") {
			h = "127.0.0.1"
		}
		*apiURL = fmt.Sprintf("http://%s:%d", h, port)
	}
	oc := orchestrator.DefaultConfig(*id)
	oc.ReadyTimeout, oc.FinalGrace, oc.PointGrace, oc.QueueWait, oc.Logger = *readyTimeout, *finalGrace, *pointGrace, *queueWait, log
	oc.Limits, oc.Retention = guard.Limits, *guard.Retention
	cfg.ID, cfg.ZK, cfg.Root, cfg.APIURL, cfg.SessionTimeout = *id, *zk, *root, *apiURL, *session
	cfg.Orchestrator, cfg.UI, cfg.Logger = oc, ui(), log
	cfg.Guard = guard
	return app.Run(ctx, ln, cfg)
}
