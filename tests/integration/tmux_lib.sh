# tmux helpers for the tests that drive the station's screens.  Source this
# after lib.sh with TMUX_TARGET set to the session name the test creates.
# The tmux server runs on its own socket, so the tests never touch a user's
# tmux, and it is killed on exit together with lib.sh's cleanup.

command -v tmux >/dev/null || { echo "tmux is not installed"; exit 77; }

TMUX_SOCKET="sono-$(basename "$0" .sh)-$$"

tmx() {
	tmux -L "$TMUX_SOCKET" -f /dev/null "$@"
}

stop_tmux() {
	tmx kill-server 2>/dev/null
	cleanup
}
trap stop_tmux EXIT

pane() {
	tmx capture-pane -p -t "$TMUX_TARGET"
}

# wait_pane PATTERN [SECONDS]: waits until the pane shows an extended
# regular expression; on time-out prints the pane to stderr and fails.
wait_pane() {
	i=0
	while [ "$i" -lt $((${2:-10} * 20)) ]; do
		pane | grep -Eq -- "$1" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "--- pane while waiting for: $1" >&2
	pane >&2
	return 1
}

# wait_gone PATTERN [SECONDS]: waits until the pane no longer shows it.
wait_gone() {
	i=0
	while [ "$i" -lt $((${2:-10} * 20)) ]; do
		pane | grep -Eq -- "$1" || return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "--- pane while waiting for the end of: $1" >&2
	pane >&2
	return 1
}
