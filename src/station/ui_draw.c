/* Drawing of the shell's own parts: status line, key bar and help overlay,
 * and the render step that flushes ncurses before the image is painted. */
#include "config.h"

#include <string.h>

#include "station/ui.h"
#include "station/ui_internal.h"

static const char *const general_help[] = {
	"",
	"Keys on every screen:",
	"  F1 or ?       this help (Up/Down scroll it, any other key closes it)",
	"  F10 or q      quit, or close this screen and go back",
	"  Ctrl-L        redraw the whole terminal",
	"  Mouse         click a key bar label to press that key",
	NULL,
};

static const struct ui_layer *top_layer(const struct ui *ui)
{
	return ui->depth > 0 ? &ui->stack[ui->depth - 1] : NULL;
}

static void draw_status(struct ui *ui, const struct ui_layer *top)
{
	char text[512] = "";
	attr_t attr = (attr_t)theme_attr(&ui->theme, THEME_STATUS);
	int msg_col;

	if (top && top->screen->status)
		top->screen->status(ui, top->state, text, sizeof(text));
	wattrset(stdscr, attr);
	mvwhline(stdscr, 0, 0, ' ', COLS);
	mvwprintw(stdscr, 0, 0, " Sonoterm | %s | ", top ? top->screen->name : "");
	waddnstr(stdscr, text, COLS - getcurx(stdscr) > 0 ? COLS - getcurx(stdscr) : 0);

	if (ui->message[0] && ui_now_ms() < ui->message_until) {
		int len = (int)strlen(ui->message) + 2;

		msg_col = COLS - len > 0 ? COLS - len : 0;
		wattrset(stdscr, (attr_t)theme_attr(&ui->theme, THEME_HIGHLIGHT));
		mvwprintw(stdscr, 0, msg_col, " %.*s ", COLS - 2 > 0 ? COLS - 2 : 0, ui->message);
	}
	wattrset(stdscr, A_NORMAL);
}

static int keybar_slot_width(void)
{
	return COLS / UI_KEYBAR_SLOTS > 0 ? COLS / UI_KEYBAR_SLOTS : 1;
}

int ui_keybar_key_at(const struct ui *ui, int col)
{
	int slot = col / keybar_slot_width();

	(void)ui;
	return slot >= 0 && slot < UI_KEYBAR_SLOTS ? KEY_F(slot + 1) : 0;
}

static const char *slot_label(const struct ui *ui, const struct ui_layer *top, int i)
{
	if (top && top->screen->keys[i])
		return top->screen->keys[i];
	if (i == 0)
		return "Help";
	if (i == UI_KEYBAR_SLOTS - 1)
		return ui->depth > 1 ? "Back" : "Quit";
	return "";
}

static void draw_keybar(struct ui *ui, const struct ui_layer *top)
{
	attr_t key_attr = (attr_t)theme_attr(&ui->theme, THEME_KEYBAR_KEY);
	attr_t label_attr = (attr_t)theme_attr(&ui->theme, THEME_KEYBAR_LABEL);
	int width = keybar_slot_width();
	int row = LINES - 1;
	int i;

	wattrset(stdscr, label_attr);
	mvwhline(stdscr, row, 0, ' ', COLS);
	for (i = 0; i < UI_KEYBAR_SLOTS && i * width < COLS; i++) {
		char key[4];
		int keylen = snprintf(key, sizeof(key), "F%d", i + 1);
		int room = width - keylen;

		wattrset(stdscr, key_attr);
		mvwaddnstr(stdscr, row, i * width, key, width);
		if (room <= 0)
			continue;
		wattrset(stdscr, label_attr);
		mvwprintw(stdscr, row, i * width + keylen, "%-*.*s", room, room, slot_label(ui, top, i));
	}
	wattrset(stdscr, A_NORMAL);
}

/* Counts the lines of the help text: the screen's own, then the general. */
static int help_lines(const struct ui_layer *top, int max)
{
	const char *p = top && top->screen->help ? top->screen->help : "";
	int n = 0;
	int i;

	while (*p && n < max) {
		const char *nl = strchr(p, '\n');

		n++;
		p = nl ? nl + 1 : p + strlen(p);
	}
	for (i = 0; general_help[i] && n < max; i++)
		n++;
	return n;
}

/* Writes help line index (0-based) into win at row. */
static void put_help_line(WINDOW *win, int row, int width, const struct ui_layer *top, int index)
{
	const char *p = top && top->screen->help ? top->screen->help : "";
	int n = 0;
	int i;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (n++ == index) {
			mvwaddnstr(win, row, 2, p, len < width ? len : width);
			return;
		}
		p = nl ? nl + 1 : p + len;
	}
	for (i = 0; general_help[i]; i++) {
		if (n++ == index) {
			mvwaddnstr(win, row, 2, general_help[i], width);
			return;
		}
	}
}

static void draw_help(struct ui *ui, const struct ui_layer *top)
{
	struct ui_rect body = ui_body(ui);
	int rows = body.rows - 2, cols = body.cols - 4;
	int total = help_lines(top, 1000);
	int visible, i;
	WINDOW *win;

	if (rows < 3 || cols < 10)
		return;
	win = derwin(stdscr, rows, cols, body.row + 1, 2);
	if (!win)
		return;
	wbkgdset(win, ' ' | (attr_t)theme_attr(&ui->theme, THEME_HELP));
	werase(win);
	box(win, 0, 0);
	mvwprintw(win, 0, 2, " Help: %s ", top ? top->screen->name : "");
	visible = rows - 2;
	if (ui->help_top > total - visible)
		ui->help_top = total - visible > 0 ? total - visible : 0;
	for (i = 0; i < visible && ui->help_top + i < total; i++)
		put_help_line(win, i + 1, cols - 4, top, ui->help_top + i);
	if (total > visible)
		mvwprintw(win, rows - 1, 2, " %d-%d of %d, Up/Down to scroll ", ui->help_top + 1,
			ui->help_top + i, total);
	delwin(win);
}

static void blank_image_area(struct ui *ui)
{
	int r;

	if (ui->image.rows <= 0 || ui->help_visible)
		return;
	wattrset(stdscr, (attr_t)theme_attr(&ui->theme, THEME_BODY));
	for (r = 0; r < ui->image.rows; r++)
		mvwhline(stdscr, ui->image.row + r, ui->image.col, ' ', ui->image.cols);
	wattrset(stdscr, A_NORMAL);
}

void ui_refresh_status(struct ui *ui)
{
	draw_status(ui, top_layer(ui));
	wnoutrefresh(stdscr);
	doupdate();
}

void ui_render(struct ui *ui)
{
	const struct ui_layer *top = top_layer(ui);
	chtype bkgd = ' ' | (attr_t)theme_attr(&ui->theme, THEME_BODY);
	int full = ui->full;

	if (full)
		clearok(curscr, TRUE);
	wbkgdset(stdscr, bkgd);
	wbkgdset(ui->body, bkgd);
	werase(stdscr);
	draw_status(ui, top);
	if (top && top->screen->draw)
		top->screen->draw(ui, top->state, ui->body);
	blank_image_area(ui);
	draw_keybar(ui, top);
	if (ui->help_visible)
		draw_help(ui, top);
	touchwin(stdscr);
	wnoutrefresh(stdscr);
	doupdate();

	ui->full = 0;
	if (top && top->screen->paint && !ui->help_visible)
		top->screen->paint(ui, top->state, full);
}
