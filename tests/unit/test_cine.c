/* Tests of the cine buffer: the time span, the byte budget, the frame cap,
 * order, a restarted scanner clock, and the in-memory capture sink. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

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

static void byte_budget_drops_oldest(void **state)
{
	struct cine *c = cine_new(10.0, 10 * 100 * 100);
	struct frame f;
	uint32_t i;

	(void)state;
	for (i = 0; i < 25; i++) {
		make_frame(&f, 100, 100, i * 10, i);
		assert_int_equal(cine_push(c, &f), 0);
		frame_free(&f);
	}
	assert_int_equal(cine_count(c), 10);
	assert_int_equal(cine_bytes(c), 10 * 100 * 100);
	assert_int_equal(cine_get(c, 0)->seq, 15);
	assert_int_equal(cine_get(c, 9)->pixels[0], 24);
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

static void size_change_keeps_bytes_exact(void **state)
{
	struct cine *c = cine_new(10.0, (size_t)1 << 20);
	struct frame f;

	(void)state;
	make_frame(&f, 10, 10, 0, 0);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);
	make_frame(&f, 20, 5, 10, 1);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);
	make_frame(&f, 3, 3, 20, 2);
	assert_int_equal(cine_push(c, &f), 0);
	frame_free(&f);
	assert_int_equal(cine_bytes(c), 100 + 100 + 9);
	cine_clear(c);
	assert_int_equal(cine_count(c), 0);
	assert_int_equal(cine_bytes(c), 0);
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
		cmocka_unit_test(oversized_frame_rejected),
		cmocka_unit_test(frame_cap_holds),
		cmocka_unit_test(clock_going_back_clears),
		cmocka_unit_test(size_change_keeps_bytes_exact),
		cmocka_unit_test(invalid_arguments),
		cmocka_unit_test(memory_sink_counts),
		cmocka_unit_test(memory_sink_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
