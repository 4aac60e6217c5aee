/* Two-point calipers: placement and distance in mm. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "station/calipers.h"

void calipers_clear(struct calipers *c)
{
	c->npoints = 0;
}

void calipers_add(struct calipers *c, struct render_point p)
{
	if (c->npoints == 1) {
		c->b = p;
		c->npoints = 2;
		return;
	}
	c->a = p;
	c->b = p;
	c->npoints = 1;
}

static double clamp(double v, double lo, double hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

void calipers_nudge(struct calipers *c, double dx, double dy, unsigned width, unsigned height)
{
	struct render_point *p = c->npoints == 2 ? &c->b : &c->a;

	if (c->npoints == 0 || width == 0 || height == 0)
		return;
	p->x = clamp(p->x + dx, 0, width - 1);
	p->y = clamp(p->y + dy, 0, height - 1);
	if (c->npoints == 1)
		c->b = c->a;
}

static int spacing_known(const double spacing_mm[2])
{
	return isfinite(spacing_mm[0]) && isfinite(spacing_mm[1]) && spacing_mm[0] > 0 &&
		spacing_mm[1] > 0;
}

double calipers_distance_mm(const struct calipers *c, const double spacing_mm[2])
{
	double dx, dy;

	if (c->npoints < 2 || !spacing_known(spacing_mm))
		return -1.0;
	dx = (c->b.x - c->a.x) * spacing_mm[0];
	dy = (c->b.y - c->a.y) * spacing_mm[1];
	return sqrt(dx * dx + dy * dy);
}

size_t calipers_overlay(const struct calipers *c, struct render_caliper *out)
{
	if (c->npoints == 0)
		return 0;
	out->a = c->a;
	out->b = c->npoints == 2 ? c->b : c->a;
	return 1;
}

void calipers_describe(const struct calipers *c, const double spacing_mm[2], char *out,
	size_t outlen)
{
	double mm = calipers_distance_mm(c, spacing_mm);

	if (c->npoints == 0) {
		snprintf(out, outlen, "%s", "");
	} else if (c->npoints == 1) {
		snprintf(out, outlen, "A placed; click B");
	} else if (mm >= 0) {
		snprintf(out, outlen, "A-B %.1f mm", mm);
	} else {
		snprintf(out, outlen, "A-B %.0f px (no spacing)",
			hypot(c->b.x - c->a.x, c->b.y - c->a.y));
	}
}
