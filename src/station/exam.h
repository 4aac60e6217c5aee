/* Exams in the station store: the lifecycle, stills and cines, patients,
 * deletion, tombstones and verification.
 *
 * States and the allowed changes of state:
 *
 *   draft      -> scanning
 *   scanning   -> completed
 *   completed  -> queued, exported
 *   exported   -> queued
 *   queued     -> uploading
 *   uploading  -> uploaded (only through exam_tombstone), failed, queued
 *   failed     -> queued, uploading
 *
 * Invariants, checked after every change with assert() in debug builds:
 *   1. Stills and cines are added only while the exam is scanning, and a
 *      cine is written in one transaction, so no part is ever half-stored.
 *   2. An exam in completed or a later state (except a tombstone) has at
 *      least one part, and every part has exactly frame_count frames.
 *   3. queued, uploading and exported exams have a patient.
 *   4. An exam is a tombstone exactly when it is uploaded; a tombstone has
 *      no patient and no parts, only its UUID, receipt id and times.
 *   5. started_ns is set from scanning on, completed_ns from completed on.
 * Every change of state is one transaction.  An exam can be deleted in any
 * state except uploading.
 *
 * All functions return 0 or a negative SONO_E* code: SONO_ENOTFOUND for an
 * unknown UUID, SONO_ESTATE for a change the current state does not allow. */
#ifndef STATION_EXAM_H
#define STATION_EXAM_H

#include <stddef.h>
#include <stdint.h>

#include "sono/crypto.h"
#include "sono/frame.h"
#include "station/patient.h"
#include "station/store.h"

/* zstd level for frames: level 1 keeps a 30 fps cine well ahead of real
 * time on a two-core machine (see bench/RESULTS.md). */
#define EXAM_ZSTD_LEVEL 1
/* A cine frame is compressed with the previous frame as a zstd prefix,
 * except every EXAM_KEYFRAME_INTERVAL-th frame (a key frame), which is
 * compressed alone.  Reading one frame decodes at most this many frames. */
#define EXAM_KEYFRAME_INTERVAL 30
/* Caps on what one part may hold; checked before anything is allocated. */
#define EXAM_CINE_MAX_FRAMES 3600
#define EXAM_MEASUREMENTS_MAX 16384
#define EXAM_MEASUREMENTS_MAX_CALIPERS 64
#define EXAM_SERIAL_MAX 64
#define EXAM_RECEIPT_MAX 128
#define EXAM_PRESET_MAX 32

enum exam_state {
	EXAM_DRAFT,
	EXAM_SCANNING,
	EXAM_COMPLETED,
	EXAM_QUEUED,
	EXAM_UPLOADING,
	EXAM_UPLOADED,
	EXAM_FAILED,
	EXAM_EXPORTED,
	EXAM_STATE_COUNT,
};

enum exam_part_kind {
	EXAM_PART_STILL,
	EXAM_PART_CINE,
};

/* Acquisition settings of a still or cine. */
struct exam_acquisition {
	uint64_t acquired_ns;   /* 0: the first frame's timestamp */
	char scanner_serial[EXAM_SERIAL_MAX];
	double depth_mm;
	double gain_db;
	double spacing_mm[2];   /* x, y; 0: taken from the first frame */
	double frame_rate;      /* frames per second of a cine; 0 for a still */
	const char *measurements; /* JSON from exam_measurements_json(); NULL: none */
};

/* One caliper pair: two points in mm from the image's top-left corner. */
struct exam_caliper {
	double x1_mm, y1_mm;
	double x2_mm, y2_mm;
};

struct exam_summary {
	int64_t row;
	char uuid[CRYPTO_UUID_LEN];
	enum exam_state state;
	char preset[EXAM_PRESET_MAX];
	uint64_t created_ns;
	uint64_t started_ns;
	uint64_t completed_ns;
	uint64_t updated_ns;
	uint64_t uploaded_ns;
	char receipt_id[EXAM_RECEIPT_MAX];
	int tombstone;
	int has_patient;
	unsigned stills;
	unsigned cines;
	uint64_t raw_bytes;    /* pixels before compression */
	uint64_t stored_bytes; /* compressed frames */
};

struct exam_part {
	int64_t id;
	enum exam_part_kind kind;
	uint64_t acquired_ns;
	char scanner_serial[EXAM_SERIAL_MAX];
	double depth_mm;
	double gain_db;
	double spacing_mm[2];
	double frame_rate;
	uint32_t width;
	uint32_t height;
	uint8_t components;
	uint32_t frame_count;
	uint64_t raw_bytes;
	uint64_t stored_bytes;
	/* SHA-256 of the uncompressed pixels of all frames in order; the uploader
	 * compares it with the cloud's receipt. */
	char sha256[CRYPTO_SHA256_HEX_LEN];
};

struct exam_cine;

const char *exam_state_name(enum exam_state state);
int exam_state_parse(const char *name, enum exam_state *state);

/* Checks an exam type (preset): empty, or up to EXAM_PRESET_MAX - 1
 * lowercase letters, digits, '-' and '_' like the scanner's presets.
 * Returns 0, or SONO_EINVAL with a message naming the field and the fix. */
