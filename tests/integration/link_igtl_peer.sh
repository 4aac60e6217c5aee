#!/bin/sh
# The OpenIGTLink reference library as an independent peer, both ways:
# link-test decodes IMAGE, STRING and STATUS messages the library packed, and
# the library checks sonoprobe's plain-mode messages with its own CRC and
# unpacking.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

PEER="$top_builddir/tests/integration/igtl_peer"
if [ ! -x "$PEER" ]; then
	echo "skip: igtl_peer was not built (configure found no libopenigtlink-dev)"
	exit 77
fi

# --- library server -> station
mkdir "$TEST_TMP/peer" "$TEST_TMP/dump"
"$PEER" serve 40 "$TEST_TMP/peer" >"$TEST_TMP/peer.out" 2>"$TEST_TMP/peer.err" &
track $!
wait_for_line "$TEST_TMP/peer.out" 10 '^listening ' || { echo "FAIL: igtl_peer did not start" >&2; exit 1; }
PORT=$(sed -n 's/^listening //p' "$TEST_TMP/peer.out")
"$SONOTERM" link-test --scanner "127.0.0.1:$PORT" --insecure-igtl --frames 20 \
	--dump "$TEST_TMP/dump" >"$TEST_TMP/lt.out" 2>"$TEST_TMP/lt.err"
check "link-test decodes 20 library frames" test $? -eq 0
check "plain mode is reported" test "$(field "$TEST_TMP/lt.out" tls)" = "none (plain OpenIGTLink)"
check "library STRING hello decoded" test "$(field "$TEST_TMP/lt.out" 'scanner model')" = "OpenIGTLink library peer"
check "plain mode warns" grep -q 'unencrypted' "$TEST_TMP/lt.err"
rgb=0 gray=0
for f in "$TEST_TMP"/dump/frame-*; do
	case "$f" in
	*.ppm) cmp -s "$f" "$TEST_TMP/peer/expected-rgb.ppm" && rgb=$((rgb + 1)) || fail "RGB dump $f differs" ;;
	*.pgm) cmp -s "$f" "$TEST_TMP/peer/expected-gray.pgm" && gray=$((gray + 1)) || fail "gray dump $f differs" ;;
	esac
done
check "RGB library frames equal byte for byte" test "$rgb" -gt 0
check "gray library frames equal byte for byte" test "$gray" -gt 0

# --- sonoprobe (plain) -> library client
start_probe plain --insecure-igtl --source "dicom:$ULTRASOUND/US1_UNCR.dcm" -v ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }
check "probe warns about plain mode" grep -q 'without TLS' "$TEST_TMP/plain.err"
"$PEER" check "$PROBE_PORT" 40 >"$TEST_TMP/check.out" 2>"$TEST_TMP/check.err"
check "library accepts 40 probe frames with CRC and unpacking" test $? -eq 0
check "library sees the 640x480 RGB frame" grep -q '^image 640x480 components 3' "$TEST_TMP/check.out"
check "library reads the hello" grep -q '^string {"serial":' "$TEST_TMP/check.out"
check "library reads the status" grep -q '^status {"battery_pct":' "$TEST_TMP/check.out"
check "hello carries no patient attribute" sh -c "! grep -q -i 'patient' '$TEST_TMP/check.out'"
wait_for_line "$TEST_TMP/plain.err" 5 'depth 80 mm, gain 6.0 dB'
check "probe applies the library's control STRING" grep -q 'depth 80 mm, gain 6.0 dB' "$TEST_TMP/plain.err"

finish
