/* Scanners and which users may use them.
 *
 * A scanner is known by its serial (the serialNumber in its certificate's
 * subject), a model string and the SHA-256 fingerprint of its certificate.
 * A grant lets one user connect to one scanner.  The station accepts a
 * scanner only when its serial and fingerprint appear in the logged-in
 * user's list. */
#ifndef CLOUD_SCANNERS_H
#define CLOUD_SCANNERS_H

#include <stdint.h>

#include <jansson.h>

#include "cloud/db.h"

#define SCANNERS_SERIAL_MAX 64
#define SCANNERS_MODEL_MAX 128

/* Returns 1 for 1..64 bytes of letters, digits, '.', '_' and '-', else 0. */
int scanners_serial_valid(const char *serial);

/* Adds a scanner, or replaces the fingerprint and model of an existing one
 * (a re-keyed scanner).  fingerprint is "SHA256:<64 hex>" in either case.
 * Returns 0 or SONO_EINVAL. */
int scanners_add(struct db *db, const char *serial, const char *fingerprint,
	const char *model);

/* Grants or revokes a user's access to a scanner.  Granting twice is
 * harmless.  Returns 0, or SONO_ENOTFOUND for an unknown user or scanner
 * (and, for revoke, a grant that does not exist). */
int scanners_grant(struct db *db, const char *user, const char *serial);
int scanners_revoke(struct db *db, const char *user, const char *serial);

/* Sets *out to a new JSON array of the scanners user_id may use:
 * [{serial, model, fingerprint}].  Returns 0 or SONO_EDB. */
int scanners_for_user(struct db *db, int64_t user_id, json_t **out);

#endif
