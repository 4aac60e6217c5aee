/* The exam lifecycle in the station store: creation, changes of state,
 * patients, listing, deletion and tombstones.  The state table and its
 * invariants are written down in exam.h. */
#include "config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/exam_internal.h"

#define BIT(state) (1u << (state))

static const char *const state_names[EXAM_STATE_COUNT] = {
	[EXAM_DRAFT] = "draft",
	[EXAM_SCANNING] = "scanning",
	[EXAM_COMPLETED] = "completed",
	[EXAM_QUEUED] = "queued",
	[EXAM_UPLOADING] = "uploading",
	[EXAM_UPLOADED] = "uploaded",
	[EXAM_FAILED] = "failed",
	[EXAM_EXPORTED] = "exported",
};

/* The allowed changes of state, one bit per target state. */
static const unsigned transitions[EXAM_STATE_COUNT] = {
	[EXAM_DRAFT] = BIT(EXAM_SCANNING),
	[EXAM_SCANNING] = BIT(EXAM_COMPLETED),
	[EXAM_COMPLETED] = BIT(EXAM_QUEUED) | BIT(EXAM_EXPORTED),
	[EXAM_EXPORTED] = BIT(EXAM_QUEUED),
	[EXAM_QUEUED] = BIT(EXAM_UPLOADING),
	[EXAM_UPLOADING] = BIT(EXAM_UPLOADED) | BIT(EXAM_FAILED) | BIT(EXAM_QUEUED),
	[EXAM_FAILED] = BIT(EXAM_QUEUED) | BIT(EXAM_UPLOADING),
	[EXAM_UPLOADED] = 0,
};

const char *exam_state_name(enum exam_state state)
{
	return (unsigned)state < EXAM_STATE_COUNT ? state_names[state] : "invalid";
}

int exam_state_parse(const char *name, enum exam_state *state)
{
	int i;

	for (i = 0; i < EXAM_STATE_COUNT; i++) {
		if (name && !strcmp(name, state_names[i])) {
			*state = (enum exam_state)i;
			return SONO_OK;
		}
	}
	return SONO_EINVAL;
}

int exam_check_preset(const char *preset, char *msg, size_t msglen)
{
	size_t n = preset ? strlen(preset) : 0;

	if (n < EXAM_PRESET_MAX && strspn(preset ? preset : "",
			"abcdefghijklmnopqrstuvwxyz0123456789-_") == n)
		return SONO_OK;
	snprintf(msg, msglen, "Exam type: use up to %d lowercase letters, digits, '-' or '_', "
		"for example abdomen", EXAM_PRESET_MAX - 1);
	return SONO_EINVAL;
}

int exam_transition_allowed(enum exam_state from, enum exam_state to)
{
	if ((unsigned)from >= EXAM_STATE_COUNT || (unsigned)to >= EXAM_STATE_COUNT)
		return 0;
	return (transitions[from] & BIT(to)) != 0;
}

