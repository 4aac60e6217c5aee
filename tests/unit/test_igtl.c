/* Tests of the OpenIGTLink codec: CRC-64, header, IMAGE, STRING and STATUS
 * bodies, and the incremental decoder on split, corrupt and hostile input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/buf.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/igtl.h"

#define MAX_IMAGE ((size_t)1 << 20)

static void make_frame(struct frame *f, uint32_t width, uint32_t height, unsigned components)
{
	size_t i, n;

	assert_int_equal(frame_alloc(f, width, height, components, FRAME_MAX_BYTES), 0);
	n = (size_t)width * height * components;
	for (i = 0; i < n; i++)
		f->pixels[i] = (uint8_t)(i * 7 + 3);
	f->spacing_mm[0] = 0.25;
	f->spacing_mm[1] = 0.5;
	f->timestamp_ns = 1700000000123456789ULL;
}

/* Encodes one IMAGE message into b. */
static void encode_frame(struct sbuf *b, uint32_t width, uint32_t height, unsigned components)
{
	struct frame f;

	make_frame(&f, width, height, components);
	sbuf_init(b, 64 << 20);
	assert_int_equal(igtl_encode_image(b, "probe", &f), 0);
	frame_free(&f);
}

/* Feeds a whole buffer in chunks of chunk bytes; returns the first non-zero
 * feed result (1 or an error). */
static int feed_chunks(struct igtl_decoder *d, const uint8_t *data, size_t n, size_t chunk)
{
	size_t off = 0, used, take;
	int rc = 0;

	while (off < n) {
		take = n - off < chunk ? n - off : chunk;
		rc = igtl_decoder_feed(d, data + off, take, &used);
		off += used;
		if (rc != 0)
			break;
	}
	return rc;
}

static void crc64_check_value(void **state)
{
	/* The catalogued check value of CRC-64/ECMA-182 (init 0, no reflection,
	 * no final XOR), which is what the OpenIGTLink library computes. */
	assert_true(igtl_crc64(0, "123456789", 9) == 0x6C40DF5F0B497347ULL);
	assert_true(igtl_crc64(0, "", 0) == 0);
	assert_true(igtl_crc64(igtl_crc64(0, "1234", 4), "56789", 5) == 0x6C40DF5F0B497347ULL);
}

/* The bitwise definition of the CRC, to check the table-driven version. */
static uint64_t crc64_bitwise(const uint8_t *p, size_t n)
{
	uint64_t crc = 0;
	size_t i;
	int bit;

	for (i = 0; i < n; i++) {
		crc ^= (uint64_t)p[i] << 56;
		for (bit = 0; bit < 8; bit++)
			crc = (crc & (1ULL << 63)) ? (crc << 1) ^ 0x42F0E1EBA9EA3693ULL : crc << 1;
	}
	return crc;
}

static void crc64_matches_bitwise(void **state)
{
	uint8_t data[300];
	size_t n, split;

	for (n = 0; n < sizeof(data); n++)
		data[n] = (uint8_t)(n * 131 + 17);
	for (n = 0; n <= sizeof(data); n += 13) {
		assert_true(igtl_crc64(0, data, n) == crc64_bitwise(data, n));
		for (split = 0; split <= n; split += 5)
			assert_true(igtl_crc64(igtl_crc64(0, data, split), data + split, n - split) ==
				crc64_bitwise(data, n));
	}
}

static void timestamp_round_trip(void **state)
{
	uint64_t ns = 1700000000123456789ULL;
	uint64_t ts = igtl_timestamp_from_ns(ns);
	uint64_t back = igtl_timestamp_to_ns(ts);

	assert_int_equal(ts >> 32, 1700000000ULL);
	assert_true(back <= ns && ns - back < 2);
	assert_true(igtl_timestamp_from_ns(1500000000ULL) == ((1ULL << 32) | 0x80000000ULL));
}

static void header_round_trip(void **state)
{
	struct igtl_header h = { .version = 1, .type = "IMAGE", .device = "probe-01",
		.timestamp = 42, .body_size = 1000, .crc = 0x0123456789abcdefULL };
	struct igtl_header back;
	uint8_t wire[IGTL_HEADER_SIZE];

	igtl_header_pack(&h, wire);
	assert_int_equal(wire[0], 0);
	assert_int_equal(wire[1], 1);
	assert_memory_equal(wire + 2, "IMAGE\0\0\0\0\0\0\0", 12);
	assert_int_equal(igtl_header_unpack(&back, wire), 0);
	assert_string_equal(back.type, "IMAGE");
	assert_string_equal(back.device, "probe-01");
	assert_true(back.timestamp == 42);
	assert_true(back.body_size == 1000);
	assert_true(back.crc == h.crc);
}

