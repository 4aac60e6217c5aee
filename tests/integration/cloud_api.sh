#!/bin/sh
# sonocloud's API over real TLS with curl: enrolment, login, roles, exam
# upload with receipts, ownership, password resets, disabled users,
# throttling, request limits and a slow client; then the log is searched
# for patient data, passwords and tokens.
. "$top_srcdir/tests/integration/lib.sh"

SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST

DATA="$TEST_TMP/data"
OUTBOX="$DATA/outbox"
LOG="$TEST_TMP/serve.log"
PORT=$(free_port)
URL="https://127.0.0.1:$PORT"
CERT="$DATA/cert.pem"
BODY="$TEST_TMP/body"
UUID=3b0f6c2e-6a52-4f0e-9c1d-2f5e8a7b9c01
PATIENT_NAME='Quintavalle^Zelda'
PATIENT_ID='PID-778899-Q'
PATIENT_BIRTH='19700314'
PW_ANA='violet tractor hums quietly'
PW_BOB='seven lanterns over the fjord'
PW_OLGA='orange kayak meets granite cliff'
PW_ADAM='marble clock ticks in winter'
PW_ANA_NEW='quiet harbour lights at dawn'

admin() {
	"$SONOCLOUD" "$@" --data-dir "$DATA" --outbox "$OUTBOX" >>"$TEST_TMP/admin.out" 2>&1
}

# api METHOD PATH [CURL-ARGS...]: sets STATUS and writes the body to $BODY.
api() {
	method=$1 path=$2
	shift 2
	STATUS=$(curl -sS --max-time 30 --cacert "$CERT" -o "$BODY" -w '%{http_code}' \
		-X "$method" "$URL$path" "$@")
}

# expect_status DESCRIPTION WANT: records whether the last api call got WANT.
expect_status() {
	if [ "$STATUS" = "$2" ]; then
		pass "$1 ($2)"
	else
		fail "$1: expected HTTP $2, got $STATUS: $(head -c 300 "$BODY")"
	fi
}

# json_get KEY: prints a top-level member of $BODY.
json_get() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$BODY" "$1"
}

