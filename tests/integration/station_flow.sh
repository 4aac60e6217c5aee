#!/bin/sh
# One operator workflow through tmux against a real sonoprobe phantom.  The
# patient form opens from the live screen, a still gets a two-point caliper,
# a cine follows, and a confirming y completes the exam.  The exam list shows
# the exam, and Enter there resumes another one.  Afterwards the headless
# commands show the completed exam with its counts and the still's
# measurement, a second start opens the exam queue, and the log contains no
# patient data.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

DATA="$TEST_TMP/data"
TMUX_TARGET=flow
. "$top_srcdir/tests/integration/tmux_lib.sh"

# current_exam: the short exam id in the live screen's side panel.
current_exam() {
	pane | sed -n 's/.* Exam  *\([0-9a-f]\{8\}\) *$/\1/p' | head -1
}

start_probe probe --source phantom --identity "$TEST_TMP/probe" --serial FLOW-PROBE-1 \
	--duration 180 || { fail "sonoprobe did not start"; finish; }

# A patient whose names contain Latin letters outside ASCII.
FAMILY='Müller-Łukasiewicz'
GIVEN='Zoë'
PID='FLOW-7731'
BIRTH='1980-02-29'

start_shell 170 45 "$STATION_ENV"
shell_run "timeout --foreground 300 $SONOTERM --scanner 127.0.0.1:$PROBE_PORT --pin $PROBE_PIN" \
	"--data-dir $DATA --render ascii --log-level info"

check "panel shows the current exam" wait_pane 'Exam +[0-9a-f]{8} *$' 15
check "panel shows no patient yet" wait_pane 'Patient +none *$' 3
check "scanner link is up" wait_pane 'Link +connected' 15
check "status line ends with the exam" wait_pane '^ Sonoterm \| Live \| LIVE .*\| exam [0-9a-f]{8}, no patient *$' 5
check "key bar offers the exam list" sh -c "tmux -L $TMUX_SOCKET capture-pane -p -t flow | tail -1 | grep -q 'F9Exams'"
FIRST=$(current_exam)

tmx send-keys -t flow F1
check "help lists the exam keys" wait_pane 'f +finish: complete the current exam' 3
tmx send-keys -t flow Escape
sleep 0.3

# The patient form on the current exam, with UTF-8 names.
tmx send-keys -t flow a
check "a opens the patient form" wait_pane "Patient of exam $FIRST" 5
tmx send-keys -t flow -l "$PID"
tmx send-keys -t flow Down
tmx send-keys -t flow -l "$FAMILY"
tmx send-keys -t flow Down
tmx send-keys -t flow -l "$GIVEN"
tmx send-keys -t flow Down Down
tmx send-keys -t flow -l "$BIRTH"
check "form shows the UTF-8 name" wait_pane "$FAMILY" 3
tmx send-keys -t flow F2
check "panel shows the patient as entered" wait_pane 'Patient +entered *$' 5
check "status line shows the patient as set" wait_pane "\| exam $FIRST, patient set *\$" 8
check "live screen shows no patient data" sh -c "! tmux -L $TMUX_SOCKET capture-pane -p -t flow | grep -q 'Łukasiewicz\|$PID'"

# A frozen still with a two-point caliper placed from the keyboard.
tmx send-keys -t flow Space
check "space freezes the image" wait_pane 'State +FROZEN' 3
tmx send-keys -t flow m
tmx send-keys -t flow m
check "two caliper points give a distance" wait_pane 'Caliper +A-B [0-9]+\.[0-9] mm' 3
tmx send-keys -t flow s
check "still is saved into the exam" wait_pane "Still saved to exam $FIRST" 5
tmx send-keys -t flow Space
check "space unfreezes the image" wait_pane 'State +LIVE' 3
sleep 1
# The progress messages last a fraction of a second each, so they are read
# from the terminal output that tmux records, not from the pane.
tmx pipe-pane -t flow -o "cat >'$TEST_TMP/cine.out'"
tmx send-keys -t flow c
check "cine is saved into the exam" wait_pane "Cine of [0-9]+ frames saved to exam $FIRST" 15
tmx pipe-pane -t flow
check "cine save counts the frames on the status line" \
	grep -Eq 'Saving cine: [0-9]+ of [0-9]+ frames' "$TEST_TMP/cine.out"
