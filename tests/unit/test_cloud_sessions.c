/* Tests of cloud sessions: hashed tokens, idle and absolute expiry and
 * revocation, against real SQLCipher files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cloud/accounts.h"
#include "cloud/sessions.h"
#include "cloud_fixture.h"
#include "sono/crypto.h"
#include "sono/error.h"

static int setup(void **state)
{
	static struct cloud_fixture f;

	fixture_time = 1800000000;
	*state = &f;
	return fixture_open(&f);
}

static int teardown(void **state)
{
	fixture_close(*state);
	return 0;
}

static struct db *db_of(void **state)
{
	return ((struct cloud_fixture *)*state)->db;
}

static int64_t new_user(struct db *db, const char *name)
{
	char email[96];
	int64_t id = 0;

	snprintf(email, sizeof(email), "%s@example.org", name);
	assert_int_equal(accounts_add(db, name, email, ROLE_CLINICIAN, &id), SONO_OK);
	return id;
}

static int64_t count_blob(struct db *db, const char *sql, const void *blob, size_t len)
{
	struct db_value v = DB_V_BLOB(blob, len);
	int64_t n = -1;

	assert_int_equal(db_exec(db, sql, &v, 1, db_row_int, &n), SONO_OK);
	return n;
}

static void token_stored_only_as_hash(void **state)
{
	struct db *db = db_of(state);
	char token[SESSIONS_TOKEN_HEX_LEN];
	uint8_t raw[SESSIONS_TOKEN_BYTES], digest[CRYPTO_SHA256_LEN];
	struct session s;
	int64_t expires = 0, id = new_user(db, "alice");

	assert_int_equal(sessions_create(db, id, NULL, token, &expires), SONO_OK);
	assert_int_equal(strlen(token), 64);
	assert_int_equal(expires, fixture_time + SESSIONS_IDLE_DEFAULT);
	assert_int_equal(crypto_unhex(token, raw, sizeof(raw)), SONO_OK);
	crypto_sha256(raw, sizeof(raw), digest);
	assert_int_equal(count_blob(db, "SELECT count(*) FROM sessions WHERE token_hash = ?",
		digest, sizeof(digest)), 1);
	assert_int_equal(count_blob(db, "SELECT count(*) FROM sessions WHERE token_hash = ?",
		raw, sizeof(raw)), 0);
	assert_int_equal(sessions_lookup(db, token, &s), SONO_OK);
	assert_int_equal(s.user_id, id);
}

static void tokens_are_unique(void **state)
{
	struct db *db = db_of(state);
	char a[SESSIONS_TOKEN_HEX_LEN], b[SESSIONS_TOKEN_HEX_LEN];
	int64_t expires, id = new_user(db, "bob");

	assert_int_equal(sessions_create(db, id, NULL, a, &expires), SONO_OK);
	assert_int_equal(sessions_create(db, id, NULL, b, &expires), SONO_OK);
	assert_string_not_equal(a, b);
}

static void idle_expiry_moves_with_use(void **state)
{
	struct db *db = db_of(state);
	char token[SESSIONS_TOKEN_HEX_LEN];
	struct session s;
	int64_t expires, id = new_user(db, "carol");

	assert_int_equal(sessions_create(db, id, NULL, token, &expires), SONO_OK);
	fixture_time += SESSIONS_IDLE_DEFAULT - 1;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_OK);
	assert_int_equal(s.expires_at, fixture_time + SESSIONS_IDLE_DEFAULT);
	fixture_time += SESSIONS_IDLE_DEFAULT - 1;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_OK);
	fixture_time += SESSIONS_IDLE_DEFAULT;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_EAUTH);
}

static void absolute_expiry_after_12_hours(void **state)
{
	struct db *db = db_of(state);
	char token[SESSIONS_TOKEN_HEX_LEN];
	struct session s;
	int64_t expires, start = fixture_time, id = new_user(db, "dave");

	assert_int_equal(sessions_create(db, id, NULL, token, &expires), SONO_OK);
	/* Used every 20 minutes, it still ends 12 hours after creation. */
	while (fixture_time + 1200 < start + SESSIONS_ABSOLUTE_DEFAULT) {
		fixture_time += 1200;
		assert_int_equal(sessions_lookup(db, token, &s), SONO_OK);
		assert_true(s.expires_at <= start + SESSIONS_ABSOLUTE_DEFAULT);
	}
	fixture_time = start + SESSIONS_ABSOLUTE_DEFAULT;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_EAUTH);
}