int exam_lookup(struct store *s, const char *uuid, int64_t *row, enum exam_state *state)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!uuid || !crypto_uuid_valid(uuid))
		return SONO_EINVAL;
	rc = STORE_PREPARE(s, &st, "SELECT id, state FROM exams WHERE uuid = ?", STORE_TEXT(uuid));
	if (rc != 0)
		return rc;
	rc = store_step_row(s, st, "looking up an exam");
	if (rc == 0) {
		*row = sqlite3_column_int64(st, 0);
		if (exam_state_parse((const char *)sqlite3_column_text(st, 1), state) != 0)
			rc = SONO_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The facts the invariants are about, for one exam. */
struct exam_facts {
	enum exam_state state;
	int tombstone;
	int64_t started_ns;
	int64_t completed_ns;
	int patients;
	int parts;
	int short_parts; /* parts whose frame rows differ from frame_count */
};

static int load_facts(struct store *s, int64_t row, struct exam_facts *f)
{
	static const char sql[] =
		"SELECT e.state, e.tombstone, e.started_ns, e.completed_ns,"
		" (SELECT count(*) FROM patients WHERE exam_id = e.id),"
		" (SELECT count(*) FROM parts WHERE exam_id = e.id),"
		" (SELECT count(*) FROM parts p WHERE p.exam_id = e.id AND p.frame_count !="
		"  (SELECT count(*) FROM frames WHERE part_id = p.id))"
		" FROM exams e WHERE e.id = ?";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = STORE_PREPARE(s, &st, sql, STORE_INT(row));
	if (rc != 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_fail(s, "reading an exam's invariants");
		goto out;
	}
	if (exam_state_parse((const char *)sqlite3_column_text(st, 0), &f->state) != 0)
		rc = SONO_EDB;
	f->tombstone = sqlite3_column_int(st, 1);
	f->started_ns = sqlite3_column_int64(st, 2);
	f->completed_ns = sqlite3_column_int64(st, 3);
	f->patients = sqlite3_column_int(st, 4);
	f->parts = sqlite3_column_int(st, 5);
	f->short_parts = sqlite3_column_int(st, 6);
out:
	sqlite3_finalize(st);
	return rc;
}

int exam_check_invariants(struct store *s, int64_t row, char *err, size_t errlen)
{
	struct exam_facts f;
	const char *broken = NULL;
	int after_completed;
	int rc;

	rc = load_facts(s, row, &f);
	if (rc != 0) {
		snprintf(err, errlen, "cannot read the exam's state");
		return rc;
	}
	after_completed = f.state != EXAM_DRAFT && f.state != EXAM_SCANNING;
	if (f.short_parts > 0)
		broken = "a part has fewer or more frames than its frame count";
	else if (after_completed && !f.tombstone && f.parts == 0)
		broken = "a completed exam has no stills or cines";
	else if ((f.state == EXAM_QUEUED || f.state == EXAM_UPLOADING || f.state == EXAM_EXPORTED) &&
		 f.patients == 0)
		broken = "a queued, uploading or exported exam has no patient";
	else if (f.tombstone != (f.state == EXAM_UPLOADED))
		broken = "tombstone flag and uploaded state disagree";
	else if (f.tombstone && (f.patients > 0 || f.parts > 0))
		broken = "a tombstone still holds patient data or images";
	else if (f.state != EXAM_DRAFT && f.started_ns == 0)
		broken = "a started exam has no start time";
	else if (after_completed && f.completed_ns == 0)
		broken = "a completed exam has no completion time";
	if (!broken)
		return SONO_OK;
	snprintf(err, errlen, "%s (state %s)", broken, exam_state_name(f.state));
	return SONO_EDB;
}

void exam_assert_invariants(struct store *s, int64_t row)
{
#ifndef NDEBUG
	char err[160];
	int rc = exam_check_invariants(s, row, err, sizeof(err));

	if (rc != 0)
		LOG_ERROR("exam row %lld breaks an invariant: %s", (long long)row, err);
	assert(rc == 0);
#else
	(void)s;
	(void)row;
#endif
}

/* Ends the transaction of a change to the exam at row: commits it after
 * checking the invariants when rc is 0, else rolls it back.  Returns the
 * final code. */
static int end_change(struct store *s, int64_t row, int rc)
{
	if (rc == 0) {
		exam_assert_invariants(s, row);
		rc = store_commit(s);
	}
	if (rc != 0)
		store_rollback(s);
	return rc;
}

static int insert_exam(struct store *s, const char *uuid, const char *preset, int64_t *row)
{
	static const char sql[] =
		"INSERT INTO exams (uuid, state, preset, created_ns, updated_ns) VALUES (?, 'draft', ?, ?, ?)";
	int64_t now = (int64_t)frame_now_ns();
	int rc;

	rc = STORE_RUN(s, "creating an exam", sql, STORE_TEXT(uuid),
		STORE_TEXT(preset ? preset : ""), STORE_INT(now), STORE_INT(now));
	*row = sqlite3_last_insert_rowid(store_db(s));
	return rc;
}

int exam_create(struct store *s, const struct patient *p, const char *preset,
	char uuid[CRYPTO_UUID_LEN])
{
	char msg[256];
	int64_t row = 0;
	int rc;

	if (p && patient_validate(p, NULL, msg, sizeof(msg)) != 0) {
		LOG_NOTICE("rejected a new exam: %s", msg);
		return SONO_EINVAL;
	}
	if (exam_check_preset(preset, msg, sizeof(msg)) != 0) {
		LOG_NOTICE("rejected a new exam: %s", msg);
		return SONO_EINVAL;
	}
	rc = crypto_uuid(uuid);
	if (rc != 0)
		return rc;
	rc = store_begin(s);
	if (rc == 0)
		rc = insert_exam(s, uuid, preset, &row);
	if (rc == 0 && p)
		rc = patient_store(s, row, p);
	rc = end_change(s, row, rc);
	if (rc != 0)
		return rc;
	LOG_INFO("created exam %s (%s)", uuid, p ? "with patient" : "unassigned");
	return SONO_OK;
}

static const char summary_sql[] =
	"SELECT e.id, e.uuid, e.state, e.preset, e.created_ns, e.started_ns, e.completed_ns,"
	" e.updated_ns, e.uploaded_ns, e.receipt_id, e.tombstone,"
	" EXISTS (SELECT 1 FROM patients WHERE exam_id = e.id),"
	" (SELECT count(*) FROM parts WHERE exam_id = e.id AND kind = 'still'),"
	" (SELECT count(*) FROM parts WHERE exam_id = e.id AND kind = 'cine'),"
	" (SELECT coalesce(sum(raw_bytes), 0) FROM parts WHERE exam_id = e.id),"
	" (SELECT coalesce(sum(stored_bytes), 0) FROM parts WHERE exam_id = e.id)"
	" FROM exams e";

static int fill_summary(sqlite3_stmt *st, struct exam_summary *e)
{
	memset(e, 0, sizeof(*e));
	e->row = sqlite3_column_int64(st, 0);
	store_column_text(st, 1, e->uuid, sizeof(e->uuid));
	if (exam_state_parse((const char *)sqlite3_column_text(st, 2), &e->state) != 0)
		return SONO_EDB;
	store_column_text(st, 3, e->preset, sizeof(e->preset));
	e->created_ns = (uint64_t)sqlite3_column_int64(st, 4);
	e->started_ns = (uint64_t)sqlite3_column_int64(st, 5);
	e->completed_ns = (uint64_t)sqlite3_column_int64(st, 6);
	e->updated_ns = (uint64_t)sqlite3_column_int64(st, 7);
	e->uploaded_ns = (uint64_t)sqlite3_column_int64(st, 8);
	store_column_text(st, 9, e->receipt_id, sizeof(e->receipt_id));
	e->tombstone = sqlite3_column_int(st, 10);
	e->has_patient = sqlite3_column_int(st, 11);
	e->stills = (unsigned)sqlite3_column_int(st, 12);
	e->cines = (unsigned)sqlite3_column_int(st, 13);
	e->raw_bytes = (uint64_t)sqlite3_column_int64(st, 14);
	e->stored_bytes = (uint64_t)sqlite3_column_int64(st, 15);
	return SONO_OK;
}

int exam_get(struct store *s, const char *uuid, struct exam_summary *out)
{
	char sql[sizeof(summary_sql) + 32];
	sqlite3_stmt *st = NULL;
	int rc;

	if (!uuid || !crypto_uuid_valid(uuid))
		return SONO_EINVAL;
	snprintf(sql, sizeof(sql), "%s WHERE e.uuid = ?", summary_sql);
	rc = STORE_PREPARE(s, &st, sql, STORE_TEXT(uuid));
	if (rc != 0)
		return rc;
	rc = store_step_row(s, st, "reading an exam");
	if (rc == 0)
		rc = fill_summary(st, out);
	sqlite3_finalize(st);
	return rc;
}

int exam_list(struct store *s, int (*fn)(const struct exam_summary *e, void *arg), void *arg)
{
	char sql[sizeof(summary_sql) + 48];
	struct exam_summary e;
	sqlite3_stmt *st = NULL;
	int step = SQLITE_DONE;
	int rc;

	snprintf(sql, sizeof(sql), "%s ORDER BY e.created_ns, e.id", summary_sql);
	rc = store_prepare(s, sql, &st);
	if (rc != 0)
		return rc;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fill_summary(st, &e);
		if (rc == 0)
			rc = fn(&e, arg);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, "listing exams");
	sqlite3_finalize(st);
	return rc;
}

