/* Site settings stored as text and returned as one JSON object (see
 * settings.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/settings.h"
#include "sono/error.h"

#define VALUE_MAX 16384

enum setting_kind {
	SETTING_INT,
	SETTING_PRESETS,
	SETTING_DESTINATIONS,
};

struct setting {
	const char *key;
	enum setting_kind kind;
	long min, max;
	const char *default_value;
};

static const struct setting settings[] = {
	{ "presets", SETTING_PRESETS, 0, 0,
	  "[\"abdomen\",\"cardiac\",\"lung\",\"obstetric\",\"vascular\"]" },
	{ "retention_days", SETTING_INT, 0, 3650, "30" },
	{ "idle_lock_minutes", SETTING_INT, 1, 240, "5" },
	{ "offline_login_days", SETTING_INT, 0, 90, "7" },
	{ "dicom_destinations", SETTING_DESTINATIONS, 0, 0, "[]" },
};

#define SETTINGS_COUNT (sizeof(settings) / sizeof(settings[0]))

static const struct setting *find(const char *key)
{
	size_t i;

	for (i = 0; i < SETTINGS_COUNT; i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static int check_int(const struct setting *s, const char *value, char *reason, size_t len)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < s->min || n > s->max) {
		snprintf(reason, len, "%s must be a whole number from %ld to %ld", s->key, s->min,
			s->max);
		return SONO_EINVAL;
	}
	return SONO_OK;
}

/* Checks item i (from 0) of a JSON array setting, writing why it fails to
 * reason. */
typedef int (*check_item_fn)(const json_t *item, size_t i, char *reason, size_t len);

/* Checks that v is a JSON array whose items pass check_item.  not_array is
 * the reason written when v is not an array. */
static int check_array(const json_t *v, const char *not_array, check_item_fn check_item,
	char *reason, size_t len)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v)) {
		snprintf(reason, len, "%s", not_array);
		return SONO_EINVAL;
	}
	json_array_foreach(v, i, item) {
		if (check_item(item, i, reason, len) != SONO_OK)
			return SONO_EINVAL;
	}
	return SONO_OK;
}

static int check_preset(const json_t *item, size_t i, char *reason, size_t len)
{
	if (!json_is_string(item) || json_string_length(item) == 0
	    || json_string_length(item) > 31) {
		snprintf(reason, len, "preset %zu must be a name of 1 to 31 characters", i + 1);
		return SONO_EINVAL;
	}
	return SONO_OK;
}

static int check_destination(const json_t *d, size_t i, char *reason, size_t len)
{
	json_t *port = json_object_get(d, "port");
	json_t *ae = json_object_get(d, "ae_title");
	json_t *tls = json_object_get(d, "tls");

	if (!json_is_object(d) || !json_is_string(json_object_get(d, "name"))
	    || !json_is_string(json_object_get(d, "host")) || !json_is_integer(port)
	    || json_integer_value(port) < 1 || json_integer_value(port) > 65535
	    || !json_is_string(ae) || json_string_length(ae) == 0 || json_string_length(ae) > 16
	    || (tls != NULL && !json_is_boolean(tls))) {
		snprintf(reason, len, "destination %zu must be {\"name\": text, \"host\": text,"
			" \"port\": 1-65535, \"ae_title\": 1-16 characters, \"tls\": true|false}", i + 1);
		return SONO_EINVAL;
	}
	return SONO_OK;
}

static int check_json(const struct setting *s, const char *value, char *reason, size_t len)
{
	json_error_t jerr;
	json_t *v = json_loads(value, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (v == NULL) {
		snprintf(reason, len, "%s is not valid JSON: %s (column %d)", s->key, jerr.text,
			jerr.column);
		return SONO_EINVAL;
	}
	if (s->kind == SETTING_PRESETS)
		rc = check_array(v, "presets must be a JSON array of names", check_preset, reason,
			len);
	else
		rc = check_array(v, "dicom_destinations must be a JSON array of objects",
			check_destination, reason, len);
	json_decref(v);
	return rc;
}

int settings_set(struct db *db, const char *key, const char *value,
	char *reason, size_t reasonlen)
{
	const struct setting *s = find(key);
	struct db_value v[2] = { DB_V_TEXT(value), DB_V_TEXT(key) };
	int rc;

	if (s == NULL) {
		snprintf(reason, reasonlen, "unknown setting %.64s; known settings are presets,"
			" retention_days, idle_lock_minutes, offline_login_days, dicom_destinations", key);
		return SONO_EINVAL;
	}
	if (strlen(value) > VALUE_MAX) {
		snprintf(reason, reasonlen, "%s is longer than %d bytes", key, VALUE_MAX);
		return SONO_EINVAL;
	}
	rc = s->kind == SETTING_INT ? check_int(s, value, reason, reasonlen)
		: check_json(s, value, reason, reasonlen);
	if (rc != SONO_OK)
		return rc;
	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	rc = db_exec(db, "UPDATE settings SET value = ? WHERE key = ?", v, 2, NULL, NULL);
	if (rc == SONO_OK && db_changes(db) == 0)
		rc = db_exec(db, "INSERT INTO settings (value, key) VALUES (?, ?)", v, 2, NULL, NULL);
	if (rc == SONO_OK)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

static int stored_cb(void *arg, const struct db_value *c, size_t n)
{
	json_t *obj = arg;
	const struct setting *s;
	json_t *value;

	if (n != 2 || c[0].type != DB_TEXT || c[1].type != DB_TEXT)
		return SONO_EDB;
	s = find(c[0].text);
	if (s == NULL)
		return 0;
	value = s->kind == SETTING_INT ? json_integer(strtol(c[1].text, NULL, 10))
		: json_loads(c[1].text, 0, NULL);
	if (value == NULL || json_object_set_new(obj, s->key, value) != 0)
		return SONO_EDB;
	return 0;
}

int settings_get_all(struct db *db, json_t **out)
{
	json_t *obj = json_object();
	size_t i;
	int rc;

	*out = NULL;
	if (obj == NULL)
		return SONO_ENOMEM;
	for (i = 0; i < SETTINGS_COUNT; i++) {
		json_t *v = settings[i].kind == SETTING_INT
			? json_integer(strtol(settings[i].default_value, NULL, 10))
			: json_loads(settings[i].default_value, 0, NULL);

		if (v == NULL || json_object_set_new(obj, settings[i].key, v) != 0) {
			json_decref(obj);
			return SONO_ENOMEM;
		}
	}
	rc = db_exec(db, "SELECT key, value FROM settings", NULL, 0, stored_cb, obj);
	if (rc != SONO_OK) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return SONO_OK;
}
