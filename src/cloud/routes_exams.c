/* Exam routes: create, put part, commit, list and get.  The storage layer
 * (exams.c) enforces ownership and writes the audit rows; these handlers
 * translate HTTP to its calls and its codes back to statuses. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/exams.h"
#include "cloud/json_body.h"
#include "cloud/routes.h"

#define EXAM_NOT_FOUND "There is no exam with this UUID for your account."

int routes_exam_create(struct route_ctx *ctx)
{
	char reason[JSON_BODY_REASON_MAX];
	struct json_exam exam;
	char *phi = NULL;
	json_t *body;
	int rc, created = 0;

	rc = json_body_exam(ctx->body, &exam, reason, sizeof(reason));
	if (rc < 0) {
		cloud_reply_error(ctx->req, 400, "invalid_body", reason);
		return ROUTE_DONE;
	}
	phi = json_body_exam_phi(&exam);
	if (phi == NULL) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return ROUTE_DONE;
	}
	rc = exams_create(ctx->app->db, &ctx->user, cloud_request_peer(ctx->req), exam.uuid, phi,
		&created);
	crypto_wipe(phi, strlen(phi));
	free(phi);
	if (rc == SONO_ENOTFOUND) {
		/* Another account owns the UUID.  The reply reveals nothing more. */
		cloud_reply_error(ctx->req, 409, "conflict", "This exam UUID is already in use.");
		return ROUTE_DONE;
	}
	if (rc < 0) {
		route_reply_code(ctx, rc, "The exam was rejected: its UUID or patient data is invalid.");
		return ROUTE_DONE;
	}
	body = json_pack("{s:s, s:s}", "uuid", exam.uuid, "state", created ? "created" : "exists");
	if (body != NULL)
		cloud_reply_json(ctx->req, created ? 201 : 200, body);
	else
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
	json_decref(body);
	return ROUTE_DONE;
}

/* Reads the X-Content-SHA256 header into sha.  Returns 0, or -1 after
 * setting a 400 response. */
static int part_read_hash(struct route_ctx *ctx, uint8_t sha[CRYPTO_SHA256_LEN])
{
	const char *hex = cloud_request_header(ctx->req, "X-Content-SHA256");

	if (hex == NULL || strlen(hex) != 2 * CRYPTO_SHA256_LEN ||
	    crypto_unhex(hex, sha, CRYPTO_SHA256_LEN) < 0) {
		cloud_reply_error(ctx->req, 400, "invalid_hash",
			"Send the part's SHA-256 as 64 hex digits in the X-Content-SHA256 header.");
		return -1;
	}
	return 0;
}

static void part_reply(struct route_ctx *ctx, size_t len, const uint8_t sha[CRYPTO_SHA256_LEN])
{
	char hex[CRYPTO_SHA256_HEX_LEN];
	json_t *body;

	crypto_hex(sha, CRYPTO_SHA256_LEN, hex);
	body = json_pack("{s:s, s:i, s:I, s:s}", "uuid", ctx->match.uuid,
		"n", (int)ctx->match.part, "size", (json_int_t)len, "sha256", hex);
	if (body != NULL)
		cloud_reply_json(ctx->req, 200, body);
	else
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
	json_decref(body);
}

int routes_part_put(struct route_ctx *ctx)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	const uint8_t *data;
	size_t len;
	int rc;

	if (part_read_hash(ctx, sha) < 0)
		return ROUTE_DONE;
	rc = cloud_request_body(ctx->req, &data, &len);
	if (rc < 0) {
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
		return ROUTE_DONE;
	}
	if (len > EXAMS_PART_MAX) {
		cloud_reply_error(ctx->req, 413, "too_large", "The part is larger than allowed.");
		return ROUTE_DONE;
	}
	rc = exams_put_part(ctx->app->db, &ctx->user, cloud_request_peer(ctx->req),
		ctx->match.uuid, ctx->match.part, data, len, sha);
	if (rc == SONO_EINVAL)
		cloud_reply_error(ctx->req, 422, "hash_mismatch",
			"The part's SHA-256 does not match X-Content-SHA256; send it again.");
	else if (rc == SONO_ESTATE)
		cloud_reply_error(ctx->req, 409, "conflict",
			"The exam is committed and this part differs from the stored one.");
	else if (rc < 0)
		route_reply_code(ctx, rc, EXAM_NOT_FOUND);
	else
		part_reply(ctx, len, sha);
	return ROUTE_DONE;
}

int routes_exam_commit(struct route_ctx *ctx)
{
	json_t *receipt = NULL;
	int rc;

	rc = exams_commit(ctx->app->db, &ctx->user, cloud_request_peer(ctx->req),
		ctx->match.uuid, &receipt);
	if (rc == SONO_ESTATE) {
		cloud_reply_error(ctx->req, 409, "no_parts", "Put at least one part before committing.");
		return ROUTE_DONE;
	}
	if (rc < 0) {
		route_reply_code(ctx, rc, EXAM_NOT_FOUND);
		return ROUTE_DONE;
	}
	/* The API names the exam "uuid" in every body; storage names it "exam". */
	if (json_object_get(receipt, "uuid") == NULL)
		json_object_set_new(receipt, "uuid", json_string(ctx->match.uuid));
	cloud_reply_json(ctx->req, 200, receipt);
	json_decref(receipt);
	LOG_INFO("exam %s committed by %s", ctx->match.uuid, ctx->user.name);
	return ROUTE_DONE;
}

int routes_exam_list(struct route_ctx *ctx)
{
	json_t *list = NULL, *body;
	int rc;

	rc = exams_list(ctx->app->db, &ctx->user, cloud_request_peer(ctx->req), &list);
	if (rc < 0) {
		route_reply_code(ctx, rc, "Your role does not allow listing exams.");
		return ROUTE_DONE;
	}
	body = json_pack("{s:o}", "exams", list);
	if (body != NULL)
		cloud_reply_json(ctx->req, 200, body);
	else
		cloud_reply_error(ctx->req, 500, "internal_error", "The server is out of memory.");
	json_decref(body);
	return ROUTE_DONE;
}

int routes_exam_get(struct route_ctx *ctx)
{
	json_t *exam = NULL;
	int rc;

	rc = exams_get(ctx->app->db, &ctx->user, cloud_request_peer(ctx->req), ctx->match.uuid,
		&exam);
	if (rc < 0) {
		route_reply_code(ctx, rc, EXAM_NOT_FOUND);
		return ROUTE_DONE;
	}
	cloud_reply_json(ctx->req, 200, exam);
	json_decref(exam);
	return ROUTE_DONE;
}
