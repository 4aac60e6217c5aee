/* Login sessions.
 *
 * A session token is 32 random bytes, sent to the client once as 64 hex
 * digits; the database keeps only its SHA-256, so a copy of the database
 * does not let anyone log in.  A session ends when it is revoked, when it has
 * been idle longer than its idle limit, or when its absolute lifetime has
 * passed, whichever comes first.  Both limits are fixed when the session is
 * created.
 *
 * States: live -> expired (idle or absolute limit passed) or revoked.  A
 * session never returns to live, and sessions_lookup() never extends a
 * session past its absolute expiry. */
#ifndef CLOUD_SESSIONS_H
#define CLOUD_SESSIONS_H

#include <stdint.h>

#include "cloud/db.h"

#define SESSIONS_TOKEN_BYTES 32
#define SESSIONS_TOKEN_HEX_LEN 65 /* 64 hex digits and NUL */
#define SESSIONS_IDLE_DEFAULT 1800      /* seconds: 30 minutes */
#define SESSIONS_ABSOLUTE_DEFAULT 43200 /* seconds: 12 hours */

struct sessions_limits {
	int64_t idle_seconds;
	int64_t absolute_seconds;
};

struct session {
	int64_t id;
	int64_t user_id;
	int64_t created_at;
	int64_t last_used;
	int64_t expires_at; /* the earlier of idle and absolute expiry, as of now */
};

/* Creates a session for user_id.  limits may be NULL for the defaults.
 * Writes the token to token (shown to the client once, never stored) and
 * the expiry to *expires_at.  Returns 0 or a negative SONO_E* code. */
int sessions_create(struct db *db, int64_t user_id, const struct sessions_limits *limits,
	char token[SESSIONS_TOKEN_HEX_LEN], int64_t *expires_at);

/* Finds the live session of token and marks it used now, which moves the
 * idle expiry forward.  Fails for a disabled user.  Returns 0 and fills
 * *out, or SONO_EAUTH for a malformed, unknown, expired or revoked token. */
int sessions_lookup(struct db *db, const char *token, struct session *out);

/* Revokes one session.  Returns 0 or SONO_ENOTFOUND. */
int sessions_revoke(struct db *db, const char *token);

/* Revokes every session of a user; *count (may be NULL) gets how many. */
int sessions_revoke_user(struct db *db, int64_t user_id, int64_t *count);

/* Deletes sessions that ended more than a day ago.  Returns 0 or SONO_EDB. */
int sessions_purge(struct db *db);

#endif
