#!/bin/sh
# sonocloud on loopback, three measures:
#  1. upload throughput of exam parts (PUT with SHA-256 check and storage)
#     against two baselines measured in the same run: bench_cloud_http, the
#     same HTTP core hashing each body but storing nothing, and the same
#     bytes fetched over TLS 1.3 from `openssl s_server -WWW` with the same
#     curl.  The ratios separate the storage's cost from the HTTP layer's;
#  2. login latency against one PBKDF2-HMAC-SHA256 of 600,000 iterations
#     timed with `openssl kdf`;
#  3. requests per second of GET /api/v1/me with 16 parallel connections
#     (curl --parallel, so no extra load tool is needed).
# BENCH_SMOKE=1 runs tiny versions to check that the benchmark works.
set -eu

: "${top_builddir:?run through make bench}"
: "${top_srcdir:?run through make bench}"
make -s -C "$top_builddir" sonocloud bench/bench_cloud_http >/dev/null
SONOCLOUD="$top_builddir/sonocloud"
SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST

parts=20 part_mib=4 logins=10 requests=4000
if [ -n "${BENCH_SMOKE:-}" ]; then
	parts=2 part_mib=1 logins=2 requests=50
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sono-bench-cloud-XXXXXX")
PIDS=
cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
DATA="$WORK/data"
PORT=$(free_port)
URL="https://127.0.0.1:$PORT"
CURL="curl -sS --max-time 120 --cacert $DATA/cert.pem"
PASSWORD="quiet harbour lanterns $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- server and user
"$SONOCLOUD" init --data-dir "$DATA" --hostname localhost >"$WORK/admin.out" 2>&1
timeout 1800 "$SONOCLOUD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until grep -q "serving https://" "$WORK/serve.log" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 200 ] || { cat "$WORK/serve.log"; exit 1; }; sleep 0.1
done
"$SONOCLOUD" user add bench --email bench@example.org --role clinician --data-dir "$DATA" \
	>>"$WORK/admin.out" 2>&1
