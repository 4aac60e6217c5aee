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

	/* The gate (cloud_routes_check_head) has rejected bodies over the
	 * route's limit, and bodies without a live session on routes that need
	 * one, before evhttp read them. */
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

/* Finds the session of the bearer token and the user behind it, then checks
 * the route's roles.  Returns 0, or -1 after setting the error response. */
static int route_authenticate(struct route_ctx *ctx)
{
	const char *auth = cloud_request_header(ctx->req, "Authorization");
	struct cloud_rejection rejection;
	struct session session;
	const char *token;
	int rc;

	token = cloud_router_bearer(auth, &rejection);
	if (token == NULL) {
		cloud_reply_rejection(ctx->req, &rejection);
		return -1;
	}
	if (sessions_lookup(ctx->app->db, token, &session) < 0) {
		cloud_router_reject_session(&rejection);
		cloud_reply_rejection(ctx->req, &rejection);
		return -1;
	}
	snprintf(ctx->token, sizeof(ctx->token), "%s", token);
	rc = accounts_get_by_id(ctx->app->db, session.user_id, &ctx->user);
	if (rc < 0 || ctx->user.disabled) {
		cloud_router_reject_session(&rejection);
		cloud_reply_rejection(ctx->req, &rejection);
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
	struct cloud_rejection rejection;
	char allow[64];
	int rc;

	rc = cloud_router_match(cloud_request_method(ctx->req), cloud_request_path(ctx->req),
		&ctx->match, allow, sizeof(allow));
	if (rc < 0) {
		cloud_router_reject_match(rc, allow, &rejection);
		cloud_reply_rejection(ctx->req, &rejection);
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

enum cloud_head_decision cloud_routes_check_head(const struct cloud_request_head *head,
	size_t max_body, struct cloud_rejection *rejection, void *arg)
{
	return cloud_router_check_head(head, max_body, rejection);
}

void cloud_routes_check_session(const struct cloud_request_head *head,
	struct cloud_rejection *rejection, void *arg)
{
	struct cloud_app *app = arg;
	struct session session;
	const char *token = cloud_router_bearer(head->authorization, rejection);
	int rc;

	if (token == NULL)
		return;
	rc = sessions_lookup(app->db, token, &session);
	if (rc == SONO_EAUTH) {
		cloud_router_reject_session(rejection);
	} else if (rc < 0) {
		LOG_ERROR("cannot look up a session before reading a request body: %s",
			sono_strerror(rc));
		cloud_rejection_set(rejection, 500, "internal_error",
			"The server could not check the session; try again later.");
	}
}
