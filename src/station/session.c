/* Online and offline login, logout and the idle-lock password check; see
 * session.h for the states. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/cloud_parse.h"
#include "station/session.h"

int64_t session_now(void)
{
	return (int64_t)time(NULL);
}

/* Copies a string member of obj into out; missing or too long is an error. */
static int copy_member(const json_t *obj, const char *key, char *out, size_t outlen)
{
	const char *value = json_string_value(json_object_get(obj, key));

	if (value == NULL || strlen(value) >= outlen)
		return SONO_EPROTO;
	snprintf(out, outlen, "%s", value);
	return 0;
}

/* Overwrites a string member in place: jansson keeps its own copy of a
 * password or token, which json_decref() would free unwiped. */
static void wipe_member(json_t *obj, const char *key)
{
	const char *value = json_string_value(json_object_get(obj, key));

	if (value != NULL)
		crypto_wipe((char *)value, strlen(value));
}

/* Posts the credentials and copies the token, its expiry and the role. */
static int login_post(struct cloud_client *c, const char *username, const char *password,
	struct store_cloud_session *sess, struct cloud_result *res)
{
	json_t *body, *answer = NULL;
	json_int_t expires;
	int rc;

	body = json_pack("{s:s, s:s}", "username", username, "password", password);
	if (body == NULL)
		return SONO_ENOMEM;
	rc = cloud_client_json(c, "POST", "/sessions", body, &answer, res);
	wipe_member(body, "password");
	json_decref(body);
	if (rc < 0)
		return rc;
	rc = copy_member(answer, "token", sess->token, sizeof(sess->token));
	if (rc == 0)
		rc = copy_member(json_object_get(answer, "user"), "role", sess->role,
			sizeof(sess->role));
	expires = json_integer_value(json_object_get(answer, "expires_at"));
	sess->token_expires_at = expires;
	wipe_member(answer, "token");
	json_decref(answer);
	if (rc < 0) {
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(res->message, sizeof(res->message), "the login response lacks a token or role");
	}
	return rc;
}

/* Pulls the permitted scanners and caches them for username. */
static int pull_scanners(struct cloud_client *c, struct store *s, const char *username,
	struct cloud_result *res)
{
	struct store_cloud_scanner *list = NULL;
	json_t *answer = NULL, *array, *entry;
	size_t i, n = 0;
	int rc;

	rc = cloud_client_json(c, "GET", "/scanners", NULL, &answer, res);
	if (rc < 0)
		return rc;
	array = json_object_get(answer, "scanners");
	if (!json_is_array(array)) {
		rc = SONO_EPROTO;
		goto out;
	}
	if (json_array_size(array) > STORE_CLOUD_SCANNERS_MAX)
		LOG_WARN("the cloud lists %zu scanners; caching the first %d",
			json_array_size(array), STORE_CLOUD_SCANNERS_MAX);
	list = calloc(STORE_CLOUD_SCANNERS_MAX, sizeof(*list));
	if (list == NULL) {
		rc = SONO_ENOMEM;
		goto out;
	}
	json_array_foreach(array, i, entry) {
		if (n == STORE_CLOUD_SCANNERS_MAX)
			break;
		if (cloud_parse_scanner(entry, &list[n]) == 0)
			n++;
		else
			LOG_WARN("skipping a malformed scanner entry %zu from the cloud", i);
	}
	rc = store_cloud_scanners_replace(s, username, list, n);
	if (rc == 0)
		LOG_NOTICE("cached %zu permitted scanners for %s", n, username);

out:
	if (rc == SONO_EPROTO) {
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(res->message, sizeof(res->message), "the scanner list is malformed");
	}
	free(list);
	json_decref(answer);
	return rc;
}

/* Pulls /me (to confirm the token) and /settings, caching the settings. */
static int pull_profile(struct cloud_client *c, struct store *s, struct cloud_result *res)
{
	json_t *answer = NULL;
	char *text;
	int rc;

	rc = cloud_client_json(c, "GET", "/me", NULL, NULL, res);
	if (rc == 0)
		rc = cloud_client_json(c, "GET", "/settings", NULL, &answer, res);
	if (rc < 0)
		return rc;
	text = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	if (text == NULL)
		return SONO_ENOMEM;
	rc = store_cloud_settings_replace(s, text);
	free(text);
	if (rc == SONO_EINVAL) {
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(res->message, sizeof(res->message), "the settings are not a JSON object");
		rc = SONO_EPROTO;
	}
	return rc;
}

/* Computes a new offline verifier of password and stores it. */
static int save_verifier(struct store *s, const struct store_cloud_session *sess,
	const char *password)
{
	struct store_cloud_verifier v;
	int rc;

	memset(&v, 0, sizeof(v));
	snprintf(v.username, sizeof(v.username), "%s", sess->username);
	snprintf(v.cloud_url, sizeof(v.cloud_url), "%s", sess->cloud_url);
	snprintf(v.role, sizeof(v.role), "%s", sess->role);
	v.iterations = SESSION_VERIFIER_ITERATIONS;
	v.online_at = sess->login_at;
	rc = crypto_random(v.salt, sizeof(v.salt));
	if (rc == 0)
		rc = crypto_pbkdf2_sha256(password, strlen(password), v.salt, sizeof(v.salt),
			v.iterations, v.verifier, sizeof(v.verifier));
	if (rc == 0)
		rc = store_cloud_verifier_save(s, &v);
	crypto_wipe(&v, sizeof(v));
	return rc;
}

