#!/usr/bin/env bash
# bench.sh — the load engine against wrk on the project's target (docs/performance.md).
#
# The target runs pinned to core 0, the generator to core 1 (taskset). For
# REPS interleaved repetitions it runs wrk and `worker run` (avalanche, 50
# keep-alive connections, 5 s, GET /ping) and reports req/s and requests per
# generator CPU-second (user+sys of the generator process, from the shell's
# `times` of a subshell that ran only that process), each with its ratio to
# wrk (medians over the repetitions). Then, for `worker run` only:
# constant-rate 20,000/s for 10 s (achieved-rate error and the coefficient of
# variation of the per-second counts), and the client p50 minus the
# target's own handler p50 with delay=10ms (wrk measured the same way, as a
# reference).
#
# Environment: REPS (default 3), PORT (default: a free one from 20000 up),
# BENCH_DIR (binaries, specs and raw outputs; default a temp dir, kept).
# It needs wrk, taskset and two cores; `make bench` installs wrk (and
# util-linux) with apt when missing. Traffic goes to 127.0.0.1 only.
set -euo pipefail

REPS=${REPS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/stampede-bench.XXXXXX)}
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

for tool in wrk taskset go; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (make bench installs wrk and util-linux)" >&2; exit 1; }
done
if [ "$(nproc --all)" -lt 2 ]; then
	echo "bench: needs two cores (target on core 0, generator on core 1)" >&2
	exit 1
fi

echo "bench: building target and worker into $BENCH_DIR" >&2
(cd "$ROOT" && go build -trimpath -o "$BENCH_DIR/" ./target ./worker)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${PORT:-}" ]; then
	PORT=20000
	while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
fi
BASE=http://127.0.0.1:$PORT

