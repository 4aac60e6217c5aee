/* The routing table, its matcher and the checks of request heads; see
 * router.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "cloud/json_body.h"
#include "cloud/router.h"
#include "cloud/sessions.h"

#define ANY ROUTER_ROLE_ANY
#define CLIN ROUTER_ROLE_CLINICIAN
#define OBS ROUTER_ROLE_OBSERVER

static const struct cloud_route routes[] = {
	{ CLOUD_METHOD_GET, "/", ROUTE_PAGE_INDEX, 0, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_GET, "/reset", ROUTE_PAGE_RESET, 0, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_POST, "/reset", ROUTE_PAGE_RESET_POST, 0, ROUTER_BODY_FORM },
	{ CLOUD_METHOD_POST, "/api/v1/sessions", ROUTE_SESSION_CREATE, 0, ROUTER_BODY_JSON },
	{ CLOUD_METHOD_DELETE, "/api/v1/sessions/current", ROUTE_SESSION_DELETE, ANY, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_GET, "/api/v1/me", ROUTE_ME, ANY, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_GET, "/api/v1/scanners", ROUTE_SCANNERS, ANY, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_GET, "/api/v1/settings", ROUTE_SETTINGS, ANY, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_POST, "/api/v1/exams", ROUTE_EXAM_CREATE, CLIN, ROUTER_BODY_JSON },
	{ CLOUD_METHOD_GET, "/api/v1/exams", ROUTE_EXAM_LIST, CLIN | OBS, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_GET, "/api/v1/exams/{uuid}", ROUTE_EXAM_GET, CLIN | OBS, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_PUT, "/api/v1/exams/{uuid}/parts/{n}", ROUTE_PART_PUT, CLIN, ROUTER_BODY_BINARY },
	{ CLOUD_METHOD_POST, "/api/v1/exams/{uuid}/commit", ROUTE_EXAM_COMMIT, CLIN, ROUTER_BODY_NONE },
	{ CLOUD_METHOD_POST, "/api/v1/password-resets", ROUTE_RESET_REQUEST, 0, ROUTER_BODY_JSON },
	{ CLOUD_METHOD_POST, "/api/v1/password-resets/{token}", ROUTE_RESET_USE, 0, ROUTER_BODY_JSON },
	{ CLOUD_METHOD_OTHER, NULL, ROUTE_COUNT, 0, ROUTER_BODY_NONE },
};

static const char *method_names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OTHER" };

const struct cloud_route *cloud_router_table(void)
{
	return routes;
}

static int token_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ROUTER_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

static int part_valid(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v >= 1 && v <= ROUTER_PART_MAX;
}

/* Matches one path segment seg[0..n) against one pattern segment pat[0..pn)
 * and stores a parameter in m. */
static int segment_match(const char *pat, size_t pn, const char *seg, size_t n,
	struct cloud_route_match *m)
{
	char uuid[37];

	if (pn == 6 && memcmp(pat, "{uuid}", 6) == 0) {
		if (n != 36)
			return 0;
		memcpy(uuid, seg, 36);
		uuid[36] = '\0';
		if (!crypto_uuid_valid(uuid))
			return 0;
		memcpy(m->uuid, uuid, sizeof(uuid));
		return 1;
	}
	if (pn == 3 && memcmp(pat, "{n}", 3) == 0)
		return part_valid(seg, n, &m->part);
	if (pn == 7 && memcmp(pat, "{token}", 7) == 0) {
		if (!token_valid(seg, n))
			return 0;
		memcpy(m->token, seg, n);
		m->token[n] = '\0';
		return 1;
	}
	return pn == n && memcmp(pat, seg, n) == 0;
}

/* Matches a whole path against a pattern, segment by segment. */
static int path_match(const char *pattern, const char *path, struct cloud_route_match *m)
{
	const char *p = pattern, *s = path;

	for (;;) {
		const char *pe, *se;

		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		if (se == NULL)
			se = s + strlen(s);
		if (!segment_match(p, (size_t)(pe - p), s, (size_t)(se - s), m))
			return 0;
		p = pe;
		s = se;
		if (*p == '\0' || *s == '\0')
			return *p == '\0' && *s == '\0';
	}
}

static void allow_add(char *allow, size_t allowlen, enum cloud_method method)
{
	size_t used = strlen(allow);

	if (strstr(allow, method_names[method]) != NULL)
		return;
	snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", method_names[method]);
	if (method == CLOUD_METHOD_GET)
		allow_add(allow, allowlen, CLOUD_METHOD_HEAD);
}

