#!/bin/sh
# `sonoterm doctor` on a pseudo-terminal that replies as a sixel terminal
# does.  Doctor detects sixel and the cell size (from CSI 16 t, or from
# TIOCGWINSZ when the pty carries pixel sizes), and TERM, COLORTERM and
# --render pick the renderer.
. "$top_srcdir/tests/integration/lib.sh"

PTY="python3 $top_srcdir/tests/integration/term_pty.py"

# doctor_on MODE NAME [harness options] -- [doctor options]: runs doctor on
# the pty and leaves its output, without carriage returns, in $TEST_TMP/NAME.
doctor_on() {
	mode=$1 name=$2
	shift 2
	harness=""
	while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
		harness="$harness $1"
		shift
	done
	[ "$#" -gt 0 ] && shift
	# shellcheck disable=SC2086
	ms=$($PTY --mode "$mode" --timeout 10 --output "$TEST_TMP/$name.raw" $harness \
		-- "$SONOTERM" doctor --config "$TEST_TMP/none.conf" "$@")
	rc=$?
	tr -d '\r' <"$TEST_TMP/$name.raw" >"$TEST_TMP/$name"
	check "$name: doctor exits 0 (got $rc)" test "$rc" -eq 0
	echo "$name: doctor took $ms ms"
}

# has NAME PATTERN: the doctor output NAME contains a line matching PATTERN.
has() {
	check "$1: output has '$2'" grep -q -- "$2" "$TEST_TMP/$1"
}

doctor_on sixel sixel --cols 100 --rows 40
has sixel 'DA1 reply: *?63;1;2;4;6;9;15;22'
has sixel 'sixel: *yes'
has sixel 'window: *100x40 cells'
has sixel 'cell size: *10x20 pixels (from csi-16t)'
has sixel 'renderer: *sixel (requested auto)'
has sixel 'UTF-8:'
has sixel 'parses: *no such file'
check "sixel: doctor sends DA1, CSI 16 t and CSI 14 t" \
	sh -c "grep -q \"\$(printf '\\033')\\[16t\" '$TEST_TMP/sixel.raw' && grep -q \"\$(printf '\\033')\\[c\" '$TEST_TMP/sixel.raw'"

# Pixel sizes in TIOCGWINSZ come first: 1800x960 over 200x60 cells is 9x16.
doctor_on sixel winsz --cols 200 --rows 60 --xpixel 1800 --ypixel 960
has winsz 'cell size: *9x16 pixels (from tiocgwinsz)'
has winsz 'renderer: *sixel'

# Renderer fallbacks by TERM and COLORTERM on a terminal without sixel.
doctor_on plain plain256 --term xterm-256color
has plain256 'sixel: *no'
has plain256 'colours: *256'
has plain256 'renderer: *halfblock-256'
doctor_on plain truecolor --term xterm-256color --colorterm truecolor
has truecolor 'colours: *24-bit'
has truecolor 'renderer: *halfblock-24'
doctor_on plain linux --term linux
has linux 'colours: *8'
has linux 'renderer: *ascii'
doctor_on plain vt100 --term vt100
has vt100 'renderer: *ascii'
doctor_on sixel dumb --term dumb
has dumb 'DA1 reply: *not queried (TERM is unset or "dumb")'
has dumb 'renderer: *ascii'
check "dumb: doctor sends no query" sh -c "! grep -q \"\$(printf '\\033')\\[\" '$TEST_TMP/dumb.raw'"
doctor_on sixel forced --cols 100 --rows 40 -- --render ascii
has forced 'renderer: *ascii (requested ascii)'

# A configuration file is parsed and its errors are reported with the line.
# setsid detaches doctor from any controlling terminal, so these runs never
# query the terminal that started make check.
printf '[scanner]\naddress = 127.0.0.1:18944\n[ui]\nrender = ascii\n' >"$TEST_TMP/good.conf"
printf '[scanner]\nadress = 127.0.0.1:18944\n' >"$TEST_TMP/bad.conf"
setsid -w "$SONOTERM" doctor --config "$TEST_TMP/good.conf" </dev/null >"$TEST_TMP/good.out" 2>&1
check "config: a valid file parses" grep -q 'parses: *yes (2 settings)' "$TEST_TMP/good.out"
check "config: [ui] render is the requested renderer" \
	grep -q 'renderer: *ascii (requested ascii)' "$TEST_TMP/good.out"
check "config: the scanner address is shown" grep -q 'scanner: *127.0.0.1:18944' "$TEST_TMP/good.out"
setsid -w "$SONOTERM" doctor --config "$TEST_TMP/bad.conf" </dev/null >"$TEST_TMP/bad.out" 2>&1
check "config: an unknown key is reported with file and line" \
	grep -q "parses: *no: .*bad.conf:2:" "$TEST_TMP/bad.out"
# Every key the screens read parses, also outside [ui] and [scanner].
printf '[display]\ntheme = night\n[store]\ndata_dir = /tmp\n[log]\nlevel = info\n' \
	>"$TEST_TMP/station.conf"
setsid -w "$SONOTERM" doctor --config "$TEST_TMP/station.conf" </dev/null >"$TEST_TMP/station.out" 2>&1
check "config: the screens' [display], [store] and [log] keys parse" \
	grep -q 'parses: *yes (3 settings)' "$TEST_TMP/station.out"
check "no tty: doctor says it sent no queries" grep -q 'tty: *no' "$TEST_TMP/good.out"

setsid -w "$SONOTERM" doctor --render kitty </dev/null >/dev/null 2>&1
rc=$?
check "an unknown --render is a usage error (got $rc)" test "$rc" -eq 2

finish
