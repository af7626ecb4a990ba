#!/usr/bin/env bash
# make demo: a real local Stampede cluster on this machine.
#
# Starts a real ZooKeeper (Debian's zookeeper package; data in .run/demo/zk),
# the sample target, two masters and three workers on loopback, submits
# examples/demo.yaml through the REST API, prints one progress line per second
# and the summary table, then the dashboard URL. Ctrl-C stops everything this
# script started (by PID). Without a terminal (CI) it stops after the summary.
#
# The API needs a token: the script writes a fresh tokens file (an operator
# and a viewer token) and a ZooKeeper secret (every node gets a digest ACL
# for it) into .run/demo/, and prints the operator token and a dashboard link
# that logs in with it.
#
# Logs go to .run/demo/*.log. Ports can be changed with the environment:
#   DEMO_ZK_PORT (21810) DEMO_TARGET_PORT (8081) DEMO_MASTER1_PORT (8080)
#   DEMO_MASTER2_PORT (8090) DEMO_WORKER_PORTS ("8082 8083 8084", health ports)
#   DEMO_SPEC (examples/demo.yaml)
# Use an existing ZooKeeper instead of starting one: STAMPEDE_ZK=host:port.
#
# macOS and other systems: install ZooKeeper (e.g. `brew install zookeeper`,
# then `zkServer start`) and run with STAMPEDE_ZK=127.0.0.1:2181.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.run/demo
ZK_PORT=${DEMO_ZK_PORT:-21810}
TARGET_PORT=${DEMO_TARGET_PORT:-8081}
M1_PORT=${DEMO_MASTER1_PORT:-8080}
M2_PORT=${DEMO_MASTER2_PORT:-8090}
read -r -a W_PORTS <<<"${DEMO_WORKER_PORTS:-8082 8083 8084}"
SPEC=${DEMO_SPEC:-examples/demo.yaml}
ZK_CP=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar

PIDS=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "stopping the demo cluster..."
	# workers first (they deregister), then masters, target, ZooKeeper
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill -TERM "${PIDS[i]}" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	echo "stopped. Logs are in $RUN/"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $TARGET_PORT $M1_PORT $M2_PORT "${W_PORTS[@]}"; do
	port_free "$p" || { echo "port $p is in use; set the DEMO_*_PORT variables (see scripts/demo.sh)" >&2; exit 1; }
done

wait_http() { # url what
	for _ in $(seq 1 150); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "$2 did not become ready; the end of $RUN/$2.log:" >&2
	tail -20 "$RUN/$2.log" >&2 || true
	exit 1
}

mkdir -p "$RUN"
umask 077
random_hex() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
OPERATOR_TOKEN=$(random_hex)
printf 'operator %s\nviewer %s\n' "$OPERATOR_TOKEN" "$(random_hex)" >"$RUN/tokens"
printf 'stampede:%s\n' "$(random_hex)" >"$RUN/zk-auth"
umask 022
AUTH_HEADER="Authorization: Bearer $OPERATOR_TOKEN"
[[ -x bin/master && -x bin/worker && -x bin/target ]] || make build

if [[ -n "${STAMPEDE_ZK:-}" ]]; then
	ZK=$STAMPEDE_ZK
	echo "using the ZooKeeper at $ZK"
else
	if [[ ! -f /usr/share/java/zookeeper.jar ]]; then
		if command -v apt-get >/dev/null; then
			echo "installing Debian's zookeeper package (needs root)"
			SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
			$SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zookeeper
		else
			echo "ZooKeeper is not installed. Install it (macOS: brew install zookeeper && zkServer start)" >&2
			echo "and run again with STAMPEDE_ZK=127.0.0.1:2181" >&2
			exit 1
		fi
	fi
	port_free "$ZK_PORT" || { echo "port $ZK_PORT is in use; set DEMO_ZK_PORT" >&2; exit 1; }
	mkdir -p "$RUN/zk/data"
	cat >"$RUN/zk/zoo.cfg" <<CFG
