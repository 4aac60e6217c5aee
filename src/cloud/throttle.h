/* Failure counters with a growing lock-out, keyed by a short string such as
 * "name:<hash>" or "addr:192.0.2.7".
 *
 * After free_failures failures within an hour, each further failure locks
 * the key for ACCOUNTS_LOCK_BASE_SECONDS doubled per failure beyond the
 * free ones, at most ACCOUNTS_LOCK_MAX_SECONDS.  Failures older than an
 * hour are forgotten. */
#ifndef CLOUD_THROTTLE_H
#define CLOUD_THROTTLE_H

#include <stdint.h>

#include "cloud/db.h"

/* Sets *locked_until to the end of the key's lock-out, or 0 when none is in
 * force now.  Returns 0 or SONO_EDB. */
int throttle_check(struct db *db, const char *key, int64_t *locked_until);

/* Counts one failure.  *locked_until (may be NULL) gets the new lock-out
 * end, or 0.  Returns 0 or SONO_EDB. */
int throttle_fail(struct db *db, const char *key, int free_failures, int64_t *locked_until);

/* Forgets the key's failures. */
int throttle_clear(struct db *db, const char *key);

#endif
