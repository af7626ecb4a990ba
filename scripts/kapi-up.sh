#!/usr/bin/env bash
# kapi-up.sh - start a throwaway etcd and kube-apiserver on 127.0.0.1.
#
#   scripts/kapi-up.sh RUN_DIR        # prints RUN_DIR/kubeconfig when the server is ready
#   scripts/kapi-down.sh RUN_DIR      # stops both (by their pid files) and removes RUN_DIR
#
# Environment: KAPI_BIN (default $HOME/.cache/stampede/kapi/v1.32.13/kube-apiserver),
# ETCD_BIN (default: etcd on PATH, Debian package etcd-server), KAPI_TIMEOUT (s, default 120).
#
# There is no kubelet, scheduler or controller-manager: objects are validated,
# admitted (PodSecurity included) and stored, never run. Logs: RUN_DIR/*.log.
set -euo pipefail

dir="${1:?usage: kapi-up.sh RUN_DIR}"
kapi_bin="${KAPI_BIN:-$HOME/.cache/stampede/kapi/v1.32.13/kube-apiserver}"
etcd_bin="${ETCD_BIN:-$(command -v etcd || true)}"
timeout_s="${KAPI_TIMEOUT:-120}"
here="$(cd "$(dirname "$0")" && pwd)"

say() { echo "kapi-up: $*" >&2; }
[[ -x "$kapi_bin" ]] || { say "no kube-apiserver at $kapi_bin (scripts/kapi-build.sh builds one)"; exit 1; }
[[ -n "$etcd_bin" && -x "$etcd_bin" ]] || { say "no etcd (apt-get install -y etcd-server)"; exit 1; }
for tool in openssl kubectl curl; do
  command -v "$tool" >/dev/null || { say "$tool is not on PATH"; exit 1; }
done

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# A port is free when nothing accepts a connection on it. Each pick is checked
# right before use; a race with another process shows up as a start failure.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  say "no free port"; return 1
}

on_error() { say "failed, logs in $dir"; tail -n 20 "$dir"/*.log >&2 || true; "$here/kapi-down.sh" "$dir" || true; }
trap on_error ERR

# etcd fsyncs on every write and Debian's etcd 3.4 cannot turn that off: keep
# its data in memory when /dev/shm exists.
if [[ -w /dev/shm ]]; then
  data="$(mktemp -d /dev/shm/stampede-etcd.XXXXXX)"
else
  data="$dir/etcd-data"; mkdir -p "$data"
fi
echo "$data" > "$dir/etcd-data-dir"
chmod 700 "$data"

etcd_port="$(free_port)"; peer_port="$(free_port)"
say "etcd on 127.0.0.1:$etcd_port"
setsid "$etcd_bin" --name kapi --data-dir "$data" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "kapi=http://127.0.0.1:$peer_port" --logger zap --log-level warn \
  > "$dir/etcd.log" 2>&1 < /dev/null &
echo $! > "$dir/etcd.pid"

deadline=$(( $(date +%s) + timeout_s ))
until curl -fsS "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; do
  kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || { say "etcd exited"; false; }
  (( $(date +%s) < deadline )) || { say "etcd not healthy after ${timeout_s}s"; false; }
  sleep 0.2
done

# Serving certificate (self-signed; the kubeconfig trusts it), service-account
# signing keys, and one static token in system:masters.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=stampede-kapi" \
  -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$dir/serving.key" -out "$dir/serving.crt" 2>/dev/null
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
token="$(openssl rand -hex 24)"
echo "$token,stampede-admin,stampede-admin,system:masters" > "$dir/tokens.csv"
chmod 600 "$dir"/*.key "$dir/tokens.csv"

api_port="$(free_port)"
say "kube-apiserver on https://127.0.0.1:$api_port"
# ServiceAccount admission is off because no controller creates the default
# ServiceAccount; the endpoint reconciler is off because nothing runs pods.
setsid "$kapi_bin" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$dir/serving.crt" --tls-private-key-file "$dir/serving.key" --cert-dir "$dir/certs" \
  --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
  --service-cluster-ip-range 10.96.0.0/24 \
  --disable-admission-plugins ServiceAccount \
  --endpoint-reconciler-type none \
  > "$dir/apiserver.log" 2>&1 < /dev/null &
echo $! > "$dir/apiserver.pid"

cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: kapi
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $dir/serving.crt
users:
  - name: stampede-admin
    user:
      token: $token
contexts:
  - name: kapi
    context: {cluster: kapi, user: stampede-admin}
current-context: kapi
KC
chmod 600 "$dir/kubeconfig"

# /readyz turns OK shortly before the bootstrap controller creates "default".
until kubectl --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1 &&
      kubectl --kubeconfig "$dir/kubeconfig" get namespace default >/dev/null 2>&1; do
  kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null || { say "kube-apiserver exited"; false; }
  (( $(date +%s) < deadline )) || { say "kube-apiserver not ready after ${timeout_s}s"; false; }
  sleep 0.25
done
trap - ERR
say "ready: $("$kapi_bin" --version)"
echo "$dir/kubeconfig"
