#!/bin/sh
# Passphrase files of the station store.  A NUL byte or an over-long first
# line is a usage error (exit 2) that names the problem, so a passphrase is
# never silently cut.  A line of exactly the maximum is read.
. "$top_srcdir/tests/integration/lib.sh"

DATA="$TEST_TMP/data"

# list_with FILE: runs 'sonoterm exams list' with FILE as the passphrase file
# and sets RC; its standard error goes to $TEST_TMP/err.
list_with() {
	"$SONOTERM" exams list --data-dir "$DATA" --passphrase-file "$1" \
		>/dev/null 2>"$TEST_TMP/err"
	RC=$?
}

printf 'ab\000cdefghijklmnopq\n' >"$TEST_TMP/nul"
list_with "$TEST_TMP/nul"
check "a NUL byte is a usage error" test "$RC" -eq 2
check "the message names the NUL byte" grep -q 'contains a NUL byte' "$TEST_TMP/err"

python3 -c 'print("x" * 1025)' >"$TEST_TMP/long"
list_with "$TEST_TMP/long"
check "a 1025-byte line is a usage error" test "$RC" -eq 2
check "the message names the limit" grep -q 'longer than 1024 bytes' "$TEST_TMP/err"

# With no database yet, a passphrase that was read leads to 'no station
# database' (exit 1), which shows the file itself was accepted.
python3 -c 'print("x" * 1024)' >"$TEST_TMP/max"
list_with "$TEST_TMP/max"
check "a 1024-byte line is read" grep -q 'no station database' "$TEST_TMP/err"
printf 'a passphrase line\r\n' >"$TEST_TMP/crlf"
list_with "$TEST_TMP/crlf"
check "a CRLF line end is read" grep -q 'no station database' "$TEST_TMP/err"
finish
