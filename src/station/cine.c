/* The cine buffer: a ring of zstd-compressed frames in groups of a key
 * frame and differences, bounded by time, compressed bytes and count. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/cine.h"

/* zstd level for the ring.  Level 1 is the fastest non-negative level;
 * bench/cine.sh records its cost per frame. */
#define CINE_ZSTD_LEVEL 1
/* A visible frame may need the hidden start of its group, so the ring has
 * room for one group more than the visible maximum. */
#define CINE_SLOTS (CINE_FRAMES_MAX + CINE_KEY_INTERVAL)

/* One stored frame: its metadata (pixels NULL) and its compressed pixels,
 * or for a difference the compressed (frame - previous frame) mod 256. */
struct cine_entry {
	struct frame info;
	uint8_t *data;
	size_t size;
	int key;
};

/* Invariants, checked by check_invariants() in debug builds:
 *  1. The stored entries are ring[(head + j) % CINE_SLOTS] for j < stored,
 *     oldest first, with the ids first_id + j.  Other slots own no data.
 *  2. The first stored entry is a key frame, and every difference has the
 *     size of the entry before it.
 *  3. The first `hidden` stored entries are older than the span or the
 *     frame cap but start the group of the first visible entry, so no key
 *     frame lies among entries 1 .. hidden; hidden < CINE_KEY_INTERVAL.
 *  4. bytes is the sum of the stored sizes and does not exceed max_bytes.
 *  5. When stored > 0, last contains the newest stored frame, uncompressed.
 *  6. view contains the entry with id view_id when view_valid is set. */
struct cine {
	struct cine_entry ring[CINE_SLOTS];
	size_t head;
	size_t stored;
	size_t hidden;
	size_t group_len;          /* entries in the newest group */
	uint64_t first_id;
	size_t bytes;
	size_t max_bytes;
	uint64_t span_ns;
	struct frame last;
	struct frame view;
	uint64_t view_id;
	int view_valid;
	uint8_t *diff;             /* a difference before compression or after decompression */
	uint8_t *zbuf;             /* compressor output */
	size_t work_cap;           /* bytes of diff; zbuf has ZSTD_compressBound(work_cap) */
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

static size_t frame_bytes(const struct frame *f)
{
	return (size_t)f->width * f->height * f->components;
}

static struct cine_entry *entry(const struct cine *c, size_t j)
{
	return (struct cine_entry *)&c->ring[(c->head + j) % CINE_SLOTS];
}

static void check_invariants(const struct cine *c)
{
#ifndef NDEBUG
	size_t j, sum = 0;

	for (j = 0; j < c->stored; j++) {
		const struct cine_entry *e = entry(c, j);

		sum += e->size;
		if ((j == 0 && !e->key) || (j > 0 && j <= c->hidden && e->key) || !e->data)
			abort();
		if (!e->key && frame_bytes(&e->info) != frame_bytes(&entry(c, j - 1)->info))
			abort();
	}
	if (sum != c->bytes || c->bytes > c->max_bytes || c->hidden >= CINE_KEY_INTERVAL ||
	    (c->stored > 0 && c->hidden >= c->stored))
		abort();
#else
	(void)c;
#endif
}

struct cine *cine_new(double seconds, size_t max_bytes)
{
	struct cine *c;

	if (!(seconds >= 0.5 && seconds <= 120.0) || max_bytes == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_bytes = max_bytes;
	c->span_ns = (uint64_t)(seconds * 1e9);
	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx) {
		cine_free(c);
		return NULL;
	}
	return c;
}

void cine_free(struct cine *c)
{
	if (!c)
		return;
	cine_clear(c);
	frame_free(&c->view);
	free(c->diff);
	free(c->zbuf);
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c);
}

/* Frees the oldest stored entry. */
static void free_oldest(struct cine *c)
{
	struct cine_entry *e = entry(c, 0);

	c->bytes -= e->size;
	free(e->data);
	memset(e, 0, sizeof(*e));
	c->head = (c->head + 1) % CINE_SLOTS;
	c->first_id++;
	c->stored--;
	if (c->hidden > 0)
		c->hidden--;
}

/* Frees the oldest group: its key frame and the differences up to the next
 * key frame, visible or hidden. */
static void drop_oldest_group(struct cine *c)
{
	free_oldest(c);
	while (c->stored > 0 && !entry(c, 0)->key)
		free_oldest(c);
	c->hidden = 0;
	if (c->stored == 0)
		c->group_len = 0;
}

/* Hides the oldest visible frame, and frees the hidden entries once the
 * first visible frame starts a group of its own. */
static void hide_oldest(struct cine *c)
{
	c->hidden++;
	if (c->hidden < c->stored && entry(c, c->hidden)->key) {
		while (c->hidden > 0)
			free_oldest(c);
	}
}

