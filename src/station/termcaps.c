/* Terminal capability detection: environment, terminfo, TIOCGWINSZ and the
 * terminal's replies to DA1, CSI 16 t and CSI 14 t. */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/termcaps.h"

#define CSI_PARAMS_MAX 32
#define REPLY_MAX 1024

/* One control sequence found in a reply: ESC [ (or the 8-bit CSI byte
 * 0x9b), an optional private marker such as '?', numeric parameters and
 * the final byte. */
struct csi {
	char marker;
	unsigned params[CSI_PARAMS_MAX];
	unsigned nparams;
	char final;
	size_t body, end; /* parameters start at buf[body]; the sequence ends before buf[end] */
};

/* Parses the parameters and final byte at buf[i].  Returns 0, or
 * SONO_EINVAL when the bytes there are not a complete sequence. */
static int csi_parse_body(const char *buf, size_t len, size_t i, struct csi *c)
{
	unsigned long v = 0;
	int have_digit = 0;

	if (i < len && (buf[i] == '?' || buf[i] == '>' || buf[i] == '='))
		c->marker = buf[i++];
	for (; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch >= '0' && ch <= '9') {
			v = v * 10 + (ch - '0');
			if (v > 1000000)
				v = 1000000;
			have_digit = 1;
		} else if (ch == ';' || (ch >= 0x40 && ch <= 0x7e)) {
			if ((have_digit || ch == ';') && c->nparams < CSI_PARAMS_MAX)
				c->params[c->nparams++] = (unsigned)v;
			v = 0;
			have_digit = 0;
			if (ch != ';') {
				c->final = (char)ch;
				c->end = i + 1;
				return 0;
			}
		} else {
			return SONO_EINVAL;
		}
	}
	return SONO_EINVAL;
}

/* Finds the next complete control sequence at or after *pos and moves *pos
 * past it.  Returns 0 or SONO_ENOTFOUND. */
static int csi_next(const char *buf, size_t len, size_t *pos, struct csi *c)
{
	size_t i;

	for (i = *pos; i < len; i++) {
		size_t body;

		if ((unsigned char)buf[i] == 0x9b)
			body = i + 1;
		else if (buf[i] == '\033' && i + 1 < len && buf[i + 1] == '[')
			body = i + 2;
		else
			continue;
		memset(c, 0, sizeof(*c));
		c->body = body;
		if (csi_parse_body(buf, len, body, c) == 0) {
			*pos = c->end;
			return 0;
		}
	}
	*pos = len;
	return SONO_ENOTFOUND;
}

int termcaps_parse_da1(const char *buf, size_t len, int *sixel, char *params, size_t paramslen)
{
	struct csi c;
	size_t pos = 0, i, n;

	while (csi_next(buf, len, &pos, &c) == 0) {
		if (c.marker != '?' || c.final != 'c')
			continue;
		/* The first parameter is the device class; attributes follow. */
		*sixel = 0;
		for (i = 1; i < c.nparams; i++) {
			if (c.params[i] == 4)
				*sixel = 1;
		}
		if (params && paramslen) {
			n = c.end - 1 - c.body;
			if (n >= paramslen)
				n = paramslen - 1;
			memcpy(params, buf + c.body, n);
			params[n] = '\0';
		}
		return 0;
	}
	return SONO_ENOTFOUND;
}

int termcaps_parse_size_report(const char *buf, size_t len, unsigned kind, unsigned *w, unsigned *h)
{
	struct csi c;
	size_t pos = 0;

	while (csi_next(buf, len, &pos, &c) == 0) {
		if (c.marker || c.final != 't' || c.nparams != 3 || c.params[0] != kind)
			continue;
		*h = c.params[1];
		*w = c.params[2];
		return 0;
	}
	return SONO_ENOTFOUND;
}

int termcaps_cell_plausible(unsigned w, unsigned h)
{
	return w >= TERMCAPS_CELL_MIN_W && w <= TERMCAPS_CELL_MAX_W &&
		h >= TERMCAPS_CELL_MIN_H && h <= TERMCAPS_CELL_MAX_H;
}

