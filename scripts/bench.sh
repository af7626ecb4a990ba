#!/usr/bin/env bash
# bench.sh — the load engine against its peers on the project's target
# (docs/performance.md explains every figure).
#
# The target runs pinned to core 0, each generator to core 1 (taskset).
# Every generator run is measured by GNU time: user+sys CPU seconds,
# voluntary+involuntary context switches (all threads) and peak RSS. For
# REPS interleaved repetitions:
#
#   closed   wrk -t1 -c50 and `worker run` avalanche, 50 connections, CLOSED_S
#   open     wrk2 -t1 -c100 -R, vegeta (100 connections) and `worker run`
#            constant-rate with 100 connections, at each of RATES, OPEN_S
#   delay    client p50 minus the target's handler p50 at delay=10ms: wrk and
#            worker closed, wrk2 and worker open at 2,000/s
#   body     1 MiB responses, 10 connections: wrk and worker (req/CPU-s, RSS)
#
# Within a repetition the peers run first in odd repetitions and the worker
# first in even ones (closed, open and body runs), so that neither always
# runs right after the other.
#
# then once: the stall check (1,000/s for 5 s, the target stalls 1 s at 2 s;
# p95 of wrk2, vegeta and worker) and the worker's ZooKeeper round trip with
# the engine at full speed on core 1 (BenchmarkZooKeeperRoundTrip).
#
# Medians (min–max) over the repetitions; ratios are Stampede ÷ the peer.
# A peer that is not installed is named as skipped: wrk2 from WRK2, PATH or
# bin/wrk2 (`make wrk2`), vegeta from VEGETA, PATH or $(go env GOPATH)/bin.
#
# Environment: REPS (3), RATES ("10000 25000"), CLOSED_S (5), OPEN_S (10),
# PORT (a free one from 20000 up), BENCH_DIR (raw outputs; a temp dir, kept).
# Needs wrk, taskset, GNU time and two cores (`make bench` installs the
# Debian packages). Traffic goes to 127.0.0.1 only.
set -euo pipefail

REPS=${REPS:-3}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# the machine's CPU ticks so far, all and stolen by the hypervisor (a shared
# VM's steal is time every process here waited without running)
cpu_ticks() { awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $9 }' /proc/stat; }
# steal_since TICKS: the % of the machine's CPU time stolen since TICKS ("" if none passed)
steal_since() { echo "$1 $(cpu_ticks)" | awk '$3 > $1 { printf "%.1f", 100 * ($4 - $2) / ($3 - $1) }'; }
TICKS0=$(cpu_ticks)
RATES=${RATES:-10000 25000}
CLOSED_S=${CLOSED_S:-5}
OPEN_S=${OPEN_S:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/stampede-bench.XXXXXX)}
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

for tool in wrk taskset go /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (make bench installs wrk, util-linux and time)" >&2; exit 1; }
done
if [ "$(nproc --all)" -lt 2 ]; then
	echo "bench: needs two cores (target on core 0, generator on core 1)" >&2
	exit 1
fi

find_tool() { # find_tool ENVVALUE NAME FALLBACK...: the first executable
	local v
	for v in "$@"; do
		if [ -n "$v" ] && command -v "$v" >/dev/null 2>&1; then command -v "$v"; return; fi
	done
}
WRK2=$(find_tool "${WRK2:-}" wrk2 "$ROOT/bin/wrk2")
VEGETA=$(find_tool "${VEGETA:-}" vegeta "$(go env GOPATH)/bin/vegeta")
skipped=""
[ -n "$WRK2" ] || skipped="$skipped wrk2 (not found: make wrk2)"
[ -n "$VEGETA" ] || skipped="$skipped vegeta (not found: go install github.com/tsenart/vegeta/v12@v12.13.0)"

echo "bench: building target and worker into $BENCH_DIR" >&2
(cd "$ROOT" && go build -trimpath -o "$BENCH_DIR/" ./target ./worker)
(cd "$ROOT" && go test -c -o "$BENCH_DIR/load.test" ./pkg/load/)

