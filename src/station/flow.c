/* The operator workflow around the live screen; see flow.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/exam.h"
#include "station/exam_sink.h"
#include "station/flow.h"
#include "station/screen_exams.h"
#include "station/screen_patient.h"
#include "station/screen_queue.h"
#include "station/session.h"

struct flow {
	struct store *store;           /* the UI thread's connection; NULL: memory captures */
	struct store *worker;          /* the uploader's connection */
	struct uploader_options upload;
	int can_upload;
	struct uploader *uploader;     /* started when the queue screen first opens */
	struct live *live;             /* the live screen while it is open */
	char uuid[CRYPTO_UUID_LEN];    /* the current exam; "" without a store */
	int has_patient;               /* of the current exam */
	int confirm_complete;          /* 'f' was pressed; waiting for y */
	int confirm_logout;            /* 'o' was pressed; waiting for y */
	struct lock_policy *lock;      /* NULL: no lock and no logout */
	char logout_user[STORE_CLOUD_NAME_MAX]; /* shown in the logout question */
	unsigned confirm_stills;       /* counts shown in the confirmation */
	unsigned confirm_cines;
};

struct flow *flow_new(struct store *s, struct store *worker,
	const struct uploader_options *upload)
{
	struct flow *f = ui_xcalloc(1, sizeof(*f));

	f->store = s;
	f->worker = worker;
	if (upload && s && worker) {
		f->upload = *upload;
		f->can_upload = 1;
	}
	return f;
}

struct store *flow_store(const struct flow *f)
{
	return f->store;
}

/* Deletes exam uuid when it is still a draft without a patient: the empty
 * exam the flow opened for captures that never came. */
static void drop_if_empty(struct flow *f, const char *uuid)
{
	struct exam_summary e;

	if (exam_get(f->store, uuid, &e) < 0 || e.state != EXAM_DRAFT || e.has_patient)
		return;
	if (exam_delete(f->store, uuid) < 0)
		LOG_WARN("empty exam %s not deleted", uuid);
	else
		LOG_INFO("empty exam %s deleted", uuid);
}

/* Makes uuid the current exam: the live screen saves its captures there
 * from now on.  The exam left behind is dropped when it is empty. */
static int switch_exam(struct flow *f, struct live *lv, const char *uuid)
{
	struct capture_sink sink;
	struct exam_summary e;
	char old[CRYPTO_UUID_LEN];
	int rc;

	rc = exam_get(f->store, uuid, &e);
	if (rc == 0)
		rc = exam_capture_sink(&sink, f->store, uuid);
	if (rc < 0)
		return rc;

	snprintf(old, sizeof(old), "%s", f->uuid);
	live_set_sink(lv, &sink, e.stills, e.cines);
	snprintf(f->uuid, sizeof(f->uuid), "%s", uuid);
	f->has_patient = e.has_patient;
	if (old[0] && strcmp(old, uuid) != 0)
		drop_if_empty(f, old);
	LOG_NOTICE("live captures go to exam %s", uuid);
	return 0;
}

/* Creates an unassigned exam and makes it the current one.  On failure the
 * current exam stays as it was. */
static int start_new_exam(struct flow *f, struct live *lv)
{
	char uuid[CRYPTO_UUID_LEN];
	int rc;

	rc = exam_create(f->store, NULL, NULL, uuid);
	if (rc < 0)
		return rc;
	rc = switch_exam(f, lv, uuid);
	if (rc < 0 && exam_delete(f->store, uuid) < 0)
		LOG_WARN("exam %s not deleted after a failed switch", uuid);
	return rc;
}

/* Returns 1 when the store is open, else shows why the key does nothing. */
static int need_store(struct ui *ui, const struct flow *f)
{
	if (f->store && f->uuid[0])
		return 1;
	ui_message(ui, "The station store is not open: captures stay in memory and exams "
		"cannot be managed");
	return 0;
}

