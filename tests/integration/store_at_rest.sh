#!/bin/sh
# The station store at rest.  A real capture from sonoprobe leaves an
# encrypted database with no SQLite header and no readable patient data, and
# files with mode 0600.  A key with zero bytes works across reopens.  A wrong
# key and a damaged file give errors that name the cause and change nothing.
# A passphrase-wrapped key rejects a wrong or missing passphrase.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/station.log"
NAME=Quaxlewort
GIVEN=Ermintrude
PID=MRN-8675309
BIRTH=1963-11-22

start_probe probe --identity "$TEST_TMP/probe" --serial SP-REST-1 || { fail "sonoprobe did not start"; finish; }

# A key with zero bytes in it, placed before the first run: the store takes
# an existing key file for a new database.
mkdir -m 700 "$DATA"
printf '\000\001\002\003\000\005\006\007\010\011\012\013\014\015\016\017' >"$DATA/sonoterm.key"
printf '\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\000' >>"$DATA/sonoterm.key"
chmod 600 "$DATA/sonoterm.key"

write_patient "$TEST_TMP/patient" "$PID" "$NAME" "$GIVEN" "$BIRTH"
uuid=$(capture "$DATA" "$TEST_TMP/patient" 5 --log "$LOG")
check "capture prints a UUID ($uuid)" sh -c "echo '$uuid' | grep -Eq '^[0-9a-f-]{36}$'"

check "database is mode 0600" test "$(stat -c %a "$DATA/sonoterm.db")" = 600
check "key file is mode 0600" test "$(stat -c %a "$DATA/sonoterm.key")" = 600
check "data folder is mode 0700" test "$(stat -c %a "$DATA")" = 700
check "database has no SQLite header" sh -c "! head -c 16 '$DATA/sonoterm.db' | grep -q 'SQLite format 3'"
# Test output names the field, not its value, so the test logs carry no
# patient data either.
for pair in "family name=$NAME" "given name=$GIVEN" "patient ID=$PID" "birth date=$BIRTH"; do
	word=${pair#*=}
	check "strings finds no ${pair%%=*} in the database files" \
		sh -c "! cat '$DATA'/sonoterm.db* | strings -n 4 | grep -q -- '$word'"
done
check "plain sqlite3 cannot read the database" \
	sh -c "! sqlite3 '$DATA/sonoterm.db' 'SELECT count(*) FROM sqlite_master' >/dev/null 2>&1"

# The key with zero bytes opens the database again, in sonoterm and in the
# sqlcipher CLI with the raw key.
check "store reopens with the zero-byte key" "$SONOTERM" exams check --data-dir "$DATA" --log "$LOG"
count=$(echo "SELECT count(*) FROM patients;" | sqlcipher_run "$DATA" 2>/dev/null | tail -1)
check "sqlcipher CLI reads the database with the raw key (patients: $count)" test "$count" = 1

# A wrong key: exit 3, a message naming the wrong key, and unchanged files.
cp "$DATA/sonoterm.key" "$TEST_TMP/good.key"
before=$(cat "$DATA"/sonoterm.db* | sha256sum)
head -c 32 /dev/urandom >"$DATA/sonoterm.key"
"$SONOTERM" exams list --data-dir "$DATA" --log "$LOG" >/dev/null 2>"$TEST_TMP/wrong.err"
rc=$?
check "wrong key exits 3 (got $rc)" test "$rc" -eq 3
check "wrong key is reported as a wrong key" grep -q "wrong key" "$TEST_TMP/wrong.err"
after=$(cat "$DATA"/sonoterm.db* | sha256sum)
check "wrong key modified nothing" test "$before" = "$after"
cp "$TEST_TMP/good.key" "$DATA/sonoterm.key"

# A damaged first page: exit 1 and "damaged", not "wrong key".
cp "$DATA/sonoterm.db" "$TEST_TMP/good.db"
printf 'XXXXXXXX' | dd of="$DATA/sonoterm.db" bs=1 seek=3000 conv=notrunc 2>/dev/null
before=$(sha256sum <"$DATA/sonoterm.db")
"$SONOTERM" exams list --data-dir "$DATA" --log "$LOG" >/dev/null 2>"$TEST_TMP/damaged.err"
rc=$?
check "damaged file exits 1 (got $rc)" test "$rc" -eq 1
check "damaged file is reported as damaged" grep -q "damaged" "$TEST_TMP/damaged.err"
check "damaged file is not called a wrong key" sh -c "! grep -q 'wrong key' '$TEST_TMP/damaged.err'"
check "damaged file was not modified" test "$before" = "$(sha256sum <"$DATA/sonoterm.db")"
cp "$TEST_TMP/good.db" "$DATA/sonoterm.db"

# A damaged later page: the integrity check finds it.
printf 'XXXXXXXX' | dd of="$DATA/sonoterm.db" bs=1 seek=$((4096 * 6 + 100)) conv=notrunc 2>/dev/null
"$SONOTERM" exams check --data-dir "$DATA" --log "$LOG" >/dev/null 2>"$TEST_TMP/check.err"
rc=$?
check "exams check fails on a damaged page (got $rc)" test "$rc" -eq 1
check "exams check reports the damage" grep -q "damaged\|does not match" "$TEST_TMP/check.err"
cp "$TEST_TMP/good.db" "$DATA/sonoterm.db"

# Passphrase mode: the data key is wrapped in an 88-byte key file, and a
# wrong or missing passphrase is rejected with exit 3 before the database is
# read.
PDATA="$TEST_TMP/pdata"
printf 'correct horse battery staple\n' >"$TEST_TMP/pass"
printf 'correct horse battery stapler\n' >"$TEST_TMP/wrongpass"
uuid=$(capture "$PDATA" "$TEST_TMP/patient" 2 --log "$LOG" --passphrase-file "$TEST_TMP/pass")
check "capture with a passphrase prints a UUID" test -n "$uuid"
check "wrapped key file is 88 bytes" test "$(stat -c %s "$PDATA/sonoterm.key")" = 88
check "wrapped key file is mode 0600" test "$(stat -c %a "$PDATA/sonoterm.key")" = 600
check "right passphrase opens the store" sh -c "'$SONOTERM' exams list --data-dir '$PDATA' \
	--passphrase-file '$TEST_TMP/pass' --log '$LOG' | grep -q '$uuid'"
"$SONOTERM" exams list --data-dir "$PDATA" --passphrase-file "$TEST_TMP/wrongpass" --log "$LOG" \
	>/dev/null 2>"$TEST_TMP/pass.err"
rc=$?
check "wrong passphrase exits 3 (got $rc)" test "$rc" -eq 3
check "wrong passphrase is reported" grep -q "wrong passphrase" "$TEST_TMP/pass.err"
"$SONOTERM" exams list --data-dir "$PDATA" --log "$LOG" >/dev/null 2>"$TEST_TMP/nopass.err"
rc=$?
check "missing passphrase exits 3 (got $rc)" test "$rc" -eq 3
check "missing passphrase is reported" grep -q "protected by a passphrase" "$TEST_TMP/nopass.err"
check "strings finds no passphrase in the key file" \
	sh -c "! strings -n 4 '$PDATA/sonoterm.key' | grep -q horse"

for pair in "family name=$NAME" "given name=$GIVEN" "patient ID=$PID" "birth date=$BIRTH"; do
	word=${pair#*=}
	check "log has no ${pair%%=*}" sh -c "! grep -q -- '$word' '$LOG' '$TEST_TMP'/*.err"
done

finish
