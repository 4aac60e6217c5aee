#!/bin/sh
# sonocloud's TLS policy as a client sees it: TLS 1.0 and 1.1 rejected,
# TLS 1.2 only with ECDHE and AES-256-GCM, TLS 1.3 with the two policy
# suites.  The clients lower OpenSSL's own security level where needed, so
# a rejection comes from the server and not from the client's defaults.
# A short testssl.sh run follows when testssl is installed.
. "$top_srcdir/tests/integration/lib.sh"

SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/serve.log"
PORT=$(free_port)
CERT="$DATA/cert.pem"

"$SONOCLOUD" init --data-dir "$DATA" --hostname localhost >"$TEST_TMP/init.out" 2>&1 ||
	{ cat "$TEST_TMP/init.out"; echo "FAIL: sonocloud init" >&2; exit 1; }
timeout 600 "$SONOCLOUD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
track $!
wait_for_line "$LOG" 20 "serving https://" || { cat "$LOG"; echo "FAIL: server did not start" >&2; exit 1; }

# handshake OUTPUT-NAME S_CLIENT-ARGS...: runs one handshake and returns
# s_client's status; the transcript goes to $TEST_TMP/OUTPUT-NAME.
handshake() {
	name=$1
	shift
	echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$CERT" -verify_return_error "$@" >"$TEST_TMP/$name" 2>&1
}

# negotiated OUTPUT-NAME: prints "PROTOCOL CIPHER" from s_client's
# "New, TLSv1.3, Cipher is ..." line of a finished handshake.
negotiated() {
	sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1 \2/p' "$TEST_TMP/$1" | head -1
}

# ---------------------------------------------------------------- old protocols
if handshake tls1 -tls1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	fail "TLS 1.0 handshake succeeded: $(negotiated tls1)"
else
	pass "TLS 1.0 is rejected"
fi
if handshake tls1_1 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	fail "TLS 1.1 handshake succeeded: $(negotiated tls1_1)"
else
	pass "TLS 1.1 is rejected"
fi

# ---------------------------------------------------------------- TLS 1.2
if handshake tls12 -tls1_2; then
	check "TLS 1.2 negotiates ECDHE-RSA-AES256-GCM-SHA384" \
		test "$(negotiated tls12)" = "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"
else
	fail "TLS 1.2 handshake failed: $(tail -n 5 "$TEST_TMP/tls12")"
fi
for cipher in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-CHACHA20-POLY1305 ECDHE-RSA-AES256-SHA384 \
	ECDHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA DHE-RSA-AES256-GCM-SHA384 DHE-RSA-AES128-GCM-SHA256 \
	AES256-GCM-SHA384 AES128-GCM-SHA256 AES256-SHA256 AES256-SHA AES128-SHA DES-CBC3-SHA \
	ECDHE-ECDSA-AES128-GCM-SHA256 ARIA256-GCM-SHA384 CAMELLIA256-SHA256 PSK-AES256-GCM-SHA384; do
	if handshake "tls12-$cipher" -tls1_2 -cipher "$cipher:@SECLEVEL=0"; then
		fail "TLS 1.2 with $cipher succeeded"
	else
		pass "TLS 1.2 with $cipher is rejected"
	fi
done

# ---------------------------------------------------------------- TLS 1.3
if handshake tls13 -tls1_3; then
	check "TLS 1.3 negotiates TLS_AES_256_GCM_SHA384" \
		test "$(negotiated tls13)" = "TLSv1.3 TLS_AES_256_GCM_SHA384"
else
	fail "TLS 1.3 handshake failed: $(tail -n 5 "$TEST_TMP/tls13")"
fi
if handshake tls13-chacha -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256; then
	check "TLS 1.3 accepts ChaCha20-Poly1305" \
		test "$(negotiated tls13-chacha)" = "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256"
else
	fail "TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256 failed"
fi
for suite in TLS_AES_128_GCM_SHA256 TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
	if handshake "tls13-$suite" -tls1_3 -ciphersuites "$suite"; then
		fail "TLS 1.3 with $suite succeeded"
	else
		pass "TLS 1.3 with $suite is rejected"
	fi
done
check "no TLS compression" grep -q "^Compression: NONE" "$TEST_TMP/tls12"

# ---------------------------------------------------------------- testssl.sh
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
if [ -n "$TESTSSL" ]; then
	timeout 300 "$TESTSSL" --quiet --color 0 --warnings off -p -s "127.0.0.1:$PORT" \
		>"$TEST_TMP/testssl.out" 2>&1
	for proto in "SSLv2" "SSLv3" "TLS 1 " "TLS 1.1"; do
		check "testssl: $proto not offered" grep -q "^ *$proto *not offered" "$TEST_TMP/testssl.out"
	done
	check "testssl: TLS 1.2 offered" grep -q "^ *TLS 1.2 *offered" "$TEST_TMP/testssl.out"
	check "testssl: TLS 1.3 offered" grep -q "^ *TLS 1.3 *offered" "$TEST_TMP/testssl.out"
	check "testssl: no NULL, export or RC4-era ciphers" \
		grep -Eq "^ *NULL ciphers.*not offered" "$TEST_TMP/testssl.out"
	[ "$TEST_FAILED" -eq 0 ] || cat "$TEST_TMP/testssl.out"
else
	echo "testssl.sh is not installed; its part is not run"
fi
finish
