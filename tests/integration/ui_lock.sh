#!/bin/sh
# The idle lock over every screen of the station, against the real sonocloud
# and sonoprobe.  With ana logged in, the lock covers the patient form while
# a patient is being typed and the live screen while it shows the image:
# the pane then shows neither the patient nor any image cell.  A wrong
# password keeps the lock and ana's password lifts it; l locks at once.
# Without a login (the direct --pin mode) nothing locks.  The idle time
# comes from the test-only SONO_TEST_IDLE_SECONDS.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

TMUX_TARGET=lock
. "$top_srcdir/tests/integration/tmux_lib.sh"

# Long enough for the steps between two locks on a loaded machine.
IDLE_SECONDS=8
SCREEN_LOG="$TEST_TMP/state/sonoterm/sonoterm.log"
HALF_BLOCK='▀'

start_probe_and_cloud
station_login >/dev/null || { fail "login"; finish; }

FAMILY='Vandersloot-Quim'
GIVEN='Eudora'
PID='LOCK-7713'


# shows_no_patient: the pane shows none of the patient's fields.
shows_no_patient() {
	! pane | grep -Eq -- "$FAMILY|$GIVEN|$PID"
}

# body_only_lock: every body row (between status line and key bar) is blank
# or one of the lock screen's own lines, so no image cell is left.
body_only_lock() {
	pane | sed '1d;$d' | grep -v -e 'The station is locked' -e 'type the password' \
		-e 'press F2 to log' -e 'Password:' -e 'Wrong password' | grep -q '[^ ]' && return 1
	return 0
}

# stays_unlocked SECONDS: the pane shows no lock for that long.
stays_unlocked() {
	sleep "$1"
	! pane | grep -q 'The station is locked'
}

start_shell 150 40 "$STATION_ENV" "$NO_PROXY_ENV"
shell_run "SONO_TEST_IDLE_SECONDS=$IDLE_SECONDS timeout --foreground 300" \
	"$SONOTERM --scanner 127.0.0.1:$PROBE_PORT --config $STATION_CONF --data-dir $STATION" \
	"--render halfblock"

check "live screen opens on the permitted scanner" wait_pane 'Link +connected' 40
check "live screen shows the image in half-blocks" wait_pane "$HALF_BLOCK" 5

# ------------------------------------------------------ over the patient form
tmx send-keys -t lock a
check "a opens the patient form" wait_pane 'Patient of exam' 5
tmx send-keys -t lock -l "$PID"
tmx send-keys -t lock Down
tmx send-keys -t lock -l "$FAMILY"
tmx send-keys -t lock Down
tmx send-keys -t lock -l "$GIVEN"
check "patient form shows the typed patient" wait_pane "$FAMILY" 5
check "idle lock covers the patient form" wait_pane 'The station is locked' $((IDLE_SECONDS + 5))
check "locked pane shows no patient" shows_no_patient
check "locked status line names the user" wait_pane '^ Sonoterm \| Locked \| locked for ana' 2
tmx send-keys -t lock -l "$USER_PW"
tmx send-keys -t lock Enter
check "password brings the patient form back" wait_pane "$FAMILY" 40
tmx send-keys -t lock F2
check "patient is saved" wait_pane 'Patient +entered *$' 5

# ------------------------------------------------------ over the live screen
check "live image is painted again" wait_pane "$HALF_BLOCK" 5
check "idle lock covers the live screen" wait_pane 'The station is locked' $((IDLE_SECONDS + 5))
check "locked pane has no image cell" sh -c "! tmux -L '$TMUX_SOCKET' capture-pane -p -t lock | grep -q '$HALF_BLOCK'"
check "locked body shows only the lock" body_only_lock
check "locked pane stays empty while frames arrive" sh -c "sleep 1; ! tmux -L '$TMUX_SOCKET' capture-pane -p -t lock | grep -q '$HALF_BLOCK'"
# One send-keys writes both Enters and the x at once, so the second Enter
# and the x arrive while the first check runs.  The x shows up as one
# masked character once the station has handled every key before it.  The
# "Checking password" message lasts only as long as the check, so it is
# read from the terminal output that tmux records.
tmx pipe-pane -t lock -o "cat >'$TEST_TMP/unlock.out'"
tmx send-keys -t lock -l "not the password"
tmx send-keys -t lock Enter Enter x
check "wrong password is rejected" wait_pane 'Wrong password' 40
check "key typed during the check is kept" wait_pane 'Password: \* *$' 40
tmx pipe-pane -t lock
check "unlock shows that it checks the password" grep -q 'Checking password' "$TEST_TMP/unlock.out"
check "Enter typed during the check does not submit again" \
	test "$(grep -c 'wrong password at the lock screen' "$SCREEN_LOG")" -eq 1
check "rejected unlock shows only the lock" body_only_lock
check "typed password is masked" sh -c "! tmux -L '$TMUX_SOCKET' capture-pane -p -t lock | grep -q 'not the password'"
tmx send-keys -t lock BSpace
tmx send-keys -t lock -l "$USER_PW"
tmx send-keys -t lock Enter
check "password brings the live image back" wait_pane "$HALF_BLOCK" 40
check "unlocked live screen names the link" wait_pane 'Link +connected' 5

tmx send-keys -t lock l
check "l locks the live screen at once" wait_pane 'The station is locked' 3
check "l-locked pane has no image cell" sh -c "! tmux -L '$TMUX_SOCKET' capture-pane -p -t lock | grep -q '$HALF_BLOCK'"
tmx send-keys -t lock -l "$USER_PW"
tmx send-keys -t lock Enter
check "password unlocks after l" wait_pane "$HALF_BLOCK" 40
tmx send-keys -t lock q
check "station exits cleanly" wait_pane 'EXIT=0' 15

# ------------------------------------------------------ no login, no lock
station logout >/dev/null
check "logout succeeds" test $? -eq 0
shell_run "SONO_TEST_IDLE_SECONDS=2 timeout --foreground 300" \
	"$SONOTERM --scanner 127.0.0.1:$PROBE_PORT --pin $PROBE_PIN --data-dir $STATION" \
	"--config $STATION_CONF --render halfblock"
check "direct --pin mode opens the live screen without a login" wait_pane 'Link +connected' 20
check "direct mode without a login does not lock" stays_unlocked 4
tmx send-keys -t lock l
check "l without a login says why it does not lock" wait_pane 'Nobody is logged in' 3
tmx send-keys -t lock q
check "direct mode exits cleanly" wait_pane 'EXIT=0' 15
check "no password in the station log" sh -c "! grep -rq '$USER_PW' '$TEST_TMP/state' '$STATION_LOG'"
finish
