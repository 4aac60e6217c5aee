/* Tests of the station's cloud state in a real SQLCipher store: the cached
 * session, verifiers, scanners and settings, the cloud option checks, and
 * offline login, expiry, unlock and logout against a cloud that cannot be
 * reached (loopback port 1, where nothing listens). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "station/cloud_client.h"
#include "station/session.h"
#include "station/store.h"
#include "station/store_cloud.h"
#include "store_fixture.h"

#define TEST_URL "https://127.0.0.1:1"
#define TEST_PIN "SHA256:0000000000000000000000000000000000000000000000000000000000000007"
#define TEST_PASSWORD "seven lanterns over the fjord"
/* Verifiers in these tests use few iterations; the count is stored per
 * verifier, so the check runs the same code as with 600,000. */
#define TEST_ITERATIONS 1000u

static void unreachable_options(struct cloud_options *opt)
{
	cloud_options_defaults(opt);
	snprintf(opt->url, sizeof(opt->url), "%s", TEST_URL);
	snprintf(opt->pin, sizeof(opt->pin), "%s", TEST_PIN);
	opt->connect_timeout_s = 2;
}

/* Caches a verifier of ana as an online login online_age seconds ago would. */
static void seed_verifier(struct store *s, int64_t online_age)
{
	struct store_cloud_verifier v;

	memset(&v, 0, sizeof(v));
	snprintf(v.username, sizeof(v.username), "ana");
	snprintf(v.cloud_url, sizeof(v.cloud_url), "%s", TEST_URL);
	snprintf(v.role, sizeof(v.role), "clinician");
	v.iterations = TEST_ITERATIONS;
	v.online_at = session_now() - online_age;
	assert_int_equal(crypto_random(v.salt, sizeof(v.salt)), 0);
	assert_int_equal(crypto_pbkdf2_sha256(TEST_PASSWORD, strlen(TEST_PASSWORD), v.salt,
		sizeof(v.salt), v.iterations, v.verifier, sizeof(v.verifier)), 0);
	assert_int_equal(store_cloud_verifier_save(s, &v), 0);
}

static void test_session_row_roundtrip(void **state)
{
	struct store_fixture *f = *state;
	struct store_cloud_session in, out;

	memset(&in, 0, sizeof(in));
	snprintf(in.cloud_url, sizeof(in.cloud_url), "%s", TEST_URL);
	snprintf(in.username, sizeof(in.username), "ana");
	snprintf(in.role, sizeof(in.role), "clinician");
	snprintf(in.token, sizeof(in.token), "%064d", 5);
	in.token_expires_at = 111;
	in.login_at = 222;
	in.expires_at = 333;
	assert_int_equal(store_cloud_session_load(f->s, &out), SONO_ENOTFOUND);
	assert_int_equal(store_cloud_session_save(f->s, &in), 0);
	assert_int_equal(store_cloud_session_load(f->s, &out), 0);
	assert_string_equal(out.username, "ana");
	assert_string_equal(out.token, in.token);
	assert_int_equal(out.expires_at, 333);
	assert_int_equal(out.offline, 0);
	assert_int_equal(store_cloud_session_clear(f->s), 0);
	assert_int_equal(store_cloud_session_load(f->s, &out), SONO_ENOTFOUND);
}

static void test_scanners_replace_drops_revoked(void **state)
{
	struct store_fixture *f = *state;
	struct store_cloud_scanner list[2], got[4];
	size_t n = 0;

	memset(list, 0, sizeof(list));
	snprintf(list[0].serial, sizeof(list[0].serial), "SN-1");
	snprintf(list[0].fingerprint, sizeof(list[0].fingerprint), "%s", TEST_PIN);
	snprintf(list[1].serial, sizeof(list[1].serial), "SN-2");
	snprintf(list[1].fingerprint, sizeof(list[1].fingerprint), "%s", TEST_PIN);
	assert_int_equal(store_cloud_scanners_replace(f->s, "ana", list, 2), 0);
	assert_int_equal(store_cloud_scanners_list(f->s, "ana", got, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_cloud_scanners_replace(f->s, "ana", &list[1], 1), 0);
	assert_int_equal(store_cloud_scanners_list(f->s, "ana", got, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].serial, "SN-2");
	assert_int_equal(store_cloud_scanners_list(f->s, "bob", got, 4, &n), 0);
	assert_int_equal(n, 0);
}

static void test_settings_ranges(void **state)
{
	struct store_fixture *f = *state;
	long value = 0;

	assert_int_equal(store_cloud_settings_replace(f->s, "[1, 2]"), SONO_EINVAL);
	assert_int_equal(store_cloud_settings_replace(f->s,
		"{\"offline_login_days\": 3, \"idle_lock_minutes\": 999, \"presets\": [\"abdomen\"]}"), 0);
	assert_int_equal(store_cloud_setting_long(f->s, "offline_login_days", 7, 0, 90, &value), 0);
	assert_int_equal(value, 3);
	assert_int_equal(store_cloud_setting_long(f->s, "idle_lock_minutes", 5, 1, 240, &value), 0);
	assert_int_equal(value, 5);
	assert_int_equal(store_cloud_setting_long(f->s, "presets", 4, 0, 9, &value), 0);
	assert_int_equal(value, 4);
	assert_int_equal(store_cloud_setting_long(f->s, "missing", 6, 0, 9, &value), 0);
	assert_int_equal(value, 6);
	assert_int_equal(session_idle_lock_minutes(f->s), 5);
}

static void test_cloud_options_check(void **state)
{
	struct cloud_options opt;
	char err[512];

	(void)state;
	unreachable_options(&opt);
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), 0);
	snprintf(opt.url, sizeof(opt.url), "http://127.0.0.1:1");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
	snprintf(opt.url, sizeof(opt.url), "https://127.0.0.1:1/api");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
	snprintf(opt.url, sizeof(opt.url), "https://user@127.0.0.1:1");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
	snprintf(opt.url, sizeof(opt.url), "https://127.0.0.1:1/");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), 0);
	snprintf(opt.ca_file, sizeof(opt.ca_file), "/etc/hostname");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
	opt.pin[0] = '\0';
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), 0);
	snprintf(opt.ca_file, sizeof(opt.ca_file), "/nonexistent/ca.pem");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
	opt.ca_file[0] = '\0';
	snprintf(opt.pin, sizeof(opt.pin), "SHA256:12");
	assert_int_equal(cloud_options_check(&opt, err, sizeof(err)), SONO_EINVAL);
}

