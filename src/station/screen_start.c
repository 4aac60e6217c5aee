/* The start screen: login first, then the permitted scanner; see
 * screen_start.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/permit.h"
#include "station/screen_login.h"
#include "station/screen_start.h"
#include "station/session.h"

/* What the start screen did last, which decides what it does when it is
 * on top again. */
enum start_state {
	START_BEGIN,      /* nothing yet, or a retry */
	START_LOGIN,      /* the login screen is above */
	START_CONNECTING, /* resolving the scanner; drawn while it blocks */
	START_LIVE,       /* the live screen is above */
	START_REFUSED,    /* the scanner was refused or not reached; reason shown */
};

struct start_view {
	struct start_options opt;
	enum start_state state;
	int pending;                 /* decide the next step on the next tick */
	char reason[1024];           /* sanitised, for START_REFUSED */
};

static const char start_help[] =
	"Start\n"
	"\n"
	"The station logs in to the cloud first, then connects to the scanner\n"
	"only when the logged-in user is permitted it.  When the scanner is\n"
	"refused or cannot be reached, the reason is shown here.\n"
	"\n"
	"Enter or r  try the scanner again\n"
	"o           log out, for example to log in as another user\n"
	"F10         quit";

static int logged_in(struct start_view *v)
{
	struct store_cloud_session sess;
	char err[256];
	int rc;

	rc = session_current(v->opt.lock->store, &sess, err, sizeof(err));
	crypto_wipe(sess.token, sizeof(sess.token));
	return rc == 0;
}

/* Resolves the scanner for the logged-in user and opens the live screen,
 * or records why it cannot. */
static void open_scanner(struct ui *ui, struct start_view *v)
{
	struct scanner_config cfg;
	char err[sizeof(v->reason)] = "";
	int rc;

	v->state = START_CONNECTING;
	ui_refresh(ui);
	scanner_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "%s", v->opt.host);
	cfg.port = v->opt.port;
	cfg.identity = v->opt.identity;
	rc = permit_resolve(v->opt.lock->store, &cfg, err, sizeof(err));
	if (rc == 0)
		rc = v->opt.open_live(ui, v->opt.open_live_arg, cfg.pin, cfg.serial, err,
			sizeof(err));
	if (rc == 0) {
		v->state = START_LIVE;
		return;
	}
	sanitize_str(err[0] ? err : sono_strerror(rc), v->reason, sizeof(v->reason));
	v->state = START_REFUSED;
	LOG_NOTICE("live screen not opened on %s:%u: %s", v->opt.host, v->opt.port,
		sono_strerror(rc));
}

/* Decides the next step after the start or after the screen above closed.
 * Returns UI_ACT_* flags. */
static int start_next(struct ui *ui, struct start_view *v)
{
	int user = logged_in(v);

	if (v->state == START_LOGIN && !user) {
		LOG_NOTICE("login screen closed without a login; quitting");
		return UI_ACT_QUIT;
	}
	if (v->state == START_LIVE && user)
		return UI_ACT_QUIT;
	if (v->state == START_REFUSED && user)
		return UI_ACT_NONE; /* unlocked again: the reason stays until Enter */
	if (!user) {
		v->state = START_LOGIN;
		login_screen_push(ui, v->opt.lock->store, &v->opt.lock->cloud);
		return UI_ACT_FULL;
	}
	open_scanner(ui, v);
	return UI_ACT_FULL;
}

static int start_tick(struct ui *ui, void *state)
{
	struct start_view *v = state;

	if (!v->pending)
		return UI_ACT_NONE;
	v->pending = 0;
	return start_next(ui, v);
}

static void start_uncover(struct ui *ui, void *state)
{
	struct start_view *v = state;

	(void)ui;
	v->pending = 1;
}

static int start_timeout(struct ui *ui, void *state)
{
	struct start_view *v = state;

	(void)ui;
	return v->pending ? 0 : -1;
}

static int start_key(struct ui *ui, void *state, int key)
{
	struct start_view *v = state;

	if (v->state != START_REFUSED)
		return UI_ACT_NONE;
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'r':
		v->state = START_BEGIN;
		v->pending = 1;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case 'o':
		/* The logout message stays in the status line; whether it
		 * worked or not, the next step follows from the login. */
		lock_logout(ui, v->opt.lock);
		v->state = START_BEGIN;
		v->pending = 1;
		return UI_ACT_FULL | UI_ACT_HANDLED;
	default:
		return UI_ACT_NONE;
	}
}

/* Writes text into win from row, wrapped at spaces to the window width. */
static void draw_wrapped(WINDOW *win, int row, const char *text)
{
	int width = getmaxx(win) - 4, rows = getmaxy(win);
	size_t len = strlen(text);

	while (len > 0 && row < rows - 1 && width > 10) {
		int n = len > (size_t)width ? width : (int)len;

		if ((size_t)n < len) {
			int cut = n;

			while (cut > width / 2 && text[cut] != ' ')
				cut--;
			if (text[cut] == ' ')
				n = cut;
		}
		mvwprintw(win, row++, 2, "%.*s", n, text);
		text += n;
		len -= (size_t)n;
		while (*text == ' ') {
			text++;
			len--;
		}
	}
}

static void start_draw(struct ui *ui, void *state, WINDOW *win)
{
	struct start_view *v = state;

	werase(win);
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_TITLE));
	mvwprintw(win, 1, 2, "Scanner %s:%u", v->opt.host, v->opt.port);
	wattrset(win, A_NORMAL);
	if (v->state == START_CONNECTING) {
		mvwprintw(win, 3, 2, "Checking that the scanner is one this user is permitted...");
		return;
	}
	if (v->state != START_REFUSED) {
		mvwprintw(win, 3, 2, "Starting...");
		return;
	}
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_ERROR));
	mvwprintw(win, 3, 2, "The live screen cannot open on this scanner:");
	wattrset(win, A_NORMAL);
	draw_wrapped(win, 5, v->reason);
	mvwprintw(win, getmaxy(win) - 2, 2, "Enter: try again   o: log out   F10: quit");
}

static void start_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct start_view *v = state;

	(void)ui;
	snprintf(out, outlen, "%s", v->state == START_REFUSED ? "scanner refused" : "starting");
}

static void start_destroy(void *state)
{
	free(state);
}

static const struct ui_screen start_screen = {
	.name = "Start",
	.help = start_help,
	.keys = { "Help", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "Quit" },
	.draw = start_draw,
	.key = start_key,
	.uncover = start_uncover,
	.tick = start_tick,
	.status = start_status,
	.timeout_ms = start_timeout,
	.destroy = start_destroy,
};

void start_screen_push(struct ui *ui, const struct start_options *opt)
{
	struct start_view *v = ui_xcalloc(1, sizeof(*v));

	v->opt = *opt;
	v->state = START_BEGIN;
	v->pending = 1;
	ui_push(ui, &start_screen, v);
}
