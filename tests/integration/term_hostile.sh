#!/bin/sh
# `sonoterm doctor` on hostile terminals: one that never replies, one that
# reports 0x0 pixels and one that reports 640x480 pixels for a 200x60
# window.  Each must finish within a second and choose a renderer that
# does not need the cell size.
. "$top_srcdir/tests/integration/lib.sh"

PTY="python3 $top_srcdir/tests/integration/term_pty.py"

for mode in silent zero bogus; do
	out="$TEST_TMP/$mode"
	ms=$($PTY --mode "$mode" --cols 200 --rows 60 --timeout 10 --output "$out.raw" \
		-- "$SONOTERM" doctor --config "$TEST_TMP/none.conf")
	rc=$?
	tr -d '\r' <"$out.raw" >"$out"
	check "$mode: doctor exits 0 (got $rc)" test "$rc" -eq 0
	check "$mode: doctor finishes within a second (took $ms ms)" test "$ms" -lt 1000
	check "$mode: the cell size counts as unknown" grep -q 'cell size: *unknown' "$out"
	check "$mode: the renderer falls back to half-block" grep -q 'renderer: *halfblock-256' "$out"
done

check "silent: doctor reports the missing DA1 reply" \
	grep -q 'DA1 reply: *none within 250 ms' "$TEST_TMP/silent"
check "zero: DA1 still shows sixel" grep -q 'sixel: *yes' "$TEST_TMP/zero"
check "bogus: DA1 still shows sixel" grep -q 'sixel: *yes' "$TEST_TMP/bogus"

# An explicit request for sixel without a cell size falls back too.
$PTY --mode zero --cols 200 --rows 60 --timeout 10 --output "$TEST_TMP/forced.raw" \
	-- "$SONOTERM" doctor --config "$TEST_TMP/none.conf" --render sixel >/dev/null
check "zero: --render sixel without a cell size falls back" \
	grep -q 'renderer: *halfblock-256 (requested sixel)' "$TEST_TMP/forced.raw"

finish
