/* The SQLCipher backend of the storage interface.
 *
 * One connection per data folder, shared by all threads behind a recursive
 * mutex (see db.h).  The database is opened with a raw 256-bit key
 * (PRAGMA key = "x'<hex>'"), which skips SQLCipher's own key derivation.
 * cipher_page_size and kdf_iter are set explicitly to SQLCipher 3's
 * defaults, so SQLCipher 4 can open the file with the same PRAGMAs plus
 * cipher_hmac_algorithm = HMAC_SHA1 and cipher_kdf_algorithm =
 * PBKDF2_HMAC_SHA1 (the 3.x defaults).  The journal is WAL and
 * secure_delete overwrites freed pages, so deleted rows do not linger. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cloud/db.h"
#include "sono/config.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define KEY_LEN 32
#define BUSY_TIMEOUT_MS 5000
/* Buffer size of the database and key file paths. */
#define DATA_PATH_MAX 4096

struct db_sqlcipher {
	struct db base; /* first, so a struct db * converts back */
	sqlite3 *conn;
	pthread_mutex_t lock; /* recursive */
};

/* Per-thread state, valid while that thread holds the lock. */
static _Thread_local int64_t thread_changes;
static _Thread_local int thread_in_txn;

/* Each entry moves the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT NOT NULL,"
	" role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
	" pw_iterations INTEGER, pw_salt BLOB, pw_hash BLOB,"
	" created_at INTEGER NOT NULL, password_changed_at INTEGER);"
	"CREATE TABLE throttle ("
	" key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
	" last_failure INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
	" user_id INTEGER NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL, idle_seconds INTEGER NOT NULL,"
	" absolute_expiry INTEGER NOT NULL, revoked_at INTEGER);"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE resets ("
	" id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
	" user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER);"
	"CREATE INDEX resets_user ON resets(user_id);"
	"CREATE TABLE exams ("
	" id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" owner_id INTEGER NOT NULL REFERENCES users(id), phi TEXT,"
	" state TEXT NOT NULL, created_at INTEGER NOT NULL, committed_at INTEGER,"
	" receipt_id TEXT);"
	"CREATE INDEX exams_owner ON exams(owner_id);"
	"CREATE TABLE exam_parts ("
	" exam_id INTEGER NOT NULL REFERENCES exams(id), n INTEGER NOT NULL,"
	" size INTEGER NOT NULL, sha256 BLOB NOT NULL, codec TEXT NOT NULL,"
	" body BLOB NOT NULL, stored_at INTEGER NOT NULL, PRIMARY KEY (exam_id, n));"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,"
	" action TEXT NOT NULL, target TEXT NOT NULL, address TEXT NOT NULL,"
	" outcome TEXT NOT NULL);"
	"CREATE INDEX audit_time ON audit(time);"
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE scanners ("
	" serial TEXT PRIMARY KEY, model TEXT NOT NULL, fingerprint TEXT NOT NULL,"
	" added_at INTEGER NOT NULL);"
	"CREATE TABLE grants ("
	" user_id INTEGER NOT NULL REFERENCES users(id),"
	" serial TEXT NOT NULL REFERENCES scanners(serial), PRIMARY KEY (user_id, serial));",
};

#define SCHEMA_VERSION ((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

static struct db_sqlcipher *from_db(struct db *db)
{
	return (struct db_sqlcipher *)db;
}

static int map_rc(sqlite3 *conn, int rc, const char *sql)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return SONO_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return SONO_ESTATE;
	LOG_ERROR("sqlite error %d (%s) in statement: %.60s", rc, sqlite3_errmsg(conn), sql);
	return SONO_EDB;
}

static int bind_params(sqlite3_stmt *st, const struct db_value *params, size_t nparams)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < nparams && rc == SQLITE_OK; i++) {
		int at = (int)i + 1;

		switch (params[i].type) {
		case DB_NULL:
			rc = sqlite3_bind_null(st, at);
			break;
		case DB_INT:
			rc = sqlite3_bind_int64(st, at, params[i].i);
			break;
		case DB_TEXT:
			rc = sqlite3_bind_text(st, at, params[i].text, -1, SQLITE_STATIC);
			break;
		case DB_BLOB:
			rc = sqlite3_bind_blob64(st, at, params[i].blob ? params[i].blob : "",
				params[i].len, SQLITE_STATIC);
			break;
		}
	}
	return rc;
}

/* Converts the current row into cols (at most ncap columns). */
static size_t fetch_row(sqlite3_stmt *st, struct db_value *cols, size_t ncap)
{
	size_t n = (size_t)sqlite3_column_count(st);
	size_t i;

	if (n > ncap)
		n = ncap;
	for (i = 0; i < n; i++) {
		int c = (int)i;

		memset(&cols[i], 0, sizeof(cols[i]));
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER:
			cols[i].type = DB_INT;
			cols[i].i = sqlite3_column_int64(st, c);
			break;
		case SQLITE_TEXT:
			cols[i].type = DB_TEXT;
			cols[i].text = (const char *)sqlite3_column_text(st, c);
			cols[i].len = (size_t)sqlite3_column_bytes(st, c);
			break;
		case SQLITE_BLOB:
			cols[i].type = DB_BLOB;
			cols[i].blob = sqlite3_column_blob(st, c);
			cols[i].len = (size_t)sqlite3_column_bytes(st, c);
			break;
		default:
			cols[i].type = DB_NULL;
			break;
		}
	}
	return n;
}

