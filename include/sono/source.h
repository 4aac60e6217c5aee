/* Frame sources of the scanner simulator: the phantom and DICOM replay.
 *
 * A source produces frames on demand; the scanner server calls source_next()
 * at its frame rate with the current imaging parameters.  Spec strings are
 * "phantom" (640x480 frames), "phantom:WIDTHxHEIGHT" and "dicom:PATH", where
 * PATH is a file or a folder of files. */
#ifndef SONO_SOURCE_H
#define SONO_SOURCE_H

#include <stddef.h>
#include "sono/frame.h"

enum source_motion {
	SOURCE_MOTION_NONE,  /* pixels exactly as stored */
	SOURCE_MOTION_DRIFT, /* slow lateral drift so a still looks live */
};

/* Imaging parameters the station controls. */
struct source_params {
	double depth_mm; /* displayed depth; the phantom rescales to it */
	double gain_db;  /* overall gain, applied by the phantom */
	int frozen;      /* non-zero: repeat the last frame */
	char preset[32]; /* "abdomen", "vascular", ... ("" = default) */
};

struct source;

/* Opens a source.  Returns 0, or a negative SONO_E* code with a message in
 * err that names the file and the problem. */
int source_open(struct source **out, const char *spec, enum source_motion motion,
	char *err, size_t errlen);

/* Fills out with the next frame for params (out's pixels are reused when the
 * size matches).  Returns 0 or a negative SONO_E* code. */
int source_next(struct source *s, const struct source_params *params, struct frame *out);

/* Returns a model string for the hello message, e.g. "Sonoterm phantom". */
const char *source_model(const struct source *s);

/* Default imaging parameters of the source (depth from the file's
 * calibration for DICOM). */
void source_default_params(const struct source *s, struct source_params *params);

void source_close(struct source *s);

#endif
