/* Synthetic B-mode phantom.
 *
 * Each pixel is the sum of three terms in decibels, then log-compressed to
 * 8 bits over a 60 dB dynamic range:
 *   - speckle: 20 log10 of a Rayleigh envelope, precomputed once as the
 *     magnitude of a spatially smoothed complex Gaussian field (fully
 *     developed speckle) and scrolled with the tissue motion;
 *   - a static term for the probe geometry: attenuation with depth after
 *     time-gain compensation, and the skin, fat and fascia layers;
 *   - the moving scene: anechoic cysts with posterior enhancement, point
 *     reflectors and a curved specular interface.
 * Only the moving scene is redrawn per frame, so a 640x480 frame costs a few
 * milliseconds (bench/phantom.sh measures it). */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "probe/phantom.h"
#include "sono/error.h"

#define MARGIN_X 64        /* speckle columns beyond the image on each side, for drift */
#define MARGIN_Y 32        /* speckle rows above and below the image, for breathing */
#define DYNAMIC_RANGE_DB 60.0f
/* Level shown as gray 0 at 0 dB gain; shallow tissue then averages about
 * gray 100. */
#define FLOOR_DB (-28.0f)
#define NOISE_DB (-25.0f)  /* receiver noise, visible inside cysts */
#define CYST_DB (-50.0f)
#define REFLECTOR_DB 26.0f
#define INTERFACE_DB 18.0f
#define SECTOR_HALF_ANGLE (30.0 * M_PI / 180.0)
#define SECTOR_RADIUS_MM 20.0 /* curvature of the curvilinear probe face */
#define LINEAR_WIDTH_MM 40.0  /* footprint of the linear probe */

struct cyst {
	double x, y, radius; /* mm: lateral from the centre line, depth, radius */
};

/* Positions at rest; the plain-tissue band promised in phantom.h lies
 * between 11 and 15 mm on the centre line, clear of all of these. */
static const struct cyst cysts[] = {
	{ -12.0, 25.0, 5.0 },
	{ 10.0, 35.0, 7.0 },
	{ 19.0, 19.0, 3.0 },
	{ -21.0, 41.0, 4.0 },
	{ 2.0, 62.0, 6.0 },
};

static const struct {
	double x, y; /* mm */
} reflectors[] = {
	{ 0.0, 27.0 }, { -27.0, 31.0 }, { 24.0, 52.0 }, { 7.0, 72.0 }, { -11.0, 84.0 },
	{ -6.0, 21.0 }, { 16.0, 95.0 },
};

/* Per-pixel maps that depend only on depth and probe type. */
struct geometry {
	double depth_mm;
	int linear;
	double spacing_mm;
	double lateral_px_per_mm; /* speckle columns per mm of lateral motion */
	int32_t *speckle_index;   /* index into the speckle field; -1 outside the image sector */
	float *static_db;         /* attenuation, time-gain compensation and skin layers */
};

struct phantom {
	uint32_t width, height;
	uint32_t field_width, field_height;
	float *speckle_db; /* 20 log10(A / A_rms) of the envelope A */
	float *scene_db;   /* moving scene of the current frame */
	struct geometry geo;
};

/* xoshiro256** by Blackman and Vigna (public domain reference algorithm). */
struct rng {
	uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t result = rotl(r->s[1] * 5, 7) * 9;
	uint64_t t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

/* Seeds the state with splitmix64, as the xoshiro authors recommend. */
static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9E3779B97F4A7C15ull);

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		r->s[i] = z ^ (z >> 31);
	}
}