/* Checks the preconditions of from -> to beyond the state table. */
static int check_change(struct store *s, int64_t row, enum exam_state from, enum exam_state to,
	const char *uuid)
{
	struct exam_facts f;
	int rc;

	if (!exam_transition_allowed(from, to) || to == EXAM_UPLOADED) {
		LOG_NOTICE("exam %s: change from %s to %s is not allowed", uuid,
			exam_state_name(from), exam_state_name(to));
		return SONO_ESTATE;
	}
	rc = load_facts(s, row, &f);
	if (rc != 0)
		return rc;
	if (to == EXAM_COMPLETED && f.parts == 0) {
		LOG_NOTICE("exam %s: cannot complete an exam without stills or cines", uuid);
		return SONO_ESTATE;
	}
	if ((to == EXAM_QUEUED || to == EXAM_EXPORTED) && f.patients == 0) {
		LOG_NOTICE("exam %s: attach a patient before it is %s", uuid, exam_state_name(to));
		return SONO_ESTATE;
	}
	return SONO_OK;
}

static int update_state(struct store *s, int64_t row, enum exam_state to)
{
	static const char sql[] =
		"UPDATE exams SET state = ?2, updated_ns = ?3,"
		" started_ns = CASE WHEN ?2 = 'scanning' AND started_ns = 0 THEN ?3 ELSE started_ns END,"
		" completed_ns = CASE WHEN ?2 = 'completed' THEN ?3 ELSE completed_ns END"
		" WHERE id = ?1";

	return STORE_RUN(s, "changing an exam's state", sql, STORE_INT(row),
		STORE_TEXT(exam_state_name(to)), STORE_INT((int64_t)frame_now_ns()));
}

