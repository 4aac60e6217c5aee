/* The audit table: who did what to which record, from where, and whether it
 * worked.  Rows are only ever appended.
 *
 * Actions in use: init, login.success, login.failure, login.throttled,
 * session.revoke, user.add, user.disable, user.enable, enrol.issue,
 * reset.issue, reset.request, reset.complete, reset.failure, scanner.add,
 * grant.add, grant.revoke, settings.set, exam.create, exam.part.write,
 * exam.commit, exam.list, exam.read and exam.part.read.  A target is a user
 * name, a scanner serial, "USER:SERIAL" for grants, a settings key, an exam
 * UUID, or for exam.list whether PHI was included; never PHI, a password or
 * a token. */
#ifndef CLOUD_AUDIT_H
#define CLOUD_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "cloud/db.h"

/* Appends one row stamped with db_now().  actor is a user name ("" for
 * anonymous requests, "admin-cli" for the command line); addr is the client
 * address or "".  outcome is "ok", "denied", "failed" or another short word.
 * Failures are logged and returned (SONO_EDB), never silently dropped. */
int audit_write(struct db *db, const char *actor, const char *action,
	const char *target, const char *addr, const char *outcome);

/* Prints rows with time >= since (epoch seconds) as tab-separated lines
 * "TIME\tACTOR\tACTION\tTARGET\tADDRESS\tOUTCOME", TIME in UTC ISO 8601.
 * Text fields pass through the terminal sanitiser.  Returns 0 or SONO_EDB. */
int audit_print(struct db *db, int64_t since, FILE *out);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" (UTC), or a number of
 * seconds since the epoch.  Returns 0 or SONO_EINVAL. */
int audit_parse_time(const char *s, int64_t *out);

#endif
