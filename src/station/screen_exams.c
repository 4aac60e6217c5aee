/* The local exam list screen and its actions on the store. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/screen_exams.h"
#include "station/screen_patient.h"
#include "station/screen_text.h"

#define EXAMS_MAX 10000

struct exams_screen {
	struct store *store;
	struct screen_exams_options opt;
	struct exam_summary *rows;
	size_t count;
	size_t selected;
	size_t top;
	char confirm_delete[CRYPTO_UUID_LEN]; /* exam awaiting 'y' */
	char attach_uuid[CRYPTO_UUID_LEN];    /* exam whose patient the form edits */
	char select_uuid[CRYPTO_UUID_LEN];    /* exam to select after the next reload */
	int need_reload;
};

static int collect_row(const struct exam_summary *e, void *arg)
{
	struct exams_screen *x = arg;

	if (x->count >= EXAMS_MAX)
		return 1;
	x->rows[x->count++] = *e;
	return 0;
}

/* Reloads the rows, newest first, keeping the selection on the same exam
 * or moving it to a newly created one. */
static void reload(struct exams_screen *x)
{
	char keep[CRYPTO_UUID_LEN] = "";
	struct exam_summary tmp;
	size_t i;
	int rc;

	if (x->select_uuid[0])
		snprintf(keep, sizeof(keep), "%s", x->select_uuid);
	else if (x->count > 0)
		snprintf(keep, sizeof(keep), "%s", x->rows[x->selected].uuid);
	x->select_uuid[0] = '\0';
	free(x->rows);
	x->rows = ui_xcalloc(EXAMS_MAX, sizeof(*x->rows));
	x->count = 0;
	rc = exam_list(x->store, collect_row, x);
	if (rc < 0)
		LOG_ERROR("exam list failed: %s", sono_strerror(rc));
	for (i = 0; i < x->count / 2; i++) {
		tmp = x->rows[i];
		x->rows[i] = x->rows[x->count - 1 - i];
		x->rows[x->count - 1 - i] = tmp;
	}
	x->selected = 0;
	for (i = 0; i < x->count; i++)
		if (!strcmp(x->rows[i].uuid, keep))
			x->selected = i;
	x->need_reload = 0;
}

static void format_start(const struct exam_summary *e, char *out, size_t outlen)
{
	time_t t = (time_t)((e->started_ns ? e->started_ns : e->created_ns) / 1000000000u);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		snprintf(out, outlen, "-");
	else
		strftime(out, outlen, "%Y-%m-%d %H:%M", &tm);
}

/* Writes the patient column of e: the name and ID for a local operator. */
static void patient_column(struct exams_screen *x, const struct exam_summary *e, char *out,
	size_t outlen)
{
	struct patient p;
	char name[3 * PHI_TEXT_MAX + 8];

	if (e->tombstone) {
		snprintf(out, outlen, "(uploaded, patient data deleted)");
		return;
	}
	if (!e->has_patient) {
		snprintf(out, outlen, "(unassigned)");
		return;
	}
	if (!x->opt.show_patients || exam_load_patient(x->store, e->uuid, &p) != 0) {
		snprintf(out, outlen, "(patient hidden)");
		return;
	}
	patient_format_name(&p, name, sizeof(name));
	snprintf(out, outlen, "%s  %s", name, phi_text_get(&p.patient_id));
	crypto_wipe(name, sizeof(name));
	patient_clear(&p);
}

/* Draws one exam row; the patient cell is laid out by terminal columns. */
static void draw_row(struct exams_screen *x, WINDOW *win, int row, const struct exam_summary *e)
{
	char start[32];
	char counts[32];
	char patient[4 * PHI_TEXT_MAX];
	int width = getmaxx(win);

	format_start(e, start, sizeof(start));
	snprintf(counts, sizeof(counts), "%6u %5u", e->stills, e->cines);
	patient_column(x, e, patient, sizeof(patient));
	screen_text_put(win, row, 1, 11, exam_state_name(e->state), 0);
	screen_text_put(win, row, 12, 17, start, 0);
	screen_text_put(win, row, 29, 13, counts, 0);
	screen_text_put(win, row, 43, width - 44, patient, 0);
	crypto_wipe(patient, sizeof(patient));
}

