/* Tests of patient validation and the patient file parser. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "station/patient.h"

#define TODAY "2026-12-04"

static int parse(struct patient *p, const char *text, char *msg, size_t msglen)
{
	msg[0] = '\0';
	return patient_parse(p, text, strlen(text), TODAY, msg, msglen);
}

static int check(enum patient_field f, const char *value, char *msg, size_t msglen)
{
	msg[0] = '\0';
	return patient_check_field(f, value, TODAY, msg, msglen);
}

static void parse_full_file(void **state)
{
	struct patient p;
	char msg[256];
	const char *text =
		"# exam order 17\n"
		"patient_id = MRN-0042\n"
		"family_name = Doe\n"
		"given_name = Jane\n"
		"middle_name = Q\n"
		"birth_date = 1980-07-15\n"
		"sex = F\n"
		"accession = ACC123\n"
		"referring_physician = House^Gregory\n"
		"indication = right upper quadrant pain\n";

	(void)state;
	assert_int_equal(parse(&p, text, msg, sizeof(msg)), SONO_OK);
	assert_string_equal(phi_text_get(&p.patient_id), "MRN-0042");
	assert_string_equal(phi_text_get(&p.family_name), "Doe");
	assert_string_equal(phi_text_get(&p.given_name), "Jane");
	assert_string_equal(phi_text_get(&p.middle_name), "Q");
	assert_string_equal(phi_text_get(&p.birth_date), "1980-07-15");
	assert_int_equal(p.sex, PATIENT_SEX_FEMALE);
	assert_string_equal(phi_text_get(&p.accession), "ACC123");
	assert_string_equal(phi_text_get(&p.referring_physician), "House^Gregory");
	assert_string_equal(p.indication.value, "right upper quadrant pain");
	patient_clear(&p);
}

static void parse_crlf_and_spaces(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "  patient_id=7 \r\n\tfamily_name =  Roe\r\n\r\n", msg,
		sizeof(msg)), SONO_OK);
	assert_string_equal(phi_text_get(&p.patient_id), "7");
	assert_string_equal(phi_text_get(&p.family_name), "Roe");
}

static void parse_unknown_key_line(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "patient_id = 1\nfamily_name = Doe\nweight = 80\n", msg,
		sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "line 3"));
	assert_non_null(strstr(msg, "unknown key 'weight'"));
	assert_string_equal(phi_text_get(&p.patient_id), "");
}

/* A mistyped line could be patient data, so an odd key is not quoted. */
static void parse_unknown_key_not_echoed(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "Jane Doe = 1980\n", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "line 1"));
	assert_null(strstr(msg, "Jane"));
}

static void parse_duplicate_key(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "patient_id = 1\npatient_id = 2\n", msg, sizeof(msg)),
		SONO_EINVAL);
	assert_non_null(strstr(msg, "line 2"));
	assert_non_null(strstr(msg, "twice"));
}

static void parse_line_without_equals(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "patient_id = 1\nfamily_name Doe\n", msg, sizeof(msg)),
		SONO_EINVAL);
	assert_non_null(strstr(msg, "line 2"));
}

static void parse_requires_id_and_name(void **state)
{
	struct patient p;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&p, "family_name = Doe\n", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "Patient ID"));
	assert_int_equal(parse(&p, "patient_id = 5\n", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "Family name"));
}

static void parse_rejects_nul_and_size(void **state)
{
	struct patient p;
	char msg[256];
	char *big;

	(void)state;
	assert_int_equal(patient_parse(&p, "patient_id = 1\0x", 16, TODAY, msg, sizeof(msg)),
		SONO_EINVAL);
	big = calloc(1, PATIENT_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', PATIENT_FILE_MAX + 1);
	assert_int_equal(patient_parse(&p, big, PATIENT_FILE_MAX + 1, TODAY, msg, sizeof(msg)),
		SONO_ETOOBIG);
	free(big);
}

static void read_from_stream(void **state)
{
	static char text[] = "patient_id = 9\nfamily_name = Smith\nbirth_date = 2000-02-29\n";
	struct patient p;
	char msg[256];
	FILE *f = fmemopen(text, strlen(text), "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(patient_read(&p, f, TODAY, msg, sizeof(msg)), SONO_OK);
	fclose(f);
	assert_string_equal(phi_text_get(&p.family_name), "Smith");
}

static void date_checks(void **state)
{
	static const struct {
		const char *value;
		int ok;
		const char *words;
	} cases[] = {
		{ "1980-07-15", 1, NULL },
		{ "", 1, NULL },
		{ "2024-02-29", 1, NULL },
		{ "2000-02-29", 1, NULL },
		{ TODAY, 1, NULL },
		{ "2023-02-30", 0, "calendar" },
		{ "2023-02-29", 0, "calendar" },
		{ "1900-02-29", 0, "calendar" },
		{ "2023-13-01", 0, "calendar" },
		{ "2023-00-10", 0, "calendar" },
		{ "2023-04-31", 0, "calendar" },
		{ "2999-01-01", 0, "future" },
		{ "2026-12-05", 0, "future" },
		{ "1980-7-15", 0, "YYYY-MM-DD" },
		{ "15.07.1980", 0, "YYYY-MM-DD" },
		{ "1980-07-15x", 0, "YYYY-MM-DD" },
	};
	char msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = check(PATIENT_FIELD_BIRTH_DATE, cases[i].value, msg, sizeof(msg));

		if (cases[i].ok) {
			assert_int_equal(rc, SONO_OK);
			continue;
		}
		assert_int_equal(rc, SONO_EINVAL);
		assert_non_null(strstr(msg, "Birth date"));
		assert_non_null(strstr(msg, cases[i].words));
		assert_null(strstr(msg, cases[i].value));
	}
}

static void name_component_checks(void **state)
{
	char msg[256];
	char name[300];

	(void)state;
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "O'Brien-Smith", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "Doe^Jane", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "Family name"));
	assert_int_equal(check(PATIENT_FIELD_GIVEN_NAME, "a=b", msg, sizeof(msg)), SONO_EINVAL);
	assert_int_equal(check(PATIENT_FIELD_MIDDLE_NAME, "a\\b", msg, sizeof(msg)), SONO_EINVAL);

	memset(name, 'x', 64);
	name[64] = '\0';
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, name, msg, sizeof(msg)), SONO_OK);
	name[64] = 'x';
	name[65] = '\0';
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, name, msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "65 characters"));
}

