/* Tests of cloud accounts: names, password rules, hashing, login,
 * throttling, and password resets, against real SQLCipher files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "cloud/accounts.h"
#include "cloud/audit.h"
#include "cloud/outbox.h"
#include "cloud/resets.h"
#include "cloud/sessions.h"
#include "cloud_fixture.h"
#include "sono/error.h"

#define TEST_ITERATIONS 1000u
#define GOOD_PASSWORD "violet tractor under moonlit pasta"

static int load_list(void **state)
{
	char list[1024];
	const char *srcdir = getenv("top_srcdir");

	(void)state;
	snprintf(list, sizeof(list), "%s/src/cloud/common-passwords.txt", srcdir ? srcdir : ".");
	return accounts_load_password_list(list) == SONO_OK ? 0 : -1;
}

static int free_list(void **state)
{
	(void)state;
	accounts_free_password_list();
	return 0;
}

static int setup(void **state)
{
	static struct cloud_fixture f;

	accounts_set_iterations(TEST_ITERATIONS);
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

/* Adds a user with a password and returns its id. */
static int64_t add_user(struct db *db, const char *name, enum account_role role)
{
	char email[128], reason[ACCOUNTS_REASON_MAX];
	int64_t id = 0;

	snprintf(email, sizeof(email), "%s@example.org", name);
	assert_int_equal(accounts_add(db, name, email, role, &id), SONO_OK);
	assert_int_equal(accounts_set_password(db, id, GOOD_PASSWORD, reason, sizeof(reason)),
		SONO_OK);
	return id;
}

static int64_t count_rows(struct db *db, const char *sql, const char *param)
{
	struct db_value v = DB_V_TEXT(param);
	int64_t n = -1;

	assert_int_equal(db_exec(db, sql, &v, param ? 1 : 0, db_row_int, &n), SONO_OK);
	return n;
}

static void names_and_emails(void **state)
{
	enum account_role role;

	(void)state;
	assert_true(accounts_name_valid("alice"));
	assert_true(accounts_name_valid("dr.smith-2"));
	assert_false(accounts_name_valid(""));
	assert_false(accounts_name_valid("Alice"));
	assert_false(accounts_name_valid("-alice"));
	assert_false(accounts_name_valid("al ice"));
	assert_true(accounts_email_valid("a.b@example.org"));
	assert_false(accounts_email_valid("a@b@example.org"));
	assert_false(accounts_email_valid("alice@example.org\r\nBcc: x@y.z"));
	assert_false(accounts_email_valid("alice"));
	assert_int_equal(accounts_parse_role("observer", &role), SONO_OK);
	assert_int_equal(role, ROLE_OBSERVER);
	assert_int_equal(accounts_parse_role("root", &role), SONO_EINVAL);
	assert_string_equal(accounts_role_name(ROLE_ADMINISTRATOR), "administrator");
}

struct password_case {
	const char *password;
	int accepted;
	const char *reason_part; /* expected in the reason when rejected */
};

static void password_rules(void **state)
{
	static const struct password_case cases[] = {
		{ "fourteen chars", 0, "15 to 256" },
		{ "fifteen chars!!", 1, NULL },
		{ "\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab\xc3\xa0\xc3\xa2\xc3\xa4\xc3\xae\xc3\xaf\xc3\xb4"
		  "\xc3\xb6\xc3\xb9\xc3\xbb\xc3\xbc\xc3\xa7", 1, NULL },
		{ "\xe8\xb6\x85\xe9\x9f\xb3\xe6\xb3\xa2\xe6\xa3\x80\xe6\x9f\xa5\xe5\xaf\x86\xe7\xa0\x81",
		  0, "15 to 256" },
		{ "passwordpassword", 0, "common passwords" },
		{ "PassWordPassWord", 0, "common passwords" },
		{ "tiggertiggertigger", 0, "repeats a common password" },
		{ "dragon123456789!!", 0, "digits or symbols added" },
		{ "xq7vxq7vxq7vxq7v", 0, "repeats the same sequence" },
		{ "abcdefghijklmnop", 0, "consecutive" },
		{ "987654321098765", 0, "consecutive" },
		{ "aaaaaaaaaaaaaab", 0, "fewer than 4" },
		{ "my name is alice and i scan", 0, "user name" },
		{ "sonocloud is my friend", 0, "name of this service" },
		{ "valid text\x01 with a control", 0, "control" },
		{ "invalid utf8 \xc3\x28 here!!", 0, "UTF-8" },
		{ "correcthorsebatterystaple", 0, "common passwords" },
		{ GOOD_PASSWORD, 1, NULL },
	};
	char reason[ACCOUNTS_REASON_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = accounts_password_check("alice", cases[i].password, reason, sizeof(reason));

		if ((rc == SONO_OK) != cases[i].accepted)
			fail_msg("case %zu: rc %d, reason \"%s\"", i, rc, rc ? reason : "");
		if (!cases[i].accepted && strstr(reason, cases[i].reason_part) == NULL)
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, reason, cases[i].reason_part);
	}
}