static void draw_footer(struct exams_screen *x, WINDOW *win, const struct theme *th)
{
	int row = getmaxy(win) - 2;
	char line[160];

	if (row < 2)
		return;
	if (x->confirm_delete[0]) {
		snprintf(line, sizeof(line), "Delete exam %.8s with its patient data and images? "
			"y: delete, any other key: keep", x->confirm_delete);
		wattrset(win, (attr_t)theme_attr(th, THEME_WARNING));
	} else {
		snprintf(line, sizeof(line), "Enter/r: resume  n: new exam  u: new unassigned  "
			"a: attach/edit patient  c: complete  d: delete  F5: refresh");
		wattrset(win, (attr_t)theme_attr(th, THEME_HELP));
	}
	screen_text_put(win, row, 1, getmaxx(win) - 2, line, 0);
	if (x->count > 0) {
		snprintf(line, sizeof(line), "exam %s", x->rows[x->selected].uuid);
		wattrset(win, (attr_t)theme_attr(th, THEME_BODY));
		screen_text_put(win, row + 1, 1, getmaxx(win) - 2, line, 0);
	}
}

static void exams_draw(struct ui *ui, void *state, WINDOW *win)
{
	const struct theme *th = ui_theme(ui);
	struct exams_screen *x = state;
	int visible = getmaxy(win) - 4;
	size_t i;

	if (x->need_reload)
		reload(x);
	werase(win);
	wattrset(win, (attr_t)theme_attr(th, THEME_TITLE));
	screen_text_put(win, 0, 1, 11, "STATE", 0);
	screen_text_put(win, 0, 12, 17, "STARTED", 0);
	screen_text_put(win, 0, 29, 13, "STILLS CINES", 0);
	screen_text_put(win, 0, 43, getmaxx(win) - 44, "PATIENT", 0);
	if (visible < 1)
		visible = 1;
	if (x->selected < x->top)
		x->top = x->selected;
	if (x->selected >= x->top + (size_t)visible)
		x->top = x->selected - (size_t)visible + 1;
	for (i = x->top; i < x->count && i < x->top + (size_t)visible; i++) {
		wattrset(win, (attr_t)theme_attr(th, i == x->selected ? THEME_HIGHLIGHT : THEME_BODY));
		draw_row(x, win, 1 + (int)(i - x->top), &x->rows[i]);
	}
	if (x->count == 0) {
		wattrset(win, (attr_t)theme_attr(th, THEME_BODY));
		screen_text_put(win, 2, 1, getmaxx(win) - 2, "No exams on this station. Press n to "
			"start one.", 0);
	}
	draw_footer(x, win, th);
	wattrset(win, A_NORMAL);
}

static int save_new(struct ui *ui, void *arg, const struct patient *p, const char *preset,
	char *msg, size_t msglen)
{
	struct exams_screen *x = arg;
	char uuid[CRYPTO_UUID_LEN];
	int rc;

	rc = exam_create(x->store, p, preset, uuid);
	if (rc != 0) {
		snprintf(msg, msglen, "The exam could not be created: %s", sono_strerror(rc));
		return rc;
	}
	x->need_reload = 1;
	snprintf(x->select_uuid, sizeof(x->select_uuid), "%s", uuid);
	ui_message(ui, "Exam %.8s created", uuid);
	return SONO_OK;
}

static int save_attach(struct ui *ui, void *arg, const struct patient *p, const char *preset,
	char *msg, size_t msglen)
{
	struct exams_screen *x = arg;
	int rc;

	(void)preset;
	rc = screen_patient_attach(ui, x->store, x->attach_uuid, p, msg, msglen);
	if (rc == 0)
		x->need_reload = 1;
	return rc;
}

static void attach_patient(struct ui *ui, struct exams_screen *x, const struct exam_summary *e)
{
	struct patient p;
	int have;

	snprintf(x->attach_uuid, sizeof(x->attach_uuid), "%s", e->uuid);
	have = e->has_patient && x->opt.show_patients && exam_load_patient(x->store, e->uuid, &p) == 0;
	screen_patient_push(ui, have ? "Edit the exam's patient" : "Attach a patient to the exam",
		have ? &p : NULL, 0, save_attach, x);
	if (have)
		patient_clear(&p);
}

static void complete_exam(struct ui *ui, struct exams_screen *x, const struct exam_summary *e)
{
	int rc = exam_set_state(x->store, e->uuid, EXAM_COMPLETED);

	if (rc == SONO_ESTATE)
		ui_message(ui, "Only a scanning exam with at least one image can be completed");
	else if (rc != 0)
		ui_message(ui, "Completing the exam failed: %s", sono_strerror(rc));
	else
		ui_message(ui, "Exam %.8s completed", e->uuid);
	x->need_reload = 1;
}