static void header_rejects_version_and_type(void **state)
{
	struct igtl_header h = { .version = 2, .type = "IMAGE" };
	struct igtl_header back;
	uint8_t wire[IGTL_HEADER_SIZE];

	igtl_header_pack(&h, wire);
	assert_int_equal(igtl_header_unpack(&back, wire), SONO_EPROTO);

	h.version = 1;
	igtl_header_pack(&h, wire);
	wire[3] = 0x1b;
	assert_int_equal(igtl_header_unpack(&back, wire), SONO_EPROTO);

	memset(wire + 2, 0, IGTL_TYPE_LEN);
	assert_int_equal(igtl_header_unpack(&back, wire), SONO_EPROTO);
}

static void image_round_trip_gray_and_rgb(void **state)
{
	unsigned components[] = { 1, 3 };
	struct igtl_header h;
	struct frame in, out;
	struct sbuf b;
	char err[160];
	unsigned i;

	for (i = 0; i < 2; i++) {
		memset(&out, 0, sizeof(out));
		make_frame(&in, 64, 48, components[i]);
		sbuf_init(&b, 1 << 20);
		assert_int_equal(igtl_encode_image(&b, "probe", &in), 0);
		assert_int_equal(b.len, IGTL_HEADER_SIZE + IGTL_IMAGE_HEADER_SIZE + 64 * 48 * components[i]);
		assert_int_equal(igtl_header_unpack(&h, b.data), 0);
		assert_true(h.crc == igtl_crc64(0, b.data + IGTL_HEADER_SIZE, b.len - IGTL_HEADER_SIZE));

		assert_int_equal(igtl_decode_image(b.data + IGTL_HEADER_SIZE, b.len - IGTL_HEADER_SIZE,
			h.timestamp, MAX_IMAGE, &out, err, sizeof(err)), 0);
		assert_int_equal(out.width, 64);
		assert_int_equal(out.height, 48);
		assert_int_equal(out.components, components[i]);
		assert_memory_equal(out.pixels, in.pixels, 64 * 48 * components[i]);
		assert_true(out.spacing_mm[0] > 0.2499 && out.spacing_mm[0] < 0.2501);
		assert_true(out.spacing_mm[1] > 0.4999 && out.spacing_mm[1] < 0.5001);
		assert_true(in.timestamp_ns - out.timestamp_ns < 2);
		frame_free(&in);
		frame_free(&out);
		sbuf_free(&b);
	}
}

static void string_and_status_round_trip(void **state)
{
	struct igtl_header h;
	struct igtl_string s;
	struct igtl_status st;
	struct sbuf b;

	sbuf_init(&b, 1 << 16);
	assert_int_equal(igtl_encode_string(&b, "probe", 1, IGTL_ENCODING_UTF8, "{\"a\":1}", 7), 0);
	assert_int_equal(igtl_header_unpack(&h, b.data), 0);
	assert_string_equal(h.type, "STRING");
	assert_int_equal(igtl_decode_string(b.data + IGTL_HEADER_SIZE, h.body_size, &s), 0);
	assert_int_equal(s.encoding, IGTL_ENCODING_UTF8);
	assert_int_equal(s.len, 7);
	assert_memory_equal(s.text, "{\"a\":1}", 7);
	assert_int_equal(igtl_encode_string(&b, NULL, 1, 4, "x", 1), SONO_EINVAL);

	sbuf_reset(&b);
	assert_int_equal(igtl_encode_status(&b, "probe", 1, IGTL_STATUS_OK, -5, "battery", "87%"), 0);
	assert_int_equal(igtl_header_unpack(&h, b.data), 0);
	assert_string_equal(h.type, "STATUS");
	assert_int_equal(igtl_decode_status(b.data + IGTL_HEADER_SIZE, h.body_size, &st), 0);
	assert_int_equal(st.code, IGTL_STATUS_OK);
	assert_true(st.subcode == -5);
	assert_string_equal(st.error_name, "battery");
	assert_int_equal(st.message_len, 3);
	assert_memory_equal(st.message, "87%", 3);
	sbuf_free(&b);
}

static void string_rejects_bad_length_and_encoding(void **state)
{
	uint8_t body[8] = { 0, 3, 0, 5, 'a', 'b', 'c', 'd' };
	struct igtl_string s;

	assert_int_equal(igtl_decode_string(body, sizeof(body), &s), SONO_EPROTO);
	body[3] = 4;
	assert_int_equal(igtl_decode_string(body, sizeof(body), &s), 0);
	body[1] = 5;
	assert_int_equal(igtl_decode_string(body, sizeof(body), &s), SONO_EPROTO);
	assert_int_equal(igtl_decode_string(body, 3, &s), SONO_EPROTO);
}

