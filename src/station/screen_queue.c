/* The exam queue screen; see screen_queue.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/exam.h"
#include "station/screen_login.h"
#include "station/screen_queue.h"
#include "station/session.h"

#define QUEUE_ROWS_MAX 200
#define QUEUE_REFRESH_MS 500
#define QUEUE_BAR_WIDTH 12

struct queue_row {
	struct uploader_job job;
	char patient[128]; /* sanitised "FAMILY, GIVEN (ID)" for the operator */
};

struct queue_view {
	struct store *s;
	struct uploader *u;
	struct cloud_options cloud;
	struct queue_row *rows;
	size_t count;
	size_t selected;
	unsigned max_attempts;
	long long refreshed_ms;
	char user[STORE_CLOUD_NAME_MAX];
	int offline;
};

static const char queue_help[] =
	"Exam queue\n"
	"\n"
	"Up, Down   select an exam\n"
	"r          retry the selected exam now (failed or held)\n"
	"c          cancel: hold the selected exam, stopping its transfer\n"
	"l          lock the screen now\n"
	"F2         log in to the cloud (or as another user)\n"
	"F10        quit; the queue stays in the store for the next start\n"
	"\n"
	"The screen locks itself after the site's idle time without a key.";

/* Copies the exam's patient as the operator needs to recognise it. */
static void load_patient_label(struct store *s, const char *uuid, char *out, size_t outlen)
{
	struct patient p;
	char raw[3 * (PHI_TEXT_MAX + 4)];

	out[0] = '\0';
	if (exam_load_patient(s, uuid, &p) != 0)
		return;
	snprintf(raw, sizeof(raw), "%s, %s (%s)", phi_text_get(&p.family_name),
		phi_text_get(&p.given_name), phi_text_get(&p.patient_id));
	sanitize_str(raw, out, outlen);
	crypto_wipe(raw, sizeof(raw));
	patient_clear(&p);
}

static int collect_row(const struct uploader_job *job, void *arg)
{
	struct queue_view *v = arg;

	if (v->count == QUEUE_ROWS_MAX)
		return 1;
	v->rows[v->count].job = *job;
	load_patient_label(v->s, job->uuid, v->rows[v->count].patient,
		sizeof(v->rows[v->count].patient));
	v->count++;
	return 0;
}

static void queue_refresh(struct queue_view *v)
{
	struct store_cloud_session sess;
	char err[256];

	v->count = 0;
	uploader_list(v->s, collect_row, v);
	if (v->selected >= v->count)
		v->selected = v->count ? v->count - 1 : 0;
	v->user[0] = '\0';
	if (session_current(v->s, &sess, err, sizeof(err)) == 0) {
		snprintf(v->user, sizeof(v->user), "%s", sess.username);
		v->offline = sess.offline;
	}
	crypto_wipe(sess.token, sizeof(sess.token));
	v->refreshed_ms = ui_now_ms();
}

void *queue_view_new(struct ui *ui, struct store *s, struct uploader *u,
	const struct cloud_options *cloud)
{
	struct queue_view *v = ui_xcalloc(1, sizeof(*v));
	(void)ui;
	v->s = s;
	v->u = u;
	v->cloud = *cloud;
	v->rows = ui_xcalloc(QUEUE_ROWS_MAX, sizeof(*v->rows));
	v->max_attempts = uploader_max_attempts(u);
	queue_refresh(v);
	return v;
}

static void draw_bar(WINDOW *win, double fraction)
{
	int filled = (int)(fraction * QUEUE_BAR_WIDTH + 0.5), i;

	waddch(win, '[');
	for (i = 0; i < QUEUE_BAR_WIDTH; i++)
		waddch(win, i < filled ? '#' : '-');
	wprintw(win, "] %3.0f%%", fraction * 100.0);
}

/* Returns how far exam row r is, using the live byte count for the exam
 * being sent. */
static double row_fraction(const struct queue_row *r, const struct uploader_status *st)
{
	if (strcmp(r->job.uuid, st->current) == 0 && st->current_total > 0)
		return (double)st->current_sent / (double)st->current_total;
	if (r->job.bytes_total == 0)
		return 0.0;
	return (double)r->job.bytes_done / (double)r->job.bytes_total;
}

/* Writes what the exam waits for: the next retry time or the last error. */
static void row_note(const struct queue_view *v, const struct queue_row *r, char *out,
	size_t outlen)
{
	uint64_t now = frame_now_ns();

	if (r->job.attempts >= v->max_attempts)
		snprintf(out, outlen, "stopped: %s", r->job.last_error);
	else if (r->job.next_attempt_ns > now)
		snprintf(out, outlen, "retry in %llu s: %s",
			(unsigned long long)((r->job.next_attempt_ns - now) / 1000000000ull + 1),
			r->job.last_error);
	else
		snprintf(out, outlen, "%s", r->job.last_error);
}

/* Returns the share of this session's work done: uploaded exams count
 * whole, the exam being sent by its bytes. */
