/* Sending one exam: the create request with patient metadata, a part per
 * still or cine streamed from the store, the metadata part, the commit, the
 * receipt check and the tombstone.  See uploader.h for the protocol. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/buf.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "station/cloud_parse.h"
#include "station/exam.h"
#include "station/uploader_internal.h"

/* The cloud's limits on one part body and on the number of parts. */
#define CLOUD_PART_MAX (64u * 1024 * 1024)
#define CLOUD_PARTS_MAX 10000

struct part_list {
	struct exam_part *parts;
	size_t count;
	size_t cap;
};

/* Streams the frames of one part from the store, in order.  A rewind
 * closes the cursor, so the next read starts again from the store. */
struct frame_stream {
	struct store *s;
	const struct exam_part *part;
	struct exam_frame_cursor *cursor;
	const struct frame *frame;
	size_t frame_bytes;
	size_t offset;
	int read_failed;
};

/* Streams a buffer in memory (the metadata part). */
struct memory_stream {
	const uint8_t *data;
	size_t len;
	size_t offset;
};

struct progress_ctx {
	struct uploader *u;
	uint64_t base;
	uint64_t total;
};

static int collect_part(const struct exam_part *part, void *arg)
{
	struct part_list *list = arg;
	struct exam_part *grown;

	if (list->count == CLOUD_PARTS_MAX - 1)
		return SONO_ETOOBIG;
	if (list->count == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 16;
		grown = realloc(list->parts, list->cap * sizeof(*grown));
		if (grown == NULL)
			return SONO_ENOMEM;
		list->parts = grown;
	}
	list->parts[list->count++] = *part;
	return 0;
}

/* Moves to the next frame.  Returns 1 with a frame, 0 at the end, -1 on a
 * store error. */
static int frame_advance(struct frame_stream *fs)
{
	if (fs->cursor == NULL && exam_frames_open(fs->s, fs->part->id, &fs->cursor) < 0)
		return -1;
	if (exam_frames_next(fs->cursor, &fs->frame) < 0)
		return -1;
	if (fs->frame == NULL)
		return 0;
	fs->frame_bytes = frame_size(fs->frame->width, fs->frame->height, fs->frame->components,
		FRAME_MAX_BYTES);
	fs->offset = 0;
	return 1;
}

static long frame_read(void *arg, void *buf, size_t len)
{
	struct frame_stream *fs = arg;
	size_t copied = 0, n;
	int more;

	while (copied < len) {
		if (fs->offset == fs->frame_bytes) {
			more = frame_advance(fs);
			if (more < 0) {
				fs->read_failed = 1;
				return -1;
			}
			if (more == 0)
				break;
		}
		n = fs->frame_bytes - fs->offset;
		if (n > len - copied)
			n = len - copied;
		memcpy((uint8_t *)buf + copied, fs->frame->pixels + fs->offset, n);
		fs->offset += n;
		copied += n;
	}
	return (long)copied;
}

static int frame_rewind(void *arg)
{
	struct frame_stream *fs = arg;

	exam_frames_close(fs->cursor);
	fs->cursor = NULL;
	fs->frame = NULL;
	fs->frame_bytes = 0;
	fs->offset = 0;
	return 0;
}

static long memory_read(void *arg, void *buf, size_t len)
{
	struct memory_stream *ms = arg;
	size_t n = ms->len - ms->offset;

	if (n > len)
		n = len;
	memcpy(buf, ms->data + ms->offset, n);
	ms->offset += n;
	return (long)n;
}

static int memory_rewind(void *arg)
{
	((struct memory_stream *)arg)->offset = 0;
	return 0;
}

static int progress_cb(void *arg, uint64_t sent, uint64_t total)
{
	struct progress_ctx *p = arg;

	int cancel;

	(void)total;
	uploader_note_bytes(p->u, p->base + sent, p->total);
	pthread_mutex_lock(&p->u->lock);
	cancel = p->u->cancel[0] != '\0' && strcmp(p->u->cancel, p->u->status.current) == 0;
	pthread_mutex_unlock(&p->u->lock);
	return atomic_load(&p->u->stop) || cancel ? 1 : 0;
}

