/* The local exam list: state, patient (for a local operator), start time
 * and image counts of every exam in the store, with open, resume, complete,
 * attach patient, new exam and delete with confirmation. */
#ifndef STATION_SCREEN_EXAMS_H
#define STATION_SCREEN_EXAMS_H

#include "station/store.h"
#include "station/ui.h"

struct screen_exams_options {
	/* Non-zero when the operator may see patient data (a local or
	 * logged-in operator); otherwise the patient column stays empty. */
	int show_patients;
	/* Opens the live screen on exam uuid to scan into it.  Returns
	 * UI_ACT_* flags for the list, UI_ACT_POP to close it.  NULL when this
	 * station has no scanner configured, and resume then shows a message. */
	int (*resume)(struct ui *ui, void *arg, const char *uuid);
	void *resume_arg;
};

/* Pushes the list screen.  s must stay open while the screen exists. */
void screen_exams_push(struct ui *ui, struct store *s, const struct screen_exams_options *opt);

#endif
