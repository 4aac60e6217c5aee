/* Tests of the SQLCipher store on real database files in a temporary folder:
 * file modes, raw and passphrase-wrapped keys, wrong key against damage,
 * migrations and the integrity check. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "station/store.h"
#include "station/store_key.h"

struct fixture {
	char dir[64];
	char db[128];
	char key[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, STORE_DB_NAME);
	snprintf(f->key, sizeof(f->key), "%s/%s", f->dir, STORE_KEY_NAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return st.st_size;
}

/* SHA-256 of a whole file, to show that a failed open changed nothing. */
static void file_digest(const char *path, uint8_t out[CRYPTO_SHA256_LEN])
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	crypto_sha256(buf, n, out);
}

static void patch_file(const char *path, long offset, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, n, offset), (ssize_t)n);
	close(fd);
}

static struct store *open_default(struct fixture *f, int create, int expect_rc)
{
	struct store_options opt = { .data_dir = f->dir, .create = create };
	struct store *s = NULL;
	char err[512] = "";

	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), expect_rc);
	return s;
}

static void create_sets_modes_and_key(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	int version = 0;

	assert_non_null(s);
	assert_int_equal(file_mode(f->db), 0600);
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(file_size(f->key), STORE_KEY_FILE_RAW_LEN);
	assert_int_equal(store_schema_version(s, &version), SONO_OK);
	assert_int_equal(version, store_schema_latest());
	store_close(s);

	s = open_default(f, 0, SONO_OK);
	assert_non_null(s);
	store_close(s);
}

static void file_has_no_sqlite_header(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	char head[16];
	FILE *fp;

	store_close(s);
	fp = fopen(f->db, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(head, 1, sizeof(head), fp), sizeof(head));
	fclose(fp);
	assert_memory_not_equal(head, "SQLite format 3", 15);
}

static void missing_database_not_created(void **state)
{
	struct fixture *f = *state;

	open_default(f, 0, SONO_ENOTFOUND);
	assert_int_equal(file_size(f->db), -1);
	assert_int_equal(file_size(f->key), -1);
}

/* A key with zero bytes must be passed with its length: a key cut at the
 * first zero byte would be a different key. */
static void key_with_zero_byte_reopens(void **state)
{
	struct fixture *f = *state;
	uint8_t key[STORE_KEY_LEN];
	uint8_t other[STORE_KEY_LEN];
	struct store *s = NULL;
	char err[512] = "";
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	key[0] = 0;
	key[9] = 0;
	assert_int_equal(store_open_key(&s, f->db, key, 1, err, sizeof(err)), SONO_OK);
	assert_int_equal(store_exec(s, "CREATE TABLE probe (x); INSERT INTO probe VALUES (42)"), SONO_OK);
	store_close(s);

	assert_int_equal(store_open_key(&s, f->db, key, 0, err, sizeof(err)), SONO_OK);
	store_close(s);

	memcpy(other, key, sizeof(other));
	other[31] ^= 1;
	err[0] = '\0';
	assert_int_equal(store_open_key(&s, f->db, other, 0, err, sizeof(err)), SONO_EAUTH);
	assert_null(s);
	assert_non_null(strstr(err, "wrong key"));
}

static void wrong_key_changes_nothing(void **state)
{
	struct fixture *f = *state;
	uint8_t key[STORE_KEY_LEN] = { 1 };
	uint8_t before[CRYPTO_SHA256_LEN];
	uint8_t after[CRYPTO_SHA256_LEN];
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	store_close(s);
	file_digest(f->db, before);
	assert_int_equal(store_open_key(&s, f->db, key, 0, err, sizeof(err)), SONO_EAUTH);
	assert_non_null(strstr(err, "wrong key"));
	file_digest(f->db, after);
	assert_memory_equal(before, after, sizeof(before));
}

/* Damage inside page 1 (past the header block) fails SQLCipher's page check
 * with the same error as a wrong key, so the store must tell them apart and
 * call it damaged. */
static void damaged_first_page_reported(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	uint8_t junk[8] = { 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
	struct store_options opt = { .data_dir = f->dir };
	char err[512] = "";

	store_close(s);
	patch_file(f->db, 2000, junk, sizeof(junk));
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EDB);
	assert_non_null(strstr(err, "damaged"));
	assert_null(strstr(err, "wrong key"));
}

