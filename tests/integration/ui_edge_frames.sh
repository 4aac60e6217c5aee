#!/bin/sh
# Edge frames through the live pipeline (mailbox, forwarder, cine buffer,
# renderer, terminal write): all black, all white, 1x1, 641x479 and a
# single-colour RGB frame, with each renderer, while freezing, scrubbing,
# measuring, capturing and switching renderers.  Run it in a build
# configured with --enable-sanitizers: any AddressSanitizer or
# UndefinedBehaviorSanitizer report fails the test.
. "$top_srcdir/tests/integration/lib.sh"

TMUX_TARGET=edge
. "$top_srcdir/tests/integration/tmux_lib.sh"

cat >"$TEST_TMP/env.sh" <<EOF
export XDG_STATE_HOME='$TEST_TMP/state' XDG_CONFIG_HOME='$TEST_TMP/config'
export XDG_DATA_HOME='$TEST_TMP/data'
export SONO_THEME_DIR='$top_srcdir/themes' LANG=C.UTF-8 PS1='PROMPT\$ '
export ASAN_OPTIONS='log_path=$TEST_TMP/asan:detect_leaks=1:fast_unwind_on_malloc=0'
export UBSAN_OPTIONS='log_path=$TEST_TMP/ubsan:print_stacktrace=1'
export LSAN_OPTIONS='suppressions=$top_srcdir/tests/integration/lsan.supp'
EOF
tmx new-session -d -s edge -x 110 -y 36 "sh -c '. $TEST_TMP/env.sh; exec sh -i'"

wait_exit() {
	i=0
	while [ "$i" -lt 100 ]; do
		pane | grep -q '^EXIT=' && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

for source in black white 1x1 641x479 colour; do
	for render in sixel halfblock ascii; do
		tmx send-keys -t edge "clear; $SONOTERM --test-source $source --render $render; echo EXIT=\$?" Enter
		sleep 1.5
		for key in Space Left Left m m s c End Home Space r x; do
			tmx send-keys -t edge "$key"
			sleep 0.1
		done
		sleep 0.5
		tmx send-keys -t edge q
		if wait_exit; then
			status=$(pane | sed -n 's/^EXIT=//p' | head -n 1)
			check "$source frames with $render: exit status ${status:-?}" [ "$status" = 0 ]
		else
			fail "$source frames with $render: station did not exit"
			pane >&2
		fi
	done
done

reports=$(ls "$TEST_TMP"/asan.* "$TEST_TMP"/ubsan.* 2>/dev/null)
if [ -n "$reports" ]; then
	cat $reports >&2
	fail "sanitizer reports: $reports"
else
	pass "no sanitizer reports"
fi
check "captured edge frames pass the store check" \
	env XDG_DATA_HOME="$TEST_TMP/data" "$SONOTERM" exams check
check "no frame failed to render" sh -c "! grep -q 'not rendered' '$TEST_TMP/state/sonoterm/sonoterm.log'"
finish
