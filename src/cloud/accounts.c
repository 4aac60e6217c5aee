/* User accounts, password hashing and login throttling (see accounts.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cloud/accounts.h"
#include "cloud/audit.h"
#include "cloud/sessions.h"
#include "cloud/throttle.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define THROTTLE_WINDOW_SECONDS 3600 /* failures older than this are forgotten */

static unsigned target_iterations = ACCOUNTS_PBKDF2_ITERATIONS;

static const char *const role_names[] = {
	[ROLE_ADMINISTRATOR] = "administrator",
	[ROLE_CLINICIAN] = "clinician",
	[ROLE_OBSERVER] = "observer",
};

/* A users row with the password fields that struct account leaves out. */
struct user_row {
	struct account acct;
	int found;
	int64_t iterations;
	uint8_t salt[ACCOUNTS_SALT_LEN];
	uint8_t hash[ACCOUNTS_HASH_LEN];
};

#define USER_COLUMNS "id, name, email, role, disabled, created_at, pw_iterations, pw_salt, pw_hash"

void accounts_set_iterations(unsigned iterations)
{
	target_iterations = iterations;
}

unsigned accounts_iterations(void)
{
	return target_iterations;
}

const char *accounts_role_name(enum account_role role)
{
	if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0]))
		return "unknown";
	return role_names[role];
}

int accounts_parse_role(const char *name, enum account_role *out)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum account_role)i;
			return SONO_OK;
		}
	}
	return SONO_EINVAL;
}

