#!/usr/bin/env bash
# wrk2.sh — builds wrk2 (github.com/giltene/wrk2, the open-model peer of
# `make bench`; not packaged in Debian) into bin/wrk2. From WRK2_SRC (a
# source directory) if set, else from a fresh `git clone` of the public
# repository. Its bundled LuaJIT builds as is; it needs make, a C compiler
# and OpenSSL's headers (Debian: build-essential libssl-dev).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/wrk2-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if [ -n "${WRK2_SRC:-}" ]; then
	cp -a "$WRK2_SRC/." "$WORK/"
else
	git clone --depth 1 https://github.com/giltene/wrk2 "$WORK"
fi
make -C "$WORK" >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
mkdir -p "$ROOT/bin"
cp "$WORK/wrk" "$ROOT/bin/wrk2"
echo "wrk2: built $ROOT/bin/wrk2"
