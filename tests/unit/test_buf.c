/* Tests of the bounded buffer and the checked byte reader. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sono/buf.h"
#include "sono/error.h"

static void append_within_max(void **state)
{
	struct sbuf b;

	sbuf_init(&b, 8);
	assert_int_equal(sbuf_append(&b, "abcd", 4), SONO_OK);
	assert_int_equal(sbuf_append_str(&b, "efgh"), SONO_OK);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.data, "abcdefgh");
	sbuf_free(&b);
}

static void append_past_max_fails_unchanged(void **state)
{
	struct sbuf b;

	sbuf_init(&b, 5);
	assert_int_equal(sbuf_append(&b, "abc", 3), SONO_OK);
	assert_int_equal(sbuf_append(&b, "def", 3), SONO_ETOOBIG);
	assert_int_equal(b.len, 3);
	assert_string_equal((char *)b.data, "abc");
	assert_int_equal(sbuf_append(&b, "x", SIZE_MAX), SONO_ETOOBIG);
	sbuf_free(&b);
}

static void printf_respects_max(void **state)
{
	struct sbuf b;

	sbuf_init(&b, 10);
	assert_int_equal(sbuf_printf(&b, "%d-%s", 42, "ok"), SONO_OK);
	assert_string_equal((char *)b.data, "42-ok");
	assert_int_equal(sbuf_printf(&b, "%s", "toolongtext"), SONO_ETOOBIG);
	assert_string_equal((char *)b.data, "42-ok");
	sbuf_free_wipe(&b);
	sbuf_free(NULL);
}

static void reserve_and_commit(void **state)
{
	struct sbuf b;
	uint8_t *p;

	sbuf_init(&b, 1000);
	p = sbuf_reserve(&b, 600);
	assert_non_null(p);
	memset(p, 'x', 600);
	sbuf_commit(&b, 600);
	assert_int_equal(b.len, 600);
	assert_null(sbuf_reserve(&b, 401));
	sbuf_free(&b);
}

static void steal_hands_over(void **state)
{
	struct sbuf b;
	uint8_t *p;
	size_t len;

	sbuf_init(&b, 100);
	sbuf_append_str(&b, "data");
	p = sbuf_steal(&b, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "data", 4);
	assert_null(b.data);
	free(p);
}

static void reader_checks_lengths(void **state)
{
	const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09 };
	struct breader r;
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;
	const uint8_t *p;

	br_init(&r, data, sizeof(data));
	assert_int_equal(br_u16be(&r, &u16), SONO_OK);
	assert_int_equal(u16, 0x0102);
	assert_int_equal(br_u16le(&r, &u16), SONO_OK);
	assert_int_equal(u16, 0x0403);
	assert_int_equal(br_u32be(&r, &u32), SONO_OK);
	assert_int_equal(u32, 0x05060708);
	assert_int_equal(br_u64be(&r, &u64), SONO_EINVAL);
	assert_int_equal(br_remaining(&r), 1);
	assert_int_equal(br_bytes(&r, 2, &p), SONO_EINVAL);
	assert_int_equal(br_skip(&r, SIZE_MAX), SONO_EINVAL);
	assert_int_equal(br_u32le(&r, &u32), SONO_EINVAL);
	assert_int_equal(br_remaining(&r), 1);
}

static void size_mul_detects_overflow(void **state)
{
	size_t out;

	assert_int_equal(size_mul(65535, 65535, &out), SONO_OK);
	assert_int_equal(out, (size_t)65535 * 65535);
	assert_int_equal(size_mul(SIZE_MAX / 2 + 1, 2, &out), SONO_ETOOBIG);
	assert_int_equal(size_mul(0, SIZE_MAX, &out), SONO_OK);
	assert_int_equal(out, 0);
}

static void big_endian_stores(void **state)
{
	uint8_t p[8];
	struct breader r;
	uint64_t v;
	float f;

	put_u64be(p, 0x0102030405060708ull);
	br_init(&r, p, 8);
	assert_int_equal(br_u64be(&r, &v), SONO_OK);
	assert_true(v == 0x0102030405060708ull);

	put_f32be(p, 0.25f);
	br_init(&r, p, 4);
	assert_int_equal(br_f32be(&r, &f), SONO_OK);
	assert_true(f == 0.25f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_within_max),
		cmocka_unit_test(append_past_max_fails_unchanged),
		cmocka_unit_test(printf_respects_max),
		cmocka_unit_test(reserve_and_commit),
		cmocka_unit_test(steal_hands_over),
		cmocka_unit_test(reader_checks_lengths),
		cmocka_unit_test(size_mul_detects_overflow),
		cmocka_unit_test(big_endian_stores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
