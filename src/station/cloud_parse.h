/* Checks of what the cloud sends back to the station; see cloud_parse.c. */
#ifndef STATION_CLOUD_PARSE_H
#define STATION_CLOUD_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sono/crypto.h"
#include "station/cloud_client.h"
#include "station/store_cloud.h"

/* Size and SHA-256 of one part as the station sent it. */
struct cloud_sent_part {
	uint64_t size;
	char sha256[CRYPTO_SHA256_HEX_LEN];
};

/* Parses one entry {serial, model, fingerprint} of GET /scanners into out.
 * Returns 0, or SONO_EPROTO for a missing or malformed serial or
 * fingerprint. */
int cloud_parse_scanner(const json_t *entry, struct store_cloud_scanner *out);

/* Checks that the commit receipt is for exam uuid and lists exactly parts
 * 1..n with the sizes and hashes in sent[], and copies its receipt_id
 * (at most idlen - 1 bytes).  Returns 0, or SONO_EINVAL with the reason in
 * res (kind CLOUD_ERR_PROTOCOL). */
int cloud_parse_receipt(const json_t *receipt, const char *uuid,
	const struct cloud_sent_part *sent, size_t n, char *receipt_id, size_t idlen,
	struct cloud_result *res);

#endif
