/* A fresh SQLCipher data folder in a temporary directory for the cloud's
 * unit tests, and a clock the tests move by hand. */
#ifndef TESTS_CLOUD_FIXTURE_H
#define TESTS_CLOUD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/db.h"

struct cloud_fixture {
	char dir[256];
	char data_dir[300];
	struct db *db;
};

static int64_t fixture_time = 1800000000; /* 2027-01-15, moved by tests */

static int64_t fixture_clock(void)
{
	return fixture_time;
}

/* Creates and opens a data folder; returns 0 or a negative SONO_E* code. */
static int fixture_open(struct cloud_fixture *f)
{
	char err[512];
	int rc;

	snprintf(f->dir, sizeof(f->dir), "%s/sono-cloud-test-XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->data_dir, sizeof(f->data_dir), "%s/data", f->dir);
	rc = db_create(f->data_dir, err, sizeof(err));
	if (rc == 0)
		rc = db_open(&f->db, f->data_dir, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "fixture: %s\n", err);
	db_set_clock(fixture_clock);
	return rc;
}

/* Closes the database and removes the temporary folder. */
static void fixture_close(struct cloud_fixture *f)
{
	char cmd[600];

	db_close(f->db);
	f->db = NULL;
	db_set_clock(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fixture: cannot remove %s\n", f->dir);
}

#endif