/* Returns a uniform double in (0, 1]. */
static double rng_uniform(struct rng *r)
{
	return (double)((rng_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* Fills a and b with independent standard normal samples (Box-Muller). */
static void fill_gaussian(struct rng *r, float *a, float *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double radius = sqrt(-2.0 * log(rng_uniform(r)));
		double angle = 2.0 * M_PI * rng_uniform(r);

		a[i] = (float)(radius * cos(angle));
		b[i] = (float)(radius * sin(angle));
	}
}

/* Smooths a w x h field in place with a 5-tap binomial filter across
 * columns and a 3-tap one across rows, using tmp (w * h floats).  This sets
 * the speckle grain: wider than tall, like a real beam's resolution cell. */
static void smooth_field(float *a, float *tmp, uint32_t w, uint32_t h)
{
	static const float lateral[5] = { 1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f };
	uint32_t x, y;
	int k;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			float sum = 0;

			for (k = -2; k <= 2; k++) {
				int64_t xx = (int64_t)x + k;

				if (xx < 0)
					xx = 0;
				if (xx >= w)
					xx = w - 1;
				sum += lateral[k + 2] * a[(size_t)y * w + (size_t)xx];
			}
			tmp[(size_t)y * w + x] = sum;
		}
	}
	for (y = 0; y < h; y++) {
		uint32_t up = y > 0 ? y - 1 : 0, down = y + 1 < h ? y + 1 : h - 1;

		for (x = 0; x < w; x++)
			a[(size_t)y * w + x] = 0.25f * tmp[(size_t)up * w + x] +
				0.5f * tmp[(size_t)y * w + x] + 0.25f * tmp[(size_t)down * w + x];
	}
}

/* Builds ph->speckle_db from a seeded complex Gaussian field.  Filtering a
 * complex Gaussian field leaves it Gaussian, so its magnitude stays Rayleigh
 * distributed while the filter correlates neighbouring samples. */
static int generate_speckle(struct phantom *ph, uint64_t seed)
{
	size_t n = (size_t)ph->field_width * ph->field_height, i;
	float *re = malloc(n * sizeof(*re));
	float *im = malloc(n * sizeof(*im));
	float *tmp = malloc(n * sizeof(*tmp));
	double power = 0;
	struct rng rng;
	int rc = SONO_ENOMEM;

	if (!re || !im || !tmp)
		goto out;
	rng_seed(&rng, seed);
	fill_gaussian(&rng, re, im, n);
	/* Two passes give a 9 x 5 binomial kernel: a grain of about 3 x 2 pixels. */
	smooth_field(re, tmp, ph->field_width, ph->field_height);
	smooth_field(re, tmp, ph->field_width, ph->field_height);
	smooth_field(im, tmp, ph->field_width, ph->field_height);
	smooth_field(im, tmp, ph->field_width, ph->field_height);

	for (i = 0; i < n; i++) {
		re[i] = re[i] * re[i] + im[i] * im[i]; /* envelope power A^2 */
		power += re[i];
	}
	power /= (double)n;
	for (i = 0; i < n; i++)
		ph->speckle_db[i] = (float)(10.0 * log10(fmax(re[i] / power, 1e-12)));
	rc = SONO_OK;
out:
	free(re);
	free(im);
	free(tmp);
	return rc;
}

int phantom_new(struct phantom **out, uint32_t width, uint32_t height, uint64_t seed)
{
	struct phantom *ph;
	size_t pixels = (size_t)width * height;
	int rc = SONO_ENOMEM;

	*out = NULL;
	if (width < 64 || height < 64 || width > FRAME_MAX_DIM || height > FRAME_MAX_DIM)
		return SONO_EINVAL;
	ph = calloc(1, sizeof(*ph));
	if (!ph)
		return SONO_ENOMEM;
	ph->width = width;
	ph->height = height;
	ph->field_width = width + 2 * MARGIN_X;
	ph->field_height = height + 2 * MARGIN_Y;
	ph->speckle_db = malloc((size_t)ph->field_width * ph->field_height * sizeof(float));
	ph->scene_db = malloc(pixels * sizeof(float));
	ph->geo.speckle_index = malloc(pixels * sizeof(int32_t));
	ph->geo.static_db = malloc(pixels * sizeof(float));
	if (!ph->speckle_db || !ph->scene_db || !ph->geo.speckle_index || !ph->geo.static_db)
		goto fail;
	rc = generate_speckle(ph, seed);
	if (rc < 0)
		goto fail;
	*out = ph;
	return SONO_OK;
fail:
	phantom_free(ph);
	return rc;
}

void phantom_free(struct phantom *ph)
{
	if (!ph)
		return;
	free(ph->speckle_db);
	free(ph->scene_db);
	free(ph->geo.speckle_index);
	free(ph->geo.static_db);
	free(ph);
}

static double effective_depth(double depth_mm)
{
	if (!(depth_mm > 0))
		return PHANTOM_DEFAULT_DEPTH_MM;
	if (depth_mm < PHANTOM_MIN_DEPTH_MM)
		return PHANTOM_MIN_DEPTH_MM;
	if (depth_mm > PHANTOM_MAX_DEPTH_MM)
		return PHANTOM_MAX_DEPTH_MM;
	return depth_mm;
}

