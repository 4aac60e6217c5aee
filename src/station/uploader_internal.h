/* State shared by uploader.c (queue, passes, thread) and uploader_exam.c
 * (sending one exam); not for other modules. */
#ifndef STATION_UPLOADER_INTERNAL_H
#define STATION_UPLOADER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "station/uploader.h"

struct uploader {
	struct store *s;
	struct uploader_options opt;
	pthread_mutex_t lock;          /* guards status */
	struct uploader_status status;
	atomic_int stop;
	uint64_t pause_until_ns;       /* no requests before this time (network down) */
	char cancel[CRYPTO_UUID_LEN];  /* exam whose transfer the operator cancelled; guarded by lock */
	uint8_t token_hash[CRYPTO_SHA256_LEN];   /* SHA-256 of the token of the current pass */
	uint8_t refused_hash[CRYPTO_SHA256_LEN]; /* SHA-256 of the token the cloud refused */
	int token_refused;                       /* refused_hash is set */
	pthread_t thread;
	int thread_started;
};

/* Sends exam uuid with client c and, when the receipt matches, tombstones
 * it.  res gets the failing request's outcome; err a sentence for the
 * operator.  Returns 0, a cloud_client error code, SONO_EINVAL when the
 * receipt does not match or a part cannot be sent, or a store error. */
int uploader_send_exam(struct uploader *u, struct cloud_client *c, const char *uuid,
	struct cloud_result *res, char *err, size_t errlen);

/* Records progress of the exam being sent, in memory and in upload_jobs. */
void uploader_note_progress(struct uploader *u, const char *uuid, unsigned parts_done,
	unsigned parts_total, uint64_t bytes_done, uint64_t bytes_total);

/* Publishes the bytes sent of the current exam for screens. */
void uploader_note_bytes(struct uploader *u, uint64_t sent, uint64_t total);

#endif
