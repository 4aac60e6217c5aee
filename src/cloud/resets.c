/* Single-use reset and enrolment tokens delivered through the outbox (see
 * resets.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cloud/accounts.h"
#include "cloud/audit.h"
#include "cloud/outbox.h"
#include "cloud/resets.h"
#include "cloud/sessions.h"
#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define TOKEN_BYTES 32
#define REQUEST_INTERVAL_SECONDS 300

/* Lifetime of reset (not enrolment) tokens; see resets_set_reset_seconds. */
static int64_t reset_seconds = RESETS_RESET_SECONDS;

void resets_set_reset_seconds(int64_t seconds)
{
	reset_seconds = seconds;
}

/* Writes a token lifetime for the message, e.g. "1 hour" or "90 seconds". */
static void format_lifetime(int64_t seconds, char *out, size_t outlen)
{
	long long n = (long long)seconds;

	if (n % 3600 == 0)
		snprintf(out, outlen, "%lld hour%s", n / 3600, n == 3600 ? "" : "s");
	else if (n % 60 == 0)
		snprintf(out, outlen, "%lld minute%s", n / 60, n == 60 ? "" : "s");
	else
		snprintf(out, outlen, "%lld seconds", n);
}

static const char *kind_name(enum resets_kind kind)
{
	return kind == RESETS_ENROL ? "enrol" : "reset";
}

static int format_body(struct sbuf *body, const struct account *a, const char *host,
	const char *token, enum resets_kind kind)
{
	char lifetime[48];

	if (kind == RESETS_ENROL)
		return sbuf_printf(body,
			"Hello %s,\n\n"
			"An account with the role %s has been created for you on the Sonoterm cloud\n"
			"at %s.  Choose your password within 7 days at:\n\n"
			"https://%s/reset?token=%s\n\n"
			"The link works once.  If you did not expect this message, ignore it.\n",
			a->name, accounts_role_name(a->role), host, host, token);
	format_lifetime(reset_seconds, lifetime, sizeof(lifetime));
	return sbuf_printf(body,
		"Hello %s,\n\n"
		"Someone asked to reset the password of your Sonoterm cloud account at %s.\n"
		"Choose a new password within %s at:\n\n"
		"https://%s/reset?token=%s\n\n"
		"The link works once, and using it signs you out everywhere.  If you did\n"
		"not ask for this, ignore this message; your password stays as it is.\n",
		a->name, host, lifetime, host, token);
}

static int send_message(const struct resets_mail *mail, const struct account *a,
	const char *token, enum resets_kind kind)
{
	struct sbuf body;
	int rc;

	sbuf_init(&body, 8192);
	rc = format_body(&body, a, mail->hostname, token, kind);
	if (rc == SONO_OK)
		rc = outbox_write(mail->outbox_dir, mail->from, a->email,
			kind == RESETS_ENROL ? "Your Sonoterm cloud account"
				: "Reset your Sonoterm cloud password",
			(const char *)body.data, NULL, 0);
	sbuf_free_wipe(&body);
	return rc;
}

static int insert_token(struct db *db, int64_t user_id, enum resets_kind kind,
	const uint8_t digest[CRYPTO_SHA256_LEN], int64_t *row_id)
{
	int64_t now = db_now();
	struct db_value v[5] = {
		DB_V_BLOB(digest, CRYPTO_SHA256_LEN), DB_V_INT(user_id), DB_V_TEXT(kind_name(kind)),
		DB_V_INT(now),
		DB_V_INT(now + (kind == RESETS_ENROL ? RESETS_ENROL_SECONDS : reset_seconds)),
	};
	struct db_value key = DB_V_BLOB(digest, CRYPTO_SHA256_LEN);
	int rc;

	rc = db_exec(db, "INSERT INTO resets (token_hash, user_id, kind, created_at, expires_at)"
		" VALUES (?, ?, ?, ?, ?)", v, 5, NULL, NULL);
	if (rc == SONO_OK)
		rc = db_exec(db, "SELECT id FROM resets WHERE token_hash = ?", &key, 1,
			db_row_int, row_id);
	return rc;
}

int resets_issue(struct db *db, const struct resets_mail *mail, int64_t user_id,
	enum resets_kind kind, const char *actor, const char *addr)
{
	uint8_t raw[TOKEN_BYTES], digest[CRYPTO_SHA256_LEN];
	char token[RESETS_TOKEN_HEX_LEN];
	int64_t row_id = 0;
	struct account a;
	int rc;

	rc = accounts_get_by_id(db, user_id, &a);
	if (rc != SONO_OK)
		return rc;
	if (a.disabled)
		return SONO_ESTATE;
	rc = crypto_random(raw, sizeof(raw));
	if (rc != SONO_OK)
		goto out;
	crypto_hex(raw, sizeof(raw), token);
	crypto_sha256(raw, sizeof(raw), digest);
	rc = insert_token(db, user_id, kind, digest, &row_id);
	if (rc == SONO_OK) {
		rc = send_message(mail, &a, token, kind);
		if (rc != SONO_OK) {
			struct db_value v = DB_V_INT(row_id);

			db_exec(db, "DELETE FROM resets WHERE id = ?", &v, 1, NULL, NULL);
		}
	}
	audit_write(db, actor, kind == RESETS_ENROL ? "enrol.issue" : "reset.issue", a.name, addr,
		rc == SONO_OK ? "ok" : "failed");
out:
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(token, sizeof(token));
	return rc;
}

struct match_ctx {
	int64_t ids[16];
	size_t count;
};

static int collect_id(void *arg, const struct db_value *c, size_t n)
{
	struct match_ctx *m = arg;

	if (n != 1 || c[0].type != DB_INT)
		return SONO_EDB;
	if (m->count == sizeof(m->ids) / sizeof(m->ids[0]))
		return 1;
	m->ids[m->count++] = c[0].i;
	return 0;
}

