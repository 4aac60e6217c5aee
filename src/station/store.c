/* The station's SQLCipher store: opening with a raw key, telling a wrong key
 * from a damaged file, migrations, transactions, checkpoints and the
 * integrity check. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sono/config.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/store.h"
#include "station/store_key.h"

/* SQLCipher page layout (3.x with HMAC, the settings below): page 1 starts
 * with a 16-byte plaintext salt, and every page ends in a 48-byte reserve
 * whose first 16 bytes are the AES-256-CBC IV of that page. */
#define CIPHER_PAGE_SIZE 4096
#define CIPHER_SALT_LEN 16
#define CIPHER_RESERVE 48
#define BUSY_TIMEOUT_MS 5000

struct store {
	sqlite3 *db;
	int depth; /* open store_begin() calls: 1 is the transaction, more are savepoints */
	char path[4096];
};

int store_default_dir(char *out, size_t outlen)
{
	return config_xdg_dir("DATA", "sonoterm", out, outlen);
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

const char *store_path(const struct store *s)
{
	return s->path;
}

int store_fail(struct store *s, const char *what)
{
	LOG_ERROR("%s failed on %s: %s (SQLite code %d)", what, s->path, sqlite3_errmsg(s->db),
		sqlite3_extended_errcode(s->db));
	return SONO_EDB;
}

/* Returns SONO_EDB, after logging, when store_begin() opened a transaction
 * that SQLite has since rolled back on its own: it does so after some errors
 * such as SQLITE_FULL, even inside a savepoint.  Running sql then would
 * commit it by itself, outside the transaction the caller still believes
 * open, so nothing runs until the caller has rolled back every level. */
static int check_transaction(struct store *s, const char *sql)
{
	if (s->depth == 0 || !sqlite3_get_autocommit(s->db))
		return SONO_OK;
	LOG_ERROR("not running \"%.40s\" on %s: SQLite rolled back the transaction after an "
		"earlier error", sql, s->path);
	return SONO_EDB;
}

int store_exec(struct store *s, const char *sql)
{
	if (check_transaction(s, sql) != SONO_OK)
		return SONO_EDB;
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, sql);
	return SONO_OK;
}

int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	if (check_transaction(s, sql) != SONO_OK)
		return SONO_EDB;
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return store_fail(s, "prepare");
	}
	return SONO_OK;
}

int store_prepare_params(struct store *s, const char *sql, const struct store_param *params,
	size_t n, sqlite3_stmt **out)
{
	int rc = store_prepare(s, sql, out);
	size_t i;

	for (i = 0; rc == SONO_OK && i < n; i++) {
		const struct store_param *p = &params[i];
		int col = (int)i + 1;

		switch (p->type) {
		case STORE_PARAM_INT:
			sqlite3_bind_int64(*out, col, p->integer);
			break;
		case STORE_PARAM_DOUBLE:
			sqlite3_bind_double(*out, col, p->real);
			break;
		case STORE_PARAM_TEXT:
			sqlite3_bind_text(*out, col, p->text, -1, SQLITE_STATIC);
			break;
		case STORE_PARAM_BLOB:
			sqlite3_bind_blob(*out, col, p->blob, (int)p->blob_len, SQLITE_STATIC);
			break;
		}
	}
	return rc;
}

int store_run(struct store *s, const char *what, const char *sql,
	const struct store_param *params, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc = store_prepare_params(s, sql, params, n, &st);

	if (rc != SONO_OK)
		return rc;
	return store_step_done(s, st, what);
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = SONO_OK;

	/* store_fail() reads the error before finalizing can replace it. */
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(s, what);
	sqlite3_finalize(st);
	return rc;
}

int store_step_row(struct store *s, sqlite3_stmt *st, const char *what)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return SONO_OK;
	case SQLITE_DONE:
		return SONO_ENOTFOUND;
	default:
		return store_fail(s, what);
	}
}

void store_column_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *text = sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", text ? (const char *)text : "");
}

int store_begin(struct store *s)
{
	char sql[48];
	int rc;

	if (s->depth == 0) {
		rc = store_exec(s, "BEGIN IMMEDIATE");
	} else {
		snprintf(sql, sizeof(sql), "SAVEPOINT store_%d", s->depth);
		rc = store_exec(s, sql);
	}
	if (rc == 0)
		s->depth++;
	return rc;
}

int store_commit(struct store *s)
{
	char sql[48];
	int rc;

	if (s->depth <= 1) {
		rc = store_exec(s, "COMMIT");
		if (rc == 0)
			s->depth = 0;
		return rc;
	}
	snprintf(sql, sizeof(sql), "RELEASE store_%d", s->depth - 1);
	rc = store_exec(s, sql);
	if (rc == 0)
		s->depth--;
	return rc;
}

