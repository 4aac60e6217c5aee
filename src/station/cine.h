/* The cine buffer: the last few seconds of live frames, kept in memory so a
 * frozen image can be scrubbed frame by frame and saved as a clip.
 *
 * Frames are copied in as they are shown.  The buffer keeps frames whose
 * scanner timestamp lies within the configured span of the newest one, and
 * drops the oldest frames first when the byte budget would be exceeded.
 * The buffer of a dropped frame is reused for the next one, so once the
 * buffer is full pushing a frame of the same size allocates nothing. */
#ifndef STATION_CINE_H
#define STATION_CINE_H

#include <stddef.h>
#include <stdint.h>

#include "sono/frame.h"

#define CINE_SECONDS_DEFAULT 10.0
/* Default byte budget: 10 s of 640x480 gray at 30 fps is about 92 MB, so
 * the budget, not the span, usually limits a long clip.
 * NOTE: frames are kept uncompressed, so with this default the station's
 * resident memory reaches about 100 MB while scanning.  The rest of the
 * station takes about 16 MB, measured with --test-source pattern.  A
 * budget of 20 MiB (about 2 s of such frames) stays under 40 MB. */
#define CINE_BYTES_DEFAULT ((size_t)96 << 20)
/* Most frames the buffer holds, whatever the span and budget allow. */
#define CINE_FRAMES_MAX 1200

struct cine;

/* Creates an empty buffer for span seconds (0.5 to 120) and at most
 * max_bytes of pixels.  Returns NULL for an invalid argument or when out of
 * memory. */
struct cine *cine_new(double seconds, size_t max_bytes);

/* Frees the buffer and its frames; accepts NULL. */
void cine_free(struct cine *c);

/* Copies f in as the newest frame and drops frames that fall out of the
 * span or the budget.  A frame older than the newest (a scanner restart)
 * clears the buffer first.  Returns 0, SONO_ETOOBIG for a frame larger
 * than the whole budget, or SONO_ENOMEM. */
int cine_push(struct cine *c, const struct frame *f);

/* Number of frames held. */
size_t cine_count(const struct cine *c);

/* Returns frame i, 0 being the oldest, or NULL past the end.  The pointer
 * is valid until the next cine_push or cine_clear. */
const struct frame *cine_get(const struct cine *c, size_t i);

/* Seconds between the oldest and the newest frame (0 with fewer than two). */
double cine_span_seconds(const struct cine *c);

/* Bytes of pixels held. */
size_t cine_bytes(const struct cine *c);

/* Drops all frames. */
void cine_clear(struct cine *c);

#endif