/* The preset field may lack a terminating NUL when it comes from a peer. */
static int preset_is_linear(const struct source_params *params)
{
	size_t n = sizeof(params->preset);

	return !strncmp(params->preset, "vascular", n) || !strncmp(params->preset, "linear", n);
}

/* Static level by depth r in mm: attenuation left after time-gain
 * compensation (0.12 dB/mm), a bright skin line, darker subcutaneous fat
 * and a bright fascia line above plain tissue. */
static float static_level(double r)
{
	float level = (float)(-0.12 * r);

	if (r < 0.6)
		return level + 8.0f;
	if (r < 2.5)
		return level + 2.0f;
	if (r < 7.5)
		return level - 7.0f;
	if (r < 8.3)
		return level + 12.0f;
	return level;
}

/* Maps pixel (x, y) to the speckle field and its depth along the beam.
 * Returns the field index, or -1 outside the probe's field of view. */
static int32_t map_pixel(const struct phantom *ph, const struct geometry *g, uint32_t x,
	uint32_t y, double *depth)
{
	double sp = g->spacing_mm, half = ph->width / 2.0;
	double lateral = (x + 0.5 - half) * sp, axial = (y + 0.5) * sp;
	double bx, by, theta;

	*depth = 0;
	if (g->linear) {
		if (fabs(lateral) > LINEAR_WIDTH_MM / 2)
			return -1;
		*depth = axial;
		bx = x;
	} else {
		axial += SECTOR_RADIUS_MM;
		theta = atan2(lateral, axial);
		*depth = hypot(lateral, axial) - SECTOR_RADIUS_MM;
		if (fabs(theta) > SECTOR_HALF_ANGLE || *depth > g->depth_mm)
			return -1;
		bx = theta / SECTOR_HALF_ANGLE * half + half;
	}
	by = *depth / sp;
	bx = fmin(fmax(bx, 0), ph->width - 1);
	by = fmin(fmax(by, 0), ph->height - 1);
	return (int32_t)(((uint32_t)by + MARGIN_Y) * ph->field_width + (uint32_t)bx + MARGIN_X);
}

/* Recomputes the per-pixel maps for a new depth or probe type. */
static void build_geometry(struct phantom *ph, double depth_mm, int linear)
{
	struct geometry *g = &ph->geo;
	uint32_t x, y;
	double depth;
	size_t p;

	g->depth_mm = depth_mm;
	g->linear = linear;
	g->spacing_mm = depth_mm / ph->height;
	if (linear)
		g->lateral_px_per_mm = 1.0 / g->spacing_mm;
	else
		g->lateral_px_per_mm = (ph->width / 2.0) /
			(SECTOR_HALF_ANGLE * (SECTOR_RADIUS_MM + depth_mm / 2));

	for (y = 0; y < ph->height; y++) {
		for (x = 0; x < ph->width; x++) {
			p = (size_t)y * ph->width + x;
			g->speckle_index[p] = map_pixel(ph, g, x, y, &depth);
			g->static_db[p] = static_level(depth);
		}
	}
}

/* Converts a lateral position in mm to a column. */
static double column_of(const struct phantom *ph, double lateral_mm)
{
	return lateral_mm / ph->geo.spacing_mm + ph->width / 2.0 - 0.5;
}

/* Adds db (or sets it when set is non-zero) to the pixels of row y whose
 * centres lie between lateral positions x0_mm and x1_mm. */
static void fill_span(struct phantom *ph, int64_t y, double x0_mm, double x1_mm, float db,
	int set)
{
	int64_t c0 = (int64_t)ceil(column_of(ph, x0_mm));
	int64_t c1 = (int64_t)floor(column_of(ph, x1_mm));
	float *row;

	if (y < 0 || y >= ph->height)
		return;
	c0 = c0 < 0 ? 0 : c0;
	c1 = c1 >= ph->width ? ph->width - 1 : c1;
	row = ph->scene_db + (size_t)y * ph->width;
	for (; c0 <= c1; c0++)
		row[c0] = set ? db : row[c0] + db;
}

/* Adds up to db to row y across lateral positions cx +- half_mm, falling
 * off as a parabola so the band has no hard edges. */
