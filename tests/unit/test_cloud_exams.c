/* Tests of cloud exam storage: idempotent create, resumable part uploads,
 * commit receipts, role checks, PHI handling and the encrypted file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>

#include "cloud/accounts.h"
#include "cloud/exams.h"
#include "cloud_fixture.h"
#include "sono/crypto.h"
#include "sono/error.h"

#define UUID_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define UUID_B "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define PATIENT_NAME "Zebediah^Quixotefield"
#define PHI "{\"patient_name\": \"" PATIENT_NAME "\", \"patient_id\": \"MRN-4411\"}"

struct exam_fixture {
	struct cloud_fixture f;
	struct account clinician;
	struct account other;
	struct account observer;
	struct account admin;
};

static void add(struct db *db, const char *name, enum account_role role, struct account *out)
{
	char email[96];

	snprintf(email, sizeof(email), "%s@example.org", name);
	assert_int_equal(accounts_add(db, name, email, role, NULL), SONO_OK);
	assert_int_equal(accounts_get_by_name(db, name, out), SONO_OK);
}

static int setup(void **state)
{
	static struct exam_fixture x;

	fixture_time = 1800000000;
	*state = &x;
	if (fixture_open(&x.f) != 0)
		return -1;
	add(x.f.db, "clara", ROLE_CLINICIAN, &x.clinician);
	add(x.f.db, "otto", ROLE_CLINICIAN, &x.other);
	add(x.f.db, "oscar", ROLE_OBSERVER, &x.observer);
	add(x.f.db, "ada", ROLE_ADMINISTRATOR, &x.admin);
	return 0;
}

static int teardown(void **state)
{
	fixture_close(&((struct exam_fixture *)*state)->f);
	return 0;
}

static int put(struct exam_fixture *x, const struct account *who, const char *uuid,
	unsigned n, const void *body, size_t len)
{
	uint8_t sha[CRYPTO_SHA256_LEN];

	crypto_sha256(body, len, sha);
	return exams_put_part(x->f.db, who, "192.0.2.1", uuid, n, body, len, sha);
}

static int64_t audit_count(struct db *db, const char *action)
{
	struct db_value v = DB_V_TEXT(action);
	int64_t n = -1;

	assert_int_equal(db_exec(db, "SELECT count(*) FROM audit WHERE action = ?", &v, 1,
		db_row_int, &n), SONO_OK);
	return n;
}

static void create_is_idempotent(void **state)
{
	struct exam_fixture *x = *state;
	struct db *db = x->f.db;
	int created = -1;

	assert_int_equal(exams_create(db, &x->clinician, "", UUID_A, PHI, &created), SONO_OK);
	assert_int_equal(created, 1);
	assert_int_equal(exams_create(db, &x->clinician, "", UUID_A, PHI, &created), SONO_OK);
	assert_int_equal(created, 0);
	assert_int_equal(exams_create(db, &x->other, "", UUID_A, PHI, &created), SONO_ENOTFOUND);
	assert_int_equal(exams_create(db, &x->observer, "", UUID_B, NULL, &created), SONO_EAUTH);
	assert_int_equal(exams_create(db, &x->admin, "", UUID_B, NULL, &created), SONO_EAUTH);
	assert_int_equal(exams_create(db, &x->clinician, "", "not-a-uuid", NULL, &created),
		SONO_EINVAL);
	assert_int_equal(exams_create(db, &x->clinician, "", UUID_B, "[1,2]", &created), SONO_EINVAL);
	assert_int_equal(exams_create(db, &x->clinician, "", UUID_B, "{\"a\":1,\"a\":2}", &created),
		SONO_EINVAL);
	assert_int_equal(audit_count(db, "exam.create"), 1);
}

static void parts_resume_and_commit(void **state)
{
	struct exam_fixture *x = *state;
	struct db *db = x->f.db;
	uint8_t sha[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN];
	json_t *receipt = NULL, *again = NULL, *parts;

	assert_int_equal(exams_create(db, &x->clinician, "", UUID_A, PHI, NULL), SONO_OK);
	assert_int_equal(exams_commit(db, &x->clinician, "", UUID_A, &receipt), SONO_ESTATE);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "first part", 10), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "first part", 10), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 2, "draft two", 9), SONO_OK);
	/* While open, a part may be replaced. */
	assert_int_equal(put(x, &x->clinician, UUID_A, 2, "second part", 11), SONO_OK);
	/* A body that does not match the sent hash is rejected. */
	crypto_sha256("something else", 14, sha);
	assert_int_equal(exams_put_part(db, &x->clinician, "", UUID_A, 3, "third", 5, sha),
		SONO_EINVAL);
	assert_int_equal(put(x, &x->clinician, UUID_A, 0, "x", 1), SONO_EINVAL);
	assert_int_equal(put(x, &x->clinician, UUID_A, EXAMS_PARTS_MAX + 1, "x", 1), SONO_EINVAL);
	assert_int_equal(put(x, &x->other, UUID_A, 3, "x", 1), SONO_ENOTFOUND);

	assert_int_equal(exams_commit(db, &x->clinician, "", UUID_A, &receipt), SONO_OK);
	assert_string_equal(json_string_value(json_object_get(receipt, "exam")), UUID_A);
	assert_true(crypto_uuid_valid(json_string_value(json_object_get(receipt, "receipt_id"))));
	parts = json_object_get(receipt, "parts");
	assert_int_equal(json_array_size(parts), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(parts, 1), "n")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(parts, 1), "size")), 11);
	crypto_sha256("second part", 11, sha);
	crypto_hex(sha, sizeof(sha), hex);
	assert_string_equal(json_string_value(json_object_get(json_array_get(parts, 1), "sha256")),
		hex);

	/* Committing again returns the same receipt. */
	assert_int_equal(exams_commit(db, &x->clinician, "", UUID_A, &again), SONO_OK);
	assert_true(json_equal(receipt, again));
	/* After commit: same part again is fine, a different body or a new part is not. */
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "first part", 10), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "changed!!!", 10), SONO_ESTATE);
	assert_int_equal(put(x, &x->clinician, UUID_A, 3, "late", 4), SONO_ESTATE);
	json_decref(receipt);
	json_decref(again);
}

