/* The store-backed capture sink of the live screen. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/exam.h"
#include "station/exam_sink.h"

struct exam_sink {
	struct store *store;
	char uuid[CRYPTO_UUID_LEN];
	char description[64];
};

static const char *sink_describe(void *ctx)
{
	struct exam_sink *k = ctx;

	return k->description;
}

/* Moves a draft exam to scanning so it accepts images. */
static int ensure_scanning(struct exam_sink *k)
{
	struct exam_summary e;
	int rc;

	rc = exam_get(k->store, k->uuid, &e);
	if (rc == 0 && e.state == EXAM_DRAFT)
		rc = exam_set_state(k->store, k->uuid, EXAM_SCANNING);
	return rc;
}

static void fill_acquisition(const struct capture_meta *meta, struct exam_acquisition *acq)
{
	memset(acq, 0, sizeof(*acq));
	snprintf(acq->scanner_serial, sizeof(acq->scanner_serial), "%s", meta->scanner_serial);
	acq->depth_mm = meta->depth_mm;
	acq->gain_db = meta->gain_db;
}

/* Sets acq->measurements to the JSON of the caliper in meta, if any; the
 * caller frees *json.  Returns 0 or SONO_ENOMEM. */
static int add_measurement(const struct capture_meta *meta, struct exam_acquisition *acq,
	char **json)
{
	struct exam_caliper caliper;
	int rc;

	*json = NULL;
	if (!meta->has_caliper)
		return 0;
	caliper.x1_mm = meta->caliper_mm[0];
	caliper.y1_mm = meta->caliper_mm[1];
	caliper.x2_mm = meta->caliper_mm[2];
	caliper.y2_mm = meta->caliper_mm[3];
	rc = exam_measurements_json(&caliper, 1, json);
	acq->measurements = *json;
	return rc;
}

static int sink_save_still(void *ctx, const struct frame *f, const struct capture_meta *meta)
{
	struct exam_sink *k = ctx;
	struct exam_acquisition acq;
	char *json;
	int rc;

	fill_acquisition(meta, &acq);
	rc = add_measurement(meta, &acq, &json);
	if (rc == 0)
		rc = ensure_scanning(k);
	if (rc == 0)
		rc = exam_add_still(k->store, k->uuid, &acq, f, NULL);
	free(json);
	return rc;
}

static const struct frame *read_array(void *src, size_t i)
{
	const struct frame *const *frames = src;

	return frames[i];
}

/* Stores n frames from read() as one cine part.  The store derives the
 * frame rate from the first and last timestamps. */
static int sink_save_cine_read(void *ctx, size_t n,
	const struct frame *(*read)(void *src, size_t i), void *src,
	const struct capture_meta *meta)
{
	struct exam_sink *k = ctx;
	struct exam_acquisition acq;
	struct exam_cine *c = NULL;
	const struct frame *f;
	char *json;
	size_t i;
	int rc;

	if (n == 0)
		return SONO_EINVAL;
	fill_acquisition(meta, &acq);
	rc = add_measurement(meta, &acq, &json);
	if (rc == 0)
		rc = ensure_scanning(k);
	if (rc == 0)
		rc = exam_cine_begin(k->store, k->uuid, &acq, &c);
	for (i = 0; rc == 0 && i < n; i++) {
		f = read(src, i);
		rc = f ? exam_cine_add(c, f) : SONO_EIO;
	}
	if (rc == 0) {
		rc = exam_cine_end(c, NULL);
		c = NULL;
	}
	exam_cine_abort(c);
	free(json);
	return rc;
}

static int sink_save_cine(void *ctx, const struct frame *const *frames, size_t n,
	const struct capture_meta *meta)
{
	return sink_save_cine_read(ctx, n, read_array, (void *)frames, meta);
}

static void sink_close(void *ctx)
{
	free(ctx);
}

int exam_capture_sink(struct capture_sink *sink, struct store *s, const char *uuid)
{
	struct exam_summary e;
	struct exam_sink *k;
	int rc;

	rc = exam_get(s, uuid, &e);
	if (rc != 0)
		return rc;
	k = calloc(1, sizeof(*k));
	if (!k)
		return SONO_ENOMEM;
	k->store = s;
	snprintf(k->uuid, sizeof(k->uuid), "%s", uuid);
	snprintf(k->description, sizeof(k->description), "exam %.8s", uuid);
	memset(sink, 0, sizeof(*sink));
	sink->ctx = k;
	sink->describe = sink_describe;
	sink->save_still = sink_save_still;
	sink->save_cine = sink_save_cine;
	sink->save_cine_read = sink_save_cine_read;
	sink->close = sink_close;
	return SONO_OK;
}
