#!/bin/sh
# The live screen in a real sixel terminal: xterm -ti vt340 under Xvfb shows
# frames replayed from a real DICOM file.  A screenshot of the image area
# must correlate with the source frame at 0.9 or better, before and after
# the xterm window is resized.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

for tool in xterm Xvfb xwd convert dcmdump; do
	command -v "$tool" >/dev/null || { echo "$tool is not installed"; exit 77; }
done
DICOM="$ULTRASOUND/gdcm-US-ALOKA-16.dcm"
[ -r "$DICOM" ] || { fail "missing test data $DICOM"; finish; }
LOG="$TEST_TMP/state/sonoterm/sonoterm.log"
MIN_CORRELATION=0.9

# Xvfb picks a free display number and writes it to fd 5.
Xvfb -displayfd 5 -screen 0 1280x1024x24 -nolisten tcp 5>"$TEST_TMP/display" \
	2>"$TEST_TMP/xvfb.err" &
track $!
wait_for_line "$TEST_TMP/display" 10 '[0-9]' || { fail "Xvfb did not start"; finish; }
DISPLAY=":$(cat "$TEST_TMP/display")"
export DISPLAY

start_probe probe --source "dicom:$DICOM" --identity "$TEST_TMP/probe" --duration 300 ||
	{ fail "sonoprobe did not start"; finish; }
ADDR=127.0.0.1:$PROBE_PORT
PIN=$PROBE_PIN

# The reference frame: the DICOM pixels with the palette applied, decoded
# independently of the station (dcm2pnm rejects this segmented palette).
python3 "$top_srcdir/tests/integration/palette_ref.py" "$DICOM" "$TEST_TMP/source.ppm" ||
	{ fail "palette_ref.py could not decode $DICOM"; finish; }

# allowWindowOps lets the test resize the window with CSI 8 ; rows ; cols t.
XDG_STATE_HOME="$TEST_TMP/state" XDG_CONFIG_HOME="$TEST_TMP/config" XDG_DATA_HOME="$TEST_TMP/data" \
SONO_THEME_DIR="$top_srcdir/themes" \
xterm -ti vt340 -xrm 'XTerm*allowWindowOps: true' -geometry 120x40+0+0 \
	-fa Monospace -fs 10 -e sh -c "$SONOTERM --scanner $ADDR --pin $PIN --log-level info; \
	echo \$? >$TEST_TMP/station.exit" 2>"$TEST_TMP/xterm.err" &
XTERM_PID=$!
track $XTERM_PID

placements() {
	grep -c 'image placed:' "$LOG" 2>/dev/null || echo 0
}

# correlate_once: screenshots the display and correlates the image area of
# the last logged placement with the source frame at that size.  Prints
# the correlation; fails when the placement changed during the screenshot.
correlate_once() {
	before=$(placements)
	line=$(grep 'image placed:' "$LOG" | tail -n 1)
	set -- $(echo "$line" | sed -n \
		's/.*col \([0-9]*\) row \([0-9]*\), \([0-9]*\)x\([0-9]*\) px, cell \([0-9]*\)x\([0-9]*\) px, renderer \([a-z0-9-]*\).*/\1 \2 \3 \4 \5 \6 \7/p')
	if [ "$#" -ne 7 ] || [ "$7" != sixel ]; then
		echo "no sixel placement in the log: $line" >&2
		return 1
	fi
	col=$1 row=$2 width=$3 height=$4 cell_w=$5 cell_h=$6
	convert "$TEST_TMP/source.ppm" -colorspace gray -resize "${width}x${height}!" \
		-depth 8 "pgm:$TEST_TMP/ref.pgm" || return 1
	xwd -root -silent | convert xwd:- -colorspace gray -depth 8 "pgm:$TEST_TMP/shot.pgm" ||
		return 1
	[ "$(placements)" = "$before" ] || return 1
	# The window sits at +0+0 without a window manager; xterm's border and
	# internal border add a few pixels, which the offset search absorbs.
	python3 "$top_srcdir/tests/integration/image_corr.py" "$TEST_TMP/shot.pgm" \
		"$TEST_TMP/ref.pgm" $((col * cell_w + 3)) $((row * cell_h + 3)) 8 |
		sed "s/\$/ at ${width}x${height} px/"
}

# check_image NAME: passes when a screenshot correlates at MIN_CORRELATION
# or better.  A slow (sanitizer) build may still be adapting the image size
# after a resize, so it tries up to five times, a second apart.
check_image() {
	for attempt in 1 2 3 4 5; do
		result=$(correlate_once) && {
			echo "$1, attempt $attempt: correlation $result"
			awk -v r="${result%% *}" -v min="$MIN_CORRELATION" \
				'BEGIN { exit !(r >= min) }' && return 0
		}
		sleep 1
	done
	return 1
}

check "station places a sixel image" wait_for_line "$LOG" 15 'image placed:.*renderer sixel'
sleep 2
check "image correlates with the DICOM frame" check_image "before resize"
first=$(placements)

# Resize from inside: the sequence goes to the station's terminal.
shell_pid=$(pgrep -P "$XTERM_PID" -x sh 2>/dev/null | head -n 1)
station_pid=$(pgrep -P "${shell_pid:-0}" -x sonoterm 2>/dev/null | head -n 1)
tty=$(readlink "/proc/${station_pid:-0}/fd/1" 2>/dev/null)
case "$tty" in
/dev/pts/*)
	printf '\033[8;30;100t' >"$tty"
	i=0
	while [ "$(placements)" -le "$first" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "station re-places the image after the resize" [ "$(placements)" -gt "$first" ]
	sleep 2
	check "image correlates after the resize" check_image "after resize"
	kill -TERM "$station_pid"
	check "SIGTERM ends the station" wait_for_line "$TEST_TMP/station.exit" 10 '^143$'
	;;
*)
	fail "station terminal not found (pid ${station_pid:-none})"
	;;
esac
finish