size_t cine_count(const struct cine *c)
{
	return c->stored - c->hidden;
}

const struct frame *cine_info(const struct cine *c, size_t i)
{
	if (i >= cine_count(c))
		return NULL;
	return &entry(c, c->hidden + i)->info;
}

double cine_span_seconds(const struct cine *c)
{
	size_t n = cine_count(c);

	if (n < 2)
		return 0.0;
	return (double)(cine_info(c, n - 1)->timestamp_ns - cine_info(c, 0)->timestamp_ns) / 1e9;
}

size_t cine_bytes(const struct cine *c)
{
	return c->bytes;
}

void cine_clear(struct cine *c)
{
	while (c->stored > 0)
		free_oldest(c);
	c->head = 0;
	c->hidden = 0;
	c->group_len = 0;
	c->view_valid = 0;
	frame_free(&c->last);
}

/* Grows the work buffers for frames of n bytes.  Returns 0 or SONO_ENOMEM. */
static int reserve_work(struct cine *c, size_t n)
{
	uint8_t *grown;

	if (n <= c->work_cap)
		return 0;
	grown = realloc(c->diff, n);
	if (!grown)
		return SONO_ENOMEM;
	c->diff = grown;
	grown = realloc(c->zbuf, ZSTD_compressBound(n));
	if (!grown)
		return SONO_ENOMEM;
	c->zbuf = grown;
	c->work_cap = n;
	return 0;
}

static int same_geometry(const struct frame *a, const struct frame *b)
{
	return a->width == b->width && a->height == b->height && a->components == b->components;
}

/* Compresses f into zbuf, alone when key is set, else as its difference to
 * last, and stores the compressed size in *zlen.  Returns 0 or SONO_EIO. */
static int encode(struct cine *c, const struct frame *f, int key, size_t *zlen)
{
	size_t n = frame_bytes(f), i, r;
	const uint8_t *src = f->pixels;

	if (!key) {
		for (i = 0; i < n; i++)
			c->diff[i] = (uint8_t)(f->pixels[i] - c->last.pixels[i]);
		src = c->diff;
	}
	r = ZSTD_compressCCtx(c->cctx, c->zbuf, ZSTD_compressBound(n), src, n, CINE_ZSTD_LEVEL);
	if (ZSTD_isError(r)) {
		LOG_ERROR("zstd failed to compress frame %u (%ux%u): %s", f->seq, f->width,
			f->height, ZSTD_getErrorName(r));
		return SONO_EIO;
	}
	*zlen = r;
	return 0;
}

/* Stores the compressed frame in zbuf as the newest entry and keeps f's
 * pixels as the reference of the next difference.  Returns 0 or
 * SONO_ENOMEM; when copying f fails the buffer is cleared, because the
 * next difference would have no reference. */
static int append(struct cine *c, const struct frame *f, int key, size_t zlen)
{
	struct cine_entry *e = entry(c, c->stored);
	uint8_t *data = malloc(zlen);

	if (!data)
		return SONO_ENOMEM;
	if (frame_copy(&c->last, f) < 0) {
		free(data);
		cine_clear(c);
		return SONO_ENOMEM;
	}
	memcpy(data, c->zbuf, zlen);
	e->info = *f;
	e->info.pixels = NULL;
	e->data = data;
	e->size = zlen;
	e->key = key;
	c->stored++;
	c->bytes += zlen;
	c->group_len = key ? 1 : c->group_len + 1;
	return 0;
}

/* Encodes f and makes room for it in the budget by dropping the oldest
 * groups.  A difference whose own group was dropped is encoded again as a
 * key frame.  Returns 0 with the chosen kind in *key and the size in *zlen,
 * SONO_ETOOBIG when f alone exceeds the budget, or an error of encode(). */
static int encode_within_budget(struct cine *c, const struct frame *f, int *key, size_t *zlen)
{
	int rc;

	*key = c->stored == 0 || c->group_len >= CINE_KEY_INTERVAL || !same_geometry(&c->last, f);
	rc = encode(c, f, *key, zlen);
	while (rc == 0 && c->stored > 0 && *zlen > c->max_bytes - c->bytes) {
		drop_oldest_group(c);
		if (c->stored == 0 && !*key) {
			*key = 1;
			rc = encode(c, f, 1, zlen);
		}
	}
	if (rc == 0 && *zlen > c->max_bytes)
		rc = SONO_ETOOBIG;
	return rc;
}

