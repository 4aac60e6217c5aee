/* A single-slot mailbox that hands the newest frame from the scanner's
 * receive thread to the render loop.
 *
 * Putting a frame while an older one is still waiting replaces it (the older
 * frame is dropped and counted), so a slow consumer never builds a backlog.
 * Frames move by swapping pixel buffers: neither side copies pixels and the
 * buffers are reused once the sizes settle. */
#ifndef STATION_MAILBOX_H
#define STATION_MAILBOX_H

#include <stdint.h>

#include "sono/frame.h"

struct mailbox;

/* Returns a new empty mailbox, or NULL when out of memory. */
struct mailbox *mailbox_new(void);

/* Frees the mailbox and a waiting frame; accepts NULL.  No thread may be
 * using it. */
void mailbox_free(struct mailbox *mb);

/* Swaps *f with the slot and marks the slot full.  Afterwards *f holds the
 * previous slot contents (a buffer to reuse, possibly without pixels).
 * Returns 1 when an untaken frame was dropped, else 0. */
int mailbox_put(struct mailbox *mb, struct frame *f);

/* Waits up to timeout_ms (0: do not wait, negative: forever) for a frame and
 * swaps it into *f, handing the mailbox f's old buffer for reuse.
 * Returns 1 when a frame was taken, 0 on timeout or after mailbox_close. */
int mailbox_take(struct mailbox *mb, struct frame *f, int timeout_ms);

/* Wakes every waiter; later takes return at once once the slot is empty. */
void mailbox_close(struct mailbox *mb);

/* Number of frames put and dropped since the mailbox was created. */
void mailbox_counts(struct mailbox *mb, uint64_t *put, uint64_t *dropped);

#endif
