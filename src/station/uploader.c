/* The upload queue: which exams are due, back-off and retry bookkeeping in
 * the upload_jobs table, one pass over the queue, and the background
 * thread.  Sending one exam is in uploader_exam.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/session.h"
#include "station/uploader_internal.h"

#define NS_PER_MS 1000000ull
#define TOKEN_REFUSED_MESSAGE "the cloud refused the session token; log in again"

void uploader_options_defaults(struct uploader_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	cloud_options_defaults(&opt->cloud);
	opt->max_attempts = 8;
	opt->backoff_min_ms = 2000;
	opt->backoff_max_ms = 300000;
}

/* Creates the exam's upload_jobs row when missing. */
static int job_ensure(struct store *s, const char *uuid)
{
	return STORE_RUN(s, "creating an upload job", "INSERT OR IGNORE INTO upload_jobs (exam_id)"
		" SELECT id FROM exams WHERE uuid = ?1", STORE_TEXT(uuid));
}

/* Records a failed attempt: the count, the next retry time and the error. */
static int job_record_failure(struct store *s, const char *uuid, unsigned attempts,
	uint64_t next_ns, const char *error)
{
	return STORE_RUN(s, "recording an upload failure",
		"UPDATE upload_jobs SET attempts = ?2, next_attempt_ns = ?3,"
		" updated_ns = ?4, last_error = ?5"
		" WHERE exam_id = (SELECT id FROM exams WHERE uuid = ?1)",
		STORE_TEXT(uuid), STORE_INT(attempts), STORE_INT((int64_t)next_ns),
		STORE_INT((int64_t)frame_now_ns()), STORE_TEXT(error));
}

void uploader_note_bytes(struct uploader *u, uint64_t sent, uint64_t total)
{
	if (total == 0)
		return;
	pthread_mutex_lock(&u->lock);
	u->status.current_sent = sent;
	u->status.current_total = total;
	pthread_mutex_unlock(&u->lock);
}

void uploader_note_progress(struct uploader *u, const char *uuid, unsigned parts_done,
	unsigned parts_total, uint64_t bytes_done, uint64_t bytes_total)
{
	pthread_mutex_lock(&u->lock);
	snprintf(u->status.current, sizeof(u->status.current), "%s", uuid);
	pthread_mutex_unlock(&u->lock);
	uploader_note_bytes(u, bytes_done, bytes_total);
	STORE_RUN(u->s, "recording upload progress",
		"UPDATE upload_jobs SET parts_done = ?2, parts_total = ?3, updated_ns = ?4"
		" WHERE exam_id = (SELECT id FROM exams WHERE uuid = ?1)",
		STORE_TEXT(uuid), STORE_INT(parts_done), STORE_INT(parts_total),
		STORE_INT((int64_t)frame_now_ns()));
	STORE_RUN(u->s, "recording upload progress",
		"UPDATE upload_jobs SET bytes_done = ?2, bytes_total = ?3"
		" WHERE exam_id = (SELECT id FROM exams WHERE uuid = ?1)",
		STORE_TEXT(uuid), STORE_INT((int64_t)bytes_done), STORE_INT((int64_t)bytes_total));
}

static int enqueue_one(const struct exam_summary *e, void *arg)
{
	struct store *s = ((void **)arg)[0];
	unsigned *count = ((void **)arg)[1];

	if (e->state != EXAM_COMPLETED)
		return 0;
	if (!e->has_patient) {
		LOG_NOTICE("exam %s has no patient; assign one before it can be uploaded", e->uuid);
		return 0;
	}
	if (exam_set_state(s, e->uuid, EXAM_QUEUED) == 0 && job_ensure(s, e->uuid) == 0) {
		(*count)++;
		LOG_INFO("exam %s queued for upload", e->uuid);
	}
	return 0;
}

int uploader_enqueue_completed(struct store *s, unsigned *queued)
{
	unsigned count = 0;
	void *args[2] = { s, &count };
	int rc;

	rc = exam_list(s, enqueue_one, args);
	if (queued != NULL)
		*queued = count;
	return rc;
}

