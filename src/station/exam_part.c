/* Stills and cines of an exam: zstd-compressed frames inside the encrypted
 * store, with a SHA-256 per frame and per part, and their verification. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zstd.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/exam_internal.h"

struct exam_cine {
	struct store *store;
	int64_t exam_row;
	int64_t part_id;
	enum exam_part_kind kind;
	char uuid[CRYPTO_UUID_LEN];
	struct exam_acquisition acq; /* measurements not kept: stored at begin */
	uint32_t width;
	uint32_t height;
	uint8_t components;
	size_t frame_bytes;
	uint32_t count;
	uint64_t first_ns;
	uint64_t last_ns;
	double first_spacing[2];
	uint64_t raw_bytes;
	uint64_t stored_bytes;
	struct crypto_sha256_ctx *sha;
	ZSTD_CCtx *zstd;
	uint8_t *zbuf;
	size_t zcap;
	uint8_t *prev; /* pixels of the previous frame, the next frame's prefix */
	sqlite3_stmt *insert;
	int failed;
};

static int check_number(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v && json_is_number(v) ? SONO_OK : SONO_EINVAL;
}

/* Checks measurements JSON (the format of exam_measurements_json) and writes
 * its compact form to *out (free with free()). */
static int normalize_measurements(const char *text, char **out)
{
	static const char *const keys[] = { "x1_mm", "y1_mm", "x2_mm", "y2_mm", "length_mm" };
	json_t *root;
	json_t *item;
	size_t i, k;
	int rc = SONO_OK;

	*out = NULL;
	if (!text)
		text = "[]";
	if (strlen(text) > EXAM_MEASUREMENTS_MAX)
		return SONO_ETOOBIG;
	root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!root || !json_is_array(root) || json_array_size(root) > EXAM_MEASUREMENTS_MAX_CALIPERS)
		rc = SONO_EINVAL;
	json_array_foreach(rc == 0 ? root : NULL, i, item) {
		if (!json_is_object(item) || json_object_size(item) != 5)
			rc = SONO_EINVAL;
		for (k = 0; rc == 0 && k < 5; k++)
			rc = check_number(item, keys[k]);
	}
	if (rc == 0) {
		*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!*out)
			rc = SONO_ENOMEM;
	}
	json_decref(root);
	return rc;
}

int exam_measurements_json(const struct exam_caliper *calipers, size_t n, char **json)
{
	json_t *root = json_array();
	json_t *item;
	double dx, dy;
	size_t i;
	int rc = root ? SONO_OK : SONO_ENOMEM;

	*json = NULL;
	if (n > EXAM_MEASUREMENTS_MAX_CALIPERS)
		rc = SONO_ETOOBIG;
	for (i = 0; rc == 0 && i < n; i++) {
		dx = calipers[i].x2_mm - calipers[i].x1_mm;
		dy = calipers[i].y2_mm - calipers[i].y1_mm;
		item = json_pack("{s:f, s:f, s:f, s:f, s:f}", "x1_mm", calipers[i].x1_mm,
			"y1_mm", calipers[i].y1_mm, "x2_mm", calipers[i].x2_mm,
			"y2_mm", calipers[i].y2_mm, "length_mm", sqrt(dx * dx + dy * dy));
		if (!item || json_array_append_new(root, item) != 0)
			rc = SONO_ENOMEM;
	}
	if (rc == 0) {
		*json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!*json)
			rc = SONO_ENOMEM;
	}
	json_decref(root);
	return rc;
}

static int insert_part(struct exam_cine *c, const char *measurements)
{
	static const char sql[] =
		"INSERT INTO parts (exam_id, kind, acquired_ns, scanner_serial, depth_mm, gain_db,"
		" spacing_x_mm, spacing_y_mm, width, height, components, frame_count, frame_rate,"
		" measurements, raw_bytes, stored_bytes, sha256)"
		" VALUES (?, ?, 0, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?, 0, 0, '')";
	int rc;

	rc = STORE_RUN(c->store, "storing a part", sql, STORE_INT(c->exam_row),
		STORE_TEXT(c->kind == EXAM_PART_CINE ? "cine" : "still"),
		STORE_TEXT(c->acq.scanner_serial), STORE_DOUBLE(c->acq.depth_mm),
		STORE_DOUBLE(c->acq.gain_db), STORE_DOUBLE(c->acq.frame_rate),
		STORE_TEXT(measurements));
	c->part_id = sqlite3_last_insert_rowid(store_db(c->store));
	return rc;
}

