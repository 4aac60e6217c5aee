/* Theme files: parsing, lookup and curses colour pairs. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sono/error.h"
#include "station/theme.h"

#ifndef SONO_DATADIR
#define SONO_DATADIR "/usr/local/share/sonoterm"
#endif

#define THEME_FILE_MAX (64 * 1024)
#define THEME_LINE_MAX 256

static const char *const role_keys[THEME_ROLE_COUNT] = {
	[THEME_BODY] = "body",
	[THEME_STATUS] = "status",
	[THEME_KEYBAR_KEY] = "keybar.key",
	[THEME_KEYBAR_LABEL] = "keybar.label",
	[THEME_TITLE] = "title",
	[THEME_HIGHLIGHT] = "highlight",
	[THEME_WARNING] = "warning",
	[THEME_ERROR] = "error",
	[THEME_HELP] = "help",
	[THEME_SCALE] = "scale",
};

/* Attributes used on terminals without colours, per role. */
static const unsigned mono_attrs[THEME_ROLE_COUNT] = {
	[THEME_STATUS] = THEME_ATTR_REVERSE,
	[THEME_KEYBAR_KEY] = THEME_ATTR_BOLD,
	[THEME_KEYBAR_LABEL] = THEME_ATTR_REVERSE,
	[THEME_TITLE] = THEME_ATTR_BOLD,
	[THEME_HIGHLIGHT] = THEME_ATTR_REVERSE,
	[THEME_WARNING] = THEME_ATTR_BOLD,
	[THEME_ERROR] = THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE,
	[THEME_HELP] = THEME_ATTR_REVERSE,
};

static const char *const colour_names[8] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

struct image_map {
	int tinted;
	uint8_t tint[3];
	double brightness; /* 0..1 */
	double gamma;
};

static void build_lut(struct theme *t, const struct image_map *m)
{
	int i, c;

	for (i = 0; i < 256; i++) {
		double v = pow(i / 255.0, m->gamma) * m->brightness;

		for (c = 0; c < 3; c++) {
			double scale = m->tinted ? m->tint[c] : 255.0;

			t->image_lut[i][c] = (uint8_t)lround(v * scale);
		}
	}
	t->image_gray = !m->tinted && m->brightness >= 1.0 && fabs(m->gamma - 1.0) < 1e-9;
}

void theme_default(struct theme *t)
{
	static const struct theme_style dark[THEME_ROLE_COUNT] = {
		[THEME_BODY] = { COLOR_WHITE, COLOR_BLACK, 0 },
		[THEME_STATUS] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[THEME_KEYBAR_KEY] = { COLOR_WHITE, COLOR_BLACK, THEME_ATTR_BOLD },
		[THEME_KEYBAR_LABEL] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[THEME_TITLE] = { COLOR_CYAN, COLOR_BLACK, THEME_ATTR_BOLD },
		[THEME_HIGHLIGHT] = { COLOR_BLACK, COLOR_YELLOW, 0 },
		[THEME_WARNING] = { COLOR_YELLOW, COLOR_BLACK, THEME_ATTR_BOLD },
		[THEME_ERROR] = { COLOR_WHITE, COLOR_RED, THEME_ATTR_BOLD },
		[THEME_HELP] = { COLOR_WHITE, COLOR_BLUE, 0 },
		[THEME_SCALE] = { COLOR_YELLOW, COLOR_BLACK, 0 },
	};
	const struct image_map gray = { 0, { 255, 255, 255 }, 1.0, 1.0 };

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", THEME_DEFAULT_NAME);
	memcpy(t->styles, dark, sizeof(dark));
	build_lut(t, &gray);
	t->image_marker[0] = 255;
	t->image_marker[1] = 255;
	t->image_marker[2] = 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Parses a colour name or number into *out.  Returns 0 or SONO_EINVAL. */
static int parse_colour(const char *word, short *out)
{
	const char *base = word;
	int bright = 0;
	char *end;
	long n;
	int i;

	if (!strcmp(word, "default")) {
		*out = -1;
		return 0;
	}
	if (!strncmp(word, "bright-", 7)) {
		bright = 8;
		base = word + 7;
	}
	for (i = 0; i < 8; i++) {
		if (!strcmp(base, colour_names[i])) {
			*out = (short)(i + bright);
			return 0;
		}
	}
	if (bright)
		return SONO_EINVAL;
	errno = 0;
	n = strtol(word, &end, 10);
	if (errno || end == word || *end || n < 0 || n > 255)
		return SONO_EINVAL;
	*out = (short)n;
	return 0;
}

static int parse_attr(const char *word, unsigned *attrs)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "bold", THEME_ATTR_BOLD }, { "reverse", THEME_ATTR_REVERSE },
		{ "dim", THEME_ATTR_DIM }, { "underline", THEME_ATTR_UNDERLINE },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(word, names[i].name)) {
			*attrs |= names[i].bit;
			return 0;
		}
	}
	return SONO_EINVAL;
}

