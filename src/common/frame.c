/* Frame allocation with size checks before every allocation. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/error.h"
#include "sono/frame.h"

size_t frame_size(uint32_t width, uint32_t height, unsigned components, size_t max_bytes)
{
	size_t n;

	if (width == 0 || height == 0 || (components != 1 && components != 3))
		return 0;
	if (width > FRAME_MAX_DIM || height > FRAME_MAX_DIM)
		return 0;
	n = (size_t)width * height * components; /* cannot overflow: dims <= 4096 */
	if (n > max_bytes || n > FRAME_MAX_BYTES)
		return 0;
	return n;
}

int frame_alloc(struct frame *f, uint32_t width, uint32_t height, unsigned components,
	size_t max_bytes)
{
	size_t n = frame_size(width, height, components, max_bytes);

	memset(f, 0, sizeof(*f));
	if (n == 0)
		return SONO_EINVAL;
	f->pixels = malloc(n);
	if (!f->pixels)
		return SONO_ENOMEM;
	f->width = width;
	f->height = height;
	f->components = (uint8_t)components;
	return SONO_OK;
}

int frame_copy(struct frame *dst, const struct frame *src)
{
	size_t n = frame_size(src->width, src->height, src->components, FRAME_MAX_BYTES);
	size_t have = dst->pixels ? frame_size(dst->width, dst->height, dst->components,
		FRAME_MAX_BYTES) : 0;
	uint8_t *pixels = dst->pixels;

	if (n == 0)
		return SONO_EINVAL;
	if (have != n) {
		free(dst->pixels);
		pixels = malloc(n);
		if (!pixels) {
			memset(dst, 0, sizeof(*dst));
			return SONO_ENOMEM;
		}
	}

	*dst = *src;
	dst->pixels = pixels;
	memcpy(dst->pixels, src->pixels, n);
	return SONO_OK;
}

void frame_free(struct frame *f)
{
	if (!f)
		return;
	free(f->pixels);
	memset(f, 0, sizeof(*f));
}

uint64_t frame_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
