/* Image renderers of the live view: sixel, half-block and ASCII.
 *
 * render_frame() turns a frame into the bytes that draw it in a rectangle of
 * terminal cells.  The caller writes them to the terminal itself, after
 * ncurses' own output and once the tty's output queue has drained.  The
 * output saves the cursor (ESC 7), positions it, draws, resets SGR
 * attributes and restores the cursor (ESC 8), so ncurses' idea of the cursor
 * stays true.  The image keeps the frame's aspect ratio (the physical one
 * when both pixel spacings are known) and is centred in the rectangle.
 *
 * Gray frames use the theme's colour map: a 256-entry table from gray value
 * to RGB, NULL for plain gray.  RGB frames are drawn as they are, except
 * that their gray pixels also take the colour map when the frame has at
 * most 32 distinct non-gray colours (sixel) or none (text modes).  Sixel
 * sends RGB frames with more colours through libsixel's quantiser. */
#ifndef STATION_RENDER_H
#define STATION_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "sono/buf.h"
#include "sono/frame.h"

enum render_mode {
	RENDER_MODE_AUTO,          /* only as a request: termcaps_choose() resolves it */
	RENDER_MODE_SIXEL,
	RENDER_MODE_HALFBLOCK,     /* as a request: 24-bit or 256 colours, whichever fits */
	RENDER_MODE_HALFBLOCK_24,  /* U+2580 cells with 24-bit SGR colours */
	RENDER_MODE_HALFBLOCK_256, /* U+2580 cells with 256-colour SGR */
	RENDER_MODE_ASCII,         /* a brightness ramp of printable ASCII, no colour */
};

/* Maximum output of one frame.  render_frame fails with SONO_ETOOBIG
 * beyond it. */
#define RENDER_OUTPUT_MAX ((size_t)16 << 20)

/* Largest image width or height in pixels (sixel) or half cells; a larger
 * rectangle gets an image of this size. */
#define RENDER_DIM_MAX 8192

/* Gray levels of the sixel palette for gray frames.  More levels cost
 * bytes: see SIXELENC_TOLERANCE_DEFAULT in station/sixel.h. */
#define RENDER_GRAY_LEVELS_DEFAULT 16

/* A rectangle of cells, 0-based from the top-left corner of the screen. */
struct render_rect {
	unsigned col, row;
	unsigned cols, rows;
};

struct render_target {
	enum render_mode mode;      /* a resolved mode, not AUTO */
	struct render_rect rect;
	unsigned cell_w, cell_h;    /* cell size in pixels; required for sixel */
	unsigned screen_rows;       /* screen height in cells; 0 when unknown */
	const uint8_t (*colormap)[3]; /* 256 entries for gray frames, NULL = gray */
	unsigned gray_levels;       /* sixel palette size, 16 to 64; 0 = default */
};

/* A point in frame pixel coordinates (x to the right, y down). */
struct render_point {
	double x, y;
};

/* A caliper: a line from a to b with a cross at each end.  A caliper whose
 * two ends are equal (the first click) draws as a single cross. */
struct render_caliper {
	struct render_point a, b;
};

/* Marks drawn into the scaled image before encoding, in one colour. */
struct render_overlay {
	const struct render_caliper *calipers;
	size_t ncalipers;
	const double *tick_rows;  /* frame rows of depth ticks, drawn at the right edge */
	size_t nticks;
	uint8_t rgb[3];           /* colour of the marks */
};

/* Placement of the image, for mapping mouse clicks back to the frame. */
struct render_layout {
	struct render_rect cells; /* cells the image covers */
	unsigned px_w, px_h;      /* image size in pixels (sixel) or sub-cells */
	unsigned offset_x, offset_y; /* image origin inside cells, same units */
	double scale_x, scale_y;  /* image units per frame pixel */
};

struct render;

/* Creates a renderer that keeps its scratch buffers between frames.
 * Returns NULL when out of memory. */
struct render *render_new(void);

/* Frees r; accepts NULL. */
void render_free(struct render *r);

/* Appends the bytes that draw f into t->rect to out, with overlay (may be
 * NULL) drawn on top, and fills layout when not NULL.  Returns 0,
 * SONO_EINVAL for an unresolved mode, a frame without pixels, an empty
 * rectangle or a sixel target without a cell size, SONO_ETOOBIG when out's
 * maximum is reached, or SONO_ENOMEM.  On failure out keeps its earlier
 * contents plus possibly a partial image. */
int render_frame(struct render *r, const struct render_target *t, const struct frame *f,
	const struct render_overlay *overlay, struct sbuf *out, struct render_layout *layout);

/* Maps a cell (as from a mouse event) to frame pixel coordinates using a
 * layout from render_frame.  Returns 0, or SONO_EINVAL when the cell is
 * outside the image. */
int render_cell_to_frame(const struct render_layout *layout, const struct render_target *t,
	unsigned col, unsigned row, struct render_point *out);

/* Parses "auto", "sixel", "halfblock" or "ascii" (also "halfblock-24" and
 * "halfblock-256").  Returns 0 or SONO_EINVAL. */
int render_mode_parse(const char *name, enum render_mode *mode);

/* Returns the mode's name as render_mode_parse accepts it. */
const char *render_mode_name(enum render_mode mode);

#endif
