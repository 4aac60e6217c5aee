/* The station store fixture of the unit tests (see store_fixture.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_fixture.h"

int store_fixture_setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	struct store_options opt = { 0 };
	char err[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-store-fixture-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	opt.data_dir = f->dir;
	opt.create = 1;
	if (store_open(&f->s, &opt, err, sizeof(err)) != 0)
		return -1;
	*state = f;
	return 0;
}

int store_fixture_teardown(void **state)
{
	struct store_fixture *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}
