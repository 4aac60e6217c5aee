#!/bin/sh
# Saving a 10-second cine of 640x480 gray at 30 fps (300 phantom frames)
# into the station store: time, compressed size and database growth against
# the raw pixel size.  Goals: under 1 s, and at most 40% of the raw size.
# Runs bench/bench_store from the build folder, building it if needed.
# BENCH_SMOKE=1 saves 10 frames to check that the benchmark runs.
set -eu

: "${top_builddir:?run through make bench}"
make -s -C "$top_builddir" bench/bench_store >/dev/null

frames=300
[ -n "${BENCH_SMOKE:-}" ] && frames=10

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for motion in drift none; do
	"$top_builddir/bench/bench_store" "$frames" "$motion"
done
