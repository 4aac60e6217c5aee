/* Tests of the exam lifecycle, stills and cines on a real SQLCipher store in
 * a temporary folder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sono/error.h"
#include "station/exam.h"
#include "station/exam_sink.h"

struct fixture {
	char dir[64];
	struct store *store;
	struct patient patient;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_options opt = { .create = 1 };
	char err[512] = "";
	char msg[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-exam-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	opt.data_dir = f->dir;
	if (store_open(&f->store, &opt, err, sizeof(err)) != 0)
		return -1;
	patient_init(&f->patient);
	if (patient_set_field(&f->patient, PATIENT_FIELD_PATIENT_ID, "MRN-77", NULL, msg, sizeof(msg)) ||
	    patient_set_field(&f->patient, PATIENT_FIELD_FAMILY_NAME, "Testperson", NULL, msg,
		sizeof(msg)))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A speckle-like gray frame whose content depends on seed. */
static void make_frame(struct frame *fr, uint32_t w, uint32_t h, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	assert_int_equal(frame_alloc(fr, w, h, 1, FRAME_MAX_BYTES), SONO_OK);
	for (i = 0; i < (size_t)w * h; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		fr->pixels[i] = (uint8_t)((i / w) + (x & 31));
	}
	fr->spacing_mm[0] = 0.2;
	fr->spacing_mm[1] = 0.25;
	fr->timestamp_ns = 1000000000ull * (seed + 1);
}

static struct exam_acquisition acquisition(void)
{
	struct exam_acquisition acq;

	memset(&acq, 0, sizeof(acq));
	snprintf(acq.scanner_serial, sizeof(acq.scanner_serial), "SP-0001");
	acq.depth_mm = 120;
	acq.gain_db = 48;
	return acq;
}

static void scanning_exam(struct fixture *f, const struct patient *p, char uuid[CRYPTO_UUID_LEN])
{
	assert_int_equal(exam_create(f->store, p, "abdomen", uuid), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_SCANNING), SONO_OK);
}

static void add_still(struct fixture *f, const char *uuid, unsigned seed)
{
	struct exam_acquisition acq = acquisition();
	struct frame fr = { 0 };

	make_frame(&fr, 64, 48, seed);
	assert_int_equal(exam_add_still(f->store, uuid, &acq, &fr, NULL), SONO_OK);
	frame_free(&fr);
}

static int64_t add_cine(struct fixture *f, const char *uuid, unsigned frames)
{
	struct exam_acquisition acq = acquisition();
	struct exam_cine *c = NULL;
	struct frame fr = { 0 };
	int64_t part = 0;
	unsigned i;

	acq.frame_rate = 30;
	assert_int_equal(exam_cine_begin(f->store, uuid, &acq, &c), SONO_OK);
	for (i = 0; i < frames; i++) {
		make_frame(&fr, 64, 48, i);
		assert_int_equal(exam_cine_add(c, &fr), SONO_OK);
		frame_free(&fr);
	}
	assert_int_equal(exam_cine_end(c, &part), SONO_OK);
	return part;
}

static void lifecycle_to_completed(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_summary e;
	char err[256];

	scanning_exam(f, &f->patient, uuid);
	add_still(f, uuid, 1);
	add_cine(f, uuid, 5);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_COMPLETED), SONO_OK);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_int_equal(e.state, EXAM_COMPLETED);
	assert_int_equal(e.stills, 1);
	assert_int_equal(e.cines, 1);
	assert_true(e.has_patient);
	assert_int_equal(e.raw_bytes, 6 * 64 * 48);
	assert_true(e.started_ns > 0);
	assert_true(e.completed_ns >= e.started_ns);
	assert_string_equal(e.preset, "abdomen");
	assert_int_equal(exam_verify_all(f->store, err, sizeof(err)), SONO_OK);
}

