/* Patient records: field validation, the patient file parser and storage. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/patient.h"

/* Validation rule of a field. */
enum field_kind {
	KIND_PN,        /* one person-name component */
	KIND_PN_GROUP,  /* a full person name: components joined by '^' */
	KIND_LO,
	KIND_SH,
	KIND_DATE,
	KIND_SEX,
	KIND_NOTE,      /* one line of free text */
	KIND_NOTE_MULTI,
};

struct field_info {
	const char *key;
	const char *label;
	enum field_kind kind;
};

static const struct field_info fields[PATIENT_FIELD_COUNT] = {
	[PATIENT_FIELD_PATIENT_ID] = { "patient_id", "Patient ID", KIND_LO },
	[PATIENT_FIELD_FAMILY_NAME] = { "family_name", "Family name", KIND_PN },
	[PATIENT_FIELD_GIVEN_NAME] = { "given_name", "Given name", KIND_PN },
	[PATIENT_FIELD_MIDDLE_NAME] = { "middle_name", "Middle name", KIND_PN },
	[PATIENT_FIELD_BIRTH_DATE] = { "birth_date", "Birth date", KIND_DATE },
	[PATIENT_FIELD_SEX] = { "sex", "Sex", KIND_SEX },
	[PATIENT_FIELD_ACCESSION] = { "accession", "Accession number", KIND_SH },
	[PATIENT_FIELD_REFERRING_PHYSICIAN] = { "referring_physician", "Referring physician",
		KIND_PN_GROUP },
	[PATIENT_FIELD_INDICATION] = { "indication", "Indication", KIND_NOTE },
	[PATIENT_FIELD_NOTES] = { "notes", "Notes", KIND_NOTE_MULTI },
};

const char *patient_field_key(enum patient_field f)
{
	return fields[f].key;
}

const char *patient_field_label(enum patient_field f)
{
	return fields[f].label;
}

void patient_init(struct patient *p)
{
	memset(p, 0, sizeof(*p));
}

void patient_clear(struct patient *p)
{
	if (p)
		crypto_wipe(p, sizeof(*p));
}

const char *patient_sex_code(enum patient_sex sex)
{
	switch (sex) {
	case PATIENT_SEX_MALE:
		return "M";
	case PATIENT_SEX_FEMALE:
		return "F";
	case PATIENT_SEX_OTHER:
		return "O";
	default:
		return "";
	}
}

void patient_format_name(const struct patient *p, char *out, size_t outlen)
{
	const char *middle = phi_text_get(&p->middle_name);
	const char *given = phi_text_get(&p->given_name);

	if (middle[0])
		snprintf(out, outlen, "%s^%s^%s", phi_text_get(&p->family_name), given, middle);
	else if (given[0])
		snprintf(out, outlen, "%s^%s", phi_text_get(&p->family_name), given);
	else
		snprintf(out, outlen, "%s", phi_text_get(&p->family_name));
}

void patient_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Decodes one UTF-8 character at s (n bytes left) into *cp and returns its
 * length, or 0 for an invalid, overlong or truncated sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len;
	unsigned long min;
	size_t i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* Checks that value is UTF-8 without control characters (C0 other than an
 * allowed newline, DEL, C1) and counts its characters into *chars. */
static int check_text(const char *label, const char *value, int allow_newline, size_t *chars,
	char *msg, size_t msglen)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t n = strlen(value);
	unsigned long cp;
	size_t step;

	*chars = 0;
	while (n > 0) {
		step = utf8_decode(s, n, &cp);
		if (step == 0) {
			snprintf(msg, msglen, "%s: not valid UTF-8 text; retype it", label);
			return SONO_EINVAL;
		}
		if ((cp < 0x20 && !(cp == '\n' && allow_newline)) || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(msg, msglen, "%s: contains a control character or escape sequence; "
				"remove it", label);
			return SONO_EINVAL;
		}
		s += step;
		n -= step;
		(*chars)++;
	}
	return SONO_OK;
}