int uploader_retry(struct store *s, const char *uuid)
{
	struct exam_summary e;
	int rc;

	rc = exam_get(s, uuid, &e);
	if (rc == 0 && e.state != EXAM_FAILED && e.state != EXAM_QUEUED)
		return SONO_ESTATE;
	if (rc == 0 && e.state == EXAM_FAILED)
		rc = exam_set_state(s, uuid, EXAM_QUEUED);
	if (rc == 0)
		rc = job_ensure(s, uuid);
	if (rc == 0)
		rc = job_record_failure(s, uuid, 0, 0, "");
	if (rc == 0)
		LOG_NOTICE("exam %s queued again by the operator", uuid);
	return rc;
}

int uploader_hold(struct uploader *u, struct store *s, const char *uuid)
{
	struct exam_summary e;
	/* Without an uploader, any count above every configured cap holds. */
	unsigned max = u != NULL ? u->opt.max_attempts : 1000000u;
	int rc;

	rc = exam_get(s, uuid, &e);
	if (rc == 0 && e.state == EXAM_UPLOADING && u != NULL) {
		pthread_mutex_lock(&u->lock);
		snprintf(u->cancel, sizeof(u->cancel), "%s", uuid);
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	if (rc == 0 && e.state != EXAM_QUEUED && e.state != EXAM_FAILED)
		return SONO_ESTATE;
	if (rc == 0)
		rc = job_ensure(s, uuid);
	if (rc == 0)
		rc = job_record_failure(s, uuid, max, 0, "held by the operator");
	if (rc == 0)
		LOG_NOTICE("exam %s held by the operator", uuid);
	return rc;
}

static const char list_sql[] =
	"SELECT e.uuid, e.state, COALESCE(j.attempts, 0), COALESCE(j.next_attempt_ns, 0),"
	" COALESCE(j.parts_total, 0), COALESCE(j.parts_done, 0), COALESCE(j.bytes_total, 0),"
	" COALESCE(j.bytes_done, 0), COALESCE(j.last_error, ''),"
	" (SELECT COALESCE(sum(p.stored_bytes), 0) FROM parts p WHERE p.exam_id = e.id)"
	" FROM exams e LEFT JOIN upload_jobs j ON j.exam_id = e.id"
	" WHERE e.state IN ('queued', 'uploading', 'failed') ORDER BY e.id";

static void fill_job(sqlite3_stmt *st, struct uploader_job *job)
{
	memset(job, 0, sizeof(*job));
	snprintf(job->uuid, sizeof(job->uuid), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(job->state, sizeof(job->state), "%s", (const char *)sqlite3_column_text(st, 1));
	job->attempts = (unsigned)sqlite3_column_int64(st, 2);
	job->next_attempt_ns = (uint64_t)sqlite3_column_int64(st, 3);
	job->parts_total = (unsigned)sqlite3_column_int64(st, 4);
	job->parts_done = (unsigned)sqlite3_column_int64(st, 5);
	job->bytes_total = (uint64_t)sqlite3_column_int64(st, 6);
	job->bytes_done = (uint64_t)sqlite3_column_int64(st, 7);
	snprintf(job->last_error, sizeof(job->last_error), "%s",
		(const char *)sqlite3_column_text(st, 8));
	job->stored_bytes = (uint64_t)sqlite3_column_int64(st, 9);
}

int uploader_list(struct store *s, int (*fn)(const struct uploader_job *job, void *arg),
	void *arg)
{
	struct uploader_job job;
	sqlite3_stmt *st = NULL;
	int rc, step;

	rc = store_prepare(s, list_sql, &st);
	if (rc != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		fill_job(st, &job);
		rc = fn(&job, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, "listing the upload queue");
	sqlite3_finalize(st);
	return rc;
}

/* Exams due in this pass, and the earliest later retry time. */
struct due_list {
	char (*uuids)[CRYPTO_UUID_LEN];
	size_t count;
	size_t cap;
	uint64_t now_ns;
	unsigned max_attempts;
	uint64_t next_ns; /* UINT64_MAX when no retry is pending */
};

static int collect_due(const struct uploader_job *job, void *arg)
{
	struct due_list *d = arg;
	char (*grown)[CRYPTO_UUID_LEN];

	if (job->attempts >= d->max_attempts)
		return 0; /* failed for good or held: waits for the operator */
	if (strcmp(job->state, "failed") == 0) {
		if (job->next_attempt_ns > d->now_ns) {
			if (job->next_attempt_ns < d->next_ns)
				d->next_ns = job->next_attempt_ns;
			return 0;
		}
	}
	d->next_ns = d->now_ns;
	if (d->uuids == NULL)
		return 0; /* only the next time was asked for */
	if (d->count == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		grown = realloc(d->uuids, d->cap * sizeof(*grown));
		if (grown == NULL)
			return SONO_ENOMEM;
		d->uuids = grown;
	}
	snprintf(d->uuids[d->count++], CRYPTO_UUID_LEN, "%s", job->uuid);
	return 0;
}

/* Returns the delay before retry number attempts + 1: exponential, drawn
 * from the upper half of the step, and at least the cloud's Retry-After. */
static uint64_t backoff_ms(const struct uploader_options *opt, unsigned attempts,
	long retry_after_s)
{
	uint64_t delay = (uint64_t)opt->backoff_min_ms;
	uint32_t jitter = 0;
	unsigned i;

	for (i = 1; i < attempts && delay < (uint64_t)opt->backoff_max_ms; i++)
		delay *= 2;
	if (delay > (uint64_t)opt->backoff_max_ms)
		delay = (uint64_t)opt->backoff_max_ms;
	crypto_random(&jitter, sizeof(jitter));
	delay = delay / 2 + (delay / 2 > 0 ? jitter % (delay / 2 + 1) : 0);
	if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000 > delay)
		delay = (uint64_t)retry_after_s * 1000;
	return delay;
}

static void set_halt(struct uploader *u, enum uploader_halt halt, const char *message)
{
	pthread_mutex_lock(&u->lock);
	u->status.halt = halt;
	snprintf(u->status.message, sizeof(u->status.message), "%s", message);
	pthread_mutex_unlock(&u->lock);
}

/* Records a failed attempt on an uploading exam and schedules the retry,
 * or gives up when the error is not worth retrying or the cap is reached.
 * Returns the retry time in ns, or 0 when there is none. */
static uint64_t record_failure(struct uploader *u, const char *uuid,
	const struct cloud_result *res, const char *err)
{
	uint64_t delay = 0, next = 0;
	unsigned attempts = 1;
	int retryable = res->kind == CLOUD_ERR_UNREACHABLE || res->kind == CLOUD_ERR_SERVER ||
		res->kind == CLOUD_ERR_LOCKED || res->kind == CLOUD_ERR_LOCAL;
	sqlite3_stmt *st = NULL;

	if (STORE_PREPARE(u->s, &st, "SELECT attempts FROM upload_jobs WHERE exam_id ="
		    " (SELECT id FROM exams WHERE uuid = ?)", STORE_TEXT(uuid)) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			attempts = (unsigned)sqlite3_column_int64(st, 0) + 1;
		sqlite3_finalize(st);
	}
	if (!retryable)
		attempts = u->opt.max_attempts;
	if (attempts < u->opt.max_attempts) {
		delay = backoff_ms(&u->opt, attempts, res->retry_after_s);
		next = frame_now_ns() + delay * NS_PER_MS;
	}
	exam_set_state(u->s, uuid, EXAM_FAILED);
	job_record_failure(u->s, uuid, attempts, next, err);
	if (next != 0)
		LOG_NOTICE("exam %s: attempt %u failed (%s): %s; retrying in %llu ms", uuid, attempts,
			cloud_error_kind_name(res->kind), err, (unsigned long long)delay);
	else
		LOG_WARN("exam %s: upload failed (%s): %s; not retrying until the operator asks",
			uuid, cloud_error_kind_name(res->kind), err);
	return next;
}

/* Sends one due exam and sorts out what its failure means for the pass.
 * Returns 0 to go on with the next exam, or a negative code to end the
 * pass (login refused, certificate rejected, stopped, cloud unreachable). */
static int process_exam(struct uploader *u, struct cloud_client *c, const char *uuid)
{
	char err[UPLOADER_ERROR_MAX];
	struct cloud_result res;
	struct exam_summary e;
	uint64_t next;
	int rc;

	rc = exam_get(u->s, uuid, &e);
	if (rc == 0 && e.state != EXAM_UPLOADING)
		rc = exam_set_state(u->s, uuid, EXAM_UPLOADING);
	if (rc == 0)
		rc = job_ensure(u->s, uuid);
	if (rc < 0) {
		LOG_WARN("exam %s: cannot start its upload: %s", uuid, sono_strerror(rc));
		return 0;
	}
	memset(&res, 0, sizeof(res));
	rc = uploader_send_exam(u, c, uuid, &res, err, sizeof(err));
	if (rc == 0) {
		pthread_mutex_lock(&u->lock);
		u->status.uploaded++;
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	switch (res.kind) {
	case CLOUD_ERR_CREDENTIALS:
		exam_set_state(u->s, uuid, EXAM_QUEUED);
		memcpy(u->refused_hash, u->token_hash, sizeof(u->refused_hash));
		u->token_refused = 1;
		set_halt(u, UPLOADER_HALT_LOGIN, TOKEN_REFUSED_MESSAGE);
		return rc;
	case CLOUD_ERR_CERTIFICATE:
		exam_set_state(u->s, uuid, EXAM_QUEUED);
		set_halt(u, UPLOADER_HALT_CERTIFICATE, err);
		return rc;
	case CLOUD_ERR_CANCELLED:
		if (!atomic_load(&u->stop)) {
			/* The operator cancelled this exam only: hold it, go on. */
			pthread_mutex_lock(&u->lock);
			u->cancel[0] = '\0';
			pthread_mutex_unlock(&u->lock);
			exam_set_state(u->s, uuid, EXAM_FAILED);
			job_record_failure(u->s, uuid, u->opt.max_attempts, 0,
				"cancelled by the operator");
			LOG_NOTICE("exam %s: upload cancelled by the operator", uuid);
			return 0;
		}
		exam_set_state(u->s, uuid, EXAM_QUEUED);
		set_halt(u, UPLOADER_HALT_STOPPED, "the upload was stopped");
		return rc;
	default:
		next = record_failure(u, uuid, &res, err);
		set_halt(u, UPLOADER_RUNNING, err);
		pthread_mutex_lock(&u->lock);
		u->status.last_kind = res.kind;
		pthread_mutex_unlock(&u->lock);
		if (res.kind != CLOUD_ERR_UNREACHABLE && res.kind != CLOUD_ERR_SERVER &&
		    res.kind != CLOUD_ERR_LOCKED)
			return 0;
		/* The next exams would fail the same way: wait with all of them. */
		u->pause_until_ns = next;
		return rc;
	}
}

/* Opens a client with the current login's token.  Returns 0, or
 * SONO_EAUTH after setting the halt reason. */
static int open_client(struct uploader *u, struct cloud_client **c)
{
	struct store_cloud_session sess;
	char err[UPLOADER_ERROR_MAX];
	int rc;

	*c = NULL;
	rc = session_current(u->s, &sess, err, sizeof(err));
	if (rc == 0 && sess.token[0] == '\0') {
		snprintf(err, sizeof(err), "%s is logged in offline; uploads wait until an online "
			"login ('sonoterm login')", sess.username);
		rc = SONO_EAUTH;
	}
	/* A token the cloud refused stays refused: wait for a new login
	 * instead of sending it again. */
	if (rc == 0) {
		crypto_sha256(sess.token, strlen(sess.token), u->token_hash);
		if (u->token_refused && memcmp(u->token_hash, u->refused_hash,
			sizeof(u->token_hash)) == 0) {
			snprintf(err, sizeof(err), TOKEN_REFUSED_MESSAGE);
			rc = SONO_EAUTH;
		}
	}
	if (rc == 0)
		rc = cloud_client_new(c, &u->opt.cloud, err, sizeof(err));
	if (rc == 0)
		rc = cloud_client_set_token(*c, sess.token);
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc < 0) {
		cloud_client_free(*c);
		*c = NULL;
		set_halt(u, UPLOADER_HALT_LOGIN, err);
		return SONO_EAUTH;
	}
	return 0;
}

int uploader_run_pass(struct uploader *u)
{
	struct due_list due = { NULL, 0, 0, 0, 0, UINT64_MAX };
	struct cloud_client *c = NULL;
	size_t i;
	int rc;

	uploader_enqueue_completed(u->s, NULL);
	if (frame_now_ns() < u->pause_until_ns)
		return 0;
	/* The halt of the previous pass stays visible until this pass can
	 * send, so a login halt does not flicker before the next login. */
	rc = open_client(u, &c);
	if (rc < 0)
		return rc;
	set_halt(u, UPLOADER_RUNNING, "");
	due.now_ns = frame_now_ns();
	due.max_attempts = u->opt.max_attempts;
	due.uuids = calloc(1, sizeof(*due.uuids));
	rc = due.uuids ? uploader_list(u->s, collect_due, &due) : SONO_ENOMEM;
	for (i = 0; rc == 0 && i < due.count; i++) {
		if (atomic_load(&u->stop)) {
			set_halt(u, UPLOADER_HALT_STOPPED, "the upload was stopped");
			rc = SONO_ECLOSED;
			break;
		}
		rc = process_exam(u, c, due.uuids[i]);
	}
	pthread_mutex_lock(&u->lock);
	u->status.current[0] = '\0';
	u->status.current_sent = u->status.current_total = 0;
	pthread_mutex_unlock(&u->lock);
	free(due.uuids);
	cloud_client_free(c);
	return rc;
}

uint64_t uploader_next_due_ns(struct uploader *u)
{
	struct due_list due = { NULL, 0, 0, 0, 0, UINT64_MAX };

	due.now_ns = frame_now_ns();
	due.max_attempts = u->opt.max_attempts;
	if (uploader_list(u->s, collect_due, &due) < 0)
		return due.now_ns + 1000 * NS_PER_MS;
	if (due.next_ns != UINT64_MAX && due.next_ns < u->pause_until_ns)
		return u->pause_until_ns;
	return due.next_ns;
}

int uploader_new(struct uploader **out, struct store *s, const struct uploader_options *opt)
{
	struct uploader *u;

	*out = NULL;
	if (opt->max_attempts < 1 || opt->backoff_min_ms < 1 ||
	    opt->backoff_max_ms < opt->backoff_min_ms)
		return SONO_EINVAL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return SONO_ENOMEM;
	u->s = s;
	u->opt = *opt;
	pthread_mutex_init(&u->lock, NULL);
	atomic_init(&u->stop, 0);
	*out = u;
	return 0;
}

void uploader_request_stop(struct uploader *u)
{
	atomic_store(&u->stop, 1);
}

unsigned uploader_max_attempts(const struct uploader *u)
{
	return u->opt.max_attempts;
}

void uploader_get_status(struct uploader *u, struct uploader_status *out)
{
	pthread_mutex_lock(&u->lock);
	*out = u->status;
	pthread_mutex_unlock(&u->lock);
}

/* Sleeps until due_ns, at most max_ms, waking early on a stop request. */
static void sleep_until(struct uploader *u, uint64_t due_ns, uint64_t max_ms)
{
	struct timespec step = { 0, 100 * 1000000L };
	uint64_t end = frame_now_ns() + max_ms * NS_PER_MS;

	if (due_ns < end)
		end = due_ns;
	while (!atomic_load(&u->stop) && frame_now_ns() < end)
		nanosleep(&step, NULL);
}

static int halted_for_operator(struct uploader *u)
{
	enum uploader_halt halt;

	pthread_mutex_lock(&u->lock);
	halt = u->status.halt;
	pthread_mutex_unlock(&u->lock);
	return halt == UPLOADER_HALT_LOGIN || halt == UPLOADER_HALT_CERTIFICATE;
}

static void *uploader_thread(void *arg)
{
	struct uploader *u = arg;

	LOG_INFO("uploader thread started");
	while (!atomic_load(&u->stop)) {
		/* New completed exams are picked up within a second or two.
		 * After a login or certificate halt, the queue is due at once
		 * but waits for the operator, so the thread looks every 2 s. */
		int halted = uploader_run_pass(u) < 0 && halted_for_operator(u);

		sleep_until(u, halted ? UINT64_MAX : uploader_next_due_ns(u), 2000);
	}
	LOG_INFO("uploader thread stopped");
	return NULL;
}

int uploader_start(struct uploader *u)
{
	if (u->thread_started)
		return SONO_ESTATE;
	if (pthread_create(&u->thread, NULL, uploader_thread, u) != 0)
		return SONO_ENOMEM;
	u->thread_started = 1;
	return 0;
}

void uploader_join(struct uploader *u)
{
	if (!u->thread_started)
		return;
	uploader_request_stop(u);
	pthread_join(u->thread, NULL);
	u->thread_started = 0;
}

void uploader_free(struct uploader *u)
{
	if (u == NULL)
		return;
	uploader_join(u);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
