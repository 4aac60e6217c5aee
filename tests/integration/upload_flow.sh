#!/bin/sh
# The station against the real sonocloud and sonoprobe: certificate and
# credential errors at login, twenty exams captured on a permitted scanner
# and uploaded (each on the cloud once with matching hashes, and no patient
# data left in the station's database, WAL or log), logout revoking the
# token, a revoked scanner refused after the next login, and offline login
# within the window and refused after it.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

start_probe_and_cloud

# ---------------------------------------------------------------- login errors
LOGIN_PIN=$PROBE_PIN station_login >"$TEST_TMP/out" 2>&1
check "login with a wrong cloud pin exits 3" test $? -eq 3
check "pin mismatch names the presented fingerprint" grep -q "${CLOUD_PIN#SHA256:}" "$STATION_LOG"
check "pin mismatch names the pinned fingerprint" grep -q "${PROBE_PIN#SHA256:}" "$STATION_LOG"
check "pin mismatch is reported as a certificate mismatch" \
	grep -q "login failed (certificate mismatch)" "$STATION_LOG"

station login --cloud "$CLOUD_URL" --user "$USER_NAME" --cloud-ca "$TEST_TMP/probe-id/scanner.crt" \
	--password-file "$PW_FILE" >/dev/null
check "login with a CA that did not issue the cloud's certificate exits 3" test $? -eq 3
check "CA mismatch names the verification error" \
	grep -q "certificate was rejected: .*certificate" "$STATION_LOG"

printf 'not the password of ana\n' >"$TEST_TMP/wrong"
station login --cloud "$CLOUD_URL" --user "$USER_NAME" --cloud-pin "$CLOUD_PIN" \
	--password-file "$TEST_TMP/wrong" >/dev/null
check "login with a wrong password exits 1" test $? -eq 1
check "wrong password is reported as wrong credentials" \
	grep -q "login failed (wrong credentials)" "$STATION_LOG"

station login --cloud "$CLOUD_URL" --user "$USER_NAME" --cloud-ca "$CLOUD_CERT" \
	--password-file "$PW_FILE" >"$TEST_TMP/out"
check "login with the cloud's CA file succeeds" test $? -eq 0
station_login >"$TEST_TMP/out"
check "login with the cloud pin succeeds" test $? -eq 0
check "login prints the user and role" grep -q "as ana (clinician)" "$TEST_TMP/out"
check "configuration keeps the cloud URL" grep -q "^url = $CLOUD_URL" "$STATION_CONF"
check "configuration keeps the cloud pin" grep -q "^pin = $CLOUD_PIN" "$STATION_CONF"
check "configuration file has mode 0600" test "$(stat -c %a "$STATION_CONF")" = 600

# ---------------------------------------------------------------- twenty exams
capture_n 20 3
check "twenty exams captured on the permitted scanner without --pin" \
	test "$(wc -l <"$TEST_TMP/uuids")" -eq 20
station upload --wait >"$TEST_TMP/upload.out"
check "upload --wait exits 0" test $? -eq 0
check "upload reports an empty queue" grep -q "the upload queue is empty; 20 exams uploaded" \
	"$TEST_TMP/upload.out"
check "upload printed progress" grep -q "% of " "$TEST_TMP/upload.out"
check_cloud_exams >"$TEST_TMP/cloud-check.out"
check "every exam is on the cloud once with matching hashes" test $? -eq 0
cat "$TEST_TMP/cloud-check.out"
"$SONOTERM" exams list --data-dir "$STATION" >"$TEST_TMP/list.out" 2>>"$STATION_LOG"
check "the station keeps twenty tombstones" test "$(grep -c uploaded "$TEST_TMP/list.out")" -eq 20
check_no_phi "$STATION_LOG"
station upload >/dev/null
check "upload with an empty queue exits 0" test $? -eq 0

