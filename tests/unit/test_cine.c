/* Tests of the cine buffer: the time span, the byte budget and eviction
 * of whole groups, the frame cap, order and a restarted scanner clock.
 * Also exact round trips through the compressed ring, scrubbing across
 * key frames, saving a clip, and the in-memory capture sink. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "station/capture.h"
#include "station/cine.h"

#define MS 1000000ull

static void make_frame(struct frame *f, uint32_t w, uint32_t h, uint64_t t_ms, uint32_t seq)
{
	assert_int_equal(frame_alloc(f, w, h, 1, FRAME_MAX_BYTES), 0);
	memset(f->pixels, (int)(seq & 0xff), (size_t)w * h);
	f->timestamp_ns = t_ms * MS;
	f->seq = seq;
}

static void keeps_span_of_seconds(void **state)
{
	struct cine *c = cine_new(1.0, (size_t)64 << 20);
	struct frame f;
	uint32_t i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < 100; i++) {
		make_frame(&f, 16, 16, 1000 + i * 33, i);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
	}
	/* 1 s at 33 ms a frame: the newest plus 30 older frames. */
	assert_int_equal(cine_count(c), 31);
	assert_int_equal(cine_get(c, 0)->seq, 69);
	assert_int_equal(cine_get(c, 30)->seq, 99);
	assert_null(cine_get(c, 31));
	assert_true(cine_span_seconds(c) <= 1.0);
	assert_true(cine_span_seconds(c) > 0.95);
	cine_free(c);
}

/* Fills f with pseudo-random pixels, which zstd cannot compress. */
static void make_noise_frame(struct frame *f, uint32_t w, uint32_t h, uint64_t t_ms, uint32_t seq)
{
	uint32_t x = seq * 2654435761u + 1;
	size_t i;

	assert_int_equal(frame_alloc(f, w, h, 1, FRAME_MAX_BYTES), 0);
	for (i = 0; i < (size_t)w * h; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		f->pixels[i] = (uint8_t)x;
	}
	f->timestamp_ns = t_ms * MS;
	f->seq = seq;
}

static void byte_budget_drops_oldest(void **state)
{
	/* Room for two groups and 5 frames of incompressible 100x100 frames
	 * with zstd's overhead, which is under 100 bytes a frame. */
	const uint32_t k = CINE_KEY_INTERVAL;
	struct cine *c = cine_new(10.0, (2 * k + 5) * 10100);
	struct frame f;
	uint32_t i;

	(void)state;
	for (i = 0; i < 3 * k; i++) {
		make_noise_frame(&f, 100, 100, i * 10, i);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
	}
	/* Frame 2k + 5 did not fit, so the first group went. */
	assert_int_equal(cine_count(c), 2 * k);
	assert_int_equal(cine_info(c, 0)->seq, k);
	assert_int_equal(cine_get(c, 2 * k - 1)->seq, 3 * k - 1);
	assert_true(cine_bytes(c) <= (2 * k + 5) * 10100);
	assert_true(cine_bytes(c) >= 2 * k * 10000);
	cine_free(c);
}

static void budget_evicts_whole_groups(void **state)
{
	size_t budget = (2 * CINE_KEY_INTERVAL + 7) * 10100;
	struct cine *c = cine_new(60.0, budget);
	struct frame f;
	uint32_t i;

	(void)state;
	for (i = 0; i < 200; i++) {
		make_noise_frame(&f, 100, 100, i * 33, i);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
		assert_true(cine_bytes(c) <= budget);
		/* Groups start at multiples of CINE_KEY_INTERVAL here, and only
		 * whole groups leave. */
		assert_int_equal(cine_info(c, 0)->seq % CINE_KEY_INTERVAL, 0);
		assert_int_equal(cine_info(c, cine_count(c) - 1)->seq, i);
	}
	assert_true(cine_count(c) > CINE_KEY_INTERVAL + 7);
	assert_true(cine_count(c) <= 2 * CINE_KEY_INTERVAL + 7);
	cine_free(c);
}

