#!/bin/sh
# The live screen on a pseudo-terminal that replies as a sixel terminal
# does.  The station shows frames that sonoprobe replays from the Aloka
# DICOM file.  The last sixel image it writes, decoded with libsixel, must
# match the source frame scaled to the same size at 30 dB PSNR or better.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

command -v dcmdump >/dev/null || { echo "dcmdump (DCMTK) is not installed"; exit 77; }
DICOM="$ULTRASOUND/gdcm-US-ALOKA-16.dcm"
[ -r "$DICOM" ] || { fail "missing test data $DICOM"; finish; }
COMPARE="$top_builddir/tests/integration/sixel_compare"
MIN_PSNR=30

start_probe probe --source "dicom:$DICOM" --identity "$TEST_TMP/probe" ||
	{ fail "sonoprobe did not start"; finish; }
ADDR=127.0.0.1:$PROBE_PORT
PIN=$PROBE_PIN

# The reference frame, decoded independently of the station's reader.
python3 "$top_srcdir/tests/integration/palette_ref.py" "$DICOM" "$TEST_TMP/source.ppm" ||
	{ fail "palette_ref.py could not decode $DICOM"; finish; }

# The harness kills the station after 8 seconds (exit status 124); only
# what the station wrote by then matters here.
python3 "$top_srcdir/tests/integration/term_pty.py" --mode sixel --cols 120 --rows 40 \
	--timeout 8 --output "$TEST_TMP/capture" -- \
	env XDG_STATE_HOME="$TEST_TMP/state" XDG_CONFIG_HOME="$TEST_TMP/config" \
	XDG_DATA_HOME="$TEST_TMP/data" SONO_THEME_DIR="$top_srcdir/themes" LANG=C.UTF-8 \
	"$SONOTERM" --scanner "$ADDR" --pin "$PIN" >/dev/null
check "the station wrote a sixel image" grep -q "$(printf '\033')P[0-9;]*q" "$TEST_TMP/capture"
# The station's stderr is the pty, so in a sanitizer build a report would
# be in the capture.
check "no sanitizer report reached the terminal" \
	sh -c "! grep -aq 'AddressSanitizer\|runtime error' '$TEST_TMP/capture'"

result=$("$COMPARE" "$TEST_TMP/source.ppm" "$TEST_TMP/capture")
echo "decoded image and PSNR: $result"
psnr=${result#* }
check "the decoded image matches the source at $MIN_PSNR dB or better (got ${psnr:-none})" \
	awk -v p="${psnr:-0}" -v min="$MIN_PSNR" 'BEGIN { exit !(p >= min) }'

finish