static void custom_limits(void **state)
{
	struct db *db = db_of(state);
	struct sessions_limits limits = { 60, 90 };
	struct sessions_limits bad = { 0, 90 };
	char token[SESSIONS_TOKEN_HEX_LEN];
	struct session s;
	int64_t expires, start = fixture_time, id = new_user(db, "erin");

	assert_int_equal(sessions_create(db, id, &bad, token, &expires), SONO_EINVAL);
	assert_int_equal(sessions_create(db, id, &limits, token, &expires), SONO_OK);
	assert_int_equal(expires, start + 60);
	fixture_time += 59;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_OK);
	assert_int_equal(s.expires_at, start + 90);
	fixture_time = start + 90;
	assert_int_equal(sessions_lookup(db, token, &s), SONO_EAUTH);
}

static void revoke_one_and_all(void **state)
{
	struct db *db = db_of(state);
	char t1[SESSIONS_TOKEN_HEX_LEN], t2[SESSIONS_TOKEN_HEX_LEN], t3[SESSIONS_TOKEN_HEX_LEN];
	char other[SESSIONS_TOKEN_HEX_LEN];
	struct session s;
	int64_t expires, count = 0, id = new_user(db, "frank"), id2 = new_user(db, "grace");

	assert_int_equal(sessions_create(db, id, NULL, t1, &expires), SONO_OK);
	assert_int_equal(sessions_create(db, id, NULL, t2, &expires), SONO_OK);
	assert_int_equal(sessions_create(db, id, NULL, t3, &expires), SONO_OK);
	assert_int_equal(sessions_create(db, id2, NULL, other, &expires), SONO_OK);
	assert_int_equal(sessions_revoke(db, t1), SONO_OK);
	assert_int_equal(sessions_revoke(db, t1), SONO_ENOTFOUND);
	assert_int_equal(sessions_lookup(db, t1, &s), SONO_EAUTH);
	assert_int_equal(sessions_lookup(db, t2, &s), SONO_OK);
	assert_int_equal(sessions_revoke_user(db, id, &count), SONO_OK);
	assert_int_equal(count, 2);
	assert_int_equal(sessions_lookup(db, t2, &s), SONO_EAUTH);
	assert_int_equal(sessions_lookup(db, t3, &s), SONO_EAUTH);
	assert_int_equal(sessions_lookup(db, other, &s), SONO_OK);
}

static void disabled_user_sessions_end(void **state)
{
	struct db *db = db_of(state);
	char token[SESSIONS_TOKEN_HEX_LEN];
	struct session s;
	int64_t expires, id = new_user(db, "hank");

	assert_int_equal(sessions_create(db, id, NULL, token, &expires), SONO_OK);
	assert_int_equal(accounts_set_disabled(db, "hank", 1), SONO_OK);
	assert_int_equal(sessions_lookup(db, token, &s), SONO_EAUTH);
	/* Enabling again does not bring a revoked session back. */
	assert_int_equal(accounts_set_disabled(db, "hank", 0), SONO_OK);
	assert_int_equal(sessions_lookup(db, token, &s), SONO_EAUTH);
}

static void malformed_tokens_rejected(void **state)
{
	static const char *const tokens[] = {
		"", "abc", "zz00000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000000",
	};
	struct db *db = db_of(state);
	struct session s;
	size_t i;

	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		assert_int_equal(sessions_lookup(db, tokens[i], &s), SONO_EAUTH);
	assert_int_equal(sessions_lookup(db, NULL, &s), SONO_EAUTH);
}

static void purge_removes_old_sessions(void **state)
{
	struct db *db = db_of(state);
	char token[SESSIONS_TOKEN_HEX_LEN];
	int64_t expires, n = -1, id = new_user(db, "ivan");

	assert_int_equal(sessions_create(db, id, NULL, token, &expires), SONO_OK);
	fixture_time += SESSIONS_ABSOLUTE_DEFAULT + 2 * 86400;
	assert_int_equal(sessions_purge(db), SONO_OK);
	assert_int_equal(db_exec(db, "SELECT count(*) FROM sessions", NULL, 0, db_row_int, &n),
		SONO_OK);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(token_stored_only_as_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(tokens_are_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(idle_expiry_moves_with_use, setup, teardown),
		cmocka_unit_test_setup_teardown(absolute_expiry_after_12_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(custom_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(revoke_one_and_all, setup, teardown),
		cmocka_unit_test_setup_teardown(disabled_user_sessions_end, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_tokens_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_removes_old_sessions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
