#!/bin/sh
# Resident memory of the station while scanning (goal: under 40 MB).
#
# Runs sonoprobe --source phantom on loopback and the station's live screen
# on it for 30 s, sampling VmRSS of sonoterm from /proc every 0.2 s.  Then
# it freezes, scrubs the cine back 40 frames, samples again for 2 s and
# reads VmHWM.  Run 1: tmux, TERM=xterm-256color, --render halfblock.
# Run 2: --render sixel inside xterm -ti vt340 under Xvfb, when xterm and
# Xvfb are installed; it is not frozen, because no tool to send X key
# events is a dependency.  The results are appended to bench/RESULTS.md under
# "Live view memory".  BENCH_SMOKE=1 runs each for 3 s and records nothing.
set -eu

: "${top_srcdir:?run through make bench}"
: "${top_builddir:?run through make bench}"
SONOTERM="$top_builddir/sonoterm"
SONOPROBE="$top_builddir/sonoprobe"
make -s -C "$top_builddir" sonoterm sonoprobe >/dev/null

seconds=30
[ -n "${BENCH_SMOKE:-}" ] && seconds=3
command -v tmux >/dev/null || { echo "live_memory: tmux is not installed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/live-memory-XXXXXX")
tmux_socket="sono-bench-mem-$$"
pids=""
cleanup() {
	tmux -L "$tmux_socket" kill-server 2>/dev/null || true
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$tmux_socket"
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE SECONDS PATTERN: waits until FILE contains a line matching
# the extended regular expression.
wait_for() {
	i=0
	while [ "$i" -lt $(($2 * 10)) ]; do
		grep -Eq -- "$3" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "live_memory: timed out waiting for '$3' in $1" >&2
	return 1
}

# status_kb PID FIELD: prints a VmRSS or VmHWM value of PID in kB.
status_kb() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null
}

# sample PID SECONDS: samples VmRSS every 0.2 s and prints the peak in kB.
sample() {
	peak=0
	i=0
	while [ "$i" -lt $(($2 * 5)) ] && [ -r "/proc/$1/status" ]; do
		rss=$(status_kb "$1" VmRSS)
		[ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
		sleep 0.2
		i=$((i + 1))
	done
	echo "$peak"
}

# start_probe NAME: starts a scanner simulator for one run and sets addr
# and pin.  Each run gets its own, because freezing the station also
# freezes the scanner.
start_probe() {
	"$SONOPROBE" --source phantom --listen 127.0.0.1:0 --identity "$work/probe" \
		--duration $((seconds + 60)) >"$work/probe-$1.out" 2>"$work/probe-$1.err" &
	pids="$pids $!"
	wait_for "$work/probe-$1.out" 20 '^listening ' || { cat "$work/probe-$1.err" >&2; exit 1; }
	addr=$(sed -n 's/^listening //p' "$work/probe-$1.out")
	pin=$(sed -n 's/^fingerprint //p' "$work/probe-$1.out")
}

# station_env NAME: the environment of one station run, with its own
# state, config and data folders.
station_env() {
	mkdir -p "$work/$1"
	echo "XDG_STATE_HOME=$work/$1/state XDG_CONFIG_HOME=$work/$1/config" \
		"XDG_DATA_HOME=$work/$1/data SONO_THEME_DIR=$top_srcdir/themes"
}

# measure NAME PID: samples a running station for $seconds, then freezes
# and scrubs it through the keys given by the function send_keys, and
# prints "live_peak hwm frozen_peak" in kB plus the last painted frame rate
# the station logged.
measure() {
	wait_for "$work/$1/state/sonoterm/sonoterm.log" 20 'image placed:' || return 1
	live_peak=$(sample "$2" "$seconds")
	send_keys Space
	sleep 0.5
	k=0
	while [ "$k" -lt 40 ]; do
		send_keys Left
		k=$((k + 1))
	done
	frozen_peak=$(sample "$2" 2)
	hwm=$(status_kb "$2" VmHWM)
	fps=$(sed -n 's/.*live: \([0-9.]*\) fps painted.*/\1/p' \
		"$work/$1/state/sonoterm/sonoterm.log" | tail -n 1)
	echo "$live_peak ${hwm:-0} $frozen_peak ${fps:-?}"
}

run_tmux() {
	start_probe tmux
	tmux -L "$tmux_socket" -f /dev/null new-session -d -s live -x 120 -y 40 \
		"exec env $(station_env tmux) TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		$SONOTERM --scanner $addr --pin $pin --render halfblock --log-level info"
	pid=$(tmux -L "$tmux_socket" display-message -p -t live '#{pane_pid}')
	send_keys() {
		tmux -L "$tmux_socket" send-keys -t live "$1"
	}
	measure tmux "$pid" >"$work/result.tmux"
	tmux -L "$tmux_socket" send-keys -t live q
}

run_xterm() {
	start_probe xterm
	Xvfb -displayfd 5 -screen 0 1280x1024x24 -nolisten tcp 5>"$work/display" \
		>/dev/null 2>"$work/xvfb.err" &
	pids="$pids $!"
	wait_for "$work/display" 10 '[0-9]' || return 1
	DISPLAY=":$(cat "$work/display")" env $(station_env xterm) \
		xterm -ti vt340 -geometry 120x40+0+0 -fa Monospace -fs 10 \
		-e "$SONOTERM" --scanner "$addr" --pin "$pin" --render sixel --log-level info \
		>/dev/null 2>"$work/xterm.err" &
	xterm_pid=$!
	pids="$pids $xterm_pid"
	wait_for "$work/xterm/state/sonoterm/sonoterm.log" 20 'live screen opened' || return 1
	pid=$(pgrep -P "$xterm_pid" -x sonoterm | head -n 1)
	[ -n "$pid" ] || { echo "live_memory: sonoterm under xterm not found" >&2; return 1; }
	# No X key injector is a dependency, so this run is not frozen.
	send_keys() {
		:
	}
	measure xterm "$pid" >"$work/result.xterm"
	kill -TERM "$pid" 2>/dev/null || true
}

# mb KB: prints kB (1024 bytes) as MB (10^6 bytes), the unit of the goal.
mb() {
	awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb * 1024 / 1e6 }'
}