int exam_set_state(struct store *s, const char *uuid, enum exam_state to)
{
	enum exam_state from = EXAM_DRAFT;
	int64_t row = 0;
	int rc;

	rc = store_begin(s);
	if (rc == 0)
		rc = exam_lookup(s, uuid, &row, &from);
	if (rc == 0)
		rc = check_change(s, row, from, to, uuid);
	if (rc == 0)
		rc = update_state(s, row, to);
	rc = end_change(s, row, rc);
	if (rc != 0)
		return rc;
	LOG_INFO("exam %s: %s -> %s", uuid, exam_state_name(from), exam_state_name(to));
	return SONO_OK;
}

static int touch_exam(struct store *s, int64_t row)
{
	return STORE_RUN(s, "updating an exam", "UPDATE exams SET updated_ns = ? WHERE id = ?",
		STORE_INT((int64_t)frame_now_ns()), STORE_INT(row));
}

int exam_attach_patient(struct store *s, const char *uuid, const struct patient *p)
{
	enum exam_state state = EXAM_DRAFT;
	int64_t row = 0;
	char msg[256];
	int rc;

	if (patient_validate(p, NULL, msg, sizeof(msg)) != 0) {
		LOG_NOTICE("exam %s: rejected the patient: %s", uuid, msg);
		return SONO_EINVAL;
	}
	rc = store_begin(s);
	if (rc == 0)
		rc = exam_lookup(s, uuid, &row, &state);
	if (rc == 0 && state != EXAM_DRAFT && state != EXAM_SCANNING && state != EXAM_COMPLETED) {
		LOG_NOTICE("exam %s: the patient cannot change once the exam is %s", uuid,
			exam_state_name(state));
		rc = SONO_ESTATE;
	}
	if (rc == 0)
		rc = patient_store(s, row, p);
	if (rc == 0)
		rc = touch_exam(s, row);
	rc = end_change(s, row, rc);
	if (rc != 0)
		return rc;
	LOG_INFO("exam %s: patient attached", uuid);
	return SONO_OK;
}

