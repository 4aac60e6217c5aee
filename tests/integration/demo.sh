#!/bin/sh
# scripts/demo as an operator runs it, in tmux, against this build (no
# package installation and no rebuild).  The first run creates the cloud and
# the demo user; the test logs in with the printed password, enters a
# patient, captures a still, completes the exam and watches the queue upload
# it.  The cloud then lists the exam, the station keeps only a tombstone,
# and quitting the station stops the cloud and the scanner.  A second run
# reuses the state, prints the same password and starts at the login screen.
. "$top_srcdir/tests/integration/lib.sh"

TMUX_TARGET=demo
. "$top_srcdir/tests/integration/tmux_lib.sh"

DEMO_DIR="$TEST_TMP/demo"
PROBE_PORT=$(free_port)
CLOUD_PORT=$(free_port)
FAMILY='Pendergrass-Oyelaran'
PID='DEMO-5521'

start_shell 160 45 \
	"export SONO_DEMO_DIR='$DEMO_DIR' SONO_DEMO_SKIP_SETUP=1 SONO_BUILD_ROOT='$top_builddir'" \
	"export SONO_DEMO_PROBE_PORT=$PROBE_PORT SONO_DEMO_CLOUD_PORT=$CLOUD_PORT"

# demo_run: starts scripts/demo in the pane, stopped after 300 s at most.
# Logins take seconds each under the sanitizers, so the waits are long.
demo_run() {
	shell_run "timeout --foreground 300 $top_srcdir/scripts/demo"
}

# demo_processes: lists the processes that still use the demo folder.
demo_processes() {
	pgrep -af -- "$DEMO_DIR" | grep -v -e pgrep -e 'sh -c' || true
}

# cloud_exams: prints the cloud's exam list as the demo user sees it.
cloud_exams() {
	token=$(curl -sS --max-time 30 --cacert "$DEMO_DIR/cloud/cert.pem" \
		-H 'Content-Type: application/json' \
		--data-binary "{\"username\":\"demo\",\"password\":\"$PASSWORD\"}" \
		"https://127.0.0.1:$CLOUD_PORT/api/v1/sessions" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
	curl -sS --max-time 30 --cacert "$DEMO_DIR/cloud/cert.pem" \
		-H "Authorization: Bearer $token" "https://127.0.0.1:$CLOUD_PORT/api/v1/exams"
}

demo_run
check "demo prints the user before the station starts" wait_pane 'Press Enter to start' 60
PASSWORD=$(pane | sed -n 's/^ *password: *//p' | head -1)
check "demo prints a password" test -n "$PASSWORD"
check "demo keeps the password in its folder" test "$(cat "$DEMO_DIR/password")" = "$PASSWORD"
check "demo password file is private" test "$(stat -c %a "$DEMO_DIR/password")" = 600
tmx send-keys -t demo Enter
check "station starts at the login screen" wait_pane 'Log in to the cloud' 20
tmx send-keys -t demo -l demo
tmx send-keys -t demo Enter
tmx send-keys -t demo -l "$PASSWORD"
tmx send-keys -t demo Enter
check "login opens the live phantom" wait_pane 'Link +connected' 60
check "live screen shows the demo scanner" wait_pane 'DEMO-0001' 5
FIRST=$(pane | sed -n 's/.* Exam  *\([0-9a-f]\{8\}\) *$/\1/p' | head -1)
check "panel names the current exam" test -n "$FIRST"

tmx send-keys -t demo a
check "a opens the patient form" wait_pane "Patient of exam $FIRST" 5
tmx send-keys -t demo -l "$PID"
tmx send-keys -t demo Down
tmx send-keys -t demo -l "$FAMILY"
tmx send-keys -t demo Down
tmx send-keys -t demo -l "Ines"
tmx send-keys -t demo F2
check "patient is entered" wait_pane 'Patient +entered *$' 5
tmx send-keys -t demo s
check "still is saved" wait_pane "Still saved to exam $FIRST" 5
tmx send-keys -t demo f
wait_pane 'y: complete' 3 >/dev/null
tmx send-keys -t demo y
check "exam is completed" wait_pane "Exam $FIRST completed; new exam" 5
tmx send-keys -t demo u
check "u opens the queue of the demo user" wait_pane '^ Sonoterm \| Queue \| demo' 5
check "queue uploads the exam" wait_pane 'Exam queue: 0 waiting, 1 uploaded since start' 60

STORE="$DEMO_DIR/data/sonoterm"
UUID=$("$SONOTERM" exams list --data-dir "$STORE" 2>/dev/null | sed -n "s/^\($FIRST[0-9a-f-]*\) .*/\1/p")
check "station lists the exam" test -n "$UUID"
cloud_exams >"$TEST_TMP/cloud-exams.json"
check "cloud has the exam" grep -q "\"$UUID\"" "$TEST_TMP/cloud-exams.json"

tmx send-keys -t demo F10
check "F10 returns to the live screen" wait_pane '^ Sonoterm \| Live' 5
tmx send-keys -t demo q
check "demo exits cleanly with the station" wait_pane 'EXIT=0' 20
check "cloud and scanner stop with the station" test -z "$(demo_processes)"
"$SONOTERM" exams list --data-dir "$STORE" >"$TEST_TMP/after.out" 2>/dev/null
check "exam is a tombstone with a receipt" grep -Eq "^$UUID +uploaded .* receipt [^ ]+" "$TEST_TMP/after.out"
check "station store has no patient name" sh -c "! '$SONOTERM' exams list --show-phi --data-dir '$STORE' 2>/dev/null | grep -q '$FAMILY'"

# ------------------------------------------------------------- second run
demo_run
check "second run prints the user again" wait_pane 'Press Enter to start' 30
check "second run prints the same password" sh -c "tmux -L '$TMUX_SOCKET' capture-pane -p -t demo | grep -q 'password: *$PASSWORD'"
tmx send-keys -t demo Enter
check "second run starts at the login screen" wait_pane 'Log in to the cloud' 20
tmx send-keys -t demo F10
check "closing the login screen ends the demo" wait_pane 'EXIT=0' 20
check "second run stops its cloud and scanner" test -z "$(demo_processes)"
check "no password in the demo logs" sh -c "! grep -rqF -- '$PASSWORD' '$DEMO_DIR/logs' '$DEMO_DIR/state'"
finish
