/* Colour themes: UI colour pairs and the image colour map.
 *
 * A theme file is plain text with "key = value" lines and '#' comments:
 *
 *   status       = white on blue bold
 *   keybar.key   = bright-white on black
 *   image.map    = tint #ff3020     (or: gray)
 *   image.brightness = 60          (percent of full scale)
 *
 * Colours are the eight curses names, "bright-" plus a name (8..15),
 * "default", or a number 0..255.  On a terminal with fewer colours a bright
 * colour becomes its base colour plus bold, and a number above 15 becomes
 * white.  On a terminal without colours every role falls back to a fixed
 * attribute (reverse for bars, bold for highlights).
 *
 * Themes are looked up by name in $SONO_THEME_DIR, then the installed
 * $(pkgdatadir)/themes, then the source tree's themes/ folder (for runs from
 * a build folder); NAME.theme is the file name. */
#ifndef STATION_THEME_H
#define STATION_THEME_H

#include <stddef.h>
#include <stdint.h>

#define THEME_DEFAULT_NAME "dark"
#define THEME_NAME_MAX 64

enum theme_role {
	THEME_BODY,
	THEME_STATUS,
	THEME_KEYBAR_KEY,
	THEME_KEYBAR_LABEL,
	THEME_TITLE,
	THEME_HIGHLIGHT,
	THEME_WARNING,
	THEME_ERROR,
	THEME_HELP,
	THEME_SCALE,
	THEME_ROLE_COUNT
};

/* Attribute bits of a style (mapped to A_BOLD etc. when applied). */
enum {
	THEME_ATTR_BOLD = 1 << 0,
	THEME_ATTR_REVERSE = 1 << 1,
	THEME_ATTR_DIM = 1 << 2,
	THEME_ATTR_UNDERLINE = 1 << 3,
};

/* Foreground and background colour numbers (-1 = terminal default). */
struct theme_style {
	short fg;
	short bg;
	unsigned attrs;
};

struct theme {
	char name[THEME_NAME_MAX];
	struct theme_style styles[THEME_ROLE_COUNT];
	int image_gray;              /* non-zero: the map is plain gray at full scale */
	uint8_t image_lut[256][3];   /* gray level -> RGB shown on the image */
	uint8_t image_marker[3];     /* RGB of calipers and scale marks on the image */
};

/* Fills t with the built-in default theme (the same as themes/dark.theme). */
void theme_default(struct theme *t);

/* Parses theme text as if read from path (used for messages).  On error
 * returns SONO_EINVAL, writes "PATH:LINE: reason" to err and leaves t with
 * the values parsed so far on top of the default. */
int theme_parse(struct theme *t, const char *path, const char *text, char *err, size_t errlen);

/* Reads a theme file.  Returns 0, SONO_ENOTFOUND, SONO_ETOOBIG (over 64 KiB)
 * or SONO_EINVAL with "PATH:LINE: reason" in err. */
int theme_load_file(struct theme *t, const char *path, char *err, size_t errlen);

/* Finds the file of theme name (a bare name, or a path when it contains '/')
 * in the search order above.  Returns 0, SONO_EINVAL for a name with
 * characters other than letters, digits, '-' and '_', or SONO_ENOTFOUND. */
int theme_find(const char *name, char *path, size_t pathlen);

/* Loads theme name, or the default when name is NULL or empty.  On any
 * failure t contains the default theme, err the reason, and the return
 * value is the failure code. */
int theme_load(struct theme *t, const char *name, char *err, size_t errlen);

/* Sets up curses colour pairs for t.  Call after start_color(). */
void theme_apply(const struct theme *t);

/* Returns the curses attributes (colour pair and attributes) for role. */
unsigned long theme_attr(const struct theme *t, enum theme_role role);

/* Maps a gray level through the image colour map. */
void theme_map_gray(const struct theme *t, uint8_t level, uint8_t rgb[3]);

#endif
