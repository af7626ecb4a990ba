# make scale — the master and ZooKeeper side at fleet sizes one machine could
# never run as processes (docs/scale.md).
#
# For each size of SCALE_SIZES it starts a real ZooKeeper (its bytes
# counted from the kernel's TCP counters, ss), two real masters and the
# fleet simulator (test/fleet: that many real worker agents in one process,
# each with its own ZooKeeper session, on an in-process transport), runs a constant-rate test of
# 10 req/s per worker for SCALE_DURATION and prints one line of the table:
# POST → running, merge lag p50/p99, leader and follower CPU, ZooKeeper bytes
# per worker-second, largest znode, result requests vs planned, and the
# latency of GET /api/v1/tests/{id}. The table is also written to
# artifacts/scale-table.md and the log to artifacts/scale.log.
#
#   make scale                                  100, 500, 1000 and 2000 workers, 30 s each
#   make scale SCALE_SIZES=100,300 SCALE_DURATION=10s

SCALE_SIZES ?= 100,500,1000,2000
SCALE_DURATION ?= 30s

.PHONY: scale rest-cpu

# make rest-cpu — a real worker process's CPU idle and at 10 req/s, against
# the budgets of docs/scale.md ("Workers at rest"); fails above them.
rest-cpu: zookeeper
	STAMPEDE_MEASURE_REST=1 $(GO) test -count=1 -v -run TestEngineCheapAtLowRate ./pkg/load
	STAMPEDE_MEASURE_REST=1 $(GO) test -count=1 -v -run TestWorkerCheapAtRest ./test/fleet

scale: zookeeper
	@SCALE_SIZES=$(SCALE_SIZES) SCALE_DURATION=$(SCALE_DURATION) GO=$(GO) scripts/scale.sh
