/* What the station keeps from the cloud in its encrypted store: the current
 * login session, the offline verifier of each user who logged in online,
 * each user's permitted scanners and the site settings.
 *
 * The tables come from migration store_cloud_schema (listed in
 * store_schema.c).  Nothing here is a password: the offline verifier is
 * PBKDF2-HMAC-SHA256 of the password with a per-user salt, and the session
 * token sits only inside the encrypted database.
 *
 * Every function returns 0 or a negative SONO_E* code; lookups return
 * SONO_ENOTFOUND when there is no row. */
#ifndef STATION_STORE_CLOUD_H
#define STATION_STORE_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#include "sono/tls.h"
#include "station/store.h"

#define STORE_CLOUD_URL_MAX 1024
#define STORE_CLOUD_NAME_MAX 128
#define STORE_CLOUD_ROLE_MAX 32
#define STORE_CLOUD_TOKEN_MAX 128
#define STORE_CLOUD_SERIAL_MAX 64
#define STORE_CLOUD_MODEL_MAX 128
#define STORE_CLOUD_SALT_LEN 16
#define STORE_CLOUD_VERIFIER_LEN 32
/* Most scanners cached for one user; a longer list from the cloud is cut
 * here and the cut logged. */
#define STORE_CLOUD_SCANNERS_MAX 256

/* The migration SQL that creates the tables of this module. */
extern const char store_cloud_schema[];

/* The one current login of the station.  token is empty after an offline
 * login.  Times are seconds since the epoch. */
struct store_cloud_session {
	char cloud_url[STORE_CLOUD_URL_MAX];
	char username[STORE_CLOUD_NAME_MAX];
	char role[STORE_CLOUD_ROLE_MAX];
	char token[STORE_CLOUD_TOKEN_MAX];
	int64_t token_expires_at; /* the cloud's expiry of token; 0 offline */
	int64_t login_at;         /* this login, online or offline */
	int64_t expires_at;       /* the station ends the login at this time */
	int offline;
};

/* A cached offline verifier of one user. */
struct store_cloud_verifier {
	char username[STORE_CLOUD_NAME_MAX];
	char cloud_url[STORE_CLOUD_URL_MAX];
	char role[STORE_CLOUD_ROLE_MAX];
	uint8_t salt[STORE_CLOUD_SALT_LEN];
	unsigned iterations;
	uint8_t verifier[STORE_CLOUD_VERIFIER_LEN];
	int64_t online_at; /* last successful online login */
};

/* One scanner a user may connect to. */
struct store_cloud_scanner {
	char serial[STORE_CLOUD_SERIAL_MAX];
	char model[STORE_CLOUD_MODEL_MAX];
	char fingerprint[TLS_FINGERPRINT_LEN]; /* lowercase "SHA256:<hex>" */
};

/* Replaces the current session.  The token is written only to the store. */
int store_cloud_session_save(struct store *s, const struct store_cloud_session *sess);

/* Loads the current session into out (the caller wipes out->token with
 * crypto_wipe when done).  SONO_ENOTFOUND when nobody is logged in. */
int store_cloud_session_load(struct store *s, struct store_cloud_session *out);

/* Deletes the current session; not an error when there is none. */
int store_cloud_session_clear(struct store *s);

/* Inserts or replaces the verifier of v->username. */
int store_cloud_verifier_save(struct store *s, const struct store_cloud_verifier *v);

/* Loads the verifier of username and cloud_url into out. */
int store_cloud_verifier_load(struct store *s, const char *username, const char *cloud_url,
	struct store_cloud_verifier *out);

/* Replaces the cached scanner list of username with the n entries of list,
 * in one transaction. */
int store_cloud_scanners_replace(struct store *s, const char *username,
	const struct store_cloud_scanner *list, size_t n);

/* Copies at most max cached scanners of username into list and their count
 * into *n. */
int store_cloud_scanners_list(struct store *s, const char *username,
	struct store_cloud_scanner *list, size_t max, size_t *n);

/* Replaces all cached settings with the members of settings_json (a JSON
 * object as GET /settings returns it), in one transaction.  Returns
 * SONO_EINVAL when it is not a JSON object. */
int store_cloud_settings_replace(struct store *s, const char *settings_json);

/* Returns the cached integer setting key in [min, max] through *value, or
 * def when it is missing or not an integer in range. */
int store_cloud_setting_long(struct store *s, const char *key, long def, long min, long max,
	long *value);

#endif
