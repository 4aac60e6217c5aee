/* The operator workflow of the station screens: one current exam that the
 * live screen captures into, and the keys that move between the screens.
 *
 * Keys of the live screen: a enters the current exam's patient, f completes
 * the exam after a confirming y and starts a new unassigned one, e or F9
 * opens the exam list, u opens the exam queue, l locks the screen and o
 * logs the user out after a confirming y.  Enter on a draft or
 * scanning exam in the list makes it the current one.  The flow owns the
 * UI thread's store connection and, once the queue screen opens, the
 * uploader with its own connection. */
#ifndef STATION_FLOW_H
#define STATION_FLOW_H

#include "sono/crypto.h"
#include "station/live.h"
#include "station/screen_lock.h"
#include "station/store.h"
#include "station/uploader.h"

struct flow;

/* Creates the flow on store s (may be NULL: captures then stay in memory
 * and the workflow keys explain why they do nothing).  The flow takes
 * ownership of s.  When upload is not NULL, the queue screen can be opened:
 * worker is the uploader's own connection to the same store, also owned by
 * the flow from here on.  Never returns NULL (UI layer). */
struct flow *flow_new(struct store *s, struct store *worker,
	const struct uploader_options *upload);

/* Points opt->hooks at the flow and, with a store, creates a new unassigned
 * exam as the current one, with opt->sink saving into it.  Logs the exam,
 * so call it once the log goes to its file.  Returns 0, or a negative
 * SONO_E* code with opt->sink unchanged: SONO_ENOTFOUND without a store,
 * or the error that stopped the exam's creation. */
int flow_begin(struct flow *f, struct live_options *opt);

/* Gives the flow the lock policy for the l and o keys; lock must outlive
 * the flow.  Without one, l explains that nobody is logged in and o does
 * nothing. */
void flow_set_lock(struct flow *f, struct lock_policy *lock);

/* Returns the UI thread's store connection, or NULL. */
struct store *flow_store(const struct flow *f);

/* Stops the uploader, deletes the current exam when it is still an empty
 * draft without a patient, and closes the store.  Writes the UUID of the
 * current exam to kept when it has captures, else "".  Accepts NULL. */
void flow_close(struct flow *f, char kept[CRYPTO_UUID_LEN]);

#endif
