/* Tests of the synthetic B-mode phantom: speckle statistics, cysts,
 * posterior enhancement, gain, depth and freeze. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "probe/phantom.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/source.h"

#define WIDTH 640
#define HEIGHT 480
#define GRAY_PER_DB (255.0 / 60.0) /* the phantom compresses 60 dB into 0..255 */
/* For Rayleigh amplitudes std/mean = sqrt(4/pi - 1), and 20 log10 of them
 * has a standard deviation of 5.57 dB whatever the mean. */
#define RAYLEIGH_RATIO 0.5227
#define RAYLEIGH_LOG_STD_DB 5.57

struct stats {
	double mean, std;
	size_t n;
};

/* Statistics of the gray pixels in the rectangle [x0, x1) x [y0, y1). */
static struct stats box_stats(const struct frame *f, long x0, long y0, long x1, long y1)
{
	struct stats s = { 0, 0, 0 };
	double sum = 0, sum2 = 0, v;
	long x, y;

	assert_true(x0 >= 0 && y0 >= 0 && x1 <= (long)f->width && y1 <= (long)f->height);
	for (y = y0; y < y1; y++) {
		for (x = x0; x < x1; x++) {
			v = f->pixels[(size_t)y * f->width + (size_t)x];
			sum += v;
			sum2 += v * v;
			s.n++;
		}
	}
	assert_true(s.n > 0);
	s.mean = sum / (double)s.n;
	s.std = sqrt(fmax(sum2 / (double)s.n - s.mean * s.mean, 0));
	return s;
}

/* Statistics of the plain-tissue band on the centre line, 10 mm wide. */
static struct stats plain_tissue(const struct frame *f)
{
	double sp = f->spacing_mm[1];
	long half = lround(5.0 / sp);

	return box_stats(f, WIDTH / 2 - half, lround(PHANTOM_PLAIN_TOP_MM / sp),
		WIDTH / 2 + half, lround(PHANTOM_PLAIN_BOTTOM_MM / sp));
}

static void render(struct phantom *ph, double depth_mm, double gain_db, double t_s,
	struct frame *f)
{
	struct source_params params;

	memset(&params, 0, sizeof(params));
	params.depth_mm = depth_mm;
	params.gain_db = gain_db;
	assert_int_equal(phantom_render(ph, &params, t_s, f), 0);
}

static int setup(void **state)
{
	struct phantom *ph;

	if (phantom_new(&ph, WIDTH, HEIGHT, 42) != 0)
		return -1;
	*state = ph;
	return 0;
}

static int teardown(void **state)
{
	phantom_free(*state);
	return 0;
}

static void speckle_envelope_is_rayleigh(void **state)
{
	struct phantom *ph = *state;
	double sum = 0, sum2 = 0, a, mean, std;
	uint32_t x, y;
	size_t n = 0;

	for (y = 0; y < HEIGHT; y++) {
		for (x = 0; x < WIDTH; x++) {
			a = phantom_speckle_amplitude(ph, x, y);
			sum += a;
			sum2 += a * a;
			n++;
		}
	}
	mean = sum / (double)n;
	std = sqrt(sum2 / (double)n - mean * mean);
	assert_true(mean > 0);
	if (fabs(std / mean - RAYLEIGH_RATIO) > 0.02)
		fail_msg("envelope std/mean is %.4f, Rayleigh gives %.4f", std / mean, RAYLEIGH_RATIO);
}

static void log_speckle_std_matches_rayleigh(void **state)
{
	struct frame f = { 0 };
	struct stats s;
	double std_db;

	render(*state, 60, 0, 0, &f);
	s = plain_tissue(&f);
	std_db = s.std / GRAY_PER_DB;
	if (std_db < 4.9 || std_db > 6.3)
		fail_msg("log speckle std is %.2f dB, Rayleigh gives %.2f dB", std_db,
			RAYLEIGH_LOG_STD_DB);
	/* Tissue sits mid-scale, so the statistics are not clipped. */
	assert_true(s.mean > 80 && s.mean < 150);
	frame_free(&f);
}

