#!/bin/sh
# sonocloud's HTTP edge, driven with raw requests over TLS.  Requests to
# which evhttp would reply with its own HTML page get a JSON error with the
# security headers.  A body is rejected before it is read when the route
# needs a session and the request has none, or when it exceeds the route's
# limit.  A client that sends the body without waiting still reads the
# reply, because the server discards the body before it closes.  Ambiguous
# body lengths (request smuggling) get 400, and pipelined and
# "Expect: 100-continue" requests still work.
. "$top_srcdir/tests/integration/lib.sh"

SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/serve.log"
PORT=$(free_port)
URL="https://127.0.0.1:$PORT"
CERT="$DATA/cert.pem"
OUT="$TEST_TMP/replies.json"
UUID=3b0f6c2e-6a52-4f0e-9c1d-2f5e8a7b9c01
PART="/api/v1/exams/$UUID/parts"
PW='violet tractor hums quietly'
TEN_MIB=10485760

# raw REQUEST [HTTP_RAW-ARGS...]: sends REQUEST, with its backslash escapes
# such as \r\n expanded, and records the replies in $OUT.
raw() {
	request=$1
	shift
	printf '%b' "$request" |
		python3 "$top_srcdir/tests/integration/http_raw.py" "$PORT" "$CERT" "$OUT" "$@"
}

# expect_rejection DESCRIPTION STATUS ERROR: checks that the last raw request
# got exactly one reply, with STATUS, every security header and the body
# {"error": ERROR, "message": ...}, that sending did not fail, and that the
# server then closed the connection.  After a raw request with --reply-only,
# the reply's "Connection: close" header replaces the check of the close.
expect_rejection() {
	if problems=$(python3 - "$OUT" "$2" "$3" <<'EOF'
import json, sys
record = json.load(open(sys.argv[1]))
status, error = int(sys.argv[2]), sys.argv[3]
problems = []
if len(record["responses"]) != 1:
    problems.append("%d replies" % len(record["responses"]))
else:
    reply = record["responses"][0]
    headers = reply["headers"]
    if reply["status"] != status:
        problems.append("status %d" % reply["status"])
    for name in ("strict-transport-security", "cache-control", "x-content-type-options",
                 "x-frame-options", "referrer-policy", "content-security-policy"):
        if name not in headers:
            problems.append("no " + name)
    if headers.get("content-type") != ["application/json"]:
        problems.append("content type %s" % headers.get("content-type"))
    try:
        body = json.loads(reply["body"])
        if body.get("error") != error:
            problems.append("error %r" % body.get("error"))
        if not body.get("message"):
            problems.append("no message")
    except ValueError:
        problems.append("body is not JSON: %r" % reply["body"][:80])
if record["send_error"]:
    problems.append("sending failed: " + record["send_error"])
announced = [r["headers"].get("connection") for r in record["responses"]] == [["close"]]
if not record["closed"] and not (record["reply_only"] and announced):
    problems.append("connection still open")
print("; ".join(problems))
sys.exit(1 if problems else 0)
EOF
	); then
		pass "$1 ($2 $3)"
	else
		fail "$1: $problems"
	fi
}

# raw_streamed HEAD BODYFILE [HTTP_RAW-ARGS...]: sends HEAD (with escapes
# expanded) and BODYFILE in one go, as a client that does not wait for
# 100 Continue does, and records the replies in $OUT.
raw_streamed() {
	request=$1
	body=$2
	shift 2
	{ printf '%b' "$request"; cat "$body"; } |
		python3 "$top_srcdir/tests/integration/http_raw.py" "$PORT" "$CERT" "$OUT" "$@"
}

# reply_field EXPRESSION: prints EXPRESSION evaluated on the recorded
# replies, which are bound to the name record.
reply_field() {
	python3 -c 'import json, sys; record = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$OUT" "$1"
}

# ---------------------------------------------------------------- setup
"$SONOCLOUD" init --data-dir "$DATA" --outbox "$DATA/outbox" --hostname localhost \
	>"$TEST_TMP/admin.out" 2>&1 &&
	"$SONOCLOUD" user add ana --email ana@example.org --role clinician --data-dir "$DATA" \
		--outbox "$DATA/outbox" >>"$TEST_TMP/admin.out" 2>&1 ||
	{ cat "$TEST_TMP/admin.out"; fail "sonocloud init and user add"; finish; }
timeout 600 "$SONOCLOUD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --log-level info \
	>"$LOG" 2>&1 &
