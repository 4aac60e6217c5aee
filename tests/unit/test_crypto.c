/* Tests of the crypto helpers, including the PBKDF2-HMAC-SHA256 vectors
 * published in RFC 7914, section 11. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"

static void pbkdf2_rfc7914_vector1(void **state)
{
	uint8_t out[64];
	char hex[129];

	assert_int_equal(crypto_pbkdf2_sha256("passwd", 6, "salt", 4, 1, out, sizeof(out)), SONO_OK);
	crypto_hex(out, sizeof(out), hex);
	assert_string_equal(hex,
		"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
}

static void pbkdf2_rfc7914_vector2(void **state)
{
	uint8_t out[64];
	char hex[129];

	assert_int_equal(crypto_pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, out, sizeof(out)),
		SONO_OK);
	crypto_hex(out, sizeof(out), hex);
	assert_string_equal(hex,
		"4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
		"a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

static void pbkdf2_rejects_zero_iterations(void **state)
{
	uint8_t out[32];

	assert_int_equal(crypto_pbkdf2_sha256("a", 1, "b", 1, 0, out, sizeof(out)), SONO_EINVAL);
}

static void sha256_of_abc(void **state)
{
	uint8_t md[CRYPTO_SHA256_LEN], md2[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN];
	struct crypto_sha256_ctx *ctx;

	crypto_sha256("abc", 3, md);
	crypto_hex(md, sizeof(md), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	ctx = crypto_sha256_begin();
	assert_non_null(ctx);
	assert_int_equal(crypto_sha256_update(ctx, "a", 1), SONO_OK);
	assert_int_equal(crypto_sha256_update(ctx, "bc", 2), SONO_OK);
	assert_int_equal(crypto_sha256_end(ctx, md2), SONO_OK);
	assert_memory_equal(md, md2, sizeof(md));
}

static void equal_compares_all_bytes(void **state)
{
	assert_true(crypto_equal("abcdef", "abcdef", 6));
	assert_false(crypto_equal("abcdef", "abcdeg", 6));
	assert_false(crypto_equal("xbcdef", "abcdef", 6));
}

static void wipe_zeroes(void **state)
{
	char secret[16] = "hunter2hunter2!";
	char zero[16] = { 0 };

	crypto_wipe(secret, sizeof(secret));
	assert_memory_equal(secret, zero, sizeof(zero));
	crypto_wipe(NULL, 10);
}

static void gcm_round_trip_and_tamper(void **state)
{
	uint8_t key[32], iv[12], tag[16], ct[11], pt[11];

	assert_int_equal(crypto_random(key, sizeof(key)), SONO_OK);
	assert_int_equal(crypto_random(iv, sizeof(iv)), SONO_OK);
	assert_int_equal(crypto_gcm_encrypt(key, iv, "aad", 3, "hello world", 11, ct, tag), SONO_OK);
	assert_int_equal(crypto_gcm_decrypt(key, iv, "aad", 3, ct, 11, tag, pt), SONO_OK);
	assert_memory_equal(pt, "hello world", 11);

	ct[0] ^= 1;
	assert_int_equal(crypto_gcm_decrypt(key, iv, "aad", 3, ct, 11, tag, pt), SONO_ECRYPTO);
	ct[0] ^= 1;
	key[0] ^= 1;
	assert_int_equal(crypto_gcm_decrypt(key, iv, "aad", 3, ct, 11, tag, pt), SONO_ECRYPTO);
}

static void hex_round_trip(void **state)
{
	uint8_t in[4] = { 0x00, 0xab, 0xff, 0x10 }, out[4];
	char hex[9];

	crypto_hex(in, sizeof(in), hex);
	assert_string_equal(hex, "00abff10");
	assert_int_equal(crypto_unhex("00ABff10", out, sizeof(out)), SONO_OK);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(crypto_unhex("00abff1", out, sizeof(out)), SONO_EINVAL);
	assert_int_equal(crypto_unhex("00abff1g", out, sizeof(out)), SONO_EINVAL);
}

static void uuid_is_version4(void **state)
{
	char a[CRYPTO_UUID_LEN], b[CRYPTO_UUID_LEN];

	assert_int_equal(crypto_uuid(a), SONO_OK);
	assert_int_equal(crypto_uuid(b), SONO_OK);
	assert_true(crypto_uuid_valid(a));
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
	assert_false(crypto_uuid_valid("not-a-uuid"));
	assert_false(crypto_uuid_valid("ABCDEF00-0000-4000-8000-000000000000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pbkdf2_rfc7914_vector1),
		cmocka_unit_test(pbkdf2_rfc7914_vector2),
		cmocka_unit_test(pbkdf2_rejects_zero_iterations),
		cmocka_unit_test(sha256_of_abc),
		cmocka_unit_test(equal_compares_all_bytes),
		cmocka_unit_test(wipe_zeroes),
		cmocka_unit_test(gcm_round_trip_and_tamper),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(uuid_is_version4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
