/* The cine buffer: a ring of zstd-compressed frames in groups of a key
 * frame and differences, bounded by time, compressed bytes and count. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/cine.h"

/* A visible frame may need the hidden start of its group, so the ring has
 * room for one group more than the visible maximum. */
#define CINE_SLOTS (CINE_FRAMES_MAX + CINE_KEY_INTERVAL)

/* Largest shift, in pixels along each axis, that the motion search tries.
 * The phantom's tissue moves under half a pixel per frame at 30 fps. */
#define CINE_SHIFT_MAX 2

/* One stored frame: its metadata (pixels NULL) and its compressed pixels,
 * or for a difference the compressed (frame - shifted previous frame)
 * modulo 256.  Pixel (x, y) of the shifted frame is pixel (x - dx, y - dy)
 * of the previous one, clamped to its edges. */
struct cine_entry {
	struct frame info;
	uint8_t *data;
	size_t size;
	int key;
	int dx, dy;
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

/* Sum of absolute differences between cur and prev shifted by (dx, dy),
 * over the first component of every 4th pixel of every 8th row, away from
 * the edges. */
static unsigned long shift_cost(const struct frame *cur, const uint8_t *prev, int dx, int dy)
{
	size_t row = (size_t)cur->width * cur->components;
	unsigned long sum = 0;
	uint32_t x, y;
	int d;

	for (y = CINE_SHIFT_MAX; y + CINE_SHIFT_MAX < cur->height; y += 8) {
		const uint8_t *a = cur->pixels + y * row;
		const uint8_t *b = prev + (size_t)((long)y - dy) * row;

		for (x = CINE_SHIFT_MAX; x + CINE_SHIFT_MAX < cur->width; x += 4) {
			d = a[x * cur->components] - b[((long)x - dx) * cur->components];
			sum += (unsigned long)(d < 0 ? -d : d);
		}
	}
	return sum;
}

/* Finds the global shift of prev that best predicts cur, as a scanner's
 * tissue and probe motion moves the whole image.  No shift wins ties. */
static void find_shift(const struct frame *cur, const uint8_t *prev, int *dx, int *dy)
{
	unsigned long best = shift_cost(cur, prev, 0, 0), cost;
	int x, y;

	*dx = *dy = 0;
	if (cur->width <= 2 * CINE_SHIFT_MAX || cur->height <= 2 * CINE_SHIFT_MAX)
		return;
	for (y = -CINE_SHIFT_MAX; y <= CINE_SHIFT_MAX; y++) {
		for (x = -CINE_SHIFT_MAX; x <= CINE_SHIFT_MAX; x++) {
			cost = shift_cost(cur, prev, x, y);
			if (cost < best) {
				best = cost;
				*dx = x;
				*dy = y;
			}
		}
	}
}

static long clamp_index(long v, long n)
{
	if (v < 0)
		return 0;
	if (v >= n)
		return n - 1;
	return v;
}

/* Writes a[i] + ref[i] when add is set, else a[i] - ref[i], modulo 256. */
static void combine_span(uint8_t *out, const uint8_t *a, const uint8_t *ref, size_t n, int add)
{
	size_t i;

	if (add) {
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(a[i] + ref[i]);
	} else {
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(a[i] - ref[i]);
	}
}

/* Writes a + prev shifted by (dx, dy) into out when add is set, else
 * a - shifted prev, byte by byte modulo 256.  out may be a, not prev. */
static void combine_shifted(const struct frame *geo, const uint8_t *a, const uint8_t *prev,
	int dx, int dy, int add, uint8_t *out)
{
	long w = geo->width, h = geo->height, comps = geo->components, x, y;
	/* Columns [x_lo, x_hi) read prev columns x - dx inside the frame. */
	long x_lo = clamp_index(dx, w + 1), x_hi = clamp_index(w + dx, w + 1);
	size_t row = (size_t)(w * comps);

	for (y = 0; y < h; y++) {
		const uint8_t *src = a + (size_t)y * row;
		const uint8_t *ref = prev + (size_t)clamp_index(y - dy, h) * row;
		uint8_t *dst = out + (size_t)y * row;

		for (x = 0; x < x_lo; x++)
			combine_span(dst + x * comps, src + x * comps, ref, (size_t)comps, add);
		if (x_hi > x_lo)
			combine_span(dst + x_lo * comps, src + x_lo * comps, ref + (x_lo - dx) * comps,
				(size_t)((x_hi - x_lo) * comps), add);
		for (x = x_hi > x_lo ? x_hi : x_lo; x < w; x++)
			combine_span(dst + x * comps, src + x * comps, ref + (w - 1) * comps,
				(size_t)comps, add);
	}
}

/* A frame compressed into zbuf. */
struct encoded {
	int key;
	int dx, dy;  /* shift of the previous frame, for a difference */
	size_t size;
};

/* Compresses f into zbuf, alone when key is set, else as its difference to
 * last shifted by the motion that find_shift() finds, and describes the
 * result in *out.  Returns 0 or SONO_EIO. */
static int encode(struct cine *c, const struct frame *f, int key, struct encoded *out)
{
	size_t n = frame_bytes(f), r;
	const uint8_t *src = f->pixels;

	memset(out, 0, sizeof(*out));
	out->key = key;
	if (!key) {
		find_shift(f, c->last.pixels, &out->dx, &out->dy);
		combine_shifted(f, f->pixels, c->last.pixels, out->dx, out->dy, 0, c->diff);
		src = c->diff;
	}
	r = ZSTD_compressCCtx(c->cctx, c->zbuf, ZSTD_compressBound(n), src, n, CINE_ZSTD_LEVEL);
	if (ZSTD_isError(r)) {
		LOG_ERROR("zstd failed to compress frame %u (%ux%u): %s", f->seq, f->width,
			f->height, ZSTD_getErrorName(r));
		return SONO_EIO;
	}
	out->size = r;
	return 0;
}

/* Stores the compressed frame in zbuf as the newest entry and keeps f's
 * pixels as the reference of the next difference.  Returns 0 or
 * SONO_ENOMEM; when copying f fails the buffer is cleared, because the
 * next difference would have no reference. */
static int append(struct cine *c, const struct frame *f, const struct encoded *enc)
{
	struct cine_entry *e = entry(c, c->stored);
	uint8_t *data = malloc(enc->size);

	if (!data)
		return SONO_ENOMEM;
	if (frame_copy(&c->last, f) < 0) {
		free(data);
		cine_clear(c);
		return SONO_ENOMEM;
	}
	memcpy(data, c->zbuf, enc->size);
	e->info = *f;
	e->info.pixels = NULL;
	e->data = data;
	e->size = enc->size;
	e->key = enc->key;
	e->dx = enc->dx;
	e->dy = enc->dy;
	c->stored++;
	c->bytes += enc->size;
	c->group_len = enc->key ? 1 : c->group_len + 1;
	return 0;
}

/* Encodes f and makes room for it in the budget by dropping the oldest
 * groups.  A difference whose own group was dropped is encoded again as a
 * key frame.  Returns 0 with the result in *enc, SONO_ETOOBIG when f alone
 * exceeds the budget, or an error of encode(). */
static int encode_within_budget(struct cine *c, const struct frame *f, struct encoded *enc)
{
	int key = c->stored == 0 || c->group_len >= CINE_KEY_INTERVAL ||
		!same_geometry(&c->last, f);
	int rc = encode(c, f, key, enc);

	while (rc == 0 && c->stored > 0 && enc->size > c->max_bytes - c->bytes) {
		drop_oldest_group(c);
		if (c->stored == 0 && !enc->key)
			rc = encode(c, f, 1, enc);
	}
	if (rc == 0 && enc->size > c->max_bytes)
		rc = SONO_ETOOBIG;
	return rc;
}

int cine_push(struct cine *c, const struct frame *f)
{
	struct encoded enc;
	size_t n = 0;
	int rc;

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
		rc = encode_within_budget(c, f, &enc);
	if (rc == 0)
		rc = append(c, f, &enc);
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

/* Replaces the view, which contains the entry before e, with e: its
 * difference plus the view shifted by e's motion.  Returns 0 or SONO_EIO. */
static int apply_difference(struct cine *c, const struct cine_entry *e, size_t n)
{
	int rc = decompress(c, e, c->diff, n);

	if (rc < 0)
		return rc;
	if (e->dx == 0 && e->dy == 0) {
		combine_span(c->view.pixels, c->diff, c->view.pixels, n, 1);
		return 0;
	}
	combine_shifted(&e->info, c->diff, c->view.pixels, e->dx, e->dy, 1, c->diff);
	memcpy(c->view.pixels, c->diff, n);
	return 0;
}

/* Decodes stored entry j into view.  It continues from the view when that
 * contains an earlier entry of the same group, else starts at the group's key
 * frame.  Returns 0, SONO_ENOMEM or SONO_EIO (the view is then invalid). */
static int decode(struct cine *c, size_t j)
{
	uint64_t id = c->first_id + j;
	size_t k = j, n = frame_bytes(&entry(c, j)->info);
	int rc = 0;

	while (!entry(c, k)->key)
		k--;
	if (c->view_valid && c->view_id >= c->first_id + k && c->view_id < id) {
		k = (size_t)(c->view_id - c->first_id) + 1;
	} else {
		rc = decode_key(c, k);
		k++;
	}
	for (; rc == 0 && k <= j; k++)
		rc = apply_difference(c, entry(c, k), n);

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

/* A clip of the buffer, n frames from first, read for a sink. */
struct clip_reader {
	struct cine *cine;
	size_t first;
	size_t n;
	const struct cine_progress *progress; /* NULL: no reports */
};

static const struct frame *read_clip_frame(void *src, size_t i)
{
	struct clip_reader *r = src;
	const struct frame *f = cine_get(r->cine, r->first + i);

	if (f && r->progress && r->progress->report)
		r->progress->report(r->progress->arg, i + 1, r->n);
	return f;
}

/* Decodes the clip into copies and passes them to sink->save_cine.
 * Returns 0, SONO_ENOMEM, SONO_EIO or the sink's error. */
static int save_decoded(struct clip_reader *r, const struct capture_sink *sink,
	const struct capture_meta *meta)
{
	size_t n = r->n;
	struct frame *clip = calloc(n, sizeof(*clip));
	const struct frame **frames = calloc(n, sizeof(*frames));
	const struct frame *f;
	size_t i;
	int rc = 0;

	if (!clip || !frames)
		rc = SONO_ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		f = read_clip_frame(r, i);
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

/* TODO: the sink stores the clip on the caller's thread, and the live
 * screen holds the cine lock meanwhile, so the live image stops until the
 * clip is stored and only the progress reports reach the screen.  A worker
 * thread would need its own copy of the clip's compressed entries and its
 * own store connection.  The comment on capture_cine() in screen_live.c
 * explains why the live screen has neither. */
int cine_save_clip(struct cine *c, const struct capture_sink *sink,
	const struct capture_meta *meta, const struct cine_progress *progress, size_t *saved)
{
	struct clip_reader reader = { .cine = c, .progress = progress };

	*saved = 0;
	if (cine_count(c) == 0)
		return SONO_ENOTFOUND;
	reader.first = clip_start(c);
	reader.n = cine_count(c) - reader.first;
	*saved = reader.n;
	if (sink->save_cine_read)
		return sink->save_cine_read(sink->ctx, reader.n, read_clip_frame, &reader, meta);
	return save_decoded(&reader, sink, meta);
}
