#!/bin/sh
# The live screen behind a 2 Mbit/s link to its terminal, made with a
# throttling pty relay inside tmux.  Once the image size has adapted, frames
# must reach the terminal less than 250 ms after acquisition and keys must
# show their effect within 200 ms.  The output waiting in the tty queue
# must stay bounded.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

TMUX_TARGET=slow
. "$top_srcdir/tests/integration/tmux_lib.sh"

RATE=250000          # bytes per second: 2 Mbit/s
RUN_SECONDS=30
MAX_AGE_MS=250
MAX_KEY_MS=200
LOG="$TEST_TMP/state/sonoterm/sonoterm.log"

start_probe probe --source phantom --identity "$TEST_TMP/probe" --duration 120 ||
	{ fail "sonoprobe did not start"; finish; }
ADDR=127.0.0.1:$PROBE_PORT
PIN=$PROBE_PIN

tmx new-session -d -s slow -x 120 -y 40 "env XDG_STATE_HOME='$TEST_TMP/state' \
	XDG_CONFIG_HOME='$TEST_TMP/config' XDG_DATA_HOME='$TEST_TMP/data' SONO_THEME_DIR='$top_srcdir/themes' LANG=C.UTF-8 \
	python3 '$top_srcdir/tests/integration/slow_relay.py' $RATE '$TEST_TMP/relay.stats' \
	$RUN_SECONDS -- $SONOTERM --scanner $ADDR --pin $PIN --log-level info; \
	echo EXIT=\$?; sleep 60"

# key_latency KEY PATTERN: prints the ms from sending KEY until the pane
# shows PATTERN, or 9999 after two seconds.
key_latency() {
	start=$(date +%s%N)
	tmx send-keys -t slow "$1"
	while :; do
		now=$(date +%s%N)
		if tmx capture-pane -p -t slow | grep -Eq -- "$2"; then
			echo $(((now - start) / 1000000))
			return
		fi
		[ $((now - start)) -gt 2000000000 ] && { echo 9999; return; }
	done
}

check "station paints frames through the relay" wait_for_line "$LOG" 15 'image placed:'
# Let the image size adapt to the link before measuring.
sleep 8
gain=0
for i in 1 2 3 4 5; do
	gain=$((gain + 2))
	ms=$(key_latency + "Gain +\\+$gain dB")
	echo "key $i: gain +$gain dB shown after $ms ms"
	check "key $i answers within $MAX_KEY_MS ms" [ "$ms" -le "$MAX_KEY_MS" ]
	sleep 0.5
done

check "station stops at the end of the run" wait_for_line "$LOG" $((RUN_SECONDS + 10)) 'screens closed'
grep 'live:' "$LOG"
# The stats lines come every 5 s.  Those from 15 s on cover the steady
# state after the adaptation (the keys are sent from 10 s on).  The check
# uses the 95th percentile: on a shared CI machine a stall of the whole
# machine can delay a single frame whatever the station does.
ages=$(grep 'live:' "$LOG" | tail -n +3 | sed -n 's/.*(p95 \([0-9]*\) ms.*/\1/p')
check "frame age was logged after the adaptation" [ -n "$ages" ]
for age in $ages; do
	check "frame age p95 $age ms stays under $MAX_AGE_MS ms" [ "$age" -lt "$MAX_AGE_MS" ]
done
fps=$(grep 'live:' "$LOG" | tail -n 1 | sed -n 's/.*live: \([0-9]*\)\..*/\1/p')
check "frames keep flowing (${fps:-0} fps painted)" [ "${fps:-0}" -ge 5 ]

# Output waiting for the relay after the adaptation: at most a frame's worth
# (the budget is 60 ms of link time, 15 KB here) plus the tty buffer.
max_pending=$(awk '$1 >= 15 { if ($2 > m) m = $2 } END { print m + 0 }' "$TEST_TMP/relay.stats")
sent=$(tail -n 1 "$TEST_TMP/relay.stats" | cut -d' ' -f3)
echo "relay: max pending $max_pending bytes, $sent bytes sent"
check "output queue stays bounded (max $max_pending bytes)" [ "$max_pending" -le 65536 ]
check "the link carried data" [ "${sent:-0}" -gt $((RATE * 5)) ]
finish