static void session_init(struct store_cloud_session *sess, const char *url, const char *username)
{
	memset(sess, 0, sizeof(*sess));
	snprintf(sess->cloud_url, sizeof(sess->cloud_url), "%s", url);
	snprintf(sess->username, sizeof(sess->username), "%s", username);
	sess->login_at = session_now();
	sess->expires_at = sess->login_at + SESSION_MAX_SECONDS;
}

/* Logs in against the cloud and caches what the station needs offline. */
static int login_online(struct store *s, const struct cloud_options *opt, const char *username,
	const char *password, struct store_cloud_session *sess, struct cloud_result *res,
	char *err, size_t errlen)
{
	struct cloud_client *c = NULL;
	int rc;

	rc = cloud_client_new(&c, opt, err, errlen);
	if (rc < 0)
		return rc;
	rc = login_post(c, username, password, sess, res);
	if (rc == 0)
		rc = cloud_client_set_token(c, sess->token);
	if (rc == 0)
		rc = pull_profile(c, s, res);
	if (rc == 0)
		rc = pull_scanners(c, s, username, res);
	if (rc == 0)
		rc = save_verifier(s, sess, password);
	if (rc == 0)
		rc = store_cloud_session_save(s, sess);
	if (rc < 0 && res->kind != CLOUD_OK)
		snprintf(err, errlen, "%s", res->message);
	else if (rc < 0)
		snprintf(err, errlen, "the login could not be saved in the station store: %s",
			sono_strerror(rc));
	cloud_client_free(c);
	return rc;
}

/* Checks the offline window of a cached verifier.  Returns 0 or SONO_ESTATE. */
static int offline_window_open(struct store *s, const struct store_cloud_verifier *v,
	int64_t *window_end, char *err, size_t errlen)
{
	long days = SESSION_OFFLINE_DAYS_DEFAULT;
	int64_t now = session_now();

	store_cloud_setting_long(s, "offline_login_days", SESSION_OFFLINE_DAYS_DEFAULT, 0, 90, &days);
	*window_end = v->online_at + (int64_t)days * 86400;
	if (days == 0) {
		snprintf(err, errlen, "the cloud is unreachable and the site settings disable "
			"offline login; connect to the cloud to log in");
		return SONO_ESTATE;
	}
	if (now >= *window_end) {
		snprintf(err, errlen, "the cloud is unreachable and the last online login of this "
			"user was %lld days ago, past the offline window of %ld days; connect to the "
			"cloud to log in", (long long)((now - v->online_at) / 86400), days);
		return SONO_ESTATE;
	}
	return 0;
}

/* Logs in against the cached verifier of username. */
static int login_offline(struct store *s, const char *url, const char *username,
	const char *password, struct store_cloud_session *sess, char *err, size_t errlen)
{
	uint8_t derived[STORE_CLOUD_VERIFIER_LEN];
	struct store_cloud_verifier v;
	int64_t window_end = 0;
	int rc;

	rc = store_cloud_verifier_load(s, username, url, &v);
	if (rc == SONO_ENOTFOUND) {
		snprintf(err, errlen, "the cloud is unreachable and this user has never logged in "
			"online on this station; connect to the cloud to log in");
		return SONO_ESTATE;
	}
	if (rc == 0)
		rc = offline_window_open(s, &v, &window_end, err, errlen);
	if (rc == 0)
		rc = crypto_pbkdf2_sha256(password, strlen(password), v.salt, sizeof(v.salt),
			v.iterations, derived, sizeof(derived));
	if (rc == 0 && !crypto_equal(derived, v.verifier, sizeof(derived))) {
		snprintf(err, errlen, "the user name or password is wrong");
		rc = SONO_EAUTH;
	}
	if (rc == 0) {
		session_init(sess, url, username);
		snprintf(sess->role, sizeof(sess->role), "%s", v.role);
		sess->offline = 1;
		if (sess->expires_at > window_end)
			sess->expires_at = window_end;
		rc = store_cloud_session_save(s, sess);
	}
	crypto_wipe(derived, sizeof(derived));
	crypto_wipe(&v, sizeof(v));
	return rc;
}

static void report_step(const struct session_progress *progress, enum session_step step)
{
	if (progress != NULL && progress->step != NULL)
		progress->step(progress->arg, step);
}

