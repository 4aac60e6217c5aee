/* The shell's main loop and key dispatch. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/crypto.h"
#include "sono/log.h"
#include "station/ui.h"
#include "station/ui_internal.h"

#define KEY_CTRL_L 12

static struct ui_layer *top_layer(struct ui *ui)
{
	return ui->depth > 0 ? &ui->stack[ui->depth - 1] : NULL;
}

static void handle_resize(struct ui *ui)
{
	struct ui_layer *top = top_layer(ui);

	if (ui->body)
		delwin(ui->body);
	ui->body = derwin(stdscr, LINES > 2 ? LINES - 2 : 1, COLS, LINES > 2 ? 1 : 0, 0);
	if (!ui->body) {
		LOG_ERROR("cannot create the body window for %dx%d", COLS, LINES);
		abort();
	}
	ui->image.rows = 0;
	LOG_INFO("terminal resized to %dx%d", COLS, LINES);
	if (top && top->screen->resize)
		top->screen->resize(ui, top->state, LINES, COLS);
}

static int help_key(struct ui *ui, int key)
{
	switch (key) {
	case KEY_UP:
		if (ui->help_top > 0)
			ui->help_top--;
		return UI_ACT_REDRAW;
	case KEY_DOWN:
		ui->help_top++;
		return UI_ACT_REDRAW;
	case KEY_PPAGE:
		ui->help_top = ui->help_top > 10 ? ui->help_top - 10 : 0;
		return UI_ACT_REDRAW;
	case KEY_NPAGE:
		ui->help_top += 10;
		return UI_ACT_REDRAW;
	default:
		ui->help_visible = 0;
		return UI_ACT_FULL;
	}
}

/* Turns a mouse event into a key (a key bar click) or a click callback.
 * Returns the key, or 0 with *act set when the event was used otherwise. */
static int mouse_event(struct ui *ui, const struct ui_input *in, int *act)
{
	struct ui_layer *top = top_layer(ui);
	const MEVENT *ev = &in->mouse;

	*act = UI_ACT_NONE;
	if (!in->has_mouse || !(ev->bstate & BUTTON1_PRESSED))
		return 0;
	if (ev->y == LINES - 1)
		return ui_keybar_key_at(ui, ev->x);
	if (ui->help_visible) {
		ui->help_visible = 0;
		*act = UI_ACT_FULL;
		return 0;
	}
	if (ev->y >= 1 && ev->y < LINES - 1 && top && top->screen->click)
		*act = top->screen->click(ui, top->state, ev->y, ev->x);
	return 0;
}

static int shell_default(struct ui *ui, int key)
{
	switch (key) {
	case KEY_F(1):
	case '?':
		ui->help_visible = 1;
		ui->help_top = 0;
		return UI_ACT_FULL;
	case KEY_F(10):
	case 'q':
	case 'Q':
		return ui->depth > 1 ? UI_ACT_POP : UI_ACT_QUIT;
	case KEY_CTRL_L:
		return UI_ACT_FULL;
	default:
		return UI_ACT_NONE;
	}
}

int ui_dispatch_key(struct ui *ui, const struct ui_input *in)
{
	struct ui_layer *top;
	int key = in->key;
	int act;

	if (key == KEY_RESIZE) {
		handle_resize(ui);
		return UI_ACT_FULL;
	}
	if (key == KEY_MOUSE) {
		key = mouse_event(ui, in, &act);
		if (!key)
			return act;
	}
	if (ui->help_visible)
		return help_key(ui, key);

	top = top_layer(ui);
	act = top && top->screen->key ? top->screen->key(ui, top->state, key) : UI_ACT_NONE;
	if (act & UI_ACT_HANDLED)
		return act;
	return act | shell_default(ui, key);
}

static void apply_actions(struct ui *ui, int act)
{
	if (act & UI_ACT_FULL)
		ui->full = 1;
	if (act & (UI_ACT_POP | UI_ACT_UNWIND)) {
		struct ui_layer *top;

		if (!(act & UI_ACT_UNWIND))
			ui_pop_screen(ui);
		while ((act & UI_ACT_UNWIND) && ui->depth > 1)
			ui_pop_screen(ui);
		top = top_layer(ui);
		if (top && top->screen->uncover)
			top->screen->uncover(ui, top->state);
	}
	if (act & UI_ACT_QUIT)
		ui->quit = 1;
}

