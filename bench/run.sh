#!/bin/sh
# Runs every benchmark script in bench/ (bench/*.sh) in name order.
# BENCH_SMOKE=1 asks each for its short CI version, which checks that the
# benchmark runs but records nothing.  Exits non-zero if any script fails.
set -u

here=$(cd "$(dirname "$0")" && pwd)
status=0
found=0

for script in "$here"/*.sh; do
	[ -e "$script" ] || continue
	[ "$(basename "$script")" = run.sh ] && continue
	found=1
	echo "bench: $(basename "$script")"
	if ! BENCH_SMOKE="${BENCH_SMOKE:-}" sh "$script"; then
		echo "bench: $(basename "$script") failed" >&2
		status=1
	fi
done

[ "$found" -eq 1 ] || echo "bench: no benchmark scripts yet"
exit "$status"
