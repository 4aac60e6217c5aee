#!/bin/sh
# The demo path through the station screens against the real sonocloud and
# sonoprobe.  After a login, the live screen opens on the permitted scanner
# without --pin.  The operator enters a patient, captures a still with a
# caliper, completes the exam and opens the exam queue from the live screen,
# which uploads it.  The cloud then has the exam once with the still's
# hash, and the station keeps only a tombstone without patient data.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

TMUX_TARGET=up
. "$top_srcdir/tests/integration/tmux_lib.sh"

start_probe_and_cloud
station_login >/dev/null || { fail "login"; finish; }

FAMILY='Quennell-Ærø'
GIVEN='Bódi'
PID='UPSCR-4410'
BIRTH='1958-11-03'
printf '%s\n%s\n%s\n' "$FAMILY" "$PID" "$BIRTH" >"$TEST_TMP/phi_words"
SCREEN_LOG="$TEST_TMP/state/sonoterm/sonoterm.log"

start_shell 170 45 "$STATION_ENV" "$NO_PROXY_ENV"
shell_run "timeout --foreground 300 $SONOTERM --scanner 127.0.0.1:$PROBE_PORT" \
	"--config $STATION_CONF --data-dir $STATION --render ascii"

check "permitted scanner connects without --pin" wait_pane 'Link +connected' 20
FIRST=$(pane | sed -n 's/.* Exam  *\([0-9a-f]\{8\}\) *$/\1/p' | head -1)
check "panel names the current exam" test -n "$FIRST"

tmx send-keys -t up a
check "a opens the patient form" wait_pane "Patient of exam $FIRST" 5
tmx send-keys -t up -l "$PID"
tmx send-keys -t up Down
tmx send-keys -t up -l "$FAMILY"
tmx send-keys -t up Down
tmx send-keys -t up -l "$GIVEN"
tmx send-keys -t up Down Down
tmx send-keys -t up -l "$BIRTH"
tmx send-keys -t up F2
check "patient is entered" wait_pane 'Patient +entered *$' 5
tmx send-keys -t up m
tmx send-keys -t up m
check "caliper is placed" wait_pane 'Caliper +A-B [0-9]+\.[0-9] mm' 3
tmx send-keys -t up s
check "still is saved" wait_pane "Still saved to exam $FIRST" 5
tmx send-keys -t up f
wait_pane 'y: complete' 3 >/dev/null
tmx send-keys -t up y
check "exam is completed" wait_pane "Exam $FIRST completed; new exam" 5

# The still's hash as the station stored it, read while the screens run.
"$SONOTERM" exams list --data-dir "$STATION" >"$TEST_TMP/before.out" 2>>"$STATION_LOG"
UUID=$(sed -n "s/^\($FIRST[0-9a-f-]*\) .*/\1/p" "$TEST_TMP/before.out")
echo "$UUID" >"$TEST_TMP/uuids"
"$SONOTERM" exams show "$UUID" --data-dir "$STATION" >"$TEST_TMP/show.out" 2>>"$STATION_LOG"
sed -n "s/.* sha256 \([0-9a-f]\{64\}\)$/$UUID \1/p" "$TEST_TMP/show.out" >"$TEST_TMP/hashes"
check "the still's hash was read" test "$(wc -l <"$TEST_TMP/hashes")" -eq 1

tmx send-keys -t up u
check "u opens the queue of the logged-in user" wait_pane '^ Sonoterm \| Queue \| ana' 5
check "queue uploads the exam" wait_pane 'Exam queue: 0 waiting, 1 uploaded since start' 60
tmx send-keys -t up F10
check "F10 returns to the live screen" wait_pane '^ Sonoterm \| Live' 5
tmx send-keys -t up q
check "station exits cleanly" wait_pane 'EXIT=0' 15

"$SONOTERM" exams list --data-dir "$STATION" >"$TEST_TMP/after.out" 2>>"$STATION_LOG"
check "exam is a tombstone with a receipt" grep -Eq "^$UUID +uploaded .* receipt [^ ]+" "$TEST_TMP/after.out"
check_cloud_exams >"$TEST_TMP/cloud-check.out"
check "the cloud has the exam once with the still's hash" test $? -eq 0
cat "$TEST_TMP/cloud-check.out"
check_no_phi "$SCREEN_LOG" "$STATION_LOG"
finish
