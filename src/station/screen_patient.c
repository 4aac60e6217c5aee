/* The patient entry form.  Keys arrive from wgetch() one byte at a time, so
 * UTF-8 sequences are put together here before they join a field. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/screen_patient.h"
#include "station/screen_text.h"

#define LABEL_COLS 21
#define KEY_ESCAPE 27
/* Row of the optional exam type, after the patient fields. */
#define PRESET_ROW PATIENT_FIELD_COUNT

struct patient_form {
	char title[64];
	char values[PATIENT_FIELD_COUNT + 1][PATIENT_NOTE_MAX_BYTES + 1];
	char messages[PATIENT_FIELD_COUNT + 1][200];
	char error[256];
	int rows;    /* PATIENT_FIELD_COUNT, plus one with the exam type */
	int current;
	unsigned char pending[4]; /* bytes of an unfinished UTF-8 character */
	int pending_len;
	int pending_need;
	screen_patient_save_fn save;
	void *arg;
};

static void check_current(struct patient_form *f)
{
	int i = f->current;

	f->messages[i][0] = '\0';
	if (i == PRESET_ROW)
		exam_check_preset(f->values[i], f->messages[i], sizeof(f->messages[i]));
	else
		patient_check_field((enum patient_field)i, f->values[i], NULL, f->messages[i],
			sizeof(f->messages[i]));
}

static void form_draw(struct ui *ui, void *state, WINDOW *win)
{
	const struct theme *th = ui_theme(ui);
	struct patient_form *f = state;
	int width = getmaxx(win) - LABEL_COLS - 4;
	int row, i;

	werase(win);
	wattrset(win, (attr_t)theme_attr(th, THEME_TITLE));
	screen_text_put(win, 0, 1, getmaxx(win) - 2, f->title, 0);
	for (i = 0; i < f->rows && i + 2 < getmaxy(win); i++) {
		row = i + 2;
		wattrset(win, (attr_t)theme_attr(th, f->messages[i][0] ? THEME_ERROR : THEME_BODY));
		mvwaddstr(win, row, 1, f->messages[i][0] ? "!" : " ");
		wattrset(win, (attr_t)theme_attr(th, THEME_BODY));
		screen_text_put(win, row, 3, LABEL_COLS - 1, i == PRESET_ROW ? "Exam type" :
			patient_field_label((enum patient_field)i), 0);
		wattrset(win, (attr_t)theme_attr(th, i == f->current ? THEME_HIGHLIGHT : THEME_BODY));
		screen_text_put(win, row, 3 + LABEL_COLS, width, f->values[i], i == f->current);
	}
	row = f->rows + 3;
	wattrset(win, (attr_t)theme_attr(th, THEME_ERROR));
	if (row < getmaxy(win))
		screen_text_put(win, row, 1, getmaxx(win) - 2, f->error[0] ? f->error :
			f->messages[f->current], 0);
	wattrset(win, (attr_t)theme_attr(th, THEME_HELP));
	if (row + 2 < getmaxy(win))
		screen_text_put(win, row + 2, 1, getmaxx(win) - 2, "Up/Down or Tab: field   "
			"F2: save   Esc or F10: cancel   Birth date: YYYY-MM-DD   Sex: M, F, O or unknown", 0);
	wattrset(win, A_NORMAL);
}

/* Appends a complete UTF-8 character to the current field if it fits. */
static void append_char(struct patient_form *f, const unsigned char *bytes, int n)
{
	char *v = f->values[f->current];
	size_t len = strlen(v);
	size_t max = f->current == PATIENT_FIELD_INDICATION || f->current == PATIENT_FIELD_NOTES ?
		PATIENT_NOTE_MAX_BYTES : f->current == PRESET_ROW ? EXAM_PRESET_MAX : PHI_TEXT_MAX;

	if (len + (size_t)n > max)
		return;
	memcpy(v + len, bytes, (size_t)n);
	v[len + (size_t)n] = '\0';
	check_current(f);
}

static void delete_char(struct patient_form *f)
{
	char *v = f->values[f->current];
	size_t len = strlen(v);

	while (len > 0 && ((unsigned char)v[len - 1] & 0xc0) == 0x80)
		len--;
	if (len > 0)
		len--;
	crypto_wipe(v + len, strlen(v + len));
	check_current(f);
}

