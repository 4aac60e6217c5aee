#!/bin/sh
# `sonoterm doctor` checks the configured scanner and cloud with the
# station's TLS policy: a right pin is reported with the TLS suite and the
# scanner serial, a wrong pin names both fingerprints, and a closed port is
# reported unreachable.
. "$top_srcdir/tests/integration/lib.sh"

probe_port=$(free_port)
cloud_port=$(free_port)
export SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"

"$SONOPROBE" --source phantom --listen "127.0.0.1:$probe_port" --serial DOCTOR-7 \
	--identity "$TEST_TMP/probe" >"$TEST_TMP/probe.out" 2>"$TEST_TMP/probe.err" &
track $!
"$SONOCLOUD" init --data-dir "$TEST_TMP/cloud" --hostname localhost >"$TEST_TMP/init.out" 2>&1 ||
	fail "sonocloud init"
"$SONOCLOUD" serve --data-dir "$TEST_TMP/cloud" --listen "127.0.0.1:$cloud_port" \
	>"$TEST_TMP/cloud.out" 2>&1 &
track $!

wait_for_line "$TEST_TMP/probe.out" 20 '^listening' || fail "sonoprobe did not start"
wait_for_line "$TEST_TMP/cloud.out" 20 'serving https://' || fail "sonocloud did not start"
probe_pin=$(awk '/^fingerprint/ { print $2 }' "$TEST_TMP/probe.out")
cloud_pin=$(grep -o 'SHA256:[0-9a-f]*' "$TEST_TMP/init.out" | head -1)
wrong_pin="SHA256:$(printf '%064d' 0)"

write_config() {
	printf '[scanner]\naddress = %s\npin = %s\n[cloud]\nurl = %s\npin = %s\n' "$1" "$2" "$3" "$4" \
		>"$TEST_TMP/doctor.conf"
}

write_config "127.0.0.1:$probe_port" "$probe_pin" "https://127.0.0.1:$cloud_port" "$cloud_pin"
"$SONOTERM" doctor --config "$TEST_TMP/doctor.conf" </dev/null >"$TEST_TMP/ok.out" 2>&1
check "right scanner pin reports TLS 1.3 and the serial" \
	grep -q 'reachable, pin matches, TLSv1.3 TLS_AES_256_GCM_SHA384, serial DOCTOR-7' "$TEST_TMP/ok.out"
check "right cloud pin reports a verified certificate" \
	grep -q 'reachable, certificate verified, API answers (HTTP 401)' "$TEST_TMP/ok.out"

write_config "127.0.0.1:$probe_port" "$wrong_pin" "https://127.0.0.1:$cloud_port" "$wrong_pin"
"$SONOTERM" doctor --config "$TEST_TMP/doctor.conf" </dev/null >"$TEST_TMP/bad.out" 2>&1
check "wrong scanner pin names the presented fingerprint" \
	grep -q "TLS failed: certificate fingerprint $probe_pin does not match the pinned $wrong_pin" "$TEST_TMP/bad.out"
check "wrong cloud pin is a certificate mismatch" \
	grep -q "certificate mismatch: .*$cloud_pin does not match the pinned $wrong_pin" "$TEST_TMP/bad.out"

closed=$(free_port)
write_config "127.0.0.1:$closed" "$probe_pin" "https://127.0.0.1:$closed" "$cloud_pin"
"$SONOTERM" doctor --config "$TEST_TMP/doctor.conf" </dev/null >"$TEST_TMP/closed.out" 2>&1
check "closed scanner port is unreachable" grep -q "status: *unreachable: connect 127.0.0.1:$closed" "$TEST_TMP/closed.out"
check "closed cloud port is unreachable" grep -q "status: *unreachable:" "$TEST_TMP/closed.out"

finish