/* Builds {"patient": {...}, "meta": {...}, "uuid": ...} for POST /exams.
 * The caller wipes and frees the result with json_decref after wiping. */
static json_t *exam_create_body(struct store *s, const struct exam_summary *e, size_t parts)
{
	char value[PATIENT_NOTE_MAX_BYTES + 1];
	struct patient p;
	json_t *patient, *body = NULL;
	int f;

	if (exam_load_patient(s, e->uuid, &p) < 0)
		return NULL;
	patient = json_object();
	for (f = 0; patient != NULL && f < PATIENT_FIELD_COUNT; f++) {
		patient_get_field(&p, (enum patient_field)f, value, sizeof(value));
		if (json_object_set_new(patient, patient_field_key((enum patient_field)f),
			    json_string(value)) < 0) {
			json_decref(patient);
			patient = NULL;
		}
	}
	crypto_wipe(value, sizeof(value));
	patient_clear(&p);
	if (patient != NULL)
		body = json_pack("{s:s, s:o, s:{s:s, s:I, s:I, s:I, s:s}}", "uuid", e->uuid,
			"patient", patient, "meta", "preset", e->preset,
			"created_ns", (json_int_t)e->created_ns, "completed_ns",
			(json_int_t)e->completed_ns, "parts", (json_int_t)(parts + 1),
			"station", "sonoterm " PACKAGE_VERSION);
	return body;
}

/* Overwrites every string in a JSON tree before it is freed. */
static void wipe_json(json_t *v)
{
	const char *key;
	json_t *member;
	size_t i;

	if (json_is_string(v)) {
		crypto_wipe((char *)json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, member)
			wipe_json(member);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, member)
			wipe_json(member);
	}
}

static json_t *part_meta(const struct exam_part *p, unsigned n, json_t *measurements)
{
	return json_pack("{s:i, s:s, s:I, s:s, s:f, s:f, s:[f, f], s:f, s:i, s:i, s:i, s:i,"
		" s:I, s:s, s:o}",
		"n", (int)n, "kind", p->kind == EXAM_PART_CINE ? "cine" : "still",
		"acquired_ns", (json_int_t)p->acquired_ns, "scanner_serial", p->scanner_serial,
		"depth_mm", p->depth_mm, "gain_db", p->gain_db,
		"spacing_mm", p->spacing_mm[0], p->spacing_mm[1], "frame_rate", p->frame_rate,
		"width", (int)p->width, "height", (int)p->height, "components", (int)p->components,
		"frame_count", (int)p->frame_count, "bytes", (json_int_t)p->raw_bytes,
		"sha256", p->sha256, "measurements", measurements);
}

/* Builds the metadata part: every part's acquisition values, geometry and
 * hash.  It contains no patient data, and the same exam always gives the same
 * bytes.  The caller frees *text. */
static int exam_meta_text(struct store *s, const struct exam_summary *e,
	const struct part_list *list, char **text)
{
	json_t *parts = json_array(), *root = NULL, *measurements;
	char *json = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; parts != NULL && rc == 0 && i < list->count; i++) {
		json = NULL;
		rc = exam_part_measurements(s, list->parts[i].id, &json);
		measurements = rc == 0 ? json_loads(json, 0, NULL) : NULL;
		free(json);
		if (measurements == NULL)
			measurements = json_array();
		if (rc == 0 && json_array_append_new(parts,
			    part_meta(&list->parts[i], (unsigned)i + 1, measurements)) < 0)
			rc = SONO_ENOMEM;
	}
	if (parts == NULL || rc < 0) {
		json_decref(parts);
		return rc < 0 ? rc : SONO_ENOMEM;
	}
	root = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "exam", e->uuid, "preset", e->preset,
		"created_ns", (json_int_t)e->created_ns, "started_ns", (json_int_t)e->started_ns,
		"completed_ns", (json_int_t)e->completed_ns, "parts", parts);
	*text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	return *text ? 0 : SONO_ENOMEM;
}

/* Checks the response to a part PUT against what was sent. */
static int check_part_answer(const json_t *answer, const struct cloud_sent_part *sent,
	struct cloud_result *res)
{
	const char *sha = json_string_value(json_object_get(answer, "sha256"));