# shellcheck source=scripts/lib/target.sh
. "$ROOT/scripts/lib/target.sh"
start_target
http() { # http METHOD PATH: the response body, without curl (bash's /dev/tcp)
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$1" "$2" >&3
	sed -e '1,/^\r$/d' <&3
	exec 3<&-
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s–%s", lo, hi }'; }

spec() { # spec NAME URL LOAD: a worker spec file
	printf 'name: bench-%s\nrequest: {url: "%s"}\nload: %s\n' "$1" "$2" "$3" >"$1.yaml"
}

# measure OUT CMD...: run CMD on core 1 with its output in OUT; GNU time
# writes "user sys voluntary involuntary maxrss_kb" to OUT.time, and the
# host's steal over the run (% of the machine's CPU time) goes to steal.tsv.
measure() {
	local out=$1 t0 stolen
	shift
	t0=$(cpu_ticks)
	/usr/bin/time -f '%U %S %w %c %M' -o "$out.time" taskset -c 1 "$@" >"$out" 2>"$out.err" || true
	stolen=$(steal_since "$t0")
	[ -z "$stolen" ] || printf '%s\t%s\n' "$out" "$stolen" >>steal.tsv
}
cpu_of() { awk '{ printf "%.3f", $1 + $2 }' "$1.time"; }
ctx_of() { awk '{ print $3 + $4 }' "$1.time"; }
rss_of() { awk '{ printf "%.1f", $5 / 1024 }' "$1.time"; }

# latency figures, in ms
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /m$/) { sub(/m$/, "", v); v *= 60000 } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f\n", v }'; }
wrk_reqs() { awk '/requests in/ { print $1 }' "$1"; }
wrk_pct() { # wrk_pct FILE P: wrk's "50%" or wrk2's "50.000%" line
	awk -v p="$2" '$1 == p "%" || $1 == p ".000%" { print $2; exit }' "$1" | to_ms
}
wrk2_p95() { # from wrk2's detailed spectrum: the first value at or above 0.95
	awk '$2 ~ /^0\.9[5-9]|^1\.0/ && NF == 4 { print $1; exit }' "$1"
}
json_num() { # json_num FILE KEY: the first numeric value of "KEY" (0 if absent)
	tr -d ' \n' <"$1" | grep -o "\"$2\":[0-9.e+-]*" | head -1 | sed 's/.*://' | grep . || echo 0
}
json_in() { # json_in FILE OBJECT KEY: KEY inside the object named OBJECT
	tr -d ' \n' <"$1" | grep -o "\"$2\":{[^}]*" | grep -o "\"$3\":[0-9.e+-]*" | head -1 | cut -d: -f2
}
vegeta_report() { "$VEGETA" report -type json "$1" >"$1.json"; }
vg_ms() { awk -v ns="$(json_in "$1.json" latencies "$2")" 'BEGIN { printf "%.3f", ns / 1e6 }'; }
worker_cv() { # the per-second counts' CV from worker's progress lines
	awk '/req\/s/ { n++; x[n] = $3 } END { if (n < 2) { print "nan"; exit } s = 0; for (i = 1; i <= n; i++) s += x[i]; m = s / n
		v = 0; for (i = 1; i <= n; i++) v += (x[i] - m) ^ 2; printf "%.4f\n", sqrt(v / n) / m }' "$1"
}

# row KIND TOOL REP OUT REQS P50 P99 [EXTRA]: one run in runs.tsv
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$5" "$(cpu_of "$4")" "$(ctx_of "$4")" \
		"$6" "$7" "$(rss_of "$4")" "${8:-}" >>runs.tsv
}
: >runs.tsv
: >delay.tsv
: >steal.tsv

spec closed "$BASE/ping" "{model: avalanche, concurrency: 50, duration: ${CLOSED_S}s}"
for r in $RATES; do
	spec "open$r" "$BASE/ping" "{model: constant-rate, rate: $r, concurrency: 100, duration: ${OPEN_S}s}"
done
spec delay-closed "$BASE/x?delay=10ms" "{model: avalanche, concurrency: 50, duration: 2s}"
spec delay-open "$BASE/x?delay=10ms" "{model: constant-rate, rate: 2000, concurrency: 100, duration: 3s}"
spec body "$BASE/x?size=1048576" "{model: avalanche, concurrency: 10, duration: 3s}"
spec stall "$BASE/ping" "{model: constant-rate, rate: 1000, concurrency: 100, duration: 5s}"

