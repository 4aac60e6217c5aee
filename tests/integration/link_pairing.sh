#!/bin/sh
# Station pairing: sonoprobe with --allow-station and --stations streams only
# to stations whose certificate fingerprint is listed.  A paired station gets
# frames, while an unpaired one and an openssl client without a certificate
# are rejected and named in the probe's log.  Without a list, lab mode lets
# any station connect.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

PAIRED="$TEST_TMP/paired"
UNPAIRED="$TEST_TMP/unpaired"

# --- the station identity: created on first use, mode 0600, stable
"$SONOTERM" identity --data-dir "$PAIRED" >"$TEST_TMP/id1.out" 2>"$TEST_TMP/id1.err"
check "identity exits 0" test $? -eq 0
check "identity prints a SHA256 fingerprint" \
	grep -Eq '^fingerprint SHA256:[0-9a-f]{64}$' "$TEST_TMP/id1.out"
check "identity files are mode 0600" \
	test "$(stat -c %a "$PAIRED/station.crt") $(stat -c %a "$PAIRED/station.key")" = "600 600"
"$SONOTERM" identity --data-dir "$PAIRED" >"$TEST_TMP/id2.out" 2>"$TEST_TMP/id2.err"
check "identity is stable across runs" cmp "$TEST_TMP/id1.out" "$TEST_TMP/id2.out"
check "a second run creates nothing" test ! -s "$TEST_TMP/id2.err"
FP_PAIRED=$(sed -n 's/^fingerprint //p' "$TEST_TMP/id1.out")
FP_UNPAIRED=$("$SONOTERM" identity --data-dir "$UNPAIRED" 2>/dev/null | sed -n 's/^fingerprint //p')
check "another data folder has another identity" test "$FP_PAIRED" != "$FP_UNPAIRED"

# The default data folder is $XDG_DATA_HOME/sonoterm.
"$SONOTERM" identity >"$TEST_TMP/id3.out" 2>/dev/null
check "identity defaults to XDG_DATA_HOME" test -f "$XDG_DATA_HOME/sonoterm/station.crt"

# --- option errors
"$SONOPROBE" --allow-station SHA256:1234 --duration 1 >/dev/null 2>"$TEST_TMP/bad1.err"
check "malformed --allow-station exits 2" test $? -eq 2
printf '# stations\nnot-a-fingerprint\n' >"$TEST_TMP/bad.list"
"$SONOPROBE" --stations "$TEST_TMP/bad.list" --duration 1 >/dev/null 2>"$TEST_TMP/bad2.err"
check "malformed stations file exits 2" test $? -eq 2
check "malformed stations file names the line" grep -q 'bad.list:2: invalid fingerprint' \
	"$TEST_TMP/bad2.err"
# A valid fingerprint at the end of an overlong line must not be read as a
# line of its own.
{ printf '%0600d' 0; echo " $FP_PAIRED"; } >"$TEST_TMP/long.list"
"$SONOPROBE" --stations "$TEST_TMP/long.list" --duration 1 >/dev/null 2>"$TEST_TMP/long.err"
check "overlong stations line exits 2" test $? -eq 2
check "overlong stations line is named" grep -q 'long.list:1: line longer than' "$TEST_TMP/long.err"
"$SONOPROBE" --allow-station "$FP_PAIRED" --insecure-igtl --duration 1 \
	>/dev/null 2>"$TEST_TMP/bad3.err"
check "--allow-station with --insecure-igtl exits 2" test $? -eq 2

# --- paired mode: a stations file with comments plus a repeated option
{
	echo "# the ward station"
	echo "   $FP_PAIRED   # after the fingerprint"
	echo
} >"$TEST_TMP/stations.list"
OTHER="SHA256:$(printf '%064d' 7)"
start_probe paired --identity "$TEST_TMP/probe-id" --stations "$TEST_TMP/stations.list" \
	--allow-station "$OTHER" || { echo "FAIL: sonoprobe did not start" >&2; exit 1; }
check "paired mode does not warn about lab mode" \
	sh -c "! grep -q 'lab mode' '$TEST_TMP/paired.err'"

"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 10 \
	--data-dir "$PAIRED" >"$TEST_TMP/lt1.out" 2>"$TEST_TMP/lt1.err"
check "paired station exits 0" test $? -eq 0
check "paired station receives frames" test "$(field "$TEST_TMP/lt1.out" 'frames received')" = "10 of 10"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 10 \
	--data-dir "$PAIRED" --tls1.2 >"$TEST_TMP/lt2.out" 2>"$TEST_TMP/lt2.err"
