/* Exam storage with resumable, idempotent uploads (see exams.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "cloud/audit.h"
#include "cloud/exams.h"
#include "sono/error.h"
#include "sono/log.h"

#define ZSTD_LEVEL 3

enum exam_state {
	EXAM_OPEN,
	EXAM_COMMITTED,
};

struct exam_row {
	int64_t id;
	int64_t owner_id;
	enum exam_state state;
	int found;
};

static int exam_row_cb(void *arg, const struct db_value *c, size_t n)
{
	struct exam_row *e = arg;

	if (n != 3 || c[2].type != DB_TEXT)
		return SONO_EDB;
	e->id = c[0].i;
	e->owner_id = c[1].i;
	e->state = strcmp(c[2].text, "committed") == 0 ? EXAM_COMMITTED : EXAM_OPEN;
	e->found = 1;
	return 1;
}

/* Returns 1 when caller may see the exam: its owning clinician, or an observer
 * once it is committed. */
static int may_see(const struct account *caller, const struct exam_row *e)
{
	if (caller->role == ROLE_CLINICIAN)
		return e->owner_id == caller->id;
	if (caller->role == ROLE_OBSERVER)
		return e->state == EXAM_COMMITTED;
	return 0;
}

/* Loads the exam uuid as seen by caller.  Returns 0, SONO_EINVAL for a
 * malformed uuid, SONO_ENOTFOUND when it is missing or hidden from caller. */
static int load_exam(struct db *db, const struct account *caller, const char *uuid,
	struct exam_row *e)
{
	struct db_value v = DB_V_TEXT(uuid);
	int rc;

	memset(e, 0, sizeof(*e));
	if (uuid == NULL || !crypto_uuid_valid(uuid))
		return SONO_ENOTFOUND;
	rc = db_exec(db, "SELECT id, owner_id, state FROM exams WHERE uuid = ?", &v, 1,
		exam_row_cb, e);
	if (rc == SONO_OK && (!e->found || !may_see(caller, e)))
		rc = SONO_ENOTFOUND;
	return rc;
}

/* Parses and re-serialises the PHI object compactly, so what is stored is
 * known to be one JSON object.  *out (NULL for no PHI) is freed with free(). */
static int normalise_phi(const char *phi_json, char **out)
{
	json_error_t jerr;
	json_t *obj;

	*out = NULL;
	if (phi_json == NULL)
		return SONO_OK;
	if (strlen(phi_json) > EXAMS_PHI_MAX)
		return SONO_ETOOBIG;
	obj = json_loads(phi_json, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		return SONO_EINVAL;
	}
	*out = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return *out ? SONO_OK : SONO_ENOMEM;
}

static int insert_exam(struct db *db, const struct account *caller, const char *uuid,
	const char *phi)
{
	struct db_value v[4] = {
		DB_V_TEXT(uuid), DB_V_INT(caller->id), DB_V_TEXT(phi), DB_V_INT(db_now()),
	};

	return db_exec(db, "INSERT INTO exams (uuid, owner_id, phi, state, created_at)"
		" VALUES (?, ?, ?, 'open', ?)", v, 4, NULL, NULL);
}