#define MAX_COLUMNS 32

static int step_all(sqlite3 *conn, sqlite3_stmt *st, const char *sql, db_row_fn fn, void *arg)
{
	struct db_value cols[MAX_COLUMNS];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int cb;

		if (fn == NULL)
			continue;
		cb = fn(arg, cols, fetch_row(st, cols, MAX_COLUMNS));
		if (cb < 0)
			return cb;
		if (cb > 0)
			return SONO_OK;
	}
	return map_rc(conn, rc, sql);
}

static int sc_exec(struct db *db, const char *sql, const struct db_value *params,
	size_t nparams, db_row_fn fn, void *arg)
{
	struct db_sqlcipher *d = from_db(db);
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = sqlite3_prepare_v2(d->conn, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = map_rc(d->conn, rc, sql);
		goto out;
	}
	rc = bind_params(st, params, nparams);
	if (rc != SQLITE_OK) {
		rc = map_rc(d->conn, rc, sql);
		goto out;
	}
	rc = step_all(d->conn, st, sql, fn, arg);
	/* sqlite3_changes() keeps the count of the connection's last write, which
	 * may be another thread's, so a read-only statement reports 0. */
	thread_changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes(d->conn);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int exec_plain(struct db_sqlcipher *d, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(d->conn, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		LOG_ERROR("sqlite error %d (%s) in: %.60s", rc, msg ? msg : "?", sql);
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_NOTADB ? SONO_EAUTH : SONO_EDB;
	}
	return SONO_OK;
}

static int sc_begin(struct db *db)
{
	struct db_sqlcipher *d = from_db(db);
	int rc;

	pthread_mutex_lock(&d->lock);
	if (thread_in_txn) {
		pthread_mutex_unlock(&d->lock);
		LOG_ERROR("nested transaction");
		return SONO_ESTATE;
	}
	rc = exec_plain(d, "BEGIN IMMEDIATE");
	if (rc != SONO_OK) {
		pthread_mutex_unlock(&d->lock);
		return rc;
	}
	thread_in_txn = 1;
	return SONO_OK;
}

static int end_txn(struct db *db, const char *sql)
{
	struct db_sqlcipher *d = from_db(db);
	int rc;

	if (!thread_in_txn)
		return SONO_OK;
	rc = exec_plain(d, sql);
	if (rc != SONO_OK && sqlite3_get_autocommit(d->conn) == 0)
		exec_plain(d, "ROLLBACK");
	thread_in_txn = 0;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int sc_commit(struct db *db)
{
	return end_txn(db, "COMMIT");
}

static int sc_rollback(struct db *db)
{
	return end_txn(db, "ROLLBACK");
}

static int64_t sc_changes(struct db *db)
{
	(void)db;
	return thread_changes;
}

static void sc_close(struct db *db)
{
	struct db_sqlcipher *d = from_db(db);

	sqlite3_close_v2(d->conn);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct db_ops sqlcipher_ops = {
	.name = "sqlcipher",
	.exec = sc_exec,
	.begin = sc_begin,
	.commit = sc_commit,
	.rollback = sc_rollback,
	.changes = sc_changes,
	.close = sc_close,
};

static int join_path(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= outlen) ? SONO_ETOOBIG : SONO_OK;
}

/* Reads the 64 hex digits of the key file into key.  The file must be a
 * regular file that only its owner can read or write. */
static int read_key_file(const char *path, uint8_t key[KEY_LEN], char *err, size_t errlen)
{
	char text[2 * KEY_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, rc = SONO_OK;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "key file %s must be a regular file with mode 0600", path);
		rc = SONO_EAUTH;
		goto out;
	}
	n = read(fd, text, sizeof(text));
	if (n < 2 * KEY_LEN || (n > 2 * KEY_LEN && text[2 * KEY_LEN] != '\n')) {
		snprintf(err, errlen, "key file %s must hold 64 hex digits", path);
		rc = SONO_EINVAL;
		goto out;
	}
	text[2 * KEY_LEN] = '\0';
	if (crypto_unhex(text, key, KEY_LEN) != SONO_OK) {
		snprintf(err, errlen, "key file %s must hold 64 hex digits", path);
		rc = SONO_EINVAL;
	}
out:
	crypto_wipe(text, sizeof(text));
	close(fd);
	return rc;
}

static int write_key_file(const char *path, const uint8_t key[KEY_LEN], char *err, size_t errlen)
{
	char text[2 * KEY_LEN + 2];
	size_t len = 2 * KEY_LEN + 1;
	int fd, rc = SONO_OK;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		return errno == EEXIST ? SONO_ESTATE : SONO_EIO;
	}
	crypto_hex(key, KEY_LEN, text);
	text[2 * KEY_LEN] = '\n';
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write key file %s: %s", path, strerror(errno));
		rc = SONO_EIO;
	}
	crypto_wipe(text, sizeof(text));
	close(fd);
	return rc;
}