static void smooth_frames_fit_budget(void **state)
{
	/* 300 frames of 640x480 that differ little from one frame to the next
	 * fit in a budget far below their 92 MB of pixels. */
	struct cine *c = cine_new(10.0, (size_t)8 << 20);
	struct frame f;
	uint32_t i, x, y;

	(void)state;
	assert_int_equal(frame_alloc(&f, 640, 480, 1, FRAME_MAX_BYTES), 0);
	for (i = 0; i < 300; i++) {
		for (y = 0; y < 480; y++)
			for (x = 0; x < 640; x++)
				f.pixels[y * 640 + x] = (uint8_t)((x + y + i) / 4);
		f.timestamp_ns = (uint64_t)i * 33 * MS;
		f.seq = i;
		assert_int_equal(cine_push(c, &f), 0);
	}
	assert_int_equal(cine_count(c), 300);
	assert_true(cine_bytes(c) < (size_t)1 << 20);
	frame_free(&f);
	cine_free(c);
}

static void oversized_frame_rejected(void **state)
{
	struct cine *c = cine_new(10.0, 1000);
	struct frame f;

	(void)state;
	make_frame(&f, 100, 100, 0, 0);
	assert_int_equal(cine_push(c, &f), SONO_ETOOBIG);
	assert_int_equal(cine_count(c), 0);
	frame_free(&f);
	cine_free(c);
}

static void frame_cap_holds(void **state)
{
	struct cine *c = cine_new(120.0, (size_t)64 << 20);
	struct frame f;
	uint32_t i;

	(void)state;
	make_frame(&f, 1, 1, 0, 0);
	for (i = 0; i < CINE_FRAMES_MAX + 50; i++) {
		f.timestamp_ns = (uint64_t)i * MS;
		f.seq = i;
		assert_int_equal(cine_push(c, &f), 0);
	}
	assert_int_equal(cine_count(c), CINE_FRAMES_MAX);
	assert_int_equal(cine_get(c, 0)->seq, 50);
	frame_free(&f);
	cine_free(c);
}

static void clock_going_back_clears(void **state)
{
	struct cine *c = cine_new(10.0, (size_t)1 << 20);
	struct frame f;

	(void)state;
	make_frame(&f, 4, 4, 5000, 1);
	assert_int_equal(cine_push(c, &f), 0);
	f.timestamp_ns = 6000 * MS;
	assert_int_equal(cine_push(c, &f), 0);
	f.timestamp_ns = 100 * MS;
	assert_int_equal(cine_push(c, &f), 0);
	assert_int_equal(cine_count(c), 1);
	frame_free(&f);
	cine_free(c);
}

static void size_change_round_trip(void **state)
{
	struct cine *c = cine_new(10.0, (size_t)1 << 20);
	struct frame f;
	const struct frame *g;

	(void)state;
	make_frame(&f, 10, 10, 0, 7);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);
	make_frame(&f, 20, 5, 10, 8);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);
	make_frame(&f, 3, 3, 20, 9);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);

	g = cine_get(c, 0);
	assert_int_equal(g->width, 10);
	assert_int_equal(g->pixels[99], 7);
	g = cine_get(c, 1);
	assert_int_equal(g->width, 20);
	assert_int_equal(g->height, 5);
	assert_int_equal(g->pixels[99], 8);
	g = cine_get(c, 2);
	assert_int_equal(g->width, 3);
	assert_int_equal(g->pixels[8], 9);
	assert_true(cine_bytes(c) > 0);
	cine_clear(c);
	assert_int_equal(cine_count(c), 0);
	assert_int_equal(cine_bytes(c), 0);
	assert_null(cine_get(c, 0));
	cine_free(c);
}

/* Fills f with a drifting pattern plus noise, so that differences between
 * frames are neither zero nor incompressible. */