static void password_length_limits(void **state)
{
	char reason[ACCOUNTS_REASON_MAX];
	char pw[300];
	uint32_t x = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++) {
		x = x * 1103515245u + 12345u;
		pw[i] = (char)('a' + (x >> 16) % 26);
	}
	pw[256] = '\0';
	assert_int_equal(accounts_password_check("alice", pw, reason, sizeof(reason)), SONO_OK);
	pw[256] = 'z';
	pw[257] = '\0';
	assert_int_equal(accounts_password_check("alice", pw, reason, sizeof(reason)), SONO_EINVAL);
	assert_non_null(strstr(reason, "257"));
}

static void login_success_and_failures(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0, id;

	id = add_user(db, "alice", ROLE_CLINICIAN);
	assert_int_equal(accounts_login(db, "alice", GOOD_PASSWORD, "192.0.2.1", &a, &locked), SONO_OK);
	assert_int_equal(a.id, id);
	assert_string_equal(a.email, "alice@example.org");
	assert_int_equal(a.role, ROLE_CLINICIAN);
	assert_int_equal(accounts_login(db, "alice", "wrong password entirely", "192.0.2.1", &a,
		&locked), SONO_EAUTH);
	assert_int_equal(accounts_login(db, "nobody", GOOD_PASSWORD, "192.0.2.1", &a, &locked),
		SONO_EAUTH);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM audit WHERE action = ?",
		"login.success"), 1);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM audit WHERE action = ?",
		"login.failure"), 2);
}

static void login_rejects_disabled_and_unenrolled(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0;

	add_user(db, "bob", ROLE_OBSERVER);
	assert_int_equal(accounts_set_disabled(db, "bob", 1), SONO_OK);
	assert_int_equal(accounts_login(db, "bob", GOOD_PASSWORD, "", &a, &locked), SONO_EAUTH);
	assert_int_equal(accounts_set_disabled(db, "bob", 0), SONO_OK);
	assert_int_equal(accounts_login(db, "bob", GOOD_PASSWORD, "", &a, &locked), SONO_OK);
	assert_int_equal(accounts_add(db, "carol", "carol@example.org", ROLE_CLINICIAN, NULL), SONO_OK);
	assert_int_equal(accounts_get_by_name(db, "carol", &a), SONO_OK);
	assert_false(a.has_password);
	assert_int_equal(accounts_login(db, "carol", "", "", &a, &locked), SONO_EAUTH);
	assert_int_equal(accounts_add(db, "carol", "c2@example.org", ROLE_CLINICIAN, NULL),
		SONO_ESTATE);
}