static void free_cine(struct exam_cine *c)
{
	uint8_t discard[CRYPTO_SHA256_LEN];

	sqlite3_finalize(c->insert);
	if (c->sha)
		crypto_sha256_end(c->sha, discard);
	ZSTD_freeCCtx(c->zstd);
	free(c->zbuf);
	free(c->prev);
	free(c);
}

/* Opens the part's transaction once the exam is found to be scanning. */
static int start_part(struct exam_cine *c, const char *uuid, const char *measurements)
{
	static const char frame_sql[] =
		"INSERT INTO frames (part_id, idx, timestamp_ns, sha256, data, delta)"
		" VALUES (?, ?, ?, ?, ?, ?)";
	enum exam_state state = EXAM_DRAFT;
	int rc;

	rc = store_begin(c->store);
	if (rc != 0)
		return rc;
	rc = exam_lookup(c->store, uuid, &c->exam_row, &state);
	if (rc == 0 && state != EXAM_SCANNING) {
		LOG_NOTICE("exam %s: images are stored only while scanning, not when %s", uuid,
			exam_state_name(state));
		rc = SONO_ESTATE;
	}
	if (rc == 0)
		rc = insert_part(c, measurements);
	if (rc == 0)
		rc = store_prepare(c->store, frame_sql, &c->insert);
	if (rc != 0)
		store_rollback(c->store);
	return rc;
}

static int begin_part(struct store *s, const char *uuid, enum exam_part_kind kind,
	const struct exam_acquisition *acq, struct exam_cine **out)
{
	struct exam_cine *c = NULL;
	char *measurements = NULL;
	int rc;

	*out = NULL;
	if (!acq || memchr(acq->scanner_serial, '\0', sizeof(acq->scanner_serial)) == NULL)
		return SONO_EINVAL;
	rc = normalize_measurements(acq->measurements, &measurements);
	if (rc != 0) {
		LOG_NOTICE("exam %s: rejected measurements that are not a list of caliper pairs",
			uuid ? uuid : "?");
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = SONO_ENOMEM;
		goto out;
	}
	c->store = s;
	c->kind = kind;
	c->acq = *acq;
	c->acq.measurements = NULL;
	snprintf(c->uuid, sizeof(c->uuid), "%s", uuid ? uuid : "");
	c->sha = crypto_sha256_begin();
	c->zstd = ZSTD_createCCtx();
	if (!c->sha || !c->zstd) {
		rc = SONO_ENOMEM;
		goto out;
	}
	rc = start_part(c, uuid, measurements);
out:
	free(measurements);
	if (rc != 0 && c) {
		free_cine(c);
		return rc;
	}
	*out = c;
	return rc;
}

int exam_cine_begin(struct store *s, const char *uuid, const struct exam_acquisition *acq,
	struct exam_cine **out)
{
	return begin_part(s, uuid, EXAM_PART_CINE, acq, out);
}

/* Checks a frame against the part's geometry, taking it from the first frame. */
static int check_geometry(struct exam_cine *c, const struct frame *f)
{
	size_t n;

	if (!f || !f->pixels || (f->components != 1 && f->components != 3))
		return SONO_EINVAL;
	n = frame_size(f->width, f->height, f->components, FRAME_MAX_BYTES);
	if (n == 0)
		return SONO_ETOOBIG;
	if (c->count == 0) {
		c->width = f->width;
		c->height = f->height;
		c->components = f->components;
		c->frame_bytes = n;
		c->first_ns = f->timestamp_ns;
		c->first_spacing[0] = f->spacing_mm[0];
		c->first_spacing[1] = f->spacing_mm[1];
		return SONO_OK;
	}
	if (f->width != c->width || f->height != c->height || f->components != c->components)
		return SONO_EINVAL;
	if (c->count >= (c->kind == EXAM_PART_CINE ? EXAM_CINE_MAX_FRAMES : 1))
		return SONO_ETOOBIG;
	return SONO_OK;
}

