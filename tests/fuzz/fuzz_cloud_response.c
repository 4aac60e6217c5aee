/* libFuzzer target for the station's checks of cloud responses: the input
 * is parsed as JSON, checked as a commit receipt against three sent parts,
 * and each entry of its "scanners" array is parsed as a permitted scanner. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/tls.h"
#include "station/cloud_parse.h"

#define FUZZ_UUID "3b0f6c2e-6a52-4f0e-9c1d-2f5e8a7b9c01"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A receipt may only pass when it names every part once. */
static void check_receipt(const json_t *root)
{
	static const struct cloud_sent_part sent[3] = {
		{ 1000, "00000000000000000000000000000000000000000000000000000000000000a1" },
		{ 2000, "00000000000000000000000000000000000000000000000000000000000000b2" },
		{ 30, "00000000000000000000000000000000000000000000000000000000000000c3" },
	};
	struct cloud_result res;
	char receipt_id[128];

	memset(&res, 0, sizeof(res));
	if (cloud_parse_receipt(root, FUZZ_UUID, sent, 3, receipt_id, sizeof(receipt_id),
		    &res) == 0 && (json_array_size(json_object_get(root, "parts")) != 3 ||
		    strlen(receipt_id) == 0))
		abort();
}

static void check_scanners(const json_t *root)
{
	struct store_cloud_scanner scanner;
	json_t *entry;
	size_t i;

	json_array_foreach(json_object_get(root, "scanners"), i, entry) {
		if (cloud_parse_scanner(entry, &scanner) == 0 &&
		    (!tls_pin_valid(scanner.fingerprint) || scanner.serial[0] == '\0'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (root == NULL)
		return 0;
	check_receipt(root);
	check_scanners(root);
	json_decref(root);
	return 0;
}