	if (sha != NULL && strcmp(sha, sent->sha256) == 0 &&
	    (uint64_t)json_integer_value(json_object_get(answer, "size")) == sent->size)
		return 0;
	res->kind = CLOUD_ERR_PROTOCOL;
	snprintf(res->message, sizeof(res->message),
		"the cloud confirmed a part with a different size or SHA-256 than was sent");
	return SONO_EPROTO;
}

/* PUTs one part and checks the cloud's response. */
static int put_part(struct uploader *u, struct cloud_client *c, const char *uuid, unsigned n,
	const struct cloud_body_stream *body, struct progress_ctx *progress,
	struct cloud_result *res)
{
	struct cloud_sent_part sent;
	char path[96];
	json_t *answer = NULL;
	int rc;

	(void)u;
	snprintf(path, sizeof(path), "/exams/%s/parts/%u", uuid, n);
	rc = cloud_client_put(c, path, body, progress_cb, progress, &answer, res);
	if (rc == 0) {
		sent.size = body->length;
		snprintf(sent.sha256, sizeof(sent.sha256), "%s", body->sha256_hex);
		rc = check_part_answer(answer, &sent, res);
	}
	json_decref(answer);
	return rc;
}

/* Sends the stills and cines as parts 1..k. */
static int put_image_parts(struct uploader *u, struct cloud_client *c,
	const struct exam_summary *e, const struct part_list *list, struct cloud_sent_part *sent,
	uint64_t total, struct cloud_result *res)
{
	struct progress_ctx progress = { u, 0, total };
	struct frame_stream fs;
	struct cloud_body_stream body;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < list->count; i++) {
		memset(&fs, 0, sizeof(fs));
		fs.s = u->s;
		fs.part = &list->parts[i];
		body.read = frame_read;
		body.rewind = frame_rewind;
		body.arg = &fs;
		body.length = sent[i].size;
		snprintf(body.sha256_hex, sizeof(body.sha256_hex), "%s", sent[i].sha256);
		rc = put_part(u, c, e->uuid, (unsigned)i + 1, &body, &progress, res);
		if (fs.read_failed) {
			res->kind = CLOUD_ERR_LOCAL;
			snprintf(res->message, sizeof(res->message), "part %zu could not be read from "
				"the store; run 'sonoterm exams check'", i + 1);
			rc = SONO_EDB;
		}
		frame_rewind(&fs);
		progress.base += sent[i].size;
		if (rc == 0)
			uploader_note_progress(u, e->uuid, (unsigned)i + 1, (unsigned)list->count + 1,
				progress.base, total);
	}
	return rc;
}

/* Fills sent[] with each image part's size and hash and checks the cloud's
 * limit on a part.  Returns 0 or SONO_ETOOBIG with the reason in res. */
static int plan_parts(const struct part_list *list, struct cloud_sent_part *sent, uint64_t *total,
	struct cloud_result *res)
{
	size_t i, frame_bytes, part_bytes;

	*total = 0;
	for (i = 0; i < list->count; i++) {
		const struct exam_part *p = &list->parts[i];

		frame_bytes = frame_size(p->width, p->height, p->components, FRAME_MAX_BYTES);
		if (frame_bytes == 0 || size_mul(frame_bytes, p->frame_count, &part_bytes) < 0 ||
		    part_bytes > CLOUD_PART_MAX) {
			res->kind = CLOUD_ERR_REJECTED;
			snprintf(res->message, sizeof(res->message), "part %zu (%u frames of %ux%u) is "
				"larger than the cloud's limit of %u bytes per part", i + 1,
				p->frame_count, p->width, p->height, CLOUD_PART_MAX);
			return SONO_ETOOBIG;
		}
		sent[i].size = part_bytes;
		snprintf(sent[i].sha256, sizeof(sent[i].sha256), "%s", p->sha256);
		*total += part_bytes;
	}
	return 0;
}

