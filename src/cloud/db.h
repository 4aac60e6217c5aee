/* The cloud's storage interface.
 *
 * Every other cloud module reaches storage through the few operations below:
 * run one SQL statement with bound parameters and a row callback, and group
 * statements into a transaction.  struct db_ops is the backend's table; the
 * only backend today is SQLCipher (db_sqlcipher.c), and a PostgreSQL backend
 * would implement the same table.  The SQL the modules send sticks to what
 * both engines accept: "?" placeholders and INTEGER/TEXT/BLOB columns (a
 * PostgreSQL backend rewrites "?" to "$n" and BLOB to BYTEA).  SQLCipher 3.4
 * is built on SQLite 3.15, which has no upsert, so an upsert is an UPDATE
 * followed, when db_changes() is 0, by an INSERT in the same transaction.
 *
 * Thread safety: one struct db may be shared by all worker threads.  The
 * SQLCipher backend serialises statements on one connection with a recursive
 * mutex.  db_begin() keeps that mutex locked until db_commit() or
 * db_rollback(), so a transaction's statements never interleave with another
 * thread's.  Never do slow work (PBKDF2, network I/O) between db_begin() and
 * its end.
 *
 * Files in a data folder: sonocloud.db (the encrypted database) and
 * sonocloud.key (64 hex digits of the raw 256-bit key, mode 0600). */
#ifndef CLOUD_DB_H
#define CLOUD_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_FILE_NAME "sonocloud.db"
#define DB_KEY_FILE_NAME "sonocloud.key"

enum db_type {
	DB_NULL,
	DB_INT,
	DB_TEXT,
	DB_BLOB,
};

/* A bound parameter or a result column.  In a row callback, text and blob
 * point into the backend's row buffer and are valid only during the call. */
struct db_value {
	enum db_type type;
	int64_t i;
	const char *text;
	const void *blob;
	size_t len; /* bytes of blob, or of text without its NUL */
};

#define DB_V_NULL ((struct db_value){ .type = DB_NULL })
#define DB_V_INT(v) ((struct db_value){ .type = DB_INT, .i = (v) })
/* A NULL string binds SQL NULL. */
static inline struct db_value db_v_text(const char *s)
{
	struct db_value v = { .type = s ? DB_TEXT : DB_NULL, .text = s };

	return v;
}
#define DB_V_TEXT(s) db_v_text(s)
#define DB_V_BLOB(p, n) ((struct db_value){ .type = DB_BLOB, .blob = (p), .len = (n) })

/* Called once per result row.  Return 0 to continue, 1 to stop early without
 * an error, or a negative SONO_E* code to stop and make db_exec return it. */
typedef int (*db_row_fn)(void *arg, const struct db_value *cols, size_t ncols);

struct db;

struct db_ops {
	const char *name;
	int (*exec)(struct db *db, const char *sql, const struct db_value *params,
		size_t nparams, db_row_fn fn, void *arg);
	int (*begin)(struct db *db);
	int (*commit)(struct db *db);
	int (*rollback)(struct db *db);
	/* Rows changed by this thread's last statement (0 after a SELECT). */
	int64_t (*changes)(struct db *db);
	void (*close)(struct db *db);
};

/* Every backend's handle starts with this header. */
struct db {
	const struct db_ops *ops;
};

/* Creates DIR/sonocloud.db and DIR/sonocloud.key (mode 0600, DIR 0700) with
 * a fresh random key and the current schema.  Returns SONO_ESTATE when
 * either file already exists, else 0 or a negative SONO_E* code; err names
 * the failing file and call. */
int db_create(const char *data_dir, char *err, size_t errlen);

/* Opens an existing data folder, checks the key file's mode (not readable by
 * group or others), and migrates the schema to the current version.
 * The caller closes *out with db_close().  Returns 0, SONO_ENOTFOUND when
 * the files are missing, SONO_EAUTH when the key does not open the
 * database, or another negative SONO_E* code; err describes the failure. */
int db_open(struct db **out, const char *data_dir, char *err, size_t errlen);

/* Runs one statement.  fn (may be NULL) is called for each result row.  Returns 0,
 * SONO_ESTATE when a UNIQUE or PRIMARY KEY constraint fails, the callback's
 * negative code, or SONO_EDB. */
int db_exec(struct db *db, const char *sql, const struct db_value *params,
	size_t nparams, db_row_fn fn, void *arg);

/* Starts a write transaction.  Other threads wait until the calling thread
 * calls db_commit() or db_rollback(). */
int db_begin(struct db *db);
int db_commit(struct db *db);
/* Always releases the transaction; returns 0 or SONO_EDB. */
int db_rollback(struct db *db);

int64_t db_changes(struct db *db);

/* Closes the handle; accepts NULL.  The handle keeps no copy of the key
 * (db_open wipes its copy once SQLCipher has it). */
void db_close(struct db *db);

/* Row callback helpers for the common single-value query: the first column
 * of the first row goes to *(int64_t *)arg or to a struct db_text_out. */
int db_row_int(void *arg, const struct db_value *cols, size_t ncols);

struct db_text_out {
	char *buf;
	size_t size;
	int found; /* set to 1 when a row was seen */
};
/* Copies a TEXT first column; a value that does not fit returns SONO_ETOOBIG. */
int db_row_text(void *arg, const struct db_value *cols, size_t ncols);

/* Reads and writes the meta table of small named values (schema_version,
 * hostname).  db_meta_get returns 0, SONO_ENOTFOUND, or SONO_ETOOBIG when
 * the value does not fit in size bytes. */
int db_meta_get(struct db *db, const char *key, char *buf, size_t size);
int db_meta_set(struct db *db, const char *key, const char *value);

/* Returns the current time in seconds since the epoch; tests override it
 * with db_set_clock() to exercise expiry without sleeping. */
int64_t db_now(void);
void db_set_clock(int64_t (*clock_fn)(void));

#endif
