/* Login sessions stored as token hashes (see sessions.h). */
#include "config.h"

#include <string.h>

#include "cloud/sessions.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define PURGE_AFTER_SECONDS 86400

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int sessions_create(struct db *db, int64_t user_id, const struct sessions_limits *limits,
	char token[SESSIONS_TOKEN_HEX_LEN], int64_t *expires_at)
{
	uint8_t raw[SESSIONS_TOKEN_BYTES], digest[CRYPTO_SHA256_LEN];
	int64_t idle = SESSIONS_IDLE_DEFAULT, absolute = SESSIONS_ABSOLUTE_DEFAULT;
	int64_t now = db_now();
	int rc;

	if (limits != NULL) {
		idle = limits->idle_seconds;
		absolute = limits->absolute_seconds;
	}
	if (idle <= 0 || absolute <= 0)
		return SONO_EINVAL;
	rc = crypto_random(raw, sizeof(raw));
	if (rc != SONO_OK)
		goto out;
	crypto_sha256(raw, sizeof(raw), digest);
	{
		struct db_value v[6] = {
			DB_V_BLOB(digest, sizeof(digest)), DB_V_INT(user_id), DB_V_INT(now),
			DB_V_INT(now), DB_V_INT(idle), DB_V_INT(now + absolute),
		};

		rc = db_exec(db, "INSERT INTO sessions (token_hash, user_id, created_at, last_used,"
			" idle_seconds, absolute_expiry) VALUES (?, ?, ?, ?, ?, ?)", v, 6, NULL, NULL);
	}
	if (rc != SONO_OK)
		goto out;
	crypto_hex(raw, sizeof(raw), token);
	*expires_at = min64(now + idle, now + absolute);
	LOG_INFO("session created for user id %lld", (long long)user_id);
out:
	crypto_wipe(raw, sizeof(raw));
	return rc;
}

/* Hashes a hex token.  Returns 0 or SONO_EAUTH for a malformed token. */
static int token_digest(const char *token, uint8_t digest[CRYPTO_SHA256_LEN])
{
	uint8_t raw[SESSIONS_TOKEN_BYTES];

	if (token == NULL || strlen(token) != 2 * SESSIONS_TOKEN_BYTES
	    || crypto_unhex(token, raw, sizeof(raw)) != SONO_OK)
		return SONO_EAUTH;
	crypto_sha256(raw, sizeof(raw), digest);
	crypto_wipe(raw, sizeof(raw));
	return SONO_OK;
}

struct session_row {
	struct session s;
	int64_t idle_seconds;
	int64_t absolute_expiry;
	int revoked;
	int disabled;
	int found;
};

static int session_cb(void *arg, const struct db_value *c, size_t n)
{
	struct session_row *r = arg;

	if (n != 8)
		return SONO_EDB;
	r->s.id = c[0].i;
	r->s.user_id = c[1].i;
	r->s.created_at = c[2].i;
	r->s.last_used = c[3].i;
	r->idle_seconds = c[4].i;
	r->absolute_expiry = c[5].i;
	r->revoked = c[6].type != DB_NULL;
	r->disabled = c[7].i != 0;
	r->found = 1;
	return 1;
}

int sessions_lookup(struct db *db, const char *token, struct session *out)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	struct session_row r;
	struct db_value key;
	int64_t now = db_now();
	int rc;

	if (token_digest(token, digest) != SONO_OK)
		return SONO_EAUTH;
	memset(&r, 0, sizeof(r));
	key = DB_V_BLOB(digest, sizeof(digest));
	rc = db_exec(db, "SELECT s.id, s.user_id, s.created_at, s.last_used, s.idle_seconds,"
		" s.absolute_expiry, s.revoked_at, u.disabled FROM sessions s"
		" JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?", &key, 1, session_cb, &r);
	if (rc != SONO_OK)
		return rc;
	if (!r.found || r.revoked || r.disabled || now >= r.absolute_expiry
	    || now >= r.s.last_used + r.idle_seconds)
		return SONO_EAUTH;
	{
		struct db_value v[2] = { DB_V_INT(now), DB_V_INT(r.s.id) };

		rc = db_exec(db, "UPDATE sessions SET last_used = ? WHERE id = ?", v, 2, NULL, NULL);
	}
	if (rc != SONO_OK)
		return rc;
	r.s.last_used = now;
	r.s.expires_at = min64(now + r.idle_seconds, r.absolute_expiry);
	*out = r.s;
	return SONO_OK;
}

int sessions_revoke(struct db *db, const char *token)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	struct db_value v[2];
	int rc;

	if (token_digest(token, digest) != SONO_OK)
		return SONO_ENOTFOUND;
	v[0] = DB_V_INT(db_now());
	v[1] = DB_V_BLOB(digest, sizeof(digest));
	rc = db_exec(db, "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?"
		" AND revoked_at IS NULL", v, 2, NULL, NULL);
	if (rc == SONO_OK && db_changes(db) == 0)
		rc = SONO_ENOTFOUND;
	return rc;
}

int sessions_revoke_user(struct db *db, int64_t user_id, int64_t *count)
{
	struct db_value v[2] = { DB_V_INT(db_now()), DB_V_INT(user_id) };
	int rc;

	rc = db_exec(db, "UPDATE sessions SET revoked_at = ? WHERE user_id = ?"
		" AND revoked_at IS NULL", v, 2, NULL, NULL);
	if (rc == SONO_OK) {
		if (count != NULL)
			*count = db_changes(db);
		LOG_INFO("revoked %lld sessions of user id %lld", (long long)db_changes(db),
			(long long)user_id);
	}
	return rc;
}

int sessions_purge(struct db *db)
{
	int64_t cutoff = db_now() - PURGE_AFTER_SECONDS;
	struct db_value v[3] = { DB_V_INT(cutoff), DB_V_INT(cutoff), DB_V_INT(cutoff) };

	return db_exec(db, "DELETE FROM sessions WHERE revoked_at < ? OR absolute_expiry < ?"
		" OR last_used + idle_seconds < ?", v, 3, NULL, NULL);
}
