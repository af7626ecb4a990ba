// Package app wires a master: ZooKeeper session, election, leader
// orchestration, live feed, websocket hub and HTTP server.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/master/internal/api"
	"github.com/stampede-load/stampede/master/internal/feed"
	"github.com/stampede-load/stampede/master/internal/live"
	"github.com/stampede-load/stampede/master/internal/orchestrator"
	"github.com/stampede-load/stampede/master/internal/testmetrics"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/obs"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/version"
)

// Config configures a master.
type Config struct {
	ID             string
	ZK             string
	Root           string
	APIURL         string
	SessionTimeout time.Duration
	Orchestrator   orchestrator.Config
	// Guard bounds new tests: limits, target policy, storage budget.
	Guard api.Guard
	// UI serves the dashboard at / (nil: none).
	UI     http.Handler
	Logger *slog.Logger
	// Tokens authenticate API callers; nil refuses every API request
	// unless NoAuth is set (see api.Auth).
	Tokens api.RoleChecker
	NoAuth bool
	// ZKAuth is the ZooKeeper secret "user:password" ("" for none).
	ZKAuth string
	// HTTP bounds the HTTP server (zero: DefaultHTTPLimits).
	HTTP HTTPLimits
	// Dial opens the coordination session (nil: coord.Dial, ZooKeeper at
	// ZK); tests pass one on the in-memory twin (coord.DialMemory).
	Dial func(context.Context, coord.Config) (*coord.Client, error)
}

// dialZK connects to ZooKeeper and makes sure the cluster's directories
// exist; it warns when the root is open to everyone although a secret is set.
func dialZK(ctx context.Context, cfg Config) (*coord.Client, error) {
	zc := coord.DefaultConfig(cfg.ZK)
	zc.SessionTimeout = cfg.SessionTimeout
	zc.Logger = cfg.Logger
	zc.Auth = cfg.ZKAuth
	dial := coord.Dial
	if cfg.Dial != nil {
		dial = cfg.Dial
	}
	c, err := dial(ctx, zc)
	if err != nil {
		return nil, err
	}
	p := proto.Paths{Root: cfg.Root}
	for _, d := range []string{p.Masters(), p.Workers(), p.Tests()} {
		if err := c.EnsurePath(ctx, d); err != nil {
			c.Close()
			return nil, err
		}
	}
	if open, err := c.OpenToAnyone(ctx, cfg.Root); err == nil && open && c.Authenticated() {
		cfg.Logger.Warn("the ZooKeeper root is open to every client although --zk-auth-file is set: it was created without a secret; see docs/security.md to protect it", "root", cfg.Root)
	}
	return c, nil
}

// Run serves on ln until ctx ends, then shuts down: leadership is given up
// (the election node deleted at once), websocket clients are closed and the
// HTTP server drains.
func Run(ctx context.Context, ln net.Listener, cfg Config) error {
	log := cfg.Logger
	if cfg.HTTP == (HTTPLimits{}) {
		cfg.HTTP = DefaultHTTPLimits()
	}
	c, err := dialZK(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	p := proto.Paths{Root: cfg.Root}
	self := proto.MasterInfo{ID: cfg.ID, APIURL: cfg.APIURL, Version: version.Version}
	rd := &view.Reader{C: c, P: p}
	hub := live.NewHub(live.Options{MaxConns: cfg.HTTP.MaxWebsockets, Subprotocols: []string{api.WebSocketProtocol},
		OriginChecked: true}) // by api.Auth, in front of every feed
	auth := &api.Auth{Tokens: cfg.Tokens, Disabled: cfg.NoAuth, Origins: []string{cfg.APIURL}, Log: log}
	srv := &api.Server{C: c, P: p, View: rd, Self: self, Log: log, Auth: auth, MaxRequests: cfg.HTTP.MaxRequests, Guard: cfg.Guard}
	fd := feed.New(rd, hub, srv.Cluster, log)
	srv.Feed = fd
	srv.Live = api.LiveHandlers{
		Test: hub.Handler(func(r *http.Request) (string, error) {
			id := chi.URLParam(r, "id")
			ok, err := rd.Exists(r.Context(), id)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", live.ErrUnknownTopic
			}
			return feed.TestTopic(id), nil
		}, fd.Snapshot),
		Cluster: hub.Handler(func(*http.Request) (string, error) { return feed.ClusterTopic, nil }, fd.Snapshot),
	}

	router := chi.NewRouter()
	reg := obs.NewRegistry()
	reg.MustRegister(testmetrics.New(rd)) // the running tests' series
	obs.Mount(router, reg, func() error {
		if c.Session().State != coord.Connected {
			return errors.New("disconnected from ZooKeeper")
		}
		return nil
	})
	srv.Routes(router)
	if cfg.UI != nil {
		router.Handle("/*", cfg.UI)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(2)
	go func() {
		defer wg.Done()
		fd.Run(bg)
	}()
	orch := orchestrator.New(c, cfg.Root, cfg.Orchestrator)
	go func() {
		defer wg.Done()
		_ = coord.NewElection(c, p.Masters(), proto.Marshal(self)).Run(bg, orch.Lead)
	}()
	log.Info("serving", "listen", ln.Addr().String(), "api_url", cfg.APIURL)
	httpCtx, httpCancel := context.WithCancel(context.WithoutCancel(ctx)) // drains after ctx ends
	defer httpCancel()
	errc := make(chan error, 1)
	go func() { errc <- obs.ServeServer(httpCtx, ln, cfg.HTTP.server(router), log) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
		cancel()
		return err
	}
	cancel()
	hub.Close()
	httpCancel()
	return <-errc
}
