# Shared helpers for the integration tests.  Each test sources this file,
# runs the real programs from the build tree on loopback, and exits 0 on
# success, 1 on failure and 77 to report a skip.

set -u

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"
SONOTERM="$top_builddir/sonoterm"
SONOPROBE="$top_builddir/sonoprobe"
SONOCLOUD="$top_builddir/sonocloud"
ULTRASOUND="${SONO_SHARED_DATA:-$top_srcdir/../shared/data}/ultrasound"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sono-it-XXXXXX")
# Programs that create files under the data folder by default (the station
# identity, sonoprobe's identity) write them here, not in the user's home.
export XDG_DATA_HOME="$TEST_TMP/data"
TEST_PIDS=""
TEST_FAILED=0

cleanup() {
	for pid in $TEST_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $TEST_PIDS; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# Remembers a background process so cleanup stops it.
track() {
	TEST_PIDS="$TEST_PIDS $1"
}

fail() {
	echo "FAIL: $*" >&2
	TEST_FAILED=1
}

pass() {
	echo "ok: $*"
}

# check DESCRIPTION COMMAND...: runs COMMAND and records pass or fail.
check() {
	desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
	fi
}

# Waits up to $2 seconds (default 10) for file $1 to contain pattern $3.
wait_for_line() {
	file=$1 timeout=${2:-10} pattern=$3
	i=0
	while [ "$i" -lt $((timeout * 10)) ]; do
		if grep -q -- "$pattern" "$file" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

finish() {
	exit "$TEST_FAILED"
}