/* Parses "FG [on BG] [ATTR]..." into *style, or writes the offending word
 * to err. */
static int parse_style(char *value, struct theme_style *style, char *err, size_t errlen)
{
	struct theme_style s = { -1, -1, 0 };
	char *save = NULL;
	char *word;
	int n = 0;

	for (word = strtok_r(value, " \t", &save); word; word = strtok_r(NULL, " \t", &save), n++) {
		if (n == 0 && parse_colour(word, &s.fg) == 0)
			continue;
		if (!strcmp(word, "on")) {
			word = strtok_r(NULL, " \t", &save);
			if (word && parse_colour(word, &s.bg) == 0)
				continue;
			snprintf(err, errlen, "expected a colour after \"on\"");
			return SONO_EINVAL;
		}
		if (parse_attr(word, &s.attrs) == 0)
			continue;
		snprintf(err, errlen, "unknown colour or attribute \"%.40s\"", word);
		return SONO_EINVAL;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty style");
		return SONO_EINVAL;
	}
	*style = s;
	return 0;
}

static int parse_rgb(const char *s, uint8_t rgb[3])
{
	unsigned long v;
	char *end;

	if (s[0] != '#' || strlen(s) != 7)
		return SONO_EINVAL;
	v = strtoul(s + 1, &end, 16);
	if (*end)
		return SONO_EINVAL;
	rgb[0] = (uint8_t)(v >> 16);
	rgb[1] = (uint8_t)(v >> 8);
	rgb[2] = (uint8_t)v;
	return 0;
}

static int parse_number(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return SONO_EINVAL;
	*out = v;
	return 0;
}

/* Applies one image.* key.  Returns 0 or SONO_EINVAL with a reason. */
static int parse_image_key(struct theme *t, struct image_map *m, const char *key,
	char *value, char *err, size_t errlen)
{
	if (!strcmp(key, "image.map")) {
		if (!strcmp(value, "gray")) {
			m->tinted = 0;
			return 0;
		}
		if (!strncmp(value, "tint ", 5) && parse_rgb(trim(value + 5), m->tint) == 0) {
			m->tinted = 1;
			return 0;
		}
		snprintf(err, errlen, "image.map must be \"gray\" or \"tint #RRGGBB\"");
		return SONO_EINVAL;
	}
	if (!strcmp(key, "image.brightness")) {
		double pct;

		if (parse_number(value, 1, 100, &pct) == 0) {
			m->brightness = pct / 100.0;
			return 0;
		}
		snprintf(err, errlen, "image.brightness must be a percentage from 1 to 100");
		return SONO_EINVAL;
	}
	if (!strcmp(key, "image.gamma")) {
		if (parse_number(value, 0.2, 5.0, &m->gamma) == 0)
			return 0;
		snprintf(err, errlen, "image.gamma must be a number from 0.2 to 5");
		return SONO_EINVAL;
	}
	if (!strcmp(key, "image.marker")) {
		if (parse_rgb(value, t->image_marker) == 0)
			return 0;
		snprintf(err, errlen, "image.marker must be #RRGGBB");
		return SONO_EINVAL;
	}
	snprintf(err, errlen, "unknown key \"%.40s\"", key);
	return SONO_EINVAL;
}

static int parse_line(struct theme *t, struct image_map *m, char *line, char *err, size_t errlen)
{
	char *eq, *key, *value;
	int i;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected \"key = value\"");
		return SONO_EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);

	if (!strcmp(key, "name")) {
		snprintf(t->name, sizeof(t->name), "%s", value);
		return 0;
	}
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		if (!strcmp(key, role_keys[i]))
			return parse_style(value, &t->styles[i], err, errlen);
	}
	return parse_image_key(t, m, key, value, err, errlen);
}

int theme_parse(struct theme *t, const char *path, const char *text, char *err, size_t errlen)
{
	struct image_map map = { 0, { 255, 255, 255 }, 1.0, 1.0 };
	char line[THEME_LINE_MAX];
	char reason[160];
	const char *p = text;
	int lineno = 0;

	theme_default(t);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
				THEME_LINE_MAX - 1);
			return SONO_EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (parse_line(t, &map, line, reason, sizeof(reason)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, reason);
			return SONO_EINVAL;
		}
		p = nl ? nl + 1 : p + n;
	}
	build_lut(t, &map);
	return 0;
}