/* Limits count characters, not bytes: 64 CJK characters are 192 bytes. */
static void name_limit_counts_characters(void **state)
{
	char msg[256];
	char name[300];
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		memcpy(name + 3 * i, "\xe5\xb1\xb1", 3); /* U+5C71 */
	name[3 * 64] = '\0';
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, name, msg, sizeof(msg)), SONO_OK);
	memcpy(name + 3 * 64, "\xe5\xb1\xb1", 4);
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, name, msg, sizeof(msg)), SONO_EINVAL);
}

static void control_characters_rejected(void **state)
{
	static const char *const hostile[] = {
		"Doe\x1b]52;c;ZXZpbA==\x07",  /* OSC 52 clipboard write */
		"Doe\x1b]0;owned\x07",         /* OSC 0 window title */
		"Doe\rEvil",                    /* bare CR */
		"Doe\xc2\x9b" "31m",            /* C1 CSI */
		"Doe\x7f",
		"Doe\n",
	};
	char msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, hostile[i], msg, sizeof(msg)),
			SONO_EINVAL);
		assert_non_null(strstr(msg, "control character"));
	}
}

/* Printable Unicode is valid input; the sanitiser makes bidirectional
 * controls inert on display. */
static void unicode_names_accepted(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(PATIENT_FIELD_GIVEN_NAME, "Zoe\xcc\x88", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "\xe5\xb1\xb1\xe7\x94\xb0", msg,
		sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "\xe2\x80\xae" "eoD", msg, sizeof(msg)),
		SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "\xff\xfe", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "UTF-8"));
	assert_int_equal(check(PATIENT_FIELD_FAMILY_NAME, "\xc0\xaf", msg, sizeof(msg)), SONO_EINVAL);
}

static void id_accession_sex_checks(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(PATIENT_FIELD_ACCESSION, "1234567890123456", msg, sizeof(msg)),
		SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_ACCESSION, "12345678901234567", msg, sizeof(msg)),
		SONO_EINVAL);
	assert_non_null(strstr(msg, "Accession"));
	assert_int_equal(check(PATIENT_FIELD_PATIENT_ID, "a\\b", msg, sizeof(msg)), SONO_EINVAL);
	assert_int_equal(check(PATIENT_FIELD_SEX, "m", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_SEX, "unknown", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_SEX, "X", msg, sizeof(msg)), SONO_EINVAL);
	assert_non_null(strstr(msg, "M, F, O or unknown"));
}

static void referring_physician_groups(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(PATIENT_FIELD_REFERRING_PHYSICIAN, "House^Gregory^^Dr^MD", msg,
		sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_REFERRING_PHYSICIAN, "a^b^c^d^e^f", msg, sizeof(msg)),
		SONO_EINVAL);
	assert_int_equal(check(PATIENT_FIELD_REFERRING_PHYSICIAN, "House=Greg", msg, sizeof(msg)),
		SONO_EINVAL);
}

static void notes_keep_newlines(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(PATIENT_FIELD_NOTES, "line one\nline two", msg, sizeof(msg)), SONO_OK);
	assert_int_equal(check(PATIENT_FIELD_INDICATION, "line one\nline two", msg, sizeof(msg)),
		SONO_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_full_file),
		cmocka_unit_test(parse_crlf_and_spaces),
		cmocka_unit_test(parse_unknown_key_line),
		cmocka_unit_test(parse_unknown_key_not_echoed),
		cmocka_unit_test(parse_duplicate_key),
		cmocka_unit_test(parse_line_without_equals),
		cmocka_unit_test(parse_requires_id_and_name),
		cmocka_unit_test(parse_rejects_nul_and_size),
		cmocka_unit_test(read_from_stream),
		cmocka_unit_test(date_checks),
		cmocka_unit_test(name_component_checks),
		cmocka_unit_test(name_limit_counts_characters),
		cmocka_unit_test(control_characters_rejected),
		cmocka_unit_test(unicode_names_accepted),
		cmocka_unit_test(id_accession_sex_checks),
		cmocka_unit_test(referring_physician_groups),
		cmocka_unit_test(notes_keep_newlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
