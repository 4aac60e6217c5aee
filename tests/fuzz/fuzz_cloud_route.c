/* libFuzzer target for the cloud's router and the HTTP gate's head checks.
 * When the first input byte is below 0x80 it picks the method and the rest
 * is the decoded request path.  Otherwise the rest is a raw request head:
 * it goes through the gate's parser and, when complete, through the
 * router's decision on whether the body may be read. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "cloud/http_head.h"
#include "cloud/router.h"

/* The default head and body limits of sonocloud. */
#define FUZZ_HEAD_MAX (8 * 1024)
#define FUZZ_BODY_MAX (16 * 1024 * 1024 + 64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what cloud_router_match promises about a successful match. */
static void check_match(const struct cloud_route_match *m)
{
	if (m->route == NULL)
		abort();
	if (strstr(m->route->pattern, "{uuid}") && !crypto_uuid_valid(m->uuid))
		abort();
	if (strstr(m->route->pattern, "{n}") && (m->part < 1 || m->part > ROUTER_PART_MAX))
		abort();
	if (strstr(m->route->pattern, "{token}") &&
	    (m->token[0] == '\0' || strlen(m->token) > ROUTER_TOKEN_MAX))
		abort();
}

static void fuzz_path(const uint8_t *data, size_t size)
{
	struct cloud_route_match m;
	enum cloud_method method;
	char allow[64];
	char *path;
	int rc;

	method = (enum cloud_method)(data[0] % (CLOUD_METHOD_OTHER + 1));
	path = malloc(size);
	if (path == NULL)
		return;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';

	rc = cloud_router_match(method, path, &m, allow, sizeof(allow));
	if (rc == 0)
		check_match(&m);
	else if (m.route != NULL)
		abort();
	free(path);
}

/* Checks the router's decision on a parsed head: a rejection has a status
 * and a code, anything else has neither, and a body over the part limit
 * is never accepted. */
static void check_decision(const struct http_head *h)
{
	struct cloud_request_head view = { h->method, h->path, h->authorization,
		h->content_length };
	struct cloud_rejection f;
	enum cloud_head_decision d = cloud_router_check_head(&view, FUZZ_BODY_MAX, &f);

	if ((d == CLOUD_HEAD_REJECT) != (f.status != 0))
		abort();
	if (d == CLOUD_HEAD_REJECT && (f.error == NULL || f.message[0] == '\0'))
		abort();
	if (d != CLOUD_HEAD_REJECT && h->content_length > FUZZ_BODY_MAX)
		abort();
	if (d != CLOUD_HEAD_REJECT && h->method == CLOUD_METHOD_OTHER)
		abort();
}

static void fuzz_head(const uint8_t *data, size_t size)
{
	struct cloud_rejection f;
	struct http_head h;
	int rc = http_head_parse((const char *)data, size, FUZZ_HEAD_MAX, &h, &f);

	if (rc < 0) {
		if (f.status < 400 || f.status > 505 || f.error == NULL)
			abort();
		return;
	}
	if (rc == 0)
		return;
	if (h.length > size || h.length > FUZZ_HEAD_MAX || h.minor_version < 0 ||
	    h.minor_version > 1 || (h.path != NULL && h.path[0] != '/'))
		abort();
	if (h.method == CLOUD_METHOD_HEAD && h.content_length > 0)
		abort();
	check_decision(&h);
	http_head_clear(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] < 0x80)
		fuzz_path(data, size);
	else
		fuzz_head(data + 1, size - 1);
	return 0;
}
