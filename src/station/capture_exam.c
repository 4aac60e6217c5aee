/* The store-backed capture sink: stills and cines become parts of an exam
 * in the station's encrypted store. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/capture.h"
#include "station/exam.h"

struct exam_sink {
	struct store *store;
	int own_store;
	char uuid[CRYPTO_UUID_LEN];  /* "" until the first capture creates the exam */
	char preset[EXAM_PRESET_MAX];
	char description[64];
};

static const char *exam_describe(void *ctx)
{
	struct exam_sink *x = ctx;

	if (!x->uuid[0])
		return "a new unassigned exam";
	snprintf(x->description, sizeof(x->description), "exam %.8s", x->uuid);
	return x->description;
}

/* Creates the unassigned exam on the first capture.  Returns 0 or a
 * negative SONO_E* code from the exam module. */
static int ensure_exam(struct exam_sink *x, const struct capture_meta *meta)
{
	char uuid[CRYPTO_UUID_LEN];
	int rc;

	if (x->uuid[0])
		return 0;
	rc = exam_create(x->store, NULL, meta->preset[0] ? meta->preset : NULL, uuid);
	if (rc == 0)
		rc = exam_set_state(x->store, uuid, EXAM_SCANNING);
	if (rc < 0) {
		LOG_ERROR("unassigned exam not created: %s", sono_strerror(rc));
		return rc;
	}
	memcpy(x->uuid, uuid, sizeof(x->uuid));
	LOG_NOTICE("exam %s created for live captures (unassigned)", x->uuid);
	return 0;
}

/* Fills acq from meta; *json gets the caliper measurement (free with free())
 * or NULL.  Returns 0 or SONO_ENOMEM. */
static int fill_acquisition(const struct capture_meta *meta, double frame_rate,
	struct exam_acquisition *acq, char **json)
{
	struct exam_caliper caliper;
	int rc = 0;

	memset(acq, 0, sizeof(*acq));
	*json = NULL;
	snprintf(acq->scanner_serial, sizeof(acq->scanner_serial), "%s", meta->scanner_serial);
	acq->depth_mm = meta->depth_mm;
	acq->gain_db = meta->gain_db;
	acq->frame_rate = frame_rate;
	if (meta->has_caliper) {
		caliper.x1_mm = meta->caliper_mm[0];
		caliper.y1_mm = meta->caliper_mm[1];
		caliper.x2_mm = meta->caliper_mm[2];
		caliper.y2_mm = meta->caliper_mm[3];
		rc = exam_measurements_json(&caliper, 1, json);
	}
	acq->measurements = *json;
	return rc;
}

static int exam_still(void *ctx, const struct frame *f, const struct capture_meta *meta)
{
	struct exam_acquisition acq;
	struct exam_sink *x = ctx;
	char *json = NULL;
	int rc;

	rc = ensure_exam(x, meta);
	if (rc == 0)
		rc = fill_acquisition(meta, 0, &acq, &json);
	if (rc == 0)
		rc = exam_add_still(x->store, x->uuid, &acq, f, NULL);
	if (rc < 0)
		LOG_ERROR("still not stored in exam %s: %s", x->uuid, sono_strerror(rc));
	free(json);
	return rc;
}

/* Frames per second of a clip from its first and last timestamps. */
static double clip_rate(const struct frame *const *frames, size_t n)
{
	uint64_t span;

	if (n < 2 || frames[n - 1]->timestamp_ns <= frames[0]->timestamp_ns)
		return 0;
	span = frames[n - 1]->timestamp_ns - frames[0]->timestamp_ns;
	return (double)(n - 1) * 1e9 / (double)span;
}

static int exam_cine(void *ctx, const struct frame *const *frames, size_t n,
	const struct capture_meta *meta)
{
	struct exam_acquisition acq;
	struct exam_sink *x = ctx;
	struct exam_cine *cine = NULL;
	char *json = NULL;
	size_t i;
	int rc;

	if (n == 0)
		return SONO_EINVAL;
	rc = ensure_exam(x, meta);
	if (rc == 0)
		rc = fill_acquisition(meta, clip_rate(frames, n), &acq, &json);
	if (rc == 0)
		rc = exam_cine_begin(x->store, x->uuid, &acq, &cine);
	for (i = 0; rc == 0 && i < n; i++)
		rc = exam_cine_add(cine, frames[i]);
	if (rc == 0) {
		rc = exam_cine_end(cine, NULL);
		cine = NULL;
	}
	exam_cine_abort(cine);
	if (rc < 0)
		LOG_ERROR("cine of %zu frames not stored in exam %s: %s", n, x->uuid,
			sono_strerror(rc));
	free(json);
	return rc;
}

static void exam_close(void *ctx)
{
	struct exam_sink *x = ctx;

	if (!x)
		return;
	if (x->own_store)
		store_close(x->store);
	free(x);
}

int capture_exam_sink(struct capture_sink *sink, struct store *s, int own_store,
	const char *uuid)
{
	struct exam_sink *x = calloc(1, sizeof(*x));

	if (!x)
		return SONO_ENOMEM;
	x->store = s;
	x->own_store = own_store;
	if (uuid)
		snprintf(x->uuid, sizeof(x->uuid), "%s", uuid);
	memset(sink, 0, sizeof(*sink));
	sink->ctx = x;
	sink->describe = exam_describe;
	sink->save_still = exam_still;
	sink->save_cine = exam_cine;
	sink->close = exam_close;
	return 0;
}