static void make_moving_frame(struct frame *f, uint32_t w, uint32_t h, uint32_t seq)
{
	uint32_t x, y, r = seq * 747796405u + 2891336453u;

	assert_int_equal(frame_alloc(f, w, h, 1, FRAME_MAX_BYTES), 0);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			r = r * 1664525u + 1013904223u;
			f->pixels[y * w + x] = (uint8_t)((x * 3 + y + seq * 5) ^ (r >> 29));
		}
	}
	f->timestamp_ns = (uint64_t)seq * 33 * MS;
	f->seq = seq;
}

#define ROUND_TRIP_FRAMES 100

static void push_hashed(struct cine *c, uint8_t hash[][CRYPTO_SHA256_LEN], uint32_t n)
{
	struct frame f;
	uint32_t i;

	for (i = 0; i < n; i++) {
		make_moving_frame(&f, 64, 48, i);
		crypto_sha256(f.pixels, 64 * 48, hash[i]);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
	}
}

static void assert_frame_hash(struct cine *c, size_t i, const uint8_t *hash)
{
	uint8_t got[CRYPTO_SHA256_LEN];
	const struct frame *f = cine_get(c, i);

	assert_non_null(f);
	assert_int_equal(f->seq, i);
	crypto_sha256(f->pixels, (size_t)f->width * f->height, got);
	assert_memory_equal(got, hash, CRYPTO_SHA256_LEN);
}

static void round_trip_every_frame(void **state)
{
	static uint8_t hash[ROUND_TRIP_FRAMES][CRYPTO_SHA256_LEN];
	struct cine *c = cine_new(10.0, (size_t)8 << 20);
	size_t i;

	(void)state;
	push_hashed(c, hash, ROUND_TRIP_FRAMES);
	assert_int_equal(cine_count(c), ROUND_TRIP_FRAMES);
	assert_true(cine_bytes(c) < (size_t)ROUND_TRIP_FRAMES * 64 * 48);
	for (i = 0; i < ROUND_TRIP_FRAMES; i++)
		assert_frame_hash(c, i, hash[i]);
	for (i = ROUND_TRIP_FRAMES; i > 0; i--)
		assert_frame_hash(c, i - 1, hash[i - 1]);
	cine_free(c);
}

static void scrub_across_key_frames(void **state)
{
	static uint8_t hash[ROUND_TRIP_FRAMES][CRYPTO_SHA256_LEN];
	/* Key frames are at multiples of k: step over them both ways, jump
	 * into the middle of groups, and back to the start. */
	const size_t k = CINE_KEY_INTERVAL;
	const size_t order[] = {
		99, 98, k - 1, k, k + 1, k, k - 1, k - 2, 2 * k - 1, 2 * k, 2 * k + 1, 2 * k + 7,
		3 * k - 1, 3 * k, 0, 1, 2, 50, 99, 3 * k + 1, 3 * k, 3 * k - 1,
	};
	struct cine *c = cine_new(10.0, (size_t)8 << 20);
	size_t i;

	(void)state;
	assert_true(3 * k + 1 < ROUND_TRIP_FRAMES);
	push_hashed(c, hash, ROUND_TRIP_FRAMES);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_frame_hash(c, order[i], hash[order[i]]);
	cine_free(c);
}

static void span_keeps_hidden_group_start(void **state)
{
	static uint8_t hash[ROUND_TRIP_FRAMES][CRYPTO_SHA256_LEN];
	/* 1 s at 33 ms a frame keeps frames 69 to 99.  The group of frame 69
	 * starts at an earlier key frame, which stays stored unseen. */
	struct cine *c = cine_new(1.0, (size_t)8 << 20);
	size_t i;

	(void)state;
	assert_true(69 % CINE_KEY_INTERVAL != 0);
	push_hashed(c, hash, ROUND_TRIP_FRAMES);
	assert_int_equal(cine_count(c), 31);
	for (i = 0; i < 31; i++) {
		const struct frame *f = cine_get(c, i);
		uint8_t got[CRYPTO_SHA256_LEN];

		assert_non_null(f);
		assert_int_equal(f->seq, 69 + i);
		crypto_sha256(f->pixels, 64 * 48, got);
		assert_memory_equal(got, hash[69 + i], CRYPTO_SHA256_LEN);
	}
	cine_free(c);
}

