/* The routing table of sonocloud's API and pages, and the decision on a
 * request head before its body is read (cloud_router_check_head).
 *
 * cloud_router_match() is a pure function of the method and the decoded path:
 * it has no server state, so it is unit-tested and fuzzed on its own.  Path
 * parameters are validated while matching, so a handler receives only a
 * canonical lowercase UUID, a part number in range and a token of the
 * expected alphabet; anything else is "not found".  cloud_router_check_head()
 * is pure in the same way and is fuzzed with the gate's head parser. */
#ifndef SONO_CLOUD_ROUTER_H
#define SONO_CLOUD_ROUTER_H

#include "cloud/http.h"

/* Largest exam part number, and longest reset token in a path.  The part
 * limit matches EXAMS_PARTS_MAX of the storage layer. */
#define ROUTER_PART_MAX 10000
#define ROUTER_TOKEN_MAX 128

enum cloud_route_id {
	ROUTE_PAGE_INDEX,
	ROUTE_PAGE_RESET,
	ROUTE_PAGE_RESET_POST,
	ROUTE_SESSION_CREATE,
	ROUTE_SESSION_DELETE,
	ROUTE_ME,
	ROUTE_SCANNERS,
	ROUTE_SETTINGS,
	ROUTE_EXAM_CREATE,
	ROUTE_EXAM_LIST,
	ROUTE_EXAM_GET,
	ROUTE_PART_PUT,
	ROUTE_EXAM_COMMIT,
	ROUTE_RESET_REQUEST,
	ROUTE_RESET_USE,
	ROUTE_COUNT
};

/* Roles allowed on a route, as bits.  A route with no role bits needs no
 * session. */
#define ROUTER_ROLE_ADMIN 0x1u
#define ROUTER_ROLE_CLINICIAN 0x2u
#define ROUTER_ROLE_OBSERVER 0x4u
#define ROUTER_ROLE_ANY (ROUTER_ROLE_ADMIN | ROUTER_ROLE_CLINICIAN | ROUTER_ROLE_OBSERVER)

enum router_body {
	ROUTER_BODY_NONE,   /* a body is ignored */
	ROUTER_BODY_JSON,   /* application/json, at most JSON_BODY_MAX bytes */
	ROUTER_BODY_BINARY, /* application/octet-stream, up to the server's body limit */
	ROUTER_BODY_FORM,   /* application/x-www-form-urlencoded from a page */
};

struct cloud_route {
	enum cloud_method method;
	const char *pattern;   /* "/api/v1/exams/{uuid}/parts/{n}"; also the log label */
	enum cloud_route_id id;
	unsigned roles;
	enum router_body body;
};

struct cloud_route_match {
	const struct cloud_route *route;
	char uuid[37];                      /* {uuid}, canonical lowercase */
	unsigned part;                      /* {n}, 1..ROUTER_PART_MAX */
	char token[ROUTER_TOKEN_MAX + 1];   /* {token}: letters, digits, '-' and '_' */
};

/* Finds the route for method and path (HEAD matches GET routes).
 * Returns 0 and fills m; SONO_ENOTFOUND when no pattern matches the path;
 * SONO_ESTATE when a pattern matches but not for this method, with the
 * methods the path does accept written to allow as "GET, POST". */
int cloud_router_match(enum cloud_method method, const char *path,
	struct cloud_route_match *m, char *allow, size_t allowlen);

/* Returns the whole table, terminated by an entry with a NULL pattern. */
const struct cloud_route *cloud_router_table(void);

/* Fills rejection with 404 for SONO_ENOTFOUND, or 405 with the Allow header
 * for SONO_ESTATE, the failures of cloud_router_match. */
void cloud_router_reject_match(int rc, const char *allow, struct cloud_rejection *rejection);

/* Returns the token of an "Authorization: Bearer TOKEN" value when TOKEN
 * has the form of a session token (64 hex digits), or NULL after filling
 * rejection with 401 and WWW-Authenticate.  authorization may be NULL.  The
 * token points into authorization. */
const char *cloud_router_bearer(const char *authorization, struct cloud_rejection *rejection);

/* Fills rejection with the 401 for a token that is not a live session. */
void cloud_router_reject_session(struct cloud_rejection *rejection);

/* Decides whether a request may send its body, from the head alone (the
 * server's cloud_http_head_check).  A request without a body is accepted,
 * because the handler checks it in full, unless its method is not one the
 * server supports.  A request with a body is rejected when its route does
 * not exist, when its route needs a session and it carries no well-formed
 * bearer token (401), or when its Content-Length exceeds the route's limit
 * (413): max_body for parts, JSON_BODY_MAX for every other route.  A
 * request with a body to a route that needs a session returns
 * CLOUD_HEAD_CHECK_STORAGE, so that its token is looked up before the
 * body is read. */
enum cloud_head_decision cloud_router_check_head(const struct cloud_request_head *head,
	size_t max_body, struct cloud_rejection *rejection);

#endif