/* Damage past page 1 is found when that page is read: at open time when
 * the store reads it, otherwise by the integrity check. */
static void damaged_later_page_fails_check(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	struct store *s = open_default(f, 1, SONO_OK);
	uint8_t junk[8] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
	char err[512] = "";
	int rc;

	store_close(s);
	assert_true(file_size(f->db) > 3 * 4096);
	patch_file(f->db, 2 * 4096 + 500, junk, sizeof(junk));
	rc = store_open(&s, &opt, err, sizeof(err));
	if (rc == SONO_OK) {
		assert_int_equal(store_integrity_check(s, err, sizeof(err)), SONO_EDB);
		store_close(s);
	} else {
		assert_int_equal(rc, SONO_EDB);
	}
	assert_non_null(strstr(err, "damaged"));
}

static void integrity_check_passes_when_sound(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	assert_int_equal(store_integrity_check(s, err, sizeof(err)), SONO_OK);
	store_close(s);
}

static void passphrase_mode_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *good = "correct horse battery staple";
	const char *bad = "correct horse battery stapler";
	struct store_options opt = { .data_dir = f->dir, .passphrase = good,
		.passphrase_len = strlen(good), .create = 1 };
	struct store *s = NULL;
	char err[512] = "";

	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_OK);
	store_close(s);
	assert_int_equal(file_size(f->key), STORE_KEY_FILE_WRAPPED_LEN);
	assert_int_equal(file_mode(f->key), 0600);

	opt.create = 0;
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_OK);
	store_close(s);

	opt.passphrase = bad;
	opt.passphrase_len = strlen(bad);
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EAUTH);
	assert_non_null(strstr(err, "wrong passphrase"));

	opt.passphrase = NULL;
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EAUTH);
	assert_non_null(strstr(err, "passphrase"));
}

static void truncated_key_file_is_damaged(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);

	store_close(s);
	assert_int_equal(truncate(f->key, 31), 0);
	open_default(f, 0, SONO_EDB);
}

static void missing_key_file_reported(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	store_close(s);
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EAUTH);
	assert_non_null(strstr(err, "missing"));
}

/* A FIFO in place of the key file must fail at once instead of blocking in
 * open() until some process writes to it.  The alarm turns a hang into a
 * failure. */
static void fifo_key_file_rejected(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	store_close(s);
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(mkfifo(f->key, 0600), 0);
	alarm(10);
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EIO);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
}

/* Several processes that create the same new store at once must all open
 * it with the one key that ends up in the key file.  Each round starts from
 * an empty folder; a child exits 0 when its store_open succeeded. */
static void concurrent_create_shares_key(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir, .create = 1 };
	char wal[160], shm[160];
	int round, i, status, failed = 0;
	pid_t pids[4];

	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	snprintf(shm, sizeof(shm), "%s-shm", f->db);
	for (round = 0; round < 8; round++) {
		unlink(f->db);
		unlink(wal);
		unlink(shm);
		unlink(f->key);
		for (i = 0; i < 4; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				struct store *s = NULL;
				char err[512] = "";
				int rc = store_open(&s, &opt, err, sizeof(err));

				store_close(s);
				_exit(rc == SONO_OK ? 0 : 1);
			}
		}
		for (i = 0; i < 4; i++) {
			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failed++;
		}
		store_close(open_default(f, 0, SONO_OK));
	}
	assert_int_equal(failed, 0);
}

/* A database cut below one page cannot show whether the key fits, so the
 * message must not claim that it does. */
static void short_database_is_damaged(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	store_close(s);
	assert_int_equal(truncate(f->db, 100), 0);
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EDB);
	assert_null(strstr(err, "key is right"));
	assert_non_null(strstr(err, "shorter than one"));
}

/* A folder in place of the database is an error, not a missing store that
 * "sonoterm exams list" may report as empty. */