int cloud_router_match(enum cloud_method method, const char *path,
	struct cloud_route_match *m, char *allow, size_t allowlen)
{
	enum cloud_method want = method == CLOUD_METHOD_HEAD ? CLOUD_METHOD_GET : method;
	const struct cloud_route *r;
	int path_found = 0;

	memset(m, 0, sizeof(*m));
	if (allowlen > 0)
		allow[0] = '\0';
	if (path == NULL)
		return SONO_ENOTFOUND;
	for (r = routes; r->pattern != NULL; r++) {
		struct cloud_route_match tmp;

		memset(&tmp, 0, sizeof(tmp));
		if (!path_match(r->pattern, path, &tmp))
			continue;
		if (r->method == want) {
			*m = tmp;
			m->route = r;
			return 0;
		}
		path_found = 1;
		if (allowlen > 0)
			allow_add(allow, allowlen, r->method);
	}
	return path_found ? SONO_ESTATE : SONO_ENOTFOUND;
}

void cloud_router_reject_match(int rc, const char *allow, struct cloud_rejection *rejection)
{
	if (rc != SONO_ESTATE) {
		cloud_rejection_set(rejection, 404, "not_found", "There is no such resource.");
		return;
	}
	cloud_rejection_set(rejection, 405, "method_not_allowed",
		"This path does not accept that method; see the Allow header.");
	rejection->header_name = "Allow";
	snprintf(rejection->header_value, sizeof(rejection->header_value), "%s", allow);
}

static void reject_unauthorized(struct cloud_rejection *rejection, const char *error,
	const char *message)
{
	cloud_rejection_set(rejection, 401, error, message);
	rejection->header_name = "WWW-Authenticate";
	snprintf(rejection->header_value, sizeof(rejection->header_value), "Bearer realm=\"sonocloud\"");
}

void cloud_router_reject_session(struct cloud_rejection *rejection)
{
	reject_unauthorized(rejection, "invalid_token",
		"The session token is invalid, expired or revoked; log in again.");
}

const char *cloud_router_bearer(const char *authorization, struct cloud_rejection *rejection)
{
	const char *token;
	size_t i;

	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0) {
		reject_unauthorized(rejection, "unauthorized", "Log in and send the session token "
			"as \"Authorization: Bearer TOKEN\".");
		return NULL;
	}
	token = authorization + 7;
	for (i = 0; token[i] != '\0'; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f') ||
		      (token[i] >= 'A' && token[i] <= 'F')))
			break;
	if (token[i] != '\0' || i != SESSIONS_TOKEN_HEX_LEN - 1) {
		cloud_router_reject_session(rejection);
		return NULL;
	}
	return token;
}

/* Rejects a body longer than the route takes.  Returns 0 or -1. */
static int check_length(const struct cloud_route *route, uint64_t length, size_t max_body,
	struct cloud_rejection *rejection)
{
	uint64_t limit = route->body == ROUTER_BODY_BINARY ? max_body : JSON_BODY_MAX;
	char message[sizeof(rejection->message)];

	if (length <= limit)
		return 0;
	snprintf(message, sizeof(message), "The body is larger than the %llu bytes this "
		"request accepts.", (unsigned long long)limit);
	cloud_rejection_set(rejection, 413, "too_large", message);
	return -1;
}

enum cloud_head_decision cloud_router_check_head(const struct cloud_request_head *head,
	size_t max_body, struct cloud_rejection *rejection)
{
	struct cloud_route_match m;
	const struct cloud_route *route;
	char allow[64];
	int rc;

	memset(rejection, 0, sizeof(*rejection));
	if (head->method != CLOUD_METHOD_OTHER && head->content_length == 0)
		return CLOUD_HEAD_ACCEPT;
	rc = cloud_router_match(head->method, head->path, &m, allow, sizeof(allow));
	if (rc < 0) {
		cloud_router_reject_match(rc, allow, rejection);
		return CLOUD_HEAD_REJECT;
	}
	route = m.route;
	if ((route->roles != 0 && cloud_router_bearer(head->authorization, rejection) == NULL) ||
	    check_length(route, head->content_length, max_body, rejection) < 0) {
		rejection->label = route->pattern;
		return CLOUD_HEAD_REJECT;
	}
	rejection->label = route->pattern;
	return route->roles != 0 ? CLOUD_HEAD_CHECK_STORAGE : CLOUD_HEAD_ACCEPT;
}
