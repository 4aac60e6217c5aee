# Helpers for the station's cloud tests (upload_*.sh): a real sonocloud with
# an enrolled clinician and a registered scanner, a real sonoprobe, and a
# station that logs in and captures.  Source after lib.sh, link_common.sh
# and store_common.sh.

SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST
# The tests talk to loopback only, whatever proxy the environment names.
NO_PROXY=127.0.0.1,localhost
no_proxy=$NO_PROXY
export NO_PROXY no_proxy
# The same setting as an export line for the shell of a screen test
# (start_shell in tmux_lib.sh).
NO_PROXY_ENV="export NO_PROXY=$NO_PROXY no_proxy=$NO_PROXY"

CLOUD_DATA="$TEST_TMP/cloud"
CLOUD_OUTBOX="$CLOUD_DATA/outbox"
CLOUD_LOG="$TEST_TMP/cloud.log"
CLOUD_CERT="$CLOUD_DATA/cert.pem"
STATION="$TEST_TMP/station"
STATION_CONF="$TEST_TMP/sonoterm.conf"
STATION_LOG="$TEST_TMP/station.log"
USER_NAME=ana
USER_PW='violet tractor hums quietly'
PW_FILE="$TEST_TMP/password"
SCANNER_SERIAL=SN-UPLOAD-1

cloud_admin() {
	"$SONOCLOUD" "$@" --data-dir "$CLOUD_DATA" --outbox "$CLOUD_OUTBOX" \
		>>"$TEST_TMP/cloud-admin.out" 2>&1
}

# start_cloud [PORT]: serves the cloud on PORT (default a free one) for at
# most 10 minutes and sets CLOUD_PORT, CLOUD_URL and CLOUD_PIN.
start_cloud() {
	CLOUD_PORT=${1:-$(free_port)}
	CLOUD_URL="https://127.0.0.1:$CLOUD_PORT"
	: >"$CLOUD_LOG.now"
	timeout 600 "$SONOCLOUD" serve --data-dir "$CLOUD_DATA" --listen "127.0.0.1:$CLOUD_PORT" \
		--log-level info >"$CLOUD_LOG.now" 2>&1 &
	CLOUD_PID=$!
	track "$CLOUD_PID"
	if ! wait_for_line "$CLOUD_LOG.now" 20 "serving https://"; then
		cat "$CLOUD_LOG.now" >&2
		return 1
	fi
	CLOUD_PIN="SHA256:$(openssl x509 -in "$CLOUD_CERT" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
}

# stop_cloud: stops the cloud started last and keeps its log.
stop_cloud() {
	kill "$CLOUD_PID" 2>/dev/null
	wait "$CLOUD_PID" 2>/dev/null
	cat "$CLOUD_LOG.now" >>"$CLOUD_LOG"
}

# setup_cloud: creates the cloud with clinician ana (enrolled through the
# outbox) and scanner SN-UPLOAD-1 of the probe started by start_probe,
# granted to ana, then starts it.
setup_cloud() {
	cloud_admin init --hostname localhost || return 1
	cloud_admin user add "$USER_NAME" --email ana@example.org --role clinician || return 1
	cloud_admin scanner add "$SCANNER_SERIAL" "$PROBE_PIN" --model "phantom" || return 1
	cloud_admin grant "$USER_NAME" "$SCANNER_SERIAL" || return 1
	start_cloud || return 1
	enrol "$USER_NAME" ana@example.org "$USER_PW"
}

# start_probe_and_cloud: starts sonoprobe as scanner SN-UPLOAD-1 for at most
# 300 s, then the cloud as setup_cloud does.  When either fails it reports
# why and ends the test.
start_probe_and_cloud() {
	start_probe probe --serial "$SCANNER_SERIAL" --identity "$TEST_TMP/probe-id" --duration 300 ||
		{ fail "sonoprobe did not start"; finish; }
	setup_cloud || { cat "$TEST_TMP/cloud-admin.out" "$CLOUD_LOG.now" >&2; fail "cloud setup"; finish; }
}