static int check_length(const char *label, size_t chars, size_t max, const char *vr, char *msg,
	size_t msglen)
{
	if (chars <= max)
		return SONO_OK;
	snprintf(msg, msglen, "%s: %zu characters, but %s allows at most %zu; shorten it", label,
		chars, vr, max);
	return SONO_EINVAL;
}

static int check_pn_component(const char *label, const char *value, char *msg, size_t msglen)
{
	size_t chars;
	int rc;

	rc = check_text(label, value, 0, &chars, msg, msglen);
	if (rc != 0)
		return rc;
	if (strpbrk(value, "^=\\")) {
		snprintf(msg, msglen, "%s: '^', '=' and '\\' separate parts of a DICOM person name "
			"and cannot appear inside one; remove them", label);
		return SONO_EINVAL;
	}
	return check_length(label, chars, PATIENT_PN_MAX_CHARS, "a DICOM name component", msg,
		msglen);
}

/* A full name in DICOM order, family^given^middle^prefix^suffix. */
static int check_pn_group(const char *label, const char *value, char *msg, size_t msglen)
{
	char component[PHI_TEXT_MAX + 1];
	const char *start = value;
	const char *caret;
	size_t count = 0;
	size_t n;
	int rc = SONO_OK;

	if (strlen(value) > PHI_TEXT_MAX) {
		snprintf(msg, msglen, "%s: longer than %d bytes; shorten it", label, PHI_TEXT_MAX);
		return SONO_EINVAL;
	}
	do {
		caret = strchr(start, '^');
		n = caret ? (size_t)(caret - start) : strlen(start);
		memcpy(component, start, n);
		component[n] = '\0';
		if (++count > 5) {
			snprintf(msg, msglen, "%s: more than 5 name parts separated by '^'; "
				"use family^given^middle^prefix^suffix", label);
			rc = SONO_EINVAL;
			break;
		}
		rc = check_pn_component(label, component, msg, msglen);
		start = caret + 1;
	} while (rc == 0 && caret);
	crypto_wipe(component, sizeof(component));
	return rc;
}

/* Converts n decimal digits (already checked) to an int. */
static int atoi_n(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static int check_date(const char *label, const char *value, const char *today, char *msg,
	size_t msglen)
{
	char now[11];
	int year, month, day;
	size_t i;

	if (value[0] == '\0')
		return SONO_OK;
	for (i = 0; i < 10; i++) {
		int want_dash = i == 4 || i == 7;

		if (value[i] == '\0' || (want_dash ? value[i] != '-' : !isdigit((unsigned char)value[i])))
			break;
	}
	if (i != 10 || value[10] != '\0') {
		snprintf(msg, msglen, "%s: write it as YYYY-MM-DD, for example 1980-07-15", label);
		return SONO_EINVAL;
	}
	year = atoi_n(value, 4), month = atoi_n(value + 5, 2), day = atoi_n(value + 8, 2);
	if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
		snprintf(msg, msglen, "%s: no such calendar date; check the day and the month", label);
		return SONO_EINVAL;
	}
	if (!today) {
		patient_today(now);
		today = now;
	}
	if (strcmp(value, today) > 0) {
		snprintf(msg, msglen, "%s: lies in the future; check the year", label);
		return SONO_EINVAL;
	}
	return SONO_OK;
}

static int parse_sex(const char *value, enum patient_sex *sex)
{
	static const struct {
		const char *text;
		enum patient_sex sex;
	} names[] = {
		{ "", PATIENT_SEX_UNKNOWN }, { "unknown", PATIENT_SEX_UNKNOWN },
		{ "U", PATIENT_SEX_UNKNOWN }, { "M", PATIENT_SEX_MALE }, { "male", PATIENT_SEX_MALE },
		{ "F", PATIENT_SEX_FEMALE }, { "female", PATIENT_SEX_FEMALE },
		{ "O", PATIENT_SEX_OTHER }, { "other", PATIENT_SEX_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(value, names[i].text)) {
			*sex = names[i].sex;
			return SONO_OK;
		}
	}
	return SONO_EINVAL;
}

