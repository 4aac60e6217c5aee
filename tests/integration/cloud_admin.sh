#!/bin/sh
# sonocloud's administration commands on a fresh data folder: init, user
# enrolment through the outbox, scanners, grants, settings and the audit
# table, plus the file modes and encryption of what init creates.
. "$top_srcdir/tests/integration/lib.sh"

DATA="$TEST_TMP/data"
OUTBOX="$TEST_TMP/outbox"
OUT="$TEST_TMP/out"
ERR="$TEST_TMP/err"

# cloud ARGS...: runs sonocloud with the test's folders; stdout in $OUT,
# stderr in $ERR, exit status in $rc.
cloud() {
	"$SONOCLOUD" "$@" --data-dir "$DATA" --outbox "$OUTBOX" >"$OUT" 2>"$ERR"
	rc=$?
}

expect_rc() {
	check "$1 (exit $rc, expected $2)" test "$rc" -eq "$2"
}

mode_of() {
	stat -c %a "$1"
}

# ---- init
cloud init --hostname cloud.test
expect_rc "init succeeds" 0
fp=$(sed -n 's/^fingerprint //p' "$OUT")
check "init prints a SHA-256 fingerprint" sh -c "echo '$fp' | grep -Eq '^SHA256:[0-9a-f]{64}$'"
want=$(openssl x509 -in "$DATA/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
	tr 'A-F' 'a-f')
check "fingerprint matches openssl's" test "$fp" = "SHA256:$want"
check "certificate has an RSA key" sh -c \
	"openssl x509 -in '$DATA/cert.pem' -noout -text | grep -q 'rsaEncryption'"
check "key file is mode 0600" test "$(mode_of "$DATA/sonocloud.key")" = 600
check "database is mode 0600" test "$(mode_of "$DATA/sonocloud.db")" = 600
check "certificate key is mode 0600" test "$(mode_of "$DATA/key.pem")" = 600
check "key file holds 64 hex digits" grep -Eqx '[0-9a-f]{64}' "$DATA/sonocloud.key"
check "database has no SQLite header" sh -c \
	"! head -c 16 '$DATA/sonocloud.db' | grep -aq 'SQLite format 3'"
cp "$DATA/sonocloud.key" "$TEST_TMP/key.before"
cloud init --hostname cloud.test
expect_rc "second init fails" 1
check "second init names the existing database" grep -q "already exists" "$ERR"
check "second init keeps the key" cmp -s "$DATA/sonocloud.key" "$TEST_TMP/key.before"

# ---- SQLCipher settings, read back with the sqlcipher shell when present
if command -v sqlcipher >/dev/null 2>&1; then
	key=$(cat "$DATA/sonocloud.key")
	printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\nPRAGMA kdf_iter = 64000;\nSELECT value FROM meta WHERE key = 'schema_version';\nPRAGMA journal_mode;\n" \
		"$key" | sqlcipher "$DATA/sonocloud.db" >"$TEST_TMP/sql.out" 2>&1
	check "sqlcipher opens the database with the raw key" grep -qx 1 "$TEST_TMP/sql.out"
	check "journal mode is WAL" grep -qx wal "$TEST_TMP/sql.out"
else
	echo "note: sqlcipher shell not installed; raw-key check by the shell not run"
fi

