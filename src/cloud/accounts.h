/* User accounts: roles, password hashing, login with throttling, and the
 * password rules.
 *
 * Passwords are hashed with PBKDF2-HMAC-SHA256 and a 16-byte random salt.
 * The iteration count is stored per user; a login that succeeds with fewer
 * iterations than the current target rehashes the password.  A login with an
 * unknown user name still runs one PBKDF2, and both cases return the same
 * code, so neither the response nor its timing reveals whether a name
 * exists.
 *
 * Throttling: after ACCOUNTS_FREE_FAILURES failed logins for one user name,
 * or ACCOUNTS_ADDR_FREE_FAILURES from one client address, further attempts
 * are rejected until a delay that doubles with each failure has passed.
 * Throttling is keyed by the name as typed, so unknown names are throttled
 * exactly like real ones.
 *
 * Password rules follow NIST SP 800-63B-4 for a password that is the only
 * factor: 15 to 256 characters (counted as Unicode code points), no
 * composition rules, and rejection of common or breached passwords, repeated
 * or sequential characters, the user name and the service name, with the
 * reason returned to show to the user.
 * NOTE: passwords are hashed as typed, without Unicode normalisation (such
 * as NFKC), so the same password typed in another normalisation form on
 * another keyboard does not match. */
#ifndef CLOUD_ACCOUNTS_H
#define CLOUD_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/db.h"

#define ACCOUNTS_PBKDF2_ITERATIONS 600000u
#define ACCOUNTS_SALT_LEN 16
#define ACCOUNTS_HASH_LEN 32
#define ACCOUNTS_PASSWORD_MIN 15  /* code points */
#define ACCOUNTS_PASSWORD_MAX 256 /* code points */
#define ACCOUNTS_PASSWORD_MAX_BYTES 1024
#define ACCOUNTS_NAME_MAX 64      /* bytes of [a-z0-9._-] */
#define ACCOUNTS_EMAIL_MAX 254
#define ACCOUNTS_FREE_FAILURES 5
#define ACCOUNTS_ADDR_FREE_FAILURES 20
#define ACCOUNTS_LOCK_BASE_SECONDS 30
#define ACCOUNTS_LOCK_MAX_SECONDS 3600
#define ACCOUNTS_REASON_MAX 160

enum account_role {
	ROLE_ADMINISTRATOR,
	ROLE_CLINICIAN,
	ROLE_OBSERVER,
};

struct account {
	int64_t id;
	char name[ACCOUNTS_NAME_MAX + 1];
	char email[ACCOUNTS_EMAIL_MAX + 1];
	enum account_role role;
	int disabled;
	int has_password; /* 0 until the user completes enrolment */
	int64_t created_at;
};

/* Returns "administrator", "clinician" or "observer". */
const char *accounts_role_name(enum account_role role);
/* Parses a role name.  Returns 0 or SONO_EINVAL. */
int accounts_parse_role(const char *name, enum account_role *out);

/* Returns 1 when name is 1..64 bytes of lowercase letters, digits, '.', '_'
 * and '-' starting with a letter or digit, else 0. */
int accounts_name_valid(const char *name);
/* Returns 1 for a plausible single address (local@domain, no spaces or
 * control characters, at most 254 bytes), else 0. */
int accounts_email_valid(const char *email);

/* Creates an account without a password.  Returns 0 and sets *id,
 * SONO_EINVAL for a bad name or email, SONO_ESTATE when the name exists. */
int accounts_add(struct db *db, const char *name, const char *email,
	enum account_role role, int64_t *id);

/* Look-ups fill *out.  Return 0 or SONO_ENOTFOUND. */
int accounts_get_by_name(struct db *db, const char *name, struct account *out);
int accounts_get_by_id(struct db *db, int64_t id, struct account *out);

/* Sets or clears the disabled flag.  Disabling also revokes every session
 * of the user.  Returns 0 or SONO_ENOTFOUND. */
int accounts_set_disabled(struct db *db, const char *name, int disabled);

/* Checks password against the rules for the user name.  Returns 0, or
 * SONO_EINVAL and writes a one-sentence reason for the user to reason.
 * Returns SONO_ENOTFOUND (with a reason) when the common-password list
 * cannot be loaded, so passwords are never accepted unchecked. */
int accounts_password_check(const char *name, const char *password,
	char *reason, size_t reasonlen);

/* Checks the rules, then stores a new hash for the user.  Returns 0,
 * SONO_EINVAL with a reason, or SONO_ENOTFOUND.  Does not revoke sessions;
 * the reset path does that. */
int accounts_set_password(struct db *db, int64_t user_id, const char *password,
	char *reason, size_t reasonlen);

/* Verifies a login from client address addr (text form, may be "").
 * Returns 0 and fills *out on success.  Returns SONO_EAUTH for an unknown
 * name, a wrong password, a disabled account or one without a password yet.
 * Returns SONO_ESTATE while the name or the address is throttled, and sets
 * *locked_until to the time (epoch seconds) of the next allowed attempt.
 * Writes login.success or login.failure to the audit table.  The PBKDF2
 * runs outside any database transaction. */
int accounts_login(struct db *db, const char *name, const char *password,
	const char *addr, struct account *out, int64_t *locked_until);

/* Sets the PBKDF2 target for new hashes and upgrades.  Tests lower it to
 * keep runs short; the programs never call it. */
void accounts_set_iterations(unsigned iterations);
unsigned accounts_iterations(void);

/* Loads the common-password list (one password a line, '#' comments) from
 * path; NULL means $SONOCLOUD_PASSWORD_LIST, else the installed
 * SONO_DATADIR/common-passwords.txt.  Called lazily by the first check; call
 * it early to report a missing file at start-up.  Returns 0,
 * SONO_ENOTFOUND or SONO_EIO. */
int accounts_load_password_list(const char *path);
/* Frees the loaded list (for leak checkers at exit). */
void accounts_free_password_list(void);

#endif