int patient_check_field(enum patient_field f, const char *value, const char *today, char *msg,
	size_t msglen)
{
	const struct field_info *info = &fields[f];
	enum patient_sex sex;
	size_t chars;
	int rc;

	switch (info->kind) {
	case KIND_PN:
		return check_pn_component(info->label, value, msg, msglen);
	case KIND_PN_GROUP:
		return check_pn_group(info->label, value, msg, msglen);
	case KIND_DATE:
		return check_date(info->label, value, today, msg, msglen);
	case KIND_SEX:
		if (parse_sex(value, &sex) == 0)
			return SONO_OK;
		snprintf(msg, msglen, "%s: enter M, F, O or unknown", info->label);
		return SONO_EINVAL;
	case KIND_LO:
	case KIND_SH:
		rc = check_text(info->label, value, 0, &chars, msg, msglen);
		if (rc == 0 && strchr(value, '\\')) {
			snprintf(msg, msglen, "%s: '\\' is not allowed in this DICOM field; remove it",
				info->label);
			rc = SONO_EINVAL;
		}
		if (rc == 0 && info->kind == KIND_LO)
			rc = check_length(info->label, chars, PATIENT_LO_MAX_CHARS, "DICOM LO", msg, msglen);
		else if (rc == 0)
			rc = check_length(info->label, chars, PATIENT_SH_MAX_CHARS, "DICOM SH", msg, msglen);
		return rc;
	case KIND_NOTE:
	case KIND_NOTE_MULTI:
		rc = check_text(info->label, value, info->kind == KIND_NOTE_MULTI, &chars, msg, msglen);
		if (rc == 0)
			rc = check_length(info->label, chars, PATIENT_NOTE_MAX_CHARS, "the station", msg,
				msglen);
		return rc;
	}
	return SONO_EINVAL;
}

/* Returns the phi_text behind a field, or NULL for sex and the notes. */
static struct phi_text *phi_field(struct patient *p, enum patient_field f)
{
	switch (f) {
	case PATIENT_FIELD_PATIENT_ID:
		return &p->patient_id;
	case PATIENT_FIELD_FAMILY_NAME:
		return &p->family_name;
	case PATIENT_FIELD_GIVEN_NAME:
		return &p->given_name;
	case PATIENT_FIELD_MIDDLE_NAME:
		return &p->middle_name;
	case PATIENT_FIELD_BIRTH_DATE:
		return &p->birth_date;
	case PATIENT_FIELD_ACCESSION:
		return &p->accession;
	case PATIENT_FIELD_REFERRING_PHYSICIAN:
		return &p->referring_physician;
	default:
		return NULL;
	}
}

int patient_set_field(struct patient *p, enum patient_field f, const char *value,
	const char *today, char *msg, size_t msglen)
{
	struct phi_text *t = phi_field(p, f);
	int rc;

	rc = patient_check_field(f, value, today, msg, msglen);
	if (rc != 0)
		return rc;
	if (t) {
		if (phi_text_set(t, value) != 0) {
			snprintf(msg, msglen, "%s: longer than %d bytes; shorten it", fields[f].label,
				PHI_TEXT_MAX);
			return SONO_EINVAL;
		}
	} else if (f == PATIENT_FIELD_SEX) {
		parse_sex(value, &p->sex);
	} else {
		struct patient_note *note = f == PATIENT_FIELD_NOTES ? &p->notes : &p->indication;

		/* check_length() capped the characters, so the bytes fit. */
		snprintf(note->value, sizeof(note->value), "%s", value);
	}
	return SONO_OK;
}