/* Returns 1 when the user was sent a reset within the last few minutes. */
static int recently_sent(struct db *db, int64_t user_id)
{
	struct db_value v[2] = { DB_V_INT(user_id), DB_V_INT(db_now() - REQUEST_INTERVAL_SECONDS) };
	int64_t count = 0;

	if (db_exec(db, "SELECT count(*) FROM resets WHERE user_id = ? AND kind = 'reset'"
		" AND created_at > ?", v, 2, db_row_int, &count) != SONO_OK)
		return 1;
	return count > 0;
}

int resets_request(struct db *db, const struct resets_mail *mail,
	const char *name_or_email, const char *addr)
{
	struct db_value v[2] = { DB_V_TEXT(name_or_email), DB_V_TEXT(name_or_email) };
	struct match_ctx m = { .count = 0 };
	size_t i;
	int rc;

	rc = db_exec(db, "SELECT id FROM users WHERE disabled = 0 AND (name = ? OR email = ?)",
		v, 2, collect_id, &m);
	if (rc != SONO_OK)
		return rc;
	if (m.count == 0)
		audit_write(db, "", "reset.request", "-", addr, "no-match");
	for (i = 0; i < m.count; i++) {
		if (recently_sent(db, m.ids[i])) {
			LOG_INFO("reset for user id %lld skipped: one was sent in the last %d s",
				(long long)m.ids[i], REQUEST_INTERVAL_SECONDS);
			continue;
		}
		rc = resets_issue(db, mail, m.ids[i], RESETS_RESET, "", addr);
		if (rc != SONO_OK)
			LOG_ERROR("reset for user id %lld failed: %s", (long long)m.ids[i],
				sono_strerror(rc));
		if (rc == SONO_EIO || rc == SONO_EDB)
			return rc;
	}
	return SONO_OK;
}

struct token_row {
	int64_t id;
	int64_t user_id;
	int64_t expires_at;
	int used;
	int found;
};

static int token_cb(void *arg, const struct db_value *c, size_t n)
{
	struct token_row *t = arg;

	if (n != 4)
		return SONO_EDB;
	t->id = c[0].i;
	t->user_id = c[1].i;
	t->expires_at = c[2].i;
	t->used = c[3].type != DB_NULL;
	t->found = 1;
	return 1;
}

/* Marks the token used, atomically, so two concurrent requests cannot both
 * use it.  Returns 0, or SONO_EAUTH when it is unknown, used or expired. */
static int claim_token(struct db *db, const char *token, struct token_row *t)
{
	uint8_t raw[TOKEN_BYTES], digest[CRYPTO_SHA256_LEN];
	struct db_value key = DB_V_BLOB(digest, sizeof(digest));
	int rc;

	memset(t, 0, sizeof(*t));
	if (token == NULL || strlen(token) != 2 * TOKEN_BYTES
	    || crypto_unhex(token, raw, sizeof(raw)) != SONO_OK)
		return SONO_EAUTH;
	crypto_sha256(raw, sizeof(raw), digest);
	crypto_wipe(raw, sizeof(raw));
	rc = db_exec(db, "SELECT id, user_id, expires_at, used_at FROM resets WHERE token_hash = ?",
		&key, 1, token_cb, t);
	if (rc != SONO_OK)
		return rc;
	if (!t->found || t->used || db_now() >= t->expires_at)
		return SONO_EAUTH;
	{
		struct db_value v[2] = { DB_V_INT(db_now()), DB_V_INT(t->id) };

		rc = db_exec(db, "UPDATE resets SET used_at = ? WHERE id = ? AND used_at IS NULL",
			v, 2, NULL, NULL);
	}
	if (rc == SONO_OK && db_changes(db) != 1)
		rc = SONO_EAUTH;
	return rc;
}

static void release_token(struct db *db, int64_t id)
{
	struct db_value v = DB_V_INT(id);

	db_exec(db, "UPDATE resets SET used_at = NULL WHERE id = ?", &v, 1, NULL, NULL);
}

/* Ends every other open token of the user and all of their sessions. */
static int finish_reset(struct db *db, const struct token_row *t)
{
	struct db_value v[2] = { DB_V_INT(db_now()), DB_V_INT(t->user_id) };
	int rc;

	rc = db_exec(db, "UPDATE resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
		v, 2, NULL, NULL);
	if (rc == SONO_OK)
		rc = sessions_revoke_user(db, t->user_id, NULL);
	return rc;
}

int resets_complete(struct db *db, const char *token, const char *password,
	const char *addr, int64_t *user_id, char *reason, size_t reasonlen)
{
	struct token_row t;
	struct account a;
	int rc;

	rc = claim_token(db, token, &t);
	if (rc == SONO_OK)
		rc = accounts_get_by_id(db, t.user_id, &a);
	if (rc == SONO_OK && a.disabled)
		rc = SONO_EAUTH;
	if (rc != SONO_OK) {
		snprintf(reason, reasonlen, "This link is invalid, used or expired; ask for a new one.");
		audit_write(db, "", "reset.failure", "-", addr, "denied");
		return rc == SONO_ENOTFOUND ? SONO_EAUTH : rc;
	}
	rc = accounts_set_password(db, t.user_id, password, reason, reasonlen);
	if (rc != SONO_OK) {
		release_token(db, t.id);
		return rc;
	}
	rc = finish_reset(db, &t);
	audit_write(db, a.name, "reset.complete", a.name, addr, rc == SONO_OK ? "ok" : "failed");
	if (rc == SONO_OK && user_id != NULL)
		*user_id = t.user_id;
	return rc;
}
