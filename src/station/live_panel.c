/* Text parts of the live screen: the side panel, the depth scale labels
 * and the status line.  Scanner strings are sanitised by the scanner client;
 * they pass through sanitize_str() again here because they reach the tty. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sono/sanitize.h"
#include "station/live.h"

static void panel_line(WINDOW *win, int *row, int col, int width, attr_t attr,
	const char *label, const char *value)
{
	char clean[128];

	if (*row >= getmaxy(win))
		return;
	sanitize_str(value, clean, sizeof(clean));
	wattrset(win, attr);
	if (!*label) {
		/* A continuation line: indented, without the label column. */
		mvwprintw(win, (*row)++, col + 2, "%-*.*s", width - 2, width - 2, clean);
		return;
	}
	mvwprintw(win, (*row)++, col, "%-8.8s %-*.*s", label, width - 9, width - 9, clean);
}

/* Returns how many bytes of s to put on a line of max bytes: up to the
 * last space when there is one, else as many as fit without splitting a
 * UTF-8 character. */
static size_t wrap_length(const char *s, size_t max)
{
	size_t len = strnlen(s, max), space = len;

	if (len < max || s[len] == ' ')
		return len;
	while (space > 0 && s[space - 1] != ' ')
		space--;
	if (space > 0)
		return space;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* Writes a long value under its label and continues it on indented lines,
 * so that an error naming a fingerprint can be read in full. */
static void panel_wrapped(WINDOW *win, int *row, int col, int width, attr_t attr,
	const char *label, const char *value)
{
	char clean[SCANNER_ERROR_MAX];
	const char *rest = clean;
	size_t take;

	sanitize_str(value, clean, sizeof(clean));
	wattrset(win, attr);
	if (*row >= getmaxy(win) || width < 12)
		return;
	take = wrap_length(rest, (size_t)(width - 9));
	mvwprintw(win, (*row)++, col, "%-8.8s %-*.*s", label, width - 9, (int)take, rest);
	rest += take;

	while (*rest && *row < getmaxy(win)) {
		rest += strspn(rest, " ");
		take = wrap_length(rest, (size_t)(width - 2));
		if (take == 0)
			return;
		mvwprintw(win, (*row)++, col + 2, "%-*.*s", width - 2, (int)take, rest);
		rest += take;
	}
}

static void describe_view(struct live *lv, char *out, size_t outlen)
{
	size_t n;

	if (!atomic_load(&lv->frozen)) {
		snprintf(out, outlen, "%s", lv->have_frame ? "LIVE" : "waiting for frames");
		return;
	}
	pthread_mutex_lock(&lv->cine_lock);
	n = cine_count(lv->cine);
	snprintf(out, outlen, "FROZEN %zu/%zu", n ? lv->cine_pos + 1 : 0, n);
	pthread_mutex_unlock(&lv->cine_lock);
}

static void describe_image(struct live *lv, char *out, size_t outlen)
{
	const struct frame *f = lv->have_frame ? &lv->current : NULL;

	if (!f)
		snprintf(out, outlen, "waiting for frames");
	else if (f->spacing_mm[0] > 0)
		snprintf(out, outlen, "%ux%u %.3f mm", f->width, f->height, f->spacing_mm[0]);
	else
		snprintf(out, outlen, "%ux%u no spacing", f->width, f->height);
}

/* Writes the current exam's rows, when the workflow names one.  They come
 * last, so the rows above keep their place beside the depth scale. */
static void draw_panel_exam(struct live *lv, WINDOW *win, int *row, int col, int width)
{
	attr_t body = (attr_t)theme_attr(ui_theme(lv->ui), THEME_BODY);
	struct live_exam_status exam = { "", 0, "" };

	if (!lv->opt.hooks || !lv->opt.hooks->status)
		return;
	lv->opt.hooks->status(lv->opt.hooks_arg, &exam);
	if (!exam.exam[0])
		return;
	(*row)++;
	panel_line(win, row, col, width, body, "Exam", exam.exam);
	panel_line(win, row, col, width, body, "Patient", exam.has_patient ? "entered" : "none");
}

static void draw_panel_image(struct live *lv, WINDOW *win, int *row, int col, int width)
{
	const struct theme *th = ui_theme(lv->ui);
	attr_t body = (attr_t)theme_attr(th, THEME_BODY);
	char text[128];

	describe_view(lv, text, sizeof(text));
	panel_line(win, row, col, width, (attr_t)theme_attr(th, atomic_load(&lv->frozen) ?
		THEME_WARNING : THEME_TITLE), "State", text);
	snprintf(text, sizeof(text), "%.0f mm", lv->depth_mm);
	panel_line(win, row, col, width, body, "Depth", text);
	snprintf(text, sizeof(text), "%+.0f dB", lv->gain_db);
	panel_line(win, row, col, width, body, "Gain", text);
	panel_line(win, row, col, width, body, "Preset", live_presets[lv->preset]);
	describe_image(lv, text, sizeof(text));
	panel_line(win, row, col, width, body, "Image", text);
	snprintf(text, sizeof(text), "%s %.0f%%", render_mode_name(lv->mode),
		lv->adapt.area_scale * 100);
	panel_line(win, row, col, width, body, "Render", text);
	calipers_describe(&lv->calipers, lv->have_frame ? lv->current.spacing_mm :
		(const double[2]){ 0, 0 }, text, sizeof(text));
	panel_line(win, row, col, width, text[0] ? (attr_t)theme_attr(th, THEME_HIGHLIGHT) : body,
		"Caliper", text);
	snprintf(text, sizeof(text), "%u stills, %u cines", lv->stills_saved, lv->cines_saved);
	panel_line(win, row, col, width, body, "Captured", text);
}

static void draw_panel_link(struct live *lv, WINDOW *win, int *row, int col, int width)
{
	const struct scanner_stats *s = &lv->link;
	const struct theme *th = ui_theme(lv->ui);
	attr_t body = (attr_t)theme_attr(th, THEME_BODY);
	char text[128];
	char *cipher;

	(*row)++;
	if (!lv->scanner) {
		snprintf(text, sizeof(text), "test source %s", lv->opt.test_source);
		panel_line(win, row, col, width, body, "Link", text);
		return;
	}
	panel_line(win, row, col, width, (attr_t)theme_attr(th, s->state == SCANNER_CONNECTED ?
		THEME_BODY : THEME_WARNING), "Link", scanner_state_name(s->state));
	snprintf(text, sizeof(text), "%s", s->tls[0] ? s->tls : "-");
	cipher = strchr(text, ' ');
	if (cipher)
		*cipher++ = '\0';
	panel_line(win, row, col, width, body, "TLS", text);
	if (cipher)
		panel_line(win, row, col, width, body, "", cipher);
	panel_line(win, row, col, width, body, "Serial", s->serial[0] ? s->serial : "-");
	panel_line(win, row, col, width, body, "Model", s->model[0] ? s->model : "-");
	if (s->battery_pct >= 0)
		snprintf(text, sizeof(text), "%d%%  %.1f C", s->battery_pct, s->temperature_c);
	else
		snprintf(text, sizeof(text), "-");
	panel_line(win, row, col, width, body, "Battery", text);
	snprintf(text, sizeof(text), "%llu in, %llu dropped", (unsigned long long)s->frames_received,
		(unsigned long long)s->frames_dropped);
	panel_line(win, row, col, width, body, "Frames", text);
	if (s->last_error[0] && s->state != SCANNER_CONNECTED)
		panel_wrapped(win, row, col, width, (attr_t)theme_attr(th, THEME_ERROR), "Error",
			s->last_error);
}

/* Writes the depth labels in mm beside the image, at the rows of the ticks
 * the renderer draws on its right edge. */
static void draw_scale(struct live *lv, WINDOW *win, int col)
{
	const struct frame *f = live_view_frame(lv);
	double step, depth;
	char label[16];

	if (!f || !(f->spacing_mm[1] > 0))
		return;
	depth = f->height * f->spacing_mm[1];
	step = live_tick_step_mm(depth);
	wattrset(win, (attr_t)theme_attr(ui_theme(lv->ui), THEME_SCALE));
	mvwaddstr(win, 0, col, "mm");
	for (double mm = step; mm < depth; mm += step) {
		int row = live_frame_row_to_cell(lv, mm / f->spacing_mm[1]);

		if (row < 1 || row - 1 >= getmaxy(win))
			continue;
		snprintf(label, sizeof(label), "-%.0f", mm);
		mvwaddstr(win, row - 1, col, label);
	}
}

void live_draw(struct ui *ui, void *state, WINDOW *win)
{
	struct live *lv = state;
	int width = getmaxx(win);
	int panel_col = lv->area.cols + (width >= 40 ? LIVE_SCALE_COLS : 0);
	int row = 0;

	(void)ui;
	if (atomic_load(&lv->frozen))
		pthread_mutex_lock(&lv->cine_lock);
	if (width >= 40 && lv->area.rows > 0)
		draw_scale(lv, win, lv->area.cols);
	if (atomic_load(&lv->frozen))
		pthread_mutex_unlock(&lv->cine_lock);
	if (width >= 60) {
		draw_panel_image(lv, win, &row, panel_col + 1, LIVE_PANEL_COLS - 1);
		draw_panel_link(lv, win, &row, panel_col + 1, LIVE_PANEL_COLS - 1);
		draw_panel_exam(lv, win, &row, panel_col + 1, LIVE_PANEL_COLS - 1);
	}
	wattrset(win, A_NORMAL);
}

void live_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct live *lv = state;
	const struct scanner_stats *s = &lv->link;
	const char *link = "test", *tls = lv->opt.test_source;
	struct live_exam_status exam = { "", 0, "" };
	char battery[32] = "";
	char suffix[64] = "";
	char raw[512];
	double fps = ui_now_ms() - lv->last_paint_ms > 2000 ? 0.0 : lv->fps;

	(void)ui;
	if (lv->scanner) {
		link = scanner_state_name(s->state);
		tls = s->tls[0] ? s->tls : "-";
	}
	if (s->battery_pct >= 0)
		snprintf(battery, sizeof(battery), " | bat %d%% %.1fC", s->battery_pct, s->temperature_c);
	if (lv->opt.hooks && lv->opt.hooks->status)
		lv->opt.hooks->status(lv->opt.hooks_arg, &exam);
	if (exam.exam[0])
		snprintf(suffix, sizeof(suffix), " | exam %s, %s", exam.exam,
			exam.has_patient ? "patient set" : "no patient");
	/* The exam comes last so that the link fields keep their place at 80
	 * and 120 columns.  A prompt comes first because it waits for a key. */
	snprintf(raw, sizeof(raw), "%s%s%s %.1f fps | age %.0f ms | %s %s | %s%s%s", exam.prompt,
		exam.prompt[0] ? " | " : "", atomic_load(&lv->frozen) ? "FROZEN" : "LIVE", fps,
		lv->frame_age_ms, link, tls, s->serial[0] ? s->serial : "-", battery, suffix);
	sanitize_str(raw, out, outlen);
}
