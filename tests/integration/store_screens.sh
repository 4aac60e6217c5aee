#!/bin/sh
# The exam list and patient entry screens driven through tmux.  A hostile
# name is rendered inert, and the columns stay aligned next to a CJK name.
# The patient form rejects an impossible date inline and creates an exam
# with a valid one.  An unassigned exam gets a patient attached, and delete
# waits for a confirming y.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/station.log"
TMUX_TARGET=st
. "$top_srcdir/tests/integration/tmux_lib.sh"

start_probe probe --identity "$TEST_TMP/probe" --serial SP-SCREEN-1 || { fail "sonoprobe did not start"; finish; }
cjk=$(printf '\345\261\261\347\224\260')
rlo=$(printf '\342\200\256')
printf 'patient_id = SCR-1\nfamily_name = %s\ngiven_name = Hanako\n' "$cjk" >"$TEST_TMP/p1"
printf 'patient_id = SCR-2\nfamily_name = %sWidelow\ngiven_name = Ren\n' "$rlo" >"$TEST_TMP/p2"
capture "$DATA" "$TEST_TMP/p1" 2 --log "$LOG" >/dev/null
capture "$DATA" "$TEST_TMP/p2" 2 --log "$LOG" >/dev/null
# A name with an OSC 52 clipboard write, stored behind the validation's back.
printf '%s\n' "UPDATE patients SET given_name = 'Ren' || char(27) || ']52;c;ZXZpbA==' || char(7)" \
	" WHERE patient_id = 'SCR-2';" | sqlcipher_run "$DATA" >/dev/null 2>&1

start_shell 110 30 "$STATION_ENV"
shell_run "$SONOTERM exams browse --data-dir $DATA"

check "exam list shows both exams" wait_pane 'completed .*Widelow\^Ren  SCR-2' 10
check "CJK name is listed" wait_pane "completed .*$cjk\\^Hanako  SCR-1" 3
check "no RLO reaches the pane" sh -c "! tmux -L $TMUX_SOCKET capture-pane -p -t st | grep -q '$rlo'"
check "OSC 52 payload is not shown" sh -c "! tmux -L $TMUX_SOCKET capture-pane -p -t st | grep -q 'ZXZpbA'"
clip=$(tmx show-buffer 2>/dev/null)
check "nothing reached the clipboard" test -z "$clip"
# The counts column sits at the same terminal column on both rows: the
# CJK row is shorter in characters but not in columns.
cols=$(pane | grep -E 'completed' | while IFS= read -r line; do
	printf '%s' "$line" | sed 's/ SCR-.*//' | wc -L
done | sort -u | wc -l)
check "rows are aligned by terminal columns" test "$cols" -eq 1

# A new exam through the patient form: an impossible date first.
tmx send-keys -t st n
check "n opens the patient form" wait_pane 'New exam: patient' 3
tmx send-keys -t st -l 'FORM-9'
tmx send-keys -t st Down
tmx send-keys -t st -l 'Formtester'
tmx send-keys -t st Down Down Down
tmx send-keys -t st -l '2023-02-30'
check "impossible date is flagged inline" wait_pane 'Birth date: no such calendar date' 3
tmx send-keys -t st F2
check "save is refused while the date is invalid" wait_pane 'Birth date: no such calendar date' 3
tmx send-keys -t st BSpace BSpace
tmx send-keys -t st -l '28'
tmx send-keys -t st Down Down Down Down Down Down
tmx send-keys -t st -l 'Bad Type'
check "invalid exam type is flagged inline" wait_pane 'Exam type: use up to 31 lowercase' 3
tmx send-keys -t st F2
check "save is refused while the exam type is invalid" wait_pane 'Exam type: use up to 31' 3
tmx send-keys -t st BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
tmx send-keys -t st -l 'abdomen'
tmx send-keys -t st F2
check "valid form creates the exam" wait_pane 'draft .*Formtester  FORM-9' 5

# An unassigned exam, then a patient attached to it.
tmx send-keys -t st u
check "u creates an unassigned exam" wait_pane 'draft .*\(unassigned\)' 3
tmx send-keys -t st a
check "a opens the attach form" wait_pane 'Attach a patient' 3
tmx send-keys -t st -l 'ATT-1'
tmx send-keys -t st Down
tmx send-keys -t st -l 'Attachly'
tmx send-keys -t st F2
check "attached patient is listed" wait_pane 'draft .*Attachly  ATT-1' 5

# Delete waits for confirmation, and any key but y keeps the exam.
tmx send-keys -t st d
check "d asks for confirmation" wait_pane 'Delete exam .* y: delete' 3
tmx send-keys -t st n
sleep 0.3
check "n keeps the exam" wait_pane 'Attachly  ATT-1' 2
tmx send-keys -t st d
wait_pane 'y: delete' 3 >/dev/null
tmx send-keys -t st y
check "y deletes the exam" wait_pane 'Exam [0-9a-f]{8} deleted' 3
check "deleted exam is gone from the list" sh -c "! tmux -L $TMUX_SOCKET capture-pane -p -t st | grep -q Attachly"

tmx send-keys -t st F10
check "F10 leaves the screen" wait_pane 'EXIT=0' 5
listed=$("$SONOTERM" exams list --data-dir "$DATA" --log "$LOG" | grep -c draft)
check "one draft exam remains ($listed)" test "$listed" -eq 1
n=0
for word in Formtester FORM-9 Attachly Hanako Widelow "$cjk"; do
	n=$((n + 1))
	check "logs have no test patient value $n" \
		sh -c "! grep -rq -- '$word' '$LOG' '$TEST_TMP/state'"
done

finish
