/* Parsers for the JSON bodies of sonocloud's API.
 *
 * Every body goes through json_body_parse(): a size limit, a nesting-depth
 * limit checked on the raw bytes before jansson sees them (so a deeply
 * nested body costs no parser recursion), then jansson with duplicate keys
 * rejected, and a top-level object required.  The typed parsers below check
 * each field's type and length and return a reason for the client.  None of
 * them needs a server, so the fuzz target drives them directly. */
#ifndef SONO_CLOUD_JSON_BODY_H
#define SONO_CLOUD_JSON_BODY_H

#include <stddef.h>
#include <jansson.h>

#define JSON_BODY_MAX (64 * 1024)
#define JSON_BODY_DEPTH_MAX 16
#define JSON_BODY_REASON_MAX 160
/* Longest value of one patient field: the station's free-text note of
 * 1024 characters, at up to 4 bytes each in UTF-8.  Names and ids are
 * shorter. */
#define JSON_BODY_PATIENT_FIELD_MAX 4096

/* Returns the deepest nesting of objects and arrays in data[0..len),
 * ignoring brackets inside strings, and stopping early once it exceeds
 * limit (the result is then limit + 1).  Malformed text is not an error
 * here; jansson rejects it later. */
int json_body_depth(const char *data, size_t len, int limit);

/* Parses a request body into a new object (*out, released with json_decref).
 * Returns 0; SONO_ETOOBIG for a body over JSON_BODY_MAX or nested deeper than
 * JSON_BODY_DEPTH_MAX; SONO_EINVAL for invalid JSON, duplicate keys or a
 * top level that is not an object.  reason gets a sentence for the client. */
int json_body_parse(const void *data, size_t len, json_t **out, char *reason, size_t reasonlen);

/* Fetches the string member key of obj.  Returns 0 and sets *value (owned by
 * obj); SONO_EINVAL with a reason when it is missing (and required), not a
 * string, empty, longer than maxlen bytes or contains a NUL.  When optional
 * and missing, returns 0 with *value NULL. */
int json_body_string(const json_t *obj, const char *key, size_t maxlen, int required,
	const char **value, char *reason, size_t reasonlen);

/* Fields of POST /api/v1/sessions. */
struct json_login {
	const char *username;
	const char *password;
};
int json_body_login(const json_t *obj, struct json_login *out, char *reason, size_t reasonlen);

/* Fields of POST /api/v1/exams: a canonical lowercase uuid, the patient
 * object (PHI, kept whole) and the optional meta object. */
struct json_exam {
	const char *uuid;
	const json_t *patient;
	const json_t *meta;
};
int json_body_exam(const json_t *obj, struct json_exam *out, char *reason, size_t reasonlen);

/* Serialises the PHI stored with an exam, {"patient": ..., "meta": ...},
 * into a new string (free with free()).  Returns NULL when out of memory. */
char *json_body_exam_phi(const struct json_exam *exam);

/* Field of POST /api/v1/password-resets: "username" or "email". */
int json_body_reset_request(const json_t *obj, const char **name_or_email,
	char *reason, size_t reasonlen);

/* Field of POST /api/v1/password-resets/{token}: "password". */
int json_body_reset_use(const json_t *obj, const char **password, char *reason,
	size_t reasonlen);

#endif