static void decoder_byte_by_byte(void **state)
{
	struct igtl_decoder d;
	struct frame out = { 0 };
	struct sbuf b;
	char err[160];

	encode_frame(&b, 32, 16, 3);
	igtl_decoder_init(&d, MAX_IMAGE);
	assert_int_equal(feed_chunks(&d, b.data, b.len, 1), 1);
	assert_int_equal(d.body.len, b.len - IGTL_HEADER_SIZE);
	assert_int_equal(igtl_decode_image(d.body.data, d.body.len, d.header.timestamp, MAX_IMAGE,
		&out, err, sizeof(err)), 0);
	assert_int_equal(out.width, 32);

	/* A second message after igtl_decoder_next, fed in odd-sized pieces. */
	igtl_decoder_next(&d);
	assert_int_equal(igtl_decoder_in_message(&d), 0);
	assert_int_equal(feed_chunks(&d, b.data, b.len, 61), 1);
	frame_free(&out);
	igtl_decoder_free(&d);
	sbuf_free(&b);
}

static void decoder_stops_at_message_end(void **state)
{
	struct igtl_decoder d;
	struct sbuf b;
	size_t used, first;

	encode_frame(&b, 8, 8, 1);
	first = b.len;
	assert_int_equal(igtl_encode_string(&b, "probe", 1, IGTL_ENCODING_US_ASCII, "hi", 2), 0);
	igtl_decoder_init(&d, MAX_IMAGE);
	assert_int_equal(igtl_decoder_feed(&d, b.data, b.len, &used), 1);
	assert_int_equal(used, first);
	assert_string_equal(d.header.type, "IMAGE");
	igtl_decoder_next(&d);
	assert_int_equal(igtl_decoder_feed(&d, b.data + used, b.len - used, &used), 1);
	assert_string_equal(d.header.type, "STRING");
	igtl_decoder_free(&d);
	sbuf_free(&b);
}

static void decoder_rejects_bad_crc(void **state)
{
	struct igtl_decoder d;
	struct sbuf b;

	encode_frame(&b, 8, 8, 1);
	b.data[b.len - 1] ^= 0x01;
	igtl_decoder_init(&d, MAX_IMAGE);
	assert_int_equal(feed_chunks(&d, b.data, b.len, 1000), SONO_EPROTO);
	assert_non_null(strstr(d.err, "CRC"));
	igtl_decoder_free(&d);
	sbuf_free(&b);
}

/* Rewrites the IMAGE header of an encoded message with new sizes and the
 * header's body size and CRC to match, so only the named flaw remains. */
static void rewrite_image(struct sbuf *b, uint16_t width, uint16_t height, uint64_t body_size)
{
	struct igtl_header h;
	uint8_t *body = b->data + IGTL_HEADER_SIZE;

	put_u16be(body + 6, width);
	put_u16be(body + 8, height);
	put_u16be(body + 66, width);
	put_u16be(body + 68, height);
	assert_int_equal(igtl_header_unpack(&h, b->data), 0);
	h.body_size = body_size;
	h.crc = igtl_crc64(0, body, b->len - IGTL_HEADER_SIZE);
	igtl_header_pack(&h, b->data);
}

static void decoder_rejects_hostile_geometry(void **state)
{
	struct { uint16_t width, height; int expected; const char *word; } cases[] = {
		{ 0, 0, SONO_EPROTO, "zero" },
		{ 65535, 65535, SONO_ETOOBIG, "maximum" },
		{ 4096, 4096, SONO_ETOOBIG, "maximum" },
		{ 16, 16, SONO_EPROTO, "needs 256" },
	};
	struct igtl_decoder d;
	struct sbuf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		encode_frame(&b, 32, 32, 1); /* 1 KB of pixels */
		rewrite_image(&b, cases[i].width, cases[i].height, b.len - IGTL_HEADER_SIZE);
		igtl_decoder_init(&d, MAX_IMAGE);
		/* Only the IMAGE header is fed: the check must not wait for pixels. */
		assert_int_equal(feed_chunks(&d, b.data, IGTL_HEADER_SIZE + IGTL_IMAGE_HEADER_SIZE, 7),
			cases[i].expected);
		assert_non_null(strstr(d.err, cases[i].word));
		igtl_decoder_free(&d);
		sbuf_free(&b);
	}
}

static void decoder_rejects_oversized_body(void **state)
{
	struct igtl_header h = { .version = 1, .type = "IMAGE", .body_size = UINT64_MAX };
	struct igtl_decoder d;
	uint8_t wire[IGTL_HEADER_SIZE];
	size_t used;

	igtl_decoder_init(&d, MAX_IMAGE);
	igtl_header_pack(&h, wire);
	assert_int_equal(igtl_decoder_feed(&d, wire, sizeof(wire), &used), SONO_ETOOBIG);
	assert_null(d.body.data);

	/* Text messages have their own, smaller limit. */
	igtl_decoder_next(&d);
	snprintf(h.type, sizeof(h.type), "STRING");
	h.body_size = IGTL_TEXT_BODY_MAX + 1;
	igtl_header_pack(&h, wire);
	assert_int_equal(igtl_decoder_feed(&d, wire, sizeof(wire), &used), SONO_ETOOBIG);
	igtl_decoder_free(&d);
}