int exam_load_patient(struct store *s, const char *uuid, struct patient *p)
{
	enum exam_state state;
	int64_t row;
	int rc;

	patient_init(p);
	rc = exam_lookup(s, uuid, &row, &state);
	if (rc == 0)
		rc = patient_load(s, row, p);
	return rc;
}

/* Truncates the WAL after a deletion.  The deletion itself has committed, so
 * a checkpoint that a reader blocks is logged and left for the next one. */
static void checkpoint_after_delete(struct store *s, const char *uuid)
{
	if (store_checkpoint(s) != 0)
		LOG_WARN("exam %s: WAL not truncated yet because another connection is reading; "
			"the next checkpoint or close truncates it", uuid);
}

int exam_delete(struct store *s, const char *uuid)
{
	enum exam_state state = EXAM_DRAFT;
	int64_t row = 0;
	int rc;

	rc = store_begin(s);
	if (rc == 0)
		rc = exam_lookup(s, uuid, &row, &state);
	if (rc == 0 && state == EXAM_UPLOADING) {
		LOG_NOTICE("exam %s: cannot delete while it is uploading; cancel the upload first", uuid);
		rc = SONO_ESTATE;
	}
	if (rc == 0)
		rc = STORE_RUN(s, "deleting an exam", "DELETE FROM exams WHERE id = ?",
			STORE_INT(row));
	if (rc == 0)
		rc = store_commit(s);
	if (rc != 0) {
		store_rollback(s);
		return rc;
	}
	LOG_NOTICE("exam %s deleted (was %s)", uuid, exam_state_name(state));
	checkpoint_after_delete(s, uuid);
	return SONO_OK;
}

static int mark_tombstone(struct store *s, int64_t row, const char *receipt_id)
{
	static const char sql[] =
		"UPDATE exams SET state = 'uploaded', tombstone = 1, receipt_id = ?2,"
		" uploaded_ns = ?3, updated_ns = ?3 WHERE id = ?1";

	return STORE_RUN(s, "marking an exam uploaded", sql, STORE_INT(row), STORE_TEXT(receipt_id),
		STORE_INT((int64_t)frame_now_ns()));
}

int exam_tombstone(struct store *s, const char *uuid, const char *receipt_id)
{
	enum exam_state state = EXAM_DRAFT;
	int64_t row = 0;
	int rc;

	if (!receipt_id || receipt_id[0] == '\0' || strlen(receipt_id) >= EXAM_RECEIPT_MAX)
		return SONO_EINVAL;
	rc = store_begin(s);
	if (rc == 0)
		rc = exam_lookup(s, uuid, &row, &state);
	if (rc == 0 && state != EXAM_UPLOADING) {
		LOG_NOTICE("exam %s: only an uploading exam becomes a tombstone, not a %s one", uuid,
			exam_state_name(state));
		rc = SONO_ESTATE;
	}
	if (rc == 0)
		rc = STORE_RUN(s, "deleting a patient", "DELETE FROM patients WHERE exam_id = ?",
			STORE_INT(row));
	if (rc == 0)
		rc = STORE_RUN(s, "deleting images", "DELETE FROM parts WHERE exam_id = ?",
			STORE_INT(row));
	if (rc == 0)
		rc = mark_tombstone(s, row, receipt_id);
	rc = end_change(s, row, rc);
	if (rc != 0)
		return rc;
	LOG_NOTICE("exam %s uploaded; patient data and images deleted, tombstone kept", uuid);
	checkpoint_after_delete(s, uuid);
	return SONO_OK;
}
