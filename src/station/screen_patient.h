/* The patient entry form: one line a field, validated as it is typed with
 * the rules of station/patient.h, every value shown through the sanitiser. */
#ifndef STATION_SCREEN_PATIENT_H
#define STATION_SCREEN_PATIENT_H

#include "station/patient.h"
#include "station/ui.h"

/* Called once the operator saves a record that passes patient_validate().
 * preset is the exam type typed on the form, or NULL when the form has no
 * exam type row.  Returns 0 to close the form, or a negative SONO_E* code
 * to keep it open with msg (may be empty) shown as the error.  p is wiped
 * after the call. */
typedef int (*screen_patient_save_fn)(struct ui *ui, void *arg, const struct patient *p,
	const char *preset, char *msg, size_t msglen);

/* Pushes the form titled title, filled from initial when not NULL.  With
 * with_preset set, a last row takes the exam type (preset) of a new exam.
 * arg is passed to save and is not freed by the form. */
void screen_patient_push(struct ui *ui, const char *title, const struct patient *initial,
	int with_preset, screen_patient_save_fn save, void *arg);

/* Attaches p to the exam uuid in s, for a save callback.  Shows "Patient
 * stored" on the message line and returns 0, or writes the reason to msg
 * and returns the SONO_E* code of exam_attach_patient(). */
int screen_patient_attach(struct ui *ui, struct store *s, const char *uuid,
	const struct patient *p, char *msg, size_t msglen);

#endif
