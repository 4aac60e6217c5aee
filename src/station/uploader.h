/* The exam uploader: sends completed exams to the cloud and, once the
 * cloud's receipt confirms every part, deletes their patient data and
 * images, leaving a tombstone.
 *
 * One exam goes up as:
 *   POST /exams {uuid, patient, meta}          idempotent by UUID
 *   PUT  /exams/{uuid}/parts/{n}               n = 1..k: the uncompressed
 *        pixels of each still or cine, in capture order, with the part's
 *        stored SHA-256 in X-Content-SHA256 (read from the store on every
 *        attempt); n = k + 1: the exam metadata JSON (acquisition values,
 *        geometry and hash of every part; deterministic, so a resend after
 *        a commit matches)
 *   POST /exams/{uuid}/commit                  receipt {receipt_id, parts}
 * and then, when the receipt lists exactly parts 1..k+1 with the sizes and
 * hashes sent, exam_tombstone() marks it uploaded, deletes patient and
 * images in one transaction and truncates the WAL.
 *
 * States (exam.h): completed -> queued -> uploading -> uploaded, or
 * uploading -> failed -> uploading (retry) and uploading -> queued (the
 * login ended, the certificate failed, or the uploader stopped).  The
 * upload_jobs table keeps attempts, next retry time, last error and
 * progress, so a restarted station resumes.  An exam left in uploading is
 * sent again from the start.  Every step above is idempotent on the cloud,
 * so nothing is duplicated.
 *
 * Retries: network errors, timeouts, 5xx, 423 and 429 are retried after an
 * exponential back-off with jitter (doubling from backoff_min_ms up to
 * backoff_max_ms, each delay drawn from its upper half), never sooner than
 * the cloud's Retry-After, up to max_attempts; after that, or at once for
 * any other 4xx, the exam stays failed until the operator retries it.
 *
 * Functions return 0 or a negative SONO_E* code. */
#ifndef STATION_UPLOADER_H
#define STATION_UPLOADER_H

#include <stddef.h>
#include <stdint.h>

#include "sono/crypto.h"
#include "station/cloud_client.h"
#include "station/store.h"

#define UPLOADER_ERROR_MAX 256

struct uploader_options {
	struct cloud_options cloud;
	unsigned max_attempts;  /* automatic attempts per exam (default 8) */
	long backoff_min_ms;    /* first retry delay (default 2000) */
	long backoff_max_ms;    /* maximum retry delay (default 300000) */
};

/* One exam in the upload queue, from the store. */
struct uploader_job {
	char uuid[CRYPTO_UUID_LEN];
	char state[16];          /* exam state name */
	unsigned attempts;
	uint64_t next_attempt_ns; /* 0: now, or never when attempts reached the cap */
	unsigned parts_total;
	unsigned parts_done;
	uint64_t bytes_total;
	uint64_t bytes_done;
	uint64_t stored_bytes;   /* the exam's compressed size on the station */
	char last_error[UPLOADER_ERROR_MAX];
};

/* Reason a pass stopped early. */
enum uploader_halt {
	UPLOADER_RUNNING,
	UPLOADER_HALT_LOGIN,       /* nobody logged in online, or the token was refused */
	UPLOADER_HALT_CERTIFICATE, /* the cloud's certificate was rejected */
	UPLOADER_HALT_STOPPED,     /* uploader_stop() or a cancel */
};

/* A snapshot of the uploader's progress for screens and the upload command. */
struct uploader_status {
	enum uploader_halt halt;
	char current[CRYPTO_UUID_LEN]; /* exam being sent, "" when idle */
	uint64_t current_sent;          /* bytes of the exam sent so far */
	uint64_t current_total;
	unsigned uploaded;              /* exams tombstoned since start */
	char message[UPLOADER_ERROR_MAX]; /* the last halt reason or error */
	enum cloud_error_kind last_kind;  /* of the last failed exam */
};

struct uploader;

/* Fills opt with the defaults listed in struct uploader_options. */
void uploader_options_defaults(struct uploader_options *opt);

/* Moves every completed exam with a patient to queued.  Exams without a
 * patient are skipped with a notice.  *queued (may be NULL) gets the count. */
int uploader_enqueue_completed(struct store *s, unsigned *queued);

/* Moves a failed exam back to queued with its attempts reset, or resets
 * the attempts of a held queued exam (the retry key of the queue screen).
 * SONO_ESTATE when the exam is in neither state. */
int uploader_retry(struct store *s, const char *uuid);

/* Holds a queued or failed exam: no automatic attempts until
 * uploader_retry().  When u is not NULL and the exam is being sent, the
 * transfer is cancelled and the exam held.  SONO_ESTATE for other states. */
int uploader_hold(struct uploader *u, struct store *s, const char *uuid);

/* Calls fn for every exam in queued, uploading or failed, oldest first. */
int uploader_list(struct store *s, int (*fn)(const struct uploader_job *job, void *arg),
	void *arg);

/* Creates an uploader that works on store s, either from the calling
 * thread (uploader_run_pass) or from its own thread (uploader_start).  For
 * the thread, s must be a connection of its own (open the store a second
 * time), because a struct store serves one thread at a time.  The caller
 * keeps s open for the uploader's life and closes it after uploader_free. */
int uploader_new(struct uploader **out, struct store *s, const struct uploader_options *opt);

/* Runs one pass in the calling thread: queues completed exams, then sends
 * every exam whose retry time has come.  Returns 0, or a negative code when
 * the pass halted (see uploader_status.halt). */
int uploader_run_pass(struct uploader *u);

/* Returns the earliest pending retry time in ns, 0 when an exam is ready
 * now, or UINT64_MAX when nothing is waiting for an automatic retry. */
uint64_t uploader_next_due_ns(struct uploader *u);

/* Starts the background thread, which runs a pass, then sleeps until the
 * next retry is due (checking every second for new completed exams) until
 * uploader_request_stop().  Returns 0 or SONO_ENOMEM. */
int uploader_start(struct uploader *u);

/* Asks a running pass to stop after the current request (which is
 * cancelled through libcurl's progress callback).  Safe from any thread. */
void uploader_request_stop(struct uploader *u);

/* Returns the configured cap of automatic attempts per exam. */
unsigned uploader_max_attempts(const struct uploader *u);

/* Copies the progress.  Safe from any thread. */
void uploader_get_status(struct uploader *u, struct uploader_status *out);

/* Stops and joins the background thread if it runs; a no-op otherwise.
 * Afterwards uploader_get_status() shows the final counts. */
void uploader_join(struct uploader *u);

/* Stops and joins the background thread if it runs, then frees u; accepts
 * NULL.  Without a thread, call only when no pass is running. */
void uploader_free(struct uploader *u);

#endif
