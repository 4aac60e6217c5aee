/* The station's login: online against the cloud, offline against a cached
 * verifier, and logout.
 *
 * An online login posts the credentials to /sessions, then pulls /me,
 * /scanners and /settings and caches them in the store along with an
 * offline verifier (PBKDF2-HMAC-SHA256 of the password with a new random
 * salt, never the password).  When the cloud is unreachable, the same user
 * may log in offline against that verifier for offline_login_days (a cloud
 * setting, 0 disables offline login) after their last online login.
 *
 * Login states, kept as the one cloud_session row of the store:
 *   logged out -> online (token set) or offline (no token) -> logged out.
 * A login ends at logout, or SESSION_MAX_SECONDS after it started, or for an
 * offline login at the end of the offline window, whichever comes first.
 *
 * Functions return 0 or a negative SONO_E* code and write a sentence for
 * the operator to err.  Passwords are only read, never copied or stored. */
#ifndef STATION_SESSION_H
#define STATION_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "station/cloud_client.h"
#include "station/store_cloud.h"

/* Longest a station login lasts, matching the cloud's absolute session
 * lifetime default of 12 hours. */
#define SESSION_MAX_SECONDS (12 * 3600)
/* PBKDF2 iterations of a new offline verifier (OWASP's 2023 figure, as the
 * cloud uses for its own password hashes). */
#define SESSION_VERIFIER_ITERATIONS 600000u
/* Defaults of the cloud settings the station uses when none is cached. */
#define SESSION_OFFLINE_DAYS_DEFAULT 7
#define SESSION_IDLE_LOCK_MINUTES_DEFAULT 5

/* The steps of a login, each of which can take a while.  The online step
 * waits for the cloud's round trips, up to the connect timeout when the
 * cloud is unreachable, and both steps run a PBKDF2 of the password
 * (SESSION_VERIFIER_ITERATIONS for verifiers this station writes). */
enum session_step {
	SESSION_STEP_CLOUD,   /* the online login and caching what the cloud returns */
	SESSION_STEP_OFFLINE, /* the check against the cached offline verifier */
};

/* A callback that session_login() runs before each step it takes, so a
 * screen can show what the station is waiting for. */
struct session_progress {
	void (*step)(void *arg, enum session_step step);
	void *arg;
};

/* Logs username in.  Tries the cloud first; when it is unreachable and
 * allow_offline is set, falls back to the cached verifier.  progress (may
 * be NULL) is called before each step.  On success the session is in the
 * store and, when out is not NULL, copied to out (the caller wipes
 * out->token).  res (may be NULL) gets the cloud's response.
 * Returns 0; SONO_EAUTH for wrong credentials (online or offline);
 * SONO_ESTATE for a locked account, or an offline login outside its window
 * or never cached; SONO_ETLS for a certificate mismatch; SONO_EIO or
 * SONO_ETIMEOUT when the cloud is unreachable and offline login is not
 * possible; SONO_EDB for a store failure. */
int session_login(struct store *s, const struct cloud_options *opt, const char *username,
	const char *password, int allow_offline, const struct session_progress *progress,
	struct store_cloud_session *out, struct cloud_result *res, char *err, size_t errlen);

/* Ends the current login.  With a token, revokes it on the cloud first
 * (DELETE /sessions/current); the local session is deleted even when the
 * cloud cannot be reached, and then SONO_EIO says the token may still be
 * live until it expires.  Returns 0, SONO_ENOTFOUND when nobody was logged
 * in, or the revocation's error. */
int session_logout(struct store *s, const struct cloud_options *opt, char *err, size_t errlen);

/* Loads the current login into out.  Returns 0, SONO_ENOTFOUND when nobody
 * is logged in, or SONO_ESTATE when the login has ended (the row is then
 * deleted).  The caller wipes out->token. */
int session_current(struct store *s, struct store_cloud_session *out, char *err, size_t errlen);

/* Checks password against the cached verifier of the current user, for the
 * idle lock.  Returns 0, SONO_EAUTH for a wrong password, SONO_ENOTFOUND
 * when nobody is logged in or no verifier is cached. */
int session_unlock(struct store *s, const char *password);

/* Returns the cached idle_lock_minutes setting (1 to 240, default 5). */
long session_idle_lock_minutes(struct store *s);

/* Returns the current time in seconds since the epoch. */
int64_t session_now(void);

#endif
