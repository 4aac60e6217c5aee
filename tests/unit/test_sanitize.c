/* Tests of the terminal text sanitiser. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sono/sanitize.h"

static const char *clean(const char *in)
{
	static char out[512];

	sanitize_str(in, out, sizeof(out));
	return out;
}

static void keeps_plain_ascii(void **state)
{
	assert_string_equal(clean("Doe^John 42"), "Doe^John 42");
}

static void removes_csi(void **state)
{
	assert_string_equal(clean("a\x1b[31mred\x1b[0m b"), "ared b");
	assert_string_equal(clean("x\x1b[2J\x1b[?1049hy"), "xy");
	assert_string_equal(clean("8bit\xc2\x9b" "31mcsi"), "8bitcsi");
	assert_string_equal(clean("raw\x9b" "31mcsi"), "rawcsi");
}

static void removes_osc(void **state)
{
	/* OSC 52 clipboard write and OSC 0 title, with BEL and ST endings. */
	assert_string_equal(clean("n\x1b]52;c;ZXZpbA==\x07o"), "no");
	assert_string_equal(clean("n\x1b]0;pwned title\x1b\\o"), "no");
	assert_string_equal(clean("n\xc2\x9d" "0;t\xc2\x9co"), "no");
}

static void removes_dcs_apc_pm_sos(void **state)
{
	assert_string_equal(clean("a\x1bPq#0;2;0;0;0~~\x1b\\b"), "ab");
	assert_string_equal(clean("a\x1b_Gf=100;AAAA\x1b\\b"), "ab");
	assert_string_equal(clean("a\x1b^private\x1b\\b"), "ab");
	assert_string_equal(clean("a\x1bXstring\x1b\\b"), "ab");
	assert_string_equal(clean("a\xc2\x90q~~\xc2\x9c" "b"), "ab");
}

static void removes_c0_c1_and_del(void **state)
{
	assert_string_equal(clean("a\rb\bc\x07" "d\x7f" "e\x01" "f"), "abcdef");
	assert_string_equal(clean("a\xc2\x85" "b\xc2\x8d" "c"), "abc");
	assert_string_equal(clean("tab\there"), "tab here");
	assert_string_equal(clean("two\nlines"), "two lines");
}

static void keeps_newlines_when_asked(void **state)
{
	char out[64];

	sanitize_text("one\ntwo\r\n", 9, out, sizeof(out), 1);
	assert_string_equal(out, "one\ntwo\n");
}

static void removes_bidi_overrides(void **state)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+2069 PDI, U+200F RLM */
	assert_string_equal(clean("abc\xe2\x80\xae" "fdp.exe"), "abcfdp.exe");
	assert_string_equal(clean("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f"), "x");
}

static void removes_invisible_characters(void **state)
{
	/* U+200B ZERO WIDTH SPACE, U+FEFF BOM, U+2060 WORD JOINER, U+E0041 TAG A */
	assert_string_equal(clean("Do\xe2\x80\x8b" "e"), "Doe");
	assert_string_equal(clean("\xef\xbb\xbf" "Doe"), "Doe");
	assert_string_equal(clean("Do\xe2\x81\xa0" "e"), "Doe");
	assert_string_equal(clean("Doe\xf3\xa0\x81\x81"), "Doe");
	/* U+200D ZERO WIDTH JOINER stays: some scripts need it. */
	assert_string_equal(clean("a\xe2\x80\x8d" "b"), "a\xe2\x80\x8d" "b");
}

static void keeps_accents_combining_and_cjk(void **state)
{
	const char *name = "M\xc3\xbcller Jos\x65\xcc\x81 \xe5\xb1\xb1\xe7\x94\xb0";

	assert_string_equal(clean(name), name);
	assert_int_equal(sanitize_width("\xe5\xb1\xb1\xe7\x94\xb0"), 4);
	assert_int_equal(sanitize_width("Jos\x65\xcc\x81"), 4);
}

static void replaces_invalid_utf8(void **state)
{
	assert_string_equal(clean("a\xff" "b"), "a\xef\xbf\xbd" "b");
	assert_string_equal(clean("a\xc0\xaf" "b"), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
	assert_string_equal(clean("a\xed\xa0\xa0" "b"), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
}

static void never_splits_multibyte(void **state)
{
	char out[6];
	size_t n;

	/* "ab" + U+5C71 (3 bytes) + U+7530: only "ab" and one CJK fit in 6. */
	n = sanitize_str("ab\xe5\xb1\xb1\xe7\x94\xb0", out, sizeof(out));
	assert_int_equal(n, 5);
	assert_string_equal(out, "ab\xe5\xb1\xb1");

	n = sanitize_str("\xe5\xb1\xb1", out, 3);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

static void unterminated_sequence_is_dropped(void **state)
{
	assert_string_equal(clean("safe\x1b]52;c;AAAA"), "safe");
	assert_string_equal(clean("safe\x1b["), "safe");
	assert_string_equal(clean("safe\x1b"), "safe");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_plain_ascii),
		cmocka_unit_test(removes_csi),
		cmocka_unit_test(removes_osc),
		cmocka_unit_test(removes_dcs_apc_pm_sos),
		cmocka_unit_test(removes_c0_c1_and_del),
		cmocka_unit_test(keeps_newlines_when_asked),
		cmocka_unit_test(removes_bidi_overrides),
		cmocka_unit_test(removes_invisible_characters),
		cmocka_unit_test(keeps_accents_combining_and_cjk),
		cmocka_unit_test(replaces_invalid_utf8),
		cmocka_unit_test(never_splits_multibyte),
		cmocka_unit_test(unterminated_sequence_is_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
