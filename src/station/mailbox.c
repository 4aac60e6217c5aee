/* The single-slot newest-frame mailbox between the receive thread and the
 * render loop (see station/mailbox.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "station/mailbox.h"

struct mailbox {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct frame slot;
	int full;      /* slot holds a frame nobody has taken */
	int closed;
	uint64_t put;
	uint64_t dropped;
};

struct mailbox *mailbox_new(void)
{
	struct mailbox *mb = calloc(1, sizeof(*mb));
	pthread_condattr_t attr;

	if (!mb)
		return NULL;
	pthread_mutex_init(&mb->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&mb->ready, &attr);
	pthread_condattr_destroy(&attr);
	return mb;
}

void mailbox_free(struct mailbox *mb)
{
	if (!mb)
		return;
	frame_free(&mb->slot);
	pthread_cond_destroy(&mb->ready);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

int mailbox_put(struct mailbox *mb, struct frame *f)
{
	struct frame old;
	int dropped;

	pthread_mutex_lock(&mb->lock);
	old = mb->slot;
	mb->slot = *f;
	*f = old;
	dropped = mb->full;
	mb->full = 1;
	mb->put++;
	mb->dropped += (uint64_t)dropped;
	pthread_cond_broadcast(&mb->ready);
	pthread_mutex_unlock(&mb->lock);
	return dropped;
}

static void deadline_after(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int mailbox_take(struct mailbox *mb, struct frame *f, int timeout_ms)
{
	struct timespec deadline;
	struct frame old;
	int rc = 0;

	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&mb->lock);
	while (!mb->full && !mb->closed && timeout_ms != 0 && rc != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&mb->ready, &mb->lock);
		else
			rc = pthread_cond_timedwait(&mb->ready, &mb->lock, &deadline);
	}
	if (mb->full) {
		old = *f;
		*f = mb->slot;
		mb->slot = old;
		mb->full = 0;
		rc = 1;
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&mb->lock);
	return rc;
}

void mailbox_close(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	mb->closed = 1;
	pthread_cond_broadcast(&mb->ready);
	pthread_mutex_unlock(&mb->lock);
}

void mailbox_counts(struct mailbox *mb, uint64_t *put, uint64_t *dropped)
{
	pthread_mutex_lock(&mb->lock);
	*put = mb->put;
	*dropped = mb->dropped;
	pthread_mutex_unlock(&mb->lock);
}
