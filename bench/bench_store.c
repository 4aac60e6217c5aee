/* Times saving a cine into the station store: FRAMES phantom frames
 * (640x480 gray, rendered before timing starts) go through exam_cine_begin,
 * exam_cine_add and exam_cine_end into a new store in a temporary folder.
 * Prints the wall and CPU time of the save, the raw pixel size, the
 * compressed size and the growth of the database file after a WAL
 * checkpoint.  For reference it also prints the size and time of zstd alone
 * at a few levels on the same frames.
 *
 * Usage: bench_store [FRAMES [none|drift]]   (defaults 300, drift) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <zstd.h>

#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "sono/source.h"
#include "station/exam.h"

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long long file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static long long store_bytes(const char *dir)
{
	return file_size(dir, STORE_DB_NAME) + file_size(dir, STORE_DB_NAME "-wal");
}

/* Renders the frames before any timing, 33 ms apart in scanner time. */
static int render_frames(struct frame *frames, long n, enum source_motion motion)
{
	struct source_params params;
	struct source *s = NULL;
	char err[256];
	long i;

	if (source_open(&s, "phantom:640x480", motion, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_store: %s\n", err);
		return -1;
	}
	source_default_params(s, &params);
	for (i = 0; i < n; i++) {
		if (source_next(s, &params, &frames[i]) != 0)
			return -1;
		frames[i].timestamp_ns = 1000000000ull + (uint64_t)i * 33333333ull;
	}
	source_close(s);
	return 0;
}

static void zstd_reference(const struct frame *frames, long n)
{
	static const int levels[] = { 1, 3, 9 };
	size_t frame_bytes = (size_t)frames[0].width * frames[0].height;
	size_t cap = ZSTD_compressBound(frame_bytes);
	unsigned char *out = malloc(cap);
	size_t l;
	long i;

	for (l = 0; out && l < sizeof(levels) / sizeof(levels[0]); l++) {
		double start = now_ms(CLOCK_MONOTONIC);
		unsigned long long total = 0;

		for (i = 0; i < n; i++)
			total += ZSTD_compress(out, cap, frames[i].pixels, frame_bytes, levels[l]);
		printf("zstd level %d alone: %.1f%% of raw, %.0f ms\n", levels[l],
			100.0 * (double)total / ((double)frame_bytes * (double)n),
			now_ms(CLOCK_MONOTONIC) - start);
	}
	for (l = 0; out && l < 2; l++) {
		ZSTD_CCtx *cctx = ZSTD_createCCtx();
		double start = now_ms(CLOCK_MONOTONIC);
		unsigned long long total = 0;

		for (i = 0; cctx && i < n; i++) {
			ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, levels[l]);
			if (i > 0)
				ZSTD_CCtx_refPrefix(cctx, frames[i - 1].pixels, frame_bytes);
			total += ZSTD_compress2(cctx, out, cap, frames[i].pixels, frame_bytes);
		}
		printf("zstd level %d with the previous frame as prefix: %.1f%% of raw, %.0f ms\n",
			levels[l], 100.0 * (double)total / ((double)frame_bytes * (double)n),
			now_ms(CLOCK_MONOTONIC) - start);
		ZSTD_freeCCtx(cctx);
	}
	free(out);
}

/* Saves the cine and prints the measurements.  Returns 0 or a SONO_E* code. */
static int save_cine(struct store *s, const char *dir, const struct frame *frames, long n)
{
	struct exam_acquisition acq;
	struct exam_cine *c = NULL;
	struct exam_summary e;
	char uuid[CRYPTO_UUID_LEN];
	double wall, cpu;
	long long before, after;
	long i;
	int rc;

	memset(&acq, 0, sizeof(acq));
	snprintf(acq.scanner_serial, sizeof(acq.scanner_serial), "BENCH-1");
	acq.frame_rate = 30;
	rc = exam_create(s, NULL, "bench", uuid);
	if (rc == 0)
		rc = exam_set_state(s, uuid, EXAM_SCANNING);
	if (rc == 0)
		rc = store_checkpoint(s);
	before = store_bytes(dir);
	wall = now_ms(CLOCK_MONOTONIC);
	cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	if (rc == 0)
		rc = exam_cine_begin(s, uuid, &acq, &c);
	for (i = 0; rc == 0 && i < n; i++)
		rc = exam_cine_add(c, &frames[i]);
	if (rc == 0)
		rc = exam_cine_end(c, NULL);
	wall = now_ms(CLOCK_MONOTONIC) - wall;
	cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	if (rc == 0)
		rc = store_checkpoint(s);
	after = store_bytes(dir);
	if (rc == 0)
		rc = exam_get(s, uuid, &e);
	if (rc != 0)
		return rc;
	printf("save: %ld frames in %.0f ms wall, %.0f ms CPU (%.2f ms a frame)\n", n, wall, cpu,
		wall / (double)n);
	printf("raw pixels: %llu bytes; compressed frames: %llu bytes (%.1f%% of raw)\n",
		(unsigned long long)e.raw_bytes, (unsigned long long)e.stored_bytes,
		100.0 * (double)e.stored_bytes / (double)e.raw_bytes);
	printf("database growth after checkpoint: %lld bytes (%.1f%% of raw)\n", after - before,
		100.0 * (double)(after - before) / (double)e.raw_bytes);
	return SONO_OK;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
	enum source_motion motion = argc > 2 && !strcmp(argv[2], "none") ?
		SOURCE_MOTION_NONE : SOURCE_MOTION_DRIFT;
	struct store_options opt = { .create = 1 };
	struct frame *frames;
	struct store *s = NULL;
	char dir[] = "/tmp/bench-store-XXXXXX";
	char err[512];
	char cmd[64];
	int rc;
	long i;

	if (n < 1 || n > EXAM_CINE_MAX_FRAMES) {
		fprintf(stderr, "bench_store: FRAMES must be from 1 to %d\n", EXAM_CINE_MAX_FRAMES);
		return 2;
	}
	log_set_level(LOG_LEVEL_WARN);
	frames = calloc((size_t)n, sizeof(*frames));
	if (!frames || render_frames(frames, n, motion) != 0 || !mkdtemp(dir))
		return 1;
	printf("cine: %ld phantom frames, 640x480 gray, motion %s, zstd level %d\n", n,
		motion == SOURCE_MOTION_NONE ? "none" : "drift", EXAM_ZSTD_LEVEL);
	opt.data_dir = dir;
	rc = store_open(&s, &opt, err, sizeof(err));
	if (rc == 0)
		rc = save_cine(s, dir, frames, n);
	if (rc != 0)
		fprintf(stderr, "bench_store: %s\n", err[0] && !s ? err : sono_strerror(rc));
	store_close(s);
	zstd_reference(frames, n);

	for (i = 0; i < n; i++)
		frame_free(&frames[i]);
	free(frames);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_store: could not remove %s\n", dir);
	return rc == 0 ? 0 : 1;
}
