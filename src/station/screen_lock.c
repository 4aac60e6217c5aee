/* The lock screen and the idle-lock policy; see screen_lock.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/screen_lock.h"
#include "station/screen_login.h"
#include "station/session.h"

#define LOCK_TEST_IDLE_MAX_S 86400L

struct lock_view {
	struct lock_policy *policy;
	char user[STORE_CLOUD_NAME_MAX];  /* sanitised, for display */
	char password[SCREEN_PASSWORD_MAX + 1];
	size_t len;
	char message[160];
	int message_is_error;
};

static const char lock_help[] =
	"The station is locked\n"
	"\n"
	"Type the logged-in user's password and press Enter to unlock.\n"
	"F2     log this user out, for example to log in as another user\n"
	"F10    quit the station\n"
	"\n"
	"The lock comes after the site's idle time without a key, or at once\n"
	"with l on the live and queue screens.";

/* Returns the test override of the idle time in ms, or -1 when unset.  An
 * invalid value is ignored with a warning. */
static long long test_idle_ms(void)
{
	const char *text = getenv(LOCK_TEST_IDLE_ENV);
	char *end;
	long seconds;

	if (text == NULL || text[0] == '\0')
		return -1;
	errno = 0;
	seconds = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || seconds < 1 || seconds > LOCK_TEST_IDLE_MAX_S) {
		LOG_WARN("ignoring invalid %s '%s' (1 to %ld s)", LOCK_TEST_IDLE_ENV, text,
			LOCK_TEST_IDLE_MAX_S);
		return -1;
	}
	LOG_WARN("idle lock after %ld s from %s, a test-only setting", seconds,
		LOCK_TEST_IDLE_ENV);
	return seconds * 1000LL;
}

/* Copies the logged-in user's name to user.  Returns 0, or a negative
 * SONO_E* code when nobody is logged in or the login has ended. */
static int current_user(struct lock_policy *p, char *user, size_t userlen)
{
	struct store_cloud_session sess;
	char err[256];
	int rc;

	if (p->store == NULL)
		return SONO_ENOTFOUND;
	rc = session_current(p->store, &sess, err, sizeof(err));
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc == 0)
		sanitize_str(sess.username, user, userlen);
	return rc;
}

static long long lock_idle_ms(void *arg)
{
	struct lock_policy *p = arg;
	char user[STORE_CLOUD_NAME_MAX];
	long long ms;

	if (current_user(p, user, sizeof(user)) < 0)
		return -1;
	ms = test_idle_ms();
	if (ms < 0)
		ms = session_idle_lock_minutes(p->store) * 60000LL;
	LOG_NOTICE("idle lock after %lld s for %s", ms / 1000, user);
	return ms;
}

static void lock_draw(struct ui *ui, void *state, WINDOW *win)
{
	struct lock_view *l = state;
	int row = getmaxy(win) / 2 - 3;
	size_t i;

	werase(win);
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_TITLE));
	mvwprintw(win, row, 2, "The station is locked.");
	wattrset(win, A_NORMAL);
	mvwprintw(win, row + 1, 2, "User %s: type the password and press Enter to unlock.",
		l->user);
	mvwprintw(win, row + 2, 2, "Another user: press F2 to log %s out.", l->user);
	mvwprintw(win, row + 4, 2, "Password: ");
	for (i = 0; i < l->len; i++)
		waddch(win, '*');
	if (l->message[0] != '\0') {
		wattrset(win, (attr_t)theme_attr(ui_theme(ui), l->message_is_error ? THEME_ERROR :
			THEME_BODY));
		mvwprintw(win, row + 6, 2, "%.*s", getmaxx(win) - 4, l->message);
		wattrset(win, A_NORMAL);
	}
}