token=$(grep -ho 'token=[0-9a-f]*' "$DATA"/outbox/new/* | head -1 | cut -d= -f2)
$CURL -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "{\"password\":\"$PASSWORD\"}" "$URL/api/v1/password-resets/$token"
login() {
	$CURL -o "$WORK/login.json" -w '%{time_total}' -H 'Content-Type: application/json' \
		--data-binary "{\"username\":\"bench\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/sessions"
}
login >/dev/null
SESSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/login.json")

# ---------------------------------------------------------------- 1. upload throughput
head -c $((part_mib * 1024 * 1024)) /dev/urandom >"$WORK/part"
sha=$(sha256sum "$WORK/part" | cut -d' ' -f1)
uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
$CURL -o /dev/null -H "Authorization: Bearer $SESSION" -H 'Content-Type: application/json' \
	--data-binary "{\"uuid\":\"$uuid\",\"patient\":{}}" "$URL/api/v1/exams"
: >"$WORK/put.cfg"
n=1
while [ "$n" -le "$parts" ]; do
	printf 'url = "%s/api/v1/exams/%s/parts/%d"\nupload-file = "%s"\noutput = "/dev/null"\n' \
		"$URL" "$uuid" "$n" "$WORK/part" >>"$WORK/put.cfg"
	n=$((n + 1))
done
start=$(date +%s.%N)
$CURL -K "$WORK/put.cfg" -H "Authorization: Bearer $SESSION" -H 'Expect:' \
	-H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha" -w '%{http_code}\n' \
	>"$WORK/put.codes"
end=$(date +%s.%N)
[ "$(sort -u "$WORK/put.codes")" = 200 ] || { echo "upload failed: $(sort -u "$WORK/put.codes")"; exit 1; }
upload=$(echo "$parts $part_mib $start $end" | awk '{ printf "%.1f", $1 * $2 * 1.048576 / ($4 - $3) }')

HPORT=$(free_port)
timeout 600 "$top_builddir/bench/bench_cloud_http" "$DATA/cert.pem" "$DATA/key.pem" "$HPORT" 600 \
	>"$WORK/http-only.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until grep -q serving "$WORK/http-only.log" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 100 ] || { cat "$WORK/http-only.log"; exit 1; }; sleep 0.1
done
sed "s|$URL/api/v1/exams/$uuid/parts/|https://127.0.0.1:$HPORT/parts/|" "$WORK/put.cfg" >"$WORK/put-http.cfg"
start=$(date +%s.%N)
$CURL -K "$WORK/put-http.cfg" -H 'Expect:' -H 'Content-Type: application/octet-stream' \
	-w '%{http_code}\n' >"$WORK/put-http.codes"
end=$(date +%s.%N)
[ "$(sort -u "$WORK/put-http.codes")" = 200 ] || { echo "HTTP-only upload failed"; exit 1; }
http_only=$(echo "$parts $part_mib $start $end" | awk '{ printf "%.1f", $1 * $2 * 1.048576 / ($4 - $3) }')

BPORT=$(free_port)
(cd "$WORK" && exec timeout 600 openssl s_server -quiet -WWW -accept "127.0.0.1:$BPORT" \
	-cert "$DATA/cert.pem" -key "$DATA/key.pem" -tls1_3 >"$WORK/s_server.log" 2>&1) &
PIDS="$PIDS $!"
i=0
until $CURL -o /dev/null "https://127.0.0.1:$BPORT/put.codes" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 100 ] || { cat "$WORK/s_server.log"; exit 1; }; sleep 0.1
done
: >"$WORK/get.cfg"
n=1
while [ "$n" -le "$parts" ]; do
	printf 'url = "https://127.0.0.1:%d/part"\noutput = "/dev/null"\n' "$BPORT" >>"$WORK/get.cfg"
	n=$((n + 1))
done
start=$(date +%s.%N)
$CURL -K "$WORK/get.cfg"
end=$(date +%s.%N)
baseline=$(echo "$parts $part_mib $start $end" | awk '{ printf "%.1f", $1 * $2 * 1.048576 / ($4 - $3) }')
echo "upload: $parts parts of $part_mib MiB to sonocloud: $upload MB/s"
echo "upload: the same parts to the HTTP core alone (SHA-256, no storage): $http_only MB/s"
echo "upload: the same bytes from openssl s_server -WWW: $baseline MB/s"
echo "upload: ratio sonocloud / HTTP core alone: $(echo "$upload $http_only" | awk '{ printf "%.2f", $1 / $2 }')"
echo "upload: ratio HTTP core alone / s_server: $(echo "$http_only $baseline" | awk '{ printf "%.2f", $1 / $2 }')"
echo "upload: ratio sonocloud / s_server: $(echo "$upload $baseline" | awk '{ printf "%.2f", $1 / $2 }')"

# ---------------------------------------------------------------- 2. login latency
kdf=$( { /usr/bin/time -f '%e' openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:bench \
	-kdfopt salt:0123456789abcdef -kdfopt iter:600000 PBKDF2 >/dev/null; } 2>&1 | tail -1)
: >"$WORK/logins"
n=0
while [ "$n" -lt "$logins" ]; do
	login >>"$WORK/logins"
	echo >>"$WORK/logins"
	n=$((n + 1))
done
sort -n "$WORK/logins" | awk -v kdf="$kdf" '{ t[NR] = $1 } END {
	printf "login: %d sequential logins, median %.0f ms, max %.0f ms\n", NR, 1000 * t[int((NR + 1) / 2)], 1000 * t[NR]
	printf "login: one PBKDF2 of 600000 iterations (openssl kdf, with process start): %.0f ms\n", 1000 * kdf
	printf "login: median login / PBKDF2: %.2f\n", t[int((NR + 1) / 2)] / kdf }'

# ---------------------------------------------------------------- 3. GET /me per second
: >"$WORK/me.cfg"
n=0
while [ "$n" -lt "$requests" ]; do
	printf 'url = "%s/api/v1/me"\noutput = "/dev/null"\n' "$URL" >>"$WORK/me.cfg"
	n=$((n + 1))
done
start=$(date +%s.%N)
$CURL -K "$WORK/me.cfg" --no-progress-meter --parallel --parallel-max 16 -H "Authorization: Bearer $SESSION" \
	-w '%{http_code}\n' >"$WORK/me.codes"
end=$(date +%s.%N)
[ "$(sort -u "$WORK/me.codes")" = 200 ] || { echo "GET /me failed: $(sort -u "$WORK/me.codes" | tr '\n' ' ')"; exit 1; }
echo "$requests $start $end" | awk '{ printf "me: %d GET /api/v1/me over 16 connections: %.0f requests/s\n", $1, $1 / ($3 - $2) }'
