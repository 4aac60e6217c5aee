/* The patient entry form: one line a field, validated as it is typed with
 * the rules of station/patient.h, every value shown through the sanitiser. */
#ifndef STATION_SCREEN_PATIENT_H
#define STATION_SCREEN_PATIENT_H

#include "station/patient.h"
#include "station/ui.h"

/* Called once the operator saves a record that passes patient_validate().
 * Returns 0 to close the form, or a negative SONO_E* code to keep it open
 * with msg (may be empty) shown as the error.  p is wiped after the call. */
typedef int (*screen_patient_save_fn)(struct ui *ui, void *arg, const struct patient *p,
	char *msg, size_t msglen);

/* Pushes the form titled title, filled from initial when not NULL.  arg is
 * passed to save and is not freed by the form. */
void screen_patient_push(struct ui *ui, const char *title, const struct patient *initial,
	screen_patient_save_fn save, void *arg);

#endif
