/* The in-memory capture sink, used until a store-backed exam is attached. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/capture.h"

struct memory_capture {
	struct memory_capture *next;
	size_t nframes;
	struct frame *frames;
};

struct memory_sink {
	struct memory_capture *head;
	size_t stills;
	size_t cines;
	size_t bytes;
	size_t max_bytes;
};

static const char *memory_describe(void *ctx)
{
	(void)ctx;
	return "unassigned exam (in memory)";
}

static void free_capture(struct memory_capture *c)
{
	size_t i;

	for (i = 0; i < c->nframes; i++)
		frame_free(&c->frames[i]);
	free(c->frames);
	free(c);
}

/* Copies n frames into a new capture.  Returns 0, SONO_ETOOBIG past the
 * sink's budget, SONO_EINVAL for a frame without pixels, or SONO_ENOMEM. */
static int memory_add(struct memory_sink *m, const struct frame *const *frames, size_t n)
{
	struct memory_capture *c;
	size_t bytes = 0, i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (!frames[i]->pixels)
			return SONO_EINVAL;
		bytes += (size_t)frames[i]->width * frames[i]->height * frames[i]->components;
	}
	if (n == 0 || bytes > m->max_bytes - m->bytes)
		return n == 0 ? SONO_EINVAL : SONO_ETOOBIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SONO_ENOMEM;
	c->frames = calloc(n, sizeof(*c->frames));
	if (!c->frames) {
		rc = SONO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++, c->nframes++)
		rc = frame_copy(&c->frames[i], frames[i]);
out:
	if (rc < 0) {
		free_capture(c);
		return rc;
	}
	c->next = m->head;
	m->head = c;
	m->bytes += bytes;
	return 0;
}

static int memory_still(void *ctx, const struct frame *f, const struct capture_meta *meta)
{
	struct memory_sink *m = ctx;
	int rc = memory_add(m, &f, 1);

	(void)meta;
	if (rc == 0)
		m->stills++;
	return rc;
}

static int memory_cine(void *ctx, const struct frame *const *frames, size_t n,
	const struct capture_meta *meta)
{
	struct memory_sink *m = ctx;
	int rc = memory_add(m, frames, n);

	(void)meta;
	if (rc == 0)
		m->cines++;
	return rc;
}

static void memory_close(void *ctx)
{
	struct memory_sink *m = ctx;
	struct memory_capture *c, *next;

	if (!m)
		return;
	for (c = m->head; c; c = next) {
		next = c->next;
		free_capture(c);
	}
	free(m);
}

int capture_memory_sink(struct capture_sink *sink, size_t max_bytes)
{
	struct memory_sink *m = calloc(1, sizeof(*m));

	if (!m)
		return SONO_ENOMEM;
	m->max_bytes = max_bytes;
	memset(sink, 0, sizeof(*sink));
	sink->ctx = m;
	sink->describe = memory_describe;
	sink->save_still = memory_still;
	sink->save_cine = memory_cine;
	sink->close = memory_close;
	return 0;
}

void capture_memory_counts(const struct capture_sink *sink, size_t *stills, size_t *cines,
	size_t *bytes)
{
	const struct memory_sink *m = sink->describe == memory_describe ? sink->ctx : NULL;

	*stills = m ? m->stills : 0;
	*cines = m ? m->cines : 0;
	*bytes = m ? m->bytes : 0;
}