int accounts_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > ACCOUNTS_NAME_MAX || !isalnum((unsigned char)name[0]))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int accounts_email_valid(const char *email)
{
	const char *at = strchr(email, '@');
	size_t i, len = strlen(email);

	if (len < 3 || len > ACCOUNTS_EMAIL_MAX || at == NULL || at == email
	    || strchr(at + 1, '@') != NULL || at[1] == '\0' || strchr(at + 1, '.') == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)email[i];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';'
		    || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static int user_row_cb(void *arg, const struct db_value *c, size_t n)
{
	struct user_row *u = arg;
	struct account *a = &u->acct;

	if (n != 9 || c[1].type != DB_TEXT || c[2].type != DB_TEXT || c[3].type != DB_TEXT)
		return SONO_EDB;
	if (c[1].len > ACCOUNTS_NAME_MAX || c[2].len > ACCOUNTS_EMAIL_MAX
	    || accounts_parse_role(c[3].text, &a->role) != SONO_OK)
		return SONO_EDB;
	a->id = c[0].i;
	memcpy(a->name, c[1].text, c[1].len + 1);
	memcpy(a->email, c[2].text, c[2].len + 1);
	a->disabled = c[4].i != 0;
	a->created_at = c[5].i;
	a->has_password = c[8].type == DB_BLOB && c[8].len == ACCOUNTS_HASH_LEN
		&& c[7].type == DB_BLOB && c[7].len == ACCOUNTS_SALT_LEN && c[6].i > 0;
	if (a->has_password) {
		u->iterations = c[6].i;
		memcpy(u->salt, c[7].blob, ACCOUNTS_SALT_LEN);
		memcpy(u->hash, c[8].blob, ACCOUNTS_HASH_LEN);
	}
	u->found = 1;
	return 1;
}

static int load_user(struct db *db, const char *sql, struct db_value key, struct user_row *u)
{
	int rc;

	memset(u, 0, sizeof(*u));
	rc = db_exec(db, sql, &key, 1, user_row_cb, u);
	if (rc == SONO_OK && !u->found)
		rc = SONO_ENOTFOUND;
	return rc;
}

static int load_user_by_name(struct db *db, const char *name, struct user_row *u)
{
	return load_user(db, "SELECT " USER_COLUMNS " FROM users WHERE name = ?", DB_V_TEXT(name), u);
}

int accounts_get_by_name(struct db *db, const char *name, struct account *out)
{
	struct user_row u;
	int rc = load_user_by_name(db, name, &u);

	if (rc == SONO_OK)
		*out = u.acct;
	crypto_wipe(&u, sizeof(u));
	return rc;
}

int accounts_get_by_id(struct db *db, int64_t id, struct account *out)
{
	struct user_row u;
	int rc = load_user(db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", DB_V_INT(id), &u);

	if (rc == SONO_OK)
		*out = u.acct;
	crypto_wipe(&u, sizeof(u));
	return rc;
}

int accounts_add(struct db *db, const char *name, const char *email,
	enum account_role role, int64_t *id)
{
	struct db_value v[4] = {
		DB_V_TEXT(name), DB_V_TEXT(email), DB_V_TEXT(accounts_role_name(role)),
		DB_V_INT(db_now()),
	};
	struct account a;
	int rc;

	if (!accounts_name_valid(name) || !accounts_email_valid(email))
		return SONO_EINVAL;
	rc = db_exec(db, "INSERT INTO users (name, email, role, created_at) VALUES (?, ?, ?, ?)",
		v, 4, NULL, NULL);
	if (rc != SONO_OK)
		return rc;
	rc = accounts_get_by_name(db, name, &a);
	if (rc == SONO_OK && id != NULL)
		*id = a.id;
	return rc;
}

int accounts_set_disabled(struct db *db, const char *name, int disabled)
{
	struct db_value v[2] = { DB_V_INT(disabled ? 1 : 0), DB_V_TEXT(name) };
	struct account a;
	int rc;

	rc = accounts_get_by_name(db, name, &a);
	if (rc != SONO_OK)
		return rc;
	rc = db_exec(db, "UPDATE users SET disabled = ? WHERE name = ?", v, 2, NULL, NULL);
	if (rc == SONO_OK && disabled)
		rc = sessions_revoke_user(db, a.id, NULL);
	return rc;
}

static int hash_password(const char *password, const uint8_t salt[ACCOUNTS_SALT_LEN],
	unsigned iterations, uint8_t out[ACCOUNTS_HASH_LEN])
{
	return crypto_pbkdf2_sha256(password, strlen(password), salt, ACCOUNTS_SALT_LEN,
		iterations, out, ACCOUNTS_HASH_LEN);
}

/* Stores a fresh salt and hash at the target iteration count.  Runs the
 * PBKDF2 before touching the database. */
static int store_password(struct db *db, int64_t user_id, const char *password)
{
	uint8_t salt[ACCOUNTS_SALT_LEN], hash[ACCOUNTS_HASH_LEN];
	unsigned iterations = target_iterations;
	int rc;

	rc = crypto_random(salt, sizeof(salt));
	if (rc == SONO_OK)
		rc = hash_password(password, salt, iterations, hash);
	if (rc == SONO_OK) {
		struct db_value v[5] = {
			DB_V_INT(iterations), DB_V_BLOB(salt, sizeof(salt)),
			DB_V_BLOB(hash, sizeof(hash)), DB_V_INT(db_now()), DB_V_INT(user_id),
		};

		rc = db_exec(db, "UPDATE users SET pw_iterations = ?, pw_salt = ?, pw_hash = ?,"
			" password_changed_at = ? WHERE id = ?", v, 5, NULL, NULL);
		if (rc == SONO_OK && db_changes(db) == 0)
			rc = SONO_ENOTFOUND;
	}
	crypto_wipe(hash, sizeof(hash));
	return rc;
}

int accounts_set_password(struct db *db, int64_t user_id, const char *password,
	char *reason, size_t reasonlen)
{
	struct account a;
	int rc;

	rc = accounts_get_by_id(db, user_id, &a);
	if (rc != SONO_OK) {
		snprintf(reason, reasonlen, "The account no longer exists.");
		return rc;
	}
	rc = accounts_password_check(a.name, password, reason, reasonlen);
	if (rc != SONO_OK)
		return rc;
	return store_password(db, user_id, password);
}

/* Throttling keys.  The name key is a hash of the name as typed, so a
 * password typed into the name field is never stored. */
static void throttle_keys(const char *name, const char *addr, char name_key[80],
	char addr_key[80])
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN];

	crypto_sha256(name, strlen(name), digest);
	crypto_hex(digest, 16, hex);
	snprintf(name_key, 80, "name:%s", hex);
	snprintf(addr_key, 80, "addr:%.60s", addr ? addr : "");
}

