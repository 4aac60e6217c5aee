/* Internals shared by render.c, the text writers in render_text.c and the
 * mixed gray and colour sixel path in render_mixed.c. */
#ifndef STATION_RENDER_PRIV_H
#define STATION_RENDER_PRIV_H

#include <stdint.h>

#include "sono/buf.h"
#include "station/render.h"

/* A scaled image ready for a writer. */
struct render_image {
	const uint8_t *pixels;        /* w * h * components bytes */
	const uint8_t *mask;          /* w * h, 1 = overlay colour; NULL without marks */
	unsigned w, h, components;
	const uint8_t (*colormap)[3]; /* for gray pixels; NULL = gray */
	uint8_t overlay_rgb[3];
};

/* Writes img as U+2580 cells into cells (img is cells->cols wide and twice
 * cells->rows high): the upper half in the foreground colour, the lower in
 * the background.  truecolor selects 24-bit SGR, else the 256-colour
 * palette.  Returns 0, SONO_ETOOBIG or SONO_ENOMEM. */
int render_halfblock(const struct render_image *img, const struct render_rect *cells,
	int truecolor, struct sbuf *out);

/* Writes img (one pixel a cell) as a brightness ramp of ASCII characters,
 * with '+' where the overlay paints.  Returns as render_halfblock. */
int render_ascii(const struct render_image *img, const struct render_rect *cells,
	struct sbuf *out);

/* Most distinct non-gray colours a frame may have for render_sixel_mixed. */
#define RENDER_MIXED_COLORS_MAX 32

/* Encodes the scaled RGB image img of frame f as sixel with nlevels gray
 * levels plus f's own non-gray colours, the overlay on top.  gray and
 * index are caller scratch buffers of img->w * img->h bytes.  Returns 0,
 * SONO_EUNSUPPORTED when f has more than RENDER_MIXED_COLORS_MAX non-gray
 * colours (out is then untouched), or as sixelenc_encode_indexed. */
int render_sixel_mixed(const struct frame *f, const struct render_image *img, unsigned nlevels,
	uint8_t *gray, uint8_t *index, struct sbuf *out);

/* Returns the xterm 256-colour index nearest to an RGB colour: the 6x6x6
 * cube (16-231) or the gray ramp (232-255). */
unsigned render_rgb_to_256(unsigned r, unsigned g, unsigned b);

#endif