static void cine_frames_read_back(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct frame want = { 0 };
	struct frame got = { 0 };
	int64_t part;
	unsigned i;

	scanning_exam(f, &f->patient, uuid);
	part = add_cine(f, uuid, 4);
	for (i = 0; i < 4; i++) {
		make_frame(&want, 64, 48, i);
		assert_int_equal(exam_read_frame(f->store, part, i, &got), SONO_OK);
		assert_int_equal(got.width, 64);
		assert_int_equal(got.height, 48);
		assert_int_equal(got.timestamp_ns, want.timestamp_ns);
		assert_memory_equal(got.pixels, want.pixels, 64 * 48);
		frame_free(&want);
	}
	assert_int_equal(exam_read_frame(f->store, part, 4, &got), SONO_ENOTFOUND);
	frame_free(&got);
}

/* Frames past the first key frame are stored as deltas against the frame
 * before; reading any of them must decode from the nearest key frame. */
static void cine_delta_frames_read_back(void **state)
{
	struct fixture *f = *state;
	static const uint32_t picks[] = { 69, 0, 29, 30, 31, 45, 59, 60, 1 };
	char uuid[CRYPTO_UUID_LEN];
	struct frame want = { 0 };
	struct frame got = { 0 };
	char err[256];
	int64_t part;
	size_t i;

	scanning_exam(f, &f->patient, uuid);
	part = add_cine(f, uuid, 2 * EXAM_KEYFRAME_INTERVAL + 10);
	for (i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		make_frame(&want, 64, 48, picks[i]);
		assert_int_equal(exam_read_frame(f->store, part, picks[i], &got), SONO_OK);
		assert_memory_equal(got.pixels, want.pixels, 64 * 48);
		assert_int_equal(got.timestamp_ns, want.timestamp_ns);
		frame_free(&want);
	}
	frame_free(&got);
	assert_int_equal(exam_verify_all(f->store, err, sizeof(err)), SONO_OK);

	/* A damaged key frame makes the delta frames after it unreadable. */
	assert_int_equal(store_exec(f->store, "UPDATE frames SET sha256 = zeroblob(32)"
		" WHERE idx = 30"), SONO_OK);
	assert_int_equal(exam_read_frame(f->store, part, 45, &got), SONO_EDB);
	assert_int_equal(exam_read_frame(f->store, part, 29, &got), SONO_OK);
	frame_free(&got);
}

static int copy_part(const struct exam_part *part, void *arg)
{
	memcpy(arg, part, sizeof(*part));
	return 0;
}

static void part_metadata_kept(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_part part;

	scanning_exam(f, &f->patient, uuid);
	add_cine(f, uuid, 3);
	assert_int_equal(exam_parts(f->store, uuid, copy_part, &part), SONO_OK);
	assert_int_equal(part.kind, EXAM_PART_CINE);
	assert_int_equal(part.frame_count, 3);
	assert_string_equal(part.scanner_serial, "SP-0001");
	assert_true(part.depth_mm == 120);
	assert_true(part.gain_db == 48);
	assert_true(part.spacing_mm[0] == 0.2);
	assert_true(part.spacing_mm[1] == 0.25);
	assert_true(part.frame_rate == 30);
	assert_int_equal(part.acquired_ns, 1000000000ull);
	assert_int_equal(strlen(part.sha256), 64);
}

static void measurements_round_trip(void **state)
{
	struct fixture *f = *state;
	struct exam_caliper cal = { 1.0, 2.0, 4.0, 6.0 };
	struct exam_acquisition acq = acquisition();
	char uuid[CRYPTO_UUID_LEN];
	struct frame fr = { 0 };
	char *json = NULL;
	char *stored = NULL;
	int64_t part = 0;

	assert_int_equal(exam_measurements_json(&cal, 1, &json), SONO_OK);
	assert_non_null(strstr(json, "\"length_mm\":5"));
	scanning_exam(f, &f->patient, uuid);
	make_frame(&fr, 32, 32, 3);
	acq.measurements = json;
	assert_int_equal(exam_add_still(f->store, uuid, &acq, &fr, &part), SONO_OK);
	assert_int_equal(exam_part_measurements(f->store, part, &stored), SONO_OK);
	assert_string_equal(stored, json);
	free(stored);

	acq.measurements = "[{\"x1_mm\": \"evil\"}]";
	assert_int_equal(exam_add_still(f->store, uuid, &acq, &fr, NULL), SONO_EINVAL);
	acq.measurements = "not json";
	assert_int_equal(exam_add_still(f->store, uuid, &acq, &fr, NULL), SONO_EINVAL);
	frame_free(&fr);
	free(json);
}

