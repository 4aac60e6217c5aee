/* The request dispatcher: route, check the body, authenticate, check the
 * role, then run the route's handler.  Handlers live in routes_*.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/json_body.h"
#include "cloud/routes.h"

static const route_handler handlers[ROUTE_COUNT] = {
	[ROUTE_PAGE_INDEX] = routes_page_index,
	[ROUTE_PAGE_RESET] = routes_page_reset,
	[ROUTE_PAGE_RESET_POST] = routes_page_reset_post,
	[ROUTE_SESSION_CREATE] = routes_session_create,
	[ROUTE_SESSION_DELETE] = routes_session_delete,
	[ROUTE_ME] = routes_me,
	[ROUTE_SCANNERS] = routes_scanners,
	[ROUTE_SETTINGS] = routes_settings,
	[ROUTE_EXAM_CREATE] = routes_exam_create,
	[ROUTE_EXAM_LIST] = routes_exam_list,
	[ROUTE_EXAM_GET] = routes_exam_get,
	[ROUTE_PART_PUT] = routes_part_put,
	[ROUTE_EXAM_COMMIT] = routes_exam_commit,
	[ROUTE_RESET_REQUEST] = routes_reset_request,
	[ROUTE_RESET_USE] = routes_reset_use,
};

void route_ctx_free(struct route_ctx *ctx)
{
	if (ctx == NULL)
		return;
	crypto_wipe(ctx->token, sizeof(ctx->token));
	if (ctx->secret != NULL) {
		crypto_wipe(ctx->secret, strlen(ctx->secret));
		free(ctx->secret);
	}
	json_decref(ctx->body);
	free(ctx);
}

int route_keep_secret(struct route_ctx *ctx, const char *secret)
{
	ctx->secret = strdup(secret);
	return ctx->secret ? 0 : SONO_ENOMEM;
}

void route_reply_code(struct route_ctx *ctx, int rc, const char *message)
{
	switch (rc) {
	case SONO_ENOTFOUND:
		cloud_reply_error(ctx->req, 404, "not_found", message);
		break;
	case SONO_EAUTH:
		cloud_reply_error(ctx->req, 403, "forbidden", message);
		break;
	case SONO_ESTATE:
		cloud_reply_error(ctx->req, 409, "conflict", message);
		break;
	case SONO_ETOOBIG:
		cloud_reply_error(ctx->req, 413, "too_large", message);
		break;
	case SONO_EINVAL:
		cloud_reply_error(ctx->req, 400, "invalid_request", message);
		break;
	default:
		LOG_ERROR("%s: storage call failed: %s", ctx->match.route->pattern, sono_strerror(rc));
		cloud_reply_error(ctx->req, 500, "internal_error",
			"The server could not complete the request; try again later.");
		break;
	}
}

/* Returns 1 when the Content-Type header's media type is want (parameters
 * such as "; charset=utf-8" are allowed). */
