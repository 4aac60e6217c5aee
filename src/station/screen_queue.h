/* The exam queue screen on the ncurses shell (ui.h).
 *
 * The queue screen lists every exam waiting for the cloud with its state,
 * size, a progress bar, the last error and the next retry time, and an
 * overall progress bar; r retries and c cancels (holds) the selected exam.
 * l locks the screen at once (screen_lock.h); the shell's idle lock covers
 * it like every other screen.  F2 opens the login screen, which also
 * offers a password reset. */
#ifndef STATION_SCREEN_QUEUE_H
#define STATION_SCREEN_QUEUE_H

#include "station/cloud_client.h"
#include "station/store.h"
#include "station/ui.h"
#include "station/uploader.h"

/* Creates the queue screen's state.  s is the UI thread's store connection
 * and u the running uploader (both stay owned by the caller and must
 * outlive the shell); cloud is copied for the login screen. */
void *queue_view_new(struct ui *ui, struct store *s, struct uploader *u,
	const struct cloud_options *cloud);

/* Pushes the login screen over the current one. */
void queue_view_push_login(struct ui *ui, void *view);

extern const struct ui_screen queue_screen;

#endif
