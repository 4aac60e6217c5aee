#!/bin/sh
# Cost of the compressed cine buffer: time per cine_push (goal: under 3 ms
# for a 640x480 frame on one core, well inside the 33 ms frame period),
# seconds of 30 fps frames the default budget holds, and scrubbing latency.
# Sources: the phantom, and the real DICOM frames replayed with drift.
# Frames are paced at 30 fps, so each source takes FRAMES / 30 seconds.
# BENCH_SMOKE=1 pushes 30 phantom frames to check that the benchmark runs.
set -eu

: "${top_builddir:?run through make bench}"
: "${SONO_SHARED_DATA:?run through make bench}"
make -s -C "$top_builddir" bench/bench_cine >/dev/null
data="$SONO_SHARED_DATA/ultrasound"

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%d)"
if [ -n "${BENCH_SMOKE:-}" ]; then
	"$top_builddir/bench/bench_cine" phantom 30
	exit 0
fi
for spec in phantom "dicom:$data/US1_UNCR.dcm" "dicom:$data/gdcm-US-ALOKA-16.dcm"; do
	echo
	"$top_builddir/bench/bench_cine" "$spec" 600
done
