#!/bin/sh
# The exam queue screen in tmux: it shows the queued exams' patients, and
# the lock (at once with l, and after the idle time) hides them until the
# logged-in user's password is typed; a wrong password keeps it locked.  The
# idle time comes from the test-only SONO_TEST_IDLE_SECONDS, so the test
# does not wait a minute; the login screen part checks that the site's
# idle_lock_minutes is read without it.
# Then the login screen, after a logout: a wrong password is named as such
# and the right one logs in offline.  The cloud is stopped after the
# captures so the exams stay queued.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

TMUX_TARGET=queue
. "$top_srcdir/tests/integration/tmux_lib.sh"

# shows_no_phi: the pane shows none of the patients' names, IDs or dates.
shows_no_phi() {
	pane >"$TEST_TMP/pane"
	! grep -qFf "$TEST_TMP/phi_words" "$TEST_TMP/pane"
}

start_probe_and_cloud
cloud_admin settings set idle_lock_minutes 1 || { fail "settings set"; finish; }
station_login >/dev/null || { fail "login"; finish; }
capture_n 2 3 || { fail "capture"; finish; }
stop_cloud

XDG_STATE_HOME="$TEST_TMP/state"
export XDG_STATE_HOME
# --foreground keeps sonoterm in the terminal's foreground process group;
# otherwise its first terminal setting stops it with SIGTTOU.
IDLE_SECONDS=6
tmx new-session -d -s queue -x 120 -y 30 \
	"SONO_TEST_IDLE_SECONDS=$IDLE_SECONDS timeout --foreground 300 '$SONOTERM' queue --config '$STATION_CONF' --data-dir '$STATION' 2>'$TEST_TMP/queue.err'"
if wait_pane "Zyxwaldt0, Ottilie \\(PID-UP-0\\)"; then
	pass "queue screen shows the first patient"
else
	fail "queue screen shows the first patient"
	cat "$TEST_TMP/queue.err" >&2
fi
check "queue screen shows the logged-in user" wait_pane "ana"

tmx send-keys -t queue l
check "l locks the screen" wait_pane "The station is locked"
check "the locked screen shows no patient data" shows_no_phi

tmx send-keys -t queue -l "wrong password"
tmx send-keys -t queue Enter
check "a wrong password is rejected" wait_pane "Wrong password"
check "the screen stays locked without patient data" shows_no_phi
check "the typed password is masked" sh -c "! tmux -L '$TMUX_SOCKET' capture-pane -p -t queue | grep -q 'wrong password'"

tmx send-keys -t queue -l "$USER_PW"
tmx send-keys -t queue Enter
check "the user's password unlocks the screen" wait_pane "Zyxwaldt1, Ottilie"

check "the screen stays unlocked while idle for less than the idle time" \
	sh -c "sleep $((IDLE_SECONDS - 3)); ! tmux -L '$TMUX_SOCKET' capture-pane -p -t queue | grep -q 'is locked'"
check "the screen locks itself after the idle time" wait_pane "The station is locked" 10
check "the idle-locked screen shows no patient data" shows_no_phi

tmx send-keys -t queue F10
sleep 0.5

# ---------------------------------------------------------------- login screen
station logout >/dev/null
check "logout with the cloud down ends the station's login (exit 4)" test $? -eq 4
tmx new-session -d -s login -x 120 -y 30 \
	"timeout --foreground 300 '$SONOTERM' queue --config '$STATION_CONF' --data-dir '$STATION'"
TMUX_TARGET=login
check "without a login the queue opens the login screen" wait_pane "Log in to the cloud"
tmx send-keys -t login -l "$USER_NAME"
tmx send-keys -t login Tab
tmx send-keys -t login -l "not the password of ana"
tmx send-keys -t login Enter
check "a wrong password on the login screen is named as such" \
	wait_pane "Wrong user name or password"
check "the login screen masks the password" sh -c "! tmux -L '$TMUX_SOCKET' capture-pane -p -t login | grep -q 'not the password'"
tmx send-keys -t login -l "$USER_PW"
tmx send-keys -t login Enter
check "the login screen logs in offline while the cloud is down" wait_pane "ana \(offline\)"
check "the queue is back after the login" wait_pane "Zyxwaldt0, Ottilie"
check "the idle time is the site's idle_lock_minutes without the test override" \
	grep -q "idle lock after 60 s for ana" "$XDG_STATE_HOME/sonoterm/sonoterm.log"
tmx send-keys -t login F10
sleep 0.5
check "no password in the station log" sh -c "! grep -rq '$USER_PW' '$XDG_STATE_HOME' '$STATION_LOG'"

finish