static void add_taper(struct phantom *ph, int64_t y, double cx, double half_mm, float db)
{
	int64_t c0 = (int64_t)ceil(column_of(ph, cx - half_mm));
	int64_t c1 = (int64_t)floor(column_of(ph, cx + half_mm));
	double u;
	float *row;

	if (y < 0 || y >= ph->height)
		return;
	c0 = c0 < 0 ? 0 : c0;
	c1 = c1 >= ph->width ? ph->width - 1 : c1;
	row = ph->scene_db + (size_t)y * ph->width;
	for (; c0 <= c1; c0++) {
		u = ((c0 + 0.5 - ph->width / 2.0) * ph->geo.spacing_mm - cx) / half_mm;
		row[c0] += db * (float)fmax(1 - u * u, 0);
	}
}

/* Returns the first and last rows whose centres lie between depths y0_mm and y1_mm. */
static void row_range(const struct phantom *ph, double y0_mm, double y1_mm, int64_t *first,
	int64_t *last)
{
	*first = (int64_t)ceil(y0_mm / ph->geo.spacing_mm - 0.5);
	*last = (int64_t)floor(y1_mm / ph->geo.spacing_mm - 0.5);
	if (*first < 0)
		*first = 0;
	if (*last >= ph->height)
		*last = (int64_t)ph->height - 1;
}

static double row_depth(const struct phantom *ph, int64_t y)
{
	return (y + 0.5) * ph->geo.spacing_mm;
}

/* Draws the cysts: fluid attenuates less than tissue, so the tissue behind
 * each cyst is brighter (posterior enhancement), while the cyst is dark. */
static void draw_cysts(struct phantom *ph, double dx, double dy)
{
	int64_t y, first, last;
	double cx, cy, r, d, half;
	size_t i;

	for (i = 0; i < sizeof(cysts) / sizeof(cysts[0]); i++) {
		cx = cysts[i].x + dx;
		cy = cysts[i].y + dy;
		r = cysts[i].radius;
		row_range(ph, cy, cy + 40.0, &first, &last);
		for (y = first; y <= last; y++) {
			d = row_depth(ph, y) - cy;
			add_taper(ph, y, cx, r, (float)(6.0 * exp(-d / 25.0)));
		}
	}
	for (i = 0; i < sizeof(cysts) / sizeof(cysts[0]); i++) {
		cx = cysts[i].x + dx;
		cy = cysts[i].y + dy;
		r = cysts[i].radius;
		row_range(ph, cy - r, cy + r, &first, &last);
		for (y = first; y <= last; y++) {
			d = row_depth(ph, y) - cy;
			half = sqrt(fmax(r * r - d * d, 0));
			fill_span(ph, y, cx - half, cx + half, CYST_DB, 1);
		}
	}
}

/* Draws a curved specular interface, like an organ capsule, column by column. */
static void draw_interface(struct phantom *ph, double dx, double dy)
{
	double sp = ph->geo.spacing_mm, lateral, depth;
	float level;
	int64_t first, last, y;
	uint32_t x;

	for (x = 0; x < ph->width; x++) {
		lateral = (x + 0.5 - ph->width / 2.0) * sp - dx;
		if (lateral < -30.0 || lateral > 26.0)
			continue;
		depth = 46.0 + 3.0 * sin(lateral / 14.0) + dy;
		/* A specular echo is strongest where the surface faces the probe. */
		level = INTERFACE_DB * (float)(0.6 + 0.4 * fabs(cos(lateral / 14.0)));
		row_range(ph, depth - 0.6, depth + 0.6, &first, &last);
		for (y = first; y <= last; y++)
			ph->scene_db[(size_t)y * ph->width + x] += level;
	}
}

/* Draws point reflectors as small ellipses, wider than tall like the
 * beam's point spread function, and at least about one pixel each way. */
static void draw_reflectors(struct phantom *ph, double dx, double dy)
{
	double sp = ph->geo.spacing_mm;
	double axial = fmax(0.35, sp), lateral = fmax(0.9, 1.5 * sp), d, half;
	int64_t y, first, last;
	size_t i;

	for (i = 0; i < sizeof(reflectors) / sizeof(reflectors[0]); i++) {
		double cx = reflectors[i].x + dx, cy = reflectors[i].y + dy;

		row_range(ph, cy - axial, cy + axial, &first, &last);
		for (y = first; y <= last; y++) {
			d = (row_depth(ph, y) - cy) / axial;
			half = lateral * sqrt(fmax(1 - d * d, 0));
			fill_span(ph, y, cx - half, cx + half, (float)(REFLECTOR_DB * (1 - 0.5 * d * d)), 0);
		}
	}
}

