/* Scanners and user grants (see scanners.h). */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "cloud/accounts.h"
#include "cloud/scanners.h"
#include "sono/error.h"
#include "sono/tls.h"

int scanners_serial_valid(const char *serial)
{
	size_t i, len = strlen(serial);

	if (len == 0 || len > SCANNERS_SERIAL_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)serial[i];

		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int model_valid(const char *model)
{
	size_t i, len = strlen(model);

	if (len > SCANNERS_MODEL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)model[i] < 0x20 || model[i] == 0x7f)
			return 0;
	return 1;
}

int scanners_add(struct db *db, const char *serial, const char *fingerprint,
	const char *model)
{
	char pin[TLS_FINGERPRINT_LEN];
	int rc;

	if (model == NULL)
		model = "";
	if (!scanners_serial_valid(serial) || !model_valid(model)
	    || tls_pin_normalize(fingerprint, pin) != SONO_OK)
		return SONO_EINVAL;
	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	{
		struct db_value v[4] = {
			DB_V_TEXT(model), DB_V_TEXT(pin), DB_V_INT(db_now()), DB_V_TEXT(serial),
		};

		rc = db_exec(db, "UPDATE scanners SET model = ?, fingerprint = ?, added_at = ?"
			" WHERE serial = ?", v, 4, NULL, NULL);
		if (rc == SONO_OK && db_changes(db) == 0)
			rc = db_exec(db, "INSERT INTO scanners (model, fingerprint, added_at, serial)"
				" VALUES (?, ?, ?, ?)", v, 4, NULL, NULL);
	}
	if (rc == SONO_OK)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

/* Resolves the user and checks the scanner exists. */
static int resolve(struct db *db, const char *user, const char *serial, int64_t *user_id)
{
	struct db_value v = DB_V_TEXT(serial);
	struct account a;
	int64_t count = 0;
	int rc;

	rc = accounts_get_by_name(db, user, &a);
	if (rc != SONO_OK)
		return rc;
	rc = db_exec(db, "SELECT count(*) FROM scanners WHERE serial = ?", &v, 1, db_row_int, &count);
	if (rc == SONO_OK && count == 0)
		rc = SONO_ENOTFOUND;
	*user_id = a.id;
	return rc;
}

int scanners_grant(struct db *db, const char *user, const char *serial)
{
	int64_t user_id = 0, count = 0;
	int rc;

	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	rc = resolve(db, user, serial, &user_id);
	if (rc == SONO_OK) {
		struct db_value v[2] = { DB_V_INT(user_id), DB_V_TEXT(serial) };

		rc = db_exec(db, "SELECT count(*) FROM grants WHERE user_id = ? AND serial = ?",
			v, 2, db_row_int, &count);
		if (rc == SONO_OK && count == 0)
			rc = db_exec(db, "INSERT INTO grants (user_id, serial) VALUES (?, ?)", v, 2,
				NULL, NULL);
	}
	if (rc == SONO_OK)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

int scanners_revoke(struct db *db, const char *user, const char *serial)
{
	struct account a;
	int rc;

	rc = accounts_get_by_name(db, user, &a);
	if (rc == SONO_OK) {
		struct db_value v[2] = { DB_V_INT(a.id), DB_V_TEXT(serial) };

		rc = db_exec(db, "DELETE FROM grants WHERE user_id = ? AND serial = ?", v, 2,
			NULL, NULL);
		if (rc == SONO_OK && db_changes(db) == 0)
			rc = SONO_ENOTFOUND;
	}
	return rc;
}

static int scanner_cb(void *arg, const struct db_value *c, size_t n)
{
	json_t *list = arg;
	json_t *item;

	if (n != 3 || c[0].type != DB_TEXT || c[1].type != DB_TEXT || c[2].type != DB_TEXT)
		return SONO_EDB;
	item = json_pack("{s:s, s:s, s:s}", "serial", c[0].text, "model", c[1].text,
		"fingerprint", c[2].text);
	if (item == NULL || json_array_append_new(list, item) != 0)
		return SONO_ENOMEM;
	return 0;
}

int scanners_for_user(struct db *db, int64_t user_id, json_t **out)
{
	struct db_value v = DB_V_INT(user_id);
	json_t *list = json_array();
	int rc;

	*out = NULL;
	if (list == NULL)
		return SONO_ENOMEM;
	rc = db_exec(db, "SELECT s.serial, s.model, s.fingerprint FROM scanners s"
		" JOIN grants g ON g.serial = s.serial WHERE g.user_id = ? ORDER BY s.serial",
		&v, 1, scanner_cb, list);
	if (rc != SONO_OK) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return SONO_OK;
}
