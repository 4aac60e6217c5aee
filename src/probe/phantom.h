/* Synthetic B-mode phantom: a tissue-mimicking scene with fully developed
 * speckle, anechoic cysts, point reflectors and a specular interface, seen
 * through a curvilinear (sector) or linear probe.
 *
 * The scene is defined in millimetres.  Rows always span depth_mm, so the
 * pixel spacing is depth_mm / height on both axes.  Presets "vascular" and
 * "linear" select the 40 mm linear probe; every other preset selects the
 * curvilinear probe with a 60 degree field of view. */
#ifndef SONO_PROBE_PHANTOM_H
#define SONO_PROBE_PHANTOM_H

#include <stdint.h>

#include "sono/frame.h"
#include "sono/source.h"

#define PHANTOM_DEFAULT_DEPTH_MM 60.0
#define PHANTOM_MIN_DEPTH_MM 20.0
#define PHANTOM_MAX_DEPTH_MM 300.0
/* Along the centre line between these depths the scene is plain tissue
 * (no cyst, reflector or interface) at rest and during motion. */
#define PHANTOM_PLAIN_TOP_MM 11.0
#define PHANTOM_PLAIN_BOTTOM_MM 15.0

struct phantom;

/* Creates a phantom for width x height frames; seed fixes the speckle.
 * Precomputing the speckle field takes tens of milliseconds.  Returns 0,
 * SONO_EINVAL for a geometry outside 64..FRAME_MAX_DIM, or SONO_ENOMEM. */
int phantom_new(struct phantom **out, uint32_t width, uint32_t height, uint64_t seed);

/* Renders the scene at time t_s seconds (which drives the breathing and
 * drift motion) into out, a gray frame whose pixels are reused when the size
 * matches.  depth_mm outside PHANTOM_MIN/MAX_DEPTH_MM is clamped and 0 means
 * the default; gain_db is added in the log domain before compression.
 * params->frozen is ignored here (the source repeats frames).  Returns 0 or
 * SONO_ENOMEM. */
int phantom_render(struct phantom *ph, const struct source_params *params, double t_s,
	struct frame *out);

/* Returns the Rayleigh envelope amplitude of the speckle field at (x, y)
 * before log compression, for statistics in tests; 0 outside the field. */
double phantom_speckle_amplitude(const struct phantom *ph, uint32_t x, uint32_t y);

/* Returns the number of cysts in the scene. */
unsigned phantom_cyst_count(void);

/* Stores the centre and radius in pixels of cyst index at time t_s in a
 * frame rendered with depth_mm (either probe), for tests.  Returns 0, or
 * SONO_EINVAL for an index out of range. */
int phantom_cyst_pixels(const struct phantom *ph, double depth_mm, unsigned index, double t_s,
	double *x, double *y, double *radius);

void phantom_free(struct phantom *ph);

#endif