/* Returns 1 when frame number count of the part is compressed against the
 * previous frame. */
static int is_delta(const struct exam_cine *c)
{
	return c->kind == EXAM_PART_CINE && c->count % EXAM_KEYFRAME_INTERVAL != 0;
}

static int compress_frame(struct exam_cine *c, const struct frame *f, size_t *zlen)
{
	size_t bound = ZSTD_compressBound(c->frame_bytes);
	uint8_t *grown;
	size_t n;

	if (bound > c->zcap) {
		grown = realloc(c->zbuf, bound);
		if (!grown)
			return SONO_ENOMEM;
		c->zbuf = grown;
		c->zcap = bound;
	}
	n = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, EXAM_ZSTD_LEVEL);
	if (!ZSTD_isError(n) && is_delta(c))
		n = ZSTD_CCtx_refPrefix(c->zstd, c->prev, c->frame_bytes);
	if (!ZSTD_isError(n))
		n = ZSTD_compress2(c->zstd, c->zbuf, c->zcap, f->pixels, c->frame_bytes);
	if (ZSTD_isError(n)) {
		LOG_ERROR("exam %s: zstd failed: %s", c->uuid, ZSTD_getErrorName(n));
		return SONO_EIO;
	}
	*zlen = n;
	return SONO_OK;
}

/* Keeps the frame's pixels as the prefix of the next one. */
static int keep_previous(struct exam_cine *c, const struct frame *f)
{
	if (c->kind != EXAM_PART_CINE)
		return SONO_OK;
	if (!c->prev) {
		c->prev = malloc(c->frame_bytes);
		if (!c->prev)
			return SONO_ENOMEM;
	}
	memcpy(c->prev, f->pixels, c->frame_bytes);
	return SONO_OK;
}

static int insert_frame(struct exam_cine *c, const struct frame *f, const uint8_t *digest,
	size_t zlen)
{
	int rc = SONO_OK;

	sqlite3_reset(c->insert);
	sqlite3_bind_int64(c->insert, 1, c->part_id);
	sqlite3_bind_int64(c->insert, 2, c->count);
	sqlite3_bind_int64(c->insert, 3, (int64_t)f->timestamp_ns);
	sqlite3_bind_blob(c->insert, 4, digest, CRYPTO_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(c->insert, 5, c->zbuf, (int)zlen, SQLITE_STATIC);
	sqlite3_bind_int(c->insert, 6, is_delta(c));
	if (sqlite3_step(c->insert) != SQLITE_DONE)
		rc = store_fail(c->store, "storing a frame");
	return rc;
}

int exam_cine_add(struct exam_cine *c, const struct frame *frame)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	size_t zlen = 0;
	int rc;

	if (c->failed)
		return SONO_ESTATE;
	rc = check_geometry(c, frame);
	if (rc == 0)
		rc = compress_frame(c, frame, &zlen);
	if (rc == 0) {
		crypto_sha256(frame->pixels, c->frame_bytes, digest);
		rc = crypto_sha256_update(c->sha, frame->pixels, c->frame_bytes);
	}
	if (rc == 0)
		rc = insert_frame(c, frame, digest, zlen);
	if (rc == 0)
		rc = keep_previous(c, frame);
	if (rc != 0) {
		LOG_ERROR("exam %s: frame %u of a %s not stored: %s", c->uuid, (unsigned)c->count,
			c->kind == EXAM_PART_CINE ? "cine" : "still", sono_strerror(rc));
		sqlite3_reset(c->insert);
		store_rollback(c->store);
		c->failed = 1;
		return rc;
	}
	c->count++;
	c->last_ns = frame->timestamp_ns;
	c->raw_bytes += c->frame_bytes;
	c->stored_bytes += zlen;
	return SONO_OK;
}

/* Returns the caller's frame rate, or for a cine without one the rate of its
 * frame timestamps (0 for a still or a single frame). */
static double frame_rate(const struct exam_cine *c)
{
	if (c->acq.frame_rate > 0 || c->kind == EXAM_PART_STILL)
		return c->acq.frame_rate;
	if (c->count < 2 || c->last_ns <= c->first_ns)
		return 0;
	return (c->count - 1) / ((double)(c->last_ns - c->first_ns) / 1e9);
}

