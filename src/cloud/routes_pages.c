/* The browser pages: a start page at / and the password page at
 * /reset?token=..., whose form posts to /reset.  They are deliberately
 * plain HTML without scripts, so the Content-Security-Policy can forbid
 * every script. */
#include "config.h"

#include <string.h>

#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "cloud/routes.h"

#define PAGE_MAX (16 * 1024)

#define PAGE_HEAD "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" \
	"<meta name=\"viewport\" content=\"width=device-width\">" \
	"<title>Sonocloud</title></head><body>\n"
#define PAGE_TAIL "</body></html>\n"

/* Appends s with &, <, >, " and ' escaped for HTML text and attributes. */
static int html_escape(struct sbuf *b, const char *s)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		switch (*s) {
		case '&': rc = sbuf_append_str(b, "&amp;"); break;
		case '<': rc = sbuf_append_str(b, "&lt;"); break;
		case '>': rc = sbuf_append_str(b, "&gt;"); break;
		case '"': rc = sbuf_append_str(b, "&quot;"); break;
		case '\'': rc = sbuf_append_str(b, "&#39;"); break;
		default: rc = sbuf_append(b, s, 1); break;
		}
	}
	return rc;
}

/* Replies with a page made of a heading and one paragraph of text. */
static void page_message(struct cloud_request *r, int status, const char *title, const char *text)
{
	struct sbuf b;
	int rc;

	sbuf_init(&b, PAGE_MAX);
	rc = sbuf_append_str(&b, PAGE_HEAD "<h1>");
	if (rc == 0)
		rc = html_escape(&b, title);
	if (rc == 0)
		rc = sbuf_append_str(&b, "</h1>\n<p>");
	if (rc == 0)
		rc = html_escape(&b, text);
	if (rc == 0)
		rc = sbuf_append_str(&b, "</p>\n" PAGE_TAIL);
	if (rc == 0)
		cloud_reply(r, status, "text/html; charset=utf-8", b.data, b.len);
	else
		cloud_reply(r, 500, NULL, NULL, 0);
	sbuf_free(&b);
}

int routes_page_index(struct route_ctx *ctx)
{
	page_message(ctx->req, 200, "Sonocloud",
		"This server stores ultrasound exams for Sonoterm stations. Stations use its API "
		"under /api/v1; to set a password, open the link in your enrolment or reset mail.");
	return ROUTE_DONE;
}

/* Returns 1 when token is a plausible reset token: the alphabet and length
 * the router accepts for /api/v1/password-resets/{token}. */
static int page_token_valid(const char *token)
{
	size_t n = token ? strlen(token) : 0;

	return n > 0 && n <= ROUTER_TOKEN_MAX && strspn(token,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

int routes_page_reset(struct route_ctx *ctx)
{
	const char *token = cloud_request_query(ctx->req, "token");
	struct sbuf b;
	int rc;

	if (!page_token_valid(token)) {
		page_message(ctx->req, 400, "Invalid link",
			"This reset link is incomplete. Open the whole link from the mail.");
		return ROUTE_DONE;
	}
	sbuf_init(&b, PAGE_MAX);
	rc = sbuf_printf(&b, PAGE_HEAD "<h1>Set your password</h1>\n"
		"<p>Choose a password of %d to %d characters. A passphrase of several unrelated "
		"words is easy to remember and hard to guess.</p>\n"
		"<form method=\"post\" action=\"/reset\">\n"
		"<input type=\"hidden\" name=\"token\" value=\"%s\">\n"
		"<label>New password <input type=\"password\" name=\"password\" minlength=\"%d\" "
		"maxlength=\"%d\" autocomplete=\"new-password\" required></label>\n"
		"<button type=\"submit\">Set password</button>\n</form>\n" PAGE_TAIL,
		ACCOUNTS_PASSWORD_MIN, ACCOUNTS_PASSWORD_MAX, token, ACCOUNTS_PASSWORD_MIN,
		ACCOUNTS_PASSWORD_MAX);
	if (rc == 0)
		cloud_reply(ctx->req, 200, "text/html; charset=utf-8", b.data, b.len);
	else
		cloud_reply(ctx->req, 500, NULL, NULL, 0);
	sbuf_free(&b);
	return ROUTE_DONE;
}

static void page_reset_work(struct cloud_request *r, void *arg)
{
	struct route_ctx *ctx = arg;
	char reason[ACCOUNTS_REASON_MAX];
	int rc;

	rc = routes_reset_complete(ctx, reason, sizeof(reason));
	if (rc == 0)
		page_message(r, 200, "Password set", "Your password is set. Log in on your station.");
	else
		page_message(r, rc == SONO_EINVAL ? 422 : 400, "Password not set", reason);
	route_ctx_free(ctx);
}

int routes_page_reset_post(struct route_ctx *ctx)
{
	const char *token = cloud_request_form(ctx->req, "token");
	const char *password = cloud_request_form(ctx->req, "password");

	if (!page_token_valid(token) || password == NULL || password[0] == '\0' ||
	    strlen(password) > ACCOUNTS_PASSWORD_MAX_BYTES) {
		page_message(ctx->req, 400, "Password not set",
			"The form was incomplete. Open the link from the mail again.");
		return ROUTE_DONE;
	}
	memcpy(ctx->match.token, token, strlen(token) + 1);
	if (route_keep_secret(ctx, password) < 0 ||
	    cloud_request_defer(ctx->req, CLOUD_POOL_PASSWORD, page_reset_work, ctx) < 0) {
		page_message(ctx->req, 503, "Busy", "The server is busy. Try again in a minute.");
		return ROUTE_DONE;
	}
	return ROUTE_DEFERRED;
}