/* Fills f with a window of a fixed noise field whose origin moves by up to
 * two pixels a frame, like tissue under a still probe. */
static void make_shifted_frame(struct frame *f, unsigned comps, uint32_t seq)
{
	static const int path[][2] = { { 0, 0 }, { 1, 0 }, { 2, -1 }, { 0, -2 }, { -2, 2 }, { -1, 1 } };
	long ox = 8, oy = 8, x, y, k;
	uint32_t i, r;

	for (i = 1; i <= seq; i++) {
		ox += path[i % 6][0];
		oy += path[i % 6][1];
	}
	assert_int_equal(frame_alloc(f, 64, 48, comps, FRAME_MAX_BYTES), 0);
	for (y = 0; y < 48; y++) {
		for (x = 0; x < 64; x++) {
			for (k = 0; k < (long)comps; k++) {
				r = (uint32_t)((x + ox) * 73856093 ^ (y + oy) * 19349663 ^ k * 83492791);
				r ^= r >> 13;
				f->pixels[(y * 64 + x) * (long)comps + k] = (uint8_t)(r * 2654435761u >> 24);
			}
		}
	}
	f->timestamp_ns = (uint64_t)seq * 33 * MS;
	f->seq = seq;
}

static void shifted_frames_round_trip(void **state)
{
	static uint8_t hash[60][CRYPTO_SHA256_LEN];
	unsigned comps;
	uint8_t got[CRYPTO_SHA256_LEN];
	struct frame f;
	size_t i;

	(void)state;
	for (comps = 1; comps <= 3; comps += 2) {
		struct cine *c = cine_new(10.0, (size_t)8 << 20);

		for (i = 0; i < 60; i++) {
			make_shifted_frame(&f, comps, (uint32_t)i);
			crypto_sha256(f.pixels, 64 * 48 * comps, hash[i]);
			assert_int_equal(cine_push(c, &f), 0);
			frame_free(&f);
		}
		/* Only the key frames and the edges that move in cost bytes. */
		assert_true(cine_bytes(c) < (60 / CINE_KEY_INTERVAL + 1) * 64 * 48 * comps +
			60 * 2000 * comps);
		for (i = 60; i > 0; i--) {
			const struct frame *g = cine_get(c, i - 1);

			assert_non_null(g);
			assert_int_equal(g->components, comps);
			crypto_sha256(g->pixels, 64 * 48 * comps, got);
			assert_memory_equal(got, hash[i - 1], CRYPTO_SHA256_LEN);
		}
		cine_free(c);
	}
}

static void incompressible_frame_at_budget(void **state)
{
	/* The raw frame fits the budget, but zstd adds a few bytes. */
	struct cine *c = cine_new(10.0, 100 * 100);
	struct frame f;

	(void)state;
	make_noise_frame(&f, 100, 100, 0, 0);
	assert_int_equal(cine_push(c, &f), SONO_ETOOBIG);
	assert_int_equal(cine_count(c), 0);
	assert_int_equal(cine_bytes(c), 0);
	frame_free(&f);
	cine_free(c);
}

static void frame_without_pixels(void **state)
{
	struct cine *c = cine_new(10.0, 1000);
	struct frame f = { .width = 4, .height = 4, .components = 1 };

	(void)state;
	assert_int_equal(cine_push(c, &f), SONO_EINVAL);
	assert_int_equal(cine_count(c), 0);
	cine_free(c);
}

