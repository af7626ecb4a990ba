# mk/bench.mk - `make bench`: the load engine against wrk on the same target
# (scripts/bench.sh; docs/performance.md). Installs wrk and taskset (util-linux) from
# Debian when missing. Included by the main Makefile.

.PHONY: bench bench-deps bench-go

bench-deps:
	@if ! command -v wrk >/dev/null || ! command -v taskset >/dev/null; then \
		echo "installing wrk and util-linux"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk util-linux; \
	fi

bench: bench-deps
	scripts/bench.sh

# The engine's allocation and per-request benchmarks (go test -bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/load/... ./pkg/template/