static void delete_exam(struct ui *ui, struct exams_screen *x)
{
	int rc = exam_delete(x->store, x->confirm_delete);

	if (rc == SONO_ESTATE)
		ui_message(ui, "The exam is uploading; cancel the upload before deleting it");
	else if (rc != 0)
		ui_message(ui, "Deleting the exam failed: %s", sono_strerror(rc));
	else
		ui_message(ui, "Exam %.8s deleted", x->confirm_delete);
	x->confirm_delete[0] = '\0';
	x->need_reload = 1;
}

/* Returns the resume callback's UI_ACT_* flags, or UI_ACT_NONE. */
static int resume_exam(struct ui *ui, struct exams_screen *x, const struct exam_summary *e)
{
	if (e->state != EXAM_DRAFT && e->state != EXAM_SCANNING)
		ui_message(ui, "Only a draft or scanning exam can be resumed; this one is %s",
			exam_state_name(e->state));
	else if (!x->opt.resume)
		ui_message(ui, "No scanner is configured; start sonoterm with --scanner to scan");
	else
		return x->opt.resume(ui, x->opt.resume_arg, e->uuid);
	return UI_ACT_NONE;
}

static void new_unassigned(struct ui *ui, struct exams_screen *x)
{
	char uuid[CRYPTO_UUID_LEN];
	int rc = exam_create(x->store, NULL, NULL, uuid);

	if (rc != 0) {
		ui_message(ui, "The exam could not be created: %s", sono_strerror(rc));
	} else {
		snprintf(x->select_uuid, sizeof(x->select_uuid), "%s", uuid);
		ui_message(ui, "Unassigned exam %.8s created; press a to attach a patient", uuid);
	}
	x->need_reload = 1;
}

/* Handles the keys that act on the selected exam. */
static int exam_action(struct ui *ui, struct exams_screen *x, int key)
{
	const struct exam_summary *e = x->count ? &x->rows[x->selected] : NULL;

	if (!e)
		return UI_ACT_NONE;
	switch (key) {
	case 'a':
		attach_patient(ui, x, e);
		break;
	case 'c':
		complete_exam(ui, x, e);
		break;
	case 'd':
		snprintf(x->confirm_delete, sizeof(x->confirm_delete), "%s", e->uuid);
		break;
	case 'r':
	case '\n':
	case '\r':
	case KEY_ENTER:
		return resume_exam(ui, x, e) | UI_ACT_REDRAW | UI_ACT_HANDLED;
	default:
		return UI_ACT_NONE;
	}
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int exams_key(struct ui *ui, void *state, int key)
{
	struct exams_screen *x = state;

	if (x->confirm_delete[0]) {
		if (key == 'y' || key == 'Y')
			delete_exam(ui, x);
		x->confirm_delete[0] = '\0';
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	}
	switch (key) {
	case KEY_UP:
		x->selected -= x->selected > 0;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case KEY_DOWN:
		x->selected += x->selected + 1 < x->count;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case 'n':
		screen_patient_push(ui, "New exam: patient", NULL, 1, save_new, x);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case 'u':
		new_unassigned(ui, x);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case KEY_F(5):
		x->need_reload = 1;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	default:
		return exam_action(ui, x, key);
	}
}

static void exams_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct exams_screen *x = state;

	(void)ui;
	snprintf(out, outlen, "Exams: %zu", x->count);
}

static void exams_destroy(void *state)
{
	struct exams_screen *x = state;

	free(x->rows);
	free(x);
}

static const struct ui_screen exams_screen = {
	.name = "Exams",
	.help = "The exams on this station, newest first.\n"
		"Up/Down select; Enter or r resumes a draft or scanning exam.\n"
		"n starts an exam with a patient, u one without (attach the patient later with a).\n"
		"c completes a scanning exam; d deletes an exam after a y to confirm.",
	.keys = { "Help", NULL, NULL, NULL, "Refresh", NULL, NULL, NULL, NULL, NULL },
	.draw = exams_draw,
	.key = exams_key,
	.status = exams_status,
	.destroy = exams_destroy,
};

void screen_exams_push(struct ui *ui, struct store *s, const struct screen_exams_options *opt)
{
	struct exams_screen *x = ui_xcalloc(1, sizeof(*x));

	x->store = s;
	if (opt)
		x->opt = *opt;
	x->need_reload = 1;
	ui_push(ui, &exams_screen, x);
}