static void bodies_round_trip(void **state)
{
	struct exam_fixture *x = *state;
	struct db *db = x->f.db;
	size_t big = 1024 * 1024, len = 0;
	uint8_t *zeros = calloc(1, big), *noise = malloc(big), *body = NULL;
	int64_t zstd_parts = -1;

	assert_non_null(zeros);
	assert_non_null(noise);
	assert_int_equal(crypto_random(noise, big), SONO_OK);
	assert_int_equal(exams_create(db, &x->clinician, "", UUID_A, NULL, NULL), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, zeros, big), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 2, noise, big), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 3, "", 0), SONO_OK);
	assert_int_equal(db_exec(db, "SELECT count(*) FROM exam_parts WHERE codec = 'zstd'", NULL, 0,
		db_row_int, &zstd_parts), SONO_OK);
	assert_int_equal(zstd_parts, 1);

	assert_int_equal(exams_get_part(db, &x->clinician, "", UUID_A, 1, &body, &len), SONO_OK);
	assert_int_equal(len, big);
	assert_memory_equal(body, zeros, big);
	free(body);
	assert_int_equal(exams_get_part(db, &x->clinician, "", UUID_A, 2, &body, &len), SONO_OK);
	assert_int_equal(len, big);
	assert_memory_equal(body, noise, big);
	free(body);
	assert_int_equal(exams_get_part(db, &x->clinician, "", UUID_A, 3, &body, &len), SONO_OK);
	assert_int_equal(len, 0);
	free(body);
	assert_int_equal(exams_get_part(db, &x->clinician, "", UUID_A, 4, &body, &len),
		SONO_ENOTFOUND);
	/* Observers may read parts only of committed exams. */
	assert_int_equal(exams_get_part(db, &x->observer, "", UUID_A, 1, &body, &len),
		SONO_ENOTFOUND);
	free(zeros);
	free(noise);
}

static void oversized_part_rejected(void **state)
{
	struct exam_fixture *x = *state;
	uint8_t sha[CRYPTO_SHA256_LEN] = { 0 };

	assert_int_equal(exams_create(x->f.db, &x->clinician, "", UUID_A, NULL, NULL), SONO_OK);
	/* The length is checked before the body is read. */
	assert_int_equal(exams_put_part(x->f.db, &x->clinician, "", UUID_A, 1, "", EXAMS_PART_MAX + 1,
		sha), SONO_ETOOBIG);
}

