/* The stations sonoprobe streams to: SHA-256 certificate fingerprints from
 * --allow-station and --stations files. */
#ifndef PROBE_STATIONS_H
#define PROBE_STATIONS_H

#include <stddef.h>
#include <stdio.h>

struct station_list {
	char **fingerprints; /* normalised "SHA256:<64 lowercase hex>" */
	size_t count;
	size_t capacity;
};

/* Adds a fingerprint (hex in either case).  Returns 0, SONO_EINVAL for a
 * malformed fingerprint, or SONO_ENOMEM. */
int station_list_add(struct station_list *list, const char *fingerprint);

/* Adds every fingerprint in a file: one per line, with blank lines, lines
 * starting with '#' and text after a '#' ignored.  Returns 0, or a negative
 * SONO_E* code with the file and line in err. */
int station_list_load(struct station_list *list, const char *path, char *err, size_t errlen);

/* Adds every fingerprint read from f, as station_list_load does; name is
 * the file name for err. */
int station_list_read(struct station_list *list, FILE *f, const char *name, char *err,
	size_t errlen);

void station_list_free(struct station_list *list);

#endif
