/* Tests of the cloud's routing table: matches, parameters, 404 and 405,
 * and the decisions on request heads before their bodies are read. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sono/error.h"
#include "cloud/json_body.h"
#include "cloud/router.h"

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF"
#define BEARER "Bearer " TOKEN
#define PART_PATH "/api/v1/exams/" UUID "/parts/1"
#define MAX_BODY (16 * 1024 * 1024)

static int match(enum cloud_method method, const char *path, struct cloud_route_match *m)
{
	char allow[64];

	return cloud_router_match(method, path, m, allow, sizeof(allow));
}

static void fixed_routes_match(void **state)
{
	static const struct {
		enum cloud_method method;
		const char *path;
		enum cloud_route_id id;
	} cases[] = {
		{ CLOUD_METHOD_GET, "/", ROUTE_PAGE_INDEX },
		{ CLOUD_METHOD_GET, "/reset", ROUTE_PAGE_RESET },
		{ CLOUD_METHOD_POST, "/reset", ROUTE_PAGE_RESET_POST },
		{ CLOUD_METHOD_POST, "/api/v1/sessions", ROUTE_SESSION_CREATE },
		{ CLOUD_METHOD_DELETE, "/api/v1/sessions/current", ROUTE_SESSION_DELETE },
		{ CLOUD_METHOD_GET, "/api/v1/me", ROUTE_ME },
		{ CLOUD_METHOD_HEAD, "/api/v1/me", ROUTE_ME },
		{ CLOUD_METHOD_GET, "/api/v1/scanners", ROUTE_SCANNERS },
		{ CLOUD_METHOD_GET, "/api/v1/settings", ROUTE_SETTINGS },
		{ CLOUD_METHOD_POST, "/api/v1/exams", ROUTE_EXAM_CREATE },
		{ CLOUD_METHOD_GET, "/api/v1/exams", ROUTE_EXAM_LIST },
		{ CLOUD_METHOD_POST, "/api/v1/password-resets", ROUTE_RESET_REQUEST },
	};
	struct cloud_route_match m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(match(cases[i].method, cases[i].path, &m), 0);
		assert_non_null(m.route);
		assert_int_equal(m.route->id, cases[i].id);
	}
}

static void uuid_and_part_parameters(void **state)
{
	struct cloud_route_match m;

	assert_int_equal(match(CLOUD_METHOD_PUT, "/api/v1/exams/" UUID "/parts/12", &m), 0);
	assert_int_equal(m.route->id, ROUTE_PART_PUT);
	assert_string_equal(m.uuid, UUID);
	assert_int_equal(m.part, 12);

	assert_int_equal(match(CLOUD_METHOD_PUT, "/api/v1/exams/" UUID "/parts/10000", &m), 0);
	assert_int_equal(m.part, ROUTER_PART_MAX);

	assert_int_equal(match(CLOUD_METHOD_POST, "/api/v1/exams/" UUID "/commit", &m), 0);
	assert_int_equal(m.route->id, ROUTE_EXAM_COMMIT);
	assert_string_equal(m.uuid, UUID);

	assert_int_equal(match(CLOUD_METHOD_GET, "/api/v1/exams/" UUID, &m), 0);
	assert_int_equal(m.route->id, ROUTE_EXAM_GET);
}

static void malformed_parameters_not_found(void **state)
{
	static const char *paths[] = {
		"/api/v1/exams/0F8FAD5B-D9CB-469F-A165-70867728950E",
		"/api/v1/exams/0f8fad5b-d9cb-469f-a165-70867728950",
		"/api/v1/exams/" UUID "x",
		"/api/v1/exams/" UUID "/parts/0",
		"/api/v1/exams/" UUID "/parts/01",
		"/api/v1/exams/" UUID "/parts/10001",
		"/api/v1/exams/" UUID "/parts/100000",
		"/api/v1/exams/" UUID "/parts/-1",
		"/api/v1/exams/" UUID "/parts/",
		"/api/v1/exams/" UUID "/parts/1/",
		"/api/v1/password-resets/abc.def",
		"/api/v1/password-resets/",
	};
	struct cloud_route_match m;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(match(CLOUD_METHOD_PUT, paths[i], &m), SONO_ENOTFOUND);
}

static void token_parameter(void **state)
{
	struct cloud_route_match m;
	char path[256], token[ROUTER_TOKEN_MAX + 2];

	assert_int_equal(match(CLOUD_METHOD_POST, "/api/v1/password-resets/ab12_CD-9", &m), 0);
	assert_int_equal(m.route->id, ROUTE_RESET_USE);
	assert_string_equal(m.token, "ab12_CD-9");

	memset(token, 'a', ROUTER_TOKEN_MAX + 1);
	token[ROUTER_TOKEN_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "/api/v1/password-resets/%s", token);
	assert_int_equal(match(CLOUD_METHOD_POST, path, &m), SONO_ENOTFOUND);
	token[ROUTER_TOKEN_MAX] = '\0';
	snprintf(path, sizeof(path), "/api/v1/password-resets/%s", token);
	assert_int_equal(match(CLOUD_METHOD_POST, path, &m), 0);
}

static void unknown_paths_not_found(void **state)
{
	static const char *paths[] = {
		"", "api/v1/me", "//", "/api/v1/me/", "/api/v1//me", "/api/v2/me",
		"/api/v1/mex", "/API/v1/me", "/api/v1/exams/",
	};
	struct cloud_route_match m;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(match(CLOUD_METHOD_GET, paths[i], &m), SONO_ENOTFOUND);
	assert_int_equal(match(CLOUD_METHOD_GET, NULL, &m), SONO_ENOTFOUND);
}

static void wrong_method_lists_allowed(void **state)
{
	struct cloud_route_match m;
	char allow[64];

	assert_int_equal(cloud_router_match(CLOUD_METHOD_DELETE, "/api/v1/exams", &m, allow,
		sizeof(allow)), SONO_ESTATE);
	assert_string_equal(allow, "POST, GET, HEAD");
	assert_null(m.route);

	assert_int_equal(cloud_router_match(CLOUD_METHOD_GET, "/api/v1/sessions", &m, allow,
		sizeof(allow)), SONO_ESTATE);
	assert_string_equal(allow, "POST");
}

static void every_route_reachable(void **state)
{
	const struct cloud_route *r;
	int n = 0;

	for (r = cloud_router_table(); r->pattern != NULL; r++)
		n++;
	assert_int_equal(n, ROUTE_COUNT);
}

static enum cloud_head_decision check(enum cloud_method method, const char *path,
	const char *authorization, uint64_t length, struct cloud_rejection *f)
{
	struct cloud_request_head head = { method, path, authorization, length };

	return cloud_router_check_head(&head, MAX_BODY, f);
}

static void bodyless_heads_accepted(void **state)
{
	struct cloud_rejection f;

	assert_int_equal(check(CLOUD_METHOD_GET, "/api/v1/me", NULL, 0, &f), CLOUD_HEAD_ACCEPT);
	assert_int_equal(check(CLOUD_METHOD_GET, "/nothing", NULL, 0, &f), CLOUD_HEAD_ACCEPT);
	assert_int_equal(check(CLOUD_METHOD_PUT, PART_PATH, NULL, 0, &f), CLOUD_HEAD_ACCEPT);
}

static void other_methods_rejected(void **state)
{
	struct cloud_rejection f;

	assert_int_equal(check(CLOUD_METHOD_OTHER, "/api/v1/me", NULL, 0, &f), CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 405);
	assert_string_equal(f.header_name, "Allow");
	assert_string_equal(f.header_value, "GET, HEAD");
	assert_int_equal(check(CLOUD_METHOD_OTHER, "/nothing", NULL, 0, &f), CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 404);
}

static void body_without_route_rejected(void **state)
{
	struct cloud_rejection f;

	assert_int_equal(check(CLOUD_METHOD_POST, "/nothing", NULL, 10, &f), CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 404);
	assert_int_equal(check(CLOUD_METHOD_POST, "/api/v1/me", NULL, 10, &f), CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 405);
	assert_int_equal(check(CLOUD_METHOD_POST, NULL, NULL, 10, &f), CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 404);
}

static void body_without_token_gets_401(void **state)
{
	static const char *bad[] = {
		NULL, "", "Basic abc", "Bearer", "Bearer ", "Bearer 0123",
		BEARER "0", "Bearer 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
	};
	struct cloud_rejection f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(CLOUD_METHOD_PUT, PART_PATH, bad[i], 100, &f),
			CLOUD_HEAD_REJECT);
		assert_int_equal(f.status, 401);
		assert_string_equal(f.header_name, "WWW-Authenticate");
		assert_string_equal(f.label, "/api/v1/exams/{uuid}/parts/{n}");
	}
}

static void token_is_checked_in_storage(void **state)
{
	struct cloud_rejection f;

	assert_int_equal(check(CLOUD_METHOD_PUT, PART_PATH, BEARER, MAX_BODY, &f),
		CLOUD_HEAD_CHECK_STORAGE);
	assert_int_equal(f.status, 0);
	assert_string_equal(f.label, "/api/v1/exams/{uuid}/parts/{n}");
	assert_int_equal(check(CLOUD_METHOD_POST, "/api/v1/exams", "bearer " TOKEN, 10, &f),
		CLOUD_HEAD_CHECK_STORAGE);
}

static void length_over_route_limit_gets_413(void **state)
{
	struct cloud_rejection f;

	assert_int_equal(check(CLOUD_METHOD_PUT, PART_PATH, BEARER, MAX_BODY + 1, &f),
		CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 413);
	assert_int_equal(check(CLOUD_METHOD_POST, "/api/v1/exams", BEARER, JSON_BODY_MAX + 1, &f),
		CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 413);
	assert_int_equal(check(CLOUD_METHOD_POST, "/api/v1/sessions", NULL, JSON_BODY_MAX + 1, &f),
		CLOUD_HEAD_REJECT);
	assert_int_equal(f.status, 413);
	assert_int_equal(check(CLOUD_METHOD_POST, "/api/v1/sessions", NULL, JSON_BODY_MAX, &f),
		CLOUD_HEAD_ACCEPT);
}

static void bearer_returns_token(void **state)
{
	struct cloud_rejection f;

	assert_string_equal(cloud_router_bearer(BEARER, &f), TOKEN);
	assert_null(cloud_router_bearer(NULL, &f));
	assert_string_equal(f.error, "unauthorized");
	assert_null(cloud_router_bearer("Bearer x", &f));
	assert_string_equal(f.error, "invalid_token");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_routes_match),
		cmocka_unit_test(uuid_and_part_parameters),
		cmocka_unit_test(malformed_parameters_not_found),
		cmocka_unit_test(token_parameter),
		cmocka_unit_test(unknown_paths_not_found),
		cmocka_unit_test(wrong_method_lists_allowed),
		cmocka_unit_test(every_route_reachable),
		cmocka_unit_test(bodyless_heads_accepted),
		cmocka_unit_test(other_methods_rejected),
		cmocka_unit_test(body_without_route_rejected),
		cmocka_unit_test(body_without_token_gets_401),
		cmocka_unit_test(token_is_checked_in_storage),
		cmocka_unit_test(length_over_route_limit_gets_413),
		cmocka_unit_test(bearer_returns_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