SERVER_PID=$!
track "$SERVER_PID"
wait_for_line "$LOG" 20 "serving https://" || { cat "$LOG"; fail "server did not start"; finish; }

ENROL=$(grep -ho 'reset?token=[0-9a-f]*' "$DATA"/outbox/new/* | head -1 | cut -d= -f2)
curl -sS --max-time 30 --cacert "$CERT" -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "{\"password\":\"$PW\"}" "$URL/api/v1/password-resets/$ENROL"
TOKEN=$(curl -sS --max-time 30 --cacert "$CERT" -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"ana\",\"password\":\"$PW\"}" "$URL/api/v1/sessions" |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("token", ""))')
check "ana logs in" test "${#TOKEN}" -eq 64
AUTH="Authorization: Bearer $TOKEN"
status=$(curl -sS --max-time 30 --cacert "$CERT" -o /dev/null -w '%{http_code}' -H "$AUTH" \
	-H 'Content-Type: application/json' --data-binary "{\"uuid\":\"$UUID\",\"patient\":{}}" \
	"$URL/api/v1/exams")
check "ana creates an exam" test "$status" = 201

# ---------------------------------------------------------------- replies evhttp made itself
raw 'GARBAGE\r\n\r\n'
expect_rejection "malformed request line" 400 invalid_request
raw 'GET /api/v1/me HTTP/1.1\nHost: x\n\n'
expect_rejection "lines ending in LF alone" 400 invalid_request
raw 'TRACE /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n'
expect_rejection "method the server does not support" 405 method_not_allowed
check "405 lists the allowed methods" test "$(reply_field "record['responses'][0]['headers'].get('allow')")" = "['GET, HEAD']"
raw 'FOO /nothing HTTP/1.1\r\nHost: x\r\n\r\n'
expect_rejection "unknown method on an unknown path" 404 not_found
raw "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Padding: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n"
expect_rejection "headers over 8 KiB" 431 headers_too_large
raw 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n'
expect_rejection "unsupported expectation" 417 expectation_failed
raw 'GET /api/v1/me HTTP/2.0\r\nHost: x\r\n\r\n'
expect_rejection "HTTP/2.0 request line" 505 version_not_supported

# ---------------------------------------------------------------- bodies rejected before they are read
# Each request below declares a body but sends only its head, so a reply
# proves the server decided without reading the body.  The server then
# waits a few seconds for the body it would discard, so the client stops
# reading after the reply.
raw "PUT $PART/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: $TEN_MIB\r\n\r\n" --reply-only
expect_rejection "10 MiB part without a token" 401 unauthorized
check "401 names the Bearer scheme" test "$(reply_field "record['responses'][0]['headers'].get('www-authenticate')")" = "['Bearer realm=\"sonocloud\"']"
raw "PUT $PART/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $(printf '%064d' 0)\r\nContent-Type: application/octet-stream\r\nContent-Length: $TEN_MIB\r\n\r\n" --reply-only
expect_rejection "10 MiB part with an unknown token" 401 invalid_token
raw "POST /api/v1/exams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" --reply-only
expect_rejection "JSON body without a token" 401 unauthorized
raw 'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n' --reply-only
expect_rejection "1 MiB body to a JSON route" 413 too_large
raw "PUT $PART/1 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Type: application/octet-stream\r\nContent-Length: $((17 * 1024 * 1024))\r\n\r\n" --reply-only
expect_rejection "17 MiB part with a valid token" 413 too_large
raw "POST /api/v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: $TEN_MIB\r\n\r\n" --reply-only
expect_rejection "body to an unknown path" 404 not_found

# ---------------------------------------------------------------- ambiguous body lengths
raw 'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}'
expect_rejection "two equal Content-Length headers" 400 ambiguous_length
raw 'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\ncontent-length: 40\r\n\r\n{}'
expect_rejection "two different Content-Length headers" 400 ambiguous_length
raw 'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n2\r\n{}\r\n0\r\n\r\n'
expect_rejection "Content-Length with Transfer-Encoding" 400 ambiguous_length
raw 'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'
expect_rejection "chunked body" 411 length_required
raw 'HEAD /api/v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nHELLO'
expect_rejection "HEAD request with a body" 400 invalid_request

# ---------------------------------------------------------------- requests that still work
EXAM2="{\"uuid\":\"5c1d7e3a-8b64-4f2e-a9d0-6e4b3c2a1f07\",\"patient\":{}}"
raw "GET /api/v1/me HTTP/1.1\r\nHost: x\r\n$AUTH\r\n\r\nGET /api/v1/nothing HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/v1/exams HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Type: application/json\r\nContent-Length: ${#EXAM2}\r\n\r\n${EXAM2}GET /api/v1/me HTTP/1.1\r\nHost: x\r\n$AUTH\r\nConnection: close\r\n\r\n"
check "pipelined requests are answered in order" \
	test "$(reply_field "[r['status'] for r in record['responses']]")" = "[200, 404, 201, 200]"

head -c 3000017 /dev/urandom >"$TEST_TMP/part"
SHA=$(sha256sum "$TEST_TMP/part" | cut -d' ' -f1)
raw "PUT $PART/1 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Type: application/octet-stream\r\nX-Content-SHA256: $SHA\r\nContent-Length: 3000017\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" \
	--continue "$TEST_TMP/part"
check "part upload gets 100 Continue before its body" test "$(reply_field "record['interim']")" = "[100]"
check "part upload after 100 Continue is stored" test "$(reply_field "[r['status'] for r in record['responses']]")" = "[200]"
check "stored part has the SHA-256 sent" test "$(reply_field "__import__('json').loads(record['responses'][0]['body'])['sha256']")" = "$SHA"

status=$(curl -sS --max-time 30 --cacert "$CERT" -o /dev/null -w '%{http_code}' -X PUT -H "$AUTH" \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $SHA" \
	--data-binary "@$TEST_TMP/part" "$URL$PART/2")
check "part upload with curl" test "$status" = 200

# ---------------------------------------------------------------- rejected bodies sent without waiting
# Closing with the body unread would make the kernel reset the connection,
# and the client would fail to send and lose the reply.
head -c 4194304 /dev/urandom >"$TEST_TMP/part4"
SHA4=$(sha256sum "$TEST_TMP/part4" | cut -d' ' -f1)
PUT4="PUT $PART/3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nX-Content-SHA256: $SHA4\r\nContent-Length: 4194304\r\n"
raw_streamed "$PUT4\r\n" "$TEST_TMP/part4"
expect_rejection "4 MiB part streamed without a token" 401 unauthorized

TOKEN2=$(curl -sS --max-time 30 --cacert "$CERT" -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"ana\",\"password\":\"$PW\"}" "$URL/api/v1/sessions" |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("token", ""))')
status=$(curl -sS --max-time 30 --cacert "$CERT" -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $TOKEN2" "$URL/api/v1/sessions/current")
check "ana's second session is deleted" test "$status" = 204
raw_streamed "${PUT4}Authorization: Bearer $TOKEN2\r\n\r\n" "$TEST_TMP/part4"
expect_rejection "4 MiB part streamed with a deleted session" 401 invalid_token

raw_streamed "PUT $PART/3 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Type: application/octet-stream\r\nContent-Length: $((17 * 1024 * 1024))\r\n\r\n" \
	"$TEST_TMP/part4" --reply-only
expect_rejection "4 MiB of a 17 MiB part streamed" 413 too_large

# A client that waits for 100 Continue sends no body after a final reply,
# so the server closes at once.
raw "${PUT4}Expect: 100-continue\r\n\r\n" --continue "$TEST_TMP/part4"
expect_rejection "part waiting for 100 Continue without a token" 401 unauthorized
check "rejected part gets no 100 Continue" test "$(reply_field "record['interim']")" = "[]"

# Clients that send the whole rejected body and hang up at once.  The
# lingering close then ends while evhttp frees the connection.  Without the
# close callback in http.c, that race freed the connection twice and
# crashed the server within a few requests.
head -c 100000 /dev/zero | tr '\0' a >"$TEST_TMP/big.json"
codes=""
for i in $(seq 1 100); do
	code=$(curl -sS --max-time 30 --cacert "$CERT" -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "@$TEST_TMP/big.json" \
		"$URL/api/v1/sessions")
	[ "$code" = 413 ] || codes="$codes $i:$code"
	kill -0 "$SERVER_PID" 2>/dev/null || break
done
check "100 oversized bodies sent whole and hung up on all get 413 (others:$codes)" test -z "$codes"

# ---------------------------------------------------------------- server state
check "server still runs" kill -0 "$SERVER_PID"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
check "server exits 0 on SIGTERM" test $? -eq 0
check "log does not contain the session token" sh -c "! grep -qF '$TOKEN' '$LOG'"
if [ "$TEST_FAILED" -ne 0 ]; then
	echo "--- server log"
	tail -n 40 "$LOG"
fi
finish