static int loop_timeout(struct ui *ui)
{
	struct ui_layer *top = top_layer(ui);
	long long now = ui_now_ms();
	int timeout = UI_IDLE_MS;

	/* poll() cannot see keys already taken from the terminal. */
	if (ui->pending_next < ui->pending_count)
		return 0;
	if (top && top->screen->timeout_ms) {
		int t = top->screen->timeout_ms(ui, top->state);

		if (t >= 0 && t < timeout)
			timeout = t;
	}
	if (ui->message_until > now && ui->message_until - now < timeout)
		timeout = (int)(ui->message_until - now);
	if (ui->lock_idle_ms >= 0 && ui->lock_layer < 0) {
		long long left = ui->input_ms + ui->lock_idle_ms - now;

		if (left < timeout)
			timeout = left > 0 ? (int)left : 0;
	}
	return timeout;
}

/* Sleeps until a key, a wakeup or the timeout, then empties the pipe. */
static void wait_events(struct ui *ui)
{
	struct pollfd fds[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = ui->wake[0], .events = POLLIN },
	};
	char drain[64];

	if (poll(fds, 2, loop_timeout(ui)) < 0 && errno != EINTR)
		LOG_WARN("poll failed: %s", strerror(errno));
	if (fds[1].revents & POLLIN) {
		while (read(ui->wake[0], drain, sizeof(drain)) > 0)
			;
	}
}

/* Reads the next key into in: first those ui_drop_pending_enter() kept,
 * then the terminal's.  Returns 0, or -1 when no key is waiting. */
static int read_input(struct ui *ui, struct ui_input *in)
{
	if (ui->pending_next < ui->pending_count) {
		/* A kept key may be a password character typed ahead. */
		*in = ui->pending[ui->pending_next];
		crypto_wipe(&ui->pending[ui->pending_next], sizeof(ui->pending[0]));
		ui->pending_next++;
		return 0;
	}
	ui->pending_count = 0;
	ui->pending_next = 0;
	memset(in, 0, sizeof(*in));
	in->key = wgetch(stdscr);
	if (in->key == ERR)
		return -1;
	/* The event is taken at once, so a kept click keeps its own. */
	if (in->key == KEY_MOUSE)
		in->has_mouse = getmouse(&in->mouse) == OK;
	return 0;
}

static int is_enter(int key)
{
	return key == '\n' || key == '\r' || key == KEY_ENTER;
}

void ui_drop_pending_enter(struct ui *ui)
{
	struct ui_input kept[UI_PENDING_MAX];
	struct ui_input in;
	int count = 0, dropped = 0;

	while (count < UI_PENDING_MAX && read_input(ui, &in) == 0) {
		if (is_enter(in.key))
			dropped++;
		else
			kept[count++] = in;
	}
	memcpy(ui->pending, kept, (size_t)count * sizeof(kept[0]));
	crypto_wipe(kept, sizeof(kept));
	crypto_wipe(&in, sizeof(in));
	ui->pending_count = count;
	ui->pending_next = 0;
	if (dropped > 0)
		LOG_INFO("ignored %d Enter presses typed during a long operation; kept %d other "
			"keys", dropped, count);
}

int ui_run(struct ui *ui)
{
	struct ui_layer *top;
	struct ui_input in;
	int sig = 0;

	while (!ui->quit && ui->depth > 0) {
		ui_render(ui);
		wait_events(ui);
		sig = ui_take_signal();
		if (sig) {
			LOG_NOTICE("signal %d received; closing the screens", sig);
			break;
		}
		while (!ui->quit && ui->depth > 0 && read_input(ui, &in) == 0) {
			if (in.key != KEY_RESIZE)
				ui->input_ms = ui_now_ms();
			apply_actions(ui, ui_dispatch_key(ui, &in));
		}
		if (!ui->quit && ui->depth > 0)
			ui_check_idle(ui);
		top = top_layer(ui);
		if (!ui->quit && top && top->screen->tick)
			apply_actions(ui, top->screen->tick(ui, top->state));
	}
	return sig;
}