static void transitions_enforced(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];

	assert_int_equal(exam_create(f->store, NULL, NULL, uuid), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_COMPLETED), SONO_ESTATE);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_SCANNING), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_COMPLETED), SONO_ESTATE);
	add_still(f, uuid, 2);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_COMPLETED), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_QUEUED), SONO_ESTATE);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_UPLOADED), SONO_ESTATE);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_SCANNING), SONO_ESTATE);
	assert_int_equal(exam_attach_patient(f->store, uuid, &f->patient), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_QUEUED), SONO_OK);
	assert_int_equal(exam_attach_patient(f->store, uuid, &f->patient), SONO_ESTATE);
	assert_int_equal(exam_transition_allowed(EXAM_FAILED, EXAM_QUEUED), 1);
	assert_int_equal(exam_transition_allowed(EXAM_UPLOADED, EXAM_QUEUED), 0);
	assert_int_equal(exam_set_state(f->store, "not-a-uuid", EXAM_SCANNING), SONO_EINVAL);
	assert_int_equal(exam_set_state(f->store, "00000000-0000-4000-8000-000000000000",
		EXAM_SCANNING), SONO_ENOTFOUND);
}

static void preset_checked(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	char msg[160] = "";

	assert_int_equal(exam_check_preset("abdomen", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(exam_check_preset("", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(exam_check_preset(NULL, msg, sizeof(msg)), SONO_OK);
	assert_int_equal(exam_check_preset("Abdomen", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "Exam type"));
	assert_int_equal(exam_check_preset("a\x1b[31m", msg, sizeof(msg)), SONO_EINVAL);
	assert_int_equal(exam_check_preset("abcdefghijklmnopqrstuvwxyz012345", msg, sizeof(msg)),
		SONO_EINVAL);
	assert_int_equal(exam_create(f->store, NULL, "bad preset", uuid), SONO_EINVAL);
	assert_int_equal(exam_create(f->store, NULL, "vascular", uuid), SONO_OK);
}

static void still_needs_scanning(void **state)
{
	struct fixture *f = *state;
	struct exam_acquisition acq = acquisition();
	char uuid[CRYPTO_UUID_LEN];
	struct frame fr = { 0 };

	assert_int_equal(exam_create(f->store, &f->patient, NULL, uuid), SONO_OK);
	make_frame(&fr, 16, 16, 1);
	assert_int_equal(exam_add_still(f->store, uuid, &acq, &fr, NULL), SONO_ESTATE);
	frame_free(&fr);
}

static void unassigned_exam_gets_patient(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_summary e;
	struct patient p;

	assert_int_equal(exam_create(f->store, NULL, NULL, uuid), SONO_OK);
	assert_int_equal(exam_load_patient(f->store, uuid, &p), SONO_ENOTFOUND);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_false(e.has_patient);
	assert_int_equal(exam_attach_patient(f->store, uuid, &f->patient), SONO_OK);
	assert_int_equal(exam_load_patient(f->store, uuid, &p), SONO_OK);
	assert_string_equal(phi_text_get(&p.family_name), "Testperson");
	assert_string_equal(phi_text_get(&p.patient_id), "MRN-77");
	patient_clear(&p);
}

static void invalid_patient_rejected(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct patient p;

	patient_init(&p);
	phi_text_set(&p.patient_id, "1");
	phi_text_set(&p.family_name, "Doe");
	phi_text_set(&p.birth_date, "2023-02-30");
	assert_int_equal(exam_create(f->store, &p, NULL, uuid), SONO_EINVAL);
}

static void aborted_cine_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct exam_acquisition acq = acquisition();
	char uuid[CRYPTO_UUID_LEN];
	struct exam_cine *c = NULL;
	struct frame fr = { 0 };
	struct exam_summary e;

	scanning_exam(f, &f->patient, uuid);
	assert_int_equal(exam_cine_begin(f->store, uuid, &acq, &c), SONO_OK);
	make_frame(&fr, 64, 48, 1);
	assert_int_equal(exam_cine_add(c, &fr), SONO_OK);
	frame_free(&fr);
	exam_cine_abort(c);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_int_equal(e.cines, 0);
}

static void cine_size_change_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct exam_acquisition acq = acquisition();
	char uuid[CRYPTO_UUID_LEN];
	struct exam_cine *c = NULL;
	struct frame fr = { 0 };
	struct exam_summary e;

	scanning_exam(f, &f->patient, uuid);
	assert_int_equal(exam_cine_begin(f->store, uuid, &acq, &c), SONO_OK);
	make_frame(&fr, 64, 48, 1);
	assert_int_equal(exam_cine_add(c, &fr), SONO_OK);
	frame_free(&fr);
	make_frame(&fr, 48, 64, 2);
	assert_int_equal(exam_cine_add(c, &fr), SONO_EINVAL);
	frame_free(&fr);
	assert_int_equal(exam_cine_end(c, NULL), SONO_ESTATE);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_int_equal(e.cines, 0);
}

static void empty_cine_rejected(void **state)
{
	struct fixture *f = *state;
	struct exam_acquisition acq = acquisition();
	char uuid[CRYPTO_UUID_LEN];
	struct exam_cine *c = NULL;

	scanning_exam(f, &f->patient, uuid);
	assert_int_equal(exam_cine_begin(f->store, uuid, &acq, &c), SONO_OK);
	assert_int_equal(exam_cine_end(c, NULL), SONO_EINVAL);
	/* The store is usable again: the cine's transaction was rolled back. */
	add_still(f, uuid, 4);
}

static off_t wal_size(struct fixture *f)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s-wal", f->dir, STORE_DB_NAME);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void delete_removes_everything(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_summary e;
	sqlite3_stmt *st = NULL;

	scanning_exam(f, &f->patient, uuid);
	add_cine(f, uuid, 3);
	assert_int_equal(exam_delete(f->store, uuid), SONO_OK);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_ENOTFOUND);
	assert_int_equal(wal_size(f), 0);
	assert_int_equal(store_prepare(f->store, "SELECT (SELECT count(*) FROM patients) +"
		" (SELECT count(*) FROM parts) + (SELECT count(*) FROM frames)", &st), SONO_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
}

static void tombstone_keeps_only_ids(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_summary e;
	struct patient p;

	scanning_exam(f, &f->patient, uuid);
	add_still(f, uuid, 5);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_COMPLETED), SONO_OK);
	assert_int_equal(exam_tombstone(f->store, uuid, "receipt-1"), SONO_ESTATE);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_QUEUED), SONO_OK);
	assert_int_equal(exam_set_state(f->store, uuid, EXAM_UPLOADING), SONO_OK);
	assert_int_equal(exam_delete(f->store, uuid), SONO_ESTATE);
	assert_int_equal(exam_tombstone(f->store, uuid, "receipt-1"), SONO_OK);
	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_int_equal(e.state, EXAM_UPLOADED);
	assert_true(e.tombstone);
	assert_false(e.has_patient);
	assert_int_equal(e.stills + e.cines, 0);
	assert_string_equal(e.receipt_id, "receipt-1");
	assert_true(e.uploaded_ns > 0);
	assert_int_equal(exam_load_patient(f->store, uuid, &p), SONO_ENOTFOUND);
	assert_int_equal(wal_size(f), 0);
}

