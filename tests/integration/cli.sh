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

finish