tickTime=2000
dataDir=$RUN/zk/data
clientPortAddress=127.0.0.1
clientPort=$ZK_PORT
maxClientCnxns=0
4lw.commands.whitelist=ruok,srvr,stat,mntr
admin.enableServer=false
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
CFG
	(cd "$RUN/zk" && exec java -Xmx256m -cp "$ZK_CP" -Dzookeeper.root.logger=INFO,CONSOLE \
		-Dzookeeper.log.dir="$RUN/zk" org.apache.zookeeper.server.quorum.QuorumPeerMain "$RUN/zk/zoo.cfg") \
		>"$RUN/zookeeper.log" 2>&1 &
	PIDS+=($!)
	ZK=127.0.0.1:$ZK_PORT
	for i in $(seq 1 120); do
		mode=$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null | sed -n 's/^Mode: //p' || true)
		[[ $mode == standalone ]] && break
		[[ $i == 120 ]] && { echo "ZooKeeper did not start; see $RUN/zookeeper.log" >&2; exit 1; }
		sleep 0.25
	done
	echo "ZooKeeper   127.0.0.1:$ZK_PORT (data in $RUN/zk)"
fi

ROOTNODE=/stampede
bin/target --listen "127.0.0.1:$TARGET_PORT" >"$RUN/target.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$TARGET_PORT/readyz" target
echo "target      http://127.0.0.1:$TARGET_PORT"
for i in 1 2; do
	port=$M1_PORT; [[ $i == 2 ]] && port=$M2_PORT
	bin/master --id "master-$i" --zk "$ZK" --zk-root "$ROOTNODE" --listen "127.0.0.1:$port" \
		--tokens-file "$RUN/tokens" --zk-auth-file "$RUN/zk-auth" >"$RUN/master-$i.log" 2>&1 &
	PIDS+=($!)
done
for i in 1 2 3; do
	bin/worker --id "worker-$i" --zk "$ZK" --zk-root "$ROOTNODE" --listen "127.0.0.1:${W_PORTS[i - 1]}" \
		--zk-auth-file "$RUN/zk-auth" >"$RUN/worker-$i.log" 2>&1 &
	PIDS+=($!)
done
wait_http "http://127.0.0.1:$M1_PORT/readyz" master-1
wait_http "http://127.0.0.1:$M2_PORT/readyz" master-2
for i in 1 2 3; do wait_http "http://127.0.0.1:${W_PORTS[i - 1]}/readyz" "worker-$i"; done
echo "masters     http://127.0.0.1:$M1_PORT  http://127.0.0.1:$M2_PORT"
echo "workers     worker-1 worker-2 worker-3"
for _ in $(seq 1 100); do
	n=$(curl -fsS -H "$AUTH_HEADER" "http://127.0.0.1:$M1_PORT/api/v1/workers" | grep -o '"state":"idle"' | wc -l)
	[[ $n -ge 3 ]] && break
	sleep 0.2
done

sed "s#127.0.0.1:8081#127.0.0.1:$TARGET_PORT#g" "$SPEC" >"$RUN/spec.yaml"
echo
echo "submitting $SPEC"
status=0
STAMPEDE_TOKEN=$OPERATOR_TOKEN bin/master submit -f "$RUN/spec.yaml" --api "http://127.0.0.1:$M1_PORT" || status=$?
echo "target saw  $(curl -fsS "http://127.0.0.1:$TARGET_PORT/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p') requests"
echo
echo "dashboard   http://127.0.0.1:$M1_PORT/#token=$OPERATOR_TOKEN"
echo "            (logs in as operator; or open http://127.0.0.1:$M2_PORT/ and paste the token)"
echo "token       $OPERATOR_TOKEN   (operator; both tokens are in $RUN/tokens)"
echo "REST API    curl -H 'Authorization: Bearer $OPERATOR_TOKEN' http://127.0.0.1:$M1_PORT/api/v1/tests"
if [[ -t 0 && -z "${CI:-}" ]]; then
	echo
	echo "The cluster keeps running: submit more tests from the dashboard or with"
	echo "  bin/master submit -f examples/demo.yaml --api http://127.0.0.1:$M1_PORT --token $OPERATOR_TOKEN"
	echo "Press Ctrl-C to stop everything."
	while true; do sleep 3600; done
fi
exit $status
