/* Tests of two-point calipers: placement order, distance in mm from the
 * pixel spacing, unknown spacing, nudging and the overlay. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "station/calipers.h"

static struct render_point pt(double x, double y)
{
	struct render_point p = { x, y };

	return p;
}

static void distance_uses_spacing(void **state)
{
	const double spacing[2] = { 0.1, 0.2 };
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	calipers_add(&c, pt(10, 10));
	assert_true(calipers_distance_mm(&c, spacing) < 0);
	calipers_add(&c, pt(40, 50));
	/* dx 30 px * 0.1 = 3 mm, dy 40 px * 0.2 = 8 mm */
	assert_float_equal(calipers_distance_mm(&c, spacing), sqrt(9.0 + 64.0), 1e-9);
}

static void third_point_starts_over(void **state)
{
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	calipers_add(&c, pt(1, 1));
	calipers_add(&c, pt(2, 2));
	calipers_add(&c, pt(5, 6));
	assert_int_equal(c.npoints, 1);
	assert_float_equal(c.a.x, 5, 0);
	assert_float_equal(c.a.y, 6, 0);
}

static void unknown_spacing_gives_pixels(void **state)
{
	const double none[2] = { 0, 0 };
	const double bad[2] = { NAN, 0.1 };
	char text[64];
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	calipers_add(&c, pt(0, 0));
	calipers_add(&c, pt(3, 4));
	assert_true(calipers_distance_mm(&c, none) < 0);
	assert_true(calipers_distance_mm(&c, bad) < 0);
	calipers_describe(&c, none, text, sizeof(text));
	assert_string_equal(text, "A-B 5 px (no spacing)");
}

static void describe_states(void **state)
{
	const double spacing[2] = { 0.5, 0.5 };
	char text[64];
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	calipers_describe(&c, spacing, text, sizeof(text));
	assert_string_equal(text, "");
	calipers_add(&c, pt(0, 0));
	calipers_describe(&c, spacing, text, sizeof(text));
	assert_string_equal(text, "A placed; click B");
	calipers_add(&c, pt(0, 20));
	calipers_describe(&c, spacing, text, sizeof(text));
	assert_string_equal(text, "A-B 10.0 mm");
}

static void nudge_clamps_to_frame(void **state)
{
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	calipers_nudge(&c, 5, 5, 100, 100);
	assert_int_equal(c.npoints, 0);
	calipers_add(&c, pt(1, 98));
	calipers_nudge(&c, -5, 5, 100, 100);
	assert_float_equal(c.a.x, 0, 0);
	assert_float_equal(c.a.y, 99, 0);
	assert_float_equal(c.b.x, 0, 0);
	calipers_add(&c, pt(50, 50));
	calipers_nudge(&c, 2, 0, 100, 100);
	assert_float_equal(c.b.x, 52, 0);
	assert_float_equal(c.a.x, 0, 0);
}

static void overlay_single_then_pair(void **state)
{
	struct render_caliper rc;
	struct calipers c;

	(void)state;
	calipers_clear(&c);
	assert_int_equal(calipers_overlay(&c, &rc), 0);
	calipers_add(&c, pt(3, 4));
	assert_int_equal(calipers_overlay(&c, &rc), 1);
	assert_float_equal(rc.b.x, 3, 0);
	assert_float_equal(rc.b.y, 4, 0);
	calipers_add(&c, pt(7, 8));
	assert_int_equal(calipers_overlay(&c, &rc), 1);
	assert_float_equal(rc.a.x, 3, 0);
	assert_float_equal(rc.b.x, 7, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(distance_uses_spacing),
		cmocka_unit_test(third_point_starts_over),
		cmocka_unit_test(unknown_spacing_gives_pixels),
		cmocka_unit_test(describe_states),
		cmocka_unit_test(nudge_clamps_to_frame),
		cmocka_unit_test(overlay_single_then_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
