/* Key files of the station store.
 *
 * A key file contains the store's 256-bit data key in one of two layouts,
 * distinguished by length:
 *   32 bytes  the raw key (default mode, protected by the file mode 0600);
 *   88 bytes  the key wrapped with a passphrase:
 *             "SONOKEY1" | iterations (u32 big-endian) | salt (16)
 *             | GCM IV (12) | GCM tag (16) | wrapped key (32).
 * The wrapping key is PBKDF2-HMAC-SHA256(passphrase, salt, iterations) and
 * the first 28 bytes (magic, iterations, salt) are authenticated as AAD, so
 * a changed iteration count or salt fails like a wrong passphrase. */
#ifndef STATION_STORE_KEY_H
#define STATION_STORE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "station/store.h"

#define STORE_KEY_FILE_RAW_LEN 32
#define STORE_KEY_FILE_WRAPPED_LEN 88

/* Creates a new random data key, writes it to path (mode 0600, through a
 * temporary file and rename) and copies it to key.  With a passphrase the
 * key is wrapped.  Fails with SONO_EIO when path already exists. */
int store_key_create(const char *path, const char *passphrase, size_t passphrase_len,
	uint8_t key[STORE_KEY_LEN], char *err, size_t errlen);

/* Reads the data key from path into key.  Returns SONO_ENOTFOUND when the
 * file is missing, SONO_EAUTH for a wrong or missing passphrase, SONO_EDB for
 * a file of the wrong size or magic, SONO_EIO for a read error. */
int store_key_load(const char *path, const char *passphrase, size_t passphrase_len,
	uint8_t key[STORE_KEY_LEN], char *err, size_t errlen);

#endif
