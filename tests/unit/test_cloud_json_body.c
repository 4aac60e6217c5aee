/* Tests of the cloud's JSON body parsers and the nesting-depth check. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "cloud/json_body.h"

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"

static int parse(const char *text, json_t **out)
{
	char reason[JSON_BODY_REASON_MAX];

	return json_body_parse(text, strlen(text), out, reason, sizeof(reason));
}

static void depth_counts_nesting(void **state)
{
	assert_int_equal(json_body_depth("{}", 2, 16), 1);
	assert_int_equal(json_body_depth("{\"a\":[[1]]}", 11, 16), 3);
	assert_int_equal(json_body_depth("\"[[[[\"", 6, 16), 0);
	assert_int_equal(json_body_depth("{\"a\\\"[[\":1}", 11, 16), 1);
	assert_int_equal(json_body_depth("[[[[[", 5, 3), 4);
	assert_int_equal(json_body_depth("]]]]{", 5, 16), 1);
}

static void deep_body_rejected(void **state)
{
	char text[2 * (JSON_BODY_DEPTH_MAX + 1) + 16];
	json_t *root = NULL;
	int i, n = 0;

	n += snprintf(text + n, sizeof(text) - n, "{\"a\":");
	for (i = 0; i < JSON_BODY_DEPTH_MAX; i++)
		text[n++] = '[';
	for (i = 0; i < JSON_BODY_DEPTH_MAX; i++)
		text[n++] = ']';
	text[n++] = '}';
	text[n] = '\0';
	assert_int_equal(parse(text, &root), SONO_ETOOBIG);
	assert_null(root);
}

static void limit_depth_accepted(void **state)
{
	char text[2 * JSON_BODY_DEPTH_MAX + 16];
	json_t *root = NULL;
	int i, n = 0;

	n += snprintf(text + n, sizeof(text) - n, "{\"a\":");
	for (i = 0; i < JSON_BODY_DEPTH_MAX - 1; i++)
		text[n++] = '[';
	for (i = 0; i < JSON_BODY_DEPTH_MAX - 1; i++)
		text[n++] = ']';
	text[n++] = '}';
	text[n] = '\0';
	assert_int_equal(parse(text, &root), 0);
	json_decref(root);
}

static void large_body_rejected(void **state)
{
	char *text = malloc(JSON_BODY_MAX + 2);
	char reason[JSON_BODY_REASON_MAX];
	json_t *root = NULL;

	assert_non_null(text);
	memset(text, ' ', JSON_BODY_MAX + 1);
	text[0] = '{';
	text[JSON_BODY_MAX] = '}';
	assert_int_equal(json_body_parse(text, JSON_BODY_MAX + 1, &root, reason, sizeof(reason)),
		SONO_ETOOBIG);
	assert_int_equal(json_body_parse(text, JSON_BODY_MAX, &root, reason, sizeof(reason)),
		SONO_EINVAL);
	free(text);
}

static void invalid_bodies_rejected(void **state)
{
	static const char *bodies[] = {
		"", "[]", "\"text\"", "{", "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"", "nul",
	};
	json_t *root;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		root = NULL;
		assert_int_equal(parse(bodies[i], &root), SONO_EINVAL);
		assert_null(root);
	}
}

static void login_fields(void **state)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_login login;
	json_t *root = NULL;

	assert_int_equal(parse("{\"username\":\"ana\",\"password\":\"correct horse battery\"}",
		&root), 0);
	assert_int_equal(json_body_login(root, &login, reason, sizeof(reason)), 0);
	assert_string_equal(login.username, "ana");
	assert_string_equal(login.password, "correct horse battery");
	json_decref(root);

	assert_int_equal(parse("{\"username\":\"ana\"}", &root), 0);
	assert_int_equal(json_body_login(root, &login, reason, sizeof(reason)), SONO_EINVAL);
	assert_non_null(strstr(reason, "password"));
	json_decref(root);

	assert_int_equal(parse("{\"username\":7,\"password\":\"x\"}", &root), 0);
	assert_int_equal(json_body_login(root, &login, reason, sizeof(reason)), SONO_EINVAL);
	json_decref(root);

	/* jansson rejects an escaped NUL unless asked to allow it. */
	root = NULL;
	assert_int_equal(parse("{\"username\":\"a\\u0000b\",\"password\":\"x\"}", &root),
		SONO_EINVAL);
	assert_null(root);
}