/* Collects the bytes of one UTF-8 character; control bytes are ignored. */
static void type_byte(struct patient_form *f, int key)
{
	unsigned char b = (unsigned char)key;

	if (f->pending_len == 0) {
		if (b < 0x20 || b == 0x7f)
			return;
		f->pending_need = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 :
			(b & 0xf8) == 0xf0 ? 4 : 0;
		if (f->pending_need == 0)
			return;
	} else if ((b & 0xc0) != 0x80) {
		f->pending_len = 0;
		type_byte(f, key);
		return;
	}
	f->pending[f->pending_len++] = b;
	if (f->pending_len == f->pending_need) {
		append_char(f, f->pending, f->pending_len);
		f->pending_len = 0;
	}
}

/* Builds the record from the fields and hands it to the save callback. */
static int form_save(struct ui *ui, struct patient_form *f)
{
	struct patient p;
	char msg[256] = "";
	int i;
	int rc = SONO_OK;

	patient_init(&p);
	for (i = 0; i < PATIENT_FIELD_COUNT && rc == 0; i++) {
		rc = patient_set_field(&p, (enum patient_field)i, f->values[i], NULL, msg, sizeof(msg));
		if (rc != 0)
			f->current = i;
	}
	if (rc == 0)
		rc = patient_validate(&p, NULL, msg, sizeof(msg));
	if (rc == 0 && f->rows > PRESET_ROW) {
		rc = exam_check_preset(f->values[PRESET_ROW], msg, sizeof(msg));
		if (rc != 0)
			f->current = PRESET_ROW;
	}
	if (rc == 0)
		rc = f->save(ui, f->arg, &p, f->rows > PRESET_ROW ? f->values[PRESET_ROW] : NULL, msg,
			sizeof(msg));
	patient_clear(&p);
	if (rc == 0)
		return UI_ACT_POP | UI_ACT_HANDLED;
	snprintf(f->error, sizeof(f->error), "%s", msg[0] ? msg : sono_strerror(rc));
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int form_key(struct ui *ui, void *state, int key)
{
	struct patient_form *f = state;

	f->error[0] = '\0';
	switch (key) {
	case KEY_UP:
	case KEY_BTAB:
		f->current = (f->current + f->rows - 1) % f->rows;
		break;
	case KEY_DOWN:
	case '\t':
	case '\n':
	case '\r':
	case KEY_ENTER:
		f->current = (f->current + 1) % f->rows;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		delete_char(f);
		break;
	case KEY_F(2):
		return form_save(ui, f);
	case KEY_ESCAPE:
	case KEY_F(10):
		return UI_ACT_POP | UI_ACT_HANDLED;
	default:
		if (key >= 0 && key <= 0xff)
			type_byte(f, key);
		else
			return UI_ACT_NONE;
	}
	f->pending_len = key >= 0x80 && key <= 0xff ? f->pending_len : 0;
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static void form_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct patient_form *f = state;

	(void)ui;
	snprintf(out, outlen, "Patient: %s", f->current == PRESET_ROW ? "Exam type" :
		patient_field_label((enum patient_field)f->current));
}

static void form_destroy(void *state)
{
	struct patient_form *f = state;

	crypto_wipe(f, sizeof(*f));
	free(f);
}

static const struct ui_screen patient_form_screen = {
	.name = "Patient",
	.help = "Enter the patient as on the order.  Names are DICOM name parts:\n"
		"no '^', '=' or '\\' inside a part, at most 64 characters each.\n"
		"Patient ID and family name are required.  F2 saves, Esc cancels.",
	.keys = { "Help", "Save", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "Cancel" },
	.draw = form_draw,
	.key = form_key,
	.status = form_status,
	.destroy = form_destroy,
};

void screen_patient_push(struct ui *ui, const char *title, const struct patient *initial,
	int with_preset, screen_patient_save_fn save, void *arg)
{
	struct patient_form *f = ui_xcalloc(1, sizeof(*f));
	int i;

	snprintf(f->title, sizeof(f->title), "%s", title);
	f->save = save;
	f->arg = arg;
	f->rows = PATIENT_FIELD_COUNT + (with_preset ? 1 : 0);
	for (i = 0; initial && i < PATIENT_FIELD_COUNT; i++)
		patient_get_field(initial, (enum patient_field)i, f->values[i], sizeof(f->values[i]));
	ui_push(ui, &patient_form_screen, f);
}

int screen_patient_attach(struct ui *ui, struct store *s, const char *uuid,
	const struct patient *p, char *msg, size_t msglen)
{
	int rc = exam_attach_patient(s, uuid, p);

	if (rc == SONO_ESTATE)
		snprintf(msg, msglen, "The patient can change only while the exam is draft, scanning "
			"or completed");
	else if (rc != 0)
		snprintf(msg, msglen, "The patient could not be stored: %s", sono_strerror(rc));
	else
		ui_message(ui, "Patient stored for exam %.8s", uuid);
	return rc;
}
