/* The cine buffer: the last few seconds of live frames, kept in memory so a
 * frozen image can be scrubbed frame by frame and saved as a clip.
 *
 * Frames are compressed with zstd as they are pushed.  Every
 * CINE_KEY_INTERVAL-th frame is a key frame, compressed alone.  Each frame
 * between two keys is stored as its byte-wise difference (modulo 256) to
 * the previous frame shifted by the global motion that best predicts it,
 * so reading any frame decodes at most CINE_KEY_INTERVAL frames.  The
 * buffer keeps frames whose scanner timestamp lies within the configured
 * span of the newest one.  When the compressed bytes would exceed the
 * budget, it drops the oldest group (a key frame and its differences) as a
 * whole. */
#ifndef STATION_CINE_H
#define STATION_CINE_H

#include <stddef.h>
#include <stdint.h>

#include "sono/frame.h"
#include "station/capture.h"

#define CINE_SECONDS_DEFAULT 10.0
/* Default budget of compressed bytes.  bench/cine.sh measured 10 s of
 * 640x480 phantom frames at 30 fps in 18.4 MB (17.5 MiB), and
 * bench/live_memory.sh measured the station scanning the phantom at 38.4 MB
 * resident with half-blocks and 39.9 MB with sixel, against a goal of
 * 40 MB.  A real clinical clip, whose speckle changes throughout, is
 * estimated to compress about as well as a key frame: 273 KB for the
 * US1_UNCR colour frame, so 18 MiB would hold about 2.3 s of it. */
#define CINE_BYTES_DEFAULT ((size_t)18 << 20)
/* Maximum number of frames the buffer shows, whatever the span and budget allow. */
#define CINE_FRAMES_MAX 1200
/* Frames in a group: a key frame and the differences that follow it. */
#define CINE_KEY_INTERVAL 30
/* zstd level of the ring.  On the phantom, level 3 gave no smaller frames
 * at 1.6 times the time, and level -1 gave 35% larger ones. */
#define CINE_ZSTD_LEVEL 1

struct cine;

/* Creates an empty buffer for span seconds (0.5 to 120) and at most
 * max_bytes of compressed frames.  Besides the budget the buffer keeps four
 * uncompressed frames of working memory and the zstd contexts.  Returns
 * NULL for an invalid argument or when out of memory. */
struct cine *cine_new(double seconds, size_t max_bytes);

/* Frees the buffer and its frames; accepts NULL. */
void cine_free(struct cine *c);

/* Compresses f in as the newest frame and drops frames that fall out of
 * the span or the budget.  A frame older than the newest (a scanner
 * restart) clears the buffer first.  Returns 0, SONO_EINVAL for a frame
 * without pixels, SONO_ETOOBIG for a frame whose uncompressed or
 * compressed size exceeds the whole budget, SONO_EIO when zstd fails, or
 * SONO_ENOMEM. */
int cine_push(struct cine *c, const struct frame *f);

/* Number of frames held. */
size_t cine_count(const struct cine *c);

/* Decodes frame i, 0 being the oldest, and returns it, or NULL past the end
 * or when decoding fails (logged).  The frame is valid until the next
 * cine_get, cine_push or cine_clear, so a caller keeps one at a time.
 * Stepping forward within a group decodes one frame; any other step
 * decodes at most CINE_KEY_INTERVAL. */
const struct frame *cine_get(struct cine *c, size_t i);

/* Returns the geometry, spacing, timestamp and sequence number of frame i
 * without decoding it (pixels is NULL), or NULL past the end.  Valid until
 * the next cine_push or cine_clear. */
const struct frame *cine_info(const struct cine *c, size_t i);

/* Seconds between the oldest and the newest frame (0 with fewer than two). */
double cine_span_seconds(const struct cine *c);

/* Compressed bytes held, which the budget limits. */
size_t cine_bytes(const struct cine *c);

/* Drops all frames. */
void cine_clear(struct cine *c);

/* Progress of cine_save_clip(): report(arg, done, total) runs as each frame
 * of the clip is decoded for the sink, done counting them from 1 to total.
 * A sink with save_cine_read stores a frame before it reads the next, so
 * done - 1 frames are then stored. */
struct cine_progress {
	void (*report)(void *arg, size_t done, size_t total);
	void *arg;
};

/* Saves the newest run of frames that share one size (a depth change can
 * resize the frames) as one clip through the sink, and stores the clip's
 * number of frames in *saved, also when saving fails.  A sink with
 * save_cine_read gets the frames decoded one at a time.  progress may be
 * NULL.  Returns 0,
 * SONO_ENOTFOUND when the buffer is empty, the sink's error, or an error of
 * cine_get.
 * NOTE: a sink with only save_cine takes the whole clip at once, so every
 * frame of it is decoded first: 10 s of 640x480 gray at 30 fps briefly
 * needs about 92 MB on top of the budget.  The in-memory sink keeps such
 * copies anyway. */
int cine_save_clip(struct cine *c, const struct capture_sink *sink,
	const struct capture_meta *meta, const struct cine_progress *progress, size_t *saved);

#endif