static void throttle_after_five_failures(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0;
	int i;

	add_user(db, "dave", ROLE_CLINICIAN);
	for (i = 0; i < ACCOUNTS_FREE_FAILURES; i++)
		assert_int_equal(accounts_login(db, "dave", "not the right one", "192.0.2.9", &a,
			&locked), SONO_EAUTH);
	/* Locked now, even with the right password. */
	assert_int_equal(accounts_login(db, "dave", GOOD_PASSWORD, "192.0.2.9", &a, &locked),
		SONO_ESTATE);
	assert_int_equal(locked, fixture_time + ACCOUNTS_LOCK_BASE_SECONDS);
	fixture_time += ACCOUNTS_LOCK_BASE_SECONDS;
	assert_int_equal(accounts_login(db, "dave", "still not right", "192.0.2.9", &a, &locked),
		SONO_EAUTH);
	/* The delay doubles with the sixth failure. */
	assert_int_equal(accounts_login(db, "dave", GOOD_PASSWORD, "192.0.2.9", &a, &locked),
		SONO_ESTATE);
	assert_int_equal(locked, fixture_time + 2 * ACCOUNTS_LOCK_BASE_SECONDS);
	fixture_time += 2 * ACCOUNTS_LOCK_BASE_SECONDS;
	assert_int_equal(accounts_login(db, "dave", GOOD_PASSWORD, "192.0.2.9", &a, &locked), SONO_OK);
	assert_true(count_rows(db, "SELECT count(*) FROM audit WHERE action = ?",
		"login.throttled") >= 2);
}

static void throttle_unknown_names_and_addresses(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0;
	char name[32];
	int i;

	for (i = 0; i < ACCOUNTS_FREE_FAILURES; i++)
		accounts_login(db, "ghost", "whatever it may be", "198.51.100.1", &a, &locked);
	assert_int_equal(accounts_login(db, "ghost", "whatever it may be", "198.51.100.1", &a,
		&locked), SONO_ESTATE);

	add_user(db, "erin", ROLE_CLINICIAN);
	for (i = 0; i < ACCOUNTS_ADDR_FREE_FAILURES; i++) {
		snprintf(name, sizeof(name), "guess%d", i);
		accounts_login(db, name, "whatever it may be", "203.0.113.5", &a, &locked);
	}
	/* The address is locked for every name, the others are not. */
	assert_int_equal(accounts_login(db, "erin", GOOD_PASSWORD, "203.0.113.5", &a, &locked),
		SONO_ESTATE);
	assert_int_equal(accounts_login(db, "erin", GOOD_PASSWORD, "203.0.113.6", &a, &locked),
		SONO_OK);

	/* Two hours later one more failure clears every stale counter. */
	fixture_time += 7200;
	accounts_login(db, "someone", "whatever it may be", "203.0.113.7", &a, &locked);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM throttle", NULL), 2);
}

static int64_t stored_iterations(struct db *db, const char *name)
{
	return count_rows(db, "SELECT pw_iterations FROM users WHERE name = ?", name);
}

static void login_upgrades_iterations(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0;

	add_user(db, "frank", ROLE_CLINICIAN);
	assert_int_equal(stored_iterations(db, "frank"), TEST_ITERATIONS);
	accounts_set_iterations(2 * TEST_ITERATIONS);
	assert_int_equal(accounts_login(db, "frank", GOOD_PASSWORD, "", &a, &locked), SONO_OK);
	assert_int_equal(stored_iterations(db, "frank"), 2 * TEST_ITERATIONS);
	assert_int_equal(accounts_login(db, "frank", GOOD_PASSWORD, "", &a, &locked), SONO_OK);
	accounts_set_iterations(TEST_ITERATIONS);
}

/* One check at the production cost, so the real parameters are exercised. */
static void login_at_600000_iterations(void **state)
{
	struct db *db = db_of(state);
	struct account a;
	int64_t locked = 0;

	accounts_set_iterations(ACCOUNTS_PBKDF2_ITERATIONS);
	add_user(db, "grace", ROLE_CLINICIAN);
	assert_int_equal(stored_iterations(db, "grace"), 600000);
	assert_int_equal(count_rows(db, "SELECT length(pw_salt) FROM users WHERE name = ?", "grace"),
		ACCOUNTS_SALT_LEN);
	assert_int_equal(accounts_login(db, "grace", GOOD_PASSWORD, "", &a, &locked), SONO_OK);
	assert_int_equal(accounts_login(db, "grace", GOOD_PASSWORD "x", "", &a, &locked), SONO_EAUTH);
	accounts_set_iterations(TEST_ITERATIONS);
}