int cine_push(struct cine *c, const struct frame *f)
{
	size_t n = 0, zlen = 0;
	int key = 0, rc;

	if (f->pixels)
		n = frame_size(f->width, f->height, f->components, FRAME_MAX_BYTES);
	if (n == 0)
		return SONO_EINVAL;
	if (n > c->max_bytes)
		return SONO_ETOOBIG;
	if (c->stored > 0 && f->timestamp_ns < c->last.timestamp_ns)
		cine_clear(c);

	rc = reserve_work(c, n);
	if (rc == 0)
		rc = encode_within_budget(c, f, &key, &zlen);
	if (rc == 0)
		rc = append(c, f, key, zlen);
	if (rc == 0 && cine_count(c) > CINE_FRAMES_MAX)
		hide_oldest(c);
	while (rc == 0 && cine_count(c) > 1 &&
	       f->timestamp_ns - cine_info(c, 0)->timestamp_ns > c->span_ns)
		hide_oldest(c);
	check_invariants(c);
	return rc;
}

/* Decompresses entry e into dst, which has room for n bytes.  Returns 0 or
 * SONO_EIO. */
static int decompress(struct cine *c, const struct cine_entry *e, uint8_t *dst, size_t n)
{
	size_t r = ZSTD_decompressDCtx(c->dctx, dst, n, e->data, e->size);

	if (ZSTD_isError(r) || r != n) {
		LOG_ERROR("zstd failed to decompress cine frame %u: %s", e->info.seq,
			ZSTD_isError(r) ? ZSTD_getErrorName(r) : "wrong size");
		return SONO_EIO;
	}
	return 0;
}

/* Decompresses the key frame at stored index k into view.  Returns 0,
 * SONO_ENOMEM or SONO_EIO. */
static int decode_key(struct cine *c, size_t k)
{
	const struct cine_entry *e = entry(c, k);
	int rc = 0;

	if (!c->view.pixels || !same_geometry(&c->view, &e->info)) {
		frame_free(&c->view);
		rc = frame_alloc(&c->view, e->info.width, e->info.height, e->info.components,
			FRAME_MAX_BYTES);
	}
	if (rc == 0)
		rc = decompress(c, e, c->view.pixels, frame_bytes(&e->info));
	return rc;
}

/* Decodes stored entry j into view.  It continues from the view when that
 * holds an earlier entry of the same group, else starts at the group's key
 * frame.  Returns 0, SONO_ENOMEM or SONO_EIO (the view is then invalid). */
static int decode(struct cine *c, size_t j)
{
	uint64_t id = c->first_id + j;
	size_t k = j, n = frame_bytes(&entry(c, j)->info), i;
	int rc = 0;

	while (!entry(c, k)->key)
		k--;
	if (c->view_valid && c->view_id >= c->first_id + k && c->view_id < id) {
		k = (size_t)(c->view_id - c->first_id) + 1;
	} else {
		rc = decode_key(c, k);
		k++;
	}
	for (; rc == 0 && k <= j; k++) {
		rc = decompress(c, entry(c, k), c->diff, n);
		for (i = 0; rc == 0 && i < n; i++)
			c->view.pixels[i] = (uint8_t)(c->view.pixels[i] + c->diff[i]);
	}

	c->view_valid = rc == 0;
	if (rc == 0) {
		uint8_t *pixels = c->view.pixels;

		c->view = entry(c, j)->info;
		c->view.pixels = pixels;
		c->view_id = id;
	}
	return rc;
}

const struct frame *cine_get(struct cine *c, size_t i)
{
	size_t j = c->hidden + i;

	if (i >= cine_count(c))
		return NULL;
	if (j == c->stored - 1)
		return &c->last;
	if (c->view_valid && c->view_id == c->first_id + j)
		return &c->view;
	if (decode(c, j) < 0)
		return NULL;
	return &c->view;
}

/* Returns the index of the first frame of the newest run of frames with
 * one size.  The buffer must not be empty. */
static size_t clip_start(const struct cine *c)
{
	size_t n = cine_count(c), first;
	const struct frame *last = cine_info(c, n - 1);

	for (first = n - 1; first > 0; first--) {
		if (!same_geometry(cine_info(c, first - 1), last))
			break;
	}
	return first;
}

int cine_save_clip(struct cine *c, const struct capture_sink *sink,
	const struct capture_meta *meta, size_t *saved)
{
	struct frame *clip = NULL;
	const struct frame **frames = NULL;
	const struct frame *f;
	size_t first, n = 0, i;
	int rc = 0;

	*saved = 0;
	if (cine_count(c) == 0)
		return SONO_ENOTFOUND;
	first = clip_start(c);
	n = cine_count(c) - first;
	*saved = n;
	clip = calloc(n, sizeof(*clip));
	frames = calloc(n, sizeof(*frames));
	if (!clip || !frames)
		rc = SONO_ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		f = cine_get(c, first + i);
		rc = f ? frame_copy(&clip[i], f) : SONO_EIO;
		frames[i] = &clip[i];
	}
	if (rc == 0)
		rc = sink->save_cine(sink->ctx, frames, n, meta);

	for (i = 0; clip && i < n; i++)
		frame_free(&clip[i]);
	free(clip);
	free(frames);
	return rc;
}
