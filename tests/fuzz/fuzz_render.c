/* libFuzzer target for the renderers: frames of any small geometry, any
 * mode, rectangle, cell size and overlay, including marks far outside the
 * image.  Sixel output must decode with libsixel to the layout's size. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#undef PACKAGE_VERSION
#include <sixel.h>

#include "sono/buf.h"
#include "sono/frame.h"
#include "station/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first 16 bytes choose the geometry; the rest fill the pixels. */
#define HEADER 16

static void check_sixel(const struct sbuf *out, const struct render_layout *l)
{
	const uint8_t *start = memchr(out->data, 'P', out->len);
	unsigned char *px = NULL, *pal = NULL;
	int w = 0, h = 0, n = 0;

	if (!start || start == out->data || start[-1] != '\033')
		abort();
	start--;
	if (SIXEL_FAILED(sixel_decode_raw((unsigned char *)start, (int)(out->len - (size_t)(start - out->data)),
		    &px, &w, &h, &pal, &n, NULL)) || w != (int)l->px_w || h != (int)l->px_h)
		abort();
	free(px);
	free(pal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum render_mode modes[] = { RENDER_MODE_SIXEL, RENDER_MODE_HALFBLOCK_24,
		RENDER_MODE_HALFBLOCK_256, RENDER_MODE_ASCII };
	struct render_caliper cal;
	double tick;
	struct render_overlay o = { &cal, 1, &tick, 1, { 255, 0, 0 } };
	struct render_target t = { 0 };
	struct render_layout l;
	struct frame f = { 0 };
	struct render *r;
	struct sbuf out;
	size_t i, n;

	if (size < HEADER)
		return 0;
	t.mode = modes[data[0] % 4];
	t.rect.col = data[1] % 8;
	t.rect.row = data[2] % 8;
	t.rect.cols = 1 + data[3] % 32;
	t.rect.rows = 1 + data[4] % 16;
	t.cell_w = data[5] % 20;
	t.cell_h = data[6] % 40;
	t.screen_rows = data[7] % 48;
	t.gray_levels = data[8];
	cal.a.x = (int8_t)data[9] * 4.0;
	cal.a.y = (int8_t)data[10] * 4.0;
	cal.b.x = (int8_t)data[11] * 100.0;
	cal.b.y = (int8_t)data[12] * 0.5;
	tick = (int8_t)data[13];
	if (frame_alloc(&f, 1 + data[14] % 96, 1 + data[15] % 96, data[14] & 0x80 ? 3 : 1,
		    FRAME_MAX_BYTES) != 0)
		return 0;
	n = (size_t)f.width * f.height * f.components;
	for (i = 0; i < n; i++)
		f.pixels[i] = size > HEADER ? data[HEADER + i % (size - HEADER)] : data[0];

	r = render_new();
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	if (r && render_frame(r, &t, &f, data[13] & 1 ? &o : NULL, &out, &l) == 0 &&
	    t.mode == RENDER_MODE_SIXEL)
		check_sixel(&out, &l);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
	return 0;
}
