#!/bin/sh
# Crash safety of the station store: `sonoterm capture` (recording, then
# completing the exam) and `sonoterm exams delete` are killed with SIGKILL
# at random moments, at least 200 times, against the real sonoprobe.
# Afterwards every exam whose UUID a capture printed is still there and
# completed, or either completed or gone when a delete of it was killed.
# No part is half-written, no killed capture left an exam behind, every
# frame matches its SHA-256, and the integrity check passes.  A sample of
# frames is also decompressed with the zstd CLI from a sqlcipher CLI dump
# and hashed with sha256sum, outside sonoterm's code.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"

DATA="$TEST_TMP/data"
LOG="$TEST_TMP/station.log"
KILLS_WANTED=200
MAX_ROUNDS=3000
TIME_LIMIT_S=170
FRAMES=4

# Prints a random integer in [0, $1).
random_below() {
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 ))
}

# Sleeps a random number of milliseconds below $1.
random_sleep_ms() {
	ms=$(random_below "$1")
	sleep "$(printf '0.%03d' "$ms")"
}

# run_and_kill MAX_MS COMMAND...: starts COMMAND with its output in
# $TEST_TMP/run.out, kills it with SIGKILL after a random delay below MAX_MS,
# and sets KILLED=1 when it was still running, RUN_RC to its exit status.
run_and_kill() {
	max=$1
	shift
	"$@" >"$TEST_TMP/run.out" 2>>"$TEST_TMP/run.err" &
	pid=$!
	random_sleep_ms "$max"
	KILLED=0
	if kill -9 "$pid" 2>/dev/null; then
		KILLED=1
	fi
	wait "$pid" 2>/dev/null
	RUN_RC=$?
}

"$SONOPROBE" --listen 127.0.0.1:0 --fps 60 --duration $((TIME_LIMIT_S + 30)) \
	--identity "$TEST_TMP/probe" --serial SP-CRASH-1 >"$TEST_TMP/probe.out" 2>"$TEST_TMP/probe.err" &
track $!
wait_for_line "$TEST_TMP/probe.out" 20 '^listening ' || { fail "sonoprobe did not start"; finish; }
PROBE_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$TEST_TMP/probe.out")
PROBE_PIN=$(sed -n 's/^fingerprint //p' "$TEST_TMP/probe.out")

write_patient "$TEST_TMP/patient" CRASH-0001 Crashcourse Walter 1970-01-01
# One capture without a kill, so the first deletes have something to hit.
# Its duration sets the kill window, so kills land anywhere from process
# start to just past completion on fast and slow (sanitizer) builds alike.
t0=$(date +%s%N)
capture "$DATA" "$TEST_TMP/patient" "$FRAMES" --log "$LOG" >>"$TEST_TMP/printed"
capture_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
KILL_WINDOW_MS=$(( capture_ms * 12 / 10 ))
[ "$KILL_WINDOW_MS" -ge 100 ] || KILL_WINDOW_MS=100
[ "$KILL_WINDOW_MS" -le 999 ] || KILL_WINDOW_MS=999
echo "first capture took $capture_ms ms; kill window $KILL_WINDOW_MS ms"

: >"$TEST_TMP/deleted"
: >"$TEST_TMP/attempted"
kills=0 round=0 start=$(date +%s)
while [ "$kills" -lt "$KILLS_WANTED" ] && [ "$round" -lt "$MAX_ROUNDS" ] &&
	[ $(( $(date +%s) - start )) -lt "$TIME_LIMIT_S" ]; do
	round=$((round + 1))
	if [ $((round % 4)) -eq 0 ]; then
		# Deletes take at most half of the printed exams, so the loss
		# check below always covers the other half.
		spare=$(sort "$TEST_TMP/printed" | comm -23 - "$TEST_TMP/attempted")
		[ "$(echo "$spare" | grep -c .)" -gt "$(wc -l <"$TEST_TMP/attempted")" ] || continue
		victim=$(echo "$spare" | head -n 1)
		echo "$victim" >>"$TEST_TMP/attempted"
		sort -o "$TEST_TMP/attempted" "$TEST_TMP/attempted"
		run_and_kill 150 "$SONOTERM" exams delete "$victim" --data-dir "$DATA" --log "$LOG"
		if [ "$KILLED" -eq 0 ] && [ "$RUN_RC" -eq 0 ]; then
			echo "$victim" >>"$TEST_TMP/deleted"
		fi
	else
		run_and_kill "$KILL_WINDOW_MS" "$SONOTERM" capture --scanner "127.0.0.1:$PROBE_PORT" \
			--pin "$PROBE_PIN" --frames "$FRAMES" --patient "$TEST_TMP/patient" \
			--data-dir "$DATA" --log "$LOG"
		# A UUID is printed only after the exam is completed and committed.
		grep -E '^[0-9a-f-]{36}$' "$TEST_TMP/run.out" >>"$TEST_TMP/printed"
	fi
	kills=$((kills + KILLED))