int session_login(struct store *s, const struct cloud_options *opt, const char *username,
	const char *password, int allow_offline, const struct session_progress *progress,
	struct store_cloud_session *out, struct cloud_result *res, char *err, size_t errlen)
{
	struct cloud_result local;
	struct store_cloud_session sess;
	int rc;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (username[0] == '\0' || strlen(username) >= STORE_CLOUD_NAME_MAX) {
		snprintf(err, errlen, "invalid user name: give 1 to %d bytes", STORE_CLOUD_NAME_MAX - 1);
		return SONO_EINVAL;
	}
	session_init(&sess, opt->url, username);
	report_step(progress, SESSION_STEP_CLOUD);
	rc = login_online(s, opt, username, password, &sess, res, err, errlen);
	if (rc < 0 && res->kind == CLOUD_ERR_UNREACHABLE && allow_offline) {
		LOG_NOTICE("cloud unreachable (%s); trying the offline login of %s", res->message,
			username);
		report_step(progress, SESSION_STEP_OFFLINE);
		rc = login_offline(s, opt->url, username, password, &sess, err, errlen);
	}
	if (rc == 0) {
		LOG_NOTICE("%s logged in %s as %s", username, sess.offline ? "offline" : "online",
			sess.role);
		if (out != NULL)
			*out = sess;
	} else if (res->kind == CLOUD_ERR_LOCKED) {
		rc = SONO_ESTATE;
	}
	crypto_wipe(sess.token, sizeof(sess.token));
	return rc;
}

int session_current(struct store *s, struct store_cloud_session *out, char *err, size_t errlen)
{
	int rc;

	rc = store_cloud_session_load(s, out);
	if (rc == SONO_ENOTFOUND) {
		snprintf(err, errlen, "nobody is logged in; run 'sonoterm login' first");
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "the login session could not be read from the store");
		return rc;
	}
	if (session_now() < out->expires_at)
		return 0;
	LOG_NOTICE("the login of %s has ended; deleting it", out->username);
	crypto_wipe(out->token, sizeof(out->token));
	store_cloud_session_clear(s);
	snprintf(err, errlen, "the login of %s has ended; run 'sonoterm login' again",
		out->username);
	return SONO_ESTATE;
}

/* Revokes the session's token on the cloud. */
static int revoke_token(const struct cloud_options *opt, const struct store_cloud_session *sess,
	char *err, size_t errlen)
{
	struct cloud_client *c = NULL;
	struct cloud_result res;
	int rc;

	rc = cloud_client_new(&c, opt, err, errlen);
	if (rc == 0)
		rc = cloud_client_set_token(c, sess->token);
	if (rc == 0)
		rc = cloud_client_json(c, "DELETE", "/sessions/current", NULL, NULL, &res);
	if (rc == SONO_EAUTH)
		rc = 0; /* the token had already expired or been revoked */
	else if (rc < 0 && c != NULL)
		snprintf(err, errlen, "the cloud could not revoke the session token (%s); it stays "
			"valid on the cloud until it expires", res.message);
	cloud_client_free(c);
	return rc;
}

int session_logout(struct store *s, const struct cloud_options *opt, char *err, size_t errlen)
{
	struct store_cloud_session sess;
	int rc, revoke_rc = 0;

	rc = store_cloud_session_load(s, &sess);
	if (rc == SONO_ENOTFOUND) {
		snprintf(err, errlen, "nobody is logged in");
		return rc;
	}
	if (rc < 0)
		return rc;
	if (sess.token[0] != '\0') {
		struct cloud_options with_url = *opt;

		if (with_url.url[0] == '\0')
			snprintf(with_url.url, sizeof(with_url.url), "%s", sess.cloud_url);
		revoke_rc = revoke_token(&with_url, &sess, err, errlen);
	}
	crypto_wipe(sess.token, sizeof(sess.token));
	rc = store_cloud_session_clear(s);
	if (rc < 0) {
		snprintf(err, errlen, "the login session could not be deleted from the store");
		return rc;
	}
	LOG_NOTICE("%s logged out%s", sess.username, revoke_rc < 0 ?
		"; the cloud could not revoke the token" : "");
	return revoke_rc;
}

int session_unlock(struct store *s, const char *password)
{
	uint8_t derived[STORE_CLOUD_VERIFIER_LEN];
	struct store_cloud_session sess;
	struct store_cloud_verifier v;
	int rc;

	rc = store_cloud_session_load(s, &sess);
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc == 0)
		rc = store_cloud_verifier_load(s, sess.username, sess.cloud_url, &v);
	if (rc < 0)
		return rc;
	rc = crypto_pbkdf2_sha256(password, strlen(password), v.salt, sizeof(v.salt),
		v.iterations, derived, sizeof(derived));
	if (rc == 0 && !crypto_equal(derived, v.verifier, sizeof(derived)))
		rc = SONO_EAUTH;
	crypto_wipe(derived, sizeof(derived));
	crypto_wipe(&v, sizeof(v));
	return rc;
}

long session_idle_lock_minutes(struct store *s)
{
	long minutes = SESSION_IDLE_LOCK_MINUTES_DEFAULT;

	store_cloud_setting_long(s, "idle_lock_minutes", SESSION_IDLE_LOCK_MINUTES_DEFAULT, 1, 240,
		&minutes);
	return minutes;
}