/* Returns 1 when name or address is locked out now, with the later end in
 * *locked_until. */
static int locked_out(struct db *db, const char *name_key, const char *addr_key,
	int64_t *locked_until, int *rc)
{
	int64_t by_name = 0, by_addr = 0;

	*rc = throttle_check(db, name_key, &by_name);
	if (*rc == SONO_OK)
		*rc = throttle_check(db, addr_key, &by_addr);
	*locked_until = by_name > by_addr ? by_name : by_addr;
	return *rc == SONO_OK && *locked_until > 0;
}

/* Runs the PBKDF2 for u, or for a dummy account when u has no password,
 * and returns 1 when the password matches a usable account. */
static int verify(const struct user_row *u, const char *password)
{
	uint8_t salt[ACCOUNTS_SALT_LEN] = { 0 };
	uint8_t got[ACCOUNTS_HASH_LEN];
	unsigned iterations = target_iterations;
	int usable = u->found && u->acct.has_password && !u->acct.disabled;
	int match;

	if (u->acct.has_password) {
		memcpy(salt, u->salt, sizeof(salt));
		iterations = (unsigned)u->iterations;
	}
	if (hash_password(password, salt, iterations, got) != SONO_OK)
		return 0;
	match = crypto_equal(got, u->hash, sizeof(got));
	crypto_wipe(got, sizeof(got));
	return usable && match;
}

static void record_failure(struct db *db, const char *name_key, const char *addr_key,
	const char *audit_name, const char *addr, int64_t *locked_until)
{
	int64_t by_name = 0, by_addr = 0;

	throttle_fail(db, name_key, ACCOUNTS_FREE_FAILURES, &by_name);
	throttle_fail(db, addr_key, ACCOUNTS_ADDR_FREE_FAILURES, &by_addr);
	*locked_until = by_name > by_addr ? by_name : by_addr;
	audit_write(db, "", "login.failure", audit_name, addr, "denied");
}

/* Rehashes with the current target when the stored count is lower.  A
 * failure is logged and leaves the old, still valid, hash in place. */
static void upgrade_hash(struct db *db, const struct user_row *u, const char *password)
{
	int rc;

	if (u->iterations >= (int64_t)target_iterations)
		return;
	rc = store_password(db, u->acct.id, password);
	if (rc != SONO_OK)
		LOG_WARN("password hash of user id %lld not upgraded: %s",
			(long long)u->acct.id, sono_strerror(rc));
	else
		LOG_INFO("password hash of user id %lld upgraded from %lld to %u iterations",
			(long long)u->acct.id, (long long)u->iterations, target_iterations);
}

int accounts_login(struct db *db, const char *name, const char *password,
	const char *addr, struct account *out, int64_t *locked_until)
{
	char name_key[80], addr_key[80];
	const char *audit_name = accounts_name_valid(name) ? name : "-";
	struct user_row u;
	int rc;

	*locked_until = 0;
	memset(&u, 0, sizeof(u));
	throttle_keys(name, addr, name_key, addr_key);
	if (locked_out(db, name_key, addr_key, locked_until, &rc)) {
		audit_write(db, "", "login.throttled", audit_name, addr, "denied");
		return SONO_ESTATE;
	}
	if (rc != SONO_OK)
		return rc;
	rc = load_user_by_name(db, name, &u);
	if (rc != SONO_OK && rc != SONO_ENOTFOUND)
		goto out;
	if (!verify(&u, password) || strlen(password) > ACCOUNTS_PASSWORD_MAX_BYTES) {
		record_failure(db, name_key, addr_key, audit_name, addr, locked_until);
		rc = SONO_EAUTH;
		goto out;
	}
	throttle_clear(db, name_key);
	upgrade_hash(db, &u, password);
	audit_write(db, u.acct.name, "login.success", u.acct.name, addr, "ok");
	*out = u.acct;
	rc = SONO_OK;
out:
	crypto_wipe(&u, sizeof(u));
	return rc;
}
