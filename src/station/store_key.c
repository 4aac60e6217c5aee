/* Key files of the station store: creating, wrapping and reading the data
 * key.  The layouts are described in store_key.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/store_key.h"

#define KEY_MAGIC "SONOKEY1"
#define KEY_MAGIC_LEN 8
#define KEY_SALT_LEN 16
#define KEY_AAD_LEN (KEY_MAGIC_LEN + 4 + KEY_SALT_LEN)
#define KEY_ITERATIONS_MIN 10000u
#define KEY_ITERATIONS_MAX 10000000u

/* Writes data to a new file at path with mode 0600: a temporary file with a
 * unique name in the same folder, fsync, then link() to path, which fails if
 * path exists, so a key file is never replaced.  The unique name keeps two
 * processes creating a store at once from writing into each other's
 * temporary file. */
static int write_new_file(const char *path, const uint8_t *data, size_t n, char *err, size_t errlen)
{
	char tmp[4096];
	mode_t old_mask;
	int fd = -1;
	int rc = SONO_EIO;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return SONO_ETOOBIG;
	old_mask = umask(077);
	fd = mkstemp(tmp);
	umask(old_mask);
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		close(fd);
		unlink(tmp);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary key file beside %s: %s", path,
			strerror(errno));
		return SONO_EIO;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, data, n) != (ssize_t)n || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write key file %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, path) != 0) {
		snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		goto out;
	}
	rc = SONO_OK;
out:
	close(fd);
	unlink(tmp);
	return rc;
}

/* Derives the wrapping key from the passphrase and the file's salt. */
static int derive_wrap_key(const char *passphrase, size_t passphrase_len, const uint8_t *salt,
	uint32_t iterations, uint8_t wrap[CRYPTO_GCM_KEY_LEN])
{
	return crypto_pbkdf2_sha256(passphrase, passphrase_len, salt, KEY_SALT_LEN, iterations,
		wrap, CRYPTO_GCM_KEY_LEN);
}

static int wrap_key(const uint8_t key[STORE_KEY_LEN], const char *passphrase,
	size_t passphrase_len, uint8_t file[STORE_KEY_FILE_WRAPPED_LEN])
{
	uint8_t wrap[CRYPTO_GCM_KEY_LEN];
	uint8_t *salt = file + KEY_MAGIC_LEN + 4;
	uint8_t *iv = salt + KEY_SALT_LEN;
	uint8_t *tag = iv + CRYPTO_GCM_IV_LEN;
	uint8_t *wrapped = tag + CRYPTO_GCM_TAG_LEN;
	int rc;

	memcpy(file, KEY_MAGIC, KEY_MAGIC_LEN);
	put_u32be(file + KEY_MAGIC_LEN, STORE_PASSPHRASE_ITERATIONS);
	rc = crypto_random(salt, KEY_SALT_LEN);
	if (rc == 0)
		rc = crypto_random(iv, CRYPTO_GCM_IV_LEN);
	if (rc == 0)
		rc = derive_wrap_key(passphrase, passphrase_len, salt, STORE_PASSPHRASE_ITERATIONS, wrap);
	if (rc == 0)
		rc = crypto_gcm_encrypt(wrap, iv, file, KEY_AAD_LEN, key, STORE_KEY_LEN, wrapped, tag);
	crypto_wipe(wrap, sizeof(wrap));
	return rc;
}

int store_key_create(const char *path, const char *passphrase, size_t passphrase_len,
	uint8_t key[STORE_KEY_LEN], char *err, size_t errlen)
{
	uint8_t file[STORE_KEY_FILE_WRAPPED_LEN];
	size_t n = STORE_KEY_FILE_RAW_LEN;
	int rc;

	rc = crypto_random(key, STORE_KEY_LEN);
	if (rc != 0) {
		snprintf(err, errlen, "cannot generate a data key: the random generator failed");
		goto out;
	}
	if (passphrase) {
		rc = wrap_key(key, passphrase, passphrase_len, file);
		n = STORE_KEY_FILE_WRAPPED_LEN;
		if (rc != 0) {
			snprintf(err, errlen, "cannot wrap the data key with the passphrase: %s",
				sono_strerror(rc));
			goto out;
		}
	} else {
		memcpy(file, key, STORE_KEY_LEN);
	}
	rc = write_new_file(path, file, n, err, errlen);
	if (rc == 0)
		LOG_NOTICE("created %s key file %s", passphrase ? "passphrase-wrapped" : "raw", path);
out:
	crypto_wipe(file, sizeof(file));
	if (rc != 0)
		crypto_wipe(key, STORE_KEY_LEN);
	return rc;
}

