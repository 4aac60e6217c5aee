/* POST /api/v1/password-resets (request a reset link by mail) and
 * POST /api/v1/password-resets/{token} (set the password with a link's
 * token).  Both run on the password pool: completing a reset hashes the
 * new password, and running requests there too keeps their timing from
 * telling whether an account exists. */
#include "config.h"

#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/json_body.h"
#include "cloud/resets.h"
#include "cloud/routes.h"

/* Replies {"message": message} with status, or an empty body when the
 * JSON cannot be built. */
static void reply_message(struct cloud_request *r, int status, const char *message)
{
	json_t *body = json_pack("{s:s}", "message", message);

	if (body != NULL)
		cloud_reply_json(r, status, body);
	else
		cloud_reply(r, status, NULL, NULL, 0);
	json_decref(body);
}

/* Replies 503 with Retry-After: 5, for a request the password pool cannot take. */
static void reply_busy(struct cloud_request *r)
{
	cloud_reply_header(r, "Retry-After", "5");
	cloud_reply_error(r, 503, "busy", "The server is busy; try again in a few seconds.");
}

static void reset_request_work(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = arg;
	struct resets_mail mail = { ctx->app->outbox_dir, ctx->app->public_host, NULL };
	int rc;

	rc = resets_request(ctx->app->db, &mail, ctx->secret, cloud_request_peer(r));
	if (rc < 0)
		LOG_ERROR("password reset request from %s failed: %s", cloud_request_peer(r),
			sono_strerror(rc));
	/* 202 in every case, so the reply never reveals whether the account exists. */
	reply_message(r, 202, "If the account exists, a reset link was sent to its address.");
	route_ctx_free(ctx);
}

int routes_reset_request(struct route_ctx *ctx)
{
	char reason[JSON_BODY_REASON_MAX];
	const char *who = NULL;
	int rc;

	rc = json_body_reset_request(ctx->body, &who, reason, sizeof(reason));
	if (rc < 0) {
		cloud_reply_error(ctx->req, 400, "invalid_body", reason);
		return ROUTE_DONE;
	}
	if (route_keep_secret(ctx, who) < 0 ||
	    cloud_request_defer(ctx->req, CLOUD_POOL_PASSWORD, reset_request_work, ctx) < 0) {
		reply_busy(ctx->req);
		return ROUTE_DONE;
	}
	return ROUTE_DEFERRED;
}

/* Sets the password for ctx->match.token; shared by the API route and the
 * reset page.  Returns 0, or a negative SONO_E* code with a reason for the
 * user in reason. */
int routes_reset_complete(struct route_ctx *ctx, char *reason, size_t reasonlen)
{
	int64_t user_id = 0;
	int rc;

	rc = resets_complete(ctx->app->db, ctx->match.token, ctx->secret,
		cloud_request_peer(ctx->req), &user_id, reason, reasonlen);
	if (rc == SONO_EAUTH)
		snprintf(reason, reasonlen,
			"The reset link is invalid, expired or already used; request a new one.");
	else if (rc == 0)
		LOG_NOTICE("password set through a reset link for user id %lld from %s",
			(long long)user_id, cloud_request_peer(ctx->req));
	else if (rc != SONO_EINVAL)
		snprintf(reason, reasonlen, "The password could not be set; try again later.");
	return rc;
}

static void reset_use_work(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = arg;
	char reason[ACCOUNTS_REASON_MAX];
	int rc;

	rc = routes_reset_complete(ctx, reason, sizeof(reason));
	if (rc == SONO_EAUTH) {
		cloud_reply_error(r, 400, "invalid_token", reason);
	} else if (rc == SONO_EINVAL) {
		cloud_reply_error(r, 422, "password_rejected", reason);
	} else if (rc < 0) {
		route_reply_code(ctx, rc, reason);
	} else {
		reply_message(r, 200, "The password is set; log in with it.");
	}
	route_ctx_free(ctx);
}

int routes_reset_use(struct route_ctx *ctx)
{
	char reason[JSON_BODY_REASON_MAX];
	const char *password = NULL;
	int rc;

	rc = json_body_reset_use(ctx->body, &password, reason, sizeof(reason));
	cloud_request_wipe_body(ctx->req);
	if (rc < 0) {
		cloud_reply_error(ctx->req, 400, "invalid_body", reason);
		return ROUTE_DONE;
	}
	rc = route_keep_secret(ctx, password);
	crypto_wipe((char *)password, strlen(password));
	if (rc < 0 || cloud_request_defer(ctx->req, CLOUD_POOL_PASSWORD, reset_use_work, ctx) < 0) {
		reply_busy(ctx->req);
		return ROUTE_DONE;
	}
	return ROUTE_DEFERRED;
}
