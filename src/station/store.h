/* The station's encrypted store: one SQLCipher database that contains
 * patients, exams, stills and cines while they are on the station.
 *
 * The database is keyed with a random 256-bit data key, passed to SQLCipher
 * as a raw key so that SQLCipher's own KDF is skipped.  The key lives in a
 * key file beside the database, either as the 32 raw bytes (default) or
 * wrapped with a passphrase (PBKDF2-HMAC-SHA256 and AES-256-GCM).  Both files
 * are created with mode 0600.
 *
 * Every function returns 0 or a negative SONO_E* code; those that take an
 * err buffer write a sentence for the operator there.  A struct store is one
 * SQLite connection and must be used from one thread at a time. */
#ifndef STATION_STORE_H
#define STATION_STORE_H

#include <stddef.h>
#include <stdint.h>

#define SQLITE_HAS_CODEC 1
#include <sqlite3.h>

#define STORE_KEY_LEN 32
#define STORE_DB_NAME "sonoterm.db"
#define STORE_KEY_NAME "sonoterm.key"
/* PBKDF2 iterations for a new passphrase-wrapped key; existing key files keep
 * the count they were written with. */
#define STORE_PASSPHRASE_ITERATIONS 600000u

struct store;

struct store_options {
	const char *data_dir;   /* NULL: $XDG_DATA_HOME/sonoterm */
	const char *passphrase; /* NULL: the key file contains the raw key */
	size_t passphrase_len;
	int create;             /* non-zero: create database and key when missing */
};

/* Opens (and with opt->create, creates) the store in opt->data_dir.
 * Reads or creates the key file, opens the database, checks that the key
 * fits, then applies pending migrations.  Failures that leave the files as
 * they were: SONO_ENOTFOUND (no database and create not set), SONO_EAUTH
 * (wrong passphrase, a key that does not belong to the database, or a
 * missing key file beside an existing database),
 * SONO_EDB (the database or key file is damaged), SONO_EIO.
 * The caller closes *out with store_close(). */
int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen);

/* Opens the database at db_path with a key the caller holds.  Same checks
 * and returns as store_open; the key is not kept. */
int store_open_key(struct store **out, const char *db_path, const uint8_t key[STORE_KEY_LEN],
	int create, char *err, size_t errlen);

/* Closes the connection; accepts NULL. */
void store_close(struct store *s);

/* Writes the default data folder ($XDG_DATA_HOME/sonoterm) to out. */
int store_default_dir(char *out, size_t outlen);

/* Returns the connection for the modules built on the store (exam, patient). */
sqlite3 *store_db(struct store *s);

/* Transactions.  store_begin starts a write transaction at once
 * (BEGIN IMMEDIATE), so a busy database fails here and not halfway through.
 * Calls nest: inside a transaction store_begin opens a savepoint, so a
 * caller can make several exam operations one atomic unit.  store_rollback
 * undoes only the innermost level. */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* Rolls back the innermost level; safe to call when none is open. */
void store_rollback(struct store *s);

/* Runs one statement without results.  For fixed SQL only: never build sql
 * from input. */
int store_exec(struct store *s, const char *sql);

/* Prepares sql; on failure logs the SQLite message and returns SONO_EDB. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out);

/* A value to bind to a statement parameter.  Make one with STORE_INT,
 * STORE_DOUBLE, STORE_TEXT or STORE_BLOB.  Text and blobs are bound
 * without a copy (SQLITE_STATIC), so they must outlive the statement. */
struct store_param {
	enum { STORE_PARAM_INT, STORE_PARAM_DOUBLE, STORE_PARAM_TEXT, STORE_PARAM_BLOB } type;
	int64_t integer;
	double real;
	const char *text; /* NULL binds SQL NULL */
	const void *blob;
	size_t blob_len;
};

#define STORE_INT(v) ((struct store_param){ .type = STORE_PARAM_INT, .integer = (v) })
#define STORE_DOUBLE(v) ((struct store_param){ .type = STORE_PARAM_DOUBLE, .real = (v) })
#define STORE_TEXT(v) ((struct store_param){ .type = STORE_PARAM_TEXT, .text = (v) })
#define STORE_BLOB(v, len) \
	((struct store_param){ .type = STORE_PARAM_BLOB, .blob = (v), .blob_len = (len) })

/* The STORE_* arguments of a macro as an array and its length.  sizeof
 * does not evaluate its operand, so each argument runs once. */
#define STORE_PARAMS(...) (const struct store_param[]){ __VA_ARGS__ }, \
	sizeof((const struct store_param[]){ __VA_ARGS__ }) / sizeof(struct store_param)

/* Prepares sql as store_prepare() does and binds params[i] to parameter
 * i + 1.  STORE_PREPARE(s, &st, sql, STORE_INT(row), ...) passes the
 * parameters as arguments. */
int store_prepare_params(struct store *s, const char *sql, const struct store_param *params,
	size_t n, sqlite3_stmt **out);
#define STORE_PREPARE(s, out, sql, ...) \
	store_prepare_params((s), (sql), STORE_PARAMS(__VA_ARGS__), (out))

/* Prepares sql, binds params, steps it once and finalizes it: for a
 * statement that returns no rows.  Returns 0, or SONO_EDB after logging the
 * SQLite error with what failed.  STORE_RUN(s, what, sql, STORE_INT(row),
 * ...) passes the parameters as arguments. */
int store_run(struct store *s, const char *what, const char *sql,
	const struct store_param *params, size_t n);
#define STORE_RUN(s, what, sql, ...) store_run((s), (what), (sql), STORE_PARAMS(__VA_ARGS__))

/* Steps st, a statement that returns no rows, and finalizes it.  Returns 0,
 * or SONO_EDB after logging the SQLite error with what failed. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);

/* Copies text column col of the current row into out, cut to outlen - 1
 * bytes (only a database written by something else contains longer text).
 * SQL NULL becomes the empty string. */
void store_column_text(sqlite3_stmt *st, int col, char *out, size_t outlen);

/* Steps st to its first row.  Returns 0 with the row ready to read,
 * SONO_ENOTFOUND when there is no row, or SONO_EDB after logging the SQLite
 * error with what failed.  The caller finalizes st. */
int store_step_row(struct store *s, sqlite3_stmt *st, const char *what);

/* Writes the WAL back into the database and truncates the WAL to zero bytes,
 * so deleted pages no longer exist in the WAL file.  Returns SONO_EDB when a
 * reader kept the checkpoint from finishing. */
int store_checkpoint(struct store *s);

/* Runs PRAGMA integrity_check, which reads every page in use, so SQLCipher
 * also authenticates each of them (free pages are not read).  Returns 0
 * when the database is sound, otherwise SONO_EDB with the first problem in
 * err. */
int store_integrity_check(struct store *s, char *err, size_t errlen);

/* Returns the schema version the database is at. */
int store_schema_version(struct store *s, int *version);

/* Returns the schema version this build migrates to. */
int store_schema_latest(void);

/* Returns the database file's path. */
const char *store_path(const struct store *s);

/* Logs the SQLite error of the connection with what failed, and returns
 * SONO_EDB.  For the modules built on the store. */
int store_fail(struct store *s, const char *what);

/* One migration: the SQL that takes the schema from version - 1 to version.
 * The table lives in store_schema.c. */
struct store_migration {
	int version;
	const char *sql;
};

extern const struct store_migration store_migrations[];

#endif