static void save_clip_newest_size(void **state)
{
	struct cine *c = cine_new(10.0, (size_t)1 << 20);
	struct capture_sink sink;
	struct capture_meta meta = { 0 };
	struct frame f;
	size_t saved, stills, cines, bytes;
	uint32_t i;

	(void)state;
	assert_int_equal(capture_memory_sink(&sink, (size_t)1 << 20), 0);
	assert_int_equal(cine_save_clip(c, &sink, &meta, NULL, &saved), SONO_ENOTFOUND);
	assert_int_equal(saved, 0);
	for (i = 0; i < 40; i++) {
		make_frame(&f, i < 10 ? 8 : 16, 16, i * 33, i);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
	}
	assert_int_equal(cine_save_clip(c, &sink, &meta, NULL, &saved), 0);
	assert_int_equal(saved, 30);
	capture_memory_counts(&sink, &stills, &cines, &bytes);
	assert_int_equal(cines, 1);
	assert_int_equal(bytes, 30 * 16 * 16);
	sink.close(sink.ctx);
	cine_free(c);
}

static int reject_whole_clip(void *ctx, const struct frame *const *frames, size_t n,
	const struct capture_meta *meta)
{
	(void)ctx;
	(void)frames;
	(void)n;
	(void)meta;
	return SONO_EIO;
}

/* Reads every frame of the clip and checks it against the hashes in ctx. */
static int read_and_check(void *ctx, size_t n, const struct frame *(*read)(void *src, size_t i),
	void *src, const struct capture_meta *meta)
{
	uint8_t (*hash)[CRYPTO_SHA256_LEN] = ctx;
	uint8_t got[CRYPTO_SHA256_LEN];
	size_t i;

	(void)meta;
	assert_int_equal(n, ROUND_TRIP_FRAMES);
	for (i = 0; i < n; i++) {
		const struct frame *f = read(src, i);

		assert_non_null(f);
		assert_int_equal(f->seq, i);
		crypto_sha256(f->pixels, (size_t)f->width * f->height, got);
		assert_memory_equal(got, hash[i], CRYPTO_SHA256_LEN);
	}
	return 0;
}

static void save_clip_reads_frames(void **state)
{
	static uint8_t hash[ROUND_TRIP_FRAMES][CRYPTO_SHA256_LEN];
	struct cine *c = cine_new(10.0, (size_t)8 << 20);
	struct capture_sink sink = {
		.ctx = hash,
		.save_cine = reject_whole_clip,
		.save_cine_read = read_and_check,
	};
	struct capture_meta meta = { 0 };
	size_t saved;

	(void)state;
	push_hashed(c, hash, ROUND_TRIP_FRAMES);
	assert_int_equal(cine_save_clip(c, &sink, &meta, NULL, &saved), 0);
	assert_int_equal(saved, ROUND_TRIP_FRAMES);
	cine_free(c);
}

/* The reports of a cine_progress: how many, and the last done and total. */
struct progress_log {
	size_t reports;
	size_t done;
	size_t total;
	int out_of_order;
};

static void log_progress(void *arg, size_t done, size_t total)
{
	struct progress_log *log = arg;

	if (done != log->done + 1)
		log->out_of_order = 1;
	log->reports++;
	log->done = done;
	log->total = total;
}

static void save_clip_reports_progress(void **state)
{
	static uint8_t hash[ROUND_TRIP_FRAMES][CRYPTO_SHA256_LEN];
	struct cine *c = cine_new(10.0, (size_t)8 << 20);
	struct capture_sink reader = {
		.ctx = hash,
		.save_cine = reject_whole_clip,
		.save_cine_read = read_and_check,
	};
	struct capture_sink memory;
	struct capture_meta meta = { 0 };
	struct progress_log log = { 0 };
	struct cine_progress progress = { log_progress, &log };
	size_t saved;

	(void)state;
	push_hashed(c, hash, ROUND_TRIP_FRAMES);
	assert_int_equal(cine_save_clip(c, &reader, &meta, &progress, &saved), 0);
	assert_int_equal(log.reports, ROUND_TRIP_FRAMES);
	assert_int_equal(log.done, ROUND_TRIP_FRAMES);
	assert_int_equal(log.total, ROUND_TRIP_FRAMES);
	assert_false(log.out_of_order);

	memset(&log, 0, sizeof(log));
	assert_int_equal(capture_memory_sink(&memory, (size_t)64 << 20), 0);
	assert_int_equal(cine_save_clip(c, &memory, &meta, &progress, &saved), 0);
	assert_int_equal(log.reports, ROUND_TRIP_FRAMES);
	assert_int_equal(log.done, ROUND_TRIP_FRAMES);
	assert_int_equal(log.total, ROUND_TRIP_FRAMES);
	assert_false(log.out_of_order);
	memory.close(memory.ctx);
	cine_free(c);
}