static void database_folder_not_missing(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	struct store *s = open_default(f, 1, SONO_OK);
	char err[512] = "";

	store_close(s);
	assert_int_equal(unlink(f->db), 0);
	assert_int_equal(mkdir(f->db, 0700), 0);
	assert_int_equal(store_open(&s, &opt, err, sizeof(err)), SONO_EDB);
	assert_non_null(strstr(err, f->db));
	assert_int_equal(rmdir(f->db), 0);
}

static void newer_schema_rejected(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);

	assert_int_equal(store_exec(s, "INSERT INTO schema_version (version) VALUES (999)"), SONO_OK);
	store_close(s);
	open_default(f, 0, SONO_EUNSUPPORTED);
}

static void rollback_discards_writes(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	sqlite3_stmt *st = NULL;

	assert_int_equal(store_exec(s, "CREATE TABLE t (x)"), SONO_OK);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (1)"), SONO_OK);
	store_rollback(s);
	store_rollback(s);
	assert_int_equal(store_prepare(s, "SELECT count(*) FROM t", &st), SONO_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	store_close(s);
}

static int count_rows(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int n;

	assert_int_equal(store_prepare(s, "SELECT count(*) FROM t", &st), SONO_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* SQLite rolls back the whole transaction when a statement inside a
 * savepoint fails with SQLITE_FULL.  The caller still believes the outer
 * transaction open, so its next statement must fail instead of committing
 * on its own, and nothing of the transaction may remain. */
static void full_database_keeps_atomicity(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	sqlite3_stmt *st = NULL;
	char sql[64];

	assert_int_equal(store_exec(s, "CREATE TABLE t (x)"), SONO_OK);
	assert_int_equal(store_prepare(s, "PRAGMA page_count", &st), SONO_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", sqlite3_column_int(st, 0) + 4);
	sqlite3_finalize(st);
	assert_int_equal(store_exec(s, sql), SONO_OK);

	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (1)"), SONO_OK);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (zeroblob(1000000))"), SONO_EDB);
	store_rollback(s);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (2)"), SONO_EDB);
	assert_int_equal(store_begin(s), SONO_EDB);
	store_rollback(s);

	assert_int_equal(count_rows(s), 0);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (3)"), SONO_OK);
	assert_int_equal(store_commit(s), SONO_OK);
	assert_int_equal(count_rows(s), 1);
	store_close(s);
}

/* An inner level rolls back alone; the outer commit keeps the rest. */
static void nested_rollback_inner_only(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);

	assert_int_equal(store_exec(s, "CREATE TABLE t (x)"), SONO_OK);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (1)"), SONO_OK);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (2)"), SONO_OK);
	store_rollback(s);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (3)"), SONO_OK);
	assert_int_equal(store_commit(s), SONO_OK);
	assert_int_equal(store_commit(s), SONO_OK);
	assert_int_equal(count_rows(s), 2);

	/* A rollback of the outer level discards the committed inner level. */
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_begin(s), SONO_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (4)"), SONO_OK);
	assert_int_equal(store_commit(s), SONO_OK);
	store_rollback(s);
	assert_int_equal(count_rows(s), 2);
	store_close(s);
}

static void checkpoint_truncates_wal(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_default(f, 1, SONO_OK);
	char wal[160];

	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_equal(store_exec(s, "CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(50000))"),
		SONO_OK);
	assert_true(file_size(wal) > 0);
	assert_int_equal(store_checkpoint(s), SONO_OK);
	assert_int_equal(file_size(wal), 0);
	assert_int_equal(file_mode(wal), 0600);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_sets_modes_and_key, setup, teardown),
		cmocka_unit_test_setup_teardown(file_has_no_sqlite_header, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_database_not_created, setup, teardown),
		cmocka_unit_test_setup_teardown(key_with_zero_byte_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_key_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_first_page_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_later_page_fails_check, setup, teardown),
		cmocka_unit_test_setup_teardown(integrity_check_passes_when_sound, setup, teardown),
		cmocka_unit_test_setup_teardown(passphrase_mode_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_key_file_is_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_key_file_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_key_file_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_create_shares_key, setup, teardown),
		cmocka_unit_test_setup_teardown(short_database_is_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(database_folder_not_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(nested_rollback_inner_only, setup, teardown),
		cmocka_unit_test_setup_teardown(checkpoint_truncates_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(full_database_keeps_atomicity, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