TARGET_PID=
cleanup() { if [ -n "$TARGET_PID" ]; then kill "$TARGET_PID" 2>/dev/null || true; wait "$TARGET_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM

taskset -c 0 ./target --listen "127.0.0.1:$PORT" >target.log 2>&1 &
TARGET_PID=$!
for _ in $(seq 1 300); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
	sleep 0.1
done
curl_stats() { # GET or POST on the target without curl: bash's /dev/tcp
	local method=$1 path=$2
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$method" "$path" >&3
	sed -e '1,/^\r$/d' <&3
	exec 3<&-
}

# cpu_of FILE: user+sys seconds of the children, from `times` output.
cpu_of() {
	awk 'NR==2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat >avalanche.yaml <<YAML
name: bench-avalanche
request: {url: "$BASE/ping"}
load: {model: avalanche, concurrency: 50, duration: 5s}
YAML
cat >rate.yaml <<YAML
name: bench-constant-rate
request: {url: "$BASE/ping"}
load: {model: constant-rate, rate: 20000, concurrency: 100, duration: 10s}
YAML
cat >delay.yaml <<YAML
name: bench-delay
request: {url: "$BASE/x?delay=10ms"}
load: {model: avalanche, concurrency: 50, duration: 5s}
YAML

json_num() { # json_num FILE KEY: the first numeric value of "KEY" (0 if absent)
	tr -d ' \n' <"$1" | grep -o "\"$2\":[0-9.e+-]*" | head -1 | sed 's/.*://' | grep . || echo 0
}
json_p50() { # json_p50 FILE OBJECT: "p50" inside the object named OBJECT
	tr -d ' \n' <"$1" | grep -o "\"$2\":{[^}]*" | grep -o '"p50":[0-9.e+-]*' | head -1 | cut -d: -f2
}
wrk_reqs() { awk '/requests in/ { print $1 }' "$1"; }
wrk_secs() { awk '/requests in/ { sub(/s,$/, "", $4); print $4 }' "$1"; }
wrk_p50_ms() { # from --latency: "50%  10.34ms" (us, ms or s)
	awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$1"
}

: >results.tsv
echo "bench: $REPS interleaved repetitions of wrk and worker run (avalanche, 50 connections, 5 s)" >&2
for rep in $(seq 1 "$REPS"); do
	(taskset -c 1 wrk -t1 -c50 -d5s "$BASE/ping" >"wrk.$rep.txt" 2>&1; times >"wrk.$rep.times")
	r=$(wrk_reqs "wrk.$rep.txt"); s=$(wrk_secs "wrk.$rep.txt"); c=$(cpu_of "wrk.$rep.times")
	printf 'wrk\t%s\t%s\t%s\t%s\n' "$rep" "$r" "$s" "$c" >>results.tsv
	(taskset -c 1 ./worker run -f avalanche.yaml --json --quiet >"worker.$rep.json" 2>"worker.$rep.err"; times >"worker.$rep.times")
	r=$(json_num "worker.$rep.json" requests); s=$(json_num "worker.$rep.json" duration_s); c=$(cpu_of "worker.$rep.times")
	printf 'worker\t%s\t%s\t%s\t%s\n' "$rep" "$r" "$s" "$c" >>results.tsv
	echo "  rep $rep: $(grep -c . results.tsv) runs done" >&2
done

echo "bench: constant-rate 20,000/s for 10 s, $REPS repetitions" >&2
: >rate.tsv
for rep in $(seq 1 "$REPS"); do
	taskset -c 1 ./worker run -f rate.yaml --json >"rate.$rep.json" 2>"rate.$rep.err"
	req=$(json_num "rate.$rep.json" requests); dur=$(json_num "rate.$rep.json" duration_s); late=$(json_num "rate.$rep.json" late)
	# per-second counts from the progress lines ("[    3s]    20000 req/s ...")
	awk -v req="$req" -v dur="$dur" -v late="$late" '
		/req\/s/ { n++; x[n] = $3 }
		END {
			s = 0; for (i = 1; i <= n; i++) s += x[i]; m = s / n
			v = 0; for (i = 1; i <= n; i++) v += (x[i] - m) ^ 2
			cv = sqrt(v / n) / m
			rate = req / dur
			err = (rate - 20000) / 20000; if (err < 0) err = -err
			printf "%s\t%s\t%.1f\t%.4f\t%.4f\t%d\t%s\n", req, dur, rate, err, cv, n, late
		}' "rate.$rep.err" >>rate.tsv
done

echo "bench: client p50 - target handler p50 at delay=10ms (50 connections, 5 s), $REPS repetitions" >&2
: >delay.tsv
for rep in $(seq 1 "$REPS"); do
	curl_stats POST /stats/reset >/dev/null
	taskset -c 1 wrk -t1 -c50 -d5s --latency "$BASE/x?delay=10ms" >"wrk-delay.$rep.txt" 2>&1
	curl_stats GET /stats >"wrk-delay.$rep.stats"
	tp50=$(json_p50 "wrk-delay.$rep.stats" handler_ms)
	printf 'wrk\t%s\t%s\t%s\n' "$rep" "$(wrk_p50_ms "wrk-delay.$rep.txt")" "$tp50" >>delay.tsv
	curl_stats POST /stats/reset >/dev/null
	taskset -c 1 ./worker run -f delay.yaml --json --quiet >"worker-delay.$rep.json" 2>/dev/null
	curl_stats GET /stats >"worker-delay.$rep.stats"
	tp50=$(json_p50 "worker-delay.$rep.stats" handler_ms)
	cp50=$(json_p50 "worker-delay.$rep.json" latency_ms)
	printf 'worker\t%s\t%s\t%s\n' "$rep" "$cp50" "$tp50" >>delay.tsv
done

# ---- report ----
med() { awk -v t="$1" -v col="$2" -F'\t' '$1 == t { print $col }' results.tsv | median; }
rps_of() { awk -v t="$1" -F'\t' '$1 == t { printf "%.1f\n", $3 / $4 }' results.tsv | median; }
cpus_of() { awk -v t="$1" -F'\t' '$1 == t && $5 > 0 { printf "%.1f\n", $3 / $5 }' results.tsv | median; }
wrk_rps=$(rps_of wrk); wrk_cpu=$(cpus_of wrk)
wk_rps=$(rps_of worker); wk_cpu=$(cpus_of worker)

echo
echo "Stampede bench — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc --all) cores, target on core 0, generator on core 1, medians of $REPS interleaved runs"
echo
printf '%-22s %12s %10s %22s %10s\n' "generator" "req/s" "÷ wrk" "req per CPU-second" "÷ wrk"
printf '%-22s %12.0f %10.2f %22.0f %10.2f\n' "wrk 4.1 (-t1 -c50)" "$wrk_rps" 1 "$wrk_cpu" 1
printf '%-22s %12.0f %10.2f %22.0f %10.2f\n' "stampede worker run" "$wk_rps" "$(awk -v a="$wk_rps" -v b="$wrk_rps" 'BEGIN { print a / b }')" \
	"$wk_cpu" "$(awk -v a="$wk_cpu" -v b="$wrk_cpu" 'BEGIN { print a / b }')"
echo
echo "per run (tool, rep, requests, seconds, generator CPU s):"
sed 's/^/  /' results.tsv
echo
echo "constant-rate 20,000/s for 10 s (requests, seconds, achieved req/s, rate error, per-second CV, seconds measured, late):"
sed 's/^/  /' rate.tsv
printf 'median rate error %.2f %%, median per-second CV %.2f %%\n' \
	"$(cut -f4 rate.tsv | median | awk '{ print $1 * 100 }')" "$(cut -f5 rate.tsv | median | awk '{ print $1 * 100 }')"
echo
echo "delay=10ms, client p50 - target handler p50 (tool, rep, client p50 ms, target p50 ms):"
sed 's/^/  /' delay.tsv
for t in wrk worker; do
	printf 'median p50 overhead %-7s %+.3f ms\n' "$t" "$(awk -v t="$t" -F'\t' '$1 == t { print $3 - $4 }' delay.tsv | median)"
done
echo
echo "goals: >= 1.0x wrk in requests per CPU-second, rate error <= 1 %, per-second CV <= 1 %, p50 overhead <= 0.3 ms"
echo "raw outputs: $BENCH_DIR"