# ---- users and enrolment
cloud user add alice --email alice@example.org --role clinician
expect_rc "user add succeeds" 0
msg=$(ls "$OUTBOX"/new/* 2>/dev/null | head -n 1)
check "enrolment message is in outbox/new" test -n "$msg"
check "outbox/tmp is empty" test -z "$(ls -A "$OUTBOX/tmp")"
check "message is mode 0600" test "$(mode_of "$msg")" = 600
check "message is addressed to alice" grep -qx "To: alice@example.org" "$msg"
check "message has a subject and date" sh -c "grep -q '^Subject: ' '$msg' && grep -q '^Date: ' '$msg'"
token=$(sed -n 's|^https://cloud.test/reset?token=\([0-9a-f]\{64\}\)$|\1|p' "$msg")
check "message has a reset link with a 64-hex token" test "${#token}" -eq 64

cloud user add alice --email other@example.org
expect_rc "adding a taken name fails" 1
check "a taken name is reported as such" grep -q "a user named alice already exists" "$ERR"
cloud user add "Bad Name" --email bad@example.org
expect_rc "an invalid name is a usage error" 2
cloud user add bob --email 'bob@example.org
Bcc: eve@example.org'
expect_rc "an email with a line break is a usage error" 2
cloud user add bob --email bob@example.org --role superuser
expect_rc "an unknown role is a usage error" 2
cloud user add olga --email olga@example.org --role observer
expect_rc "observer added" 0
check "two enrolment messages" test "$(ls "$OUTBOX/new" | wc -l)" -eq 2

cloud user list
check "user list shows alice as a clinician still enrolling" \
	grep -q "^alice	alice@example.org	clinician	enabled	enrolling$" "$OUT"

cloud user reset alice --hostname other.test:8443
expect_rc "user reset succeeds" 0
check "reset link uses --hostname" grep -rqs "^https://other.test:8443/reset?token=" "$OUTBOX/new"
cloud user reset nobody
expect_rc "reset of an unknown user fails" 1
cloud user reset alice --hostname 'evil.test/phish?x='
expect_rc "a --hostname with a path is a usage error" 2
cloud init --hostname 'bad host'
expect_rc "init rejects a host name with a space" 2

# ---- scanners and grants
pin="SHA256:$(printf '%064d' 7 | tr 0 a)"
cloud scanner add SN-1001 "$pin" --model "Phantom L12"
expect_rc "scanner add succeeds" 0
cloud scanner add SN-1003 "SHA256:$(printf '%064d' 7 | tr 0 B)"
expect_rc "an upper-case fingerprint is accepted" 0
cloud scanner list
check "the fingerprint is stored in lower case" grep -q "^SN-1003	SHA256:b*7	" "$OUT"
cloud scanner add SN-1002 SHA256:1234
expect_rc "a malformed fingerprint is a usage error" 2
cloud scanner add SN-1004 "$pin" --model "$(printf 'Evil\033[2J')"
expect_rc "a model with an escape sequence is a usage error" 2
check "the message names the model rule" grep -q -- "--model at most 128 bytes" "$ERR"
cloud scanner list
check "scanner list shows the scanner" grep -q "^SN-1001	$pin	Phantom L12$" "$OUT"
cloud grant alice SN-1001
expect_rc "grant succeeds" 0
cloud grant alice SN-1001
expect_rc "granting twice is harmless" 0
cloud grant nobody SN-1001
expect_rc "grant to an unknown user fails" 1
cloud grant alice SN-9999
expect_rc "grant of an unknown scanner fails" 1
cloud revoke alice SN-1001
expect_rc "revoke succeeds" 0
cloud revoke alice SN-1001
expect_rc "revoking a missing grant fails" 1

# ---- settings
cloud settings set retention_days 45
expect_rc "settings set succeeds" 0
cloud settings set retention_days 99999
expect_rc "an out-of-range value is a usage error" 2
check "the error gives the range" grep -q "0 to 3650" "$ERR"
cloud settings set colour blue
expect_rc "an unknown key is a usage error" 2
cloud settings set dicom_destinations '[{"name":"PACS","host":"127.0.0.1","port":11112,"ae_title":"ORTHANC","tls":false}]'
expect_rc "DICOM destinations set" 0
cloud settings show
check "settings show has the new retention" grep -q '"retention_days": 45' "$OUT"
check "settings show has the destination" grep -q '"ae_title": "ORTHANC"' "$OUT"

# ---- disable, audit
cloud user disable alice
expect_rc "user disable succeeds" 0
cloud audit
expect_rc "audit succeeds" 0
cp "$OUT" "$TEST_TMP/audit.txt"
for action in init user.add enrol.issue reset.issue scanner.add grant.add grant.revoke \
	settings.set user.disable; do
	check "audit lists $action" grep -q "	$action	" "$TEST_TMP/audit.txt"
done
check "audit times are UTC ISO 8601" sh -c \
	"head -n 1 '$TEST_TMP/audit.txt' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z	'"
check "audit never shows the token" sh -c "! grep -q '$token' '$TEST_TMP/audit.txt'"
cloud audit --since 2099-01-01
check "audit --since in the future is empty" test ! -s "$OUT"
cloud audit --since yesterday
expect_rc "a malformed --since is a usage error" 2

# ---- help and errors
for sub in init user scanner grant revoke settings audit; do
	"$SONOCLOUD" "$sub" --help >"$OUT" 2>&1
	check "$sub --help exits 0 with usage" sh -c "test $? -eq 0 && grep -q '^Usage: sonocloud $sub' '$OUT'"
done
"$SONOCLOUD" frobnicate >/dev/null 2>&1
rc=$?
expect_rc "an unknown command is a usage error" 2
chmod 0644 "$DATA/sonocloud.key"
cloud user list
expect_rc "a group-readable key file is a security error" 3
check "the error asks for mode 0600" grep -q "0600" "$ERR"
chmod 0600 "$DATA/sonocloud.key"
"$SONOCLOUD" user list --data-dir "$TEST_TMP/missing" >"$OUT" 2>"$ERR"
rc=$?
expect_rc "a missing data folder fails" 1
check "the error suggests init" grep -q "sonocloud init" "$ERR"

finish
