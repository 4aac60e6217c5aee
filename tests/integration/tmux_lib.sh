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

# The exports that keep the station's state and configuration under
# $TEST_TMP and take its themes from the source tree, for start_shell.
STATION_ENV="export XDG_STATE_HOME='$TEST_TMP/state' XDG_CONFIG_HOME='$TEST_TMP/config'
export SONO_THEME_DIR='$top_srcdir/themes'"

# start_shell COLS ROWS [LINE...]: starts the session $TMUX_TARGET, COLS x
# ROWS, with an interactive sh whose prompt is "PROMPT$ ", and waits up to
# 5 s for the prompt.  The shell first sources $TEST_TMP/env.sh: the LINEs,
# then a UTF-8 locale and the sanitizer options.  ASAN uses the slow
# unwinder because the GPM library has no frame pointers: only the slow one
# reaches the mousemask frame that lsan.supp names.
start_shell() {
	cols=$1 rows=$2
	shift 2
	printf '%s\n' "$@" "export PS1='PROMPT\$ ' LANG=C.UTF-8 LC_ALL=C.UTF-8" \
		"export LSAN_OPTIONS='suppressions=$top_srcdir/tests/integration/lsan.supp'" \
		"export ASAN_OPTIONS='fast_unwind_on_malloc=0'" >"$TEST_TMP/env.sh"
	tmx new-session -d -s "$TMUX_TARGET" -x "$cols" -y "$rows" \
		"sh -c '. $TEST_TMP/env.sh; exec sh -i'"
	wait_pane 'PROMPT\$' 5 || fail "test shell did not start"
}

# shell_run WORD...: types the words as one command line in the test shell,
# after clearing the pane, and then "echo EXIT=$?", so wait_pane can see
# how the command ended.
shell_run() {
	tmx send-keys -t "$TMUX_TARGET" "clear; $*; echo EXIT=\$?" Enter
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
