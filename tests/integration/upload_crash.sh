#!/bin/sh
# The station killed with SIGKILL at random moments of an upload, 50 times,
# with new exams captured along the way.  Afterwards one more upload empties
# the queue, every exam is on the cloud exactly once with the hashes the
# station stored, the store passes its checks, and the decrypted database,
# WAL and log hold no patient name, ID or birth date of an uploaded exam.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

RUNS=50

start_probe_and_cloud
printf '[upload]\nbackoff_min_ms = 100\nbackoff_max_ms = 500\nmax_attempts = 1000\n' >"$STATION_CONF"
station_login >/dev/null || { fail "login"; finish; }
# One exam uploaded without a kill gives the time an upload takes on this
# machine and build (a sanitizer build is several times slower); the kills
# then fall anywhere from just after the start to past one exam's upload.
capture_n 1 10 || { fail "capture"; finish; }
start_ns=$(date +%s%N)
station upload >/dev/null
check "one exam uploads without a kill" test $? -eq 0
one_cs=$((($(date +%s%N) - start_ns) / 10000000))
capture_n 10 10 || { fail "capture"; finish; }

# random_delay: prints a delay between 0.05 s and 1.2 times one upload.
random_delay() {
	r=$(od -An -N2 -tu2 /dev/urandom)
	cs=$((5 + r % (one_cs * 6 / 5 + 1)))
	printf '%d.%02d\n' $((cs / 100)) $((cs % 100))
}

run=0 killed=0
while [ "$run" -lt "$RUNS" ]; do
	if [ $((run % 4)) -eq 3 ]; then
		capture_n 2 10 || fail "capture during the kill loop"
	fi
	"$SONOTERM" upload --wait --config "$STATION_CONF" --data-dir "$STATION" \
		>>"$TEST_TMP/upload.out" 2>>"$STATION_LOG" &
	pid=$!
	sleep "$(random_delay)"
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null
	run=$((run + 1))
done
echo "killed $killed of $RUNS uploads before they finished"
# How many runs finish depends on the machine's load; a third killed
# mid-run still exercises every phase of an upload many times.
check "at least a third of the uploads were killed before they finished" \
	test "$killed" -ge $((RUNS / 3))
done_in_loop=$("$SONOTERM" exams list --data-dir "$STATION" 2>>"$STATION_LOG" | grep -c uploaded)
echo "$done_in_loop exams were uploaded between the kills"
check "exams were uploaded between the kills" test "$done_in_loop" -gt 1

timeout 120 "$SONOTERM" upload --wait --config "$STATION_CONF" --data-dir "$STATION" \
	>"$TEST_TMP/final.out" 2>>"$STATION_LOG"
check "the upload after the kills empties the queue" test $? -eq 0
check "all $(wc -l <"$TEST_TMP/uuids") exams are tombstones" \
	test "$("$SONOTERM" exams list --data-dir "$STATION" 2>>"$STATION_LOG" | grep -c uploaded)" \
	-eq "$(wc -l <"$TEST_TMP/uuids")"
"$SONOTERM" exams check --data-dir "$STATION" >/dev/null 2>>"$STATION_LOG"
check "the station store passes its integrity and lifecycle checks" test $? -eq 0
check_cloud_exams >"$TEST_TMP/cloud-check.out"
check "every exam is on the cloud exactly once with matching hashes" test $? -eq 0
cat "$TEST_TMP/cloud-check.out"
check_no_phi "$STATION_LOG"

finish
