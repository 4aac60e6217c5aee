#!/bin/sh
# Scanner link over TLS: link-test against sonoprobe replaying real DICOM
# files, with byte-exact dumps, the TLS policy (1.3 suite, forced 1.2 suite,
# 1.1 refused), wrong pins and an unreachable scanner.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

US1="$ULTRASOUND/US1_UNCR.dcm"
ALOKA="$ULTRASOUND/gdcm-US-ALOKA-16.dcm"
[ -r "$US1" ] && [ -r "$ALOKA" ] || { echo "FAIL: $ULTRASOUND is missing the test files" >&2; exit 1; }
ID="$TEST_TMP/identity"

# --- GE LOGIQ 700 RGB over TLS 1.3, 100 frames, dump equals dcm2pnm's output
start_probe us1 --source "dicom:$US1" --identity "$ID" --serial SN-LINK-1 ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }
check "identity files are mode 0600" \
	test "$(stat -c %a "$ID/scanner.crt") $(stat -c %a "$ID/scanner.key")" = "600 600"
mkdir "$TEST_TMP/dump1"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 100 \
	--dump "$TEST_TMP/dump1" >"$TEST_TMP/lt1.out" 2>"$TEST_TMP/lt1.err"
check "link-test exits 0 after 100 frames" test $? -eq 0
check "100 frames received" test "$(field "$TEST_TMP/lt1.out" 'frames received')" = "100 of 100"
check "TLS 1.3 with AES-256-GCM" test "$(field "$TEST_TMP/lt1.out" tls)" = "TLSv1.3 TLS_AES_256_GCM_SHA384"
check "serial from the certificate" test "$(field "$TEST_TMP/lt1.out" 'scanner serial')" = "SN-LINK-1"
check "model from the hello" grep -q '^scanner model: G.E. Medical Systems LOGIQ 700$' "$TEST_TMP/lt1.out"
dcm2pnm +op "$US1" "$TEST_TMP/us1-ref.ppm" 2>"$TEST_TMP/dcm2pnm.err"
check "US1 dump equals dcm2pnm byte for byte" cmp "$TEST_TMP/us1-ref.ppm" "$TEST_TMP/dump1/frame-000001.ppm"
check "every US1 dump is the same still" cmp "$TEST_TMP/dump1/frame-000001.ppm" \
	"$TEST_TMP/dump1/$(ls "$TEST_TMP/dump1" | tail -n 1)"
check "dumped frames are mode 0600" test "$(stat -c %a "$TEST_TMP/dump1/frame-000001.ppm")" = 600

# --- a client that connects and never handshakes does not stall the station
python3 -c "import socket, time; s = socket.create_connection(('127.0.0.1', $PROBE_PORT)); time.sleep(7)" &
track $!
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 60 \
	>"$TEST_TMP/ltsilent.out" 2>"$TEST_TMP/ltsilent.err"
check "link-test exits 0 next to a silent client" test $? -eq 0
# The probe sends 30 fps.  A link stalled by the silent client's 5 s handshake
# timeout would take over 7 s for 60 frames, so a 20 fps threshold separates
# the two with room for a loaded machine.
check "frame rate holds next to a silent client" \
	awk '/^frames per second: / { exit !($4 >= 20) }' "$TEST_TMP/ltsilent.out"
check "probe drops the silent client after 5 s" \
	wait_for_line "$TEST_TMP/us1.err" 10 'TLS handshake timed out after 5000 ms'

# --- TLS 1.2 forced: the RSA identity negotiates ECDHE-RSA-AES256-GCM-SHA384
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 5 --tls1.2 \
	>"$TEST_TMP/lt12.out" 2>"$TEST_TMP/lt12.err"
check "TLS 1.2 link-test exits 0" test $? -eq 0
check "TLS 1.2 suite" test "$(field "$TEST_TMP/lt12.out" tls)" = "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"

# --- TLS 1.1 refused.  SECLEVEL=0 lets OpenSSL 3's client offer TLS 1.1, so
# the refusal must come from the probe.
echo | timeout 10 openssl s_client -connect "127.0.0.1:$PROBE_PORT" -tls1_1 \
	-cipher 'DEFAULT:@SECLEVEL=0' >"$TEST_TMP/s11.out" 2>&1
check "TLS 1.1 handshake fails" test $? -ne 0
check "TLS 1.1 refused with a protocol version alert" grep -q -i 'protocol version' "$TEST_TMP/s11.out"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$PROBE_PORT" -tls1_3 \
	>"$TEST_TMP/s13.out" 2>&1
check "openssl s_client reaches the same probe over TLS 1.3" \
	grep -q 'TLS_AES_256_GCM_SHA384' "$TEST_TMP/s13.out"

# --- wrong pin: exit 3, both fingerprints named
WRONG="SHA256:$(printf '%064d' 0)"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$WRONG" --frames 5 \
	>"$TEST_TMP/ltpin.out" 2>"$TEST_TMP/ltpin.err"
check "wrong pin exits 3" test $? -eq 3
check "wrong pin names the expected fingerprint" grep -q "$WRONG" "$TEST_TMP/ltpin.err"
check "wrong pin names the presented fingerprint" grep -q "$PROBE_PIN" "$TEST_TMP/ltpin.err"

# --- wrong serial with the right pin: exit 3
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --serial SN-OTHER \
	--frames 5 >"$TEST_TMP/ltser.out" 2>"$TEST_TMP/ltser.err"
check "wrong serial exits 3" test $? -eq 3
check "wrong serial is named" grep -q 'SN-LINK-1.*SN-OTHER' "$TEST_TMP/ltser.err"

# --- an existing identity keeps its serial; asking for another is an error
"$SONOPROBE" --listen 127.0.0.1:0 --identity "$ID" --serial SN-OTHER --duration 1 \
	>/dev/null 2>"$TEST_TMP/idser.err"
check "serial mismatch with the identity exits 2" test $? -eq 2

# --- Aloka PALETTE COLOR: dump equals an independent palette expansion
start_probe aloka --source "dicom:$ALOKA" --identity "$ID" ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }
mkdir "$TEST_TMP/dump2"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 100 \
	--dump "$TEST_TMP/dump2" >"$TEST_TMP/lt2.out" 2>"$TEST_TMP/lt2.err"
check "Aloka link-test exits 0" test $? -eq 0
python3 "$top_srcdir/tests/integration/palette_ref.py" "$ALOKA" "$TEST_TMP/aloka-ref.ppm"
check "Aloka dump equals the palette reference byte for byte" \
	cmp "$TEST_TMP/aloka-ref.ppm" "$TEST_TMP/dump2/frame-000001.ppm"

# --- nothing listening: exit 4
PORT=$(free_port)
"$SONOTERM" link-test --scanner "127.0.0.1:$PORT" --pin "$PROBE_PIN" --frames 1 \
	>"$TEST_TMP/lt4.out" 2>"$TEST_TMP/lt4.err"
check "unreachable scanner exits 4" test $? -eq 4
check "unreachable scanner is named" grep -q "127.0.0.1:$PORT.*refused" "$TEST_TMP/lt4.err"

# --- the phantom streams gray frames
start_probe phantom --source phantom --identity "$ID" ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }
mkdir "$TEST_TMP/dump3"
"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 10 \
	--dump "$TEST_TMP/dump3" >"$TEST_TMP/lt3.out" 2>"$TEST_TMP/lt3.err"
check "phantom link-test exits 0" test $? -eq 0
check "phantom frames are PGM" test -s "$TEST_TMP/dump3/frame-000001.pgm"

finish
