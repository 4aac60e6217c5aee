/* The thread pools for deferred handler work: PBKDF2 password checks on
 * one, storage calls on the other, so the event loops keep serving other
 * requests.
 * A finished job's response is sent from the request's own event loop
 * through event_base_once, because an evhttp request belongs to one loop. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "sono/error.h"
#include "sono/log.h"
#include "cloud/http_internal.h"

/* Niceness of password threads relative to the event loops and the
 * storage threads: on a machine with few cores the others then get the CPU
 * first while hashes run. */
#define SLOW_THREAD_NICE 5

static void http_job_send_cb(evutil_socket_t fd, short what, void *arg)
{
	http_send(arg);
}

/* Hands r back to its event loop for sending. */
static void http_slow_finish(struct cloud_request *r)
{
	const struct timeval now = { 0, 0 };

	if (event_base_once(r->worker->base, -1, EV_TIMEOUT, http_job_send_cb, r, &now) < 0) {
		LOG_ERROR("%s from %s: cannot return the finished request to its event loop; "
			"the client gets no answer", r->label, r->peer);
		http_request_free(r);
	}
}

static struct http_job *http_slow_pop(struct http_slow *s)
{
	struct http_job *job;

	pthread_mutex_lock(&s->lock);
	while (s->head == NULL && !s->stopping)
		pthread_cond_wait(&s->wake, &s->lock);
	job = s->stopping ? NULL : s->head;
	if (job != NULL) {
		s->head = job->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued--;
	}
	pthread_mutex_unlock(&s->lock);
	return job;
}

static void *http_slow_main(void *arg)
{
	struct http_slow *s = arg;
	struct http_job *job;

	/* Linux applies a niceness given to setpriority to the calling thread
	 * alone when the "process" id is a thread id. */
	if (s->nice > 0 && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), s->nice) < 0)
		LOG_DEBUG("cannot lower the priority of a pool thread");
	while ((job = http_slow_pop(s)) != NULL) {
		if (job->check != NULL) {
			http_gate_check_run(job->check);
		} else {
			job->work(job->request, job->arg);
			http_slow_finish(job->request);
		}
		free(job);
	}
	return NULL;
}

/* Initialises s and starts its threads.  s->server is set once the lock
 * exists, which is what the stop functions check. */
static int http_pool_start(struct http_slow *s, struct cloud_http *h, int threads, int nice,
	const char *name, char *err, size_t errlen)
{
	int i;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->server = h;
	s->threads = threads;
	s->nice = nice;
	for (i = 0; i < s->threads; i++) {
		if (pthread_create(&s->thread_ids[i], NULL, http_slow_main, s) != 0) {
			snprintf(err, errlen, "cannot start %s thread %d", name, i);
			return SONO_EIO;
		}
		s->started++;
	}
	return 0;
}

int http_slow_start(struct cloud_http *h, char *err, size_t errlen)
{
	int rc;

	rc = http_pool_start(&h->pools[CLOUD_POOL_PASSWORD], h, h->opt.slow_threads,
		SLOW_THREAD_NICE, "password", err, errlen);
	if (rc == 0)
		rc = http_pool_start(&h->pools[CLOUD_POOL_STORAGE], h, h->opt.storage_threads, 0,
			"storage", err, errlen);
	return rc;
}

/* Tells the threads of s to end after their current job. */
static void http_pool_signal_stop(struct http_slow *s)
{
	if (s->server == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Joins the threads of s and replies 503 to the jobs still queued. */
static void http_pool_drain(struct http_slow *s)
{
	struct http_job *job, *next;
	int i;

	if (s->server == NULL)
		return;
	for (i = 0; i < s->started; i++)
		pthread_join(s->thread_ids[i], NULL);
	s->started = 0;
	for (job = s->head; job != NULL; job = next) {
		next = job->next;
		if (job->check != NULL) {
			http_gate_check_cancel(job->check);
		} else {
			cloud_reply_error(job->request, 503, "unavailable",
				"The server is shutting down.");
			http_slow_finish(job->request);
		}
		free(job);
	}
	s->head = s->tail = NULL;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	s->server = NULL;
}

void http_slow_stop(struct cloud_http *h)
{
	int i;

	for (i = 0; i < CLOUD_POOL_COUNT; i++)
		http_pool_signal_stop(&h->pools[i]);
	for (i = 0; i < CLOUD_POOL_COUNT; i++)
		http_pool_drain(&h->pools[i]);
}

/* Appends job to the queue of s and wakes a thread.  Returns 0, or
 * SONO_ETOOBIG (job is freed) when the queue is full or s is stopping. */
static int http_pool_push(struct http_slow *s, struct http_job *job)
{
	pthread_mutex_lock(&s->lock);
	if (s->stopping || s->queued >= s->server->opt.slow_queue_max) {
		pthread_mutex_unlock(&s->lock);
		free(job);
		return SONO_ETOOBIG;
	}
	if (s->tail != NULL)
		s->tail->next = job;
	else
		s->head = job;
	s->tail = job;
	s->queued++;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int cloud_request_defer(struct cloud_request *r, enum cloud_pool pool, cloud_http_work work,
	void *arg)
{
	struct http_job *job;
	int rc;

	if (r->deferred || pool < 0 || pool >= CLOUD_POOL_COUNT)
		return SONO_ESTATE;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return SONO_ENOMEM;
	job->request = r;
	job->work = work;
	job->arg = arg;

	/* Set before the push: a pool thread may finish the job at once. */
	r->deferred = 1;
	rc = http_pool_push(&r->worker->server->pools[pool], job);
	if (rc < 0)
		r->deferred = 0;
	return rc;
}

int http_slow_queue_check(struct cloud_http *h, struct http_gate_check *k)
{
	struct http_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return SONO_ENOMEM;
	job->check = k;
	return http_pool_push(&h->pools[CLOUD_POOL_STORAGE], job);
}
