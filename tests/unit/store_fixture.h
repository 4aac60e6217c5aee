/* A new station store in a temporary folder for the unit tests, as cmocka
 * setup and teardown functions whose state is a struct store_fixture. */
#ifndef TESTS_STORE_FIXTURE_H
#define TESTS_STORE_FIXTURE_H

#include "station/store.h"

struct store_fixture {
	char dir[64];    /* the temporary data folder */
	struct store *s; /* the store in it, with a raw key file */
};

/* Creates a folder under /tmp and a new store in it.  Returns 0, or -1
 * when either fails. */
int store_fixture_setup(void **state);

/* Closes the store and removes its folder.  Returns 0, or -1 when the
 * folder could not be removed. */
int store_fixture_teardown(void **state);

/* A cmocka test entry that runs test with this fixture.  The file must
 * include cmocka.h before this header. */
#define STORE_FIXTURE_TEST(test) \
	cmocka_unit_test_setup_teardown(test, store_fixture_setup, store_fixture_teardown)

#endif