int exams_create(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, const char *phi_json, int *created)
{
	struct exam_row e;
	char *phi = NULL;
	struct db_value v = DB_V_TEXT(uuid);
	int rc, is_new = 0;

	if (caller->role != ROLE_CLINICIAN)
		return SONO_EAUTH;
	if (uuid == NULL || !crypto_uuid_valid(uuid))
		return SONO_EINVAL;
	rc = normalise_phi(phi_json, &phi);
	if (rc != SONO_OK)
		return rc == SONO_ETOOBIG ? rc : SONO_EINVAL;
	rc = db_begin(db);
	if (rc != SONO_OK)
		goto out;
	memset(&e, 0, sizeof(e));
	rc = db_exec(db, "SELECT id, owner_id, state FROM exams WHERE uuid = ?", &v, 1,
		exam_row_cb, &e);
	if (rc == SONO_OK && e.found && e.owner_id != caller->id)
		rc = SONO_ENOTFOUND;
	if (rc == SONO_OK && !e.found) {
		rc = insert_exam(db, caller, uuid, phi);
		is_new = 1;
	}
	if (rc == SONO_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
out:
	if (rc == SONO_OK && is_new)
		audit_write(db, caller->name, "exam.create", uuid, addr, "ok");
	if (rc == SONO_OK && created != NULL)
		*created = is_new;
	if (phi != NULL)
		crypto_wipe(phi, strlen(phi));
	free(phi);
	return rc;
}

/* A part body ready for storage: compressed when that saves space. */
struct stored_body {
	const void *data;
	size_t len;
	const char *codec; /* "zstd" or "none" */
	void *owned;
};

static int compress_body(const void *body, size_t len, struct stored_body *out)
{
	size_t bound = ZSTD_compressBound(len), n;
	void *buf;

	out->data = body;
	out->len = len;
	out->codec = "none";
	out->owned = NULL;
	if (len == 0)
		return SONO_OK;
	buf = malloc(bound);
	if (buf == NULL)
		return SONO_ENOMEM;
	n = ZSTD_compress(buf, bound, body, len, ZSTD_LEVEL);
	if (ZSTD_isError(n) || n >= len) {
		free(buf);
		return SONO_OK;
	}
	out->data = buf;
	out->len = n;
	out->codec = "zstd";
	out->owned = buf;
	return SONO_OK;
}

struct part_row {
	int found;
	uint8_t sha256[CRYPTO_SHA256_LEN];
};

static int part_hash_cb(void *arg, const struct db_value *c, size_t n)
{
	struct part_row *p = arg;

	if (n != 1 || c[0].type != DB_BLOB || c[0].len != CRYPTO_SHA256_LEN)
		return SONO_EDB;
	memcpy(p->sha256, c[0].blob, CRYPTO_SHA256_LEN);
	p->found = 1;
	return 1;
}

/* Inserts or replaces part n inside the caller's transaction, following the
 * idempotency rules in exams.h. */
static int store_part(struct db *db, const struct exam_row *e, unsigned n, size_t size,
	const uint8_t sha256[CRYPTO_SHA256_LEN], const struct stored_body *body)
{
	struct db_value key[2] = { DB_V_INT(e->id), DB_V_INT(n) };
	struct db_value v[7] = {
		DB_V_INT((int64_t)size), DB_V_BLOB(sha256, CRYPTO_SHA256_LEN),
		DB_V_TEXT(body->codec), DB_V_BLOB(body->data, body->len), DB_V_INT(db_now()),
		DB_V_INT(e->id), DB_V_INT(n),
	};
	struct part_row p = { 0 };
	int rc;

	rc = db_exec(db, "SELECT sha256 FROM exam_parts WHERE exam_id = ? AND n = ?", key, 2,
		part_hash_cb, &p);
	if (rc != SONO_OK)
		return rc;
	if (p.found && crypto_equal(p.sha256, sha256, CRYPTO_SHA256_LEN))
		return SONO_OK;
	if (e->state == EXAM_COMMITTED)
		return SONO_ESTATE;
	if (p.found)
		return db_exec(db, "UPDATE exam_parts SET size = ?, sha256 = ?, codec = ?, body = ?,"
			" stored_at = ? WHERE exam_id = ? AND n = ?", v, 7, NULL, NULL);
	return db_exec(db, "INSERT INTO exam_parts (size, sha256, codec, body, stored_at,"
		" exam_id, n) VALUES (?, ?, ?, ?, ?, ?, ?)", v, 7, NULL, NULL);
}

int exams_put_part(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, unsigned n, const void *body, size_t len,
	const uint8_t sha256[CRYPTO_SHA256_LEN])
{
	uint8_t actual[CRYPTO_SHA256_LEN];
	struct stored_body stored = { 0 };
	struct exam_row e;
	int rc;

	if (caller->role != ROLE_CLINICIAN)
		return SONO_EAUTH;
	if (n < 1 || n > EXAMS_PARTS_MAX)
		return SONO_EINVAL;
	if (len > EXAMS_PART_MAX)
		return SONO_ETOOBIG;
	crypto_sha256(body, len, actual);
	if (!crypto_equal(actual, sha256, sizeof(actual)))
		return SONO_EINVAL;
	rc = compress_body(body, len, &stored);
	if (rc != SONO_OK)
		return rc;
	rc = db_begin(db);
	if (rc != SONO_OK)
		goto out;
	rc = load_exam(db, caller, uuid, &e);
	if (rc == SONO_OK)
		rc = store_part(db, &e, n, len, sha256, &stored);
	if (rc == SONO_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	audit_write(db, caller->name, "exam.part.write", uuid, addr, rc == SONO_OK ? "ok" : "failed");
out:
	free(stored.owned);
	return rc;
}

static int receipt_part_cb(void *arg, const struct db_value *c, size_t n)
{
	json_t *parts = arg;
	char hex[CRYPTO_SHA256_HEX_LEN];
	json_t *part;

	if (n != 3 || c[2].type != DB_BLOB || c[2].len != CRYPTO_SHA256_LEN)
		return SONO_EDB;
	crypto_hex(c[2].blob, CRYPTO_SHA256_LEN, hex);
	part = json_pack("{s:I, s:I, s:s}", "n", (json_int_t)c[0].i, "size", (json_int_t)c[1].i,
		"sha256", hex);
	if (part == NULL || json_array_append_new(parts, part) != 0)
		return SONO_ENOMEM;
	return 0;
}

/* Sets *parts to a new array [{n, size, sha256}] of exam id in part order. */
static int parts_json(struct db *db, int64_t exam_id, json_t **parts)
{
	struct db_value v = DB_V_INT(exam_id);
	int rc;

	*parts = json_array();
	if (*parts == NULL)
		return SONO_ENOMEM;
	rc = db_exec(db, "SELECT n, size, sha256 FROM exam_parts WHERE exam_id = ? ORDER BY n",
		&v, 1, receipt_part_cb, *parts);
	if (rc != SONO_OK) {
		json_decref(*parts);
		*parts = NULL;
	}
	return rc;
}

/* Marks the exam committed with a new receipt id unless it already is. */
static int freeze(struct db *db, const struct exam_row *e, char receipt_id[CRYPTO_UUID_LEN])
{
	struct db_value key = DB_V_INT(e->id);
	struct db_text_out out = { receipt_id, CRYPTO_UUID_LEN, 0 };
	int64_t count = 0;
	int rc;

	if (e->state == EXAM_COMMITTED)
		return db_exec(db, "SELECT receipt_id FROM exams WHERE id = ?", &key, 1,
			db_row_text, &out);
	rc = db_exec(db, "SELECT count(*) FROM exam_parts WHERE exam_id = ?", &key, 1,
		db_row_int, &count);
	if (rc == SONO_OK && count == 0)
		rc = SONO_ESTATE;
	if (rc == SONO_OK)
		rc = crypto_uuid(receipt_id);
	if (rc == SONO_OK) {
		struct db_value v[3] = { DB_V_INT(db_now()), DB_V_TEXT(receipt_id), DB_V_INT(e->id) };

		rc = db_exec(db, "UPDATE exams SET state = 'committed', committed_at = ?,"
			" receipt_id = ? WHERE id = ?", v, 3, NULL, NULL);
	}
	return rc;
}

int exams_commit(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, json_t **receipt)
{
	char receipt_id[CRYPTO_UUID_LEN];
	json_t *parts = NULL;
	struct exam_row e;
	int rc;

	*receipt = NULL;
	if (caller->role != ROLE_CLINICIAN)
		return SONO_EAUTH;
	rc = db_begin(db);
	if (rc != SONO_OK)
		return rc;
	rc = load_exam(db, caller, uuid, &e);
	if (rc == SONO_OK)
		rc = freeze(db, &e, receipt_id);
	if (rc == SONO_OK)
		rc = parts_json(db, e.id, &parts);
	if (rc == SONO_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (rc == SONO_OK) {
		*receipt = json_pack("{s:s, s:s, s:o}", "receipt_id", receipt_id, "exam", uuid,
			"parts", parts);
		rc = *receipt ? SONO_OK : SONO_ENOMEM;
		if (e.state == EXAM_OPEN)
			LOG_NOTICE("exam %s committed, receipt %s", uuid, receipt_id);
	} else {
		json_decref(parts);
	}
	if (rc != SONO_ENOTFOUND || crypto_uuid_valid(uuid))
		audit_write(db, caller->name, "exam.commit", uuid, addr, rc == SONO_OK ? "ok" : "failed");
	return rc;
}

#define SUMMARY_COLUMNS "e.uuid, e.state, e.created_at, e.committed_at, e.receipt_id," \
	" (SELECT count(*) FROM exam_parts p WHERE p.exam_id = e.id)," \
	" (SELECT coalesce(sum(size), 0) FROM exam_parts p WHERE p.exam_id = e.id), e.id"

struct summary_ctx {
	json_t *list;     /* exams_list appends here */
	json_t *single;      /* exams_get stores here */
	int with_phi;
	int64_t exam_id;
};

static int set_phi(json_t *exam, const struct db_value *phi)
{
	json_t *value;

	if (phi->type != DB_TEXT)
		return json_object_set_new(exam, "phi", json_null()) ? SONO_ENOMEM : SONO_OK;
	value = json_loadb(phi->text, phi->len, 0, NULL);
	if (value == NULL)
		return SONO_EDB;
	return json_object_set_new(exam, "phi", value) ? SONO_ENOMEM : SONO_OK;
}

/* Builds one summary object from SUMMARY_COLUMNS plus, for the owner, phi. */
static int summary_cb(void *arg, const struct db_value *c, size_t n)
{
	struct summary_ctx *ctx = arg;
	json_t *exam;
	int rc = SONO_OK;

	if (n < 8 || c[0].type != DB_TEXT || c[1].type != DB_TEXT)
		return SONO_EDB;
	exam = json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:I}", "uuid", c[0].text,
		"state", c[1].text, "created_at", (json_int_t)c[2].i,
		"committed_at", c[3].type == DB_INT ? json_integer(c[3].i) : json_null(),
		"receipt_id", c[4].type == DB_TEXT ? json_string(c[4].text) : json_null(),
		"parts", (json_int_t)c[5].i, "bytes", (json_int_t)c[6].i);
	if (exam == NULL)
		return SONO_ENOMEM;
	if (ctx->with_phi && n >= 9)
		rc = set_phi(exam, &c[8]);
	ctx->exam_id = c[7].i;
	if (rc == SONO_OK && ctx->list != NULL && json_array_append(ctx->list, exam) != 0)
		rc = SONO_ENOMEM;
	if (rc == SONO_OK && ctx->list == NULL) {
		ctx->single = exam;
		return 1;
	}
	json_decref(exam);
	return rc;
}

int exams_list(struct db *db, const struct account *caller, const char *addr, json_t **list)
{
	struct summary_ctx ctx = { 0 };
	struct db_value v = DB_V_INT(caller->id);
	int rc;

	*list = NULL;
	if (caller->role != ROLE_CLINICIAN && caller->role != ROLE_OBSERVER)
		return SONO_EAUTH;
	ctx.list = json_array();
	if (ctx.list == NULL)
		return SONO_ENOMEM;
	if (caller->role == ROLE_CLINICIAN) {
		ctx.with_phi = 1;
		rc = db_exec(db, "SELECT " SUMMARY_COLUMNS ", e.phi FROM exams e"
			" WHERE e.owner_id = ? ORDER BY e.created_at DESC, e.id DESC", &v, 1,
			summary_cb, &ctx);
	} else {
		rc = db_exec(db, "SELECT " SUMMARY_COLUMNS " FROM exams e"
			" WHERE e.state = 'committed' ORDER BY e.created_at DESC, e.id DESC", NULL, 0,
			summary_cb, &ctx);
	}
	audit_write(db, caller->name, "exam.list", ctx.with_phi ? "with-phi" : "without-phi", addr,
		rc == SONO_OK ? "ok" : "failed");
	if (rc != SONO_OK) {
		json_decref(ctx.list);
		return rc;
	}
	*list = ctx.list;
	return SONO_OK;
}

int exams_get(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, json_t **exam)
{
	struct summary_ctx ctx = { 0 };
	struct db_value v = DB_V_TEXT(uuid);
	json_t *parts = NULL;
	struct exam_row e;
	int rc;

	*exam = NULL;
	if (caller->role != ROLE_CLINICIAN && caller->role != ROLE_OBSERVER)
		return SONO_EAUTH;
	rc = load_exam(db, caller, uuid, &e);
	if (rc != SONO_OK)
		return rc;
	ctx.with_phi = caller->role == ROLE_CLINICIAN;
	rc = db_exec(db, "SELECT " SUMMARY_COLUMNS ", e.phi FROM exams e WHERE e.uuid = ?", &v, 1,
		summary_cb, &ctx);
	if (rc == SONO_OK && ctx.single == NULL)
		rc = SONO_ENOTFOUND;
	if (rc == SONO_OK)
		rc = parts_json(db, e.id, &parts);
	if (rc == SONO_OK && json_object_set_new(ctx.single, "parts_list", parts) != 0)
		rc = SONO_ENOMEM;
	audit_write(db, caller->name, "exam.read", uuid, addr, rc == SONO_OK ? "ok" : "failed");
	if (rc != SONO_OK) {
		json_decref(ctx.single);
		return rc;
	}
	*exam = ctx.single;
	return SONO_OK;
}

/* A stored part as read from the database, decoded after the database
 * lock is released so a large decompression does not stall other threads. */
struct stored_part {
	uint8_t *raw; /* the stored body, owned */
	size_t raw_len;
	int64_t size; /* length of the decoded body */
	int compressed;
	uint8_t sha256[CRYPTO_SHA256_LEN];
	int found;
};

/* Copies one part row: columns size, codec, body, sha256. */
static int stored_part_cb(void *arg, const struct db_value *c, size_t n)
{
	struct stored_part *p = arg;

	if (n != 4 || c[1].type != DB_TEXT || c[2].type != DB_BLOB || c[3].type != DB_BLOB
	    || c[3].len != CRYPTO_SHA256_LEN)
		return SONO_EDB;
	p->raw = malloc(c[2].len ? c[2].len : 1);
	if (p->raw == NULL)
		return SONO_ENOMEM;
	if (c[2].len > 0)
		memcpy(p->raw, c[2].blob, c[2].len);
	p->raw_len = c[2].len;
	p->size = c[0].i;
	p->compressed = strcmp(c[1].text, "zstd") == 0;
	memcpy(p->sha256, c[3].blob, CRYPTO_SHA256_LEN);
	p->found = 1;
	return 1;
}

/* Decodes p into *body and checks it against the stored hash.  Returns 0,
 * SONO_ENOMEM, or SONO_ECRYPTO for a body that does not decode or match. */
static int decode_part(struct stored_part *p, uint8_t **body, size_t *len)
{
	uint8_t actual[CRYPTO_SHA256_LEN];
	unsigned long long size;
	size_t n;

	if (!p->compressed) {
		*body = p->raw;
		*len = p->raw_len;
		p->raw = NULL;
	} else {
		size = ZSTD_getFrameContentSize(p->raw, p->raw_len);
		if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN
		    || size != (unsigned long long)p->size || size > EXAMS_PART_MAX)
			return SONO_ECRYPTO;
		*body = malloc(size ? size : 1);
		if (*body == NULL)
			return SONO_ENOMEM;
		n = ZSTD_decompress(*body, size, p->raw, p->raw_len);
		*len = ZSTD_isError(n) ? 0 : n;
		if (ZSTD_isError(n) || n != size)
			return SONO_ECRYPTO;
	}
	crypto_sha256(*body, *len, actual);
	return crypto_equal(actual, p->sha256, sizeof(actual)) ? SONO_OK : SONO_ECRYPTO;
}

