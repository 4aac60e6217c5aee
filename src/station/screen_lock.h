/* The lock screen and the station's idle-lock policy, on the shell's idle
 * lock (ui.h).
 *
 * A lock applies only while someone is logged in: after the cached
 * idle_lock_minutes site setting without a key or click, or at once on the
 * screens' l key.  The lock screen covers the whole body and the image
 * area, so no patient data or image stays visible.  Only the logged-in
 * user's password, checked against the cached offline verifier, unlocks
 * it.  Another user logs the first one out with F2: the token is revoked
 * and the station returns to its login screen, or quits when it was
 * started without one (the direct --scanner --pin mode). */
#ifndef STATION_SCREEN_LOCK_H
#define STATION_SCREEN_LOCK_H

#include "station/cloud_client.h"
#include "station/store.h"
#include "station/ui.h"

/* Test-only: the idle time in seconds (1 to 86400) instead of the site
 * setting, so tests need not wait for whole minutes.  Not for production;
 * the station logs a warning when it is set. */
#define LOCK_TEST_IDLE_ENV "SONO_TEST_IDLE_SECONDS"

/* What the lock needs from the station.  Filled by the caller, which keeps
 * it alive until ui_close(). */
struct lock_policy {
	struct store *store;        /* the UI thread's store connection; NULL: no lock */
	struct cloud_options cloud; /* revokes the token at logout */
	int logout_act;             /* UI_ACT_UNWIND to return to a login screen at the
	                             * bottom of the stack, UI_ACT_QUIT without one */
};

/* Installs the policy as the shell's idle lock. */
void lock_install(struct ui *ui, struct lock_policy *policy);

/* Logs the current user out: revokes the token on the cloud (the login
 * ends on the station even when the cloud cannot be reached), tells the
 * shell that no lock applies, and shows the outcome as a message.
 * Returns the UI_ACT_* flags for the calling key callback: the policy's
 * logout_act, or UI_ACT_REDRAW when the store failed and the login
 * stays. */
int lock_logout(struct ui *ui, struct lock_policy *policy);

#endif
