/* Cryptographic helpers on OpenSSL: random bytes, hashing, PBKDF2,
 * AES-256-GCM, constant-time comparison and wiping.
 * All functions return 0 or a negative SONO_E* code unless noted. */
#ifndef SONO_CRYPTO_H
#define SONO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 65 /* 64 hex digits and NUL */
#define CRYPTO_GCM_KEY_LEN 32
#define CRYPTO_GCM_IV_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
#define CRYPTO_UUID_LEN 37 /* 36 characters and NUL */

/* Fills buf with n bytes from the OpenSSL CSPRNG. */
int crypto_random(void *buf, size_t n);

void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* Incremental SHA-256 for data that arrives in pieces. */
struct crypto_sha256_ctx;
struct crypto_sha256_ctx *crypto_sha256_begin(void);
int crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t n);
/* Writes the digest and frees ctx; accepts NULL (returns SONO_EINVAL). */
int crypto_sha256_end(struct crypto_sha256_ctx *ctx, uint8_t out[CRYPTO_SHA256_LEN]);

/* PBKDF2-HMAC-SHA256 of password with salt, writing outlen bytes. */
int crypto_pbkdf2_sha256(const void *password, size_t pwlen, const void *salt,
	size_t saltlen, unsigned iterations, uint8_t *out, size_t outlen);

/* Returns 1 when the n bytes of a and b are equal, in time independent of
 * where they differ, else 0. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes in a way the compiler cannot remove; accepts NULL. */
void crypto_wipe(void *p, size_t n);

/* AES-256-GCM.  ct must hold ptlen bytes; aad may be NULL. */
int crypto_gcm_encrypt(const uint8_t key[CRYPTO_GCM_KEY_LEN], const uint8_t iv[CRYPTO_GCM_IV_LEN],
	const void *aad, size_t aadlen, const void *pt, size_t ptlen, uint8_t *ct,
	uint8_t tag[CRYPTO_GCM_TAG_LEN]);
/* Returns SONO_ECRYPTO when the tag does not match (wrong key or tampering). */
int crypto_gcm_decrypt(const uint8_t key[CRYPTO_GCM_KEY_LEN], const uint8_t iv[CRYPTO_GCM_IV_LEN],
	const void *aad, size_t aadlen, const void *ct, size_t ctlen,
	const uint8_t tag[CRYPTO_GCM_TAG_LEN], uint8_t *pt);

/* Writes 2n lowercase hex digits and a NUL to out (2n + 1 bytes). */
void crypto_hex(const void *data, size_t n, char *out);

/* Parses exactly 2n hex digits into n bytes.  Returns 0 or SONO_EINVAL. */
int crypto_unhex(const char *hex, uint8_t *out, size_t n);

/* Writes a random (version 4) UUID in lowercase canonical form. */
int crypto_uuid(char out[CRYPTO_UUID_LEN]);

/* Returns 1 when s is a canonical lowercase UUID, else 0. */
int crypto_uuid_valid(const char *s);

#endif
