/* Terminal capability detection for the station's image renderers.
 *
 * termcaps_detect() runs before ncurses starts: it reads TERM, COLORTERM,
 * terminfo and the locale, takes the window size from TIOCGWINSZ, and sends
 * CSI 16 t, CSI 14 t and DA1 (CSI c) to the terminal in raw mode.  DA1 goes
 * last because terminals from the VT100 on reply to it, so its reply ends
 * the wait.  A terminal that never replies costs at most the timeout
 * (250 ms by default).  A cell size of 0, or one outside 4x6 .. 64x128
 * pixels, counts as unknown. */
#ifndef STATION_TERMCAPS_H
#define STATION_TERMCAPS_H

#include <stddef.h>

#include "station/render.h"

#define TERMCAPS_TIMEOUT_MS 250
#define TERMCAPS_CELL_MIN_W 4
#define TERMCAPS_CELL_MIN_H 6
#define TERMCAPS_CELL_MAX_W 64
#define TERMCAPS_CELL_MAX_H 128

/* Where the cell size came from. */
enum termcaps_cell_source {
	TERMCAPS_CELL_UNKNOWN,
	TERMCAPS_CELL_WINSZ,    /* ws_xpixel / ws_ypixel of TIOCGWINSZ */
	TERMCAPS_CELL_CSI16T,   /* cell size report, CSI 6 ; h ; w t */
	TERMCAPS_CELL_CSI14T,   /* text area report, CSI 4 ; h ; w t, over rows and columns */
};

struct termcaps {
	char term[64];          /* $TERM, "" when unset */
	char colorterm[64];     /* $COLORTERM, "" when unset */
	int is_tty;             /* input and output are a terminal */
	int queried;            /* the queries were sent (a terminal, TERM set and not "dumb") */
	int da1_received;       /* a DA1 reply arrived before the timeout */
	char da1[64];           /* the DA1 reply's parameters, e.g. "?63;1;2;4;6" */
	int sixel;              /* DA1 lists attribute 4 */
	unsigned cols, rows;    /* window size in cells, 0 when unknown */
	unsigned cell_w, cell_h; /* cell size in pixels, 0 when unknown */
	enum termcaps_cell_source cell_source;
	unsigned colors;        /* 16777216 (24-bit), 256, 8 or 0 (monochrome) */
	int utf8;               /* the locale's character set is UTF-8 */
	unsigned elapsed_ms;    /* time spent waiting for replies */
};

/* Fills tc from the environment and, when in_fd and out_fd are a terminal,
 * from its replies, waiting at most timeout_ms for them.  Nothing is sent
 * when TERM is unset or "dumb".  The terminal's modes are restored before
 * returning.  Call setlocale(LC_ALL, "") first so utf8 reflects the
 * locale.  To query again later, for instance after the user changed the
 * font, call it while ncurses is suspended (endwin), since it reads the
 * replies from the terminal's input.  Returns 0 (the fields show what was
 * found) or SONO_EIO when the terminal modes could not be set or restored. */
int termcaps_detect(struct termcaps *tc, int in_fd, int out_fd, unsigned timeout_ms);

/* Re-reads the window size with TIOCGWINSZ after a resize and, when the cell
 * size came from TIOCGWINSZ, recomputes it.  Sends no query, so it is safe
 * while ncurses owns the terminal.  Returns 0 or SONO_EIO. */
int termcaps_update_size(struct termcaps *tc, int fd);

/* Chooses the renderer for requested (RENDER_MODE_AUTO picks one; an
 * explicit mode is returned as given, except that sixel without a known cell
 * size falls back as auto does).  Sixel needs DA1 attribute 4 and a cell
 * size; then half-block with 24-bit colour, then with 256 colours (both need
 * UTF-8); else ASCII. */
enum render_mode termcaps_choose(const struct termcaps *tc, enum render_mode requested);

/* Parsers for the replies, exposed for tests.  Each scans len bytes of buf
 * for the first reply of its kind and ignores anything around it.
 * termcaps_parse_da1 sets *sixel and copies the parameters to params.
 * termcaps_parse_size_report finds CSI kind ; h ; w t (kind 6 is the cell
 * size, 4 the text area).  Both return 0 or SONO_ENOTFOUND. */
int termcaps_parse_da1(const char *buf, size_t len, int *sixel, char *params, size_t paramslen);
int termcaps_parse_size_report(const char *buf, size_t len, unsigned kind, unsigned *w, unsigned *h);

/* Returns 1 when a cell of w x h pixels is plausible, else 0. */
int termcaps_cell_plausible(unsigned w, unsigned h);

/* Derives the cell size from a window of px_w x px_h pixels and cols x rows
 * cells.  Returns 0, or SONO_EINVAL when a value is 0 or the cell would be
 * implausible (640x480 pixels reported for 200x60 cells, say). */
int termcaps_cell_from_window(unsigned px_w, unsigned px_h, unsigned cols, unsigned rows,
	unsigned *cell_w, unsigned *cell_h);

/* Returns "tiocgwinsz", "csi-16t", "csi-14t" or "unknown". */
const char *termcaps_cell_source_name(enum termcaps_cell_source source);

#endif