void store_rollback(struct store *s)
{
	char sql[96];

	if (sqlite3_get_autocommit(s->db)) {
		/* No transaction is active, either none was opened or SQLite
		 * already rolled it back, so only the level count unwinds. */
		if (s->depth > 0)
			s->depth--;
		return;
	}
	if (s->depth > 1) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO store_%d; RELEASE store_%d", s->depth - 1,
			s->depth - 1);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			LOG_WARN("rollback to a savepoint failed on %s: %s", s->path, sqlite3_errmsg(s->db));
		s->depth--;
		return;
	}
	if (sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		LOG_WARN("rollback failed on %s: %s", s->path, sqlite3_errmsg(s->db));
	s->depth = 0;
}

int store_checkpoint(struct store *s)
{
	int log_frames = 0;
	int done_frames = 0;
	int rc;

	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
		&done_frames);
	if (rc != SQLITE_OK)
		return store_fail(s, "WAL checkpoint (TRUNCATE)");
	return SONO_OK;
}

/* Decrypts the first encrypted block of page 1 with key and checks it against
 * the fixed part of the SQLite header (page size 4096, file format versions,
 * 48 reserved bytes, payload fractions 64/32/32).  Returns 1 when the key
 * fits, 0 when it does not, and a negative code when the file is shorter than
 * one page.  SQLCipher reports a wrong key and a damaged page with the same
 * error, and this check distinguishes them. */
static int header_key_matches(const char *path, const uint8_t key[STORE_KEY_LEN])
{
	uint8_t page[CIPHER_PAGE_SIZE];
	uint8_t plain[32];
	EVP_CIPHER_CTX *ctx = NULL;
	FILE *f;
	int outlen = 0;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f)
		return SONO_EIO;
	if (fread(page, 1, sizeof(page), f) != sizeof(page)) {
		fclose(f);
		return SONO_EDB;
	}
	fclose(f);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key,
			page + CIPHER_PAGE_SIZE - CIPHER_RESERVE) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &outlen, page + CIPHER_SALT_LEN, 16) != 1 ||
	    outlen != 16) {
		rc = SONO_ECRYPTO;
		goto out;
	}
	rc = plain[0] == 0x10 && plain[1] == 0x00 && (plain[2] == 1 || plain[2] == 2) &&
		(plain[3] == 1 || plain[3] == 2) && plain[4] == CIPHER_RESERVE &&
		plain[5] == 64 && plain[6] == 32 && plain[7] == 32;
out:
	EVP_CIPHER_CTX_free(ctx);
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

/* Hands the raw key to SQLCipher as the blob literal x'<64 hex>' (the same
 * text PRAGMA key takes), built from the key bytes and their length so a zero
 * byte in the key is kept, then sets the cipher parameters explicitly so a
 * later SQLCipher major version opens the file with the same settings. */
static int apply_key(struct store *s, const uint8_t key[STORE_KEY_LEN])
{
	char literal[2 * STORE_KEY_LEN + 4];
	int rc = SONO_OK;

	literal[0] = 'x';
	literal[1] = '\'';
	crypto_hex(key, STORE_KEY_LEN, literal + 2);
	literal[2 + 2 * STORE_KEY_LEN] = '\'';
	literal[3 + 2 * STORE_KEY_LEN] = '\0';
	if (sqlite3_key(s->db, literal, 3 + 2 * STORE_KEY_LEN) != SQLITE_OK)
		rc = store_fail(s, "sqlite3_key");
	crypto_wipe(literal, sizeof(literal));
	if (rc == 0)
		rc = store_exec(s, "PRAGMA cipher_page_size = 4096");
	if (rc == 0)
		rc = store_exec(s, "PRAGMA kdf_iter = 64000");
	return rc;
}

/* Reads the schema to prove the key.  On failure writes whether the key is
 * wrong or the file damaged; nothing has been written to the file. */
static int check_key(struct store *s, const uint8_t key[STORE_KEY_LEN], char *err, size_t errlen)
{
	int match;

	if (sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) == SQLITE_OK)
		return SONO_OK;

	if (sqlite3_errcode(s->db) != SQLITE_NOTADB && sqlite3_errcode(s->db) != SQLITE_CORRUPT) {
		snprintf(err, errlen, "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
		return SONO_EDB;
	}
	match = header_key_matches(s->path, key);
	if (match < 0) {
		snprintf(err, errlen, "%s is damaged: it is shorter than one %d-byte page or cannot "
			"be read; restore it from a backup or move it aside", s->path, CIPHER_PAGE_SIZE);
		return SONO_EDB;
	}
	if (match == 0) {
		snprintf(err, errlen, "wrong key for %s: the key file does not belong to this "
			"database (or the wrong passphrase was given)", s->path);
		return SONO_EAUTH;
	}
	snprintf(err, errlen, "%s is damaged: the key is right but page authentication failed; "
		"restore it from a backup or move it aside", s->path);
	return SONO_EDB;
}

