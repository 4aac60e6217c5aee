/* The append-only audit table (see audit.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/audit.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"

/* Fields come partly from clients (a typed user name, a requested UUID), so
 * each is cut to a fixed size before it is stored. */
#define AUDIT_FIELD_MAX 128

static const char *clip(const char *s, char out[AUDIT_FIELD_MAX + 1])
{
	snprintf(out, AUDIT_FIELD_MAX + 1, "%s", s ? s : "");
	return out;
}

int audit_write(struct db *db, const char *actor, const char *action,
	const char *target, const char *addr, const char *outcome)
{
	char actor_c[AUDIT_FIELD_MAX + 1], target_c[AUDIT_FIELD_MAX + 1], addr_c[AUDIT_FIELD_MAX + 1];
	struct db_value v[6] = {
		DB_V_INT(db_now()),
		DB_V_TEXT(clip(actor, actor_c)),
		DB_V_TEXT(action),
		DB_V_TEXT(clip(target, target_c)),
		DB_V_TEXT(clip(addr, addr_c)),
		DB_V_TEXT(outcome),
	};
	int rc;

	rc = db_exec(db, "INSERT INTO audit (time, actor, action, target, address, outcome)"
		" VALUES (?, ?, ?, ?, ?, ?)", v, 6, NULL, NULL);
	if (rc != SONO_OK)
		LOG_ERROR("audit row for %s on %s not written: %s", action, target ? target : "",
			sono_strerror(rc));
	return rc;
}

static void format_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

static int print_row(void *arg, const struct db_value *cols, size_t ncols)
{
	FILE *out = arg;
	char when[32];
	char field[5][512];
	size_t i;

	if (ncols != 6 || cols[0].type != DB_INT)
		return SONO_EDB;
	format_time(cols[0].i, when, sizeof(when));
	for (i = 0; i < 5; i++) {
		const struct db_value *c = &cols[i + 1];

		if (c->type == DB_TEXT)
			sanitize_text(c->text, c->len, field[i], sizeof(field[i]), 0);
		else
			field[i][0] = '\0';
	}
	fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", when, field[0], field[1], field[2],
		field[3], field[4]);
	return 0;
}

int audit_print(struct db *db, int64_t since, FILE *out)
{
	struct db_value v = DB_V_INT(since);

	return db_exec(db, "SELECT time, actor, action, target, address, outcome FROM audit"
		" WHERE time >= ? ORDER BY id", &v, 1, print_row, out);
}

/* Converts a UTC calendar time to epoch seconds without touching TZ,
 * after Howard Hinnant's days_from_civil algorithm. */
static int64_t utc_seconds(int64_t y, int64_t m, int64_t d, int64_t hh, int64_t mm, int64_t ss)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss;
}

static int parse_calendar(const char *s, int64_t *out)
{
	int y, m, d, hh = 0, mm = 0, ss = 0, used = 0;
	size_t len = strlen(s);

	if (len == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && used == 10)
		;
	else if (len == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &m, &d, &hh, &mm, &ss,
			&used) == 6 && used == 20)
		;
	else
		return SONO_EINVAL;
	if (m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
		return SONO_EINVAL;
	*out = utc_seconds(y, m, d, hh, mm, ss);
	return SONO_OK;
}

int audit_parse_time(const char *s, int64_t *out)
{
	char *end;
	long long n;

	if (parse_calendar(s, out) == SONO_OK)
		return SONO_OK;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0)
		return SONO_EINVAL;
	*out = n;
	return SONO_OK;
}