# enrol USER ADDRESS PASSWORD: sets the password through the outbox link.
enrol() {
	file=$(grep -l "^To: $2" "$CLOUD_OUTBOX"/new/* 2>/dev/null | xargs -r ls -t | head -1)
	token=$(grep -o 'reset?token=[0-9a-f]*' "$file" | head -1 | cut -d= -f2)
	curl -sS --max-time 30 --cacert "$CLOUD_CERT" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "{\"password\":\"$3\"}" \
		"$CLOUD_URL/api/v1/password-resets/$token" | grep -q 200
}

# station CMD ARGS...: runs a cloud command of sonoterm (login, upload,
# logout) with the test's configuration and store.
station() {
	cmd=$1
	shift
	"$SONOTERM" "$cmd" --config "$STATION_CONF" --data-dir "$STATION" "$@" 2>>"$STATION_LOG"
}

# station_login [ARGS...]: logs ana in with the cloud pinned.
station_login() {
	printf '%s\n' "$USER_PW" >"$PW_FILE"
	station login --cloud "${LOGIN_URL:-$CLOUD_URL}" --user "$USER_NAME" \
		--cloud-pin "${LOGIN_PIN:-$CLOUD_PIN}" --password-file "$PW_FILE" "$@"
}

# api_token: prints a fresh session token of ana for direct API checks.
api_token() {
	curl -sS --max-time 30 --cacert "$CLOUD_CERT" -H 'Content-Type: application/json' \
		--data-binary "{\"username\":\"$USER_NAME\",\"password\":\"$USER_PW\"}" \
		"$CLOUD_URL/api/v1/sessions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# cloud_get PATH TOKEN: prints the cloud's JSON response to GET /api/v1/PATH.
cloud_get() {
	curl -sS --max-time 30 --cacert "$CLOUD_CERT" -H "Authorization: Bearer $2" \
		"$CLOUD_URL/api/v1/$1"
}

# start_relay NAME ARGS...: starts upload_relay.py with ARGS for at most
# 5 minutes, with its output in $TEST_TMP/NAME.out and NAME.err, and waits
# until it listens.
start_relay() {
	name=$1
	shift
	timeout 300 python3 "$top_srcdir/tests/integration/upload_relay.py" "$@" 300 \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	track $!
	wait_for_line "$TEST_TMP/$name.out" 10 '^listening' || { cat "$TEST_TMP/$name.err" >&2; return 1; }
}

# capture_n N FRAMES: captures N exams of FRAMES frames with the permitted
# scanner (no --pin), appends their UUIDs to $TEST_TMP/uuids, their part
# hashes to $TEST_TMP/hashes and the patients' name, ID and birth date to
# $TEST_TMP/phi_words.
capture_n() {
	n=0
	touch "$TEST_TMP/phi_words"
	while [ "$n" -lt "$1" ]; do
		seq=$(($(wc -l <"$TEST_TMP/phi_words") / 3))
		name="Zyxwaldt$seq" id="PID-UP-$seq" birth="1961-07-$(printf '%02d' $((seq % 28 + 1)))"
		write_patient "$TEST_TMP/patient" "$id" "$name" Ottilie "$birth"
		uuid=$("$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" --frames "$2" \
			--patient "$TEST_TMP/patient" --data-dir "$STATION" 2>>"$STATION_LOG") || return 1
		echo "$uuid" >>"$TEST_TMP/uuids"
		printf '%s\n%s\n%s\n' "$name" "$id" "$birth" >>"$TEST_TMP/phi_words"
		printf "SELECT e.uuid || ' ' || p.sha256 FROM exams e JOIN parts p ON p.exam_id = e.id"\
" WHERE e.uuid = '%s' ORDER BY p.id;\n" "$uuid" | sqlcipher_run "$STATION" |
			grep -E '^[0-9a-f-]{36} [0-9a-f]{64}$' >>"$TEST_TMP/hashes"
		n=$((n + 1))
	done
}

# check_cloud_exams: checks that every captured exam is on the cloud exactly
# once, committed, with its image part's SHA-256 as stored on the station
# and the metadata part, and that the cloud has no other exam.
check_cloud_exams() {
	token=$(api_token)
	cloud_get exams "$token" >"$TEST_TMP/cloud-exams.json"
	: >"$TEST_TMP/cloud-parts.json"
	for uuid in $(cat "$TEST_TMP/uuids"); do
		cloud_get "exams/$uuid" "$token" >>"$TEST_TMP/cloud-parts.json"
		echo >>"$TEST_TMP/cloud-parts.json"
	done
	python3 - "$TEST_TMP/uuids" "$TEST_TMP/hashes" "$TEST_TMP/cloud-exams.json" \
		"$TEST_TMP/cloud-parts.json" <<'PYEOF'
import collections, json, sys
uuids = open(sys.argv[1]).read().split()
hashes = collections.defaultdict(list)
for line in open(sys.argv[2]):
    uuid, sha = line.split()
    hashes[uuid].append(sha)
listed = [e["uuid"] for e in json.load(open(sys.argv[3]))["exams"]]
problems = []
counts = collections.Counter(listed)
for uuid in uuids:
    if counts[uuid] != 1:
        problems.append("%s listed %d times" % (uuid, counts[uuid]))
extra = set(listed) - set(uuids)
if extra:
    problems.append("cloud has exams never captured: %s" % sorted(extra))
for line in open(sys.argv[4]):
    if not line.strip():
        continue
    exam = json.loads(line)
    uuid = exam.get("uuid")
    parts = {p["n"]: p["sha256"] for p in exam.get("parts_list", [])}
    want = hashes.get(uuid, [])
    if exam.get("state") != "committed":
        problems.append("%s is %s, not committed" % (uuid, exam.get("state")))
    if len(parts) != len(want) + 1:
        problems.append("%s has %d parts, expected %d" % (uuid, len(parts), len(want) + 1))
    for i, sha in enumerate(want, 1):
        if parts.get(i) != sha:
            problems.append("%s part %d hash %s differs from the station's %s" % (uuid, i, parts.get(i), sha))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PYEOF
}

# check_no_phi LOG...: checks that the station's decrypted database (SQL
# dump and every raw page, free ones included), its WAL and the given logs
# contain none of the patients' names, IDs and birth dates.
check_no_phi() {
	rm -rf "$TEST_TMP/phi" && mkdir "$TEST_TMP/phi"
	cp "$STATION"/sonoterm.db* "$TEST_TMP/phi/"
	printf '.dump\n' | sqlcipher_run "$STATION" >"$TEST_TMP/phi/dump.sql" 2>&1
	python3 "$top_srcdir/tests/integration/sqlcipher_pages.py" "$TEST_TMP/phi/sonoterm.db" \
		"$STATION/sonoterm.key" >"$TEST_TMP/phi/pages.bin"
	python3 "$top_srcdir/tests/integration/sqlcipher_wal.py" "$TEST_TMP/phi/sonoterm.db-wal" \
		"$STATION/sonoterm.key" >"$TEST_TMP/phi/wal.bin"
	check "decrypted dump is readable" grep -q "CREATE TABLE exams" "$TEST_TMP/phi/dump.sql"
	found=""
	while read -r word; do
		for f in "$TEST_TMP/phi/dump.sql" "$TEST_TMP/phi/pages.bin" "$TEST_TMP/phi/wal.bin" "$@"; do
			if grep -aq -- "$word" "$f"; then
				found="$found $word@$(basename "$f")"
			fi
		done
	done <"$TEST_TMP/phi_words"
	check "no patient name, ID or birth date in the station db, WAL or logs" test -z "$found"
	[ -z "$found" ] || echo "found:$found" >&2
}
