/* Request handling behind the router: authentication, role checks, body
 * checks and the handlers of each route, split by concept into
 * routes_sessions.c, routes_info.c, routes_exams.c, routes_resets.c and
 * routes_pages.c. */
#ifndef SONO_CLOUD_ROUTES_H
#define SONO_CLOUD_ROUTES_H

#include <stddef.h>
#include <jansson.h>

#include "cloud/accounts.h"
#include "cloud/db.h"
#include "cloud/http.h"
#include "cloud/router.h"
#include "cloud/sessions.h"

/* Server state that every handler reads; nothing writes it while the
 * server runs. */
struct cloud_app {
	struct db *db;
	const char *outbox_dir;       /* Maildir folder for reset and enrolment mail */
	const char *public_host;      /* HOST[:PORT] in links sent by mail */
	struct sessions_limits limits;
};

/* One request on its way through a handler.  Owned by the dispatcher until
 * a handler defers; then the deferred work frees it with route_ctx_free. */
struct route_ctx {
	struct cloud_app *app;
	struct cloud_request *req;
	struct cloud_route_match match;
	struct account user;                 /* valid when the route has roles */
	char token[SESSIONS_TOKEN_HEX_LEN];  /* the bearer token, wiped on free */
	json_t *body;                        /* parsed JSON body, or NULL */
	char *secret;                        /* a password copied for deferred work, wiped */
};

/* A handler returns ROUTE_DONE when it set the response, or ROUTE_DEFERRED
 * when it passed ctx to cloud_request_defer.  Handlers of routes with roles
 * run on a storage thread and must return ROUTE_DONE; public handlers run
 * on an event loop and defer any database or password work. */
enum { ROUTE_DONE = 0, ROUTE_DEFERRED = 1 };

typedef int (*route_handler)(struct route_ctx *ctx);

/* evhttp-independent entry point: the cloud_http_handler of the server.
 * arg is the struct cloud_app. */
void cloud_routes_handle(struct cloud_request *r, void *arg);

/* The server's head_check: cloud_router_check_head. */
enum cloud_head_decision cloud_routes_check_head(const struct cloud_request_head *head,
	size_t max_body, struct cloud_rejection *rejection, void *arg);

/* The server's head_work, on a storage thread: rejects the head with 401
 * unless its bearer token is a live session (a SHA-256 and one look-up,
 * never a password hash), or 500 when the look-up fails.  arg is the
 * struct cloud_app. */
void cloud_routes_check_session(const struct cloud_request_head *head,
	struct cloud_rejection *rejection, void *arg);

/* Frees ctx, wiping the token and any copied secret; accepts NULL. */
void route_ctx_free(struct route_ctx *ctx);

/* Replies with the HTTP status and error code for a SONO_E* result of a
 * storage call: 404 for SONO_ENOTFOUND, 403 for SONO_EAUTH, 409 for
 * SONO_ESTATE, 413 for SONO_ETOOBIG, 400 for SONO_EINVAL, else 500.
 * message is used for 4xx replies; a 500 gets a fixed message. */
void route_reply_code(struct route_ctx *ctx, int rc, const char *message);

/* Copies a string into ctx->secret for deferred work.  Returns 0 or
 * SONO_ENOMEM. */
int route_keep_secret(struct route_ctx *ctx, const char *secret);

/* Sets the password for ctx->match.token with the password in ctx->secret;
 * shared by the API route and the reset page, and run on a password pool
 * thread.  Returns 0, or a negative SONO_E* code (SONO_EAUTH for a bad
 * token, SONO_EINVAL for a rejected password) with a reason for the user. */
int routes_reset_complete(struct route_ctx *ctx, char *reason, size_t reasonlen);

/* Handlers, one per route id. */
int routes_session_create(struct route_ctx *ctx);
int routes_session_delete(struct route_ctx *ctx);
int routes_me(struct route_ctx *ctx);
int routes_scanners(struct route_ctx *ctx);
int routes_settings(struct route_ctx *ctx);
int routes_exam_create(struct route_ctx *ctx);
int routes_exam_list(struct route_ctx *ctx);
int routes_exam_get(struct route_ctx *ctx);
int routes_part_put(struct route_ctx *ctx);
int routes_exam_commit(struct route_ctx *ctx);
int routes_reset_request(struct route_ctx *ctx);
int routes_reset_use(struct route_ctx *ctx);
int routes_page_index(struct route_ctx *ctx);
int routes_page_reset(struct route_ctx *ctx);
int routes_page_reset_post(struct route_ctx *ctx);

#endif
