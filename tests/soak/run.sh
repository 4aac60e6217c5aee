#!/bin/sh
# Runs every soak and load script in tests/soak/ (*.sh) in name order.
# SOAK_SMOKE=1 asks each for its short CI version, which checks that the
# run works but keeps it to seconds.  Exits non-zero if any script fails.
set -u

here=$(cd "$(dirname "$0")" && pwd)
status=0
found=0

for script in "$here"/*.sh; do
	[ -e "$script" ] || continue
	[ "$(basename "$script")" = run.sh ] && continue
	found=1
	echo "soak: $(basename "$script")"
	if ! SOAK_SMOKE="${SOAK_SMOKE:-}" sh "$script"; then
		echo "soak: $(basename "$script") failed" >&2
		status=1
	fi
done

[ "$found" -eq 1 ] || echo "soak: no soak scripts yet"
exit "$status"
