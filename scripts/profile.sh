#!/usr/bin/env bash
# profile.sh — where a closed-model request's CPU time goes, Stampede's
# worker against wrk (docs/performance.md, "Where the time goes").
#
# The target runs pinned to core 0, the generator to core 1. Each generator
# runs a 5 s avalanche of 50 keep-alive connections on GET /ping under
# `perf record`; the script prints its CPU per request (GNU time), the
# share of kernel and user space (perf report by DSO) turned into
# nanoseconds per request, the kernel's top symbols, and context switches
# per request. perf cannot read Go 1.26 binaries' symbols (its libelf fails
# on them), so the worker's user-space share is broken down by Go's own
# profiler instead: BenchmarkEngine/avalanche (the same loop against an
# in-process canned server) under -cpuprofile.
#
# Environment: PORT (a free one from 20000 up), PROFILE_DIR (outputs; a
# temp dir, kept). Needs perf (Debian: linux-perf), wrk, taskset, GNU time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${PROFILE_DIR:-$(mktemp -d /tmp/stampede-profile.XXXXXX)}
mkdir -p "$DIR"
cd "$DIR"
for tool in perf wrk taskset /usr/bin/time go; do
	command -v "$tool" >/dev/null || { echo "profile: $tool not found" >&2; exit 1; }
done
(cd "$ROOT" && go build -trimpath -o "$DIR/" ./target ./worker)

# shellcheck source=scripts/lib/target.sh
. "$ROOT/scripts/lib/target.sh"
start_target
printf 'name: profile\nrequest: {url: "%s/ping"}\nload: {model: avalanche, concurrency: 50, duration: 5s}\n' "$BASE" >closed.yaml

# prof NAME REQUESTS_CMD -- CMD...: record CMD, then report it
prof() {
	local name=$1
	shift
	/usr/bin/time -f '%U %S %w %c' -o "$name.time" perf record -q -F 2000 -g -o "$name.data" -- taskset -c 1 "$@" >"$name.out" 2>"$name.err"
}
report() { # report NAME REQUESTS
	local name=$1 req=$2 cpu ns
	cpu=$(awk '{ print $1 + $2 }' "$name.time")
	ns=$(awk -v c="$cpu" -v r="$req" 'BEGIN { printf "%.0f", c * 1e9 / r }')
	echo "== $name: $req requests, $cpu CPU-s (perf's own share included), $ns ns per request, $(awk -v r="$req" '{ printf "%.2f", ($3 + $4) / r }' "$name.time") context switches per request"
	# each report to a file first: perf report does not stop at a closed pipe
	perf report -i "$name.data" --no-children --sort dso --stdio -g none >"$name.dso" 2>/dev/null
	perf report -i "$name.data" --no-children --sort sym --stdio -g none >"$name.sym" 2>/dev/null
	perf report -i "$name.data" --no-children --sort dso,sym --stdio -g none >"$name.dsosym" 2>/dev/null
	awk -v ns="$ns" '/^ +[0-9.]+%/ { p = $1; sub(/%/, "", p); printf "   %6.1f%%  %5.0f ns/request  %s\n", p, p * ns / 100, $2 }' "$name.dso" | sed -n '1,4p'
	echo "   top kernel symbols:"
	awk -v ns="$ns" '/^ +[0-9.]+%/ && /\[k\]/ { p = $1; sub(/%/, "", p); printf "   %6.1f%%  %5.0f ns  %s\n", p, p * ns / 100, $3 }' "$name.sym" | sed -n '1,12p'
	echo "   top user symbols (wrk only; see the Go profile for the worker):"
	awk -v ns="$ns" '/^ +[0-9.]+%/ && /\[\.\]/ && !/0x0000/ { p = $1; sub(/%/, "", p); printf "   %6.1f%%  %5.0f ns  %s %s\n", p, p * ns / 100, $2, $4 }' "$name.dsosym" | sed -n '1,8p'
}

prof wrk wrk -t1 -c50 -d5s "$BASE/ping"
prof worker ./worker run -f closed.yaml --json --quiet
report wrk "$(awk '/requests in/ { print $1 }' wrk.out)"
report worker "$(tr -d ' \n' <worker.out | grep -o '"requests":[0-9]*' | sed -n 1p | cut -d: -f2)"

echo "== worker user space, Go profiler: BenchmarkEngine/avalanche (in-process canned server), flat share of the loop's functions"
(cd "$ROOT" && go test -run '^$' -bench 'BenchmarkEngine/avalanche$' -benchtime 300000x -cpuprofile "$DIR/cpu.prof" -o "$DIR/load.test" ./pkg/load/ >"$DIR/bench.txt")
grep Benchmark bench.txt
go tool pprof -top -nodecount=25 load.test cpu.prof 2>/dev/null | sed -n '/flat%/,$p'
echo "raw outputs: $DIR"
