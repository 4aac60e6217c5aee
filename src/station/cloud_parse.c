/* Checks of what the cloud sends back: the commit receipt and the entries
 * of the scanner list.  Pure JSON work without a store or network, so the
 * fuzz target drives it directly. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/tls.h"
#include "station/cloud_parse.h"

int cloud_parse_scanner(const json_t *entry, struct store_cloud_scanner *out)
{
	const char *serial = json_string_value(json_object_get(entry, "serial"));
	const char *model = json_string_value(json_object_get(entry, "model"));
	const char *fp = json_string_value(json_object_get(entry, "fingerprint"));

	memset(out, 0, sizeof(*out));
	if (serial == NULL || serial[0] == '\0' || strlen(serial) >= sizeof(out->serial) ||
	    fp == NULL || tls_pin_normalize(fp, out->fingerprint) < 0)
		return SONO_EPROTO;
	snprintf(out->serial, sizeof(out->serial), "%s", serial);
	snprintf(out->model, sizeof(out->model), "%s", model ? model : "");
	return 0;
}

/* Returns 1 when entry confirms part number n of sent[] (1..count) that
 * was not confirmed before, and marks it in seen[]. */
static int confirms_part(const json_t *entry, const struct cloud_sent_part *sent, size_t count,
	unsigned char *seen)
{
	json_int_t number = json_integer_value(json_object_get(entry, "n"));
	const char *sha = json_string_value(json_object_get(entry, "sha256"));
	const json_t *size = json_object_get(entry, "size");

	if (number < 1 || (uint64_t)number > count || seen[number - 1] || sha == NULL ||
	    !json_is_integer(size) || json_integer_value(size) < 0)
		return 0;
	if (strcmp(sha, sent[number - 1].sha256) != 0 ||
	    (uint64_t)json_integer_value(size) != sent[number - 1].size)
		return 0;
	seen[number - 1] = 1;
	return 1;
}

int cloud_parse_receipt(const json_t *receipt, const char *uuid,
	const struct cloud_sent_part *sent, size_t n, char *receipt_id, size_t idlen,
	struct cloud_result *res)
{
	const json_t *parts = json_object_get(receipt, "parts"), *entry;
	const char *id = json_string_value(json_object_get(receipt, "receipt_id"));
	const char *exam = json_string_value(json_object_get(receipt, "exam"));
	unsigned char *seen = NULL;
	size_t i;
	int rc = SONO_EINVAL;

	if (id == NULL || id[0] == '\0' || strlen(id) >= idlen || exam == NULL ||
	    strcmp(exam, uuid) != 0 || n == 0 || json_array_size(parts) != n)
		goto out;
	seen = calloc(n, 1);
	if (seen == NULL)
		goto out;
	json_array_foreach(parts, i, entry) {
		if (!confirms_part(entry, sent, n, seen))
			goto out;
	}
	/* n entries, each a different number in 1..n: every part is confirmed. */
	snprintf(receipt_id, idlen, "%s", id);
	rc = 0;

out:
	free(seen);
	if (rc < 0) {
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(res->message, sizeof(res->message), "the cloud's receipt does not list "
			"exactly the parts, sizes and SHA-256 hashes that were sent; the exam stays on "
			"the station");
	}
	return rc;
}