static int content_type_is(struct cloud_request *r, const char *want)
{
	const char *type = cloud_request_header(r, "Content-Type");
	size_t n = strlen(want);

	return type != NULL && strncasecmp(type, want, n) == 0 &&
		(type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* Checks the media type and size of the body and parses a JSON body into
 * ctx->body.  Returns 0, or -1 after setting the error response. */
static int route_check_body(struct route_ctx *ctx)
{
	static const char *types[] = {
		[ROUTER_BODY_JSON] = "application/json",
		[ROUTER_BODY_BINARY] = "application/octet-stream",
		[ROUTER_BODY_FORM] = "application/x-www-form-urlencoded",
	};
	enum router_body kind = ctx->match.route->body;
	char reason[JSON_BODY_REASON_MAX];
	const uint8_t *data;
	size_t len;
	int rc;

	/* NOTE: evhttp has already read the whole body, up to the server-wide
	 * limit for parts (16 MiB by default), before this runs, and before the
	 * session is checked.  A JSON route rejects more than 64 KiB only here,
	 * so buffered bodies can take up to the connection limit times 16 MiB. */
	if (kind == ROUTER_BODY_NONE)
		return 0;
	if (kind == ROUTER_BODY_BINARY && cloud_request_header(ctx->req, "Content-Length") == NULL) {
		cloud_reply_error(ctx->req, 411, "length_required",
			"Send the part with a Content-Length header.");
		return -1;
	}
	if (!content_type_is(ctx->req, types[kind])) {
		snprintf(reason, sizeof(reason), "Send the body as %s.", types[kind]);
		cloud_reply_error(ctx->req, 415, "unsupported_media_type", reason);
		return -1;
	}
	if (cloud_request_body(ctx->req, &data, &len) < 0) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return -1;
	}
	if (kind != ROUTER_BODY_JSON)
		return 0;
	rc = json_body_parse(data, len, &ctx->body, reason, sizeof(reason));
	if (rc == SONO_ETOOBIG)
		cloud_reply_error(ctx->req, 413, "too_large", reason);
	else if (rc < 0)
		cloud_reply_error(ctx->req, 400, "invalid_body", reason);
	return rc < 0 ? -1 : 0;
}

static unsigned role_bit(enum account_role role)
{
	switch (role) {
	case ROLE_ADMINISTRATOR:
		return ROUTER_ROLE_ADMIN;
	case ROLE_CLINICIAN:
		return ROUTER_ROLE_CLINICIAN;
	case ROLE_OBSERVER:
		return ROUTER_ROLE_OBSERVER;
	}
	return 0;
}

static void route_reply_unauthorized(struct route_ctx *ctx, const char *error, const char *message)
{
	cloud_reply_header(ctx->req, "WWW-Authenticate", "Bearer realm=\"sonocloud\"");
	cloud_reply_error(ctx->req, 401, error, message);
}

/* Finds the session of the bearer token and the user behind it, then checks
 * the route's roles.  Returns 0, or -1 after setting the error response. */
static int route_authenticate(struct route_ctx *ctx)
{
	const char *auth = cloud_request_header(ctx->req, "Authorization");
	struct session session;
	int rc;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		route_reply_unauthorized(ctx, "unauthorized", "Log in and send the session token "
			"as \"Authorization: Bearer TOKEN\".");
		return -1;
	}
	auth += 7;
	if (strlen(auth) >= sizeof(ctx->token) ||
	    sessions_lookup(ctx->app->db, auth, &session) < 0) {
		route_reply_unauthorized(ctx, "invalid_token",
			"The session token is invalid, expired or revoked; log in again.");
		return -1;
	}
	snprintf(ctx->token, sizeof(ctx->token), "%s", auth);
	rc = accounts_get_by_id(ctx->app->db, session.user_id, &ctx->user);
	if (rc < 0 || ctx->user.disabled) {
		route_reply_unauthorized(ctx, "invalid_token",
			"The session token is invalid, expired or revoked; log in again.");
		return -1;
	}
	if ((role_bit(ctx->user.role) & ctx->match.route->roles) == 0) {
		cloud_reply_error(ctx->req, 403, "forbidden",
			"Your role does not allow this request.");
		return -1;
	}
	return 0;
}

/* Matches the route and replies 404 (also for an undecodable path) or 405
 * when there is none.  Returns 0 or -1. */
static int route_find(struct route_ctx *ctx)
{
	char allow[64];
	int rc;

	rc = cloud_router_match(cloud_request_method(ctx->req), cloud_request_path(ctx->req),
		&ctx->match, allow, sizeof(allow));
	if (rc == SONO_ESTATE) {
		cloud_reply_header(ctx->req, "Allow", allow);
		cloud_reply_error(ctx->req, 405, "method_not_allowed",
			"This path does not accept that method; see the Allow header.");
		return -1;
	}
	if (rc < 0) {
		cloud_reply_error(ctx->req, 404, "not_found", "There is no such resource.");
		return -1;
	}
	cloud_request_set_label(ctx->req, ctx->match.route->pattern);
	return 0;
}

/* Runs on a storage thread: the session look-up, the role check and the
 * handler of an authenticated route.  These handlers never defer again. */
static void route_storage_work(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = arg;

	if (route_authenticate(ctx) == 0 &&
	    handlers[ctx->match.route->id](ctx) == ROUTE_DEFERRED) {
		LOG_ERROR("%s: the handler deferred from a storage thread, which is not supported",
			ctx->match.route->pattern);
		cloud_reply_error(r, 500, "internal_error", "The server could not complete the request.");
	}
	route_ctx_free(ctx);
}

void cloud_routes_handle(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cloud_reply_error(r, 500, "internal_error", "The server is out of memory.");
		return;
	}
	ctx->app = arg;
	ctx->req = r;
	if (route_find(ctx) < 0 || route_check_body(ctx) < 0)
		goto out;

	/* Every authenticated route reads the database, which may wait for a
	 * lock or the disk, so it runs on the storage pool.  Public routes
	 * that touch the database run their work on the password pool. */
	if (ctx->match.route->roles != 0) {
		if (cloud_request_defer(r, CLOUD_POOL_STORAGE, route_storage_work, ctx) == 0)
			return;
		cloud_reply_header(r, "Retry-After", "5");
		cloud_reply_error(r, 503, "busy", "The server is busy; try again in a few seconds.");
		goto out;
	}
	if (handlers[ctx->match.route->id](ctx) == ROUTE_DEFERRED)
		return;
out:
	route_ctx_free(ctx);
}