void patient_get_field(const struct patient *p, enum patient_field f, char *out, size_t outlen)
{
	const struct phi_text *t = phi_field((struct patient *)p, f);

	if (t)
		snprintf(out, outlen, "%s", phi_text_get(t));
	else if (f == PATIENT_FIELD_SEX)
		snprintf(out, outlen, "%s", patient_sex_code(p->sex));
	else if (f == PATIENT_FIELD_NOTES)
		snprintf(out, outlen, "%s", p->notes.value);
	else
		snprintf(out, outlen, "%s", p->indication.value);
}

int patient_validate(const struct patient *p, const char *today, char *msg, size_t msglen)
{
	char value[PATIENT_NOTE_MAX_BYTES + 1];
	int f;
	int rc = SONO_OK;

	if (phi_text_get(&p->patient_id)[0] == '\0') {
		snprintf(msg, msglen, "%s: required; enter the patient's ID from the order or chart",
			fields[PATIENT_FIELD_PATIENT_ID].label);
		return SONO_EINVAL;
	}
	if (phi_text_get(&p->family_name)[0] == '\0') {
		snprintf(msg, msglen, "%s: required; enter the patient's family name",
			fields[PATIENT_FIELD_FAMILY_NAME].label);
		return SONO_EINVAL;
	}
	for (f = 0; f < PATIENT_FIELD_COUNT && rc == 0; f++) {
		patient_get_field(p, (enum patient_field)f, value, sizeof(value));
		rc = patient_check_field((enum patient_field)f, value, today, msg, msglen);
	}
	crypto_wipe(value, sizeof(value));
	return rc;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int find_field(const char *key, enum patient_field *f)
{
	int i;

	for (i = 0; i < PATIENT_FIELD_COUNT; i++) {
		if (!strcmp(key, fields[i].key)) {
			*f = (enum patient_field)i;
			return SONO_OK;
		}
	}
	return SONO_ENOTFOUND;
}

/* Writes "line N: unknown key ..." to msg.  The key is quoted only when it
 * looks like a key name, because a mistyped line could hold patient data. */
static void unknown_key_message(const char *key, unsigned line, char *msg, size_t msglen)
{
	int plain = strlen(key) <= 32 && strspn(key, "abcdefghijklmnopqrstuvwxyz_") == strlen(key);

	snprintf(msg, msglen, "line %u: unknown key%s%s%s; known keys are patient_id, family_name, "
		"given_name, middle_name, birth_date, sex, accession, referring_physician, "
		"indication and notes", line, plain ? " '" : "", plain ? key : "", plain ? "'" : "");
}

/* Parses one line (NUL-terminated, newline removed) into p. */
static int parse_line(struct patient *p, char *line, unsigned number, unsigned *seen,
	const char *today, char *msg, size_t msglen)
{
	char field_msg[256];
	enum patient_field f;
	char *eq;
	char *key;
	size_t n = strlen(line);

	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	key = trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return SONO_OK;
	eq = strchr(key, '=');
	if (!eq) {
		snprintf(msg, msglen, "line %u: expected 'key = value'", number);
		return SONO_EINVAL;
	}
	*eq = '\0';
	key = trim(key);
	if (find_field(key, &f) != 0) {
		unknown_key_message(key, number, msg, msglen);
		return SONO_EINVAL;
	}
	if (*seen & (1u << f)) {
		snprintf(msg, msglen, "line %u: %s appears twice; keep one", number, key);
		return SONO_EINVAL;
	}
	*seen |= 1u << f;
	if (patient_set_field(p, f, trim(eq + 1), today, field_msg, sizeof(field_msg)) != 0) {
		snprintf(msg, msglen, "line %u: %s", number, field_msg);
		return SONO_EINVAL;
	}
	return SONO_OK;
}

int patient_parse(struct patient *p, const char *text, size_t len, const char *today, char *msg,
	size_t msglen)
{
	struct sbuf copy;
	char *line;
	char *next;
	unsigned number = 0;
	unsigned seen = 0;
	int rc;

	patient_init(p);
	if (len > PATIENT_FILE_MAX) {
		snprintf(msg, msglen, "patient file is larger than %d bytes", PATIENT_FILE_MAX);
		return SONO_ETOOBIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(msg, msglen, "patient file contains a NUL byte; save it as UTF-8 text");
		return SONO_EINVAL;
	}
	sbuf_init(&copy, PATIENT_FILE_MAX);
	rc = sbuf_append(&copy, text, len);
	if (rc == 0 && copy.data == NULL)
		rc = sbuf_append_str(&copy, "");
	for (line = (char *)copy.data; rc == 0 && line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		rc = parse_line(p, line, ++number, &seen, today, msg, msglen);
	}
	if (rc == 0)
		rc = patient_validate(p, today, msg, msglen);
	sbuf_free_wipe(&copy);
	if (rc != 0)
		patient_clear(p);
	return rc;
}

int patient_read(struct patient *p, FILE *f, const char *today, char *msg, size_t msglen)
{
	struct sbuf text;
	uint8_t *room;
	size_t got;
	int rc = SONO_OK;

	sbuf_init(&text, PATIENT_FILE_MAX + 1);
	do {
		room = sbuf_reserve(&text, 4096);
		if (!room) {
			snprintf(msg, msglen, "patient file is larger than %d bytes", PATIENT_FILE_MAX);
			rc = SONO_ETOOBIG;
			break;
		}
		got = fread(room, 1, 4096, f);
		sbuf_commit(&text, got);
	} while (got > 0);
	if (rc == 0 && ferror(f)) {
		snprintf(msg, msglen, "cannot read the patient file");
		rc = SONO_EIO;
	}
	if (rc == 0)
		rc = patient_parse(p, text.data ? (const char *)text.data : "", text.len, today, msg,
			msglen);
	sbuf_free_wipe(&text);
	return rc;
}

int patient_store(struct store *s, int64_t exam_row, const struct patient *p)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO patients (exam_id, patient_id, family_name, given_name, "
		"middle_name, birth_date, sex, accession, referring_physician, indication, notes) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

	return STORE_RUN(s, "storing the patient", sql, STORE_INT(exam_row),
		STORE_TEXT(phi_text_get(&p->patient_id)), STORE_TEXT(phi_text_get(&p->family_name)),
		STORE_TEXT(phi_text_get(&p->given_name)), STORE_TEXT(phi_text_get(&p->middle_name)),
		STORE_TEXT(phi_text_get(&p->birth_date)), STORE_TEXT(patient_sex_code(p->sex)),
		STORE_TEXT(phi_text_get(&p->accession)),
		STORE_TEXT(phi_text_get(&p->referring_physician)), STORE_TEXT(p->indication.value),
		STORE_TEXT(p->notes.value));
}

int patient_load(struct store *s, int64_t exam_row, struct patient *p)
{
	static const char sql[] =
		"SELECT patient_id, family_name, given_name, middle_name, birth_date, sex, "
		"accession, referring_physician, indication, notes FROM patients WHERE exam_id = ?";
	struct phi_text *texts[] = { &p->patient_id, &p->family_name, &p->given_name,
		&p->middle_name, &p->birth_date };
	sqlite3_stmt *st = NULL;
	int i;
	int rc;

	patient_init(p);
	rc = STORE_PREPARE(s, &st, sql, STORE_INT(exam_row));
	if (rc != 0)
		return rc;
	rc = store_step_row(s, st, "loading the patient");
	if (rc == 0) {
		for (i = 0; i < 5; i++)
			store_column_text(st, i, texts[i]->value, sizeof(texts[i]->value));
		if (sqlite3_column_text(st, 5))
			parse_sex((const char *)sqlite3_column_text(st, 5), &p->sex);
		store_column_text(st, 6, p->accession.value, sizeof(p->accession.value));
		store_column_text(st, 7, p->referring_physician.value,
			sizeof(p->referring_physician.value));
		store_column_text(st, 8, p->indication.value, sizeof(p->indication.value));
		store_column_text(st, 9, p->notes.value, sizeof(p->notes.value));
	}
	sqlite3_finalize(st);
	return rc;
}
