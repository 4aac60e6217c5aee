/* Failure counters with a growing lock-out (see throttle.h). */
#include "config.h"

#include <string.h>

#include "cloud/accounts.h"
#include "cloud/throttle.h"
#include "sono/error.h"

#define WINDOW_SECONDS 3600

struct counter {
	int64_t failures;
	int64_t last_failure;
	int64_t locked_until;
	int found;
};

static int counter_cb(void *arg, const struct db_value *c, size_t n)
{
	struct counter *t = arg;

	if (n != 3)
		return SONO_EDB;
	t->failures = c[0].i;
	t->last_failure = c[1].i;
	t->locked_until = c[2].i;
	t->found = 1;
	return 1;
}

static int load(struct db *db, const char *key, struct counter *t)
{
	struct db_value v = DB_V_TEXT(key);

	memset(t, 0, sizeof(*t));
	return db_exec(db, "SELECT failures, last_failure, locked_until FROM throttle WHERE key = ?",
		&v, 1, counter_cb, t);
}

int throttle_check(struct db *db, const char *key, int64_t *locked_until)
{
	struct counter t;
	int rc = load(db, key, &t);

	*locked_until = 0;
	if (rc == SONO_OK && t.found && t.locked_until > db_now())
		*locked_until = t.locked_until;
	return rc;
}

static int64_t lock_seconds(int64_t failures, int free_failures)
{
	int64_t over = failures - free_failures;
	int64_t delay = ACCOUNTS_LOCK_BASE_SECONDS;

	if (over < 0)
		return 0;
	while (over-- > 0 && delay < ACCOUNTS_LOCK_MAX_SECONDS)
		delay *= 2;
	return delay < ACCOUNTS_LOCK_MAX_SECONDS ? delay : ACCOUNTS_LOCK_MAX_SECONDS;
}

static int store(struct db *db, const char *key, const struct counter *t)
{
	struct db_value v[4] = {
		DB_V_INT(t->failures), DB_V_INT(t->last_failure), DB_V_INT(t->locked_until),
		DB_V_TEXT(key),
	};

	if (t->found)
		return db_exec(db, "UPDATE throttle SET failures = ?, last_failure = ?,"
			" locked_until = ? WHERE key = ?", v, 4, NULL, NULL);
	return db_exec(db, "INSERT INTO throttle (failures, last_failure, locked_until, key)"
		" VALUES (?, ?, ?, ?)", v, 4, NULL, NULL);
}

/* Deletes counters whose failures are forgotten and whose lock has ended, so
 * guessing many different names does not grow the table without bound. */
static int forget_stale(struct db *db, int64_t now)
{
	struct db_value v[2] = { DB_V_INT(now - WINDOW_SECONDS), DB_V_INT(now) };

	return db_exec(db, "DELETE FROM throttle WHERE last_failure < ? AND locked_until < ?",
		v, 2, NULL, NULL);
}

int throttle_fail(struct db *db, const char *key, int free_failures, int64_t *locked_until)
{
	int64_t now = db_now(), delay;
	struct counter t;
	int rc;

	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	rc = load(db, key, &t);
	if (rc != SONO_OK)
		goto out;
	if (now - t.last_failure > WINDOW_SECONDS)
		t.failures = 0;
	t.failures++;
	t.last_failure = now;
	delay = lock_seconds(t.failures, free_failures);
	t.locked_until = delay > 0 ? now + delay : 0;
	rc = store(db, key, &t);
	if (rc == SONO_OK)
		rc = forget_stale(db, now);
out:
	if (rc == SONO_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (locked_until != NULL)
		*locked_until = rc == SONO_OK ? t.locked_until : 0;
	return rc;
}

int throttle_clear(struct db *db, const char *key)
{
	struct db_value v = DB_V_TEXT(key);

	return db_exec(db, "DELETE FROM throttle WHERE key = ?", &v, 1, NULL, NULL);
}
