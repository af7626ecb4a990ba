#!/usr/bin/env bash
# kapi-build.sh - build a kube-apiserver binary from the Go module proxy, for
# checking Stampede's manifests against a real API server (make k8s-check).
#
#   scripts/kapi-build.sh VERSION OUT
#
# Writes OUT/kube-apiserver (Kubernetes vVERSION) and leaves it there as a cache:
# when OUT/kube-apiserver already reports vVERSION, it does nothing.
# Cold: ~80 MB of modules, ~6.5 min on 2 cores, ~2 GB of Go build cache.
#
# How: a throwaway module (OUT/src) requires k8s.io/kubernetes@vVERSION and
# replaces each staging module (k8s.io/api, k8s.io/apiserver, ...; kubernetes'
# go.mod points them at ./staging) with its published v0.MINOR.PATCH release.
# Never `go mod tidy` it: tidy wants the test dependencies of every kubernetes
# package, and some of them are not on every proxy.
set -euo pipefail

version="${1:?usage: kapi-build.sh VERSION OUT}"
out="${2:?usage: kapi-build.sh VERSION OUT}"
version="${version#v}"
staging="0.${version#*.}"            # 1.32.13 -> 0.32.13
bin="$out/kube-apiserver"

if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -qx "Kubernetes v$version"; then
  echo "kapi-build: $bin is already v$version (cached)" >&2
  exit 0
fi

command -v go >/dev/null || { echo "kapi-build: go is not on PATH" >&2; exit 1; }
mkdir -p "$out/src"
src="$(cd "$out/src" && pwd)"
export GOFLAGS="-mod=mod -buildvcs=false" GOWORK=off GOTOOLCHAIN=local

# kubernetes' own go.mod lists the staging modules.
upstream_mod="$(cd / && go mod download -json "k8s.io/kubernetes@v$version" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$upstream_mod" ]] || { echo "kapi-build: cannot download k8s.io/kubernetes@v$version" >&2; exit 1; }
mapfile -t modules < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$upstream_mod")
(( ${#modules[@]} > 0 )) || { echo "kapi-build: no staging replaces found in $upstream_mod" >&2; exit 1; }

{
  printf 'module stampede.local/kapi\n\ngo 1.23.0\n\ngodebug default=go1.23\n\n'
  printf 'require k8s.io/kubernetes v%s\n\nreplace (\n' "$version"
  for m in "${modules[@]}"; do printf '\t%s => %s v%s\n' "$m" "$m" "$staging"; done
  printf ')\n'
} > "$src/go.mod"
rm -f "$src/go.sum"
printf '//go:build tools\n\npackage kapi\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' > "$src/tools.go"

cd "$src"
echo "kapi-build: downloading modules for k8s.io/kubernetes@v$version (${#modules[@]} staging replaces)" >&2
go list -deps k8s.io/kubernetes/cmd/kube-apiserver > /dev/null

pkg=k8s.io/component-base/version
minor="$(echo "$version" | cut -d. -f2)"
ldflags="-s -w -X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*} -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
echo "kapi-build: building kube-apiserver v$version (cold: several minutes)" >&2
go build -trimpath -ldflags "$ldflags" -o "$bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$bin.tmp" "$bin"
"$bin" --version >&2
