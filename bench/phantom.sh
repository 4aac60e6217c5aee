#!/bin/sh
# Time per 640x480 phantom frame (goal: well under 10 ms, so the phantom
# costs a small part of a 33 ms frame period at 30 fps).
# Runs bench/bench_phantom from the build folder, building it if needed.
# BENCH_SMOKE=1 renders 20 frames to check that the benchmark runs.
set -eu

: "${top_builddir:?run through make bench}"
make -s -C "$top_builddir" bench/bench_phantom >/dev/null

frames=600
[ -n "${BENCH_SMOKE:-}" ] && frames=20

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$top_builddir/bench/bench_phantom" "$frames" 640x480
