# make chaos — the failure-handling suite (test/chaos, docs/failures.md).
#
# Every scenario runs CHAOS_RUNS times in a row, each on a fresh real cluster
# (Debian's ZooKeeper, standalone or a 3-node ensemble; the real master,
# worker and target binaries), and checks the phase, request conservation
# against the target's own count and the merged histogram. At the end it
# prints the table (scenario, runs, passed, failover time, max start skew,
# requests lost), also kept in artifacts/chaos-table.txt with the full log
# in artifacts/chaos.log. `make test` (and so CI) runs every scenario once.
#
#   make chaos                     every scenario, 3 runs each
#   make chaos CHAOS_RUNS=5        more repetitions
#   make chaos CHAOS_RUN=Leader    only scenarios whose test name matches

CHAOS_RUNS ?= 3
CHAOS_RUN ?= .
CHAOS_TIMEOUT ?= 120m

.PHONY: chaos
chaos: zookeeper
	@mkdir -p artifacts
	@rm -rf artifacts/chaos-table.txt artifacts/chaos-logs
	@set -o pipefail; \
	STAMPEDE_CHAOS_FULL=1 STAMPEDE_CHAOS_RUNS=$(CHAOS_RUNS) \
	STAMPEDE_CHAOS_TABLE=$(CURDIR)/artifacts/chaos-table.txt \
	STAMPEDE_LOG_DIR=$(CURDIR)/artifacts/chaos-logs \
		$(GO) test -count=1 -v -timeout $(CHAOS_TIMEOUT) -run '$(CHAOS_RUN)' ./test/chaos 2>&1 | tee artifacts/chaos.log; \
	status=$$?; \
	echo; echo "== chaos table (artifacts/chaos-table.txt) =="; \
	cat artifacts/chaos-table.txt 2>/dev/null || echo "no table: the suite did not finish"; \
	exit $$status