static void invalid_arguments(void **state)
{
	(void)state;
	assert_null(cine_new(0.1, 1000));
	assert_null(cine_new(121, 1000));
	assert_null(cine_new(10, 0));
	cine_free(NULL);
}

static void memory_sink_counts(void **state)
{
	struct capture_sink sink;
	struct capture_meta meta = { 0 };
	struct frame a, b;
	const struct frame *clip[2];
	size_t stills, cines, bytes;

	(void)state;
	assert_int_equal(capture_memory_sink(&sink, 1000), 0);
	make_frame(&a, 10, 10, 0, 0);
	make_frame(&b, 10, 10, 1, 1);
	clip[0] = &a;
	clip[1] = &b;
	assert_int_equal(sink.save_still(sink.ctx, &a, &meta), 0);
	assert_int_equal(sink.save_cine(sink.ctx, clip, 2, &meta), 0);
	assert_int_equal(sink.save_cine(sink.ctx, clip, 0, &meta), SONO_EINVAL);
	capture_memory_counts(&sink, &stills, &cines, &bytes);
	assert_int_equal(stills, 1);
	assert_int_equal(cines, 1);
	assert_int_equal(bytes, 300);
	assert_non_null(strstr(sink.describe(sink.ctx), "memory"));
	frame_free(&a);
	frame_free(&b);
	sink.close(sink.ctx);
}

static void memory_sink_budget(void **state)
{
	struct capture_sink sink;
	struct capture_meta meta = { 0 };
	struct frame a;
	size_t stills, cines, bytes;

	(void)state;
	assert_int_equal(capture_memory_sink(&sink, 150), 0);
	make_frame(&a, 10, 10, 0, 0);
	assert_int_equal(sink.save_still(sink.ctx, &a, &meta), 0);
	assert_int_equal(sink.save_still(sink.ctx, &a, &meta), SONO_ETOOBIG);
	capture_memory_counts(&sink, &stills, &cines, &bytes);
	assert_int_equal(stills, 1);
	assert_int_equal(bytes, 100);
	frame_free(&a);
	sink.close(sink.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_span_of_seconds),
		cmocka_unit_test(byte_budget_drops_oldest),
		cmocka_unit_test(budget_evicts_whole_groups),
		cmocka_unit_test(smooth_frames_fit_budget),
		cmocka_unit_test(oversized_frame_rejected),
		cmocka_unit_test(frame_cap_holds),
		cmocka_unit_test(clock_going_back_clears),
		cmocka_unit_test(size_change_round_trip),
		cmocka_unit_test(round_trip_every_frame),
		cmocka_unit_test(scrub_across_key_frames),
		cmocka_unit_test(span_keeps_hidden_group_start),
		cmocka_unit_test(shifted_frames_round_trip),
		cmocka_unit_test(incompressible_frame_at_budget),
		cmocka_unit_test(frame_without_pixels),
		cmocka_unit_test(save_clip_newest_size),
		cmocka_unit_test(save_clip_reads_frames),
		cmocka_unit_test(save_clip_reports_progress),
		cmocka_unit_test(invalid_arguments),
		cmocka_unit_test(memory_sink_counts),
		cmocka_unit_test(memory_sink_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
