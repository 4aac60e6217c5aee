/* Password resets and enrolment.
 *
 * Both send the account's address a single-use link
 * https://HOST/reset?token=<token> through the outbox.  The token is 32
 * random bytes in hex; the database keeps its SHA-256 and an expiry
 * (RESETS_RESET_SECONDS for a reset, RESETS_ENROL_SECONDS for enrolment).
 * Using a token sets the password, marks the token used, and revokes every
 * session of the user and every other open token of the user.
 * Staff start resets but never see the token or the password. */
#ifndef CLOUD_RESETS_H
#define CLOUD_RESETS_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/db.h"

#define RESETS_RESET_SECONDS 3600         /* 1 hour */
#define RESETS_ENROL_SECONDS (7 * 86400)  /* 7 days */
#define RESETS_TOKEN_HEX_LEN 65

enum resets_kind {
	RESETS_RESET,
	RESETS_ENROL,
};

/* The outbox folder and the host name that reset and enrolment links use. */
struct resets_mail {
	const char *outbox_dir;
	const char *hostname; /* HOST in the link, e.g. "cloud.example.org:8443" */
	const char *from;     /* NULL for OUTBOX_FROM_DEFAULT */
};

/* Issues a token for the user and writes the message.  actor and addr go to
 * the audit table ("" when unknown).  Returns 0, SONO_ENOTFOUND, SONO_ESTATE
 * for a disabled user, or SONO_EIO when the outbox cannot be written. */
int resets_issue(struct db *db, const struct resets_mail *mail, int64_t user_id,
	enum resets_kind kind, const char *actor, const char *addr);

/* Sets the lifetime in seconds of reset tokens issued from now on by this
 * process (default RESETS_RESET_SECONDS).  `sonocloud serve
 * --reset-lifetime` calls it once at start-up, before any thread runs, so
 * tests can watch a token expire. */
void resets_set_reset_seconds(int64_t seconds);

/* The public "forgot password" request: looks up name_or_email (a user name
 * or an email address) and issues a reset when it names an enabled account.
 * Returns 0 whether or not an account matched, so callers respond the same
 * way in both cases; returns a negative code only for internal failures.
 * A user gets at most one reset message per 5 minutes.
 * NOTE: writing a message makes the call slower than a miss, so a caller
 * that must not leak account existence through timing should send its
 * response before calling this. */
int resets_request(struct db *db, const struct resets_mail *mail,
	const char *name_or_email, const char *addr);

/* Sets a new password with token.  Returns 0 and the user's id in *user_id
 * (may be NULL), or SONO_EAUTH for a malformed, unknown, used or expired
 * token.  Returns SONO_EINVAL with a reason when the password breaks the
 * rules, and the token stays usable so the user can try another password. */
int resets_complete(struct db *db, const char *token, const char *password,
	const char *addr, int64_t *user_id, char *reason, size_t reasonlen);

#endif
