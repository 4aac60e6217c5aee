/* The capture target of the live screen: the current exam.
 *
 * The live screen calls only this table of operations, so the exam store
 * can make captures persistent without the screen depending on it: the
 * store's sink is exam_capture_sink() in station/exam_sink.h.  When the
 * store cannot be opened, capture_memory_sink() keeps captures in memory
 * for the life of the process.  Every operation returns 0 or a negative
 * SONO_E* code and copies what it needs from its arguments. */
#ifndef STATION_CAPTURE_H
#define STATION_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "sono/frame.h"

/* Imaging parameters recorded with a capture. */
struct capture_meta {
	double depth_mm;
	double gain_db;
	char preset[32];
	char scanner_serial[64];
	int has_caliper;         /* non-zero: caliper_mm contains one measurement */
	double caliper_mm[4];    /* x1, y1, x2, y2 in mm from the top-left pixel */
};

struct capture_sink {
	void *ctx;
	/* Short description of the target for the status line, e.g. an exam
	 * UUID or "unassigned exam (memory)".  Must not contain patient data. */
	const char *(*describe)(void *ctx);
	/* Saves one still. */
	int (*save_still)(void *ctx, const struct frame *f, const struct capture_meta *meta);
	/* Saves n frames, oldest first, as one cine clip. */
	int (*save_cine)(void *ctx, const struct frame *const *frames, size_t n,
		const struct capture_meta *meta);
	/* Optional: saves n frames as one cine clip, reading them oldest first
	 * through read(src, i), which returns NULL when it cannot produce frame
	 * i.  Each frame is valid until the next read, so a clip from the
	 * compressed cine buffer need not be decoded whole.  Sinks that copy
	 * every frame anyway leave it NULL. */
	int (*save_cine_read)(void *ctx, size_t n, const struct frame *(*read)(void *src, size_t i),
		void *src, const struct capture_meta *meta);
	/* Releases ctx; may be NULL. */
	void (*close)(void *ctx);
};

/* Fills sink with an in-memory target holding at most max_bytes of pixels
 * (later captures fail with SONO_ETOOBIG).  Returns 0 or SONO_ENOMEM. */
int capture_memory_sink(struct capture_sink *sink, size_t max_bytes);

/* Number of stills and cines and the bytes an in-memory sink holds; all 0
 * for any other sink. */
void capture_memory_counts(const struct capture_sink *sink, size_t *stills, size_t *cines,
	size_t *bytes);

#endif
