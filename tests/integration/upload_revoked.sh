#!/bin/sh
# The station's session ends on the cloud while it uploads: the upload stops
# with "log in again" and exit 1 instead of retrying, the exam stays in the
# queue, and after a new login it is uploaded once with its hashes.  The
# session ends twice: ana is disabled on the real sonocloud during a part,
# and a TLS-terminating proxy replies to a part with 401 and then resets
# the connection while the station still sends the part.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

start_probe_and_cloud
printf '[upload]\nbackoff_min_ms = 200\nbackoff_max_ms = 2000\nmax_attempts = 50\n' >"$STATION_CONF"

# exam_state UUID: prints the station's state of the exam.
exam_state() {
	printf "SELECT state FROM exams WHERE uuid = '%s';\n" "$1" | sqlcipher_run "$STATION" |
		grep -E '^[a-z]+$'
}

# check_halted_for_login NAME UUID: checks the outcome of an upload whose
# session the cloud refused, recorded in $TEST_TMP/NAME.err and exit code rc.
check_halted_for_login() {
	check "$1: upload exits 1" test "$rc" -eq 1
	check "$1: upload asks to log in again" grep -q "log in again" "$TEST_TMP/$1.err"
	check "$1: no attempt was retried" sh -c "! grep -q 'exam $2: attempt .* retrying' '$STATION_LOG'"
	check "$1: exam is still queued" test "$(exam_state "$2")" = queued
}

# ---------------------------------------------------------------- disabled during a part
# The relay holds the upload in the middle of the first part, which the
# cloud accepted with the session still valid.  The next request of the
# exam then carries a revoked token.
HOLD_PORT=$(free_port)
start_relay hold hold "$HOLD_PORT" "$CLOUD_PORT" 300000 "$TEST_TMP/resume" ||
	{ fail "hold relay did not start"; finish; }
LOGIN_URL="https://127.0.0.1:$HOLD_PORT" station_login >/dev/null
check "login through the hold relay" test $? -eq 0
capture_n 1 12
first=$(tail -1 "$TEST_TMP/uuids")
timeout 120 "$SONOTERM" upload --wait --config "$STATION_CONF" --data-dir "$STATION" \
	>"$TEST_TMP/disabled.out" 2>"$TEST_TMP/disabled.err" &
UPLOAD_PID=$!
track "$UPLOAD_PID"
if wait_for_line "$TEST_TMP/hold.out" 60 '^held'; then
	cloud_admin user disable "$USER_NAME"
	check "disable ana during the upload" test $? -eq 0
else
	fail "the upload never reached the hold"
fi
touch "$TEST_TMP/resume"
wait "$UPLOAD_PID"
rc=$?
cat "$TEST_TMP/disabled.err" >>"$STATION_LOG"
check_halted_for_login disabled "$first"
check "the cloud rejected the revoked token" grep -q "401 invalid_token" "$CLOUD_LOG.now"

cloud_admin user enable "$USER_NAME"
check "enable ana again" test $? -eq 0

# ---------------------------------------------------------------- 401, then a reset
make_cert relay SN-RELAY || { fail "openssl could not make the relay certificate"; finish; }
RESET_PORT=$(free_port)
start_relay proxy reset "$RESET_PORT" "$CLOUD_PORT" "$TEST_TMP/relay.crt" "$TEST_TMP/relay.key" \
	"$CLOUD_CERT" || { fail "reset proxy did not start"; finish; }
LOGIN_URL="https://127.0.0.1:$RESET_PORT" LOGIN_PIN=$CERT_PIN station_login >/dev/null
check "login through the reset proxy" test $? -eq 0
timeout 120 "$SONOTERM" upload --wait --config "$STATION_CONF" --data-dir "$STATION" \
	>"$TEST_TMP/reset.out" 2>"$TEST_TMP/reset.err"
rc=$?
cat "$TEST_TMP/reset.err" >>"$STATION_LOG"
check "the proxy answered a part with 401 and a reset" \
	grep -q "^PUT /api/v1/exams/$first/parts/[0-9]* 401 reset" "$TEST_TMP/proxy.out"
check_halted_for_login reset "$first"

# ---------------------------------------------------------------- nothing lost
station_login >/dev/null
check "login directly to the cloud" test $? -eq 0
timeout 120 "$SONOTERM" upload --wait --config "$STATION_CONF" --data-dir "$STATION" \
	>"$TEST_TMP/final.out" 2>>"$STATION_LOG"
check "upload after the new login exits 0" test $? -eq 0
check "the exam is on the cloud once with the station's hashes" check_cloud_exams
check_no_phi "$STATION_LOG" "$CLOUD_LOG.now"

stop_cloud
if [ "$TEST_FAILED" -ne 0 ]; then
	echo "--- upload through the reset proxy"
	cat "$TEST_TMP/reset.out" "$TEST_TMP/reset.err" "$TEST_TMP/proxy.out"
	echo "--- station log"
	tail -n 40 "$STATION_LOG"
fi
finish