/* Applies the key and the cipher and journal settings, then proves the key
 * by reading the schema. */
static int apply_key(struct db_sqlcipher *d, const uint8_t key[KEY_LEN], char *err, size_t errlen)
{
	char hex[2 * KEY_LEN + 1];
	char pragma[2 * KEY_LEN + 32];
	int rc;

	crypto_hex(key, KEY_LEN, hex);
	snprintf(pragma, sizeof(pragma), "PRAGMA key = \"x'%s'\"", hex);
	rc = exec_plain(d, pragma);
	crypto_wipe(hex, sizeof(hex));
	crypto_wipe(pragma, sizeof(pragma));
	if (rc == SONO_OK)
		rc = exec_plain(d, "PRAGMA cipher_page_size = 4096; PRAGMA kdf_iter = 64000;");
	if (rc == SONO_OK)
		rc = exec_plain(d, "SELECT count(*) FROM sqlite_master");
	if (rc != SONO_OK) {
		snprintf(err, errlen, "the key file does not open the database (wrong key or not a Sonoterm database)");
		return SONO_EAUTH;
	}
	rc = exec_plain(d, "PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON;"
		" PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
	if (rc != SONO_OK)
		snprintf(err, errlen, "cannot set the journal mode: %s", sqlite3_errmsg(d->conn));
	return rc;
}

static int read_version(struct db *db, int64_t *version)
{
	int64_t exists = 0;
	int rc;

	rc = db_exec(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
		NULL, 0, db_row_int, &exists);
	*version = 0;
	if (rc != SONO_OK || exists == 0)
		return rc;
	return db_exec(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
		NULL, 0, db_row_int, version);
}

/* Brings the schema to SCHEMA_VERSION, one transaction per step.  A file
 * from a newer program is rejected rather than guessed at. */
static int migrate(struct db_sqlcipher *d, char *err, size_t errlen)
{
	struct db *db = &d->base;
	int64_t version;
	int rc;

	rc = read_version(db, &version);
	if (rc != SONO_OK) {
		snprintf(err, errlen, "cannot read the schema version");
		return rc;
	}
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %lld is newer than this program's %lld",
			(long long)version, (long long)SCHEMA_VERSION);
		return SONO_EUNSUPPORTED;
	}
	for (; version < SCHEMA_VERSION; version++) {
		struct db_value v = DB_V_INT(version + 1);

		rc = db_begin(db);
		if (rc == SONO_OK)
			rc = exec_plain(d, migrations[version]);
		if (rc == SONO_OK)
			rc = db_exec(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'",
				&v, 1, NULL, NULL);
		if (rc == SONO_OK && db_changes(db) == 0)
			rc = db_exec(db, "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
				&v, 1, NULL, NULL);
		if (rc == SONO_OK)
			rc = db_commit(db);
		if (rc != SONO_OK) {
			db_rollback(db);
			snprintf(err, errlen, "schema migration to version %lld failed", (long long)version + 1);
			return rc;
		}
		LOG_INFO("database schema migrated to version %lld", (long long)version + 1);
	}
	return SONO_OK;
}