static int save_patient(struct ui *ui, void *arg, const struct patient *p, const char *preset,
	char *msg, size_t msglen)
{
	struct flow *f = arg;
	int rc;

	(void)preset;
	rc = screen_patient_attach(ui, f->store, f->uuid, p, msg, msglen);
	if (rc != 0)
		return rc;
	f->has_patient = 1;
	LOG_NOTICE("patient stored for exam %s", f->uuid);
	return SONO_OK;
}

/* Opens the patient form on the current exam, filled when it has one. */
static void edit_patient(struct ui *ui, struct flow *f)
{
	struct patient p;
	char title[64];
	int have;

	have = f->has_patient && exam_load_patient(f->store, f->uuid, &p) == 0;
	snprintf(title, sizeof(title), "Patient of exam %.8s", f->uuid);
	screen_patient_push(ui, title, have ? &p : NULL, 0, save_patient, f);
	if (have)
		patient_clear(&p);
}

/* Asks for confirmation when the current exam can be completed. */
static void ask_complete(struct ui *ui, struct flow *f)
{
	struct exam_summary e;
	int rc = exam_get(f->store, f->uuid, &e);

	if (rc < 0) {
		ui_message(ui, "Exam %.8s not read: %s", f->uuid, sono_strerror(rc));
		return;
	}
	if (e.state != EXAM_SCANNING) {
		ui_message(ui, "Exam %.8s has no captures yet: save a still (s) or a cine (c) "
			"before completing it", f->uuid);
		return;
	}
	f->confirm_complete = 1;
	f->confirm_stills = e.stills;
	f->confirm_cines = e.cines;
}

/* Completes the current exam and starts a new unassigned one. */
static void complete_current(struct ui *ui, struct flow *f, struct live *lv)
{
	char done[CRYPTO_UUID_LEN];
	int rc;

	rc = exam_set_state(f->store, f->uuid, EXAM_COMPLETED);
	if (rc < 0) {
		ui_message(ui, "Exam %.8s not completed: %s", f->uuid, sono_strerror(rc));
		LOG_WARN("exam %s not completed: %s", f->uuid, sono_strerror(rc));
		return;
	}
	snprintf(done, sizeof(done), "%s", f->uuid);
	LOG_NOTICE("exam %s completed from the live screen", done);
	rc = start_new_exam(f, lv);
	if (rc < 0) {
		ui_message(ui, "Exam %.8s completed, but no new exam was created (%s): "
			"captures will fail", done, sono_strerror(rc));
		LOG_ERROR("no exam created after completing %s: %s", done, sono_strerror(rc));
		return;
	}
	ui_message(ui, "Exam %.8s completed; new exam %.8s", done, f->uuid);
}

/* Resumes exam uuid from the exam list: the live screen below the list
 * captures into it, and the list closes. */
static int resume_exam(struct ui *ui, void *arg, const char *uuid)
{
	struct flow *f = arg;
	int rc;

	if (!f->live) {
		ui_message(ui, "The live screen is not open");
		return UI_ACT_NONE;
	}
	if (strcmp(uuid, f->uuid) == 0)
		return UI_ACT_POP;
	rc = switch_exam(f, f->live, uuid);
	if (rc < 0) {
		ui_message(ui, "Exam %.8s not resumed: %s", uuid, sono_strerror(rc));
		return UI_ACT_NONE;
	}
	ui_message(ui, "Exam %.8s resumed: captures go to it", uuid);
	return UI_ACT_POP;
}

static void open_exams(struct ui *ui, struct flow *f)
{
	struct screen_exams_options opt = {
		.show_patients = 1, .resume = resume_exam, .resume_arg = f,
	};

	screen_exams_push(ui, f->store, &opt);
}

/* Opens the queue screen, starting the uploader the first time, and the
 * login screen over it when no user is logged in. */
