# Helpers for the scanner-link tests (link_*.sh); source after lib.sh.

# start_probe NAME ARGS...: starts sonoprobe on a free loopback port for at
# most 60 s, waits for its start lines and sets PROBE_PORT and PROBE_PIN
# (empty in --insecure-igtl mode).  Output goes to $TEST_TMP/NAME.out/.err.
start_probe() {
	name=$1
	shift
	"$SONOPROBE" --listen 127.0.0.1:0 --duration 60 "$@" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	track $!
	if ! wait_for_line "$TEST_TMP/$name.out" 20 '^listening '; then
		cat "$TEST_TMP/$name.err" >&2
		return 1
	fi
	PROBE_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$TEST_TMP/$name.out")
	PROBE_PIN=$(sed -n 's/^fingerprint //p' "$TEST_TMP/$name.out")
}

# make_cert NAME SERIAL: writes $TEST_TMP/NAME.crt and .key with the openssl
# CLI (RSA 2048, self-signed) and sets CERT_PIN to its SHA256 pin.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1/serialNumber=$2" \
		-keyout "$TEST_TMP/$1.key" -out "$TEST_TMP/$1.crt" 2>/dev/null || return 1
	CERT_PIN="SHA256:$(openssl x509 -in "$TEST_TMP/$1.crt" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
}

# field FILE NAME: prints the value of a "NAME: value" line of link-test output.
field() {
	sed -n "s/^$2: //p" "$1"
}