check "panel counts the captures" wait_pane 'Captured +1 stills, 1 cines' 3

# Completing waits for y, and any other key keeps the exam open.
tmx send-keys -t flow f
check "f asks for confirmation" wait_pane "Complete exam $FIRST \(1 stills, 1 cines\)\? y: complete" 3
tmx send-keys -t flow n
check "another key keeps scanning" wait_pane "Exam $FIRST not completed" 3
tmx send-keys -t flow f
wait_pane 'y: complete' 3 >/dev/null
tmx send-keys -t flow y
check "y completes the exam and starts a new one" wait_pane "Exam $FIRST completed; new exam [0-9a-f]{8}" 5
SECOND=$(current_exam)
check "new current exam is unassigned" sh -c "[ -n '$SECOND' ] && [ '$SECOND' != '$FIRST' ]"

# The exam list shows the completed exam with its counts and patient.
tmx send-keys -t flow e
check "e opens the exam list" wait_pane '^ Sonoterm \| Exams' 5
check "completed exam is listed with its counts" wait_pane "completed .* 1 +1 +$FAMILY\\^$GIVEN  $PID" 5
check "new exam is listed unassigned" wait_pane 'draft .*\(unassigned\)' 3

# Resume: a new unassigned exam from the list becomes the current one, and
# the empty exam it replaces is dropped.
tmx send-keys -t flow u
check "u creates an exam in the list" wait_pane 'Unassigned exam [0-9a-f]{8} created' 3
THIRD=$(pane | sed -n 's/.*Unassigned exam \([0-9a-f]\{8\}\) created.*/\1/p' | head -1)
check "list shows two empty drafts" sh -c "[ \$(tmux -L $TMUX_SOCKET capture-pane -p -t flow | grep -c '^ draft ') -eq 2 ]"
tmx send-keys -t flow Enter
check "Enter resumes the exam on the live screen" wait_pane "Exam +$THIRD *\$" 5
tmx send-keys -t flow F9
check "F9 opens the exam list" wait_pane '^ Sonoterm \| Exams' 5
check "empty exam left behind was dropped" sh -c "[ \$(tmux -L $TMUX_SOCKET capture-pane -p -t flow | grep -c '^ draft ') -eq 1 ]"

# Deleting the current exam in the list moves the live screen to a new one.
tmx send-keys -t flow d
check "d asks to delete the current exam" wait_pane 'Delete exam [0-9a-f]{8} with its patient data' 3
tmx send-keys -t flow y
check "y deletes the exam" wait_pane 'Exam [0-9a-f]{8} deleted' 3
tmx send-keys -t flow F10
check "F10 goes back to the live screen" wait_pane '^ Sonoterm \| Live' 5
check "live screen moves to a new exam" wait_pane "Exam $THIRD was deleted; captures go to new exam [0-9a-f]{8}" 5
FOURTH=$(current_exam)
check "panel shows the new exam" sh -c "[ -n '$FOURTH' ] && [ '$FOURTH' != '$THIRD' ]"
tmx send-keys -t flow F10
check "station exits cleanly" wait_pane 'EXIT=0' 10

# The headless commands see the same exam.
"$SONOTERM" exams list --data-dir "$DATA" >"$TEST_TMP/list.out" 2>"$TEST_TMP/list.err"
check "headless list shows the completed exam with 1 still and 1 cine" \
	grep -Eq "^$FIRST[0-9a-f-]+ +completed +1 +1 " "$TEST_TMP/list.out"
check "headless list has no empty exams" test "$(grep -c '^[0-9a-f]\{8\}-' "$TEST_TMP/list.out")" -eq 1
check "headless list shows no patient data" sh -c "! grep -q '$PID\|Łukasiewicz' '$TEST_TMP/list.out'"
UUID=$(sed -n "s/^\($FIRST[0-9a-f-]*\) .*/\1/p" "$TEST_TMP/list.out")
"$SONOTERM" exams show "$UUID" --data-dir "$DATA" >"$TEST_TMP/show.out" 2>"$TEST_TMP/show.err"
check "exams show names the exam completed" grep -q '^state completed$' "$TEST_TMP/show.out"
check "exams show reports a patient without data" grep -q '^patient yes$' "$TEST_TMP/show.out"
check "still carries the caliper measurement" sh -c "grep -A3 '^part .* still ' '$TEST_TMP/show.out' |
	grep -Eq 'measurements \\[\\{\"x1_mm\": *[0-9.]+.*\"length_mm\": *[0-9.]+'"
