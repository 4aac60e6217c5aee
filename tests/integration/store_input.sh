#!/bin/sh
# Hostile and unusual patient input.  Names with terminal escape sequences
# or a bare CR are rejected by validation with a message that names the
# field.  Right-to-left overrides, combining marks and CJK are accepted and
# reach the terminal only through the sanitiser, as do escape sequences that
# were written into the database behind the validation's back.  Impossible
# and future birth dates are rejected.  No test patient data reaches a log.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/station.log"
ERR="$TEST_TMP/capture.err"
DUMMY_PIN="SHA256:$(printf '%064d' 0)"
ESC=$(printf '\033')

# rejects NAME TEXT-OF-PATIENT-FILE FIELD WORDS: capture must exit 2 before
# connecting, with a message that names FIELD and contains WORDS.
rejects() {
	printf '%s' "$2" >"$TEST_TMP/bad"
	"$SONOTERM" capture --scanner 127.0.0.1:9 --pin "$DUMMY_PIN" --frames 1 \
		--patient "$TEST_TMP/bad" --data-dir "$DATA" --log "$LOG" >/dev/null 2>"$ERR"
	rc=$?
	check "$1: rejected with exit 2 (got $rc)" test "$rc" -eq 2
	check "$1: message names $3" grep -q "$3" "$ERR"
	check "$1: message says '$4'" grep -q "$4" "$ERR"
	check "$1: message shows no escape byte" sh -c "! grep -q '$ESC' '$ERR'"
	cat "$ERR" >>"$TEST_TMP/all.err"
}

base="patient_id = INPUT-1
given_name = Ottoline
"
rejects "OSC 52 in a name" "${base}family_name = Evil$(printf '\033]52;c;ZXZpbA==\007')
" "Family name" "control character"
rejects "OSC 0 in a name" "${base}family_name = Evil$(printf '\033]0;owned\007')
" "Family name" "control character"
rejects "bare CR in a name" "${base}family_name = Evil$(printf '\r')Overwrite
" "Family name" "control character"
rejects "2023-02-30" "${base}family_name = Datecheck
birth_date = 2023-02-30
" "Birth date" "calendar date"
rejects "2999-01-01" "${base}family_name = Datecheck
birth_date = 2999-01-01
" "Birth date" "future"
rejects "unknown key" "${base}family_name = Keycheck
weight = 80
" "line 4" "unknown key"
check "no database was created by rejected input" test ! -e "$DATA/sonoterm.db"

start_probe probe --identity "$TEST_TMP/probe" --serial SP-INPUT-1 || { fail "sonoprobe did not start"; finish; }

# U+202E RIGHT-TO-LEFT OVERRIDE, e + U+0301 COMBINING ACUTE, U+5C71 U+7530.
rlo=$(printf '\342\200\256')
combining=$(printf 'Rene\314\201')
cjk=$(printf '\345\261\261\347\224\260')
printf 'patient_id = INPUT-2\nfamily_name = %sZorbatov\ngiven_name = %s\nmiddle_name = %s\nbirth_date = 1984-02-29\n' \
	"$rlo" "$combining" "$cjk" >"$TEST_TMP/unicode"
uuid=$(capture "$DATA" "$TEST_TMP/unicode" 2 --log "$LOG")
check "RLO, combining and CJK names are accepted" test -n "$uuid"

# Write escape sequences straight into the database, as a damaged or
# foreign record would carry them, and list with --show-phi.
printf '%s\n' "UPDATE patients SET patient_id = 'ID' || char(27) || ']52;c;ZXZpbA==' || char(7)," \
	" accession = 'A' || char(13) || 'B', birth_date = char(27) || ']0;title' || char(7) || '1984-02-29';" |
	sqlcipher_run "$DATA" >/dev/null 2>&1
"$SONOTERM" exams list --show-phi --data-dir "$DATA" --log "$LOG" >"$TEST_TMP/list.out" 2>>"$TEST_TMP/all.err"
check "list --show-phi succeeds" test $? -eq 0
check "listing shows the CJK name" grep -q "$cjk" "$TEST_TMP/list.out"
check "listing keeps the combining mark" grep -q "$combining" "$TEST_TMP/list.out"
check "listing has no RLO" sh -c "! grep -q '$rlo' '$TEST_TMP/list.out'"
check "listing has no ESC" sh -c "! grep -q '$ESC' '$TEST_TMP/list.out'"
check "listing has no BEL or CR" sh -c "! tr -d '\n' <'$TEST_TMP/list.out' | od -An -c | grep -q '\\\\a\|\\\\r'"
check "listing drops the OSC 52 payload" sh -c "! grep -q 'ZXZpbA' '$TEST_TMP/list.out'"
check "listing drops the OSC 0 title" sh -c "! grep -q 'title' '$TEST_TMP/list.out'"
"$SONOTERM" exams list --data-dir "$DATA" --log "$LOG" >"$TEST_TMP/plain.out"
check "list without --show-phi shows no name" sh -c "! grep -q Zorbatov '$TEST_TMP/plain.out'"

n=0
for word in Zorbatov Ottoline INPUT-1 INPUT-2 1984-02-29 Datecheck "$cjk"; do
	n=$((n + 1))
	check "logs have no test patient value $n" \
		sh -c "! grep -q -- '$word' '$LOG' '$TEST_TMP/all.err'"
done

finish