static void salts_differ_per_user(void **state)
{
	struct db *db = db_of(state);

	add_user(db, "hank", ROLE_CLINICIAN);
	add_user(db, "ivan", ROLE_CLINICIAN);
	assert_int_equal(count_rows(db, "SELECT count(DISTINCT pw_salt) FROM users", NULL), 2);
	assert_int_equal(count_rows(db, "SELECT count(DISTINCT pw_hash) FROM users", NULL), 2);
}

static double login_seconds(struct db *db, const char *name)
{
	struct timespec t0, t1;
	struct account a;
	int64_t locked;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(accounts_login(db, name, "a wrong but long password", "", &a, &locked),
		SONO_EAUTH);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* An unknown name costs one PBKDF2 like a wrong password does.  The bound
 * is loose (half) because the machine may be busy, yet skipping the PBKDF2
 * would make the unknown name about 100 times faster. */
static void unknown_name_costs_one_pbkdf2(void **state)
{
	struct db *db = db_of(state);
	double known = 1e9, unknown = 1e9;
	int i;

	accounts_set_iterations(100000);
	add_user(db, "mona", ROLE_CLINICIAN);
	for (i = 0; i < 3; i++) {
		double k = login_seconds(db, "mona"), u = login_seconds(db, "nobody-here");

		known = k < known ? k : known;
		unknown = u < unknown ? u : unknown;
	}
	accounts_set_iterations(TEST_ITERATIONS);
	if (unknown < known / 2)
		fail_msg("unknown name took %.4f s, wrong password %.4f s", unknown, known);
}

/* Reads the token from the newest message in outbox/new, or fails. */
static void read_token(const char *outbox, char token[RESETS_TOKEN_HEX_LEN], int *messages)
{
	char path[1024], line[512], newdir[700];
	struct dirent *e;
	DIR *d;
	FILE *f;

	snprintf(newdir, sizeof(newdir), "%s/new", outbox);
	d = opendir(newdir);
	assert_non_null(d);
	*messages = 0;
	token[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(*messages)++;
		snprintf(path, sizeof(path), "%s/%s", newdir, e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			char *t = strstr(line, "/reset?token=");

			if (t != NULL && strlen(t + 13) >= 64 && strncmp(line, "https://cloud.test/", 19) == 0) {
				memcpy(token, t + 13, 64);
				token[64] = '\0';
			}
		}
		fclose(f);
		unlink(path);
	}
	closedir(d);
}

static void reset_token_works_once(void **state)
{
	struct cloud_fixture *f = *state;
	struct db *db = f->db;
	char outbox[400], token[RESETS_TOKEN_HEX_LEN], reason[ACCOUNTS_REASON_MAX];
	char session[SESSIONS_TOKEN_HEX_LEN];
	struct resets_mail mail = { outbox, "cloud.test", NULL };
	struct session s;
	struct account a;
	int64_t id = 0, locked, expires, who = 0;
	int messages;

	snprintf(outbox, sizeof(outbox), "%s/outbox", f->dir);
	assert_int_equal(accounts_add(db, "judy", "judy@example.org", ROLE_CLINICIAN, &id), SONO_OK);
	assert_int_equal(resets_issue(db, &mail, id, RESETS_ENROL, "admin-cli", ""), SONO_OK);
	read_token(outbox, token, &messages);
	assert_int_equal(messages, 1);
	assert_int_equal(strlen(token), 64);
	/* A rejected password leaves the token usable. */
	assert_int_equal(resets_complete(db, token, "passwordpassword", "", NULL, reason,
		sizeof(reason)), SONO_EINVAL);
	assert_non_null(strstr(reason, "common"));
	assert_int_equal(resets_complete(db, token, GOOD_PASSWORD, "", &who, reason, sizeof(reason)),
		SONO_OK);
	assert_int_equal(who, id);
	assert_int_equal(accounts_login(db, "judy", GOOD_PASSWORD, "", &a, &locked), SONO_OK);
	assert_int_equal(resets_complete(db, token, GOOD_PASSWORD " again", "", NULL, reason,
		sizeof(reason)), SONO_EAUTH);

	/* A reset ends the user's sessions. */
	assert_int_equal(sessions_create(db, id, NULL, session, &expires), SONO_OK);
	assert_int_equal(resets_issue(db, &mail, id, RESETS_RESET, "admin-cli", ""), SONO_OK);
	read_token(outbox, token, &messages);
	assert_int_equal(resets_complete(db, token, "another fine long passphrase", "", NULL, reason,
		sizeof(reason)), SONO_OK);
	assert_int_equal(sessions_lookup(db, session, &s), SONO_EAUTH);
}

static void reset_token_expires(void **state)
{
	struct cloud_fixture *f = *state;
	char outbox[400], token[RESETS_TOKEN_HEX_LEN], reason[ACCOUNTS_REASON_MAX];
	struct resets_mail mail = { outbox, "cloud.test", NULL };
	int64_t id = 0;
	int messages;

	snprintf(outbox, sizeof(outbox), "%s/outbox", f->dir);
	id = add_user(f->db, "kate", ROLE_CLINICIAN);
	assert_int_equal(resets_issue(f->db, &mail, id, RESETS_RESET, "", ""), SONO_OK);
	read_token(outbox, token, &messages);
	fixture_time += RESETS_RESET_SECONDS;
	assert_int_equal(resets_complete(f->db, token, "another fine long passphrase", "", NULL,
		reason, sizeof(reason)), SONO_EAUTH);
	assert_int_equal(resets_complete(f->db, "not-a-token", "another fine long passphrase", "",
		NULL, reason, sizeof(reason)), SONO_EAUTH);
}

static void reset_request_reveals_nothing(void **state)
{
	struct cloud_fixture *f = *state;
	char outbox[400], token[RESETS_TOKEN_HEX_LEN];
	struct resets_mail mail = { outbox, "cloud.test", NULL };
	int messages;

	snprintf(outbox, sizeof(outbox), "%s/outbox", f->dir);
	add_user(f->db, "liam", ROLE_CLINICIAN);
	assert_int_equal(resets_request(f->db, &mail, "nobody@example.org", ""), SONO_OK);
	assert_int_equal(resets_request(f->db, &mail, "liam@example.org", ""), SONO_OK);
	read_token(outbox, token, &messages);
	assert_int_equal(messages, 1);
	/* A second request within five minutes sends nothing. */
	assert_int_equal(resets_request(f->db, &mail, "liam", ""), SONO_OK);
	read_token(outbox, token, &messages);
	assert_int_equal(messages, 0);
	fixture_time += 301;
	assert_int_equal(resets_request(f->db, &mail, "liam", ""), SONO_OK);
	read_token(outbox, token, &messages);
	assert_int_equal(messages, 1);
}

static void outbox_rejects_header_injection(void **state)
{
	struct cloud_fixture *f = *state;
	char outbox[400], path[1024];
	struct stat st;

	snprintf(outbox, sizeof(outbox), "%s/outbox", f->dir);
	assert_int_equal(outbox_write(outbox, NULL, "a@example.org\r\nBcc: b@example.org", "Hi",
		"body", NULL, 0), SONO_EINVAL);
	assert_int_equal(outbox_write(outbox, NULL, "a@example.org", "Hi\nBcc: b@example.org",
		"body", NULL, 0), SONO_EINVAL);
	assert_int_equal(outbox_write(outbox, NULL, "a@example.org", "Hi", "body", path,
		sizeof(path)), SONO_OK);
	assert_non_null(strstr(path, "/new/"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_emails),
		cmocka_unit_test(password_rules),
		cmocka_unit_test(password_length_limits),
		cmocka_unit_test_setup_teardown(login_success_and_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(login_rejects_disabled_and_unenrolled, setup, teardown),
		cmocka_unit_test_setup_teardown(throttle_after_five_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(throttle_unknown_names_and_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(login_upgrades_iterations, setup, teardown),
		cmocka_unit_test_setup_teardown(login_at_600000_iterations, setup, teardown),
		cmocka_unit_test_setup_teardown(salts_differ_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_name_costs_one_pbkdf2, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_token_works_once, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_token_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_request_reveals_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(outbox_rejects_header_injection, setup, teardown),
	};

	return cmocka_run_group_tests(tests, load_list, free_list);
}
