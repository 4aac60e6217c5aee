/* Patient records: validation against the DICOM value representations,
 * the `key = value` patient file of the headless commands, and storage in
 * the station store as part of an exam.
 *
 * Every identifying field is a struct phi_text (sono/phi.h), so it cannot be
 * passed to a log macro.  Validation messages name the field and the fix and
 * never quote the value, so they are safe to log. */
#ifndef STATION_PATIENT_H
#define STATION_PATIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sono/phi.h"
#include "station/store.h"

/* Character limits from DICOM PS3.5 table 6.2-1: PN components and LO are
 * 64 characters, SH 16; indication and notes follow LT (10240) but are
 * capped lower because they are typed at a terminal. */
#define PATIENT_PN_MAX_CHARS 64
#define PATIENT_LO_MAX_CHARS 64
#define PATIENT_SH_MAX_CHARS 16
#define PATIENT_NOTE_MAX_CHARS 1024
#define PATIENT_NOTE_MAX_BYTES (PATIENT_NOTE_MAX_CHARS * 4)
/* Largest patient file accepted by patient_parse(). */
#define PATIENT_FILE_MAX 65536

enum patient_sex {
	PATIENT_SEX_UNKNOWN,
	PATIENT_SEX_MALE,
	PATIENT_SEX_FEMALE,
	PATIENT_SEX_OTHER,
};

/* Free text that may carry clinical detail; a struct for the same reason as
 * struct phi_text: printf-style formats reject it. */
struct patient_note {
	char value[PATIENT_NOTE_MAX_BYTES + 1];
};

struct patient {
	struct phi_text patient_id;          /* DICOM LO */
	struct phi_text family_name;         /* PN components */
	struct phi_text given_name;
	struct phi_text middle_name;
	struct phi_text birth_date;          /* YYYY-MM-DD or "" */
	enum patient_sex sex;
	struct phi_text accession;           /* DICOM SH */
	struct phi_text referring_physician; /* one PN component group, "" allowed */
	struct patient_note indication;
	struct patient_note notes;
};

/* The fields in the order of the entry form and the patient file. */
enum patient_field {
	PATIENT_FIELD_PATIENT_ID,
	PATIENT_FIELD_FAMILY_NAME,
	PATIENT_FIELD_GIVEN_NAME,
	PATIENT_FIELD_MIDDLE_NAME,
	PATIENT_FIELD_BIRTH_DATE,
	PATIENT_FIELD_SEX,
	PATIENT_FIELD_ACCESSION,
	PATIENT_FIELD_REFERRING_PHYSICIAN,
	PATIENT_FIELD_INDICATION,
	PATIENT_FIELD_NOTES,
	PATIENT_FIELD_COUNT,
};

/* Returns the patient file key of a field ("family_name"). */
const char *patient_field_key(enum patient_field f);

/* Returns the label shown on the entry form ("Family name"). */
const char *patient_field_label(enum patient_field f);

/* Zeroes p. */
void patient_init(struct patient *p);

/* Wipes every field; accepts NULL. */
void patient_clear(struct patient *p);

/* Checks one field's text as typed on the form or read from a file, given
 * today's date as YYYY-MM-DD (NULL: the local date now).  Returns 0, or
 * SONO_EINVAL with a message that names the field and the fix in msg. */
int patient_check_field(enum patient_field f, const char *value, const char *today, char *msg,
	size_t msglen);

/* Stores value in field f of p after patient_check_field().  Same returns. */
int patient_set_field(struct patient *p, enum patient_field f, const char *value,
	const char *today, char *msg, size_t msglen);

/* Copies field f of p, as text (sex as "M", "F", "O" or ""), into out. */
void patient_get_field(const struct patient *p, enum patient_field f, char *out, size_t outlen);

/* Checks the whole record: every field, and that patient ID and family name
 * are present.  Returns 0 or SONO_EINVAL with the first problem in msg. */
int patient_validate(const struct patient *p, const char *today, char *msg, size_t msglen);

/* Parses a patient file: `key = value` lines, '#' comments and blank lines.
 * Unknown and repeated keys, lines without '=', and invalid values are
 * rejected with "line N: ..." in msg; the text is wiped before return.
 * Returns 0 or SONO_EINVAL (SONO_ETOOBIG past PATIENT_FILE_MAX). */
int patient_parse(struct patient *p, const char *text, size_t len, const char *today, char *msg,
	size_t msglen);

/* Reads and parses a patient file from f (a file or standard input). */
int patient_read(struct patient *p, FILE *f, const char *today, char *msg, size_t msglen);

/* Writes today's local date as YYYY-MM-DD to out (11 bytes). */
void patient_today(char out[11]);

/* Writes the name as a DICOM person name, family^given^middle, without
 * trailing empty components.  The result is patient data: display only. */
void patient_format_name(const struct patient *p, char *out, size_t outlen);

/* Returns "M", "F", "O" or "" for the DICOM Patient's Sex attribute. */
const char *patient_sex_code(enum patient_sex sex);

/* Stores p as the patient of the exam with row id exam_row, replacing any
 * earlier patient.  Runs inside the caller's transaction. */
int patient_store(struct store *s, int64_t exam_row, const struct patient *p);

/* Loads the patient of exam_row into p.  Returns SONO_ENOTFOUND when the exam
 * has none (an unassigned exam). */
int patient_load(struct store *s, int64_t exam_row, struct patient *p);

#endif
