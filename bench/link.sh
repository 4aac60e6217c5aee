#!/bin/sh
# Scanner link throughput: sonoprobe streams 640x480 gray phantom frames at
# 30 fps to `sonoterm link-test` on loopback, first over TLS, then over plain
# OpenIGTLink, for $LINK_SECONDS each (default 60).  Goals: no frame lost,
# latency from the scanner's timestamp to the mailbox p99 under 5 ms, CPU of
# sonoprobe and of the receiver each under 10 % of one core.
#
# Prints one result line per transport and the TLS/plain CPU ratio.
# BENCH_SMOKE=1 runs 3 s per transport to check that the benchmark works.
set -eu

: "${top_builddir:=$PWD}"
SONOTERM="$top_builddir/sonoterm"
SONOPROBE="$top_builddir/sonoprobe"
[ -x "$SONOTERM" ] && [ -x "$SONOPROBE" ] || { echo "link.sh: build sonoterm and sonoprobe in $top_builddir first" >&2; exit 1; }

seconds=${LINK_SECONDS:-60}
[ -n "${BENCH_SMOKE:-}" ] && seconds=3
fps=30
frames=$((seconds * fps))
work=$(mktemp -d "${TMPDIR:-/tmp}/sono-bench-link-XXXXXX")
probe_pid=""
trap '[ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null; rm -rf "$work"' EXIT

# cpu_ticks PID: user plus system time of PID in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# run_transport NAME [SONOPROBE OPTIONS]: one timed run; prints a result line
# and leaves "NAME_cpu_probe NAME_cpu_receiver" in $work/NAME.cpu.
run_transport() {
	name=$1
	shift
	"$SONOPROBE" --listen 127.0.0.1:0 --source phantom --fps "$fps" --identity "$work/id" \
		--duration $((seconds + 60)) "$@" >"$work/$name.probe.out" 2>"$work/$name.probe.err" &
	probe_pid=$!
	i=0
	until grep -q '^listening ' "$work/$name.probe.out" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { cat "$work/$name.probe.err" >&2; exit 1; }
		sleep 0.1
	done
	port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$work/$name.probe.out")
	pin=$(sed -n 's/^fingerprint //p' "$work/$name.probe.out")
	if [ -n "$pin" ]; then set -- --pin "$pin"; else set -- --insecure-igtl; fi

	ticks0=$(cpu_ticks "$probe_pid")
	/usr/bin/time -f '%U %S %e' -o "$work/$name.time" "$SONOTERM" link-test \
		--scanner "127.0.0.1:$port" --frames "$frames" --timeout $((seconds + 30)) "$@" \
		>"$work/$name.out" 2>"$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
	ticks1=$(cpu_ticks "$probe_pid")
	kill "$probe_pid"
	wait "$probe_pid" 2>/dev/null || true
	probe_pid=""

	hz=$(getconf CLK_TCK)
	read -r user sys elapsed <"$work/$name.time"
	skipped=$(sed -n 's/.*disconnected.*skipped \([0-9]*\)).*/\1/p' "$work/$name.probe.err" | tail -n 1)
	awk -v name="$name" -v t0="$ticks0" -v t1="$ticks1" -v hz="$hz" -v u="$user" -v s="$sys" \
		-v e="$elapsed" -v skipped="${skipped:-?}" -v out="$work/$name.cpu" '
		FILENAME != "" {
			if ($0 ~ /^frames received: /) received = $3
			if ($0 ~ /^frames taken: /) { dropped = $NF; sub(/\)/, "", dropped) }
			if ($0 ~ /^latency p50: /) p50 = $3
			if ($0 ~ /^latency p99: /) p99 = $3
			if ($0 ~ /^tls: /) { tls = $0; sub(/^tls: /, "", tls) }
		}
		END {
			probe = 100 * (t1 - t0) / hz / e
			receiver = 100 * (u + s) / e
			printf "%s: %s frames in %.1f s, skipped by the probe %s, dropped in the mailbox %s, latency p50 %s ms p99 %s ms, CPU probe %.1f %% receiver %.1f %% (%s)\n",
				name, received, e, skipped, dropped, p50, p99, probe, receiver, tls
			printf "%.2f %.2f\n", probe, receiver > out
		}' "$work/$name.out"
}

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "640x480 gray phantom, $fps fps, $seconds s per transport"
run_transport tls
run_transport plain --insecure-igtl
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r tls_probe tls_receiver <"$work/tls.cpu"
read -r plain_probe plain_receiver <"$work/plain.cpu"
awk -v a="$tls_probe" -v b="$plain_probe" -v c="$tls_receiver" -v d="$plain_receiver" 'BEGIN {
	printf "CPU ratio TLS/plain: probe %s, receiver %s\n",
		(b > 0 ? sprintf("%.2f", a / b) : "n/a"), (d > 0 ? sprintf("%.2f", c / d) : "n/a")
}'
