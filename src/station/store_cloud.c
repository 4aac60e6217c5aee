/* The cloud's data in the station store: session, offline verifiers,
 * permitted scanners, settings, and the schema of those tables and of the
 * upload queue. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/store_cloud.h"

/* cloud_session has at most one row (id 1).  upload_jobs keeps the
 * uploader's progress per exam so a restarted station resumes; it holds no
 * patient data and goes with its exam row (ON DELETE CASCADE). */
const char store_cloud_schema[] =
	"CREATE TABLE cloud_session ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" cloud_url TEXT NOT NULL,"
	" username TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" token TEXT NOT NULL DEFAULT '',"
	" token_expires_at INTEGER NOT NULL DEFAULT 0,"
	" login_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" offline INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE cloud_verifiers ("
	" username TEXT NOT NULL,"
	" cloud_url TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" salt BLOB NOT NULL,"
	" iterations INTEGER NOT NULL,"
	" verifier BLOB NOT NULL,"
	" online_at INTEGER NOT NULL,"
	" PRIMARY KEY (username, cloud_url));"
	"CREATE TABLE cloud_scanners ("
	" username TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" model TEXT NOT NULL DEFAULT '',"
	" fingerprint TEXT NOT NULL,"
	" PRIMARY KEY (username, serial));"
	"CREATE TABLE cloud_settings ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);"
	"CREATE TABLE upload_jobs ("
	" exam_id INTEGER PRIMARY KEY REFERENCES exams (id) ON DELETE CASCADE,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_ns INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" parts_total INTEGER NOT NULL DEFAULT 0,"
	" parts_done INTEGER NOT NULL DEFAULT 0,"
	" bytes_total INTEGER NOT NULL DEFAULT 0,"
	" bytes_done INTEGER NOT NULL DEFAULT 0,"
	" updated_ns INTEGER NOT NULL DEFAULT 0);";

/* Copies a blob column of exactly len bytes.  Returns 0 or SONO_EDB. */
static int copy_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t len)
{
	const void *blob = sqlite3_column_blob(st, col);

	if (blob == NULL || (size_t)sqlite3_column_bytes(st, col) != len)
		return SONO_EDB;
	memcpy(out, blob, len);
	return 0;
}

int store_cloud_session_save(struct store *s, const struct store_cloud_session *sess)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO cloud_session (id, cloud_url, username, role, token,"
		" token_expires_at, login_at, expires_at, offline)"
		" VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)";

	return STORE_RUN(s, "saving the login session", sql, STORE_TEXT(sess->cloud_url),
		STORE_TEXT(sess->username), STORE_TEXT(sess->role), STORE_TEXT(sess->token),
		STORE_INT(sess->token_expires_at), STORE_INT(sess->login_at),
		STORE_INT(sess->expires_at), STORE_INT(sess->offline != 0));
}