static int finish_part(struct exam_cine *c, const char *sha_hex)
{
	static const char sql[] =
		"UPDATE parts SET acquired_ns = ?2, spacing_x_mm = ?3, spacing_y_mm = ?4, width = ?5,"
		" height = ?6, components = ?7, frame_count = ?8, raw_bytes = ?9, stored_bytes = ?10,"
		" sha256 = ?11, frame_rate = ?12 WHERE id = ?1";
	const double *spacing = c->acq.spacing_mm;

	return STORE_RUN(c->store, "finishing a part", sql, STORE_INT(c->part_id),
		STORE_INT((int64_t)(c->acq.acquired_ns ? c->acq.acquired_ns : c->first_ns)),
		STORE_DOUBLE(spacing[0] > 0 ? spacing[0] : c->first_spacing[0]),
		STORE_DOUBLE(spacing[1] > 0 ? spacing[1] : c->first_spacing[1]),
		STORE_INT(c->width), STORE_INT(c->height), STORE_INT(c->components),
		STORE_INT(c->count), STORE_INT((int64_t)c->raw_bytes),
		STORE_INT((int64_t)c->stored_bytes), STORE_TEXT(sha_hex),
		STORE_DOUBLE(frame_rate(c)));
}

int exam_cine_end(struct exam_cine *c, int64_t *part_id)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN];
	int rc = SONO_OK;

	if (c->failed || c->count == 0) {
		rc = c->failed ? SONO_ESTATE : SONO_EINVAL;
		exam_cine_abort(c);
		return rc;
	}
	rc = crypto_sha256_end(c->sha, digest);
	c->sha = NULL;
	if (rc == 0) {
		crypto_hex(digest, sizeof(digest), hex);
		rc = finish_part(c, hex);
	}
	sqlite3_finalize(c->insert);
	c->insert = NULL;
	if (rc == 0) {
		exam_assert_invariants(c->store, c->exam_row);
		rc = store_commit(c->store);
	}
	if (rc != 0) {
		exam_cine_abort(c);
		return rc;
	}
	LOG_INFO("exam %s: stored %s %lld, %u frames, %llu bytes compressed to %llu", c->uuid,
		c->kind == EXAM_PART_CINE ? "cine" : "still", (long long)c->part_id,
		(unsigned)c->count, (unsigned long long)c->raw_bytes,
		(unsigned long long)c->stored_bytes);
	if (part_id)
		*part_id = c->part_id;
	free_cine(c);
	return SONO_OK;
}

void exam_cine_abort(struct exam_cine *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->insert);
	c->insert = NULL;
	if (!c->failed)
		store_rollback(c->store);
	LOG_NOTICE("exam %s: %s discarded after %u frames", c->uuid,
		c->kind == EXAM_PART_CINE ? "cine" : "still", (unsigned)c->count);
	free_cine(c);
}

int exam_add_still(struct store *s, const char *uuid, const struct exam_acquisition *acq,
	const struct frame *frame, int64_t *part_id)
{
	struct exam_cine *c = NULL;
	int rc;

	rc = begin_part(s, uuid, EXAM_PART_STILL, acq, &c);
	if (rc != 0)
		return rc;
	rc = exam_cine_add(c, frame);
	if (rc != 0) {
		exam_cine_abort(c);
		return rc;
	}
	return exam_cine_end(c, part_id);
}

static void fill_part(sqlite3_stmt *st, struct exam_part *p)
{
	const unsigned char *text;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	text = sqlite3_column_text(st, 1);
	p->kind = text && !strcmp((const char *)text, "cine") ? EXAM_PART_CINE : EXAM_PART_STILL;
	p->acquired_ns = (uint64_t)sqlite3_column_int64(st, 2);
	text = sqlite3_column_text(st, 3);
	snprintf(p->scanner_serial, sizeof(p->scanner_serial), "%s", text ? (const char *)text : "");
	p->depth_mm = sqlite3_column_double(st, 4);
	p->gain_db = sqlite3_column_double(st, 5);
	p->spacing_mm[0] = sqlite3_column_double(st, 6);
	p->spacing_mm[1] = sqlite3_column_double(st, 7);
	p->frame_rate = sqlite3_column_double(st, 8);
	p->width = (uint32_t)sqlite3_column_int64(st, 9);
	p->height = (uint32_t)sqlite3_column_int64(st, 10);
	p->components = (uint8_t)sqlite3_column_int(st, 11);
	p->frame_count = (uint32_t)sqlite3_column_int64(st, 12);
	p->raw_bytes = (uint64_t)sqlite3_column_int64(st, 13);
	p->stored_bytes = (uint64_t)sqlite3_column_int64(st, 14);
	text = sqlite3_column_text(st, 15);
	snprintf(p->sha256, sizeof(p->sha256), "%s", text ? (const char *)text : "");
}

