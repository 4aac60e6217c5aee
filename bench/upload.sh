#!/bin/sh
# The station's upload throughput on loopback.  `sonoterm upload` sends
# captured exams (each one cine from sonoprobe's phantom) to a real
# sonocloud.  The baseline, measured in the same run, is curl PUTting parts
# of the same sizes to the same cloud over one TLS connection.  The
# ratio shows what the station adds: reading and decompressing frames from
# the encrypted store, checking each frame's SHA-256, the receipt check and
# the tombstone with its WAL truncation.
# BENCH_SMOKE=1 runs a tiny version to check that the benchmark works.
set -u

: "${top_builddir:?run through make bench}"
: "${top_srcdir:?run through make bench}"
make -s -C "$top_builddir" sonoterm sonoprobe sonocloud >/dev/null || exit 1
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/link_common.sh"
. "$top_srcdir/tests/integration/store_common.sh"
. "$top_srcdir/tests/integration/upload_common.sh"

exams=8 frames=30
if [ -n "${BENCH_SMOKE:-}" ]; then
	exams=2 frames=3
fi

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

start_probe probe --serial "$SCANNER_SERIAL" --identity "$TEST_TMP/probe-id" --duration 600 ||
	{ echo "sonoprobe did not start" >&2; exit 1; }
setup_cloud || { cat "$TEST_TMP/cloud-admin.out" >&2; exit 1; }
station_login >/dev/null || { echo "login failed" >&2; exit 1; }
capture_n "$exams" "$frames" || { echo "capture failed" >&2; exit 1; }

# ---------------------------------------------------------------- station
start=$(date +%s.%N)
station upload >/dev/null || { echo "upload failed" >&2; tail "$STATION_LOG" >&2; exit 1; }
end=$(date +%s.%N)
bytes=$(sed -n 's/.*uploaded with receipt .* parts, \([0-9]*\) bytes).*/\1/p' "$STATION_LOG" |
	awk '{ s += $1 } END { print s }')
station_mbs=$(echo "scale=1; $bytes / ($end - $start) / 1000000" | bc)

# ---------------------------------------------------------------- baseline
part_bytes=$((bytes / exams))
head -c "$part_bytes" /dev/urandom >"$TEST_TMP/part"
sha=$(sha256sum "$TEST_TMP/part" | cut -d' ' -f1)
token=$(api_token)
: >"$TEST_TMP/put.cfg"
n=0
while [ "$n" -lt "$exams" ]; do
	uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	curl -sS --max-time 60 --cacert "$CLOUD_CERT" -o /dev/null -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' --data-binary "{\"uuid\":\"$uuid\",\"patient\":{}}" \
		"$CLOUD_URL/api/v1/exams"
	printf 'url = "%s/api/v1/exams/%s/parts/1"\nupload-file = "%s"\noutput = "/dev/null"\n' \
		"$CLOUD_URL" "$uuid" "$TEST_TMP/part" >>"$TEST_TMP/put.cfg"
	n=$((n + 1))
done
start=$(date +%s.%N)
curl -sS --max-time 600 --cacert "$CLOUD_CERT" -K "$TEST_TMP/put.cfg" \
	-H "Authorization: Bearer $token" -H 'Expect:' -H 'Content-Type: application/octet-stream' \
	-H "X-Content-SHA256: $sha" -w '%{http_code}\n' >"$TEST_TMP/put.codes"
end=$(date +%s.%N)
if grep -qv '^200$' "$TEST_TMP/put.codes"; then
	echo "baseline PUT failed: $(sort -u "$TEST_TMP/put.codes" | tr '\n' ' ')" >&2
	exit 1
fi
base_mbs=$(echo "scale=1; $part_bytes * $exams / ($end - $start) / 1000000" | bc)

echo "station upload: $exams exams of one $frames-frame cine, $bytes bytes: $station_mbs MB/s"
echo "baseline: curl PUT of $exams parts of $part_bytes bytes: $base_mbs MB/s"
echo "ratio station / baseline: $(echo "scale=2; $station_mbs / $base_mbs" | bc)"
