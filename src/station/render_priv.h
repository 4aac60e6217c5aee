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

/* Most distinct non-gray colours a frame may have for the mixed path. */
#define RENDER_MIXED_COLORS_MAX 32

/* A gray image with a few colour pixels, scaled, ready for the mixed
 * gray and colour sixel encoder. */
struct render_mixed {
	const uint8_t *gray;          /* w * h luminance */
	const uint8_t *color_index;   /* w * h: 0 for gray, k + 1 for colors[k] */
	const uint8_t *mask;          /* w * h, 1 = overlay colour; NULL without marks */
	unsigned w, h;
	const uint8_t (*colors)[3];
	unsigned ncolors;
	unsigned nlevels;             /* gray levels, 16 to 64 */
	const uint8_t (*colormap)[3]; /* for the gray levels; NULL = gray */
	uint8_t overlay_rgb[3];
};

/* Splits RGB frame f into luminance (gray) and a colour map (color_index:
 * 0 for a gray pixel, k + 1 for colors[k]), both width * height bytes.
 * Returns 0, or SONO_EUNSUPPORTED when f has more than
 * RENDER_MIXED_COLORS_MAX distinct non-gray colours. */
int render_mixed_split(const struct frame *f, uint8_t (*colors)[3], unsigned *ncolors,
	uint8_t *gray, uint8_t *color_index);

/* Appends m as sixel: histogram levels of the gray pixels, the colours and
 * the overlay.  index is w * h bytes of caller scratch.  Returns as
 * sixelenc_encode_indexed. */
int render_mixed_encode(const struct render_mixed *m, uint8_t *index, struct sbuf *out);

/* Returns the xterm 256-colour index nearest to an RGB colour: the 6x6x6
 * cube (16-231) or the gray ramp (232-255). */
unsigned render_rgb_to_256(unsigned r, unsigned g, unsigned b);

#endif
