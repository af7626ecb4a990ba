# scripts/lib/target.sh — sourced by bench.sh and profile.sh: start the
# sample target (the binary ./target in the current directory) pinned to
# core 0 on PORT (default: the first free port from 20000 up), wait until
# it accepts connections, and stop it when the script exits. Sets PORT,
# BASE and TARGET_PID. Traffic goes to 127.0.0.1 only.

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_target() {
	if [ -z "${PORT:-}" ]; then
		PORT=20000
		while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
	fi
	BASE=http://127.0.0.1:$PORT
	TARGET_PID=
	trap stop_target EXIT INT TERM
	taskset -c 0 ./target --listen "127.0.0.1:$PORT" >target.log 2>&1 &
	TARGET_PID=$!
	for _ in $(seq 1 300); do
		if ! port_free "$PORT"; then break; fi
		sleep 0.1
	done
}

stop_target() {
	if [ -n "${TARGET_PID:-}" ]; then
		kill "$TARGET_PID" 2>/dev/null || true
		wait "$TARGET_PID" 2>/dev/null || true
	fi
}