static void damaged_frame_found(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	char err[256] = "";

	scanning_exam(f, &f->patient, uuid);
	add_cine(f, uuid, 3);
	assert_int_equal(store_exec(f->store, "UPDATE frames SET sha256 = zeroblob(32) WHERE idx = 1"),
		SONO_OK);
	assert_int_equal(exam_verify_all(f->store, err, sizeof(err)), SONO_EDB);
	assert_non_null(strstr(err, uuid));
}

static void missing_frame_found(void **state)
{
	struct fixture *f = *state;
	char uuid[CRYPTO_UUID_LEN];
	char err[256] = "";

	scanning_exam(f, &f->patient, uuid);
	add_cine(f, uuid, 3);
	assert_int_equal(store_exec(f->store, "DELETE FROM frames WHERE idx = 2"), SONO_OK);
	assert_int_equal(exam_verify_all(f->store, err, sizeof(err)), SONO_EDB);
}

static void capture_sink_saves_into_exam(void **state)
{
	struct fixture *f = *state;
	struct capture_meta meta = { .depth_mm = 80, .gain_db = 3 };
	struct capture_sink sink;
	struct frame fr[3] = { { 0 } };
	const struct frame *list[3] = { &fr[0], &fr[1], &fr[2] };
	char uuid[CRYPTO_UUID_LEN];
	struct exam_summary e;
	struct exam_part part;
	int i;

	snprintf(meta.scanner_serial, sizeof(meta.scanner_serial), "SP-SINK");
	assert_int_equal(exam_create(f->store, NULL, NULL, uuid), SONO_OK);
	assert_int_equal(exam_capture_sink(&sink, f->store, uuid), SONO_OK);
	assert_non_null(strstr(sink.describe(sink.ctx), "exam "));
	for (i = 0; i < 3; i++)
		make_frame(&fr[i], 40, 30, (unsigned)i);
	assert_int_equal(sink.save_still(sink.ctx, &fr[0], &meta), SONO_OK);
	assert_int_equal(sink.save_cine(sink.ctx, list, 3, &meta), SONO_OK);
	sink.close(sink.ctx);
	for (i = 0; i < 3; i++)
		frame_free(&fr[i]);

	assert_int_equal(exam_get(f->store, uuid, &e), SONO_OK);
	assert_int_equal(e.state, EXAM_SCANNING);
	assert_int_equal(e.stills, 1);
	assert_int_equal(e.cines, 1);
	assert_int_equal(exam_parts(f->store, uuid, copy_part, &part), SONO_OK);
	assert_string_equal(part.scanner_serial, "SP-SINK");
	assert_true(part.depth_mm == 80);
	assert_int_equal(exam_capture_sink(&sink, f->store, "00000000-0000-4000-8000-000000000000"),
		SONO_ENOTFOUND);
}

