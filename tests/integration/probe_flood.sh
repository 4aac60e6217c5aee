#!/bin/sh
# sonoprobe under a flood of TCP connections that never finish a TLS
# handshake: each newer connection abandons the previous handshake, and the
# log must stay bounded (one message a second with a count) while a real
# station still receives frames afterwards.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"

start_probe flood --source phantom --identity "$TEST_TMP/identity" ||
	{ echo "FAIL: sonoprobe did not start" >&2; exit 1; }

# About 3 s of connections opened back to back, at most 100 held open.
python3 - "$PROBE_PORT" >"$TEST_TMP/flood.count" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
end = time.time() + 3
held, opened = [], 0
while time.time() < end:
    try:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        opened += 1
    except OSError:
        pass
    if len(held) > 100:
        held.pop(0).close()
    time.sleep(0.002)
print(opened)
EOF
opened=$(cat "$TEST_TMP/flood.count")
check "the flood opened over 200 connections" test "${opened:-0}" -gt 200
lines=$(grep -c 'handshake abandoned' "$TEST_TMP/flood.err")
check "abandoned handshakes logged at most once a second ($lines lines)" test "$lines" -le 6
check "the log counts the abandoned handshakes it skipped" \
	grep -q 'more since the last such message' "$TEST_TMP/flood.err"

"$SONOTERM" link-test --scanner "127.0.0.1:$PROBE_PORT" --pin "$PROBE_PIN" --frames 20 \
	>"$TEST_TMP/lt.out" 2>"$TEST_TMP/lt.err"
check "link-test receives frames after the flood" test $? -eq 0
finish