static int set_mode_0600(const char *db_path)
{
	char other[4096 + 8];
	const char *suffixes[] = { "", "-wal", "-shm" };
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(other, sizeof(other), "%s%s", db_path, suffixes[i]);
		if (chmod(other, 0600) != 0 && errno != ENOENT) {
			LOG_ERROR("chmod 600 %s failed: %s", other, strerror(errno));
			return SONO_EIO;
		}
	}
	return SONO_OK;
}

static int configure_connection(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_exec(s, "PRAGMA secure_delete = ON");
	if (rc == 0)
		rc = store_exec(s, "PRAGMA foreign_keys = ON");
	if (rc == 0)
		rc = store_exec(s, "PRAGMA synchronous = FULL");
	if (rc == 0)
		rc = store_prepare(s, "PRAGMA journal_mode = WAL", &st);
	if (rc == 0 && (sqlite3_step(st) != SQLITE_ROW ||
			strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0))
		rc = store_fail(s, "switching to WAL mode");
	sqlite3_finalize(st);
	return rc;
}

int store_schema_version(struct store *s, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*version = 0;
	rc = store_exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (rc == 0)
		rc = store_prepare(s, "SELECT max(version) FROM schema_version", &st);
	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

int store_schema_latest(void)
{
	int latest = 0;
	const struct store_migration *m;

	for (m = store_migrations; m->sql; m++)
		latest = m->version;
	return latest;
}

/* Applies migration m in its own transaction unless the database already
 * has it.  The version is read again under the write lock, because another
 * process opening the same new store may have applied m since. */
static int apply_migration(struct store *s, const struct store_migration *m, char *err,
	size_t errlen)
{
	char sql[96];
	int version = 0;
	int rc;

	snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) VALUES (%d)", m->version);
	rc = store_begin(s);
	if (rc == 0)
		rc = store_schema_version(s, &version);
	if (rc == 0 && m->version > version)
		rc = store_exec(s, m->sql);
	if (rc == 0 && m->version > version)
		rc = store_exec(s, sql);
	if (rc == 0)
		rc = store_commit(s);
	if (rc != 0) {
		store_rollback(s);
		snprintf(err, errlen, "migration of %s to schema version %d failed: %s",
			s->path, m->version, sqlite3_errmsg(s->db));
		return rc;
	}
	if (m->version > version)
		LOG_NOTICE("migrated %s to schema version %d", s->path, m->version);
	return SONO_OK;
}

/* Applies each migration newer than the database. */
static int migrate(struct store *s, char *err, size_t errlen)
{
	const struct store_migration *m;
	int version;
	int rc;

	rc = store_schema_version(s, &version);
	if (rc != 0)
		return rc;
	if (version > store_schema_latest()) {
		snprintf(err, errlen, "%s has schema version %d but this sonoterm knows only up to %d; "
			"use a newer sonoterm", s->path, version, store_schema_latest());
		return SONO_EUNSUPPORTED;
	}
	for (m = store_migrations; m->sql; m++) {
		if (m->version <= version)
			continue;
		rc = apply_migration(s, m, err, errlen);
		if (rc != 0)
			return rc;
	}
	return SONO_OK;
}

static int open_connection(struct store *s, int create, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	mode_t old_mask;
	int rc;

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	old_mask = umask(077);
	rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	umask(old_mask);
	if (rc == SQLITE_OK) {
		/* Set before the first read, so the key check waits for another
		 * process that is creating or writing the same store. */
		sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
		return SONO_OK;
	}
	snprintf(err, errlen, "cannot open %s: %s", s->path,
		s->db ? sqlite3_errmsg(s->db) : "out of memory");
	/* SQLITE_CANTOPEN also covers a folder in place of the file or a missing
	 * permission; only a missing file means "no database". */
	if (rc == SQLITE_CANTOPEN && access(s->path, F_OK) != 0 && errno == ENOENT)
		return SONO_ENOTFOUND;
	return SONO_EDB;
}

int store_open_key(struct store **out, const char *db_path, const uint8_t key[STORE_KEY_LEN],
	int create, char *err, size_t errlen)
{
	struct store *s;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s)
		return SONO_ENOMEM;
	if (snprintf(s->path, sizeof(s->path), "%s", db_path) >= (int)sizeof(s->path)) {
		rc = SONO_ETOOBIG;
		goto out;
	}
	rc = open_connection(s, create, err, errlen);
	if (rc == 0)
		rc = apply_key(s, key);
	if (rc == 0)
		rc = check_key(s, key, err, errlen);
	if (rc == 0)
		rc = configure_connection(s);
	if (rc == 0)
		rc = set_mode_0600(s->path);
	if (rc == 0)
		rc = migrate(s, err, errlen);
	if (rc == 0)
		rc = set_mode_0600(s->path);
