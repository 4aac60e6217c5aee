/* libFuzzer target for the cloud's JSON body parsers: the depth check,
 * jansson with the server's flags, and every typed body parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_login login;
	struct json_exam exam;
	const char *text;
	json_t *root = NULL;
	char *phi;

	if (json_body_parse(data, size, &root, reason, sizeof(reason)) != 0) {
		if (root != NULL)
			abort();
		return 0;
	}
	if (json_body_depth((const char *)data, size, JSON_BODY_DEPTH_MAX) > JSON_BODY_DEPTH_MAX)
		abort();
	(void)json_body_login(root, &login, reason, sizeof(reason));
	if (json_body_exam(root, &exam, reason, sizeof(reason)) == 0) {
		phi = json_body_exam_phi(&exam);
		free(phi);
	}
	(void)json_body_reset_request(root, &text, reason, sizeof(reason));
	(void)json_body_reset_use(root, &text, reason, sizeof(reason));
	json_decref(root);
	return 0;
}
