#!/usr/bin/env bash
# kapi-down.sh RUN_DIR - stop the kube-apiserver and etcd that kapi-up.sh
# started in RUN_DIR (by their pid files only), then delete their data.
set -uo pipefail
dir="${1:?usage: kapi-down.sh RUN_DIR}"
[[ -d "$dir" ]] || exit 0
for name in apiserver etcd; do            # the API server first: it writes to etcd
  [[ -f "$dir/$name.pid" ]] || continue
  pid="$(cat "$dir/$name.pid")"
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kapi-down: $name (pid $pid) ignored SIGTERM for 10s, killing it" >&2
    kill -9 "$pid" 2>/dev/null
  fi
done
if [[ -f "$dir/etcd-data-dir" ]]; then rm -rf -- "$(cat "$dir/etcd-data-dir")"; fi
rm -rf -- "$dir"
