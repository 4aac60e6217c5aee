/* Two-point calipers on the live or frozen image.
 *
 * Points are in frame pixel coordinates.  The first click places point A,
 * the second point B and completes the measurement; a third click starts a
 * new one.  Distances use the frame's pixel spacing, so they are in mm only
 * when the scanner sent a spacing for both axes. */
#ifndef STATION_CALIPERS_H
#define STATION_CALIPERS_H

#include <stddef.h>

#include "station/render.h"

struct calipers {
	int npoints;            /* 0, 1 or 2 */
	struct render_point a;
	struct render_point b;
};

/* Removes both points. */
void calipers_clear(struct calipers *c);

/* Places the next point (see above). */
void calipers_add(struct calipers *c, struct render_point p);

/* Moves the last placed point by (dx, dy) pixels, clamped to a frame of
 * width x height.  Does nothing without a point. */
void calipers_nudge(struct calipers *c, double dx, double dy, unsigned width, unsigned height);

/* Returns the A-B distance in mm, or a negative value when fewer than two
 * points are placed or a spacing is unknown (0 or not finite). */
double calipers_distance_mm(const struct calipers *c, const double spacing_mm[2]);

/* Fills out with the caliper to draw: both ends at A after one click.
 * Returns the number of calipers written (0 or 1). */
size_t calipers_overlay(const struct calipers *c, struct render_caliper *out);

/* Writes "A-B 12.3 mm", "A-B 45 px (no spacing)", "A: click B" or "" for
 * the side panel. */
void calipers_describe(const struct calipers *c, const double spacing_mm[2], char *out,
	size_t outlen);

#endif
