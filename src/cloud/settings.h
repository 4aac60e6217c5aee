/* Site settings that stations fetch after login.
 *
 * Keys and their values:
 *   presets            JSON array of preset names, e.g. ["abdomen","vascular"]
 *   retention_days     integer 0..3650: days a station keeps an exported exam
 *   idle_lock_minutes  integer 1..240: station screen lock after idle time
 *   offline_login_days integer 0..90: days a cached login works offline
 *   dicom_destinations JSON array of {name, host, port, ae_title, tls}
 * Unset keys return their defaults. */
#ifndef CLOUD_SETTINGS_H
#define CLOUD_SETTINGS_H

#include <stddef.h>

#include <jansson.h>

#include "cloud/db.h"

/* Validates and stores one key.  Returns 0, or SONO_EINVAL with a reason
 * for an unknown key or a bad value. */
int settings_set(struct db *db, const char *key, const char *value,
	char *reason, size_t reasonlen);

/* Sets *out to a new JSON object with every key (stored or default).
 * The caller releases it with json_decref().  Returns 0 or SONO_EDB. */
int settings_get_all(struct db *db, json_t **out);

#endif
