/* GET /api/v1/me, /api/v1/scanners and /api/v1/settings. */
#include "config.h"

#include "sono/error.h"
#include "cloud/routes.h"
#include "cloud/scanners.h"
#include "cloud/settings.h"

int routes_me(struct route_ctx *ctx)
{
	const struct account *u = &ctx->user;
	json_t *body = json_pack("{s:s, s:s, s:s, s:I}", "name", u->name, "email", u->email,
		"role", accounts_role_name(u->role), "created_at", (json_int_t)u->created_at);

	if (body == NULL) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return ROUTE_DONE;
	}
	cloud_reply_json(ctx->req, 200, body);
	json_decref(body);
	return ROUTE_DONE;
}

int routes_scanners(struct route_ctx *ctx)
{
	json_t *list = NULL, *body;
	int rc;

	rc = scanners_for_user(ctx->app->db, ctx->user.id, &list);
	if (rc < 0) {
		route_reply_code(ctx, rc, "");
		return ROUTE_DONE;
	}
	body = json_pack("{s:o}", "scanners", list);
	if (body == NULL) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return ROUTE_DONE;
	}
	cloud_reply_json(ctx->req, 200, body);
	json_decref(body);
	return ROUTE_DONE;
}

int routes_settings(struct route_ctx *ctx)
{
	json_t *settings = NULL;
	int rc;

	rc = settings_get_all(ctx->app->db, &settings);
	if (rc < 0) {
		route_reply_code(ctx, rc, "");
		return ROUTE_DONE;
	}
	cloud_reply_json(ctx->req, 200, settings);
	json_decref(settings);
	return ROUTE_DONE;
}