static void open_queue(struct ui *ui, struct flow *f)
{
	struct store_cloud_session sess;
	char err[256];
	int logged_in;
	void *view;

	if (!f->can_upload) {
		ui_message(ui, "The exam queue is not available: it needs a [cloud] url in "
			"sonoterm.conf ('sonoterm login' saves it) and valid [upload] settings");
		return;
	}
	logged_in = session_current(f->store, &sess, err, sizeof(err)) == 0;
	crypto_wipe(sess.token, sizeof(sess.token));
	if (logged_in && f->upload.cloud.url[0] == '\0')
		snprintf(f->upload.cloud.url, sizeof(f->upload.cloud.url), "%s", sess.cloud_url);
	if (!f->uploader && (uploader_new(&f->uploader, f->worker, &f->upload) < 0 ||
	    uploader_start(f->uploader) < 0)) {
		uploader_free(f->uploader);
		f->uploader = NULL;
		ui_message(ui, "The uploader did not start: out of memory");
		LOG_ERROR("uploader not started: out of memory");
		return;
	}
	view = queue_view_new(ui, f->store, f->uploader, &f->upload.cloud);
	ui_push(ui, &queue_screen, view);
	if (!logged_in)
		queue_view_push_login(ui, view);
}

/* Locks the screen now.  Without a login there is no password to unlock
 * with, so the key only shows a message. */
static void lock_now(struct ui *ui)
{
	if (ui_lock(ui) < 0)
		ui_message(ui, "Nobody is logged in, so there is no password to unlock with; "
			"the lock needs a login");
}

/* Asks for confirmation of a logout when someone is logged in. */
static void ask_logout(struct ui *ui, struct flow *f)
{
	struct store_cloud_session sess;
	char err[256];
	int rc;

	rc = f->lock && f->store ? session_current(f->store, &sess, err, sizeof(err)) :
		SONO_ENOTFOUND;
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc < 0) {
		ui_message(ui, "Nobody is logged in");
		return;
	}
	sanitize_str(sess.username, f->logout_user, sizeof(f->logout_user));
	f->confirm_logout = 1;
}