check "paired station exits 0 over TLS 1.2" test $? -eq 0

for version in tls13 tls12; do
	extra=""
	[ "$version" = tls12 ] && extra="--tls1.2"
	# shellcheck disable=SC2086 # extra is one option or none
	"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 5 \
		--data-dir "$UNPAIRED" $extra >"$TEST_TMP/un-$version.out" 2>"$TEST_TMP/un-$version.err"
	check "$version: unpaired station exits 3" test $? -eq 3
	check "$version: unpaired station gets no frames" \
		test "$(field "$TEST_TMP/un-$version.out" 'frames received')" = "0 of 5"
	check "$version: the error names the rejected fingerprint" \
		grep -q "link-test: .*rejected this station's certificate $FP_UNPAIRED" \
		"$TEST_TMP/un-$version.err"
	check "$version: the error gives the pairing command" \
		grep -q "sonoprobe --allow-station $FP_UNPAIRED" "$TEST_TMP/un-$version.err"
done
# capture presents the identity kept next to the store in --data-dir.
printf 'patient_id = PAIR-1\nfamily_name = Test\n' >"$TEST_TMP/patient.txt"
"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 3 \
	--patient "$TEST_TMP/patient.txt" --data-dir "$UNPAIRED" >"$TEST_TMP/cap-un.out" \
	2>"$TEST_TMP/cap-un.err"
check "unpaired capture exits 3" test $? -eq 3
check "unpaired capture names the fingerprint" \
	grep -q "capture: .*rejected this station's certificate $FP_UNPAIRED" "$TEST_TMP/cap-un.err"
"$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 3 \
	--patient "$TEST_TMP/patient.txt" --data-dir "$PAIRED" >"$TEST_TMP/cap.out" \
	2>"$TEST_TMP/cap.err"
check "paired capture exits 0" test $? -eq 0
check "paired capture prints the exam" grep -Eq '^[0-9a-f-]{36}$' "$TEST_TMP/cap.out"

check "probe log names the rejected fingerprint" \
	wait_for_line "$TEST_TMP/paired.err" 10 "rejected certificate $FP_UNPAIRED"

echo | openssl s_client -connect "127.0.0.1:$PROBE_PORT" -ign_eof >"$TEST_TMP/nocert.out" 2>&1
check "a client without a certificate is rejected" \
	grep -q 'alert certificate required' "$TEST_TMP/nocert.out"
check "probe log names the missing certificate" \
	wait_for_line "$TEST_TMP/paired.err" 10 'did not return a certificate'

echo | openssl s_client -connect "127.0.0.1:$PROBE_PORT" -cert "$PAIRED/station.crt" \
	-key "$PAIRED/station.key" -ign_eof >"$TEST_TMP/withcert.out" 2>&1
check "openssl with the paired certificate receives the hello" \
	grep -q 'sonoprobe' "$TEST_TMP/withcert.out"

# A burst of rejected stations is logged at most once a second, with counts.
i=0
while [ "$i" -lt 30 ]; do
	openssl s_client -connect "127.0.0.1:$PROBE_PORT" -cert "$UNPAIRED/station.crt" \
		-key "$UNPAIRED/station.key" </dev/null >/dev/null 2>&1
	i=$((i + 1))
done
wait_for_line "$TEST_TMP/paired.err" 10 "rejected certificate $FP_UNPAIRED.*more since the last such message"
check "the log counts the rejections it skipped" test $? -eq 0
lines=$(grep -c "rejected certificate $FP_UNPAIRED" "$TEST_TMP/paired.err")
check "rejections logged at most once a second ($lines lines)" test "$lines" -le 12

# --- lab mode: no list, a warning, and any station may connect
start_probe lab --identity "$TEST_TMP/probe-id" ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }
check "lab mode warns that any station may connect" \
	grep -q 'any station that reaches this port may connect.*(lab mode)' "$TEST_TMP/lab.err"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 5 \
	--data-dir "$UNPAIRED" >"$TEST_TMP/lab.out" 2>"$TEST_TMP/lab-lt.err"
check "lab mode streams to an unpaired station" test $? -eq 0
echo | openssl s_client -connect "127.0.0.1:$PROBE_PORT" -ign_eof >"$TEST_TMP/labssl.out" 2>&1
check "lab mode streams to a client without a certificate" \
	grep -q 'sonoprobe' "$TEST_TMP/labssl.out"

finish