static void exam_fields(void **state)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_exam exam;
	json_t *root = NULL;
	char *phi;

	assert_int_equal(parse("{\"uuid\":\"" UUID "\",\"patient\":{\"name\":\"Doe^Jane\","
		"\"id\":null},\"meta\":{\"preset\":\"abdomen\"}}", &root), 0);
	assert_int_equal(json_body_exam(root, &exam, reason, sizeof(reason)), 0);
	assert_string_equal(exam.uuid, UUID);
	phi = json_body_exam_phi(&exam);
	assert_non_null(phi);
	assert_string_equal(phi, "{\"meta\":{\"preset\":\"abdomen\"},"
		"\"patient\":{\"id\":null,\"name\":\"Doe^Jane\"}}");
	free(phi);
	json_decref(root);
}

/* Builds an exam body whose patient note has n bytes. */
static char *exam_with_note(size_t n)
{
	static const char head[] = "{\"uuid\":\"" UUID "\",\"patient\":{\"note\":\"";
	char *text = malloc(sizeof(head) + n + 8);

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'n', n);
	strcpy(text + sizeof(head) - 1 + n, "\"}}");
	return text;
}

static void exam_note_length_limit(void **state)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_exam exam;
	json_t *root = NULL;
	char *text;

	text = exam_with_note(JSON_BODY_PATIENT_FIELD_MAX);
	assert_int_equal(parse(text, &root), 0);
	assert_int_equal(json_body_exam(root, &exam, reason, sizeof(reason)), 0);
	json_decref(root);
	free(text);

	text = exam_with_note(JSON_BODY_PATIENT_FIELD_MAX + 1);
	assert_int_equal(parse(text, &root), 0);
	assert_int_equal(json_body_exam(root, &exam, reason, sizeof(reason)), SONO_EINVAL);
	json_decref(root);
	free(text);
}

static void exam_fields_rejected(void **state)
{
	static const char *bodies[] = {
		"{\"patient\":{}}",
		"{\"uuid\":\"0F8FAD5B-D9CB-469F-A165-70867728950E\",\"patient\":{}}",
		"{\"uuid\":\"" UUID "\"}",
		"{\"uuid\":\"" UUID "\",\"patient\":[]}",
		"{\"uuid\":\"" UUID "\",\"patient\":{\"name\":5}}",
		"{\"uuid\":\"" UUID "\",\"patient\":{},\"meta\":\"x\"}",
	};
	char reason[JSON_BODY_REASON_MAX];
	struct json_exam exam;
	json_t *root;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		root = NULL;
		assert_int_equal(parse(bodies[i], &root), 0);
		assert_int_equal(json_body_exam(root, &exam, reason, sizeof(reason)), SONO_EINVAL);
		json_decref(root);
	}
}

static void reset_fields(void **state)
{
	char reason[JSON_BODY_REASON_MAX];
	const char *who, *password;
	json_t *root = NULL;

	assert_int_equal(parse("{\"email\":\"ana@example.org\"}", &root), 0);
	assert_int_equal(json_body_reset_request(root, &who, reason, sizeof(reason)), 0);
	assert_string_equal(who, "ana@example.org");
	json_decref(root);

	assert_int_equal(parse("{}", &root), 0);
	assert_int_equal(json_body_reset_request(root, &who, reason, sizeof(reason)), SONO_EINVAL);
	assert_int_equal(json_body_reset_use(root, &password, reason, sizeof(reason)), SONO_EINVAL);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(depth_counts_nesting),
		cmocka_unit_test(deep_body_rejected),
		cmocka_unit_test(limit_depth_accepted),
		cmocka_unit_test(large_body_rejected),
		cmocka_unit_test(invalid_bodies_rejected),
		cmocka_unit_test(login_fields),
		cmocka_unit_test(exam_fields),
		cmocka_unit_test(exam_fields_rejected),
		cmocka_unit_test(exam_note_length_limit),
		cmocka_unit_test(reset_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
