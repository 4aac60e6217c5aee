#!/bin/sh
# Runs every benchmark script in bench/ (bench/*.sh) in name order.
# BENCH_SMOKE=1 asks each for its short CI version, which checks that the
# benchmark runs but records nothing.  Exits non-zero if any script fails.
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../scripts/run-each" "$here" bench benchmark BENCH_SMOKE
