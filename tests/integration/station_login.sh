#!/bin/sh
# The station's start-up login against the real sonocloud and sonoprobe.
# With a cloud URL configured and no --pin, sonoterm opens the login screen
# first; after the login the live screen opens on the permitted scanner.
# o logs out (after a y) and the login screen comes back, as does F2 on the
# lock screen.  A scanner the user is not permitted is refused on screen
# with the reason, and closing the login screen quits.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

TMUX_TARGET=login
. "$top_srcdir/tests/integration/tmux_lib.sh"

start_probe probe --serial "$SCANNER_SERIAL" --identity "$TEST_TMP/probe-id" --duration 300 ||
	{ fail "sonoprobe did not start"; finish; }
GOOD_PORT=$PROBE_PORT
GOOD_PIN=$PROBE_PIN
start_probe other --serial SN-NOT-GRANTED --identity "$TEST_TMP/other-id" --duration 300 ||
	{ fail "second sonoprobe did not start"; finish; }
OTHER_PORT=$PROBE_PORT
PROBE_PIN=$GOOD_PIN # setup_cloud registers this pin for the granted serial
setup_cloud || { cat "$TEST_TMP/cloud-admin.out" "$CLOUD_LOG.now" >&2; fail "cloud setup"; finish; }
# The headless login saves the cloud URL and pin; the logout leaves the
# station with a configured cloud and nobody logged in.
station_login >/dev/null || { fail "login"; finish; }
station logout >/dev/null || { fail "logout"; finish; }
SCREEN_LOG="$TEST_TMP/state/sonoterm/sonoterm.log"

start_shell 150 40 "$STATION_ENV" "$NO_PROXY_ENV"

# station_run PORT: starts the screens on the scanner at PORT without --pin.
station_run() {
	shell_run "timeout --foreground 300 $SONOTERM --scanner 127.0.0.1:$1" \
		"--config $STATION_CONF --data-dir $STATION --render ascii"
}

# type_login: logs ana in on the login screen, which starts on the user name.
# A login runs PBKDF2 on the cloud and the station, which takes seconds
# under the sanitizers, so the waits after it are long.
type_login() {
	tmx send-keys -t login -l "$USER_NAME"
	tmx send-keys -t login Enter
	tmx send-keys -t login -l "$USER_PW"
	tmx send-keys -t login Enter
}

station_run "$GOOD_PORT"
check "start without a login opens the login screen" wait_pane 'Log in to the cloud' 10
check "login screen shows the configured cloud" wait_pane "Cloud URL +$CLOUD_URL" 2

# The cloud is stopped (SIGSTOP) while the first login runs, so the station
# waits in the TLS handshake and the pane can be read mid-login.  The
# station gives up on the handshake after 10 s (connect_timeout), and the
# steps until SIGCONT take much less.  Typed meanwhile: a second Enter,
# which must not submit again, and the right password, which must end up
# in the emptied password field.
tmx send-keys -t login -l "$USER_NAME"
tmx send-keys -t login Enter
tmx send-keys -t login -l "wrong horse battery"
CLOUD_SERVER_PID=$(pgrep -P "$CLOUD_PID")
kill -STOP "$CLOUD_SERVER_PID"
tmx send-keys -t login Enter
check "login says it checks the password with the cloud" \
	wait_pane "Checking password: contacting the cloud at 127\.0\.0\.1:$CLOUD_PORT\.\.\." 8
tmx send-keys -t login Enter
tmx send-keys -t login -l "$USER_PW"
kill -CONT "$CLOUD_SERVER_PID"
check "wrong password stays on the login screen" wait_pane 'Wrong user name or password' 60
check "password typed during the check is kept" wait_pane "Password +\*{${#USER_PW}}( |\$)" 10
check "Enter typed during the check does not submit again" \
	test "$(grep -c 'login on the login screen failed' "$SCREEN_LOG")" -eq 1
tmx send-keys -t login Enter
check "login opens the live screen on the permitted scanner" wait_pane 'Link +connected' 60
check "live screen status names the scanner serial" wait_pane "$SCANNER_SERIAL" 5

tmx send-keys -t login o
check "o asks before logging out" wait_pane 'Log out ana\? y' 3
tmx send-keys -t login n
check "another key keeps the login" wait_pane 'Still logged in as ana' 3
tmx send-keys -t login o
wait_pane 'Log out ana\? y' 3 >/dev/null
tmx send-keys -t login y
check "logout returns to the login screen" wait_pane 'Log in to the cloud' 10
check "logout revoked the token on the cloud" wait_for_line "$SCREEN_LOG" 5 'ana logged out$'
check "station has no login after the logout" sh -c "! '$SONOTERM' upload --config '$STATION_CONF' --data-dir '$STATION' >/dev/null 2>&1"
type_login
check "login again opens the live screen" wait_pane 'Link +connected' 60
tmx send-keys -t login l
check "l locks the live screen" wait_pane 'The station is locked' 5
tmx send-keys -t login F2
check "F2 on the lock logs out to the login screen" wait_pane 'Log in to the cloud' 20
type_login
check "login after the lock's logout opens the live screen" wait_pane 'Link +connected' 60
tmx send-keys -t login q
check "q on the live screen quits" wait_pane 'EXIT=0' 15

# A valid login skips the login screen; a scanner not granted is refused.
station_run "$OTHER_PORT"
check "refusal is shown on screen" wait_pane 'cannot open on this scanner' 20
check "refusal names the reason" wait_pane 'not among the 1 scanners this user is' 2
tmx send-keys -t login Enter
check "Enter tries the scanner again" wait_pane 'cannot open on this scanner' 20
tmx send-keys -t login o
check "o on the refusal returns to the login screen" wait_pane 'Log in to the cloud' 10
tmx send-keys -t login F10
check "closing the login screen quits" wait_pane 'EXIT=0' 15
check "no password in the station log" sh -c "! grep -rq '$USER_PW' '$TEST_TMP/state' '$STATION_LOG'"
finish
