/* Tests of the HTTP gate's request head parser: valid heads, incomplete
 * heads, malformed lines, the size limit and the body framings that are
 * rejected as request smuggling vectors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cloud/http_head.h"

#define MAX_HEAD 8192
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, struct http_head *head, struct cloud_rejection *f)
{
	return http_head_parse(text, strlen(text), MAX_HEAD, head, f);
}

/* Returns the status of the rejection of text, or 0 when text parses. */
static int rejection_status(const char *text)
{
	struct cloud_rejection f;
	struct http_head head;
	int rc = parse(text, &head, &f);

	if (rc > 0)
		http_head_clear(&head);
	return rc < 0 ? f.status : 0;
}

static void put_head_parses(void **state)
{
	const char *text = "PUT /api/v1/exams/x/parts/1?q=1 HTTP/1.1\r\nHost: a\r\n"
		"Authorization: Bearer " TOKEN "\r\nContent-Length:  1048576 \r\n"
		"Expect: 100-Continue\r\n\r\nBODY";
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(parse(text, &head, &f), 1);
	assert_int_equal(head.length, strlen(text) - 4);
	assert_int_equal(head.method, CLOUD_METHOD_PUT);
	assert_int_equal(head.minor_version, 1);
	assert_string_equal(head.path, "/api/v1/exams/x/parts/1");
	assert_string_equal(head.authorization, "Bearer " TOKEN);
	assert_int_equal(head.has_content_length, 1);
	assert_int_equal(head.content_length, 1048576);
	assert_int_equal(head.expect_continue, 1);
	http_head_clear(&head);
	assert_null(head.authorization);
}

static void expect_flag_unset_without_header(void **state)
{
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(parse("PUT /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &head, &f), 1);
	assert_int_equal(head.expect_continue, 0);
	http_head_clear(&head);
}

static void methods_and_versions(void **state)
{
	static const struct {
		const char *line;
		enum cloud_method method;
		int minor;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", CLOUD_METHOD_GET, 1 },
		{ "HEAD / HTTP/1.0\r\n\r\n", CLOUD_METHOD_HEAD, 0 },
		{ "POST / HTTP/1.1\r\n\r\n", CLOUD_METHOD_POST, 1 },
		{ "DELETE / HTTP/1.1\r\n\r\n", CLOUD_METHOD_DELETE, 1 },
		{ "OPTIONS / HTTP/1.1\r\n\r\n", CLOUD_METHOD_OTHER, 1 },
		{ "get / HTTP/1.1\r\n\r\n", CLOUD_METHOD_OTHER, 1 },
	};
	struct cloud_rejection f;
	struct http_head head;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].line, &head, &f), 1);
		assert_int_equal(head.method, cases[i].method);
		assert_int_equal(head.minor_version, cases[i].minor);
		http_head_clear(&head);
	}
}

static void incomplete_head_needs_more(void **state)
{
	static const char *cases[] = {
		"", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r",
	};
	struct cloud_rejection f;
	struct http_head head;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(parse(cases[i], &head, &f), 0);
}

static void malformed_heads_get_400(void **state)
{
	static const char *cases[] = {
		"\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET /a b HTTP/1.1\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET\r\n\r\n",
		"GET http://example.org/ HTTP/1.1\r\n\r\n",
		"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost a\r\n\r\n",
		"GET / HTTP/1.1\r\n: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n",
		"GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
		"HEAD / HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
		"GET / HTTP/2\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(rejection_status(cases[i]), 400);
	}
}

static void nul_byte_gets_400(void **state)
{
	static const char text[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(http_head_parse(text, sizeof(text) - 1, MAX_HEAD, &head, &f), -1);
	assert_int_equal(f.status, 400);
}

static void duplicate_content_length_is_rejected(void **state)
{
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
		&head, &f), -1);
	assert_int_equal(f.status, 400);
	assert_string_equal(f.error, "ambiguous_length");
	assert_non_null(strstr(f.message, "more than one Content-Length"));
	assert_int_equal(rejection_status("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
		"Content-Length: 40\r\n\r\n"), 400);
}

static void length_with_transfer_encoding_is_rejected(void **state)
{
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		"Content-Length: 5\r\n\r\n", &head, &f), -1);
	assert_int_equal(f.status, 400);
	assert_string_equal(f.error, "ambiguous_length");
	assert_non_null(strstr(f.message, "Transfer-Encoding"));
}

static void transfer_encoding_alone_gets_411(void **state)
{
	assert_int_equal(rejection_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
		411);
}

static void other_rejections(void **state)
{
	assert_int_equal(rejection_status("GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n"), 417);
	assert_int_equal(rejection_status("GET / HTTP/2.0\r\n\r\n"), 505);
	assert_int_equal(rejection_status("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 0);
}

static void head_over_limit_gets_431(void **state)
{
	char text[MAX_HEAD + 64];
	struct cloud_rejection f;
	struct http_head head;

	memset(text, 'a', sizeof(text));
	memcpy(text, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(http_head_parse(text, MAX_HEAD - 1, MAX_HEAD, &head, &f), 0);
	assert_int_equal(http_head_parse(text, sizeof(text), MAX_HEAD, &head, &f), -1);
	assert_int_equal(f.status, 431);

	/* A complete head that ends exactly at the limit is accepted. */
	memcpy(text + MAX_HEAD - 4, "\r\n\r\n", 4);
	assert_int_equal(http_head_parse(text, sizeof(text), MAX_HEAD, &head, &f), 1);
	assert_int_equal(head.length, MAX_HEAD);
	http_head_clear(&head);
}

static void undecodable_path_is_null(void **state)
{
	struct cloud_rejection f;
	struct http_head head;

	assert_int_equal(parse("GET /a%00b HTTP/1.1\r\n\r\n", &head, &f), 1);
	assert_null(head.path);
	http_head_clear(&head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_head_parses),
		cmocka_unit_test(expect_flag_unset_without_header),
		cmocka_unit_test(methods_and_versions),
		cmocka_unit_test(incomplete_head_needs_more),
		cmocka_unit_test(malformed_heads_get_400),
		cmocka_unit_test(nul_byte_gets_400),
		cmocka_unit_test(duplicate_content_length_is_rejected),
		cmocka_unit_test(length_with_transfer_encoding_is_rejected),
		cmocka_unit_test(transfer_encoding_alone_gets_411),
		cmocka_unit_test(other_rejections),
		cmocka_unit_test(head_over_limit_gets_431),
		cmocka_unit_test(undecodable_path_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