int termcaps_cell_from_window(unsigned px_w, unsigned px_h, unsigned cols, unsigned rows,
	unsigned *cell_w, unsigned *cell_h)
{
	if (!px_w || !px_h || !cols || !rows)
		return SONO_EINVAL;
	if (!termcaps_cell_plausible(px_w / cols, px_h / rows))
		return SONO_EINVAL;
	*cell_w = px_w / cols;
	*cell_h = px_h / rows;
	return 0;
}

const char *termcaps_cell_source_name(enum termcaps_cell_source source)
{
	switch (source) {
	case TERMCAPS_CELL_WINSZ:
		return "tiocgwinsz";
	case TERMCAPS_CELL_CSI16T:
		return "csi-16t";
	case TERMCAPS_CELL_CSI14T:
		return "csi-14t";
	default:
		return "unknown";
	}
}

static void copy_env(const char *name, char *out, size_t outlen)
{
	const char *v = getenv(name);

	snprintf(out, outlen, "%s", v ? v : "");
}

/* Colours from COLORTERM, then terminfo's "colors", then the TERM name. */
static unsigned detect_colors(const char *term, const char *colorterm, int fd)
{
	TERMINAL *saved = cur_term;
	int err = 0, n = -1;

	if (!strcmp(colorterm, "truecolor") || !strcmp(colorterm, "24bit"))
		return 1u << 24;
	if (!term[0] || !strcmp(term, "dumb"))
		return 0;
	if (setupterm(term, fd, &err) == OK) {
		n = tigetnum("colors");
		del_curterm(cur_term);
	}
	set_curterm(saved);
	if (n >= 1 << 24)
		return 1u << 24;
	if (n >= 256)
		return 256;
	if (n >= 8)
		return 8;
	if (n >= 0)
		return 0;
	if (strstr(term, "256color"))
		return 256;
	return !strcmp(term, "linux") ? 8 : 0;
}

static unsigned elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
	return ms < 0 ? 0 : (unsigned)ms;
}

/* Reads replies into buf until a DA1 reply is complete or timeout_ms
 * passes.  Returns the number of bytes read. */
static size_t read_replies(int fd, char *buf, size_t cap, unsigned timeout_ms,
	const struct timespec *start)
{
	size_t len = 0;
	int sixel;

	while (len < cap) {
		unsigned spent = elapsed_ms(start);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int ready;

		if (spent >= timeout_ms)
			break;
		ready = poll(&p, 1, (int)(timeout_ms - spent));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			break;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (termcaps_parse_da1(buf, len, &sixel, NULL, 0) == 0)
			break;
	}
	return len;
}

/* Sends the queries in raw mode and collects the replies.  CSI 16 t and
 * CSI 14 t go first and DA1 last.  A terminal processes its input in order,
 * so once the DA1 reply is in, every other reply is too.  Returns 0 or
 * SONO_EIO. */
static int query_terminal(int in_fd, int out_fd, unsigned timeout_ms, char *buf, size_t cap,
	size_t *len, struct timespec *start)
{
	static const char queries[] = "\033[16t\033[14t\033[c";
	struct termios saved, raw;

	*len = 0;
	if (tcgetattr(in_fd, &saved) != 0)
		return SONO_EIO;
	raw = saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(in_fd, TCSANOW, &raw) != 0)
		return SONO_EIO;

	clock_gettime(CLOCK_MONOTONIC, start);
	if (write(out_fd, queries, sizeof(queries) - 1) == (ssize_t)(sizeof(queries) - 1))
		*len = read_replies(in_fd, buf, cap, timeout_ms, start);

	/* NOTE: a reply that arrives after the timeout goes to the next reader
	 * of the terminal, and ncurses then sees it as stray input. */
	if (tcsetattr(in_fd, TCSANOW, &saved) != 0)
		return SONO_EIO;
	return 0;
}