# in_turn REP F G: F then G in odd repetitions, G then F in even ones, so
# that neither tool always runs right after the other (the host's speed
# drifts within a run, and what ran just before warms or cools it)
in_turn() {
	if [ $(($1 % 2)) -eq 1 ]; then "$2" "$1"; "$3" "$1"; else "$3" "$1"; "$2" "$1"; fi
}

closed_wrk() {
	local rep=$1 o=wrk.closed.$1
	measure "$o" wrk -t1 -c50 -d"${CLOSED_S}s" --latency "$BASE/ping"
	row closed wrk "$rep" "$o" "$(wrk_reqs "$o")" "$(wrk_pct "$o" 50)" "$(wrk_pct "$o" 99)"
}

closed_worker() {
	local rep=$1 o=worker.closed.$1
	measure "$o" ./worker run -f closed.yaml --json --quiet
	row closed worker "$rep" "$o" "$(json_num "$o" requests)" "$(json_in "$o" latency_ms p50)" "$(json_in "$o" latency_ms p99)"
}

run_closed() { in_turn "$1" closed_wrk closed_worker; }

open_peers() {
	local rep=$1 r=$OPEN_RATE o
	if [ -n "$WRK2" ]; then
		o=wrk2.open$r.$rep
		measure "$o" "$WRK2" -t1 -c100 -d"${OPEN_S}s" -R"$r" --latency "$BASE/ping"
		row "open$r" wrk2 "$rep" "$o" "$(wrk_reqs "$o")" "$(wrk_pct "$o" 50)" "$(wrk_pct "$o" 99)"
	fi
	if [ -n "$VEGETA" ]; then
		o=vegeta.open$r.$rep
		echo "GET $BASE/ping" >targets.txt
		measure "$o" "$VEGETA" attack -targets targets.txt -rate "$r/1s" -duration "${OPEN_S}s" \
			-workers 100 -max-connections 100 -output "$o.bin"
		vegeta_report "$o.bin"
		row "open$r" vegeta "$rep" "$o" "$(json_num "$o.bin.json" requests)" "$(vg_ms "$o.bin" 50th)" "$(vg_ms "$o.bin" 99th)"
	fi
}

open_worker() {
	local rep=$1 r=$OPEN_RATE o req dur
	o=worker.open$r.$rep
	measure "$o" ./worker run -f "open$r.yaml" --json
	req=$(json_num "$o" requests)
	dur=$(json_num "$o" duration_s)
	row "open$r" worker "$rep" "$o" "$req" "$(json_in "$o" latency_ms p50)" "$(json_in "$o" latency_ms p99)" \
		"$(awk -v q="$req" -v d="$dur" -v r="$r" 'BEGIN { e = (q / d - r) / r; if (e < 0) e = -e; printf "%.4f", e }') $(worker_cv "$o.err") $(json_num "$o" late)"
}

run_open() { OPEN_RATE=$2 in_turn "$1" open_peers open_worker; }

# delay_one MODEL TOOL OUT CMD...: one run against delay=10ms; its client
# p50 and the target's handler p50 go to delay.tsv ($rep is the caller's)
delay_one() {
	local m=$1 t=$2 o=$3 p50
	shift 3
	http POST /stats/reset >/dev/null
	measure "$o" "$@"
	http GET /stats >"$o.stats"
	local svc=-
	if [ "$t" = worker ]; then
		p50=$(json_in "$o" latency_ms p50)
		[ "$m" != open ] || svc=$(json_in "$o" service_ms p50) # a closed run's latency is its service time
	else
		p50=$(wrk_pct "$o" 50)
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$t" "$rep" "$p50" "$(json_in "$o.stats" handler_ms p50)" "$svc" >>delay.tsv
}