static double overall_fraction(const struct queue_view *v, const struct uploader_status *st)
{
	double done = st->uploaded;
	size_t i;

	if (v->count + st->uploaded == 0)
		return 1.0;
	for (i = 0; i < v->count; i++) {
		if (strcmp(v->rows[i].job.uuid, st->current) == 0)
			done += row_fraction(&v->rows[i], st);
	}
	return done / (double)(v->count + st->uploaded);
}

static void draw_row(struct ui *ui, struct queue_view *v, WINDOW *win, int y, size_t i,
	const struct uploader_status *st)
{
	const struct queue_row *r = &v->rows[i];
	char note[UPLOADER_ERROR_MAX + 64], clean[UPLOADER_ERROR_MAX + 64];
	int cols = getmaxx(win);

	if (i == v->selected)
		wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_HIGHLIGHT));
	mvwprintw(win, y, 1, "%.8s  %-9s %7.1f MB ", r->job.uuid, r->job.state,
		(double)r->job.stored_bytes / 1e6);
	draw_bar(win, row_fraction(r, st));
	wprintw(win, "  %.*s", cols > 60 ? cols - 60 : 0, r->patient);
	wattrset(win, A_NORMAL);
	row_note(v, r, note, sizeof(note));
	sanitize_str(note, clean, sizeof(clean));
	if (clean[0] != '\0')
		mvwprintw(win, y + 1, 12, "%.*s", cols > 14 ? cols - 14 : 0, clean);
}

static void queue_draw(struct ui *ui, void *state, WINDOW *win)
{
	struct queue_view *v = state;
	struct uploader_status st;
	size_t i;
	int y = 3, rows = getmaxy(win);

	uploader_get_status(v->u, &st);
	werase(win);
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_TITLE));
	mvwprintw(win, 0, 1, "Exam queue: %zu waiting, %u uploaded since start  ", v->count,
		st.uploaded);
	wattrset(win, A_NORMAL);
	wprintw(win, "overall ");
	draw_bar(win, overall_fraction(v, &st));
	if (st.halt != UPLOADER_RUNNING && st.message[0] != '\0') {
		wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_WARNING));
		mvwprintw(win, 1, 1, "%.*s", getmaxx(win) - 2, st.message);
		wattrset(win, A_NORMAL);
	}
	for (i = 0; i < v->count && y + 1 < rows; i++, y += 2)
		draw_row(ui, v, win, y, i, &st);
	if (v->count == 0)
		mvwprintw(win, 3, 1, "No exams are waiting for the cloud.");
}

static int queue_key(struct ui *ui, void *state, int key)
{
	struct queue_view *v = state;
	const char *uuid = v->count ? v->rows[v->selected].job.uuid : NULL;
	int rc;

	switch (key) {
	case KEY_UP:
		if (v->selected > 0)
			v->selected--;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case KEY_DOWN:
		if (v->selected + 1 < v->count)
			v->selected++;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case 'r':
	case 'c':
		if (uuid == NULL)
			return UI_ACT_HANDLED;
		rc = key == 'r' ? uploader_retry(v->s, uuid) : uploader_hold(v->u, v->s, uuid);
		ui_message(ui, "exam %.8s: %s", uuid, rc == 0 ? (key == 'r' ? "queued again" :
			"held") : "not possible in its current state");
		queue_refresh(v);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case 'l':
		if (ui_lock(ui) < 0)
			ui_message(ui, "Nobody is logged in, so there is no password to unlock with");
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case KEY_F(2):
		queue_view_push_login(ui, v);
		return UI_ACT_HANDLED;
	default:
		return UI_ACT_NONE;
	}
}

static int queue_tick(struct ui *ui, void *state)
{
	struct queue_view *v = state;

	(void)ui;
	if (ui_now_ms() - v->refreshed_ms < QUEUE_REFRESH_MS)
		return UI_ACT_NONE;
	queue_refresh(v);
	return UI_ACT_REDRAW;
}

static int queue_timeout(struct ui *ui, void *state)
{
	(void)ui;
	(void)state;
	return QUEUE_REFRESH_MS;
}

static void queue_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct queue_view *v = state;

	(void)ui;
	if (v->user[0] == '\0')
		snprintf(out, outlen, "not logged in (F2)");
	else
		snprintf(out, outlen, "%s%s", v->user, v->offline ? " (offline)" : "");
}

static void queue_destroy(void *state)
{
	struct queue_view *v = state;

	crypto_wipe(v->rows, QUEUE_ROWS_MAX * sizeof(*v->rows));
	free(v->rows);
	free(v);
}

void queue_view_push_login(struct ui *ui, void *view)
{
	struct queue_view *v = view;

	login_screen_push(ui, v->s, &v->cloud);
}

const struct ui_screen queue_screen = {
	.name = "Queue",
	.help = queue_help,
	.keys = { "Help", "Login", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "Quit" },
	.draw = queue_draw,
	.key = queue_key,
	.tick = queue_tick,
	.status = queue_status,
	.timeout_ms = queue_timeout,
	.destroy = queue_destroy,
};