int exam_parts(struct store *s, const char *uuid,
	int (*fn)(const struct exam_part *part, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id, kind, acquired_ns, scanner_serial, depth_mm, gain_db, spacing_x_mm,"
		" spacing_y_mm, frame_rate, width, height, components, frame_count, raw_bytes,"
		" stored_bytes, sha256 FROM parts WHERE exam_id = ? ORDER BY id";
	struct exam_part part;
	enum exam_state state;
	sqlite3_stmt *st = NULL;
	int64_t row = 0;
	int step = SQLITE_DONE;
	int rc;

	rc = exam_lookup(s, uuid, &row, &state);
	if (rc == 0)
		rc = STORE_PREPARE(s, &st, sql, STORE_INT(row));
	if (rc != 0)
		return rc;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		fill_part(st, &part);
		rc = fn(&part, arg);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, "listing parts");
	sqlite3_finalize(st);
	return rc;
}

int exam_part_measurements(struct store *s, int64_t part_id, char **json)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *text;
	int rc;

	*json = NULL;
	rc = STORE_PREPARE(s, &st, "SELECT measurements FROM parts WHERE id = ?",
		STORE_INT(part_id));
	if (rc != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		text = sqlite3_column_text(st, 0);
		*json = strdup(text ? (const char *)text : "[]");
		rc = *json ? SONO_OK : SONO_ENOMEM;
	} else {
		rc = SONO_ENOTFOUND;
	}
	sqlite3_finalize(st);
	return rc;
}

#define FRAME_COLUMNS \
	"SELECT f.sha256, f.data, f.timestamp_ns, p.width, p.height, p.components," \
	" p.spacing_x_mm, p.spacing_y_mm, f.idx, f.delta FROM frames f" \
	" JOIN parts p ON p.id = f.part_id"

/* Decodes a part's frames in order: a delta frame needs the frame before it
 * as its zstd prefix, so cur and prev swap after each frame. */
struct frame_reader {
	ZSTD_DCtx *zstd;
	struct frame cur;
	struct frame prev;
	int64_t prev_idx; /* -1: no previous frame decoded */
};

static int reader_init(struct frame_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->prev_idx = -1;
	r->zstd = ZSTD_createDCtx();
	return r->zstd ? SONO_OK : SONO_ENOMEM;
}

static void reader_free(struct frame_reader *r)
{
	ZSTD_freeDCtx(r->zstd);
	frame_free(&r->cur);
	frame_free(&r->prev);
}

/* Checks the row's geometry and makes r->cur hold n bytes of pixels. */
static int reader_prepare(struct frame_reader *r, sqlite3_stmt *st, size_t *n)
{
	int64_t width = sqlite3_column_int64(st, 3);
	int64_t height = sqlite3_column_int64(st, 4);
	int comps = sqlite3_column_int(st, 5);
	struct frame swap = r->prev;

	if (width <= 0 || width > FRAME_MAX_DIM || height <= 0 || height > FRAME_MAX_DIM ||
	    (comps != 1 && comps != 3) || sqlite3_column_bytes(st, 0) != CRYPTO_SHA256_LEN ||
	    !sqlite3_column_blob(st, 1))
		return SONO_EDB;
	*n = frame_size((uint32_t)width, (uint32_t)height, (unsigned)comps, FRAME_MAX_BYTES);
	if (*n == 0)
		return SONO_EDB;
	r->prev = r->cur;
	r->cur = swap;
	if (!r->cur.pixels ||
	    frame_size(r->cur.width, r->cur.height, r->cur.components, FRAME_MAX_BYTES) != *n) {
		frame_free(&r->cur);
		if (frame_alloc(&r->cur, (uint32_t)width, (uint32_t)height, (unsigned)comps,
				FRAME_MAX_BYTES) != 0)
			return SONO_ENOMEM;
	}
	r->cur.width = (uint32_t)width;
	r->cur.height = (uint32_t)height;
	r->cur.components = (uint8_t)comps;
	return SONO_OK;
}

