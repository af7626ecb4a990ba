package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stampede-load/stampede/master/internal/api"
	"github.com/stampede-load/stampede/master/internal/live"
	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/coord"
)

// HTTPLimits bound the master's HTTP server.
type HTTPLimits struct {
	// ReadTimeout bounds reading a whole request, body included;
	// WriteTimeout bounds writing its response; IdleTimeout closes a
	// keep-alive connection with no request. Websocket connections are
	// exempt from the first two once accepted (the live hub bounds every
	// write itself).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxRequests caps concurrent API requests, MaxWebsockets open
	// websocket connections; beyond either the master answers 503 with
	// Retry-After.
	MaxRequests, MaxWebsockets int
}

// DefaultHTTPLimits are the defaults of the master's flags.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		MaxRequests: 64, MaxWebsockets: live.DefaultMaxConns,
	}
}

// Validate lists every problem.
func (l HTTPLimits) Validate() error {
	var errs []error
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--read-timeout", l.ReadTimeout}, {"--write-timeout", l.WriteTimeout}, {"--idle-timeout", l.IdleTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", d.flag, d.v))
		}
	}
	if l.MaxRequests < 1 {
		errs = append(errs, fmt.Errorf("--max-api-requests must be at least 1, got %d", l.MaxRequests))
	}
	if l.MaxWebsockets < 1 {
		errs = append(errs, fmt.Errorf("--max-websockets must be at least 1, got %d", l.MaxWebsockets))
	}
	return errors.Join(errs...)
}

// server is the master's HTTP server for h.
func (l HTTPLimits) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// SecurityFlags are the master's authentication and HTTP-limit flags.
type SecurityFlags struct {
	tokensFile, zkAuthFile *string
	noAuth                 *bool
	read, write, idle      *time.Duration
	maxRequests, maxWS     *int
}

// BindSecurityFlags defines the flags on fs.
func BindSecurityFlags(fs *config.Set) *SecurityFlags {
	d := DefaultHTTPLimits()
	f := &SecurityFlags{
		tokensFile: fs.String("tokens-file", "", `API tokens, lines "<role> <token>" with role viewer or operator (required unless --no-auth); read again within 2 s of a change`),
		noAuth:     fs.Bool("no-auth", false, "serve the API without authentication (every caller is an operator); logs a warning"),
		zkAuthFile: fs.String("zk-auth-file", "", `ZooKeeper secret "user:password": authenticate and create every node with a digest ACL for it only`),
	}
	f.read = fs.Duration("read-timeout", d.ReadTimeout, "longest time to read one HTTP request, body included")
	f.write = fs.Duration("write-timeout", d.WriteTimeout, "longest time to write one HTTP response (websockets excepted)")
	f.idle = fs.Duration("idle-timeout", d.IdleTimeout, "how long an idle keep-alive connection stays open")
	f.maxRequests = fs.Int("max-api-requests", d.MaxRequests, "concurrent API requests served; more get 503 with Retry-After")
	f.maxWS = fs.Int("max-websockets", d.MaxWebsockets, "open websocket connections; more get 503 with Retry-After")
	return f
}

// Apply loads the files the flags name into cfg. Without --tokens-file the
// master refuses to start unless --no-auth is given; --no-auth logs a
// warning.
func (f *SecurityFlags) Apply(cfg *Config, log *slog.Logger) error {
	limits := HTTPLimits{ReadTimeout: *f.read, WriteTimeout: *f.write, IdleTimeout: *f.idle,
		MaxRequests: *f.maxRequests, MaxWebsockets: *f.maxWS}
	if err := limits.Validate(); err != nil {
		return err
	}
	cfg.HTTP = limits
	switch {
	case *f.tokensFile != "" && *f.noAuth:
		return errors.New("--tokens-file and --no-auth exclude each other")
	case *f.tokensFile != "":
		t, err := api.OpenTokenFile(*f.tokensFile, log)
		if err != nil {
			return err
		}
		cfg.Tokens = t
	case *f.noAuth:
		cfg.NoAuth = true
		log.Warn("API authentication is OFF (--no-auth): anyone who can reach this master can start load tests")
	default:
		return errors.New("refusing to start without --tokens-file (STAMPEDE_TOKENS_FILE); " +
			"pass --no-auth (STAMPEDE_NO_AUTH=true) to serve the API without authentication")
	}
	if *f.zkAuthFile != "" {
		a, err := coord.ReadAuthFile(*f.zkAuthFile)
		if err != nil {
			return err
		}
		cfg.ZKAuth = a
	}
	return nil
}
