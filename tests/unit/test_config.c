/* Tests of the configuration file parser. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sono/config.h"
#include "sono/error.h"

static const struct config_key known[] = {
	{ "", "log_level", "log level" },
	{ "scanner", "address", "HOST:PORT" },
	{ "scanner", "pin", "SHA256 pin" },
	{ "cloud", "url", "cloud URL" },
	{ "cloud", "retries", "retry count" },
	{ NULL, NULL, NULL },
};

static void parses_sections_and_comments(void **state)
{
	struct config c;
	char err[256];
	const char *text =
		"# comment\n"
		"log_level = info\n"
		"\n"
		"[scanner]\n"
		"address = 127.0.0.1:18944 \n"
		"; another comment\n"
		"[cloud]\n"
		"url=https://cloud.example:8443\n";

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "t.conf", text, err, sizeof(err)), SONO_OK);
	assert_string_equal(config_get(&c, "", "log_level"), "info");
	assert_string_equal(config_get(&c, "scanner", "address"), "127.0.0.1:18944");
	assert_string_equal(config_get(&c, "cloud", "url"), "https://cloud.example:8443");
	assert_null(config_get(&c, "scanner", "pin"));
}

static void unknown_key_names_file_and_line(void **state)
{
	struct config c;
	char err[256];

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "/etc/x.conf", "[scanner]\naddress = a:1\nadress = b:2\n",
		err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "/etc/x.conf:3:"));
	assert_non_null(strstr(err, "unknown key 'adress'"));
	assert_non_null(strstr(err, "[scanner]"));
}

static void unknown_section_is_reported(void **state)
{
	struct config c;
	char err[256];

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "a.conf", "\n\n[scaner]\n", err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "a.conf:3:"));
	assert_non_null(strstr(err, "unknown section [scaner]"));
}

static void malformed_lines_are_reported(void **state)
{
	struct config c;
	char err[256];

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "b.conf", "[cloud\n", err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "b.conf:1: malformed section header"));

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "b.conf", "[cloud]\nurl\n", err, sizeof(err)), SONO_EINVAL);
	assert_non_null(strstr(err, "b.conf:2: expected 'key = value'"));
}

static void integer_values_are_checked(void **state)
{
	struct config c;
	char err[256];
	int rc;

	config_init(&c, known);
	assert_int_equal(config_parse(&c, "c.conf", "[cloud]\nretries = 7\n", err, sizeof(err)),
		SONO_OK);
	assert_int_equal(config_get_long(&c, "cloud", "retries", 3, 0, 10, &rc), 7);
	assert_int_equal(rc, SONO_OK);

	assert_int_equal(config_set(&c, "cloud", "retries", "eleven"), SONO_OK);
	assert_int_equal(config_get_long(&c, "cloud", "retries", 3, 0, 10, &rc), 3);
	assert_int_equal(rc, SONO_EINVAL);
}

static void set_rejects_unknown_and_newlines(void **state)
{
	struct config c;

	config_init(&c, known);
	assert_int_equal(config_set(&c, "cloud", "nope", "x"), SONO_EINVAL);
	assert_int_equal(config_set(&c, "cloud", "url", "a\nb"), SONO_EINVAL);
}

static void save_and_load_round_trip(void **state)
{
	char dir[] = "/tmp/sono-test-config-XXXXXX";
	char path[256], err[256];
	struct config c, d;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/sonoterm.conf", dir);

	config_init(&c, known);
	assert_int_equal(config_set(&c, "cloud", "url", "https://h:1"), SONO_OK);
	assert_int_equal(config_set(&c, "", "log_level", "debug"), SONO_OK);
	assert_int_equal(config_set(&c, "scanner", "pin", "SHA256:00"), SONO_OK);
	assert_int_equal(config_save(&c, path, err, sizeof(err)), SONO_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	config_init(&d, known);
	assert_int_equal(config_load(&d, path, 0, err, sizeof(err)), SONO_OK);
	assert_string_equal(config_get(&d, "cloud", "url"), "https://h:1");
	assert_string_equal(config_get(&d, "", "log_level"), "debug");
	assert_string_equal(config_get(&d, "scanner", "pin"), "SHA256:00");

	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

static void missing_file_is_optional(void **state)
{
	struct config c;
	char err[256];

	config_init(&c, known);
	assert_int_equal(config_load(&c, "/nonexistent/sono.conf", 1, err, sizeof(err)), SONO_OK);
	assert_int_not_equal(config_load(&c, "/nonexistent/sono.conf", 0, err, sizeof(err)), SONO_OK);
	assert_non_null(strstr(err, "/nonexistent/sono.conf"));
}

static void xdg_dirs_follow_environment(void **state)
{
	char out[256];

	setenv("XDG_DATA_HOME", "/srv/data", 1);
	assert_int_equal(config_xdg_dir("DATA", "sonoterm", out, sizeof(out)), SONO_OK);
	assert_string_equal(out, "/srv/data/sonoterm");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/op", 1);
	assert_int_equal(config_xdg_dir("STATE", "sonoterm", out, sizeof(out)), SONO_OK);
	assert_string_equal(out, "/home/op/.local/state/sonoterm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_sections_and_comments),
		cmocka_unit_test(unknown_key_names_file_and_line),
		cmocka_unit_test(unknown_section_is_reported),
		cmocka_unit_test(malformed_lines_are_reported),
		cmocka_unit_test(integer_values_are_checked),
		cmocka_unit_test(set_rejects_unknown_and_newlines),
		cmocka_unit_test(save_and_load_round_trip),
		cmocka_unit_test(missing_file_is_optional),
		cmocka_unit_test(xdg_dirs_follow_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