int exams_get_part(struct db *db, const struct account *caller, const char *addr,
	const char *uuid, unsigned n, uint8_t **body, size_t *len)
{
	struct stored_part part = { 0 };
	struct exam_row e;
	int rc;

	*body = NULL;
	*len = 0;
	if (caller->role != ROLE_CLINICIAN && caller->role != ROLE_OBSERVER)
		return SONO_EAUTH;
	rc = load_exam(db, caller, uuid, &e);
	if (rc != SONO_OK)
		return rc;
	{
		struct db_value v[2] = { DB_V_INT(e.id), DB_V_INT(n) };

		rc = db_exec(db, "SELECT size, codec, body, sha256 FROM exam_parts"
			" WHERE exam_id = ? AND n = ?", v, 2, stored_part_cb, &part);
	}
	if (rc == SONO_OK)
		rc = part.found ? decode_part(&part, body, len) : SONO_ENOTFOUND;
	free(part.raw);
	if (rc == SONO_ECRYPTO)
		LOG_ERROR("exam %s part %u does not match its stored SHA-256", uuid, n);
	audit_write(db, caller->name, "exam.part.read", uuid, addr, rc == SONO_OK ? "ok" : "failed");
	if (rc != SONO_OK) {
		free(*body);
		*body = NULL;
		*len = 0;
	}
	return rc;
}
