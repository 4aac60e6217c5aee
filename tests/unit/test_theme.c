/* Tests of theme files: the shipped themes parse, styles and the image
 * colour map are read, and malformed files name the file and line. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/error.h"
#include "station/theme.h"

static void shipped_themes_load(void **state)
{
	static const char *const names[] = { "dark", "high-contrast", "night", "mono" };
	char err[512] = "";
	struct theme t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(theme_load(&t, names[i], err, sizeof(err)), 0);
		assert_string_equal(t.name, names[i]);
	}
}

static void default_is_gray(void **state)
{
	struct theme t;

	(void)state;
	theme_default(&t);
	assert_string_equal(t.name, "dark");
	assert_true(t.image_gray);
	assert_int_equal(t.image_lut[0][0], 0);
	assert_int_equal(t.image_lut[255][1], 255);
	assert_int_equal(t.image_lut[128][2], 128);
}

static void night_is_dim_red(void **state)
{
	char err[512] = "";
	struct theme t;

	(void)state;
	assert_int_equal(theme_load(&t, "night", err, sizeof(err)), 0);
	assert_false(t.image_gray);
	assert_true(t.image_lut[255][0] > t.image_lut[255][1]);
	assert_true(t.image_lut[255][0] <= 160);
	assert_int_equal(t.image_lut[255][2], 0);
	assert_int_equal(t.styles[THEME_BODY].fg, COLOR_RED);
}

static void style_with_attributes(void **state)
{
	char err[256] = "";
	struct theme t;

	(void)state;
	assert_int_equal(theme_parse(&t, "x.theme",
		"# comment\n\nstatus = bright-white on 52 bold underline\nbody = default\n", err,
		sizeof(err)), 0);
	assert_int_equal(t.styles[THEME_STATUS].fg, 15);
	assert_int_equal(t.styles[THEME_STATUS].bg, 52);
	assert_int_equal(t.styles[THEME_STATUS].attrs, THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
	assert_int_equal(t.styles[THEME_BODY].fg, -1);
	assert_int_equal(t.styles[THEME_BODY].bg, -1);
}

static void tint_brightness_gamma(void **state)
{
	char err[256] = "";
	struct theme t;

	(void)state;
	assert_int_equal(theme_parse(&t, "x.theme",
		"image.map = tint #00ff00\nimage.brightness = 50\nimage.gamma = 2\n", err,
		sizeof(err)), 0);
	assert_false(t.image_gray);
	assert_int_equal(t.image_lut[255][0], 0);
	assert_int_equal(t.image_lut[255][1], 128);
	assert_int_equal(t.image_lut[128][1], 32);
}

/* Each malformed line is rejected with "file:line:" and the default stays. */
static void malformed_lines_name_file_and_line(void **state)
{
	static const struct { const char *text; const char *expect; } cases[] = {
		{ "body = white\nstatus white on blue\n", "bad.theme:2: expected \"key = value\"" },
		{ "status = purple on blue\n", "bad.theme:1: unknown colour or attribute \"purple\"" },
		{ "\n\nstatus = white on\n", "bad.theme:3: expected a colour after \"on\"" },
		{ "colour = red\n", "bad.theme:1: unknown key \"colour\"" },
		{ "image.map = sepia\n", "bad.theme:1: image.map must be" },
		{ "image.brightness = 0\n", "bad.theme:1: image.brightness must be" },
		{ "image.gamma = x\n", "bad.theme:1: image.gamma must be" },
		{ "image.marker = #12345\n", "bad.theme:1: image.marker must be" },
		{ "status = 256\n", "bad.theme:1: unknown colour" },
		{ "status =\n", "bad.theme:1: empty style" },
	};
	char err[256];
	struct theme t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(theme_parse(&t, "bad.theme", cases[i].text, err, sizeof(err)),
			SONO_EINVAL);
		if (strncmp(err, cases[i].expect, strlen(cases[i].expect)) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s...\"", i, err, cases[i].expect);
	}
}

static void long_line_rejected(void **state)
{
	char text[600], err[256] = "";
	struct theme t;

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(theme_parse(&t, "long.theme", text, err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "long.theme:1: line longer than"));
}

static void malformed_file_falls_back_to_default(void **state)
{
	char dir[] = "/tmp/sono-theme-XXXXXX", path[256], err[512] = "";
	struct theme t;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/broken.theme", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name = broken\nbody = white on black\nstatus = ???\n", f);
	fclose(f);
	setenv("SONO_THEME_DIR", dir, 1);

	assert_int_equal(theme_load(&t, "broken", err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "broken.theme:3:"));
	assert_string_equal(t.name, "dark");
	assert_true(t.image_gray);

	unlink(path);
	rmdir(dir);
	setenv("SONO_THEME_DIR", THEMES_SRCDIR, 1);
}

static void names_are_checked(void **state)
{
	char err[256] = "", path[256];
	struct theme t;

	(void)state;
	assert_int_equal(theme_find("../etc/passwd", path, sizeof(path)), 0); /* a path: used as given */
	assert_int_equal(theme_find("no such", path, sizeof(path)), SONO_EINVAL);
	assert_int_equal(theme_find("", path, sizeof(path)), SONO_EINVAL);
	assert_int_equal(theme_load(&t, "missing-theme", err, sizeof(err)), SONO_ENOTFOUND);
	assert_non_null(strstr(err, "theme \"missing-theme\" not found"));
	assert_string_equal(t.name, "dark");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_themes_load),
		cmocka_unit_test(default_is_gray),
		cmocka_unit_test(night_is_dim_red),
		cmocka_unit_test(style_with_attributes),
		cmocka_unit_test(tint_brightness_gamma),
		cmocka_unit_test(malformed_lines_name_file_and_line),
		cmocka_unit_test(long_line_rejected),
		cmocka_unit_test(malformed_file_falls_back_to_default),
		cmocka_unit_test(names_are_checked),
	};

	setenv("SONO_THEME_DIR", THEMES_SRCDIR, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
