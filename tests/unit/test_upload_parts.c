/* Tests of what the uploader reads and checks: the sequential frame cursor
 * against exam_read_frame() on a delta-compressed cine (which also makes
 * the part's SHA-256 that goes into X-Content-SHA256), and the receipt
 * check with complete, duplicated, missing and altered parts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "station/cloud_parse.h"
#include "station/exam.h"
#include "station/store.h"
#include "store_fixture.h"

#define UUID_A "3b0f6c2e-6a52-4f0e-9c1d-2f5e8a7b9c01"
#define FRAMES 40 /* past one key-frame interval of 30 */

/* A gray frame that changes a little from one index to the next, so the
 * store keeps most frames as deltas. */
static void make_frame(struct frame *fr, unsigned index)
{
	size_t i;

	assert_int_equal(frame_alloc(fr, 64, 48, 1, FRAME_MAX_BYTES), SONO_OK);
	for (i = 0; i < 64 * 48; i++)
		fr->pixels[i] = (uint8_t)(i / 64 + (i % 7 == index % 7 ? index : 0));
	fr->spacing_mm[0] = 0.2;
	fr->spacing_mm[1] = 0.2;
	fr->timestamp_ns = 1000000ull * (index + 1);
}

static int64_t store_cine(struct store *s)
{
	struct exam_acquisition acq;
	struct exam_cine *c = NULL;
	char uuid[CRYPTO_UUID_LEN];
	struct frame fr = { 0 };
	int64_t part = 0;
	unsigned i;

	memset(&acq, 0, sizeof(acq));
	snprintf(acq.scanner_serial, sizeof(acq.scanner_serial), "SN-TEST");
	acq.frame_rate = 30;
	assert_int_equal(exam_create(s, NULL, NULL, uuid), 0);
	assert_int_equal(exam_set_state(s, uuid, EXAM_SCANNING), 0);
	assert_int_equal(exam_cine_begin(s, uuid, &acq, &c), 0);
	for (i = 0; i < FRAMES; i++) {
		make_frame(&fr, i);
		assert_int_equal(exam_cine_add(c, &fr), 0);
		frame_free(&fr);
	}
	assert_int_equal(exam_cine_end(c, &part), 0);
	return part;
}

static void cursor_matches_random_reads(void **state)
{
	struct store_fixture *f = *state;
	struct exam_frame_cursor *c = NULL;
	const struct frame *next;
	struct frame single = { 0 };
	int64_t part = store_cine(f->s);
	unsigned count = 0;

	assert_int_equal(exam_frames_open(f->s, part, &c), 0);
	for (;;) {
		assert_int_equal(exam_frames_next(c, &next), 0);
		if (next == NULL)
			break;
		assert_int_equal(exam_read_frame(f->s, part, count, &single), 0);
		assert_int_equal(next->width, single.width);
		assert_memory_equal(next->pixels, single.pixels, 64 * 48);
		count++;
	}
	assert_int_equal(count, FRAMES);
	assert_int_equal(exam_frames_next(c, &next), 0);
	assert_null(next);
	exam_frames_close(c);
	frame_free(&single);
}

static void cursor_unknown_part_is_empty(void **state)
{
	struct store_fixture *f = *state;
	struct exam_frame_cursor *c = NULL;
	const struct frame *next = (const struct frame *)1;

	assert_int_equal(exam_frames_open(f->s, 999, &c), 0);
	assert_int_equal(exam_frames_next(c, &next), 0);
	assert_null(next);
	exam_frames_close(c);
	exam_frames_close(NULL);
}

static const struct cloud_sent_part sent[2] = {
	{ 100, "00000000000000000000000000000000000000000000000000000000000000a1" },
	{ 20, "00000000000000000000000000000000000000000000000000000000000000b2" },
};

/* Checks receipt text against sent[]; returns the parser's result. */
static int check(const char *text, char *id, size_t idlen)
{
	struct cloud_result res;
	json_t *receipt = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(receipt);
	memset(&res, 0, sizeof(res));
	rc = cloud_parse_receipt(receipt, UUID_A, sent, 2, id, idlen, &res);
	if (rc != 0)
		assert_int_equal(res.kind, CLOUD_ERR_PROTOCOL);
	json_decref(receipt);
	return rc;
}

#define PART1 "{\"n\":1,\"size\":100,\"sha256\":\"00000000000000000000000000000000000000000000000000000000000000a1\"}"
#define PART2 "{\"n\":2,\"size\":20,\"sha256\":\"00000000000000000000000000000000000000000000000000000000000000b2\"}"
#define HEAD "{\"receipt_id\":\"r-1\",\"exam\":\"" UUID_A "\",\"parts\":"

static void receipt_exact_passes(void **state)
{
	char id[16];

	(void)state;
	assert_int_equal(check(HEAD "[" PART2 "," PART1 "]}", id, sizeof(id)), 0);
	assert_string_equal(id, "r-1");
}

static void receipt_mismatches_fail(void **state)
{
	char id[16];

	(void)state;
	assert_int_equal(check(HEAD "[" PART1 "," PART1 "]}", id, sizeof(id)), SONO_EINVAL);
	assert_int_equal(check(HEAD "[" PART1 "]}", id, sizeof(id)), SONO_EINVAL);
	assert_int_equal(check(HEAD "[" PART1 "," PART2 "," PART2 "]}", id, sizeof(id)),
		SONO_EINVAL);
	assert_int_equal(check(HEAD "[" PART1 ",{\"n\":2,\"size\":21,\"sha256\":"
		"\"00000000000000000000000000000000000000000000000000000000000000b2\"}]}", id,
		sizeof(id)), SONO_EINVAL);
	assert_int_equal(check(HEAD "[" PART1 ",{\"n\":2,\"size\":20,\"sha256\":"
		"\"00000000000000000000000000000000000000000000000000000000000000b3\"}]}", id,
		sizeof(id)), SONO_EINVAL);
	assert_int_equal(check("{\"receipt_id\":\"r-1\",\"exam\":\"other\",\"parts\":[" PART1 ","
		PART2 "]}", id, sizeof(id)), SONO_EINVAL);
	assert_int_equal(check(HEAD "[" PART1 "," PART2 "]}", id, 3), SONO_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_FIXTURE_TEST(cursor_matches_random_reads),
		STORE_FIXTURE_TEST(cursor_unknown_part_is_empty),
		cmocka_unit_test(receipt_exact_passes),
		cmocka_unit_test(receipt_mismatches_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