static void cysts_darker_than_tissue(void **state)
{
	struct phantom *ph = *state;
	struct frame f = { 0 };
	struct stats tissue, cyst;
	double x, y, r;
	unsigned i;

	render(ph, 60, 0, 0, &f);
	tissue = plain_tissue(&f);
	/* The first two cysts lie well inside the default field of view. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(phantom_cyst_pixels(ph, 60, i, 0, &x, &y, &r), 0);
		cyst = box_stats(&f, lround(x - 0.5 * r), lround(y - 0.5 * r), lround(x + 0.5 * r),
			lround(y + 0.5 * r));
		if (cyst.mean > 0.3 * tissue.mean)
			fail_msg("cyst %u mean %.1f is not far below tissue mean %.1f", i, cyst.mean,
				tissue.mean);
	}
	assert_int_equal(phantom_cyst_pixels(ph, 60, phantom_cyst_count(), 0, &x, &y, &r),
		SONO_EINVAL);
	frame_free(&f);
}

static void posterior_enhancement_below_cyst(void **state)
{
	struct phantom *ph = *state;
	struct frame f = { 0 };
	struct stats behind, beside;
	double x, y, r, sp = 60.0 / HEIGHT;
	long top, bottom, half;

	render(ph, 60, 0, 0, &f);
	/* Cyst 0 is 12 mm left of the centre line; the centre line at the same
	 * depth is plain tissue. */
	assert_int_equal(phantom_cyst_pixels(ph, 60, 0, 0, &x, &y, &r), 0);
	top = lround(y + r + 2.0 / sp);
	bottom = lround(y + r + 8.0 / sp);
	half = lround(0.5 * r);
	behind = box_stats(&f, lround(x) - half, top, lround(x) + half, bottom);
	beside = box_stats(&f, WIDTH / 2 - half, top, WIDTH / 2 + half, bottom);
	if (behind.mean < beside.mean + 5)
		fail_msg("tissue behind the cyst (%.1f) is not brighter than beside it (%.1f)",
			behind.mean, beside.mean);
	frame_free(&f);
}

static void gain_raises_mean(void **state)
{
	struct frame f = { 0 };
	struct stats low, high;

	render(*state, 60, 0, 0, &f);
	low = plain_tissue(&f);
	render(*state, 60, 10, 0, &f);
	high = plain_tissue(&f);
	/* 10 dB is about 42 gray levels, minus what clips at 255. */
	if (high.mean < low.mean + 30)
		fail_msg("mean %.1f at +10 dB is not well above %.1f at 0 dB", high.mean, low.mean);
	frame_free(&f);
}

static void depth_sets_spacing(void **state)
{
	struct frame f = { 0 };

	render(*state, 0, 0, 0, &f);
	assert_true(fabs(f.spacing_mm[0] - PHANTOM_DEFAULT_DEPTH_MM / HEIGHT) < 1e-12);
	assert_true(fabs(f.spacing_mm[1] - PHANTOM_DEFAULT_DEPTH_MM / HEIGHT) < 1e-12);
	render(*state, 120, 0, 0, &f);
	assert_true(fabs(f.spacing_mm[1] - 0.25) < 1e-12);
	assert_true(fabs(f.spacing_mm[0] - 0.25) < 1e-12);
	render(*state, 1, 0, 0, &f); /* clamped to the minimum depth */
	assert_true(fabs(f.spacing_mm[1] - PHANTOM_MIN_DEPTH_MM / HEIGHT) < 1e-12);
	frame_free(&f);
}

