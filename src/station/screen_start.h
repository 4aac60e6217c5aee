/* The start screen: the bottom of the screen stack when the station logs in
 * before it scans, that is when a cloud URL is configured and the scanner
 * has no operator-given pin.
 *
 * It opens the login screen while nobody is logged in (or the login has
 * ended).  Once someone is, it resolves the scanner address against the
 * user's permitted scanners (permit.h) and opens the live screen through
 * the caller's open_live callback.  A refused or unreachable scanner is
 * shown here with the reason; Enter tries again, o logs out, F10 quits.
 * When the live screen closes after a logout, the login screen comes back;
 * when it closes while the user is still logged in, the station quits, as
 * it does when the operator closes the login screen. */
#ifndef STATION_SCREEN_START_H
#define STATION_SCREEN_START_H

#include <stddef.h>

#include "station/identity.h"
#include "station/screen_lock.h"
#include "station/ui.h"

struct start_options {
	struct lock_policy *lock;   /* store, cloud options and logout; outlives the shell */
	char host[256];             /* scanner address */
	unsigned port;
	struct station_identity identity; /* certificate presented to the scanner */
	/* Pushes the live screen on the scanner with this pin and certificate
	 * serial and returns 0, or returns a negative SONO_E* code with a
	 * sentence for the operator in err. */
	int (*open_live)(struct ui *ui, void *arg, const char *pin, const char *serial,
		char *err, size_t errlen);
	void *open_live_arg;
};

/* Pushes the start screen; opt is copied. */
void start_screen_push(struct ui *ui, const struct start_options *opt);

#endif
