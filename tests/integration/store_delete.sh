#!/bin/sh
# Deleting an exam leaves no trace of its patient: neither the decrypted
# database (SQL dump, plaintext export, and every raw page including free
# ones) nor the WAL contains the name, ID or birth date.  The same searches find
# the patient of the exam that was kept, which shows they can succeed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/station.log"
GONE_NAME=Fenwickshaw GONE_ID=GONE-4412 GONE_BIRTH=1958-01-30
KEPT_NAME=Marchbanks KEPT_ID=KEPT-9001 KEPT_BIRTH=1990-06-01

start_probe probe --identity "$TEST_TMP/probe" --serial SP-DEL-1 || { fail "sonoprobe did not start"; finish; }

write_patient "$TEST_TMP/gone" "$GONE_ID" "$GONE_NAME" Agatha "$GONE_BIRTH"
write_patient "$TEST_TMP/kept" "$KEPT_ID" "$KEPT_NAME" Basil "$KEPT_BIRTH"
gone=$(capture "$DATA" "$TEST_TMP/gone" 4 --log "$LOG")
kept=$(capture "$DATA" "$TEST_TMP/kept" 4 --log "$LOG")
check "two exams captured" test -n "$gone" -a -n "$kept"

# Before the delete the same page search finds the patient.
mkdir "$TEST_TMP/before"
printf 'PRAGMA wal_checkpoint(TRUNCATE);\n' | sqlcipher_run "$DATA" >/dev/null 2>&1
cp "$DATA/sonoterm.db" "$TEST_TMP/before/"
python3 "$top_srcdir/tests/integration/sqlcipher_pages.py" "$TEST_TMP/before/sonoterm.db" \
	"$DATA/sonoterm.key" >"$TEST_TMP/before/pages.bin"
check "decrypted pages hold the patient before the delete" \
	grep -aq "$GONE_NAME" "$TEST_TMP/before/pages.bin"

"$SONOTERM" exams delete "$gone" --data-dir "$DATA" --log "$LOG" >/dev/null
check "exams delete succeeds" test $? -eq 0
check "deleted exam is no longer listed" \
	sh -c "! '$SONOTERM' exams list --data-dir '$DATA' --log '$LOG' | grep -q '$gone'"
check "kept exam is still listed" \
	sh -c "'$SONOTERM' exams list --data-dir '$DATA' --log '$LOG' | grep -q '$kept'"
wal="$DATA/sonoterm.db-wal"
check "WAL is empty or absent after the delete" sh -c "test ! -s '$wal'"

# Copy the files first: the sqlcipher CLI may checkpoint on close.
cp "$DATA"/sonoterm.db* "$TEST_TMP/" 2>/dev/null
printf '.dump\n' | sqlcipher_run "$DATA" >"$TEST_TMP/dump.sql" 2>&1
plain="$TEST_TMP/plain.db"
printf "ATTACH DATABASE '%s' AS plaintext KEY '';\nSELECT sqlcipher_export('plaintext');\nDETACH DATABASE plaintext;\n" \
	"$plain" | sqlcipher_run "$DATA" >/dev/null 2>&1
python3 "$top_srcdir/tests/integration/sqlcipher_pages.py" "$TEST_TMP/sonoterm.db" \
	"$DATA/sonoterm.key" >"$TEST_TMP/pages.bin"
check "dump is readable (kept patient found)" grep -q "$KEPT_NAME" "$TEST_TMP/dump.sql"
check "plaintext export holds the kept patient" grep -aq "$KEPT_ID" "$plain"
check "decrypted pages hold the kept patient" grep -aq "$KEPT_BIRTH" "$TEST_TMP/pages.bin"
# Test output names the field, not its value.
for pair in "family name=$GONE_NAME" "patient ID=$GONE_ID" "birth date=$GONE_BIRTH"; do
	word=${pair#*=} field=${pair%%=*}
	check "dump has no deleted $field" sh -c "! grep -q -- '$word' '$TEST_TMP/dump.sql'"
	check "plaintext export has no deleted $field" sh -c "! grep -aq -- '$word' '$plain'"
	check "decrypted pages have no deleted $field" sh -c "! grep -aq -- '$word' '$TEST_TMP/pages.bin'"
	check "log has no deleted $field" sh -c "! grep -q -- '$word' '$LOG'"
done
if [ -s "$TEST_TMP/sonoterm.db-wal" ]; then
	fail "WAL copy is not empty"
fi

finish
