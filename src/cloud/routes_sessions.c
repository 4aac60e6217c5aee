/* POST /api/v1/sessions (login) and DELETE /api/v1/sessions/current. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/audit.h"
#include "cloud/json_body.h"
#include "cloud/routes.h"

/* The one message for an unknown user, a wrong password, a disabled
 * account and an account still waiting for enrolment, so a client cannot
 * tell which names exist. */
#define LOGIN_FAILED_MESSAGE "The user name or password is wrong."

static void login_reply_session(struct route_ctx *ctx, const struct account *user)
{
	char token[SESSIONS_TOKEN_HEX_LEN];
	int64_t expires_at = 0;
	json_t *body;
	int rc;

	rc = sessions_create(ctx->app->db, user->id, &ctx->app->limits, token, &expires_at);
	if (rc < 0) {
		route_reply_code(ctx, rc, "");
		return;
	}
	body = json_pack("{s:s, s:I, s:{s:s, s:s, s:s}}", "token", token,
		"expires_at", (json_int_t)expires_at, "user", "name", user->name,
		"email", user->email, "role", accounts_role_name(user->role));
	crypto_wipe(token, sizeof(token));
	if (body == NULL) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return;
	}
	cloud_reply_json(ctx->req, 201, body);
	json_decref(body);
	LOG_INFO("user %s logged in from %s", user->name, cloud_request_peer(ctx->req));
}

/* Runs on a password pool thread: the PBKDF2 check, then the session. */
static void login_work(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = arg;
	const char *name = json_string_value(json_object_get(ctx->body, "username"));
	struct account user;
	int64_t locked_until = 0, wait;
	char text[96];
	int rc;

	rc = accounts_login(ctx->app->db, name, ctx->secret, cloud_request_peer(r), &user,
		&locked_until);
	if (rc == SONO_ESTATE) {
		wait = locked_until - db_now();
		if (wait < 1)
			wait = 1;
		snprintf(text, sizeof(text), "%lld", (long long)wait);
		cloud_reply_header(r, "Retry-After", text);
		snprintf(text, sizeof(text), "Too many failed logins. Try again in %lld seconds.",
			(long long)wait);
		cloud_reply_error(r, 429, "too_many_attempts", text);
	} else if (rc == SONO_EAUTH) {
		cloud_reply_error(r, 401, "invalid_credentials", LOGIN_FAILED_MESSAGE);
	} else if (rc < 0) {
		route_reply_code(ctx, rc, "");
	} else {
		login_reply_session(ctx, &user);
	}
	route_ctx_free(ctx);
}

int routes_session_create(struct route_ctx *ctx)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_login login;
	int rc;

	rc = json_body_login(ctx->body, &login, reason, sizeof(reason));
	cloud_request_wipe_body(ctx->req);
	if (rc < 0) {
		cloud_reply_error(ctx->req, 400, "invalid_body", reason);
		return ROUTE_DONE;
	}
	if (route_keep_secret(ctx, login.password) < 0) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return ROUTE_DONE;
	}
	crypto_wipe((char *)login.password, strlen(login.password));
	if (cloud_request_defer(ctx->req, CLOUD_POOL_PASSWORD, login_work, ctx) < 0) {
		cloud_reply_header(ctx->req, "Retry-After", "5");
		cloud_reply_error(ctx->req, 503, "busy",
			"Too many logins are waiting; try again in a few seconds.");
		return ROUTE_DONE;
	}
	return ROUTE_DEFERRED;
}

int routes_session_delete(struct route_ctx *ctx)
{
	int rc = sessions_revoke(ctx->app->db, ctx->token);

	if (rc < 0 && rc != SONO_ENOTFOUND) {
		route_reply_code(ctx, rc, "");
		return ROUTE_DONE;
	}
	audit_write(ctx->app->db, ctx->user.name, "session.revoke", ctx->user.name,
		cloud_request_peer(ctx->req), "ok");
	cloud_reply(ctx->req, 204, NULL, NULL, 0);
	return ROUTE_DONE;
}