done
echo "rounds: $round, SIGKILLs: $kills, exams printed: $(wc -l <"$TEST_TMP/printed")," \
	"deletes: $(wc -l <"$TEST_TMP/attempted") (finished: $(wc -l <"$TEST_TMP/deleted")), seconds: $(( $(date +%s) - start ))"
check "at least $KILLS_WANTED SIGKILLs delivered ($kills)" test "$kills" -ge "$KILLS_WANTED"

"$SONOTERM" exams check --data-dir "$DATA" --log "$LOG" >"$TEST_TMP/check.out" 2>&1
check "exams check passes after the kills" test $? -eq 0 || cat "$TEST_TMP/check.out" >&2

"$SONOTERM" exams list --data-dir "$DATA" --log "$LOG" >"$TEST_TMP/list.out"
check "exams list succeeds after the kills" test $? -eq 0
lost=0
for uuid in $(sort "$TEST_TMP/printed" | comm -23 - "$TEST_TMP/attempted"); do
	if ! grep -q "^$uuid  completed " "$TEST_TMP/list.out"; then
		lost=$((lost + 1))
		# What the store and the log know of it, to tell a lost commit
		# from a wrong state or a listing that stopped early.
		echo "lost: $uuid; list line: $(grep "^$uuid " "$TEST_TMP/list.out")" >&2
		grep -h "$uuid" "$LOG" "$TEST_TMP/run.err" >&2
	fi
done
kept=$(sort "$TEST_TMP/printed" | comm -23 - "$TEST_TMP/attempted" | grep -c .)
check "printed exams kept out of the deletes ($kept)" test "$kept" -ge 20
check "every printed exam not chosen for deletion is completed ($lost lost)" test "$lost" -eq 0
for uuid in $(cat "$TEST_TMP/attempted"); do
	if grep -q "^$uuid " "$TEST_TMP/list.out" && ! grep -q "^$uuid  completed " "$TEST_TMP/list.out"; then
		fail "exam $uuid is neither completed nor deleted after a killed delete"
	fi
done
for uuid in $(cat "$TEST_TMP/deleted"); do
	grep -q "^$uuid " "$TEST_TMP/list.out" && fail "deleted exam $uuid is back"
done

bad=$(printf '%s\n' \
	"SELECT count(*) FROM parts p WHERE frame_count = 0 OR frame_count !=" \
	" (SELECT count(*) FROM frames WHERE part_id = p.id);" | sqlcipher_run "$DATA" 2>&1 | tail -1)
check "no half-written part ($bad)" test "$bad" = 0
bad=$(echo "SELECT count(*) FROM exams WHERE state != 'draft' AND state != 'scanning' AND id NOT IN (SELECT exam_id FROM parts);" |
	sqlcipher_run "$DATA" 2>&1 | tail -1)
check "no completed exam without images ($bad)" test "$bad" = 0
left=$(echo "SELECT count(*) FROM exams WHERE state IN ('draft', 'scanning');" | sqlcipher_run "$DATA" 2>&1 | tail -1)
check "no interrupted capture left an exam behind ($left)" test "$left" = 0

# Independent check of a sample of frames with the zstd and sha256sum CLIs:
# a key frame decodes alone, and the frame after it decodes with the key
# frame's pixels as its prefix (zstd --patch-from).
printf '%s\n' "SELECT hex(k.sha256) || ' ' || hex(k.data) || ' ' || hex(d.sha256) || ' ' ||" \
	" hex(d.data) FROM frames k JOIN frames d ON d.part_id = k.part_id AND d.idx = k.idx + 1" \
	" WHERE k.delta = 0 AND d.delta = 1 ORDER BY random() LIMIT 20;" |
	sqlcipher_run "$DATA" 2>/dev/null | grep -E '^[0-9A-F]{64} ' >"$TEST_TMP/sample"
checked=0 mismatched=0
while read -r key_sha key_data delta_sha delta_data; do
	echo "$key_data" | xxd -r -p | zstd -dcq >"$TEST_TMP/key.raw"
	got=$(sha256sum <"$TEST_TMP/key.raw" | cut -c1-64 | tr 'a-f' 'A-F')
	[ "$got" = "$key_sha" ] || mismatched=$((mismatched + 1))
	got=$(echo "$delta_data" | xxd -r -p | zstd -dcq --patch-from="$TEST_TMP/key.raw" |
		sha256sum | cut -c1-64 | tr 'a-f' 'A-F')
	[ "$got" = "$delta_sha" ] || mismatched=$((mismatched + 1))
	checked=$((checked + 2))
done <"$TEST_TMP/sample"
check "sampled frames decompress to their SHA-256 ($checked checked, $mismatched wrong)" \
	test "$checked" -gt 0 -a "$mismatched" -eq 0
check "log has no patient name" sh -c "! grep -q Crashcourse '$LOG' '$TEST_TMP/run.err'"

finish