static void roles_and_phi(void **state)
{
	struct exam_fixture *x = *state;
	struct db *db = x->f.db;
	json_t *list = NULL, *exam = NULL, *receipt = NULL;
	uint8_t *body = NULL;
	size_t len;

	assert_int_equal(exams_create(db, &x->clinician, "", UUID_A, PHI, NULL), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "image", 5), SONO_OK);
	assert_int_equal(exams_create(db, &x->clinician, "", UUID_B, PHI, NULL), SONO_OK);

	/* The owner sees both exams with PHI. */
	assert_int_equal(exams_list(db, &x->clinician, "", &list), SONO_OK);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(list, 0), "phi"), "patient_name")), PATIENT_NAME);
	json_decref(list);

	/* Before commit the observer gets an empty list, afterwards one without PHI. */
	assert_int_equal(exams_list(db, &x->observer, "", &list), SONO_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(exams_commit(db, &x->clinician, "", UUID_A, &receipt), SONO_OK);
	json_decref(receipt);
	assert_int_equal(exams_list(db, &x->observer, "", &list), SONO_OK);
	assert_int_equal(json_array_size(list), 1);
	assert_null(json_object_get(json_array_get(list, 0), "phi"));
	json_decref(list);
	assert_int_equal(exams_get(db, &x->observer, "", UUID_A, &exam), SONO_OK);
	assert_null(json_object_get(exam, "phi"));
	assert_int_equal(json_array_size(json_object_get(exam, "parts_list")), 1);
	json_decref(exam);
	assert_int_equal(exams_get_part(db, &x->observer, "", UUID_A, 1, &body, &len), SONO_OK);
	free(body);

	/* Another clinician and the administrator see nothing. */
	assert_int_equal(exams_list(db, &x->other, "", &list), SONO_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(exams_get(db, &x->other, "", UUID_A, &exam), SONO_ENOTFOUND);
	assert_int_equal(exams_get_part(db, &x->other, "", UUID_A, 1, &body, &len), SONO_ENOTFOUND);
	assert_int_equal(exams_list(db, &x->admin, "", &list), SONO_EAUTH);
	assert_int_equal(exams_get(db, &x->admin, "", UUID_A, &exam), SONO_EAUTH);

	assert_int_equal(exams_get(db, &x->clinician, "", UUID_A, &exam), SONO_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(exam, "phi"),
		"patient_id")), "MRN-4411");
	assert_string_equal(json_string_value(json_object_get(exam, "state")), "committed");
	json_decref(exam);
	assert_true(audit_count(db, "exam.list") >= 4);
	assert_true(audit_count(db, "exam.read") >= 2);
	assert_true(audit_count(db, "exam.part.read") >= 1);
}

/* Returns 1 when the file at path contains needle. */
static int file_contains(const char *path, const char *needle)
{
	size_t n = strlen(needle), len;
	char *data;
	FILE *f = fopen(path, "rb");
	int found = 0;

	if (f == NULL)
		return 0;
	data = malloc(64 * 1024 * 1024);
	assert_non_null(data);
	len = fread(data, 1, 64 * 1024 * 1024, f);
	fclose(f);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(data + i, needle, n) == 0;
	free(data);
	return found;
}

static void file_is_encrypted_and_reopens(void **state)
{
	struct exam_fixture *x = *state;
	char path[512], key_path[512], err[256];
	json_t *exam = NULL;
	struct stat st;
	FILE *f;

	assert_int_equal(exams_create(x->f.db, &x->clinician, "", UUID_A, PHI, NULL), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "plain image bytes", 17), SONO_OK);
	db_close(x->f.db);
	x->f.db = NULL;

	snprintf(path, sizeof(path), "%s/" DB_FILE_NAME, x->f.data_dir);
	snprintf(key_path, sizeof(key_path), "%s/" DB_KEY_FILE_NAME, x->f.data_dir);
	assert_false(file_contains(path, "SQLite format 3"));
	assert_false(file_contains(path, PATIENT_NAME));
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(db_open(&x->f.db, x->f.data_dir, err, sizeof(err)), SONO_OK);
	assert_int_equal(exams_get(x->f.db, &x->clinician, "", UUID_A, &exam), SONO_OK);
	assert_int_equal(json_integer_value(json_object_get(exam, "bytes")), 17);
	json_decref(exam);
	db_close(x->f.db);
	x->f.db = NULL;

	/* A key file that others can read is rejected. */
	assert_int_equal(chmod(key_path, 0644), 0);
	assert_int_equal(db_open(&x->f.db, x->f.data_dir, err, sizeof(err)), SONO_EAUTH);
	assert_non_null(strstr(err, "0600"));
	/* So is a key that does not open the database. */
	assert_int_equal(unlink(key_path), 0);
	f = fopen(key_path, "w");
	assert_non_null(f);
	fprintf(f, "%064d\n", 0);
	fclose(f);
	assert_int_equal(chmod(key_path, 0600), 0);
	assert_int_equal(db_open(&x->f.db, x->f.data_dir, err, sizeof(err)), SONO_EAUTH);
	assert_null(x->f.db);
}