static int count_exam(const struct exam_summary *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void exams_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { .data_dir = f->dir };
	char uuid[CRYPTO_UUID_LEN];
	char err[512] = "";
	int count = 0;

	scanning_exam(f, &f->patient, uuid);
	add_cine(f, uuid, 2);
	assert_int_equal(exam_create(f->store, NULL, NULL, uuid), SONO_OK);
	store_close(f->store);
	assert_int_equal(store_open(&f->store, &opt, err, sizeof(err)), SONO_OK);
	assert_int_equal(exam_list(f->store, count_exam, &count), SONO_OK);
	assert_int_equal(count, 2);
	assert_int_equal(exam_verify_all(f->store, err, sizeof(err)), SONO_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lifecycle_to_completed, setup, teardown),
		cmocka_unit_test_setup_teardown(cine_frames_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(cine_delta_frames_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(part_metadata_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(measurements_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(transitions_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(preset_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(still_needs_scanning, setup, teardown),
		cmocka_unit_test_setup_teardown(unassigned_exam_gets_patient, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_patient_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(aborted_cine_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(cine_size_change_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_cine_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_removes_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(tombstone_keeps_only_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_frame_found, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_frame_found, setup, teardown),
		cmocka_unit_test_setup_teardown(exams_survive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_sink_saves_into_exam, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
