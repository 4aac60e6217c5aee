/* The station's own TLS identity: a self-signed certificate and key that
 * the station presents to scanners, which accept only the fingerprints
 * they were paired with (sonoprobe --allow-station).  The files live in the
 * data folder next to the store, created with mode 0600 on first use. */
#ifndef STATION_IDENTITY_H
#define STATION_IDENTITY_H

#include <stddef.h>

#include "sono/tls.h"

#define STATION_IDENTITY_PATH_MAX 1024

/* An identity loaded by station_identity_load.  An empty cert_file means
 * that the station presents no certificate. */
struct station_identity {
	char cert_file[STATION_IDENTITY_PATH_MAX];
	char key_file[STATION_IDENTITY_PATH_MAX];
	char fingerprint[TLS_FINGERPRINT_LEN];
};

/* Loads station.crt and station.key from data_dir (NULL: the store's
 * default folder), creating the folder (0700) and the files (0600) when
 * they are missing.  Returns 0, or a negative SONO_E* code with err set. */
int station_identity_load(const char *data_dir, struct station_identity *id,
	char *err, size_t errlen);

#endif
