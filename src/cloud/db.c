/* The storage interface's dispatch and the row helpers shared by every
 * backend; the backends live in db_<name>.c. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cloud/db.h"
#include "sono/error.h"

static int64_t (*clock_override)(void);

int db_exec(struct db *db, const char *sql, const struct db_value *params,
	size_t nparams, db_row_fn fn, void *arg)
{
	return db->ops->exec(db, sql, params, nparams, fn, arg);
}

int db_begin(struct db *db)
{
	return db->ops->begin(db);
}

int db_commit(struct db *db)
{
	return db->ops->commit(db);
}

int db_rollback(struct db *db)
{
	return db->ops->rollback(db);
}

int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}

void db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

int db_row_int(void *arg, const struct db_value *cols, size_t ncols)
{
	int64_t *out = arg;

	if (ncols < 1 || cols[0].type != DB_INT)
		return SONO_EDB;
	*out = cols[0].i;
	return 1;
}

int db_row_text(void *arg, const struct db_value *cols, size_t ncols)
{
	struct db_text_out *out = arg;

	if (ncols < 1)
		return SONO_EDB;
	out->found = 1;
	if (cols[0].type != DB_TEXT) {
		if (out->size > 0)
			out->buf[0] = '\0';
		return 1;
	}
	if (cols[0].len >= out->size)
		return SONO_ETOOBIG;
	memcpy(out->buf, cols[0].text, cols[0].len);
	out->buf[cols[0].len] = '\0';
	return 1;
}

int db_meta_get(struct db *db, const char *key, char *buf, size_t size)
{
	struct db_text_out out = { buf, size, 0 };
	struct db_value v = DB_V_TEXT(key);
	int rc;

	rc = db_exec(db, "SELECT value FROM meta WHERE key = ?", &v, 1, db_row_text, &out);
	if (rc == SONO_OK && !out.found)
		rc = SONO_ENOTFOUND;
	return rc;
}

int db_meta_set(struct db *db, const char *key, const char *value)
{
	struct db_value v[2] = { DB_V_TEXT(value), DB_V_TEXT(key) };
	int rc;

	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	rc = db_exec(db, "UPDATE meta SET value = ? WHERE key = ?", v, 2, NULL, NULL);
	if (rc == SONO_OK && db_changes(db) == 0)
		rc = db_exec(db, "INSERT INTO meta (value, key) VALUES (?, ?)", v, 2, NULL, NULL);
	if (rc == SONO_OK)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

int64_t db_now(void)
{
	if (clock_override != NULL)
		return clock_override();
	return (int64_t)time(NULL);
}

void db_set_clock(int64_t (*clock_fn)(void))
{
	clock_override = clock_fn;
}
