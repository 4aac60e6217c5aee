/* The cine buffer: a ring of frame copies bounded by time, bytes and count. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/cine.h"

/* Invariants: count <= CINE_FRAMES_MAX; the live frames are
 * ring[(head + i) % CINE_FRAMES_MAX] for i < count, oldest first; bytes is
 * the sum of their pixel sizes and never exceeds max_bytes.  Slots outside
 * the live range own no pixels.  The last dropped frame's buffer waits in
 * spare for the next push, so memory stays within max_bytes plus one frame. */
struct cine {
	struct frame ring[CINE_FRAMES_MAX];
	size_t head;
	size_t count;
	size_t bytes;
	size_t max_bytes;
	uint64_t span_ns;
	struct frame spare;
};

static size_t frame_bytes(const struct frame *f)
{
	return (size_t)f->width * f->height * f->components;
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
	return c;
}

void cine_free(struct cine *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CINE_FRAMES_MAX; i++)
		frame_free(&c->ring[i]);
	frame_free(&c->spare);
	free(c);
}

static struct frame *slot(struct cine *c, size_t i)
{
	return &c->ring[(c->head + i) % CINE_FRAMES_MAX];
}

static void drop_oldest(struct cine *c)
{
	struct frame *old = slot(c, 0);

	c->bytes -= frame_bytes(old);
	frame_free(&c->spare);
	c->spare = *old;
	memset(old, 0, sizeof(*old));
	c->head = (c->head + 1) % CINE_FRAMES_MAX;
	c->count--;
}

int cine_push(struct cine *c, const struct frame *f)
{
	size_t need = frame_bytes(f);
	struct frame *dst;
	int rc;

	if (need > c->max_bytes)
		return SONO_ETOOBIG;
	if (c->count > 0 && f->timestamp_ns < slot(c, c->count - 1)->timestamp_ns)
		cine_clear(c);
	while (c->count > 0 && (c->count == CINE_FRAMES_MAX || c->bytes + need > c->max_bytes))
		drop_oldest(c);

	dst = slot(c, c->count);
	if (c->spare.pixels) {
		*dst = c->spare; /* frame_copy reuses it when the size matches */
		memset(&c->spare, 0, sizeof(c->spare));
	}
	rc = frame_copy(dst, f);
	if (rc < 0)
		return rc;
	c->count++;
	c->bytes += need;

	while (c->count > 1 && f->timestamp_ns - slot(c, 0)->timestamp_ns > c->span_ns)
		drop_oldest(c);
	return 0;
}

size_t cine_count(const struct cine *c)
{
	return c->count;
}

const struct frame *cine_get(const struct cine *c, size_t i)
{
	if (i >= c->count)
		return NULL;
	return &c->ring[(c->head + i) % CINE_FRAMES_MAX];
}

double cine_span_seconds(const struct cine *c)
{
	if (c->count < 2)
		return 0.0;
	return (double)(cine_get(c, c->count - 1)->timestamp_ns - cine_get(c, 0)->timestamp_ns) / 1e9;
}

size_t cine_bytes(const struct cine *c)
{
	return c->bytes;
}

void cine_clear(struct cine *c)
{
	while (c->count > 0)
		drop_oldest(c);
	c->head = 0;
}
