/* Internals shared by render.c, the text writers in render_text.c and the
 * mixed gray and colour sixel path in render_mixed.c. */
#ifndef STATION_RENDER_PRIV_H
#define STATION_RENDER_PRIV_H

#include <stdint.h>

#include "sono/buf.h"
#include "station/render.h"
#include "station/sixel.h"

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

/* Limits of the mixed path, for a gray frame with colour annotations or a
 * small colour region (power Doppler in a part of the frame, say).  Frames
 * past them go to libsixel: more distinct non-gray colours than a byte
 * colour id holds, or more than RENDER_MIXED_COLORS_MAX colours on over
 * RENDER_MIXED_SHARE_MAX_PERCENT of the pixels. */
#define RENDER_MIXED_DISTINCT_MAX 255
/* NOTE: 10 % is a guess.  The only test frame past 32 colours, the GE
 * US1_UNCR.dcm power Doppler, has 5 %, and no colour Doppler frame was at
 * hand to find where median cut to 32 colours looks worse than libsixel. */
#define RENDER_MIXED_SHARE_MAX_PERCENT 10
/* Palette entries for the colours.  More distinct colours are reduced to
 * this many by median cut. */
#define RENDER_MIXED_COLORS_MAX 32

/* The colour palette entries of a mixed frame. */
struct render_mixed_colors {
	uint8_t rgb[RENDER_MIXED_COLORS_MAX][3];
	unsigned count;
	uint8_t slot[RENDER_MIXED_DISTINCT_MAX + 1]; /* colour id to its entry in rgb */
};

/* A gray image with some colour pixels, scaled, ready for the mixed
 * gray and colour sixel encoder. */
struct render_mixed {
	const uint8_t *gray;          /* w * h luminance */
	const uint8_t *color_id;      /* w * h: 0 for gray, else an id for colors->slot */
	const uint8_t *mask;          /* w * h, 1 = overlay colour; NULL without marks */
	unsigned w, h;
	const struct render_mixed_colors *colors;
	unsigned nlevels;             /* gray levels, 16 to 64 */
	const uint8_t (*colormap)[3]; /* for the gray levels; NULL = gray */
	uint8_t overlay_rgb[3];
};

/* Splits RGB frame f into luminance (gray) and colour ids (color_id: 0 for
 * a gray pixel), both width * height bytes, and fills colors.  Returns 0,
 * SONO_EUNSUPPORTED when f is past the limits of the mixed path, or
 * SONO_ENOMEM. */
int render_mixed_split(const struct frame *f, struct render_mixed_colors *colors,
	uint8_t *gray, uint8_t *color_id);

/* Appends m as sixel: histogram levels of the gray pixels, the colours and
 * the overlay.  index (w * h bytes) and map are caller scratch.  Returns as
 * sixelenc_encode_indexed. */
int render_mixed_encode(const struct render_mixed *m, uint8_t *index,
	struct sixelenc_gray_map *map, struct sbuf *out);

/* Returns the xterm 256-colour index nearest to an RGB colour: the 6x6x6
 * cube (16-231) or the gray ramp (232-255). */
unsigned render_rgb_to_256(unsigned r, unsigned g, unsigned b);

#endif