# mail_token ADDRESS: prints the token of the newest outbox message to ADDRESS.
mail_token() {
	file=$(grep -l "^To: $1" "$OUTBOX"/new/* 2>/dev/null | xargs -r ls -t | head -1)
	[ -n "$file" ] && grep -o 'reset?token=[0-9a-f]*' "$file" | head -1 | cut -d= -f2
}

# json_post PATH JSON [CURL-ARGS...]
json_post() {
	path=$1 json=$2
	shift 2
	api POST "$path" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}

login() {
	json_post /api/v1/sessions "{\"username\":\"$1\",\"password\":\"$2\"}"
}

# start_server [SERVE-ARGS...]: starts sonocloud serve, appending to $LOG, and
# waits until it logs that it serves.
start_server() {
	: >>"$LOG"
	starts=$(grep -c "serving https://" "$LOG")
	timeout 600 "$SONOCLOUD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
		--request-timeout 5 --reset-lifetime 4 --log-level info "$@" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	track "$SERVER_PID"
	i=0
	while [ "$(grep -c "serving https://" "$LOG")" -le "${starts:-0}" ]; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || { fail "server did not start"; cat "$LOG"; finish; }
		sleep 0.1
	done
}

# ---------------------------------------------------------------- setup
admin init --hostname localhost || { cat "$TEST_TMP/admin.out"; fail "init"; finish; }
admin user add ana --email ana@example.org --role clinician
admin user add bob --email bob@example.org --role clinician
admin user add olga --email olga@example.org --role observer
admin user add adam --email adam@example.org --role administrator
admin scanner add SN-1001 "SHA256:$(printf '%064d' 7)" --model "Sonoterm phantom"
admin grant ana SN-1001
start_server

# ---------------------------------------------------------------- enrolment
for entry in "ana:$PW_ANA" "bob:$PW_BOB" "olga:$PW_OLGA" "adam:$PW_ADAM"; do
	user=${entry%%:*}
	pw=${entry#*:}
	token=$(mail_token "$user@example.org")
	json_post "/api/v1/password-resets/$token" "{\"password\":\"$pw\"}"
	expect_status "enrolment of $user sets the password" 200
done

token=$(mail_token "ana@example.org")
json_post "/api/v1/password-resets/$token" "{\"password\":\"$PW_ANA_NEW\"}"
expect_status "enrolment token works only once" 400

# ---------------------------------------------------------------- login
login ana "$PW_ANA"
expect_status "login of ana" 201
ANA=$(json_get token)
check "login returns a 64-digit token" test "${#ANA}" -eq 64
login bob "$PW_BOB"
BOB=$(json_get token)
login olga "$PW_OLGA"
OLGA=$(json_get token)
login adam "$PW_ADAM"
ADAM=$(json_get token)

login ana "wrong password for ana"
expect_status "wrong password" 401
WRONG=$(cat "$BODY")
login nosuchuser "wrong password for ana"
expect_status "unknown user" 401
check "unknown user and wrong password get the same answer" test "$WRONG" = "$(cat "$BODY")"

api GET /api/v1/me -H "Authorization: Bearer $ANA"
expect_status "GET /me" 200
check "GET /me names the user" test "$(json_get name)" = ana
api GET /api/v1/scanners -H "Authorization: Bearer $ANA"
expect_status "GET /scanners" 200
check "ana's scanners list SN-1001" grep -q SN-1001 "$BODY"
api GET /api/v1/scanners -H "Authorization: Bearer $BOB"
check "bob's scanners do not list SN-1001" sh -c "! grep -q SN-1001 '$BODY'"
api GET /api/v1/settings -H "Authorization: Bearer $ANA"
expect_status "GET /settings" 200

# ---------------------------------------------------------------- authentication and roles
api GET /api/v1/me
expect_status "no token" 401
api GET /api/v1/me -H "Authorization: Bearer $(printf '%064d' 0)"
expect_status "unknown token" 401
api GET /api/v1/exams -H "Authorization: Bearer $ADAM"
expect_status "administrator cannot list exams" 403
json_post /api/v1/exams "{\"uuid\":\"$UUID\",\"patient\":{}}" -H "Authorization: Bearer $OLGA"
expect_status "observer cannot create exams" 403

# ---------------------------------------------------------------- upload
EXAM="{\"uuid\":\"$UUID\",\"patient\":{\"name\":\"$PATIENT_NAME\",\"id\":\"$PATIENT_ID\",\"birth_date\":\"$PATIENT_BIRTH\"},\"meta\":{\"preset\":\"abdomen\"}}"
json_post /api/v1/exams "$EXAM" -H "Authorization: Bearer $ANA"
expect_status "create exam" 201
json_post /api/v1/exams "$EXAM" -H "Authorization: Bearer $ANA"
expect_status "create the same exam again" 200

for n in 1 2 3; do
	head -c $((n * 300000 + 17)) /dev/urandom >"$TEST_TMP/part$n"
	sha=$(sha256sum "$TEST_TMP/part$n" | cut -d' ' -f1)
	echo "$n $(stat -c %s "$TEST_TMP/part$n") $sha" >>"$TEST_TMP/sent"
	api PUT "/api/v1/exams/$UUID/parts/$n" -H "Authorization: Bearer $ANA" \
		-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha" \
		--data-binary "@$TEST_TMP/part$n"
	expect_status "put part $n" 200
done
sha2=$(sha256sum "$TEST_TMP/part2" | cut -d' ' -f1)
api PUT "/api/v1/exams/$UUID/parts/2" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha2" \
	--data-binary "@$TEST_TMP/part2"
check "put the same part again is idempotent" test "$STATUS" = 200 -o "$STATUS" = 201
api PUT "/api/v1/exams/$UUID/parts/4" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $(printf '%064d' 1)" \
	--data-binary "@$TEST_TMP/part1"
expect_status "part with a wrong hash" 422
api PUT "/api/v1/exams/$UUID/parts/4" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$TEST_TMP/part1"
expect_status "part without a hash" 400
api PUT "/api/v1/exams/$UUID/parts/4" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: text/plain' -H "X-Content-SHA256: $sha" --data-binary "@$TEST_TMP/part1"
expect_status "part with the wrong media type" 415
api PUT "/api/v1/exams/$UUID/parts/4" -H "Authorization: Bearer $BOB" \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha" \
	--data-binary "@$TEST_TMP/part3"
expect_status "another user cannot put a part" 404

api POST "/api/v1/exams/$UUID/commit" -H "Authorization: Bearer $ANA"
expect_status "commit" 200
cp "$BODY" "$TEST_TMP/receipt"
check "receipt lists every part with its size and SHA-256" python3 - "$TEST_TMP/receipt" "$TEST_TMP/sent" "$UUID" <<'EOF'
import json, sys
receipt = json.load(open(sys.argv[1]))
sent = sorted(tuple(line.split()) for line in open(sys.argv[2]))
got = sorted((str(p["n"]), str(p["size"]), p["sha256"]) for p in receipt["parts"])
sys.exit(0 if got == sent and receipt.get("receipt_id") and
         receipt.get("uuid", receipt.get("exam")) == sys.argv[3] else 1)
EOF
api POST "/api/v1/exams/$UUID/commit" -H "Authorization: Bearer $ANA"
check "commit again returns the same receipt" cmp -s "$BODY" "$TEST_TMP/receipt"

api GET /api/v1/exams -H "Authorization: Bearer $ANA"
expect_status "list exams" 200
check "the list contains the exam" grep -q "$UUID" "$BODY"
api GET "/api/v1/exams/$UUID" -H "Authorization: Bearer $ANA"
expect_status "owner reads the exam" 200
check "owner sees the patient" grep -q "$PATIENT_ID" "$BODY"
api GET "/api/v1/exams/$UUID" -H "Authorization: Bearer $BOB"
expect_status "another clinician gets 404 for the exam" 404
api GET "/api/v1/exams/$UUID" -H "Authorization: Bearer $OLGA"
expect_status "observer reads the committed exam" 200
check "observer does not see the patient" sh -c "! grep -q -e '$PATIENT_ID' -e 'Quintavalle' '$BODY'"

# ---------------------------------------------------------------- request limits
api GET /api/v1/nothing
expect_status "unknown path" 404
api DELETE /api/v1/exams -H "Authorization: Bearer $ANA"
expect_status "wrong method" 405
python3 -c 'print("{\"username\":\"" + "a" * 70000 + "\"}")' >"$TEST_TMP/big.json"
api POST /api/v1/sessions -H 'Content-Type: application/json' --data-binary "@$TEST_TMP/big.json"
expect_status "JSON body over 64 KiB" 413
python3 -c 'print("{\"a\":" + "[" * 40 + "]" * 40 + "}")' >"$TEST_TMP/deep.json"
api POST /api/v1/sessions -H 'Content-Type: application/json' --data-binary "@$TEST_TMP/deep.json"
expect_status "JSON nested 40 deep" 413
json_post /api/v1/sessions '{"username":"ana"'
expect_status "invalid JSON" 400
api POST /api/v1/sessions -H 'Content-Type: text/plain' --data-binary '{}'
expect_status "login with the wrong media type" 415
api GET /api/v1/me -H "X-Padding: $(head -c 9000 /dev/zero | tr '\0' a)"
check "headers over 8 KiB are rejected" test "$STATUS" = 413 -o "$STATUS" = 400 -o "$STATUS" = 431
UUID2=5c1d7e3a-8b64-4f2e-a9d0-6e4b3c2a1f07
json_post /api/v1/exams "{\"uuid\":\"$UUID2\",\"patient\":{}}" -H "Authorization: Bearer $ANA"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/max"
api PUT "/api/v1/exams/$UUID2/parts/1" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: application/octet-stream' \
	-H "X-Content-SHA256: $(sha256sum "$TEST_TMP/max" | cut -d' ' -f1)" --data-binary "@$TEST_TMP/max"
expect_status "part of exactly 16 MiB is accepted" 200
rm -f "$TEST_TMP/max"
api HEAD /api/v1/me -H "Authorization: Bearer $ANA" -I
expect_status "HEAD request" 200
# With -I curl writes the headers where the body would go.
check "HEAD reply has no body" sh -c "! grep -q '\"name\"' '$BODY'"
head -c $((17 * 1024 * 1024)) /dev/zero >"$TEST_TMP/huge"
api PUT "/api/v1/exams/$UUID/parts/9" -H "Authorization: Bearer $ANA" \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha" \
	--data-binary "@$TEST_TMP/huge"
check "body over 16 MiB is rejected" test "$STATUS" = 413 -o "$STATUS" = 000
rm -f "$TEST_TMP/huge"
api GET /api/v1/me -D "$TEST_TMP/headers" -H "Authorization: Bearer $ANA"
for h in Strict-Transport-Security Cache-Control X-Content-Type-Options Content-Security-Policy; do
	check "response carries $h" grep -qi "^$h:" "$TEST_TMP/headers"
done
api GET / -D "$TEST_TMP/headers"
expect_status "start page" 200
check "page has a content security policy" grep -qi "^Content-Security-Policy: default-src 'none'" "$TEST_TMP/headers"

# A client that sends one byte a second must be cut off after the request
# timeout (5 s here) even though each byte arrives before the idle timeout.
check "slow client is cut off" python3 - "$PORT" "$CERT" <<'EOF'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
start = time.monotonic()
request = b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
try:
    for byte in request:
        sock.send(bytes([byte]))
        time.sleep(1)
        if time.monotonic() - start > 30:
            sys.exit(1)
except (OSError, ssl.SSLError):
    pass
# Closed when a send fails or the server's close_notify or FIN arrives.
sock.settimeout(5)
try:
    data = sock.recv(100)
except (OSError, ssl.SSLError):
    data = b""
elapsed = time.monotonic() - start
print("slow client cut off after %.1f s" % elapsed)
sys.exit(0 if data == b"" and elapsed < 15 else 1)
EOF

# ---------------------------------------------------------------- password reset
json_post /api/v1/password-resets '{"username":"ana"}'
expect_status "reset request for a real user" 202
REAL=$(cat "$BODY")
json_post /api/v1/password-resets '{"username":"nobody-here"}'
expect_status "reset request for an unknown user" 202
check "reset answers do not tell whether the user exists" test "$REAL" = "$(cat "$BODY")"
RESET=$(mail_token ana@example.org)
json_post "/api/v1/password-resets/$RESET" '{"password":"password123456789"}'
expect_status "common password is rejected with a reason" 422
check "the rejection has a message" test -n "$(json_get message)"
json_post "/api/v1/password-resets/$RESET" "{\"password\":\"$PW_ANA_NEW\"}"
expect_status "reset token sets the password" 200
json_post "/api/v1/password-resets/$RESET" "{\"password\":\"$PW_ANA_NEW and more\"}"
expect_status "reset token works only once" 400
api GET /api/v1/me -H "Authorization: Bearer $ANA"
expect_status "reset revokes the old session" 401
login ana "$PW_ANA"
expect_status "old password no longer works" 401
login ana "$PW_ANA_NEW"
expect_status "new password works" 201
ANA=$(json_get token)

# Reset links live 4 s in this test (--reset-lifetime 4).  A user gets one
# reset message per 5 minutes, so this part uses bob.
json_post /api/v1/password-resets '{"email":"bob@example.org"}'
EXPIRED=$(mail_token bob@example.org)
sleep 6
json_post "/api/v1/password-resets/$EXPIRED" "{\"password\":\"$PW_BOB and more\"}"
expect_status "expired reset token is rejected" 400
login bob "$PW_BOB"
expect_status "bob's password is unchanged after the expired reset" 201

api GET /reset -G --data-urlencode "token=$EXPIRED"
expect_status "reset page" 200
check "reset page has a password form" grep -q 'type="password"' "$BODY"
api GET /reset -G --data-urlencode 'token=<script>'
expect_status "reset page with a malformed token" 400
check "reset page does not echo markup" sh -c "! grep -q '<script>' '$BODY'"

# The browser path: the page's form posts to /reset.
json_post /api/v1/password-resets '{"username":"adam"}'
FORM_TOKEN=$(mail_token adam@example.org)
api POST /reset --data-urlencode "token=$FORM_TOKEN" --data-urlencode "password=$PW_ADAM and more"
expect_status "reset form sets the password" 200
check "reset form confirms" grep -q "Password set" "$BODY"
api POST /reset --data-urlencode "token=$FORM_TOKEN" --data-urlencode "password=$PW_ADAM again"
expect_status "reset form token works only once" 400
login adam "$PW_ADAM and more"
expect_status "password from the form works" 201

# ---------------------------------------------------------------- logout and disabled users
api DELETE /api/v1/sessions/current -H "Authorization: Bearer $ANA"
expect_status "logout" 204
api GET /api/v1/me -H "Authorization: Bearer $ANA"
expect_status "session ends at logout" 401
api GET /api/v1/me -H "Authorization: Bearer $BOB"
expect_status "bob's session works before disabling" 200
admin user disable bob
api GET /api/v1/me -H "Authorization: Bearer $BOB"
expect_status "disabled user's session stops working" 401
login bob "$PW_BOB"
expect_status "disabled user cannot log in" 401

# ---------------------------------------------------------------- throttling
for i in 1 2 3 4 5; do
	login olga "wrong password number $i"
done
login olga "$PW_OLGA"
expect_status "sixth attempt after five failures is throttled" 429
api POST /api/v1/sessions -D "$TEST_TMP/headers" -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"olga\",\"password\":\"$PW_OLGA\"}"
check "throttled answer has Retry-After" grep -qi '^Retry-After: [0-9]' "$TEST_TMP/headers"

# ---------------------------------------------------------------- restart and session expiry
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
check "server exits 0 on SIGTERM" test $? -eq 0
check "log records the stop" grep -q "stopped" "$LOG"

start_server --session-idle 2
login ana "$PW_ANA_NEW"
expect_status "login after a restart" 201
SHORT=$(json_get token)
api GET "/api/v1/exams/$UUID" -H "Authorization: Bearer $SHORT"
expect_status "the exam survives a restart" 200
sleep 4
api GET /api/v1/me -H "Authorization: Bearer $SHORT"
expect_status "session ends after the idle limit" 401
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
check "restarted server exits 0 on SIGTERM" test $? -eq 0

# ---------------------------------------------------------------- logs
cat "$LOG" "$TEST_TMP/admin.out" >"$TEST_TMP/all.log"
for secret in "$PATIENT_NAME" Quintavalle "$PATIENT_ID" "$PATIENT_BIRTH" "$PW_ANA" "$PW_BOB" \
	"$PW_OLGA" "$PW_ADAM" "$PW_ANA_NEW" "$ANA" "$BOB" "$OLGA" "$ADAM" "$RESET" "$EXPIRED" \
	"$FORM_TOKEN" "$SHORT"; do
	check "logs do not contain a secret or patient field (${#secret} chars)" \
		sh -c "! grep -qF -e '$secret' '$TEST_TMP/all.log'"
done
if [ "$TEST_FAILED" -ne 0 ]; then
	echo "--- server log"
	tail -n 60 "$LOG"
fi
finish