run_delay() { # client p50 - target handler p50
	local rep=$1
	delay_one closed wrk "wrk.delay.$rep" wrk -t1 -c50 -d2s --latency "$BASE/x?delay=10ms"
	delay_one closed worker "worker.delay-closed.$rep" ./worker run -f delay-closed.yaml --json --quiet
	if [ -n "$WRK2" ]; then
		delay_one open wrk2 "wrk2.delay.$rep" "$WRK2" -t1 -c100 -d3s -R2000 --latency "$BASE/x?delay=10ms"
	fi
	delay_one open worker "worker.delay-open.$rep" ./worker run -f delay-open.yaml --json --quiet
}

body_wrk() {
	local rep=$1 o=wrk.body.$1
	measure "$o" wrk -t1 -c10 -d3s --latency "$BASE/x?size=1048576"
	row body wrk "$rep" "$o" "$(wrk_reqs "$o")" "$(wrk_pct "$o" 50)" "$(wrk_pct "$o" 99)"
}

body_worker() {
	local rep=$1 o=worker.body.$1
	measure "$o" ./worker run -f body.yaml --json --quiet
	row body worker "$rep" "$o" "$(json_num "$o" requests)" "$(json_in "$o" latency_ms p50)" "$(json_in "$o" latency_ms p99)"
}

run_body() { in_turn "$1" body_wrk body_worker; }

for rep in $(seq 1 "$REPS"); do
	echo "bench: repetition $rep of $REPS (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	run_closed "$rep"
	for r in $RATES; do run_open "$rep" "$r"; done
	run_delay "$rep"
	run_body "$rep"
done

# ---- the stall check: 1,000/s for 5 s, the target stalls 1 s from 2 s ----
echo "bench: stall check" >&2
: >stall.tsv
STALLER=
stall_after() { (sleep 2 && http POST "/control/stall?for=1s" >/dev/null) & STALLER=$!; }
if [ -n "$WRK2" ]; then
	stall_after
	measure wrk2.stall "$WRK2" -t1 -c100 -d5s -R1000 --latency "$BASE/ping"
	wait "$STALLER"
	printf 'wrk2\t%s\t%s\t%s\n' "$(wrk_reqs wrk2.stall)" "$(wrk_pct wrk2.stall 50)" "$(wrk2_p95 wrk2.stall)" >>stall.tsv
fi
if [ -n "$VEGETA" ]; then
	echo "GET $BASE/ping" >targets.txt
	stall_after
	measure vegeta.stall "$VEGETA" attack -targets targets.txt -rate 1000/1s -duration 5s -workers 100 -max-connections 100 -output vegeta.stall.bin
	wait "$STALLER"
	vegeta_report vegeta.stall.bin
	printf 'vegeta\t%s\t%s\t%s\n' "$(json_num vegeta.stall.bin.json requests)" "$(vg_ms vegeta.stall.bin 50th)" "$(vg_ms vegeta.stall.bin 95th)" >>stall.tsv
fi
stall_after
measure worker.stall ./worker run -f stall.yaml --json --quiet
wait "$STALLER"
printf 'worker\t%s\t%s\t%s\n' "$(json_num worker.stall requests)" "$(json_in worker.stall latency_ms p50)" "$(json_in worker.stall latency_ms p95)" >>stall.tsv

# ---- ZooKeeper round trip with the engine at full speed on core 1 ----
echo "bench: ZooKeeper round trip under load" >&2
# (the benchmark pins itself to core 1 once its ZooKeeper, a separate process, is up)
STAMPEDE_BENCH_URL=$BASE/ping STAMPEDE_BENCH_CPU=1 ./load.test -test.run '^$' -test.bench ZooKeeperRoundTrip -test.benchtime 1x >zk.txt 2>&1 || true