int exam_check_preset(const char *preset, char *msg, size_t msglen);

/* Returns 1 when the lifecycle allows from -> to, else 0. */
int exam_transition_allowed(enum exam_state from, enum exam_state to);

/* Creates a draft exam with a new UUID, written to uuid.  p may be NULL for
 * an unassigned exam; otherwise it must pass patient_validate().  preset
 * (may be NULL) must pass exam_check_preset(). */
int exam_create(struct store *s, const struct patient *p, const char *preset,
	char uuid[CRYPTO_UUID_LEN]);

/* Fills out for the exam with this UUID. */
int exam_get(struct store *s, const char *uuid, struct exam_summary *out);

/* Calls fn for every exam, oldest first, until fn returns non-zero (which
 * exam_list then returns). */
int exam_list(struct store *s, int (*fn)(const struct exam_summary *e, void *arg), void *arg);

/* Moves the exam to state to in one transaction.  Use exam_tombstone() for
 * uploaded, which also deletes the patient and images. */
int exam_set_state(struct store *s, const char *uuid, enum exam_state to);

/* Stores p as the exam's patient: for an unassigned exam, or to correct the
 * patient while the exam is draft, scanning or completed. */
int exam_attach_patient(struct store *s, const char *uuid, const struct patient *p);

/* Loads the exam's patient; SONO_ENOTFOUND when the exam is unassigned. */
int exam_load_patient(struct store *s, const char *uuid, struct patient *p);

/* Deletes the exam with its patient and images (secure_delete overwrites the
 * freed pages), then truncates the WAL.  Rejected while uploading. */
int exam_delete(struct store *s, const char *uuid);

/* Turns an uploading exam into a tombstone after a verified upload.  One
 * transaction moves it to uploaded and deletes its patient and parts, so
 * only the UUID, receipt id and times remain.  Then truncates the WAL. */
int exam_tombstone(struct store *s, const char *uuid, const char *receipt_id);

/* Stores frame as a still of a scanning exam; *part_id (may be NULL) gets its id. */
int exam_add_still(struct store *s, const char *uuid, const struct exam_acquisition *acq,
	const struct frame *frame, int64_t *part_id);

/* Starts recording a cine into a scanning exam.  The whole cine is one
 * transaction, so the store is locked for other writers until
 * exam_cine_end() or exam_cine_abort(), and a crash loses only this cine. */
int exam_cine_begin(struct store *s, const char *uuid, const struct exam_acquisition *acq,
	struct exam_cine **out);

/* Compresses and stores one frame.  Every frame must have the first frame's
 * size.  On error the cine is rolled back and only exam_cine_abort() is left. */
int exam_cine_add(struct exam_cine *c, const struct frame *frame);

/* Commits the cine and frees c; *part_id (may be NULL) gets its id.
 * A cine without frames is rejected (SONO_EINVAL) and rolled back. */
int exam_cine_end(struct exam_cine *c, int64_t *part_id);

/* Rolls the cine back and frees c; accepts NULL. */
void exam_cine_abort(struct exam_cine *c);

/* Calls fn for each part of the exam in the order they were captured. */
int exam_parts(struct store *s, const char *uuid,
	int (*fn)(const struct exam_part *part, void *arg), void *arg);

/* Decompresses frame index of a part into out (pixels reused when the size
 * matches) and checks it against its stored SHA-256 (SONO_EDB on mismatch). */
int exam_read_frame(struct store *s, int64_t part_id, uint32_t index, struct frame *out);

/* A cursor over a part's frames in capture order. */
struct exam_frame_cursor;

/* Opens a cursor over the frames of part_id.  The cursor keeps a statement
 * open on s until exam_frames_close().  Returns 0 or SONO_ENOMEM / SONO_EDB. */
int exam_frames_open(struct store *s, int64_t part_id, struct exam_frame_cursor **out);

/* Decodes the next frame and checks its SHA-256.  Sets *frame to it (valid
 * until the next call) or to NULL after the last frame.  Returns 0, or
 * SONO_EDB for a damaged or missing frame. */
int exam_frames_next(struct exam_frame_cursor *c, const struct frame **frame);

/* Closes the cursor; accepts NULL. */
void exam_frames_close(struct exam_frame_cursor *c);

/* Returns the measurements JSON of a part in a malloc'ed string. */
int exam_part_measurements(struct store *s, int64_t part_id, char **json);

/* Builds the measurements JSON for n caliper pairs: an array of objects
 * {"x1_mm", "y1_mm", "x2_mm", "y2_mm", "length_mm"}.  Frees with free(). */
int exam_measurements_json(const struct exam_caliper *calipers, size_t n, char **json);

/* Reads every frame of every stored part, compares the per-frame and
 * per-part hashes and the frame counts, and checks the lifecycle invariants
 * of every exam.  Returns 0, or
 * SONO_EDB with the first problem (exam UUID and part) in err. */
int exam_verify_all(struct store *s, char *err, size_t errlen);

#endif
