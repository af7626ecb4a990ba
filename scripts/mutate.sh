#!/usr/bin/env bash
# scripts/mutate.sh - the mutation check behind `make mutate` (docs/testing.md).
#
# Copies the tree (tracked and untracked, not ignored, files) to a temporary
# directory, and there, one at a time, applies a deliberate bug, runs the
# tests that exist to catch it, and restores the file. Every listed test
# must FAIL on its mutation; a test that passes is a surviving mutation and
# the check fails. A mutation whose pattern is no longer in the code (the
# code moved) fails the check loudly instead of passing silently, and so
# does a mutation that no longer compiles.
#
#   scripts/mutate.sh             every mutation
#   MUTATE_ONLY=fence scripts/mutate.sh   mutations whose name contains "fence"
#
# The working tree is never modified.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/stampede-mutate.XXXXXX")
trap 'rm -rf "$work"' EXIT
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -xf - -C "$work"
echo "mutate: tree copied to $work"

failures=0
report=()

# mutation NAME FILE PATTERN REPLACEMENT TEST...
# PATTERN is a Perl regex matched against the whole file; it must match
# exactly once. REPLACEMENT is literal text. Each TEST is PKG:REGEX, run as
# go test -count=1 -p 1 -run REGEX PKG.
mutation() {
	local name=$1 file=$2 pat=$3 rep=$4
	shift 4
	if [ -n "${MUTATE_ONLY:-}" ] && [[ $name != *"$MUTATE_ONLY"* ]]; then
		return
	fi
	local f=$work/$file
	cp "$f" "$f.orig"
	if ! PAT=$pat REP=$rep perl -0pi -e 'my $n = (s/$ENV{PAT}/$ENV{REP}/g) || 0; die "matched $n times\n" if $n != 1' "$f" 2>"$work/perl.err"; then
		echo "mutate: FAIL $name: mutation did not apply to $file ($(cat "$work/perl.err")): the code moved; update scripts/mutate.sh"
		report+=("$name: DID NOT APPLY")
		failures=$((failures + 1))
		mv "$f.orig" "$f"
		return
	fi
	if ! (cd "$work" && go vet "./$(dirname "$file")" >"$work/build.log" 2>&1); then
		echo "mutate: FAIL $name: the mutated code does not build:"
		sed 's/^/    /' "$work/build.log" | head -20
		report+=("$name: DOES NOT BUILD")
		failures=$((failures + 1))
		mv "$f.orig" "$f"
		return
	fi
	local t pkg re status=killed
	for t in "$@"; do
		pkg=${t%%:*}
		re=${t#*:}
		local log=$work/test.log
		local begin=$SECONDS
		if (cd "$work" && go test -count=1 -p 1 -timeout 10m -run "$re" "$pkg" >"$log" 2>&1); then
			echo "mutate: SURVIVED $name: go test -run '$re' $pkg passed ($((SECONDS - begin)) s)"
			status=survived
		elif grep -q -- '^--- FAIL' "$log"; then
			echo "mutate: killed $name by go test -run '$re' $pkg ($((SECONDS - begin)) s):"
			grep -m 2 -A 1 -- '^\s*--- FAIL\|_test.go:[0-9]*:' "$log" | head -4 | cut -c1-240 | sed 's/^/    /'
		else
			# a build failure or panic is not a test catching the bug
			echo "mutate: FAIL $name: go test -run '$re' $pkg failed without a failing test:"
			tail -20 "$log" | sed 's/^/    /'
			status=broken
		fi
	done
	mv "$f.orig" "$f"
	report+=("$name: $status")
	if [ "$status" != killed ]; then
		failures=$((failures + 1))
	fi
}

# 1. The fence: the leader's transactions no longer check its election node.
mutation fence pkg/coord/election.go \
	'all := append\(\[\]Op\{CheckOp\{Path: l\.node, Version: -1\}\}, ops\.\.\.\)' \
	'all := ops' \
	./pkg/coord/:TestDeposedLeaderWriteIsFenced \
	./pkg/coord/:TestConformanceMemory/DeposedLeaderIsFenced

# 2. The start barrier: the engine starts as soon as Run is called.
mutation start-at pkg/load/run.go \
	'(?<=func \(r \*Run\) Run\(ctx context\.Context, startAt time\.Time\) error \{\n)' \
	$'\tstartAt = time.Now()\n' \
	./pkg/load/:TestRunWaitsForStartAt \
	./worker/internal/agent/:TestAgentRunsItsPlanOnTheTwin \
	./test/integration/:TestWorkersStartAtTheBarrier

# 3. The merge: the leader's result leaves out one worker's report.
mutation drop-worker master/internal/aggregate/merge.go \
	'for _, id := range ids \{' \
	'for _, id := range ids[1:] {' \
	./master/internal/aggregate/:TestNamesMergeExactly \
	./master/internal/orchestrator/:TestPhaseMachineOnTheTwin \
	./test/integration/:TestRequestBudgetSplitsExactly

# 4. The exact split: the remainder of a request budget is not handed out.
mutation exact-split pkg/plan/plan.go \
	'if int64\(i\) < r \{' \
	'if false && int64(i) < r {' \
	./pkg/plan/:TestSplitExact \
	./test/integration/:TestRequestBudgetSplitsExactly

# 5. The stop node: a worker never notices that its test was stopped.
mutation ignore-stop worker/internal/agent/run.go \
	'if ok \{(?=\n\t+var s proto\.StopRequest)' \
	'if ok && false {' \
	./worker/internal/agent/:TestAgentStopsOnRequestOnTheTwin \
	./test/integration/:TestStopLeavesWorkersIdleWithinOneSecond

# 6. A stored spec that no longer validates is retried forever.
mutation stored-invalid master/internal/orchestrator/drive.go \
	'if errors\.As\(err, &invalid\) \{' \
	'if false && errors.As(err, &invalid) {' \
	./test/integration/:TestStoredInvalidSpecFailsItsTest

# 7. A resumed leader ignores the intervals workers repeat until it
# acknowledges them, so the seconds nobody merged during a failover are lost.
mutation drop-recent master/internal/aggregate/tracker.go \
	'for _, iv := range r\.Recent \{' \
	'for _, iv := range r.Recent[:0] {' \
	./master/internal/orchestrator/:TestFailoverResumesARunningTestOnTheTwin

# 8. The queue lets a later test overtake one that still waits.
mutation queue-fifo master/internal/orchestrator/queue.go \
	'\t\tblocked = true\n' \
	$'\t\tblocked = false\n' \
	./master/internal/orchestrator/:TestDecideQueue

# 9. A test without `workers` takes the idle workers instead of waiting
# for every live one.
mutation queue-all-live master/internal/orchestrator/queue.go \
	'if n := want\(e\.Workers, live\); len\(free\) >= n \{' \
	'if n := want(e.Workers, len(free)); len(free) >= n && n > 0 {' \
	./master/internal/orchestrator/:TestDecideQueue

# 10. A stop request does not take a test out of the queue.
mutation queue-stop master/internal/orchestrator/queue.go \
	'case e\.Stopped:' \
	'case e.Stopped && false:' \
	./master/internal/orchestrator/:TestDecideQueue \
	./test/integration/:TestQueuedTestCanBeStoppedAndDeleted

# 11. A test short of live workers waits forever.
mutation queue-wait master/internal/orchestrator/queue.go \
	'>= wait \{' \
	'>= 100*wait {' \
	./master/internal/orchestrator/:TestDecideQueue \
	./test/integration/:TestQueueFailsTestAskingForMoreWorkersThanLive

# 12. A new leader leaves the tests its predecessor queued where they are.
mutation queue-failover master/internal/orchestrator/admit.go \
	'\t\tdefault:\n(?=\t\t\tt, ok, err := a\.waiting)' \
	$'\t\tcase st.Phase == proto.PhaseQueued && st.Leader != a.o.cfg.MasterID:\n\t\t\tcontinue\n\t\tdefault:\n' \
	./test/integration/:TestQueuedTestSurvivesLeaderKill

# 13. A rerun is not linked to the test it reruns.
mutation rerun-link master/internal/api/rerun.go \
	's\.create\(w, r, sp, id\)' \
	's.create(w, r, sp, "")' \
	./test/integration/:TestRerunCreatesLinkedTestThatRuns

echo
echo "== mutate: $(( ${#report[@]} )) mutations =="
printf '  %s\n' "${report[@]}"
if [ "$failures" -gt 0 ]; then
	echo "mutate: $failures mutation(s) survived, did not apply or broke the build"
	exit 1
fi
echo "mutate: every mutation was killed"