/* Decompresses the current row of a FRAME_COLUMNS statement into r->cur and
 * checks it against its SHA-256.  Sizes from the row are checked before
 * anything is allocated. */
static int reader_decode(struct frame_reader *r, sqlite3_stmt *st)
{
	const void *data = sqlite3_column_blob(st, 1);
	size_t zlen = (size_t)sqlite3_column_bytes(st, 1);
	int64_t idx = sqlite3_column_int64(st, 8);
	int delta = sqlite3_column_int(st, 9);
	uint8_t digest[CRYPTO_SHA256_LEN];
	size_t n = 0;
	size_t got;
	int rc;

	rc = reader_prepare(r, st, &n);
	if (rc != 0)
		return rc;
	if (ZSTD_getFrameContentSize(data, zlen) != n)
		return SONO_EDB;
	if (delta && (r->prev_idx != idx - 1 || !r->prev.pixels ||
		      frame_size(r->prev.width, r->prev.height, r->prev.components,
			      FRAME_MAX_BYTES) != n))
		return SONO_EDB;
	if (delta && ZSTD_isError(ZSTD_DCtx_refPrefix(r->zstd, r->prev.pixels, n)))
		return SONO_EDB;
	got = ZSTD_decompressDCtx(r->zstd, r->cur.pixels, n, data, zlen);
	if (ZSTD_isError(got) || got != n)
		return SONO_EDB;
	crypto_sha256(r->cur.pixels, n, digest);
	if (!crypto_equal(digest, sqlite3_column_blob(st, 0), CRYPTO_SHA256_LEN))
		return SONO_EDB;
	r->cur.timestamp_ns = (uint64_t)sqlite3_column_int64(st, 2);
	r->cur.spacing_mm[0] = sqlite3_column_double(st, 6);
	r->cur.spacing_mm[1] = sqlite3_column_double(st, 7);
	r->cur.seq = (uint32_t)idx;
	r->prev_idx = idx;
	return SONO_OK;
}

int exam_read_frame(struct store *s, int64_t part_id, uint32_t index, struct frame *out)
{
	static const char sql[] = FRAME_COLUMNS
		" WHERE f.part_id = ?1 AND f.idx <= ?2 AND f.idx >= (SELECT max(idx) FROM frames"
		"  WHERE part_id = ?1 AND idx <= ?2 AND delta = 0) ORDER BY f.idx";
	struct frame_reader r;
	sqlite3_stmt *st = NULL;
	int step = SQLITE_DONE;
	int rc;

	rc = reader_init(&r);
	if (rc == 0)
		rc = store_prepare(s, sql, &st);
	if (rc != 0)
		goto out;
	sqlite3_bind_int64(st, 1, part_id);
	sqlite3_bind_int64(st, 2, index);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = reader_decode(&r, st);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_fail(s, "reading a frame");
	if (rc == 0 && r.prev_idx != (int64_t)index)
		rc = SONO_ENOTFOUND;
	if (rc == SONO_EDB)
		LOG_ERROR("part %lld frame %u is damaged: size or SHA-256 does not match",
			(long long)part_id, (unsigned)index);
	if (rc == 0)
		rc = frame_copy(out, &r.cur);
out:
	sqlite3_finalize(st);
	reader_free(&r);
	return rc;
}

/* Verification state passed through exam_list() and exam_parts(). */
struct verify_ctx {
	struct store *store;
	const char *uuid;
	char *err;
	size_t errlen;
	unsigned long parts;
	unsigned long frames;
};