static void test_offline_login_within_window(void **state)
{
	struct store_fixture *f = *state;
	struct store_cloud_session sess;
	struct cloud_options opt;
	struct cloud_result res;
	char err[512];

	unreachable_options(&opt);
	seed_verifier(f->s, 3600);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 1, NULL, &sess, &res, err,
		sizeof(err)), 0);
	assert_int_equal(res.kind, CLOUD_ERR_UNREACHABLE);
	assert_int_equal(sess.offline, 1);
	assert_string_equal(sess.token, "");
	assert_true(sess.expires_at <= session_now() - 3600 + 7 * 86400);
	assert_int_equal(session_current(f->s, &sess, err, sizeof(err)), 0);
	assert_string_equal(sess.role, "clinician");
	assert_int_equal(session_unlock(f->s, TEST_PASSWORD), 0);
	assert_int_equal(session_unlock(f->s, "not the password"), SONO_EAUTH);
	assert_int_equal(session_logout(f->s, &opt, err, sizeof(err)), 0);
	assert_int_equal(session_current(f->s, &sess, err, sizeof(err)), SONO_ENOTFOUND);
}

static void test_offline_login_rejections(void **state)
{
	struct store_fixture *f = *state;
	struct cloud_options opt;
	char err[512];

	unreachable_options(&opt);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 1, NULL, NULL, NULL, err,
		sizeof(err)), SONO_ESTATE);
	assert_non_null(strstr(err, "never logged in online"));
	seed_verifier(f->s, 3600);
	assert_int_equal(session_login(f->s, &opt, "ana", "wrong password here", 1, NULL, NULL, NULL,
		err, sizeof(err)), SONO_EAUTH);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 0, NULL, NULL, NULL, err,
		sizeof(err)), SONO_EIO);
	seed_verifier(f->s, 8 * 86400);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 1, NULL, NULL, NULL, err,
		sizeof(err)), SONO_ESTATE);
	assert_non_null(strstr(err, "past the offline window of 7 days"));
	seed_verifier(f->s, 60);
	assert_int_equal(store_cloud_settings_replace(f->s, "{\"offline_login_days\": 0}"), 0);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 1, NULL, NULL, NULL, err,
		sizeof(err)), SONO_ESTATE);
	assert_non_null(strstr(err, "disable offline login"));
}

/* The steps session_login() reported, in order. */
struct step_log {
	enum session_step steps[4];
	size_t count;
};

static void record_step(void *arg, enum session_step step)
{
	struct step_log *log = arg;

	if (log->count < sizeof(log->steps) / sizeof(log->steps[0]))
		log->steps[log->count] = step;
	log->count++;
}

static void test_login_reports_steps(void **state)
{
	struct store_fixture *f = *state;
	struct step_log log = { .count = 0 };
	struct session_progress progress = { record_step, &log };
	struct cloud_options opt;
	char err[512];

	unreachable_options(&opt);
	seed_verifier(f->s, 3600);
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 1, &progress, NULL, NULL,
		err, sizeof(err)), 0);
	assert_int_equal(log.count, 2);
	assert_int_equal(log.steps[0], SESSION_STEP_CLOUD);
	assert_int_equal(log.steps[1], SESSION_STEP_OFFLINE);

	log.count = 0;
	assert_int_equal(session_login(f->s, &opt, "ana", TEST_PASSWORD, 0, &progress, NULL, NULL,
		err, sizeof(err)), SONO_EIO);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.steps[0], SESSION_STEP_CLOUD);
}

static void test_session_expiry(void **state)
{
	struct store_fixture *f = *state;
	struct store_cloud_session sess;
	char err[512];

	memset(&sess, 0, sizeof(sess));
	snprintf(sess.username, sizeof(sess.username), "ana");
	sess.login_at = session_now() - SESSION_MAX_SECONDS - 10;
	sess.expires_at = session_now() - 10;
	assert_int_equal(store_cloud_session_save(f->s, &sess), 0);
	assert_int_equal(session_current(f->s, &sess, err, sizeof(err)), SONO_ESTATE);
	assert_int_equal(store_cloud_session_load(f->s, &sess), SONO_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_FIXTURE_TEST(test_session_row_roundtrip),
		STORE_FIXTURE_TEST(test_scanners_replace_drops_revoked),
		STORE_FIXTURE_TEST(test_settings_ranges),
		cmocka_unit_test(test_cloud_options_check),
		STORE_FIXTURE_TEST(test_offline_login_within_window),
		STORE_FIXTURE_TEST(test_offline_login_rejections),
		STORE_FIXTURE_TEST(test_login_reports_steps),
		STORE_FIXTURE_TEST(test_session_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
