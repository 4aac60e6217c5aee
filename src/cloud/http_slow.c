/* The slow-work pool: a few threads that run deferred handler work such as
 * PBKDF2 password checks, so the event loops keep serving other requests.
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

/* Niceness of slow-work threads relative to the event loops: on a machine
 * with few cores the loops then get the CPU first while hashes run. */
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
	struct cloud_http *h = arg;
	struct http_job *job;

	/* Linux applies a niceness given to setpriority to the calling thread
	 * alone when the "process" id is a thread id. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), SLOW_THREAD_NICE) < 0)
		LOG_DEBUG("cannot lower the priority of a slow-work thread");
	while ((job = http_slow_pop(&h->slow)) != NULL) {
		job->work(job->request, job->arg);
		http_slow_finish(job->request);
		free(job);
	}
	return NULL;
}

int http_slow_start(struct cloud_http *h, char *err, size_t errlen)
{
	struct http_slow *s = &h->slow;
	int i;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	for (i = 0; i < h->opt.slow_threads; i++) {
		if (pthread_create(&s->threads[i], NULL, http_slow_main, h) != 0) {
			snprintf(err, errlen, "cannot start slow-work thread %d", i);
			return SONO_EIO;
		}
		s->started++;
	}
	return 0;
}

void http_slow_stop(struct cloud_http *h)
{
	struct http_slow *s = &h->slow;
	struct http_job *job, *next;
	int i;

	if (s->started == 0 && s->head == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->started; i++)
		pthread_join(s->threads[i], NULL);
	s->started = 0;

	for (job = s->head; job != NULL; job = next) {
		next = job->next;
		cloud_reply_error(job->request, 503, "unavailable", "The server is shutting down.");
		http_slow_finish(job->request);
		free(job);
	}
	s->head = s->tail = NULL;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
}

int cloud_request_defer(struct cloud_request *r, cloud_http_work work, void *arg)
{
	struct http_slow *s = &r->worker->server->slow;
	struct http_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return SONO_ENOMEM;
	job->request = r;
	job->work = work;
	job->arg = arg;

	pthread_mutex_lock(&s->lock);
	if (s->stopping || s->queued >= r->worker->server->opt.slow_queue_max) {
		pthread_mutex_unlock(&s->lock);
		free(job);
		return SONO_ETOOBIG;
	}
	r->deferred = 1;
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