/* Decodes every frame of one part in order and compares counts and hashes. */
static int verify_frames(struct store *s, const struct exam_part *part, uint32_t *count,
	uint8_t digest[CRYPTO_SHA256_LEN])
{
	struct crypto_sha256_ctx *sha = crypto_sha256_begin();
	struct frame_reader r;
	sqlite3_stmt *st = NULL;
	int rc;

	*count = 0;
	rc = reader_init(&r);
	if (rc == 0)
		rc = sha ? store_prepare(s, FRAME_COLUMNS " WHERE f.part_id = ? ORDER BY f.idx", &st)
			 : SONO_ENOMEM;
	if (rc == 0)
		sqlite3_bind_int64(st, 1, part->id);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 8) != *count || reader_decode(&r, st) != 0)
			rc = SONO_EDB;
		else
			rc = crypto_sha256_update(sha, r.cur.pixels, frame_size(r.cur.width,
				r.cur.height, r.cur.components, FRAME_MAX_BYTES));
		if (rc == 0)
			(*count)++;
	}
	sqlite3_finalize(st);
	reader_free(&r);
	if (crypto_sha256_end(sha, digest) != 0 && rc == 0)
		rc = SONO_EDB;
	return rc;
}

static int verify_part(const struct exam_part *part, void *arg)
{
	struct verify_ctx *v = arg;
	uint8_t digest[CRYPTO_SHA256_LEN] = { 0 };
	char hex[CRYPTO_SHA256_HEX_LEN];
	uint32_t count = 0;
	int rc;

	rc = verify_frames(v->store, part, &count, digest);
	crypto_hex(digest, sizeof(digest), hex);
	if (rc == 0 && (count != part->frame_count || strcmp(hex, part->sha256) != 0))
		rc = SONO_EDB;
	if (rc != 0) {
		snprintf(v->err, v->errlen, "exam %s part %lld: frame %u is missing or does not match "
			"its SHA-256", v->uuid, (long long)part->id, (unsigned)count);
		return SONO_EDB;
	}
	v->parts++;
	v->frames += count;
	return SONO_OK;
}

static int verify_exam(const struct exam_summary *e, void *arg)
{
	struct verify_ctx *v = arg;
	char why[160];

	v->uuid = e->uuid;
	if (exam_check_invariants(v->store, e->row, why, sizeof(why)) != 0) {
		snprintf(v->err, v->errlen, "exam %s: %s", e->uuid, why);
		return SONO_EDB;
	}
	return exam_parts(v->store, e->uuid, verify_part, v);
}

int exam_verify_all(struct store *s, char *err, size_t errlen)
{
	struct verify_ctx v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.store = s;
	v.err = err;
	v.errlen = errlen;
	err[0] = '\0';
	rc = exam_list(s, verify_exam, &v);
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "verification failed: %s", sono_strerror(rc));
	if (rc == 0)
		LOG_INFO("verified %lu parts with %lu frames", v.parts, v.frames);
	return rc;
}

/* Sequential reading of a part's frames, for the uploader: one statement
 * walks the frames in order, so each delta frame is decoded once instead
 * of from its key frame again as exam_read_frame() does. */
struct exam_frame_cursor {
	sqlite3_stmt *st;
	struct frame_reader r;
	uint32_t next;
	int done; /* stepping past SQLITE_DONE would restart the statement */
};

int exam_frames_open(struct store *s, int64_t part_id, struct exam_frame_cursor **out)
{
	struct exam_frame_cursor *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return SONO_ENOMEM;
	rc = reader_init(&c->r);
	if (rc == 0)
		rc = store_prepare(s, FRAME_COLUMNS " WHERE f.part_id = ? ORDER BY f.idx", &c->st);
	if (rc != 0) {
		exam_frames_close(c);
		return rc;
	}
	sqlite3_bind_int64(c->st, 1, part_id);
	*out = c;
	return SONO_OK;
}

int exam_frames_next(struct exam_frame_cursor *c, const struct frame **frame)
{
	int step;
	int rc;

	*frame = NULL;
	if (c->done)
		return SONO_OK;
	step = sqlite3_step(c->st);
	if (step == SQLITE_DONE) {
		c->done = 1;
		return SONO_OK;
	}
	if (step != SQLITE_ROW)
		return SONO_EDB;
	if (sqlite3_column_int64(c->st, 8) != c->next)
		return SONO_EDB;
	rc = reader_decode(&c->r, c->st);
	if (rc != 0)
		return rc;
	c->next++;
	*frame = &c->r.cur;
	return SONO_OK;
}

void exam_frames_close(struct exam_frame_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->st);
	reader_free(&c->r);
	free(c);
}