out:
	if (rc != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot open %s: %s", db_path, sono_strerror(rc));
		store_close(s);
		return rc;
	}
	*out = s;
	return SONO_OK;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		store_rollback(s);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		LOG_WARN("closing %s left statements open: %s", s->path, sqlite3_errmsg(s->db));
	free(s);
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Loads the data key, or creates it for a new database.  A key file without
 * its database is reused: it is left over from a first run that stopped
 * before the database was written. */
static int obtain_key(const struct store_options *opt, const char *db_path, const char *key_path,
	uint8_t key[STORE_KEY_LEN], char *err, size_t errlen)
{
	int have_db = file_exists(db_path);
	int rc;

	if (!have_db && !opt->create) {
		snprintf(err, errlen, "no station database at %s; capture an exam or start the "
			"station once to create it", db_path);
		return SONO_ENOTFOUND;
	}
	rc = store_key_load(key_path, opt->passphrase, opt->passphrase_len, key, err, errlen);
	if (rc == SONO_ENOTFOUND && !have_db) {
		err[0] = '\0';
		rc = store_key_create(key_path, opt->passphrase, opt->passphrase_len, key, err, errlen);
		/* Another process creating the same store linked its key file first:
		 * use that key, or the two would key the database differently. */
		if (rc != 0 && file_exists(key_path)) {
			err[0] = '\0';
			rc = store_key_load(key_path, opt->passphrase, opt->passphrase_len, key, err,
				errlen);
		}
	} else if (rc == SONO_ENOTFOUND) {
		/* Not SONO_ENOTFOUND, because callers read that code as "no database". */
		snprintf(err, errlen, "key file %s is missing, so %s cannot be decrypted; restore "
			"the key file from its backup", key_path, db_path);
		rc = SONO_EAUTH;
	}
	return rc;
}

/* Takes an exclusive flock() on the data folder for the opening of a store
 * that may be created, so two processes creating the same new store run one
 * after the other.  Otherwise the second could key its connection with
 * SQLCipher before the first has written page 1 and its salt, and then fail
 * to read the finished file.  Returns the folder's descriptor to close, or
 * -1 after logging why the lock was not taken. */
static int lock_data_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		LOG_WARN("cannot lock data folder %s: %s; another process creating the store "
			"at the same time may fail", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen)
{
	uint8_t key[STORE_KEY_LEN];
	char dir[4096];
	char db_path[4096 + sizeof(STORE_DB_NAME) + 1];
	char key_path[4096 + sizeof(STORE_KEY_NAME) + 1];
	int lock_fd;
	int rc;

	*out = NULL;
	err[0] = '\0';
	if (opt->data_dir)
		rc = snprintf(dir, sizeof(dir), "%s", opt->data_dir) < (int)sizeof(dir) ? 0 : SONO_ETOOBIG;
	else
		rc = store_default_dir(dir, sizeof(dir));
	if (rc != 0) {
		snprintf(err, errlen, "the data folder path is too long");
		return rc;
	}
	if (opt->create && config_mkdirs(dir, 0700) != 0) {
		snprintf(err, errlen, "cannot create data folder %s: %s", dir, strerror(errno));
		return SONO_EIO;
	}
	snprintf(db_path, sizeof(db_path), "%s/%s", dir, STORE_DB_NAME);
	snprintf(key_path, sizeof(key_path), "%s/%s", dir, STORE_KEY_NAME);

	lock_fd = opt->create ? lock_data_dir(dir) : -1;
	rc = obtain_key(opt, db_path, key_path, key, err, errlen);
	if (rc == 0)
		rc = store_open_key(out, db_path, key, opt->create, err, errlen);
	crypto_wipe(key, sizeof(key));
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

/* Collects the first row of PRAGMA integrity_check, which is "ok" when the
 * database is sound. */
static int integrity_row(void *arg, int ncols, char **values, char **names)
{
	char *first = arg;

	(void)names;
	if (ncols > 0 && values[0] && first[0] == '\0')
		snprintf(first, 256, "%s", values[0]);
	return 0;
}

int store_integrity_check(struct store *s, char *err, size_t errlen)
{
	char first[256] = "";
	int rc;

	rc = sqlite3_exec(s->db, "PRAGMA integrity_check", integrity_row, first, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s is damaged: %s", s->path, sqlite3_errmsg(s->db));
		LOG_ERROR("integrity check of %s failed: %s", s->path, sqlite3_errmsg(s->db));
		return SONO_EDB;
	}
	if (strcmp(first, "ok") != 0) {
		snprintf(err, errlen, "%s is damaged: %s", s->path, first);
		LOG_ERROR("integrity check of %s found: %s", s->path, first);
		return SONO_EDB;
	}
	return SONO_OK;
}
