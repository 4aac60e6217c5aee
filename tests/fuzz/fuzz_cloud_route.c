/* libFuzzer target for the cloud's router.  The first input byte picks the
 * method; the rest is the decoded request path. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "cloud/router.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cloud_route_match m;
	enum cloud_method method;
	char allow[64];
	char *path;
	int rc;

	if (size < 1)
		return 0;
	method = (enum cloud_method)(data[0] % (CLOUD_METHOD_OTHER + 1));
	path = malloc(size);
	if (path == NULL)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';

	rc = cloud_router_match(method, path, &m, allow, sizeof(allow));
	if (rc == 0)
		check_match(&m);
	else if (m.route != NULL)
		abort();
	free(path);
	return 0;
}
