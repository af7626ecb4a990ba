// Command target is Stampede's sample target server (docs/operations.md): GET /ping
// answers "pong"; every path honours delay=, status= and size=; GET /stats
// counts load requests exactly. See target/internal/server for the
// endpoints.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/target/internal/server"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cfg := config.New("target")
	listen := cfg.String("listen", ":8081", "address to serve on")
	cert := cfg.String("tls-cert", "", "PEM certificate: serve HTTPS (and HTTP/2) instead of HTTP")
	key := cfg.String("tls-key", "", "PEM private key of --tls-cert")
	clientCA := cfg.String("tls-client-ca", "", "PEM CA bundle: require client certificates it signed (mTLS)")
	if err := cfg.Parse(args); err != nil {
		return 2
	}
	srv := server.New()
	if *cert != "" || *key != "" || *clientCA != "" {
		files := server.TLSFiles{Cert: *cert, Key: *key, ClientCA: *clientCA}
		tc, err := files.Config()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		srv.UseTLS(tc)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.Info("target listening", "addr", *listen, "tls", *cert != "")
	if err := srv.Run(ctx, *listen); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	slog.Info("target stopped")
	return 0
}