/* Reads at most max bytes of path into buf; *n gets the file's length, which
 * is larger than max when the file is too long.  Warns when the file is
 * readable by others. */
static int read_key_file(const char *path, uint8_t *buf, size_t max, size_t *n, char *err,
	size_t errlen)
{
	struct stat st;
	ssize_t got;
	int fd;
	int rc = SONO_EIO;

	/* O_NONBLOCK keeps open() from waiting for a writer when path is a FIFO;
	 * the S_ISREG check below then rejects it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077)
		LOG_WARN("key file %s is accessible to other users (mode %03o); run chmod 600 on it",
			path, (unsigned)(st.st_mode & 0777));
	*n = (size_t)st.st_size;
	if (*n > max) {
		rc = SONO_OK;
		goto out;
	}
	got = read(fd, buf, *n);
	if (got < 0 || (size_t)got != *n) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
			got < 0 ? strerror(errno) : "short read");
		goto out;
	}
	rc = SONO_OK;
out:
	close(fd);
	return rc;
}

static int unwrap_key(const uint8_t file[STORE_KEY_FILE_WRAPPED_LEN], const char *passphrase,
	size_t passphrase_len, uint8_t key[STORE_KEY_LEN], char *err, size_t errlen)
{
	uint8_t wrap[CRYPTO_GCM_KEY_LEN];
	const uint8_t *salt = file + KEY_MAGIC_LEN + 4;
	const uint8_t *iv = salt + KEY_SALT_LEN;
	const uint8_t *tag = iv + CRYPTO_GCM_IV_LEN;
	const uint8_t *wrapped = tag + CRYPTO_GCM_TAG_LEN;
	uint32_t iterations;
	struct breader r;
	int rc;

	br_init(&r, file + KEY_MAGIC_LEN, 4);
	br_u32be(&r, &iterations);
	if (iterations < KEY_ITERATIONS_MIN || iterations > KEY_ITERATIONS_MAX) {
		snprintf(err, errlen, "key file is damaged: iteration count %u is outside %u..%u",
			(unsigned)iterations, KEY_ITERATIONS_MIN, KEY_ITERATIONS_MAX);
		return SONO_EDB;
	}
	rc = derive_wrap_key(passphrase, passphrase_len, salt, iterations, wrap);
	if (rc == 0)
		rc = crypto_gcm_decrypt(wrap, iv, file, KEY_AAD_LEN, wrapped, STORE_KEY_LEN, tag, key);
	crypto_wipe(wrap, sizeof(wrap));
	if (rc == SONO_ECRYPTO) {
		snprintf(err, errlen, "wrong passphrase for the store key file (or the file was altered)");
		rc = SONO_EAUTH;
	}
	if (rc != 0)
		crypto_wipe(key, STORE_KEY_LEN);
	return rc;
}

int store_key_load(const char *path, const char *passphrase, size_t passphrase_len,
	uint8_t key[STORE_KEY_LEN], char *err, size_t errlen)
{
	uint8_t file[STORE_KEY_FILE_WRAPPED_LEN];
	size_t n = 0;
	int rc;

	rc = read_key_file(path, file, sizeof(file), &n, err, errlen);
	if (rc != 0)
		goto out;
	if (n == STORE_KEY_FILE_RAW_LEN) {
		if (passphrase) {
			snprintf(err, errlen, "key file %s is not protected by a passphrase; "
				"open the store without one", path);
			rc = SONO_EAUTH;
			goto out;
		}
		memcpy(key, file, STORE_KEY_LEN);
	} else if (n == STORE_KEY_FILE_WRAPPED_LEN && !memcmp(file, KEY_MAGIC, KEY_MAGIC_LEN)) {
		if (!passphrase) {
			snprintf(err, errlen, "key file %s is protected by a passphrase; supply it", path);
			rc = SONO_EAUTH;
			goto out;
		}
		rc = unwrap_key(file, passphrase, passphrase_len, key, err, errlen);
	} else {
		snprintf(err, errlen, "key file %s is damaged: %zu bytes, expected %d (raw key) "
			"or %d (passphrase-wrapped key)", path, n, STORE_KEY_FILE_RAW_LEN,
			STORE_KEY_FILE_WRAPPED_LEN);
		rc = SONO_EDB;
	}
out:
	crypto_wipe(file, sizeof(file));
	return rc;
}