/* Takes the cell size from the replies when TIOCGWINSZ gave none. */
static void cell_from_replies(struct termcaps *tc, const char *buf, size_t len)
{
	unsigned w, h;

	if (tc->cell_source != TERMCAPS_CELL_UNKNOWN)
		return;
	if (termcaps_parse_size_report(buf, len, 6, &w, &h) == 0 && termcaps_cell_plausible(w, h)) {
		tc->cell_w = w;
		tc->cell_h = h;
		tc->cell_source = TERMCAPS_CELL_CSI16T;
		return;
	}
	if (termcaps_parse_size_report(buf, len, 4, &w, &h) == 0 &&
	    termcaps_cell_from_window(w, h, tc->cols, tc->rows, &tc->cell_w, &tc->cell_h) == 0)
		tc->cell_source = TERMCAPS_CELL_CSI14T;
}

int termcaps_update_size(struct termcaps *tc, int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
		return SONO_EIO;
	tc->cols = ws.ws_col;
	tc->rows = ws.ws_row;
	if (tc->cell_source == TERMCAPS_CELL_UNKNOWN || tc->cell_source == TERMCAPS_CELL_WINSZ) {
		if (termcaps_cell_from_window(ws.ws_xpixel, ws.ws_ypixel, ws.ws_col, ws.ws_row,
			    &tc->cell_w, &tc->cell_h) == 0) {
			tc->cell_source = TERMCAPS_CELL_WINSZ;
		} else {
			tc->cell_w = tc->cell_h = 0;
			tc->cell_source = TERMCAPS_CELL_UNKNOWN;
		}
	}
	return 0;
}

int termcaps_detect(struct termcaps *tc, int in_fd, int out_fd, unsigned timeout_ms)
{
	char buf[REPLY_MAX];
	size_t len = 0;
	struct timespec start;
	const char *codeset = nl_langinfo(CODESET);
	int rc = 0;

	memset(tc, 0, sizeof(*tc));
	clock_gettime(CLOCK_MONOTONIC, &start);
	copy_env("TERM", tc->term, sizeof(tc->term));
	copy_env("COLORTERM", tc->colorterm, sizeof(tc->colorterm));
	tc->utf8 = codeset && !strcmp(codeset, "UTF-8");
	tc->is_tty = isatty(in_fd) && isatty(out_fd);
	tc->colors = detect_colors(tc->term, tc->colorterm, out_fd);
	if (!tc->is_tty)
		return 0;

	termcaps_update_size(tc, out_fd);
	if (!tc->term[0] || !strcmp(tc->term, "dumb"))
		return 0;

	tc->queried = 1;
	rc = query_terminal(in_fd, out_fd, timeout_ms, buf, sizeof(buf), &len, &start);
	tc->elapsed_ms = elapsed_ms(&start);
	if (termcaps_parse_da1(buf, len, &tc->sixel, tc->da1, sizeof(tc->da1)) == 0)
		tc->da1_received = 1;
	cell_from_replies(tc, buf, len);
	LOG_DEBUG("da1 %s, cell %ux%u from %s, %u ms", tc->da1_received ? "received" : "missing",
		tc->cell_w, tc->cell_h, termcaps_cell_source_name(tc->cell_source), tc->elapsed_ms);
	return rc;
}

enum render_mode termcaps_choose(const struct termcaps *tc, enum render_mode requested)
{
	int cell_known = tc->cell_w && tc->cell_h;

	switch (requested) {
	case RENDER_MODE_SIXEL:
		if (cell_known)
			return RENDER_MODE_SIXEL;
		break;
	case RENDER_MODE_HALFBLOCK:
		return tc->colors >= 1u << 24 ? RENDER_MODE_HALFBLOCK_24 : RENDER_MODE_HALFBLOCK_256;
	case RENDER_MODE_HALFBLOCK_24:
	case RENDER_MODE_HALFBLOCK_256:
	case RENDER_MODE_ASCII:
		return requested;
	default:
		if (tc->sixel && cell_known)
			return RENDER_MODE_SIXEL;
		break;
	}
	if (tc->utf8 && tc->colors >= 1u << 24)
		return RENDER_MODE_HALFBLOCK_24;
	if (tc->utf8 && tc->colors >= 256)
		return RENDER_MODE_HALFBLOCK_256;
	return RENDER_MODE_ASCII;
}
