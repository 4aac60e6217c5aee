#!/bin/sh
# The three programs answer --help and --version, and reject unknown
# options with the usage exit code.
. "$top_srcdir/tests/integration/lib.sh"

for prog in "$SONOTERM" "$SONOPROBE" "$SONOCLOUD"; do
	name=$(basename "$prog")
	check "$name --version names the program" sh -c "'$prog' --version | grep -q '^$name (Sonoterm) '"
	check "$name --help prints usage" sh -c "'$prog' --help | grep -q '^Usage: $name'"
	check "$name -h exits 0" "$prog" -h >/dev/null
	"$prog" --no-such-option >/dev/null 2>&1
	rc=$?
	check "$name rejects an unknown option with exit 2 (got $rc)" test "$rc" -eq 2
done

# A password file is read as one line of text: a NUL byte would otherwise
# cut the password short without a word.
zero_pin="SHA256:$(printf '%064d' 0)"
printf 'abc\0def\n' >"$TEST_TMP/password"
"$SONOTERM" login --cloud https://127.0.0.1:9 --user someone --cloud-pin "$zero_pin" \
	--password-file "$TEST_TMP/password" --data-dir "$TEST_TMP/station" 2>"$TEST_TMP/login.err"
rc=$?
check "login rejects a NUL byte in the password file (exit $rc)" test "$rc" -eq 2
check "login names the NUL byte" grep -q 'contains a NUL byte' "$TEST_TMP/login.err"

finish