int store_cloud_session_load(struct store *s, struct store_cloud_session *out)
{
	static const char sql[] =
		"SELECT cloud_url, username, role, token, token_expires_at, login_at, expires_at,"
		" offline FROM cloud_session WHERE id = 1";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_prepare(s, sql, &st);
	if (rc != 0)
		return rc;
	rc = store_step_row(s, st, "loading the login session");
	if (rc == 0) {
		store_column_text(st, 0, out->cloud_url, sizeof(out->cloud_url));
		store_column_text(st, 1, out->username, sizeof(out->username));
		store_column_text(st, 2, out->role, sizeof(out->role));
		store_column_text(st, 3, out->token, sizeof(out->token));
		out->token_expires_at = sqlite3_column_int64(st, 4);
		out->login_at = sqlite3_column_int64(st, 5);
		out->expires_at = sqlite3_column_int64(st, 6);
		out->offline = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	return rc;
}

int store_cloud_session_clear(struct store *s)
{
	return store_exec(s, "DELETE FROM cloud_session");
}

int store_cloud_verifier_save(struct store *s, const struct store_cloud_verifier *v)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO cloud_verifiers (username, cloud_url, role, salt,"
		" iterations, verifier, online_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

	return STORE_RUN(s, "saving an offline verifier", sql, STORE_TEXT(v->username),
		STORE_TEXT(v->cloud_url), STORE_TEXT(v->role), STORE_BLOB(v->salt, sizeof(v->salt)),
		STORE_INT(v->iterations), STORE_BLOB(v->verifier, sizeof(v->verifier)),
		STORE_INT(v->online_at));
}

int store_cloud_verifier_load(struct store *s, const char *username, const char *cloud_url,
	struct store_cloud_verifier *out)
{
	static const char sql[] =
		"SELECT role, salt, iterations, verifier, online_at FROM cloud_verifiers"
		" WHERE username = ? AND cloud_url = ?";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = STORE_PREPARE(s, &st, sql, STORE_TEXT(username), STORE_TEXT(cloud_url));
	if (rc != 0)
		return rc;
	rc = store_step_row(s, st, "loading an offline verifier");
	if (rc == 0) {
		snprintf(out->username, sizeof(out->username), "%s", username);
		snprintf(out->cloud_url, sizeof(out->cloud_url), "%s", cloud_url);
		store_column_text(st, 0, out->role, sizeof(out->role));
		rc = copy_blob(st, 1, out->salt, sizeof(out->salt));
		out->iterations = (unsigned)sqlite3_column_int64(st, 2);
		if (rc == 0)
			rc = copy_blob(st, 3, out->verifier, sizeof(out->verifier));
		out->online_at = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_scanner(struct store *s, const char *username,
	const struct store_cloud_scanner *sc)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO cloud_scanners (username, serial, model, fingerprint)"
		" VALUES (?, ?, ?, ?)";

	return STORE_RUN(s, "caching a permitted scanner", sql, STORE_TEXT(username),
		STORE_TEXT(sc->serial), STORE_TEXT(sc->model), STORE_TEXT(sc->fingerprint));
}

int store_cloud_scanners_replace(struct store *s, const char *username,
	const struct store_cloud_scanner *list, size_t n)
{
	size_t i;
	int rc;

	rc = store_begin(s);
	if (rc != 0)
		return rc;
	rc = STORE_RUN(s, "clearing the cached scanners",
		"DELETE FROM cloud_scanners WHERE username = ?", STORE_TEXT(username));
	for (i = 0; rc == 0 && i < n; i++)
		rc = insert_scanner(s, username, &list[i]);
	if (rc == 0)
		rc = store_commit(s);
	if (rc != 0)
		store_rollback(s);
	return rc;
}

int store_cloud_scanners_list(struct store *s, const char *username,
	struct store_cloud_scanner *list, size_t max, size_t *n)
{
	static const char sql[] =
		"SELECT serial, model, fingerprint FROM cloud_scanners WHERE username = ?"
		" ORDER BY serial";
	sqlite3_stmt *st = NULL;
	int rc, step;

	*n = 0;
	rc = STORE_PREPARE(s, &st, sql, STORE_TEXT(username));
	if (rc != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		store_column_text(st, 0, list[*n].serial, sizeof(list[*n].serial));
		store_column_text(st, 1, list[*n].model, sizeof(list[*n].model));
		store_column_text(st, 2, list[*n].fingerprint, sizeof(list[*n].fingerprint));
		(*n)++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_fail(s, "listing the cached scanners");
	sqlite3_finalize(st);
	return rc;
}

static int insert_setting(struct store *s, const char *key, const json_t *value)
{
	char *text;
	int rc;

	text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return SONO_ENOMEM;
	rc = STORE_RUN(s, "caching a setting",
		"INSERT INTO cloud_settings (key, value) VALUES (?, ?)", STORE_TEXT(key),
		STORE_TEXT(text));
	free(text);
	return rc;
}

int store_cloud_settings_replace(struct store *s, const char *settings_json)
{
	json_t *root, *value;
	const char *key;
	int rc;

	root = json_loads(settings_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return SONO_EINVAL;
	}
	rc = store_begin(s);
	if (rc == 0)
		rc = store_exec(s, "DELETE FROM cloud_settings");
	json_object_foreach(root, key, value) {
		if (rc != 0)
			break;
		rc = insert_setting(s, key, value);
	}
	if (rc == 0)
		rc = store_commit(s);
	if (rc != 0)
		store_rollback(s);
	json_decref(root);
	return rc;
}

int store_cloud_setting_long(struct store *s, const char *key, long def, long min, long max,
	long *value)
{
	sqlite3_stmt *st = NULL;
	json_t *parsed = NULL;
	int rc;

	*value = def;
	rc = STORE_PREPARE(s, &st, "SELECT value FROM cloud_settings WHERE key = ?",
		STORE_TEXT(key));
	if (rc != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		parsed = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, NULL);
	sqlite3_finalize(st);
	if (json_is_integer(parsed) && json_integer_value(parsed) >= min &&
	    json_integer_value(parsed) <= max)
		*value = (long)json_integer_value(parsed);
	else if (parsed != NULL)
		LOG_WARN("cached setting %s is out of range; using %ld", key, def);
	json_decref(parsed);
	return 0;
}
