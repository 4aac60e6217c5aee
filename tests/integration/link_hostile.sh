#!/bin/sh
# Hostile scanners: each case misbehaves on the first connection and serves
# valid frames on the next.  The station must log a reason, close the link,
# keep running, reconnect and receive frames, with bounded memory.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

HOSTILE="$top_srcdir/tests/integration/igtl_hostile.py"
make_cert hostile SN-HOSTILE || { echo "FAIL: openssl cannot create a certificate" >&2; exit 1; }
PIN=$CERT_PIN
make_cert impostor SN-HOSTILE || { echo "FAIL: openssl cannot create a certificate" >&2; exit 1; }
IMPOSTOR_PIN=$CERT_PIN
# Largest resident set accepted for link-test, in KB.  A client that
# believed a 65535x65535 header would need gigabytes.
RSS_MAX_KB=${RSS_MAX_KB:-400000}

# run_case CASE REASON CONNECTIONS [LINK-TEST OPTIONS]: serves CASE, runs
# link-test for 5 frames and checks the exit status, the logged reason, the
# "connections" line (established connections and errors) and the peak
# memory.
run_case() {
	name=$1 reason=$2 connections=$3
	shift 3
	python3 "$HOSTILE" --case "$name" --cert "$TEST_TMP/hostile.crt" --key "$TEST_TMP/hostile.key" \
		--wrong-cert "$TEST_TMP/impostor.crt" --wrong-key "$TEST_TMP/impostor.key" \
		--lifetime 40 >"$TEST_TMP/$name.srv" 2>"$TEST_TMP/$name.srverr" &
	track $!
	wait_for_line "$TEST_TMP/$name.srv" 10 '^listening ' || { fail "$name: server did not start"; return; }
	port=$(sed -n 's/^listening //p' "$TEST_TMP/$name.srv")
	/usr/bin/time -f 'maxrss_kb %M' -o "$TEST_TMP/$name.time" \
		"$SONOTERM" link-test --scanner "127.0.0.1:$port" --pin "$PIN" --frames 5 --timeout 30 "$@" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
	check "$name: link-test recovers and exits 0" test $? -eq 0
	check "$name: reason logged" grep -q -- "$reason" "$TEST_TMP/$name.err"
	check "$name: reconnected once" test "$(field "$TEST_TMP/$name.out" connections)" = "$connections"
	rss=$(sed -n 's/^maxrss_kb //p' "$TEST_TMP/$name.time")
	check "$name: peak memory ${rss} KB under $RSS_MAX_KB KB" test "${rss:-999999999}" -lt "$RSS_MAX_KB"
}

run_case body0 'IMAGE body of 0 bytes is shorter than its 72-byte header' '2 (errors: 1)'
run_case bodylarge 'needs 3072 pixel bytes; body has 3172' '2 (errors: 1)'
run_case overflow 'is a volume or a subvolume' '2 (errors: 1)'
run_case zero 'has a zero dimension' '2 (errors: 1)'
run_case huge 'IMAGE size 65535x65535 exceeds the maximum' '2 (errors: 1)'
run_case badcrc 'does not match the header' '2 (errors: 1)'
run_case truncated 'closed the connection in the middle of a message' '2 (errors: 1)'
run_case stall 'stalled after 500 body bytes' '2 (errors: 1)'
run_case slow 'message stalled after' '2 (errors: 1)'
run_case wrongcert 'does not match the pinned' '1 (errors: 1)' --keep-trying

# Without --keep-trying, the wrong certificate ends link-test with exit 3 and
# both fingerprints.
python3 "$HOSTILE" --case wrongcert --cert "$TEST_TMP/hostile.crt" --key "$TEST_TMP/hostile.key" \
	--wrong-cert "$TEST_TMP/impostor.crt" --wrong-key "$TEST_TMP/impostor.key" \
	--lifetime 20 --max-connections 1 >"$TEST_TMP/wc.srv" 2>/dev/null &
track $!
wait_for_line "$TEST_TMP/wc.srv" 10 '^listening ' || fail "wrongcert server did not start"
port=$(sed -n 's/^listening //p' "$TEST_TMP/wc.srv")
"$SONOTERM" link-test --scanner "127.0.0.1:$port" --pin "$PIN" --frames 5 --timeout 10 \
	>"$TEST_TMP/wc.out" 2>"$TEST_TMP/wc.err"
check "wrong certificate exits 3" test $? -eq 3
check "wrong certificate names the pin" grep -q "$PIN" "$TEST_TMP/wc.err"
check "wrong certificate names the impostor" grep -q "$IMPOSTOR_PIN" "$TEST_TMP/wc.err"

finish
