#!/bin/sh
# Encode time, bytes and PSNR per frame of the station's renderers against
# libsixel, img2sixel and chafa, on the real ultrasound frames at 640x480
# and 1280x960.  Goals for a gray 640x480 frame: under 2 ms on one core, and
# at most 100 KB at 34 dB PSNR or better.  At 1280x960: under 8 ms.
#
# bench/render_bench times the in-process encoders (CPU time, median).
# img2sixel and chafa run as processes on PNG files of the scaled frames;
# their times are wall time per run and include process start and PNG
# decoding, so they are upper bounds of their encoders.
# BENCH_SMOKE=1 runs 2 iterations and 1 run of each tool.
set -eu

: "${top_builddir:?run through make bench}"
: "${SONO_SHARED_DATA:?run through make bench}"
make -s -C "$top_builddir" bench/render_bench >/dev/null
bench="$top_builddir/bench/render_bench"
data="$SONO_SHARED_DATA/ultrasound"
files="$data/gdcm-US-ALOKA-16.dcm $data/US1_UNCR.dcm"

iterations=50
runs=10
if [ -n "${BENCH_SMOKE:-}" ]; then
	iterations=2
	runs=1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/render-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%d)"
echo
# shellcheck disable=SC2086
"$bench" -n "$iterations" -o "$work" $files

# tool_row FILE SIZE NAME REFERENCE COMMAND...: runs COMMAND $runs times
# with its output in $work/out.six and prints a table row.
tool_row() {
	file=$1 size=$2 name=$3 ref=$4
	shift 4
	start=$(date +%s%N)
	i=0
	while [ "$i" -lt "$runs" ]; do
		"$@" >"$work/out.six"
		i=$((i + 1))
	done
	end=$(date +%s%N)
	ms=$(awk -v ns=$((end - start)) -v n="$runs" 'BEGIN { printf "%.2f", ns / n / 1e6 }')
	bytes=$(wc -c <"$work/out.six" | tr -d ' ')
	psnr=$("$bench" --psnr "$ref" "$work/out.six" 2>/dev/null || echo "n/a")
	echo "| $file | $size | $name (wall time per process) | $ms | $bytes | $psnr |"
}

for path in $files; do
	file=$(basename "$path")
	for size in 640x480 1280x960; do
		w=${size%x*}
		h=${size#*x}
		gray="$work/$file-$size-gray.pgm"
		convert "$gray" "$work/gray.png"
		tool_row "$file" "$size" "img2sixel, defaults" "$gray" img2sixel "$work/gray.png"
		tool_row "$file" "$size" "chafa -f sixels" "$gray" \
			chafa -f sixels --font-ratio 1/1 -s "$((w / 8))x$((h / 8))" "$work/gray.png"
	done
done