/* Tissue motion at time t_s in mm: breathing (4.5 s period) moves the scene
 * axially and a slower sway (13 s) moves it laterally. */
static void motion_at(double t_s, double *dx, double *dy)
{
	*dx = 1.2 * sin(2 * M_PI * t_s / 13.0);
	*dy = 1.5 * sin(2 * M_PI * t_s / 4.5);
}

static long clamp_long(long v, long limit)
{
	if (v > limit)
		return limit;
	if (v < -limit)
		return -limit;
	return v;
}

/* Log-compresses speckle plus static and scene levels into 8-bit pixels. */
static void compress(const struct phantom *ph, double gain_db, ptrdiff_t shift, uint8_t *out)
{
	const struct geometry *g = &ph->geo;
	size_t n = (size_t)ph->width * ph->height, p;
	const float scale = 255.0f / DYNAMIC_RANGE_DB;
	const float offset = (float)gain_db - FLOOR_DB;
	float speckle, db, gray;

	for (p = 0; p < n; p++) {
		if (g->speckle_index[p] < 0) {
			out[p] = 0;
			continue;
		}
		speckle = ph->speckle_db[g->speckle_index[p] + shift];
		db = ph->scene_db[p] + g->static_db[p] + speckle;
		if (db < NOISE_DB + speckle)
			db = NOISE_DB + speckle;
		gray = (db + offset) * scale;
		if (gray <= 0)
			out[p] = 0;
		else if (gray >= 255)
			out[p] = 255;
		else
			out[p] = (uint8_t)(gray + 0.5f);
	}
}

int phantom_render(struct phantom *ph, const struct source_params *params, double t_s,
	struct frame *out)
{
	double depth = effective_depth(params->depth_mm), dx, dy;
	int linear = preset_is_linear(params);
	long ox, oy;
	int rc;

	if (depth != ph->geo.depth_mm || linear != ph->geo.linear)
		build_geometry(ph, depth, linear);
	if (!out->pixels || out->width != ph->width || out->height != ph->height ||
		out->components != 1) {
		frame_free(out);
		rc = frame_alloc(out, ph->width, ph->height, 1, FRAME_MAX_BYTES);
		if (rc < 0)
			return rc;
	}

	motion_at(t_s, &dx, &dy);
	memset(ph->scene_db, 0, (size_t)ph->width * ph->height * sizeof(float));
	draw_interface(ph, dx, dy);
	draw_cysts(ph, dx, dy);
	draw_reflectors(ph, dx, dy);

	/* The speckle moves with the tissue, so a pixel samples the field where
	 * its tissue was at rest. */
	ox = lround(dx * ph->geo.lateral_px_per_mm);
	oy = lround(dy / ph->geo.spacing_mm);
	ox = clamp_long(ox, MARGIN_X - 1);
	oy = clamp_long(oy, MARGIN_Y - 1);
	compress(ph, params->gain_db, -(oy * (ptrdiff_t)ph->field_width + ox), out->pixels);

	out->spacing_mm[0] = ph->geo.spacing_mm;
	out->spacing_mm[1] = ph->geo.spacing_mm;
	return SONO_OK;
}

double phantom_speckle_amplitude(const struct phantom *ph, uint32_t x, uint32_t y)
{
	if (x >= ph->field_width || y >= ph->field_height)
		return 0;
	return pow(10.0, ph->speckle_db[(size_t)y * ph->field_width + x] / 20.0);
}

unsigned phantom_cyst_count(void)
{
	return (unsigned)(sizeof(cysts) / sizeof(cysts[0]));
}

int phantom_cyst_pixels(const struct phantom *ph, double depth_mm, unsigned index, double t_s,
	double *x, double *y, double *radius)
{
	double sp = effective_depth(depth_mm) / ph->height, dx, dy;

	if (index >= phantom_cyst_count())
		return SONO_EINVAL;
	motion_at(t_s, &dx, &dy);
	*x = (cysts[index].x + dx) / sp + ph->width / 2.0 - 0.5;
	*y = (cysts[index].y + dy) / sp - 0.5;
	*radius = cysts[index].radius / sp;
	return SONO_OK;
}