/* Sends the metadata part (number n), commits and checks the receipt. */
static int finish_exam(struct uploader *u, struct cloud_client *c, const struct exam_summary *e,
	const struct part_list *list, struct cloud_sent_part *sent, char *receipt_id, size_t idlen,
	struct cloud_result *res)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	struct progress_ctx progress = { u, 0, 0 };
	struct memory_stream ms = { NULL, 0, 0 };
	struct cloud_body_stream body;
	char path[96], *meta = NULL;
	json_t *receipt = NULL;
	size_t n = list->count + 1;
	int rc;

	rc = exam_meta_text(u->s, e, list, &meta);
	if (rc < 0)
		return rc;
	ms.data = (const uint8_t *)meta;
	ms.len = strlen(meta);
	crypto_sha256(meta, ms.len, digest);
	crypto_hex(digest, sizeof(digest), body.sha256_hex);
	body.read = memory_read;
	body.rewind = memory_rewind;
	body.arg = &ms;
	body.length = ms.len;
	sent[n - 1].size = ms.len;
	snprintf(sent[n - 1].sha256, sizeof(sent[n - 1].sha256), "%s", body.sha256_hex);
	rc = put_part(u, c, e->uuid, (unsigned)n, &body, &progress, res);
	free(meta);
	snprintf(path, sizeof(path), "/exams/%s/commit", e->uuid);
	if (rc == 0)
		rc = cloud_client_json(c, "POST", path, NULL, &receipt, res);
	if (rc == 0)
		rc = cloud_parse_receipt(receipt, e->uuid, sent, n, receipt_id, idlen, res);
	json_decref(receipt);
	return rc;
}

/* POSTs the exam with its patient metadata. */
static int create_exam(struct uploader *u, struct cloud_client *c, const struct exam_summary *e,
	size_t parts, struct cloud_result *res)
{
	json_t *body;
	int rc;

	body = exam_create_body(u->s, e, parts);
	if (body == NULL) {
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(res->message, sizeof(res->message), "the exam's patient could not be read");
		return SONO_EDB;
	}
	rc = cloud_client_json(c, "POST", "/exams", body, NULL, res);
	wipe_json(body);
	json_decref(body);
	return rc;
}

int uploader_send_exam(struct uploader *u, struct cloud_client *c, const char *uuid,
	struct cloud_result *res, char *err, size_t errlen)
{
	struct part_list list = { NULL, 0, 0 };
	char receipt_id[EXAM_RECEIPT_MAX];
	struct cloud_sent_part *sent = NULL;
	struct exam_summary e;
	uint64_t total = 0;
	int rc;

	rc = exam_get(u->s, uuid, &e);
	if (rc == 0)
		rc = exam_parts(u->s, uuid, collect_part, &list);
	if (rc == 0 && list.count == 0)
		rc = SONO_ESTATE;
	if (rc < 0) {
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(res->message, sizeof(res->message), "the exam's parts could not be read "
			"from the store (%s)", sono_strerror(rc));
		goto out;
	}
	sent = calloc(list.count + 1, sizeof(*sent));
	rc = sent ? plan_parts(&list, sent, &total, res) : SONO_ENOMEM;
	if (rc == 0) {
		uploader_note_progress(u, uuid, 0, (unsigned)list.count + 1, 0, total);
		rc = create_exam(u, c, &e, list.count, res);
	}
	if (rc == 0)
		rc = put_image_parts(u, c, &e, &list, sent, total, res);
	if (rc == 0)
		rc = finish_exam(u, c, &e, &list, sent, receipt_id, sizeof(receipt_id), res);
	if (rc == 0) {
		rc = exam_tombstone(u->s, uuid, receipt_id);
		if (rc < 0)
			snprintf(res->message, sizeof(res->message), "the exam is on the cloud (receipt "
				"%s) but could not be marked uploaded: %s", receipt_id, sono_strerror(rc));
	}
	if (rc == 0) {
		uploader_note_progress(u, uuid, (unsigned)list.count + 1, (unsigned)list.count + 1,
			total, total);
		LOG_NOTICE("exam %s uploaded with receipt %s (%zu parts, %llu bytes)", uuid,
			receipt_id, list.count + 1, (unsigned long long)total);
	}

out:
	if (rc < 0)
		snprintf(err, errlen, "%s", res->message);
	free(sent);
	free(list.parts);
	return rc;
}