int theme_load_file(struct theme *t, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t n;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	}
	text = malloc(THEME_FILE_MAX + 1);
	if (!text) {
		rc = SONO_ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(text, 1, THEME_FILE_MAX + 1, f);
	if (n > THEME_FILE_MAX) {
		rc = SONO_ETOOBIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, THEME_FILE_MAX);
		goto out;
	}
	if (memchr(text, '\0', n)) {
		rc = SONO_EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	text[n] = '\0';
	rc = theme_parse(t, path, text, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}

static int name_valid(const char *name)
{
	const char *p;

	if (!*name || strlen(name) >= THEME_NAME_MAX)
		return 0;
	for (p = name; *p; p++) {
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
			('0' <= *p && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	}
	return 1;
}

static int try_dir(const char *dir, const char *name, char *path, size_t pathlen)
{
	struct stat st;
	int n;

	if (!dir || !*dir)
		return SONO_ENOTFOUND;
	n = snprintf(path, pathlen, "%s/%s.theme", dir, name);
	if (n < 0 || (size_t)n >= pathlen)
		return SONO_ETOOBIG;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : SONO_ENOTFOUND;
}

int theme_find(const char *name, char *path, size_t pathlen)
{
	const char *dirs[3];
	size_t i;

	if (strchr(name, '/')) {
		if ((size_t)snprintf(path, pathlen, "%s", name) >= pathlen)
			return SONO_ETOOBIG;
		return 0;
	}
	if (!name_valid(name))
		return SONO_EINVAL;

	dirs[0] = getenv("SONO_THEME_DIR");
	dirs[1] = SONO_DATADIR "/themes";
#ifdef SONO_THEME_SRCDIR
	dirs[2] = SONO_THEME_SRCDIR;
#else
	dirs[2] = NULL;
#endif
	for (i = 0; i < 3; i++) {
		if (try_dir(dirs[i], name, path, pathlen) == 0)
			return 0;
	}
	return SONO_ENOTFOUND;
}

int theme_load(struct theme *t, const char *name, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	theme_default(t);
	if (!name || !*name)
		name = THEME_DEFAULT_NAME;
	rc = theme_find(name, path, sizeof(path));
	if (rc == SONO_EINVAL) {
		snprintf(err, errlen, "invalid theme name \"%.40s\" (letters, digits, '-' and '_' only)",
			name);
		return rc;
	}
	if (rc < 0) {
		if (!strcmp(name, THEME_DEFAULT_NAME))
			return 0; /* the built-in copy of the default serves */
		snprintf(err, errlen, "theme \"%.40s\" not found (searched $SONO_THEME_DIR and %s/themes)",
			name, SONO_DATADIR);
		return rc;
	}
	rc = theme_load_file(t, path, err, errlen);
	if (rc < 0)
		theme_default(t);
	return rc;
}

/* Folds a colour into the range the terminal has; sets *bold when a bright
 * colour had to lose its brightness. */
static short fit_colour(short c, int *bold)
{
	if (c < 0 || c < COLORS)
		return c;
	if (c < 16) {
		*bold = 1;
		return (short)(c - 8);
	}
	/* NOTE: colours 16..255 on an 8-colour terminal map to white; themes for
	 * such consoles (mono) use 0..15 only. */
	return COLOR_WHITE;
}

void theme_apply(const struct theme *t)
{
	int i;

	if (!has_colors())
		return;
	use_default_colors();
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		int bold = 0;
		short fg = fit_colour(t->styles[i].fg, &bold);
		short bg = fit_colour(t->styles[i].bg, &bold);

		init_pair((short)(i + 1), fg, bg);
	}
}

unsigned long theme_attr(const struct theme *t, enum theme_role role)
{
	unsigned attrs;
	attr_t a = 0;
	int bold = 0;

	if (role < 0 || role >= THEME_ROLE_COUNT)
		return A_NORMAL;
	if (has_colors()) {
		attrs = t->styles[role].attrs;
		fit_colour(t->styles[role].fg, &bold);
		a = COLOR_PAIR(role + 1);
	} else {
		attrs = mono_attrs[role];
	}
	if ((attrs & THEME_ATTR_BOLD) || bold)
		a |= A_BOLD;
	if (attrs & THEME_ATTR_REVERSE)
		a |= A_REVERSE;
	if (attrs & THEME_ATTR_DIM)
		a |= A_DIM;
	if (attrs & THEME_ATTR_UNDERLINE)
		a |= A_UNDERLINE;
	return a;
}

void theme_map_gray(const struct theme *t, uint8_t level, uint8_t rgb[3])
{
	memcpy(rgb, t->image_lut[level], 3);
}
