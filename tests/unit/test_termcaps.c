/* Tests of terminal capability detection: parsing of DA1 and window-size
 * replies, rejection of implausible pixel sizes, and the renderer choice. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "station/termcaps.h"

#define S(lit) lit, sizeof(lit) - 1

static void da1_with_sixel(void **state)
{
	char params[64];
	int sixel = -1;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S("\033[?63;1;2;4;6;9;15;22c"), &sixel, params,
		sizeof(params)), 0);
	assert_int_equal(sixel, 1);
	assert_string_equal(params, "?63;1;2;4;6;9;15;22");
}

static void da1_without_sixel(void **state)
{
	int sixel = -1;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S("\033[?62;1;6;9;22c"), &sixel, NULL, 0), 0);
	assert_int_equal(sixel, 0);
	/* The linux console: class 6, no attributes. */
	assert_int_equal(termcaps_parse_da1(S("\033[?6c"), &sixel, NULL, 0), 0);
	assert_int_equal(sixel, 0);
	/* A device class of 4 is not the sixel attribute. */
	assert_int_equal(termcaps_parse_da1(S("\033[?4;1c"), &sixel, NULL, 0), 0);
	assert_int_equal(sixel, 0);
}

static void da1_after_other_replies(void **state)
{
	char params[8];
	int sixel = 0;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S("\033[6;20;10t\033[4;480;800tjunk\033[?64;4c"), &sixel,
		params, sizeof(params)), 0);
	assert_int_equal(sixel, 1);
	assert_string_equal(params, "?64;4");
}

static void da1_eight_bit_csi(void **state)
{
	int sixel = 0;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S("\x9b?65;4;1c"), &sixel, NULL, 0), 0);
	assert_int_equal(sixel, 1);
}

static void da1_missing_or_truncated(void **state)
{
	int sixel = 0;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S(""), &sixel, NULL, 0), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_da1(S("\033[?63;1;4"), &sixel, NULL, 0), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_da1(S("\033[6;20;10t"), &sixel, NULL, 0), SONO_ENOTFOUND);
	/* DA2 has '>' and must not count. */
	assert_int_equal(termcaps_parse_da1(S("\033[>41;4;0c"), &sixel, NULL, 0), SONO_ENOTFOUND);
}

static void da1_truncates_params(void **state)
{
	char params[4];
	int sixel = 0;

	(void)state;
	assert_int_equal(termcaps_parse_da1(S("\033[?63;1;2;4c"), &sixel, params, sizeof(params)), 0);
	assert_string_equal(params, "?63");
}

static void cell_size_report(void **state)
{
	unsigned w = 0, h = 0;

	(void)state;
	assert_int_equal(termcaps_parse_size_report(S("\033[6;20;10t"), 6, &w, &h), 0);
	assert_int_equal(w, 10);
	assert_int_equal(h, 20);
	assert_int_equal(termcaps_parse_size_report(S("\033[4;480;800t\033[6;17;9t"), 6, &w, &h), 0);
	assert_int_equal(w, 9);
	assert_int_equal(h, 17);
	assert_int_equal(termcaps_parse_size_report(S("\033[4;480;800t\033[6;17;9t"), 4, &w, &h), 0);
	assert_int_equal(w, 800);
	assert_int_equal(h, 480);
}

static void cell_size_report_malformed(void **state)
{
	unsigned w = 0, h = 0;

	(void)state;
	assert_int_equal(termcaps_parse_size_report(S("\033[6;20t"), 6, &w, &h), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_size_report(S("\033[6;20;10"), 6, &w, &h), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_size_report(S("\033[?6;20;10t"), 6, &w, &h), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_size_report(S("\033[6;2x;10t"), 6, &w, &h), SONO_ENOTFOUND);
	assert_int_equal(termcaps_parse_size_report(S("\033[6;99999999999;10t"), 6, &w, &h), 0);
	assert_false(termcaps_cell_plausible(w, h));
}

