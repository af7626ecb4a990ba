# mk/bench.mk - `make bench`: the load engine against its peers on the same target
# (scripts/bench.sh; docs/performance.md). Installs wrk, taskset (util-linux) and GNU
# time from Debian when missing; wrk2 and vegeta are used where present (`make wrk2`,
# `make vegeta`), and named as skipped otherwise. Included by the main Makefile.

.PHONY: bench bench-deps bench-go wrk2 vegeta

bench-deps:
	@if ! command -v wrk >/dev/null || ! command -v taskset >/dev/null || ! test -x /usr/bin/time; then \
		echo "installing wrk, util-linux and time"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk util-linux time; \
	fi

bench: bench-deps
	scripts/bench.sh

# wrk2 into bin/wrk2: from WRK2_SRC (a source directory) or a git clone of
# https://github.com/giltene/wrk2.
wrk2:
	scripts/wrk2.sh

# vegeta into $(go env GOPATH)/bin, pinned.
vegeta:
	$(GO) install github.com/tsenart/vegeta/v12@v12.13.0

# The engine's allocation and per-request benchmarks (go test -bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/load/... ./pkg/template/