machine=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
cpus=$(lscpu | sed -n 's/^CPU(s):[[:space:]]*//p' | head -n 1)
echo "machine: $(uname -m), $cpus CPUs, $machine; load average $(cut -d' ' -f1-3 /proc/loadavg)"

run_tmux || true
set -- $(cat "$work/result.tmux" 2>/dev/null)
[ "$#" -ge 4 ] || { echo "live_memory: the tmux run failed; see the messages above" >&2; exit 1; }
tmux_line="| tmux, TERM=xterm-256color, --render halfblock | $(mb "$1") | $(mb "$2") | $(mb "$3") | $4 fps |"
echo "$tmux_line"

xterm_line="| xterm -ti vt340 under Xvfb, --render sixel | not run: xterm or Xvfb missing | | | |"
if command -v xterm >/dev/null && command -v Xvfb >/dev/null; then
	run_xterm || true
	set -- $(cat "$work/result.xterm" 2>/dev/null)
	if [ "$#" -ge 3 ]; then
		xterm_line="| xterm -ti vt340 under Xvfb, --render sixel | $(mb "$1") | $(mb "$2") | not frozen | ${4:-?} fps |"
	else
		xterm_line="| xterm -ti vt340 under Xvfb, --render sixel | failed, see the script's output | | | |"
	fi
fi
echo "$xterm_line"

[ -n "${BENCH_SMOKE:-}" ] && exit 0
results="$top_srcdir/bench/RESULTS.md"
grep -q '^## Live view memory' "$results" || printf '\n## Live view memory (bench/live_memory.sh)\n' >>"$results"
{
	echo
	echo "- Command: \`top_srcdir=$top_srcdir top_builddir=$top_builddir sh bench/live_memory.sh\`;"
	echo "  sonoprobe --source phantom (640x480 at 30 fps) over TLS on 127.0.0.1,"
	echo "  ${seconds} s live, then freeze and 40 frames scrubbed back, sampled 2 s."
	echo "- Machine: $(uname -m), $cpus CPUs, $machine (lscpu); load average $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M') UTC."
	echo
	echo "| run | peak VmRSS live | VmHWM | peak VmRSS frozen, scrubbing | frame rate |"
	echo "| --- | --- | --- | --- | --- |"
	echo "$tmux_line"
	echo "$xterm_line"
} >>"$results"
echo "appended to $results"
