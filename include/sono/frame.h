/* An ultrasound frame as it travels from scanner to screen.
 *
 * Pixels are 8-bit, row-major, top row first, with 1 (gray) or 3 (RGB)
 * interleaved components.  Spacing is the physical size of one pixel in
 * millimetres (0 when the source gives none), which calipers and the depth
 * scale use.  Both the receiver and the decoders check sizes against
 * FRAME_MAX_BYTES, or a smaller configured maximum, before allocating. */
#ifndef SONO_FRAME_H
#define SONO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_DIM 4096
#define FRAME_MAX_BYTES ((size_t)4096 * 4096 * 3)

struct frame {
	uint32_t width;
	uint32_t height;
	uint8_t components;    /* 1 or 3 */
	double spacing_mm[2];  /* x (columns), y (rows); 0 when unknown */
	uint64_t timestamp_ns; /* scanner CLOCK_REALTIME at acquisition */
	uint32_t seq;          /* scanner's frame counter */
	uint8_t *pixels;       /* width * height * components bytes, owned */
};

/* Returns width * height * components, or 0 when that overflows or exceeds
 * max_bytes. */
size_t frame_size(uint32_t width, uint32_t height, unsigned components, size_t max_bytes);

/* Allocates pixels for the given geometry (other fields zeroed).
 * Returns 0, SONO_EINVAL for a zero or oversized geometry, or SONO_ENOMEM. */
int frame_alloc(struct frame *f, uint32_t width, uint32_t height, unsigned components,
	size_t max_bytes);

/* Deep-copies src into dst, reusing dst's pixels when the size matches. */
int frame_copy(struct frame *dst, const struct frame *src);

/* Frees the pixels and zeroes f; accepts NULL. */
void frame_free(struct frame *f);

/* Returns CLOCK_REALTIME in nanoseconds (the frame timestamp clock). */
uint64_t frame_now_ns(void);

#endif