static int open_conn(struct db_sqlcipher **out, const char *db_path, int flags,
	const uint8_t key[KEY_LEN], char *err, size_t errlen)
{
	struct db_sqlcipher *d;
	pthread_mutexattr_t attr;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return SONO_ENOMEM;
	d->base.ops = &sqlcipher_ops;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&d->lock, &attr);
	pthread_mutexattr_destroy(&attr);

	rc = sqlite3_open_v2(db_path, &d->conn, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", db_path,
			d->conn ? sqlite3_errmsg(d->conn) : "out of memory");
		rc = SONO_EDB;
		goto fail;
	}
	sqlite3_busy_timeout(d->conn, BUSY_TIMEOUT_MS);
	rc = apply_key(d, key, err, errlen);
	if (rc == SONO_OK)
		rc = migrate(d, err, errlen);
	if (rc != SONO_OK)
		goto fail;
	*out = d;
	return SONO_OK;
fail:
	sc_close(&d->base);
	return rc;
}

/* Writes the paths of the database and its key file in data_dir.
 * Returns 0, or SONO_ETOOBIG with the reason in err. */
static int data_paths(const char *data_dir, char db_path[DATA_PATH_MAX],
	char key_path[DATA_PATH_MAX], char *err, size_t errlen)
{
	if (join_path(db_path, DATA_PATH_MAX, data_dir, DB_FILE_NAME) != SONO_OK
	    || join_path(key_path, DATA_PATH_MAX, data_dir, DB_KEY_FILE_NAME) != SONO_OK) {
		snprintf(err, errlen, "data folder path is too long");
		return SONO_ETOOBIG;
	}
	return SONO_OK;
}

int db_open(struct db **out, const char *data_dir, char *err, size_t errlen)
{
	char db_path[DATA_PATH_MAX], key_path[DATA_PATH_MAX];
	uint8_t key[KEY_LEN];
	struct db_sqlcipher *d = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	rc = data_paths(data_dir, db_path, key_path, err, errlen);
	if (rc != SONO_OK)
		return rc;
	if (stat(db_path, &st) != 0) {
		snprintf(err, errlen, "no database at %s; run sonocloud init --data-dir %s first",
			db_path, data_dir);
		return SONO_ENOTFOUND;
	}
	rc = read_key_file(key_path, key, err, errlen);
	if (rc == SONO_OK)
		rc = open_conn(&d, db_path, SQLITE_OPEN_READWRITE, key, err, errlen);
	crypto_wipe(key, sizeof(key));
	if (rc == SONO_OK)
		*out = &d->base;
	return rc;
}

/* Creates the database file with mode 0600 before SQLite opens it, because
 * SQLite gives its -wal and -shm files the database file's mode. */
static int create_empty(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return errno == EEXIST ? SONO_ESTATE : SONO_EIO;
	}
	close(fd);
	return SONO_OK;
}

int db_create(const char *data_dir, char *err, size_t errlen)
{
	char db_path[DATA_PATH_MAX], key_path[DATA_PATH_MAX];
	uint8_t key[KEY_LEN];
	struct db_sqlcipher *d = NULL;
	struct stat st;
	int rc;

	rc = data_paths(data_dir, db_path, key_path, err, errlen);
	if (rc != SONO_OK)
		return rc;
	if (config_mkdirs(data_dir, 0700) != SONO_OK) {
		snprintf(err, errlen, "cannot create data folder %s: %s", data_dir, strerror(errno));
		return SONO_EIO;
	}
	if (stat(db_path, &st) == 0) {
		snprintf(err, errlen, "%s already exists; init never overwrites a database", db_path);
		return SONO_ESTATE;
	}
	rc = crypto_random(key, sizeof(key));
	if (rc == SONO_OK)
		rc = write_key_file(key_path, key, err, errlen);
	if (rc != SONO_OK)
		goto out;
	rc = create_empty(db_path, err, errlen);
	if (rc == SONO_OK)
		rc = open_conn(&d, db_path, SQLITE_OPEN_READWRITE, key, err, errlen);
	if (rc != SONO_OK) {
		unlink(db_path);
		unlink(key_path);
		goto out;
	}
	sc_close(&d->base);
	LOG_INFO("created database %s", db_path);
out:
	crypto_wipe(key, sizeof(key));
	return rc;
}