static int lock_unlock(struct ui *ui, struct lock_view *l)
{
	int rc;

	/* session_unlock() runs the verifier's PBKDF2 (SESSION_VERIFIER_ITERATIONS
	 * for new verifiers) on the UI thread, so the message is drawn first. */
	snprintf(l->message, sizeof(l->message), "Checking password...");
	l->message_is_error = 0;
	ui_refresh(ui);
	l->password[l->len] = '\0';
	rc = session_unlock(l->policy->store, l->password);
	crypto_wipe(l->password, sizeof(l->password));
	l->len = 0;
	ui_drop_pending_enter(ui);
	l->message_is_error = 1;
	if (rc == 0) {
		LOG_NOTICE("screen unlocked by %s", l->user);
		return UI_ACT_POP | UI_ACT_FULL | UI_ACT_HANDLED;
	}
	if (rc == SONO_EAUTH) {
		LOG_NOTICE("wrong password at the lock screen of %s", l->user);
		snprintf(l->message, sizeof(l->message), "Wrong password.");
	} else {
		snprintf(l->message, sizeof(l->message), "No cached login to check the password "
			"against: press F2 to log out, then log in again.");
	}
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int lock_key(struct ui *ui, void *state, int key)
{
	struct lock_view *l = state;

	if (key == KEY_F(10))
		return UI_ACT_QUIT;
	if (key == KEY_F(2))
		return lock_logout(ui, l->policy) | UI_ACT_HANDLED;
	if (key == '\n' || key == '\r' || key == KEY_ENTER)
		return lock_unlock(ui, l);
	if ((key == KEY_BACKSPACE || key == 127 || key == 8) && l->len > 0)
		l->password[--l->len] = '\0';
	else if (key >= 32 && key < 256 && key != 127 && l->len < sizeof(l->password) - 1)
		l->password[l->len++] = (char)key;
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static void lock_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	struct lock_view *l = state;

	(void)ui;
	snprintf(out, outlen, "locked for %s", l->user);
}

static void lock_destroy(void *state)
{
	struct lock_view *l = state;

	crypto_wipe(l->password, sizeof(l->password));
	free(l);
}

/* No paint callback: nothing may write the image area while locked. */
static const struct ui_screen lock_screen = {
	.name = "Locked",
	.help = lock_help,
	.keys = { "Help", "Logout", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "Quit" },
	.draw = lock_draw,
	.key = lock_key,
	.status = lock_status,
	.destroy = lock_destroy,
};

static int lock_push(struct ui *ui, void *arg)
{
	struct lock_policy *p = arg;
	struct lock_view *l = ui_xcalloc(1, sizeof(*l));

	if (current_user(p, l->user, sizeof(l->user)) < 0) {
		free(l);
		return -1;
	}
	l->policy = p;
	LOG_NOTICE("screen locked for %s", l->user);
	ui_push(ui, &lock_screen, l);
	return 0;
}

static const struct ui_lock_hooks lock_hooks = {
	.idle_ms = lock_idle_ms,
	.push = lock_push,
};

void lock_install(struct ui *ui, struct lock_policy *policy)
{
	ui_set_lock(ui, &lock_hooks, policy);
}

int lock_logout(struct ui *ui, struct lock_policy *policy)
{
	char err[CLOUD_MESSAGE_MAX + 128] = "";
	char user[STORE_CLOUD_NAME_MAX];
	int rc;

	if (policy->store == NULL)
		return UI_ACT_REDRAW;
	rc = session_logout(policy->store, &policy->cloud, err, sizeof(err));
	ui_lock_refresh(ui);
	/* session_logout ends the station's login even when the revocation
	 * fails; only a store failure leaves it in place. */
	if (current_user(policy, user, sizeof(user)) == 0) {
		ui_message(ui, "Logout failed: %s", err[0] ? err : sono_strerror(rc));
		LOG_WARN("logout of %s failed: %s", user, sono_strerror(rc));
		return UI_ACT_REDRAW;
	}
	if (rc == 0 || rc == SONO_ENOTFOUND)
		ui_message(ui, "Logged out");
	else
		ui_message(ui, "Logged out on this station, but %s", err);
	return policy->logout_act | UI_ACT_FULL;
}
