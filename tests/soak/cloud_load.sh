#!/bin/sh
# Load test of sonocloud on loopback: sets up a server with load users and
# runs cloud_load against it (see tests/soak/cloud_load.c for the checks).
# The sizes come from the environment:
#   LOAD_CLIENTS (200), LOAD_LOGINS (50), LOAD_USERS (10),
#   LOAD_EXAM_BYTES (5242880), LOAD_PART_BYTES (1048576), LOAD_WORKERS (4).
# SOAK_SMOKE=1 (CI) uses 20 clients of 1 MiB, 10 logins and 4 users instead.
# Run through `make soak`, or set top_builddir and top_srcdir.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
SONOCLOUD="$top_builddir/sonocloud"
LOADER="$top_builddir/tests/soak/cloud_load"
SONOCLOUD_PASSWORD_LIST="$top_srcdir/src/cloud/common-passwords.txt"
export SONOCLOUD_PASSWORD_LIST

if [ -n "${SOAK_SMOKE:-}" ]; then
	LOAD_CLIENTS=${LOAD_CLIENTS:-20} LOAD_LOGINS=${LOAD_LOGINS:-10} LOAD_USERS=${LOAD_USERS:-4}
	LOAD_EXAM_BYTES=${LOAD_EXAM_BYTES:-1048576} LOAD_PART_BYTES=${LOAD_PART_BYTES:-262144}
fi
LOAD_USERS=${LOAD_USERS:-10}
make -s -C "$top_builddir" tests/soak/cloud_load sonocloud >/dev/null ||
	{ echo "cloud_load.sh: cannot build tests/soak/cloud_load" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sono-load-XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
DATA="$WORK/data"
OUTBOX="$DATA/outbox"
LOG="$WORK/serve.log"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
CURL="curl -sS --max-time 60 --cacert $DATA/cert.pem"
SONO_LOAD_PASSWORD="amber meadow falcon $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export SONO_LOAD_PASSWORD

"$SONOCLOUD" init --data-dir "$DATA" --hostname localhost >"$WORK/admin.out" 2>&1 ||
	{ cat "$WORK/admin.out"; exit 1; }
timeout 3600 "$SONOCLOUD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
	--workers "${LOAD_WORKERS:-4}" >"$LOG" 2>&1 &
SERVER_PID=$!
i=0
until grep -q "serving https://" "$LOG" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 200 ] || { cat "$LOG"; echo "cloud_load.sh: server did not start" >&2; exit 1; }
	sleep 0.1
done

# Enrols each load user through the same mail link a person would use.
u=0
while [ "$u" -lt "$LOAD_USERS" ]; do
	"$SONOCLOUD" user add "load$u" --email "load$u@example.org" --role clinician \
		--data-dir "$DATA" --outbox "$OUTBOX" >>"$WORK/admin.out" 2>&1 || exit 1
	token=$(grep -h -A20 "^To: load$u@example.org" "$OUTBOX"/new/* | grep -o 'token=[0-9a-f]*' |
		head -1 | cut -d= -f2)
	status=$($CURL -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "{\"password\":\"$SONO_LOAD_PASSWORD\"}" \
		"https://127.0.0.1:$PORT/api/v1/password-resets/$token")
	[ "$status" = 200 ] || { echo "cloud_load.sh: enrolment of load$u got HTTP $status" >&2; exit 1; }
	u=$((u + 1))
done

"$LOADER" --url "https://127.0.0.1:$PORT" --cacert "$DATA/cert.pem" --users "$LOAD_USERS" \
	--clients "${LOAD_CLIENTS:-200}" --logins "${LOAD_LOGINS:-50}" \
	--exam-bytes "${LOAD_EXAM_BYTES:-5242880}" --part-bytes "${LOAD_PART_BYTES:-1048576}"
rc=$?

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
server_rc=$?
SERVER_PID=
if [ "$server_rc" -ne 0 ]; then
	echo "cloud_load.sh: server exited with status $server_rc" >&2
	rc=1
fi
if grep -qF -e "$SONO_LOAD_PASSWORD" -e "Load^Test" "$LOG"; then
	echo "cloud_load.sh: the server log contains the password or a patient name" >&2
	rc=1
fi
errors=$(grep -c " error " "$LOG")
echo "server log: $(wc -l <"$LOG") lines, $errors at level error"
[ "$rc" -eq 0 ] || tail -n 20 "$LOG"
exit "$rc"