check "cine has no measurement" sh -c "grep -A3 '^part .* cine ' '$TEST_TMP/show.out' |
	grep -q 'measurements \\[\\]'"
check "exams show prints no patient data" sh -c "! grep -q '$PID\|Łukasiewicz\|$BIRTH' '$TEST_TMP/show.out'"
"$SONOTERM" exams show "$UUID" --show-phi --data-dir "$DATA" >"$TEST_TMP/phi.out" 2>&1
check "--show-phi adds the patient" grep -q "$FAMILY\\^$GIVEN  $PID  $BIRTH" "$TEST_TMP/phi.out"
check "store passes its check" "$SONOTERM" exams check --data-dir "$DATA"
"$SONOTERM" exams show 00000000-0000-4000-8000-000000000000 --data-dir "$DATA" \
	>/dev/null 2>"$TEST_TMP/unknown.err"
rc=$?
check "exams show of an unknown exam exits 1 (got $rc)" test "$rc" -eq 1
check "exams show names the unknown exam" grep -q 'exam 00000000-0000-4000-8000-000000000000 not found' "$TEST_TMP/unknown.err"
"$SONOTERM" exams show not-a-uuid --data-dir "$DATA" >/dev/null 2>&1
rc=$?
check "exams show of a malformed UUID exits 2 (got $rc)" test "$rc" -eq 2

# Without a cloud in the configuration the queue key says what is missing.
shell_run "timeout --foreground 300 $SONOTERM --scanner 127.0.0.1:$PROBE_PORT --pin $PROBE_PIN" \
	"--data-dir $DATA --render ascii"
check "second start shows a new exam" wait_pane 'Exam +[0-9a-f]{8} *$' 15
tmx send-keys -t flow u
check "u without a cloud names the missing setting" wait_pane 'needs a \[cloud\] url in sonoterm.conf' 3
tmx send-keys -t flow q
check "second start exits cleanly" wait_pane 'EXIT=0' 10

# A third start with a cloud URL: u opens the exam queue, whose uploader
# queues the completed exam, with the login screen over it because no user
# is logged in.  Nothing listens at the URL.
printf '[cloud]\nurl = https://127.0.0.1:9\n' >"$TEST_TMP/cloud.conf"
shell_run "timeout --foreground 300 $SONOTERM --scanner 127.0.0.1:$PROBE_PORT --pin $PROBE_PIN" \
	"--config $TEST_TMP/cloud.conf --data-dir $DATA --render ascii"
check "third start shows a new exam" wait_pane 'Exam +[0-9a-f]{8} *$' 15
tmx send-keys -t flow u
check "u opens the login screen" wait_pane 'User name' 5
tmx send-keys -t flow F10
check "queue screen lists the completed exam" wait_pane "$FIRST +queued" 5
tmx send-keys -t flow F10
check "F10 returns from the queue" wait_pane '^ Sonoterm \| Live' 5
tmx send-keys -t flow q
check "third start exits cleanly" wait_pane 'EXIT=0' 10

LOG="$TEST_TMP/state/sonoterm/sonoterm.log"
check "station log exists" test -s "$LOG"
check "log records the completion" grep -q "exam $UUID completed from the live screen" "$LOG"
check "log carries no patient data" sh -c "! grep -q 'Müller\|Łukasiewicz\|$GIVEN\|$PID\|$BIRTH' '$LOG'"
if [ "$TEST_FAILED" -ne 0 ]; then
	echo "--- exams list" >&2
	cat "$TEST_TMP/list.out" "$TEST_TMP/list.err" >&2
	echo "--- exams show" >&2
	cat "$TEST_TMP/show.out" "$TEST_TMP/show.err" >&2
fi
finish