static void motion_changes_frames(void **state)
{
	struct frame a = { 0 }, b = { 0 };

	render(*state, 60, 0, 0, &a);
	render(*state, 60, 0, 1.0, &b);
	assert_int_equal(a.width, b.width);
	assert_true(memcmp(a.pixels, b.pixels, (size_t)WIDTH * HEIGHT) != 0);
	render(*state, 60, 0, 1.0, &a);
	assert_memory_equal(a.pixels, b.pixels, (size_t)WIDTH * HEIGHT);
	frame_free(&a);
	frame_free(&b);
}

static void linear_preset_changes_view(void **state)
{
	struct source_params params;
	struct frame sector = { 0 }, linear = { 0 };

	memset(&params, 0, sizeof(params));
	assert_int_equal(phantom_render(*state, &params, 0, &sector), 0);
	strcpy(params.preset, "vascular");
	assert_int_equal(phantom_render(*state, &params, 0, &linear), 0);
	/* The sector leaves the top corners black; the linear probe's 40 mm
	 * footprint covers the top row's centre but not its edges. */
	assert_int_equal(sector.pixels[0], 0);
	assert_int_equal(linear.pixels[0], 0);
	assert_true(sector.pixels[WIDTH - 1] == 0);
	assert_true(memcmp(sector.pixels, linear.pixels, (size_t)WIDTH * HEIGHT) != 0);
	frame_free(&sector);
	frame_free(&linear);
}

static void source_phantom_freeze_repeats(void **state)
{
	struct source_params params;
	struct frame a = { 0 }, b = { 0 };
	struct source *s = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(source_open(&s, "phantom:320x240", SOURCE_MOTION_DRIFT, err, sizeof(err)), 0);
	assert_string_equal(source_model(s), "Sonoterm phantom");
	source_default_params(s, &params);
	assert_true(params.depth_mm == PHANTOM_DEFAULT_DEPTH_MM);
	assert_int_equal(source_next(s, &params, &a), 0);
	assert_int_equal(a.width, 320);
	assert_int_equal(a.height, 240);
	assert_int_equal(a.components, 1);
	assert_true(fabs(a.spacing_mm[1] - PHANTOM_DEFAULT_DEPTH_MM / 240) < 1e-12);

	params.frozen = 1;
	params.gain_db = 20; /* ignored while frozen */
	assert_int_equal(source_next(s, &params, &b), 0);
	assert_memory_equal(a.pixels, b.pixels, (size_t)320 * 240);
	assert_int_equal(b.seq, a.seq);
	assert_int_equal(source_next(s, &params, &b), 0);
	assert_memory_equal(a.pixels, b.pixels, (size_t)320 * 240);

	params.frozen = 0;
	assert_int_equal(source_next(s, &params, &b), 0);
	assert_int_equal(b.seq, a.seq + 1);
	assert_true(memcmp(a.pixels, b.pixels, (size_t)320 * 240) != 0); /* gain took effect */

	frame_free(&a);
	frame_free(&b);
	source_close(s);
}

static void source_rejects_bad_specs(void **state)
{
	static const char *const specs[] = { "", "phantom:", "phantom:10x10", "phantom:640x",
		"phantom:640x480x", "phantom:99999x480", "dicom:", "camera" };
	struct source *s;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		s = NULL;
		err[0] = '\0';
		assert_int_equal(source_open(&s, specs[i], SOURCE_MOTION_NONE, err, sizeof(err)),
			SONO_EINVAL);
		assert_null(s);
		assert_true(err[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(speckle_envelope_is_rayleigh),
		cmocka_unit_test(log_speckle_std_matches_rayleigh),
		cmocka_unit_test(cysts_darker_than_tissue),
		cmocka_unit_test(posterior_enhancement_below_cyst),
		cmocka_unit_test(gain_raises_mean),
		cmocka_unit_test(depth_sets_spacing),
		cmocka_unit_test(motion_changes_frames),
		cmocka_unit_test(linear_preset_changes_view),
		cmocka_unit_test(source_phantom_freeze_repeats),
		cmocka_unit_test(source_rejects_bad_specs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
