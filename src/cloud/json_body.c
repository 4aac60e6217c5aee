/* Parsers for the API's JSON bodies; see json_body.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "cloud/accounts.h"
#include "cloud/json_body.h"

int json_body_depth(const char *data, size_t len, int limit)
{
	int depth = 0, deepest = 0, in_string = 0, escaped = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = data[i];

		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (ch == '\\')
				escaped = 1;
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		if (ch == '"') {
			in_string = 1;
		} else if (ch == '{' || ch == '[') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				return limit + 1;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

int json_body_parse(const void *data, size_t len, json_t **out, char *reason, size_t reasonlen)
{
	json_error_t error;
	json_t *root;

	*out = NULL;
	if (len > JSON_BODY_MAX) {
		snprintf(reason, reasonlen, "The JSON body is larger than %d bytes.", JSON_BODY_MAX);
		return SONO_ETOOBIG;
	}
	if (json_body_depth(data, len, JSON_BODY_DEPTH_MAX) > JSON_BODY_DEPTH_MAX) {
		snprintf(reason, reasonlen, "The JSON body is nested deeper than %d levels.",
			JSON_BODY_DEPTH_MAX);
		return SONO_ETOOBIG;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL) {
		snprintf(reason, reasonlen, "The body is not valid JSON (line %d, column %d).",
			error.line, error.column);
		return SONO_EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(reason, reasonlen, "The JSON body must be an object.");
		return SONO_EINVAL;
	}
	*out = root;
	return 0;
}

int json_body_string(const json_t *obj, const char *key, size_t maxlen, int required,
	const char **value, char *reason, size_t reasonlen)
{
	const json_t *member = json_object_get(obj, key);
	size_t len;

	*value = NULL;
	if (member == NULL && !required)
		return 0;
	if (member == NULL) {
		snprintf(reason, reasonlen, "The field \"%s\" is missing.", key);
		return SONO_EINVAL;
	}
	if (!json_is_string(member)) {
		snprintf(reason, reasonlen, "The field \"%s\" must be a string.", key);
		return SONO_EINVAL;
	}
	len = json_string_length(member);
	if (len == 0 || len > maxlen || strlen(json_string_value(member)) != len) {
		snprintf(reason, reasonlen,
			"The field \"%s\" must be 1 to %zu bytes of text without NUL characters.",
			key, maxlen);
		return SONO_EINVAL;
	}
	*value = json_string_value(member);
	return 0;
}

int json_body_login(const json_t *obj, struct json_login *out, char *reason, size_t reasonlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = json_body_string(obj, "username", ACCOUNTS_NAME_MAX, 1, &out->username, reason,
		reasonlen);
	if (rc == 0)
		rc = json_body_string(obj, "password", ACCOUNTS_PASSWORD_MAX_BYTES, 1,
			&out->password, reason, reasonlen);
	return rc;
}

/* Checks that every member of the patient object is a string of at most
 * JSON_BODY_PATIENT_FIELD_MAX bytes or null. */
static int json_body_patient(const json_t *patient, char *reason, size_t reasonlen)
{
	const char *key;
	json_t *value;

	if (!json_is_object(patient)) {
		snprintf(reason, reasonlen, "The field \"patient\" must be an object.");
		return SONO_EINVAL;
	}
	json_object_foreach((json_t *)patient, key, value) {
		if (json_is_null(value))
			continue;
		if (!json_is_string(value) || json_string_length(value) > JSON_BODY_PATIENT_FIELD_MAX) {
			snprintf(reason, reasonlen,
				"Each patient field must be a string of at most %d bytes or null.",
				JSON_BODY_PATIENT_FIELD_MAX);
			return SONO_EINVAL;
		}
	}
	return 0;
}

int json_body_exam(const json_t *obj, struct json_exam *out, char *reason, size_t reasonlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = json_body_string(obj, "uuid", CRYPTO_UUID_LEN - 1, 1, &out->uuid, reason, reasonlen);
	if (rc < 0)
		return rc;
	if (!crypto_uuid_valid(out->uuid)) {
		snprintf(reason, reasonlen, "The field \"uuid\" must be a lowercase canonical UUID.");
		return SONO_EINVAL;
	}
	out->patient = json_object_get(obj, "patient");
	if (out->patient == NULL) {
		snprintf(reason, reasonlen, "The field \"patient\" is missing.");
		return SONO_EINVAL;
	}
	rc = json_body_patient(out->patient, reason, reasonlen);
	if (rc < 0)
		return rc;
	out->meta = json_object_get(obj, "meta");
	if (out->meta != NULL && !json_is_object(out->meta)) {
		snprintf(reason, reasonlen, "The field \"meta\" must be an object when present.");
		return SONO_EINVAL;
	}
	return 0;
}

char *json_body_exam_phi(const struct json_exam *exam)
{
	json_t *phi = json_object();
	char *text = NULL;

	if (phi == NULL)
		return NULL;
	if (json_object_set(phi, "patient", (json_t *)exam->patient) == 0 &&
	    (exam->meta == NULL || json_object_set(phi, "meta", (json_t *)exam->meta) == 0))
		text = json_dumps(phi, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(phi);
	return text;
}

int json_body_reset_request(const json_t *obj, const char **name_or_email,
	char *reason, size_t reasonlen)
{
	int rc;

	rc = json_body_string(obj, "username", ACCOUNTS_NAME_MAX, 0, name_or_email, reason,
		reasonlen);
	if (rc == 0 && *name_or_email == NULL)
		rc = json_body_string(obj, "email", ACCOUNTS_EMAIL_MAX, 0, name_or_email, reason,
			reasonlen);
	if (rc == 0 && *name_or_email == NULL) {
		snprintf(reason, reasonlen, "Give a \"username\" or an \"email\".");
		rc = SONO_EINVAL;
	}
	return rc;
}

int json_body_reset_use(const json_t *obj, const char **password, char *reason,
	size_t reasonlen)
{
	return json_body_string(obj, "password", ACCOUNTS_PASSWORD_MAX_BYTES, 1, password, reason,
		reasonlen);
}
