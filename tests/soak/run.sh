#!/bin/sh
# Runs every soak and load script in tests/soak/ (*.sh) in name order.
# SOAK_SMOKE=1 asks each for its short CI version, which checks that the
# run works but keeps it to seconds.  Exits non-zero if any script fails.
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../scripts/run-each" "$here" soak soak SOAK_SMOKE