static int confirm_logout_key(struct ui *ui, struct flow *f, int key)
{
	f->confirm_logout = 0;
	if (key == 'y' || key == 'Y')
		return lock_logout(ui, f->lock) | UI_ACT_HANDLED;
	ui_message(ui, "Still logged in as %s", f->logout_user);
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int confirm_key(struct ui *ui, struct flow *f, struct live *lv, int key)
{
	f->confirm_complete = 0;
	if (key == 'y' || key == 'Y')
		complete_current(ui, f, lv);
	else
		ui_message(ui, "Exam %.8s not completed", f->uuid);
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int flow_key(struct ui *ui, void *arg, struct live *lv, int key)
{
	struct flow *f = arg;

	f->live = lv;
	if (f->confirm_complete)
		return confirm_key(ui, f, lv, key);
	if (f->confirm_logout)
		return confirm_logout_key(ui, f, key);
	if (key == 'l') {
		lock_now(ui);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	}
	if (key == 'o') {
		ask_logout(ui, f);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	}
	if (key != 'a' && key != 'f' && key != 'e' && key != KEY_F(9) && key != 'u')
		return UI_ACT_NONE;
	if (!need_store(ui, f))
		return UI_ACT_REDRAW | UI_ACT_HANDLED;

	if (key == 'a')
		edit_patient(ui, f);
	else if (key == 'f')
		ask_complete(ui, f);
	else if (key == 'u')
		open_queue(ui, f);
	else
		open_exams(ui, f);
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

/* Checks the current exam after a screen above the live screen closed: the
 * exam list may have completed or deleted it, or attached a patient. */
static void flow_uncover(struct ui *ui, void *arg, struct live *lv)
{
	struct flow *f = arg;
	struct exam_summary e;
	char old[CRYPTO_UUID_LEN];
	int rc;

	f->live = lv;
	f->confirm_complete = 0;
	f->confirm_logout = 0;
	if (!f->store || !f->uuid[0])
		return;
	rc = exam_get(f->store, f->uuid, &e);
	if (rc == 0 && (e.state == EXAM_DRAFT || e.state == EXAM_SCANNING)) {
		f->has_patient = e.has_patient;
		return;
	}
	snprintf(old, sizeof(old), "%s", f->uuid);
	if (start_new_exam(f, lv) < 0)
		ui_message(ui, "Exam %.8s no longer takes captures and no new exam was created", old);
	else if (rc < 0)
		ui_message(ui, "Exam %.8s was deleted; captures go to new exam %.8s", old, f->uuid);
	else
		ui_message(ui, "Exam %.8s is %s; captures go to new exam %.8s", old,
			exam_state_name(e.state), f->uuid);
}

static void flow_status(void *arg, struct live_exam_status *out)
{
	struct flow *f = arg;

	if (!f->store || !f->uuid[0]) {
		snprintf(out->exam, sizeof(out->exam), "in memory");
		return;
	}
	snprintf(out->exam, sizeof(out->exam), "%.8s", f->uuid);
	out->has_patient = f->has_patient;
	if (f->confirm_logout)
		snprintf(out->prompt, sizeof(out->prompt), "Log out %.60s? y: log out and close the "
			"live screen, other key: stay", f->logout_user);
	else if (f->confirm_complete)
		snprintf(out->prompt, sizeof(out->prompt), "Complete exam %.8s (%u stills, %u cines)%s? "
			"y: complete, other key: keep scanning", f->uuid, f->confirm_stills,
			f->confirm_cines, f->has_patient ? "" : " without a patient");
}

static void flow_closed(void *arg, struct live *lv)
{
	struct flow *f = arg;

	if (f->live == lv)
		f->live = NULL;
}

static const struct live_hooks flow_hooks = {
	.key = flow_key,
	.status = flow_status,
	.uncover = flow_uncover,
	.closed = flow_closed,
};

int flow_begin(struct flow *f, struct live_options *opt)
{
	char uuid[CRYPTO_UUID_LEN];
	int rc;

	opt->hooks = &flow_hooks;
	opt->hooks_arg = f;
	if (!f->store)
		return SONO_ENOTFOUND;
	if (f->uuid[0]) {
		/* A live screen opened again, after a logout and a new login. */
		drop_if_empty(f, f->uuid);
		f->uuid[0] = '\0';
		f->has_patient = 0;
	}
	rc = exam_create(f->store, NULL, NULL, uuid);
	if (rc < 0)
		return rc;
	rc = exam_capture_sink(&opt->sink, f->store, uuid);
	if (rc < 0) {
		if (exam_delete(f->store, uuid) < 0)
			LOG_WARN("exam %s not deleted after a failed start", uuid);
		return rc;
	}
	snprintf(f->uuid, sizeof(f->uuid), "%s", uuid);
	LOG_NOTICE("live captures go to exam %s", uuid);
	return 0;
}

void flow_set_lock(struct flow *f, struct lock_policy *lock)
{
	f->lock = lock;
}

void flow_close(struct flow *f, char kept[CRYPTO_UUID_LEN])
{
	struct exam_summary e;

	kept[0] = '\0';
	if (!f)
		return;
	if (f->uploader) {
		uploader_join(f->uploader);
		uploader_free(f->uploader);
	}
	store_close(f->worker);
	if (f->store && f->uuid[0] && exam_get(f->store, f->uuid, &e) == 0) {
		if (e.stills + e.cines > 0) {
			snprintf(kept, CRYPTO_UUID_LEN, "%s", f->uuid);
			LOG_NOTICE("live captures are in exam %s (%s)", f->uuid,
				exam_state_name(e.state));
		}
		drop_if_empty(f, f->uuid);
	}
	store_close(f->store);
	free(f);
}