# ---- report ----
col() { awk -v k="$1" -v t="$2" -v c="$3" -F'\t' '$1 == k && $2 == t { print $c }' runs.tsv; }
per_cpu() { awk -v k="$1" -v t="$2" -F'\t' '$1 == k && $2 == t && $5 > 0 { printf "%.0f\n", $4 / $5 }' runs.tsv; }
per_req() { awk -v k="$1" -v t="$2" -F'\t' '$1 == k && $2 == t && $4 > 0 { printf "%.3f\n", $6 / $4 }' runs.tsv; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.2f", a / b; else printf "—" }'; }

echo
echo "Stampede bench — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc --all) cores, target on core 0, generators on core 1"
echo "medians of $REPS interleaved runs (min–max); load average (1, 5, 15 min) at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
steal=$(steal_since "$TICKS0")
echo "host steal over the whole bench: ${steal:-unknown} % of the machine's CPU time;" \
	"runs with more than 10 %:$(awk -F'\t' '$2 > 10 { printf " %s (%s %%)", $1, $2; n++ } END { if (!n) printf " none" }' steal.tsv) (steal.tsv)"
[ -z "$skipped" ] || echo "skipped:$skipped"
echo
printf '%-10s %-8s %10s %10s %-19s %7s %8s %s\n' run tool requests req/CPU-s "(min–max)" "÷ peer" ctx/req "p50/p99 ms"
for kind in closed $(for r in $RATES; do echo "open$r"; done) body; do
	peer=wrk
	case $kind in open*) peer=wrk2 ;; esac
	peer_cpu=$(per_cpu "$kind" "$peer" | median)
	for tool in wrk wrk2 vegeta worker; do
		[ -n "$(col "$kind" "$tool" 2)" ] || continue
		c=$(per_cpu "$kind" "$tool" | median)
		printf '%-10s %-8s %10.0f %10.0f %-19s %7s %8.3f %s\n' "$kind" "$tool" "$(col "$kind" "$tool" 4 | median)" \
			"$c" "($(per_cpu "$kind" "$tool" | minmax))" "$(ratio "$c" "$peer_cpu")" "$(per_req "$kind" "$tool" | median)" \
			"$(col "$kind" "$tool" 7 | median)/$(col "$kind" "$tool" 8 | median)"
	done
done
echo
echo "open model, worker (rate error, per-second CV, late), median over runs:"
for r in $RATES; do
	printf '  %6s/s  rate error %.2f %%  CV %.2f %%  late %s\n' "$r" \
		"$(col "open$r" worker 10 | awk '{ print $1 * 100 }' | median)" \
		"$(col "open$r" worker 10 | awk '{ print $2 * 100 }' | median)" \
		"$(col "open$r" worker 10 | awk '{ print $3 }' | median)"
done
echo
echo "1 MiB bodies: peak RSS MiB, wrk $(col body wrk 9 | median), worker $(col body worker 9 | median) (worker on /ping, closed: $(col closed worker 9 | median))"
echo
echo "delay=10ms, client p50 - target handler p50, ms (median, min–max):"
for m in closed open; do
	for t in wrk wrk2 worker; do
		v=$(awk -v m="$m" -v t="$t" -F'\t' '$1 == m && $2 == t { printf "%.3f\n", $4 - $5 }' delay.tsv)
		[ -n "$v" ] || continue
		printf '  %-6s %-7s %+.3f (%s)\n' "$m" "$t" "$(echo "$v" | median)" "$(echo "$v" | minmax)"
	done
done
# the open worker's latency counts from each request's due time, its
# service time from the send: their p50s differ by its own send lateness
v=$(awk -F'\t' '$1 == "open" && $2 == "worker" && $6 != "-" { printf "%.3f\n", $4 - $6 }' delay.tsv)
[ -z "$v" ] || printf '  of which the open worker'"'"'s own send lateness (latency p50 - service p50): %+.3f (%s)\n' "$(echo "$v" | median)" "$(echo "$v" | minmax)"
echo
echo "stall check, 1,000/s for 5 s, 1 s stall at 2 s (tool, requests, p50 ms, p95 ms):"
sed 's/^/  /' stall.tsv
echo
echo "ZooKeeper round trip, worker engine at full speed on core 1 (BenchmarkZooKeeperRoundTrip):"
grep -E 'Benchmark|SKIP|FAIL' zk.txt | sed 's/^/  /' || echo "  (no result; see $BENCH_DIR/zk.txt)"
echo
echo "goals: worker >= 1.0x wrk (closed) and wrk2 (open) in req/CPU-s; rate error <= 1 %, CV <= 1 %, p50 overhead <= 0.3 ms; the stall at p95"
echo "raw outputs: $BENCH_DIR (runs.tsv: kind tool rep requests cpu_s ctx_switches p50 p99 maxrss_MiB extra)"