# ---------------------------------------------------------------- logout
token=$(printf 'SELECT token FROM cloud_session;\n' | sqlcipher_run "$STATION" | grep -E '^[0-9a-f]{64}$')
check "the station keeps the token only inside the encrypted store" test -n "$token"
check "the token appears in no station file in clear" \
	sh -c "! grep -rqa '$token' '$STATION' '$STATION_CONF' '$STATION_LOG'"
station logout >/dev/null
check "logout exits 0" test $? -eq 0
status=$(curl -sS --max-time 30 --cacert "$CLOUD_CERT" -o /dev/null -w '%{http_code}' \
	-H "Authorization: Bearer $token" "$CLOUD_URL/api/v1/me")
check "logout revoked the token on the cloud" test "$status" = 401
station upload >/dev/null 2>&1
check "upload without a login exits 1" test $? -eq 1

# ---------------------------------------------------------------- scanner permission
"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --frames 2 --patient "$TEST_TMP/patient" \
	--data-dir "$STATION" >/dev/null 2>"$TEST_TMP/capture.err"
check "capture without --pin and without a login exits 3" test $? -eq 3
check "capture explains that nobody is logged in" grep -q "nobody is logged in" "$TEST_TMP/capture.err"
station login --user "$USER_NAME" --password-file "$PW_FILE" >/dev/null
check "login again from the saved configuration" test $? -eq 0
cloud_admin revoke "$USER_NAME" "$SCANNER_SERIAL"
check "revoke on the cloud" test $? -eq 0
station login --user "$USER_NAME" --password-file "$PW_FILE" >/dev/null
"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --frames 2 --patient "$TEST_TMP/patient" \
	--data-dir "$STATION" >/dev/null 2>"$TEST_TMP/capture.err"
check "a revoked scanner is refused after the next login (exit 3)" test $? -eq 3
check "the refusal says the user is not permitted any scanner" \
	grep -q "not permitted any scanner" "$TEST_TMP/capture.err"
# The live view shows the same refusal on screen, in place of the image.
TMUX_TARGET=refused
. "$top_srcdir/tests/integration/tmux_lib.sh"
tmx new-session -d -s refused -x 120 -y 30 \
	"XDG_STATE_HOME='$TEST_TMP/state' '$SONOTERM' --scanner 127.0.0.1:$PROBE_PORT \
	--config '$STATION_CONF' --data-dir '$STATION'; echo EXIT=\$?; sleep 60"
check "the live view refuses the revoked scanner too" wait_pane 'cannot open on this scanner' 60
check "the live view explains the refusal" wait_pane 'not permitted any scanner' 5
tmx send-keys -t refused F10
check "the refused live view quits on F10" wait_pane 'EXIT=0' 15
"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 2 \
	--patient "$TEST_TMP/patient" --data-dir "$STATION" >/dev/null 2>>"$STATION_LOG"
check "the direct --scanner/--pin mode stays available" test $? -eq 0

# ---------------------------------------------------------------- offline login
stop_cloud
station login --user "$USER_NAME" --password-file "$PW_FILE" >"$TEST_TMP/out"
check "offline login within the window exits 0" test $? -eq 0
check "offline login says so" grep -q "logged in offline as ana" "$TEST_TMP/out"
station login --user "$USER_NAME" --password-file "$TEST_TMP/wrong" >/dev/null
check "offline login with a wrong password exits 1" test $? -eq 1
station upload >/dev/null
check "upload exits 1 after an offline login" test $? -eq 1
check "upload waits for an online login" grep -q "upload: ana is logged in offline" "$STATION_LOG"
printf 'UPDATE cloud_verifiers SET online_at = online_at - 8 * 86400;\n' | sqlcipher_run "$STATION"
station login --user "$USER_NAME" --password-file "$PW_FILE" >/dev/null
check "offline login after the 7-day window exits 4" test $? -eq 4
check "the refusal names the window" grep -q "past the offline window of 7 days" "$STATION_LOG"
check "no password in the station log" sh -c "! grep -q '$USER_PW' '$STATION_LOG'"

finish
