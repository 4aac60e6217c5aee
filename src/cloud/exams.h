/* Exam storage: resumable, idempotent uploads and role-checked reads.
 *
 * Upload protocol, as the station uses it:
 *   1. exams_create(uuid, phi_json): repeating it with the same uuid and
 *      owner is harmless and keeps the first PHI.
 *   2. exams_put_part(uuid, n, body, sha256) for each part: the body must
 *      hash to sha256.  Putting the same number with the same hash again
 *      succeeds without change, so an interrupted upload resumes by putting
 *      every part again.  A different hash replaces the part while the exam
 *      is open and is a conflict (SONO_ESTATE) once it is committed.
 *   3. exams_commit(uuid): freezes the exam and returns the receipt
 *      {receipt_id, exam, parts:[{n, size, sha256}]}.  Committing again
 *      returns the same receipt.
 * States: open -> committed; nothing moves a committed exam back.
 *
 * Part bodies are stored in the (SQLCipher-encrypted) database,
 * zstd-compressed when that makes them smaller.
 *
 * Access: a clinician sees and writes only the exams they own, with PHI.
 * An observer lists and reads every committed exam and its parts, never the
 * PHI.  An administrator has no access to exams.  An exam the caller may not
 * see is reported as SONO_ENOTFOUND (HTTP 404), never as forbidden, so its
 * existence does not leak.  Role failures that do not depend on a specific
 * exam (an administrator or observer uploading) return SONO_EAUTH.
 *
 * Every read or write of PHI, and every part read, is written to the audit
 * table with the caller and the client address addr ("" when unknown). */
#ifndef CLOUD_EXAMS_H
#define CLOUD_EXAMS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/accounts.h"
#include "cloud/db.h"
#include "sono/crypto.h"

#define EXAMS_PHI_MAX 65536              /* bytes of the PHI JSON */
#define EXAMS_PART_MAX (64u * 1024 * 1024) /* bytes of one part body */
#define EXAMS_PARTS_MAX 10000           /* part numbers are 1..EXAMS_PARTS_MAX */

/* Creates the exam or confirms an existing one of the same owner.
 * phi_json is the station's patient metadata, a JSON object of at most
 * EXAMS_PHI_MAX bytes (may be NULL).  Returns 0 (*created says whether it
 * is new, may be NULL), SONO_EINVAL for a malformed uuid or PHI,
 * SONO_EAUTH when caller is not a clinician, SONO_ENOTFOUND when another user
 * owns the uuid. */
int exams_create(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, const char *phi_json, int *created);

/* Stores part n (1..EXAMS_PARTS_MAX) of an exam of caller.  sha256 is the hash
 * the client sent.  Returns 0; SONO_EINVAL when the body does not hash to
 * sha256 or n is out of range; SONO_ETOOBIG past EXAMS_PART_MAX;
 * SONO_ESTATE for a different hash on a committed exam; SONO_ENOTFOUND;
 * SONO_EAUTH. */
int exams_put_part(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, unsigned n, const void *body, size_t len,
	const uint8_t sha256[CRYPTO_SHA256_LEN]);

/* Commits the exam and sets *receipt to a new JSON object that the caller
 * releases with json_decref().  Returns 0, SONO_ESTATE when the exam has no
 * parts, SONO_ENOTFOUND or SONO_EAUTH. */
int exams_commit(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, json_t **receipt);

/* Sets *list to a new JSON array of the exams caller may see, newest first:
 * {uuid, state, created_at, committed_at, receipt_id, parts, bytes} and,
 * for the owning clinician, "phi".  Returns 0, SONO_EAUTH for an
 * administrator, or SONO_EDB. */
int exams_list(struct db *db, const struct account *caller, const char *addr, json_t **list);

/* Sets *exam to one exam as in exams_list plus
 * "parts_list":[{n, size, sha256}].  Returns 0, SONO_ENOTFOUND, SONO_EAUTH. */
int exams_get(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, json_t **exam);

/* Copies the decompressed body of part n into *body (the caller frees with
 * free()) and its length into *len.  Returns 0, SONO_ENOTFOUND, SONO_EAUTH,
 * or SONO_ECRYPTO when the stored body no longer matches its hash. */
int exams_get_part(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, unsigned n, uint8_t **body, size_t *len);

#endif
