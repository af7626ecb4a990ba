# Stampede — a distributed HTTP load-testing cluster.
#
#   make demo    build, start a real local cluster (ZooKeeper, target, 2 masters,
#                3 workers), run examples/demo.yaml, print the result and the
#                dashboard URL; Ctrl-C stops everything it started
#   make test    every test, against a real ZooKeeper, real processes and a real
#                headless Chromium (installs what a fresh Debian machine lacks)
#   make cross   build and vet for darwin and windows
#   make bench   the load engine against wrk on the same target
#   make chaos   the failure-handling suite
#   make k8s-check  the Kubernetes manifests against a real kube-apiserver
#   make mutate  deliberate bugs the tests must catch (docs/testing.md)
#   make fuzz    every fuzz target for a fixed number of executions each

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/stampede-load/stampede/pkg/version.Version=$(VERSION)
TEST_TIMEOUT ?= 40m

.PHONY: all build deps zookeeper test test-unit vet cross lint demo clean

all: dashboard build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./master ./worker ./target

# What the tests need on a fresh Debian machine: a real ZooKeeper (Debian's
# zookeeper package, never a stand-in) and Chromium for the browser test.
deps: zookeeper browser-deps

zookeeper:
	@if [ ! -f /usr/share/java/zookeeper.jar ] || ! command -v java >/dev/null; then \
		echo "installing Debian's zookeeper package"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zookeeper; \
	fi

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The portable build: every package, tests included, builds and vets for
# macOS and Windows, where the engine runs on its goroutine transport
# instead of Linux's event loop.
CROSS_OS ?= darwin windows
cross:
	@set -e; for os in $(CROSS_OS); do \
		echo "GOOS=$$os go build ./... && go vet ./..."; \
		GOOS=$$os $(GO) build ./...; \
		GOOS=$$os $(GO) vet ./...; \
	done

# Test binaries run one at a time (-p 1): the integration, chaos and browser
# tests each start ZooKeeper and a whole cluster, and on a 2-core machine
# running them side by side would measure contention, not Stampede.
test: deps vet
	$(GO) build ./...
	$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./...

# Unit tests only (no ZooKeeper, no processes).
test-unit:
	$(GO) test -short -count=1 ./pkg/... ./master/... ./worker/... ./target/...

lint:
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.6.2 run ./...

demo: zookeeper build
	scripts/demo.sh

clean:
	rm -rf bin .run artifacts

include $(wildcard mk/*.mk)
