/* Cryptographic helpers on OpenSSL 3; see sono/crypto.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sono/crypto.h"
#include "sono/error.h"

int crypto_random(void *buf, size_t n)
{
	if (n > (size_t)INT32_MAX)
		return SONO_EINVAL;
	return RAND_bytes(buf, (int)n) == 1 ? SONO_OK : SONO_ECRYPTO;
}

void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int len = CRYPTO_SHA256_LEN;

	EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

struct crypto_sha256_ctx {
	EVP_MD_CTX *md;
};

struct crypto_sha256_ctx *crypto_sha256_begin(void)
{
	struct crypto_sha256_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->md = EVP_MD_CTX_new();
	if (!ctx->md || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx->md);
		OPENSSL_free(ctx);
		return NULL;
	}
	return ctx;
}

int crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t n)
{
	if (!ctx)
		return SONO_EINVAL;
	return EVP_DigestUpdate(ctx->md, data, n) == 1 ? SONO_OK : SONO_ECRYPTO;
}

int crypto_sha256_end(struct crypto_sha256_ctx *ctx, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int len = CRYPTO_SHA256_LEN;
	int rc;

	if (!ctx)
		return SONO_EINVAL;
	rc = EVP_DigestFinal_ex(ctx->md, out, &len) == 1 ? SONO_OK : SONO_ECRYPTO;
	EVP_MD_CTX_free(ctx->md);
	OPENSSL_free(ctx);
	return rc;
}

int crypto_pbkdf2_sha256(const void *password, size_t pwlen, const void *salt,
	size_t saltlen, unsigned iterations, uint8_t *out, size_t outlen)
{
	if (iterations == 0 || pwlen > INT32_MAX || saltlen > INT32_MAX || outlen > INT32_MAX)
		return SONO_EINVAL;
	if (PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, (int)saltlen, (int)iterations,
		    EVP_sha256(), (int)outlen, out) != 1)
		return SONO_ECRYPTO;
	return SONO_OK;
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* Runs one AES-256-GCM operation; enc selects encryption.  For decryption
 * the tag is checked by the final call. */
static int gcm_run(int enc, const uint8_t *key, const uint8_t *iv, const void *aad,
	size_t aadlen, const void *in, size_t inlen, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	int len, rc = SONO_ECRYPTO;

	if (inlen > INT32_MAX || aadlen > INT32_MAX)
		return SONO_EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return SONO_ENOMEM;

	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1)
		goto out;
	if (aad && aadlen && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto out;
	if (inlen && EVP_CipherUpdate(ctx, out, &len, in, (int)inlen) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + inlen, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
		goto out;
	rc = SONO_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int crypto_gcm_encrypt(const uint8_t key[CRYPTO_GCM_KEY_LEN], const uint8_t iv[CRYPTO_GCM_IV_LEN],
	const void *aad, size_t aadlen, const void *pt, size_t ptlen, uint8_t *ct,
	uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	return gcm_run(1, key, iv, aad, aadlen, pt, ptlen, ct, tag);
}

int crypto_gcm_decrypt(const uint8_t key[CRYPTO_GCM_KEY_LEN], const uint8_t iv[CRYPTO_GCM_IV_LEN],
	const void *aad, size_t aadlen, const void *ct, size_t ctlen,
	const uint8_t tag[CRYPTO_GCM_TAG_LEN], uint8_t *pt)
{
	int rc = gcm_run(0, key, iv, aad, aadlen, ct, ctlen, pt, (uint8_t *)tag);

	if (rc < 0)
		crypto_wipe(pt, ctlen);
	return rc;
}

void crypto_hex(const void *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * n)
		return SONO_EINVAL;
	for (i = 0; i < n; i++) {
		hi = hex_value(hex[2 * i]);
		lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return SONO_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return SONO_OK;
}

int crypto_uuid(char out[CRYPTO_UUID_LEN])
{
	uint8_t b[16];
	char hex[33];
	int rc = crypto_random(b, sizeof(b));

	if (rc < 0)
		return rc;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	crypto_hex(b, sizeof(b), hex);
	snprintf(out, CRYPTO_UUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		hex + 16, hex + 20);
	return SONO_OK;
}

int crypto_uuid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}