static void create_rejects_existing_folder(void **state)
{
	struct exam_fixture *x = *state;
	char err[256];

	assert_int_equal(db_create(x->f.data_dir, err, sizeof(err)), SONO_ESTATE);
	assert_non_null(strstr(err, "already exists"));
}

static void newer_schema_rejected(void **state)
{
	struct exam_fixture *x = *state;
	char err[256];

	assert_int_equal(db_meta_set(x->f.db, "schema_version", "99"), SONO_OK);
	db_close(x->f.db);
	x->f.db = NULL;
	assert_int_equal(db_open(&x->f.db, x->f.data_dir, err, sizeof(err)), SONO_EUNSUPPORTED);
	assert_non_null(strstr(err, "newer"));
}

static void tampered_part_detected(void **state)
{
	struct exam_fixture *x = *state;
	uint8_t *body = NULL;
	size_t len = 0;

	assert_int_equal(exams_create(x->f.db, &x->clinician, "", UUID_A, NULL, NULL), SONO_OK);
	assert_int_equal(put(x, &x->clinician, UUID_A, 1, "genuine bytes", 13), SONO_OK);
	assert_int_equal(db_exec(x->f.db, "UPDATE exam_parts SET body = X'00112233'", NULL, 0,
		NULL, NULL), SONO_OK);
	assert_int_equal(exams_get_part(x->f.db, &x->clinician, "", UUID_A, 1, &body, &len),
		SONO_ECRYPTO);
	assert_null(body);
	assert_int_equal(len, 0);
}

#define THREADS 4
#define PARTS_PER_THREAD 25

struct upload_job {
	struct exam_fixture *x;
	char uuid[CRYPTO_UUID_LEN];
	int rc;
};

/* Uploads and commits one exam; run by several threads at once. */
static void *upload_exam(void *arg)
{
	struct upload_job *job = arg;
	uint8_t body[4096];
	json_t *receipt = NULL;
	unsigned n;

	job->rc = exams_create(job->x->f.db, &job->x->clinician, "", job->uuid, PHI, NULL);
	for (n = 1; n <= PARTS_PER_THREAD && job->rc == SONO_OK; n++) {
		memset(body, (int)n, sizeof(body));
		job->rc = put(job->x, &job->x->clinician, job->uuid, n, body, sizeof(body));
	}
	if (job->rc == SONO_OK)
		job->rc = exams_commit(job->x->f.db, &job->x->clinician, "", job->uuid, &receipt);
	if (job->rc == SONO_OK && json_array_size(json_object_get(receipt, "parts")) != PARTS_PER_THREAD)
		job->rc = SONO_EDB;
	json_decref(receipt);
	return NULL;
}

static void concurrent_uploads(void **state)
{
	struct exam_fixture *x = *state;
	struct upload_job jobs[THREADS];
	pthread_t threads[THREADS];
	json_t *list = NULL;
	int i;

	for (i = 0; i < THREADS; i++) {
		jobs[i].x = x;
		assert_int_equal(crypto_uuid(jobs[i].uuid), SONO_OK);
		assert_int_equal(pthread_create(&threads[i], NULL, upload_exam, &jobs[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(jobs[i].rc, SONO_OK);
	}
	assert_int_equal(exams_list(x->f.db, &x->observer, "", &list), SONO_OK);
	assert_int_equal(json_array_size(list), THREADS);
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(parts_resume_and_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(bodies_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_part_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(roles_and_phi, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_part_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_uploads, setup, teardown),
		cmocka_unit_test_setup_teardown(file_is_encrypted_and_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(create_rejects_existing_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
