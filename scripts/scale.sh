#!/usr/bin/env bash
# Runs the scale table (see mk/scale.mk and docs/scale.md).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
mkdir -p artifacts
rm -f artifacts/scale-table.md
status=0
STAMPEDE_SCALE_SIZES=${SCALE_SIZES:-100,500,1000,2000} \
STAMPEDE_SCALE_DURATION=${SCALE_DURATION:-30s} \
STAMPEDE_SCALE_TABLE="$PWD/artifacts/scale-table.md" \
	"$GO" test -count=1 -v -timeout 90m -run 'TestScaleTable' ./test/fleet 2>&1 | tee artifacts/scale.log || status=$?
echo
echo "== scale table (artifacts/scale-table.md) =="
cat artifacts/scale-table.md 2>/dev/null || echo "no table: the run did not finish a size"
exit "$status"
