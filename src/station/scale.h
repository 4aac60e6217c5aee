/* Image scaling for the renderers.
 *
 * Shrinking averages the source pixels each destination pixel covers
 * (weighted by the covered fraction), so speckle does not alias; enlarging
 * interpolates bilinearly.  Each axis chooses independently. */
#ifndef STATION_SCALE_H
#define STATION_SCALE_H

#include <stdint.h>

/* Largest width or height either side may have. */
#define SCALE_DIM_MAX 16384

/* Scales a sw x sh image with components interleaved 8-bit channels (1 to 4)
 * into the caller's dw x dh buffer.  Returns 0, SONO_EINVAL for a zero or
 * oversized dimension, or SONO_ENOMEM. */
int scale_image(const uint8_t *src, unsigned sw, unsigned sh, unsigned components,
	uint8_t *dst, unsigned dw, unsigned dh);

/* Scales a sw x sh single-byte map (labels, not intensities) into the
 * caller's dw x dh buffer by nearest neighbour, so no new values appear.
 * Returns 0, SONO_EINVAL for a zero or oversized dimension, or SONO_ENOMEM. */
int scale_nearest(const uint8_t *src, unsigned sw, unsigned sh, uint8_t *dst, unsigned dw,
	unsigned dh);

#endif