/* The longest STRING the encoder writes (65535 bytes of text) must pass the
 * decoder's text limit. */
static void decoder_accepts_longest_string(void **state)
{
	static char text[0xffff];
	struct igtl_decoder d;
	struct igtl_string str;
	struct sbuf b;
	size_t used;

	memset(text, 'x', sizeof(text));
	sbuf_init(&b, 1 << 20);
	assert_int_equal(igtl_encode_string(&b, "dev", 0, IGTL_ENCODING_UTF8, text, sizeof(text)), 0);
	igtl_decoder_init(&d, MAX_IMAGE);
	assert_int_equal(igtl_decoder_feed(&d, b.data, b.len, &used), 1);
	assert_int_equal(used, b.len);
	assert_int_equal(igtl_decode_string(d.body.data, d.body.len, &str), 0);
	assert_int_equal(str.len, sizeof(text));
	igtl_decoder_free(&d);
	sbuf_free(&b);
}

static void decoder_zero_body_image(void **state)
{
	struct igtl_header h = { .version = 1, .type = "IMAGE", .body_size = 0, .crc = 0 };
	struct igtl_decoder d;
	struct frame out = { 0 };
	uint8_t wire[IGTL_HEADER_SIZE];
	char err[160];
	size_t used;

	igtl_decoder_init(&d, MAX_IMAGE);
	igtl_header_pack(&h, wire);
	assert_int_equal(igtl_decoder_feed(&d, wire, sizeof(wire), &used), 1);
	assert_int_equal(igtl_decode_image(d.body.data, d.body.len, 0, MAX_IMAGE, &out, err,
		sizeof(err)), SONO_EPROTO);
	assert_non_null(strstr(err, "shorter"));
	assert_null(out.pixels);
	igtl_decoder_free(&d);
}

static void decoder_partial_message(void **state)
{
	struct igtl_decoder d;
	struct sbuf b;
	size_t used;

	encode_frame(&b, 8, 8, 1);
	igtl_decoder_init(&d, MAX_IMAGE);
	assert_int_equal(igtl_decoder_in_message(&d), 0);
	assert_int_equal(igtl_decoder_feed(&d, b.data, b.len - 10, &used), 0);
	assert_int_equal(used, b.len - 10);
	assert_int_equal(igtl_decoder_in_message(&d), 1);
	/* Memory follows the bytes received, not the promised body size. */
	assert_true(d.body.len == b.len - 10 - IGTL_HEADER_SIZE);
	igtl_decoder_free(&d);
	sbuf_free(&b);
}

static void image_rejects_unsupported(void **state)
{
	struct frame out = { 0 };
	struct sbuf b;
	char err[160];
	uint8_t *body;

	encode_frame(&b, 8, 8, 1);
	body = b.data + IGTL_HEADER_SIZE;
	body[3] = 5; /* uint16 scalars */
	assert_int_equal(igtl_decode_image(body, b.len - IGTL_HEADER_SIZE, 0, MAX_IMAGE, &out,
		err, sizeof(err)), SONO_EUNSUPPORTED);
	body[3] = 3;
	body[2] = 2; /* two components */
	assert_int_equal(igtl_decode_image(body, b.len - IGTL_HEADER_SIZE, 0, MAX_IMAGE, &out,
		err, sizeof(err)), SONO_EUNSUPPORTED);
	body[2] = 1;
	put_u16be(body + 62, 1); /* subvolume offset */
	assert_int_equal(igtl_decode_image(body, b.len - IGTL_HEADER_SIZE, 0, MAX_IMAGE, &out,
		err, sizeof(err)), SONO_EUNSUPPORTED);
	assert_null(out.pixels);
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc64_check_value),
		cmocka_unit_test(crc64_matches_bitwise),
		cmocka_unit_test(timestamp_round_trip),
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(header_rejects_version_and_type),
		cmocka_unit_test(image_round_trip_gray_and_rgb),
		cmocka_unit_test(string_and_status_round_trip),
		cmocka_unit_test(string_rejects_bad_length_and_encoding),
		cmocka_unit_test(decoder_byte_by_byte),
		cmocka_unit_test(decoder_stops_at_message_end),
		cmocka_unit_test(decoder_rejects_bad_crc),
		cmocka_unit_test(decoder_rejects_hostile_geometry),
		cmocka_unit_test(decoder_rejects_oversized_body),
		cmocka_unit_test(decoder_accepts_longest_string),
		cmocka_unit_test(decoder_zero_body_image),
		cmocka_unit_test(decoder_partial_message),
		cmocka_unit_test(image_rejects_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
