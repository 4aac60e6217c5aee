/* Parsing of the stations that sonoprobe accepts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/tls.h"
#include "probe/stations.h"

#define STATIONS_LINE_MAX 512

int station_list_add(struct station_list *list, const char *fingerprint)
{
	char norm[TLS_FINGERPRINT_LEN];
	char *copy;

	if (tls_pin_normalize(fingerprint, norm) < 0)
		return SONO_EINVAL;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 8;
		char **grown = realloc(list->fingerprints, capacity * sizeof(*grown));

		if (!grown)
			return SONO_ENOMEM;
		list->fingerprints = grown;
		list->capacity = capacity;
	}
	copy = strdup(norm);
	if (!copy)
		return SONO_ENOMEM;
	list->fingerprints[list->count++] = copy;
	return 0;
}

/* Cuts a '#' comment and surrounding white space from line, in place. */
static char *trim_line(char *line)
{
	char *hash = strchr(line, '#');
	char *end;

	if (hash)
		*hash = '\0';
	line += strspn(line, " \t\r\n");
	end = line + strlen(line);
	while (end > line && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	return line;
}

int station_list_read(struct station_list *list, FILE *f, const char *name, char *err,
	size_t errlen)
{
	char line[STATIONS_LINE_MAX], *text;
	unsigned number = 0;
	int rc = 0;

	while (rc == 0 && fgets(line, sizeof(line), f)) {
		number++;
		/* A line fgets had to split would be read as two lines. */
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes; put one "
				"fingerprint on each line", name, number, STATIONS_LINE_MAX - 2);
			return SONO_EINVAL;
		}
		text = trim_line(line);
		if (text[0] == '\0')
			continue;
		rc = station_list_add(list, text);
		if (rc == SONO_EINVAL)
			snprintf(err, errlen, "%s:%u: invalid fingerprint '%.80s'; expected SHA256: "
				"and 64 hex digits", name, number, text);
		else if (rc < 0)
			snprintf(err, errlen, "%s:%u: out of memory", name, number);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read %s", name);
		rc = SONO_EIO;
	}
	return rc;
}

int station_list_load(struct station_list *list, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return SONO_ENOTFOUND;
	}
	rc = station_list_read(list, f, path, err, errlen);
	fclose(f);
	return rc;
}

void station_list_free(struct station_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->fingerprints[i]);
	free(list->fingerprints);
	memset(list, 0, sizeof(*list));
}