static void plausible_cells(void **state)
{
	(void)state;
	assert_true(termcaps_cell_plausible(10, 20));
	assert_true(termcaps_cell_plausible(4, 6));
	assert_true(termcaps_cell_plausible(64, 128));
	assert_false(termcaps_cell_plausible(0, 0));
	assert_false(termcaps_cell_plausible(3, 20));
	assert_false(termcaps_cell_plausible(10, 5));
	assert_false(termcaps_cell_plausible(65, 20));
	assert_false(termcaps_cell_plausible(10, 129));
}

static void window_size_checks(void **state)
{
	unsigned w = 0, h = 0;

	(void)state;
	assert_int_equal(termcaps_cell_from_window(800, 480, 80, 24, &w, &h), 0);
	assert_int_equal(w, 10);
	assert_int_equal(h, 20);
	/* 640x480 reported for a 200x60 window: 3x8 cells cannot be right. */
	assert_int_equal(termcaps_cell_from_window(640, 480, 200, 60, &w, &h), SONO_EINVAL);
	assert_int_equal(termcaps_cell_from_window(0, 0, 80, 24, &w, &h), SONO_EINVAL);
	assert_int_equal(termcaps_cell_from_window(800, 480, 0, 0, &w, &h), SONO_EINVAL);
	assert_int_equal(termcaps_cell_from_window(65535, 65535, 10, 10, &w, &h), SONO_EINVAL);
}

static struct termcaps caps(unsigned colors, int utf8, int sixel, unsigned cell_w, unsigned cell_h)
{
	struct termcaps tc;

	memset(&tc, 0, sizeof(tc));
	tc.colors = colors;
	tc.utf8 = utf8;
	tc.sixel = sixel;
	tc.cell_w = cell_w;
	tc.cell_h = cell_h;
	return tc;
}

static void choose_auto(void **state)
{
	struct termcaps tc;

	(void)state;
	tc = caps(256, 1, 1, 10, 20);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_SIXEL);
	tc = caps(256, 1, 1, 0, 0);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_HALFBLOCK_256);
	tc = caps(1u << 24, 1, 0, 10, 20);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_HALFBLOCK_24);
	tc = caps(1u << 24, 0, 0, 10, 20);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_ASCII);
	tc = caps(8, 1, 0, 0, 0);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_ASCII);
	tc = caps(0, 1, 0, 0, 0);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_ASCII);
}

static void choose_explicit(void **state)
{
	struct termcaps tc;

	(void)state;
	tc = caps(256, 1, 0, 10, 20);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_SIXEL), RENDER_MODE_SIXEL);
	tc = caps(256, 1, 1, 0, 0);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_SIXEL), RENDER_MODE_HALFBLOCK_256);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_HALFBLOCK), RENDER_MODE_HALFBLOCK_256);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_ASCII), RENDER_MODE_ASCII);
	tc = caps(1u << 24, 1, 1, 10, 20);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_HALFBLOCK), RENDER_MODE_HALFBLOCK_24);
}

static void detect_without_terminal(void **state)
{
	struct termcaps tc;

	(void)state;
	setenv("TERM", "vt100", 1);
	unsetenv("COLORTERM");
	/* An fd of -1 is no terminal: nothing is sent and nothing waited for. */
	assert_int_equal(termcaps_detect(&tc, -1, -1, 100), 0);
	assert_false(tc.is_tty);
	assert_string_equal(tc.term, "vt100");
	assert_int_equal(tc.colors, 0);
	assert_int_equal(termcaps_choose(&tc, RENDER_MODE_AUTO), RENDER_MODE_ASCII);
	setenv("COLORTERM", "truecolor", 1);
	assert_int_equal(termcaps_detect(&tc, -1, -1, 100), 0);
	assert_int_equal(tc.colors, 1u << 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(da1_with_sixel),
		cmocka_unit_test(da1_without_sixel),
		cmocka_unit_test(da1_after_other_replies),
		cmocka_unit_test(da1_eight_bit_csi),
		cmocka_unit_test(da1_missing_or_truncated),
		cmocka_unit_test(da1_truncates_params),
		cmocka_unit_test(cell_size_report),
		cmocka_unit_test(cell_size_report_malformed),
		cmocka_unit_test(plausible_cells),
		cmocka_unit_test(window_size_checks),
		cmocka_unit_test(choose_auto),
		cmocka_unit_test(choose_explicit),
		cmocka_unit_test(detect_without_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
