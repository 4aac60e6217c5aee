/* The login screen; see screen_login.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/screen_login.h"
#include "station/session.h"

enum login_field { FIELD_URL, FIELD_USER, FIELD_PASSWORD, FIELD_COUNT };

struct login_view {
	struct ui *ui;
	struct store *s;
	struct cloud_options cloud;
	char user[STORE_CLOUD_NAME_MAX];
	char password[SCREEN_PASSWORD_MAX + 1];
	enum login_field field;
	char message[CLOUD_MESSAGE_MAX + 192];
	int message_is_error;
};

static const char login_help[] =
	"Log in to the cloud\n"
	"\n"
	"Tab, Up, Down  move between the fields\n"
	"Enter          log in (offline against the cached login when the\n"
	"               cloud cannot be reached)\n"
	"F2             forgot password: the cloud mails a reset link\n"
	"F10            close this screen\n"
	"\n"
	"The cloud's pin or CA file comes from the configuration; set it once\n"
	"with 'sonoterm login --cloud-pin' or '--cloud-ca'.";

static char *field_text(struct login_view *l, enum login_field f, size_t *cap)
{
	switch (f) {
	case FIELD_URL:
		*cap = sizeof(l->cloud.url);
		return l->cloud.url;
	case FIELD_USER:
		*cap = sizeof(l->user);
		return l->user;
	default:
		*cap = sizeof(l->password);
		return l->password;
	}
}

static void login_draw(struct ui *ui, void *state, WINDOW *win)
{
	static const char *const labels[FIELD_COUNT] = { "Cloud URL", "User name", "Password" };
	struct login_view *l = state;
	char clean[CLOUD_URL_MAX];
	size_t i, n;
	int f;

	werase(win);
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), THEME_TITLE));
	mvwprintw(win, 1, 2, "Log in to the cloud");
	for (f = 0; f < FIELD_COUNT; f++) {
		wattrset(win, (attr_t)theme_attr(ui_theme(ui), f == (int)l->field ? THEME_HIGHLIGHT :
			THEME_BODY));
		mvwprintw(win, 3 + 2 * f, 2, "%-10s ", labels[f]);
		if (f == FIELD_PASSWORD) {
			for (i = 0, n = strlen(l->password); i < n; i++)
				waddch(win, '*');
		} else {
			sanitize_str(f == FIELD_URL ? l->cloud.url : l->user, clean, sizeof(clean));
			wprintw(win, "%.*s", getmaxx(win) - 16, clean);
		}
	}
	wattrset(win, (attr_t)theme_attr(ui_theme(ui), l->message_is_error ? THEME_ERROR :
		THEME_BODY));
	mvwprintw(win, 10, 2, "%.*s", getmaxx(win) - 4, l->message);
	wattrset(win, A_NORMAL);
}

/* Writes the message for a failed login, one per kind of failure. */
static void describe_failure(struct login_view *l, int rc, const struct cloud_result *res,
	const char *err)
{
	const char *what;

	if (rc == SONO_EAUTH)
		what = "Wrong user name or password";
	else if (res->kind == CLOUD_ERR_CERTIFICATE)
		what = "The cloud's certificate does not match";
	else if (res->kind == CLOUD_ERR_LOCKED)
		what = "The account is locked";
	else if (res->kind == CLOUD_ERR_UNREACHABLE)
		what = "The cloud cannot be reached";
	else
		what = "The login failed";
	snprintf(l->message, sizeof(l->message), "%s: %s", what, err);
	l->message_is_error = 1;
}

/* Writes the cloud's host and port from its URL to out, sanitised. */
static void cloud_host(const char *url, char *out, size_t outlen)
{
	static const char scheme[] = "https://";

	if (strncmp(url, scheme, sizeof(scheme) - 1) == 0)
		url += sizeof(scheme) - 1;
	sanitize_str(url, out, outlen);
}

/* Shows what the login waits for before the step blocks the UI thread. */
static void show_login_step(void *arg, enum session_step step)
{
	struct login_view *l = arg;
	char host[CLOUD_URL_MAX];

	if (step == SESSION_STEP_CLOUD) {
		cloud_host(l->cloud.url, host, sizeof(host));
		snprintf(l->message, sizeof(l->message), "Checking password: contacting the cloud "
			"at %.200s...", host);
	} else {
		snprintf(l->message, sizeof(l->message), "Checking password against the offline "
			"login, because the cloud cannot be reached...");
	}
	l->message_is_error = 0;
	ui_refresh(l->ui);
}

static int login_submit(struct ui *ui, struct login_view *l)
{
	const struct session_progress progress = { show_login_step, l };
	struct store_cloud_session sess;
	struct cloud_result res;
	char err[CLOUD_MESSAGE_MAX + 64];
	int rc;

	rc = session_login(l->s, &l->cloud, l->user, l->password, 1, &progress, &sess, &res, err,
		sizeof(err));
	crypto_wipe(l->password, sizeof(l->password));
	ui_drop_pending_enter(ui);
	if (rc < 0) {
		LOG_NOTICE("login on the login screen failed: %s", sono_strerror(rc));
		describe_failure(l, rc, &res, err);
		l->field = FIELD_PASSWORD;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	}
	crypto_wipe(sess.token, sizeof(sess.token));
	ui_lock_refresh(ui);
	ui_message(ui, "logged in %s as %s", sess.offline ? "offline" : "online", sess.username);
	return UI_ACT_POP | UI_ACT_FULL | UI_ACT_HANDLED;
}

/* Asks the cloud to mail a reset link.  The cloud returns 202 whether or
 * not the account exists, so the message does not tell either. */
static int login_forgot(struct ui *ui, struct login_view *l)
{
	struct cloud_client *c = NULL;
	struct cloud_result res;
	char host[CLOUD_URL_MAX];
	char err[512];
	json_t *body;
	int rc;

	if (l->user[0] == '\0') {
		snprintf(l->message, sizeof(l->message), "Type the user name first, then press F2.");
		l->message_is_error = 1;
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	}
	cloud_host(l->cloud.url, host, sizeof(host));
	snprintf(l->message, sizeof(l->message), "Requesting a reset link from the cloud at "
		"%.200s...", host);
	l->message_is_error = 0;
	ui_refresh(ui);
	body = json_pack("{s:s}", "username", l->user);
	rc = body ? cloud_client_new(&c, &l->cloud, err, sizeof(err)) : SONO_ENOMEM;
	if (rc == 0)
		rc = cloud_client_json(c, "POST", "/password-resets", body, NULL, &res);
	ui_drop_pending_enter(ui);
	if (rc == 0)
		snprintf(l->message, sizeof(l->message), "If the account exists, a reset link was "
			"sent to its e-mail address.");
	else
		snprintf(l->message, sizeof(l->message), "The reset request failed: %s",
			c != NULL ? res.message : err);
	l->message_is_error = rc != 0;
	json_decref(body);
	cloud_client_free(c);
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int login_edit(struct login_view *l, int key)
{
	size_t cap, len;
	char *text = field_text(l, l->field, &cap);

	len = strlen(text);
	if ((key == KEY_BACKSPACE || key == 127 || key == 8) && len > 0)
		text[len - 1] = '\0';
	else if (key >= 32 && key < 256 && key != 127 && len + 1 < cap) {
		text[len] = (char)key;
		text[len + 1] = '\0';
	}
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int login_key(struct ui *ui, void *state, int key)
{
	struct login_view *l = state;

	switch (key) {
	case '\t':
	case KEY_DOWN:
		l->field = (enum login_field)((l->field + 1) % FIELD_COUNT);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case KEY_UP:
		l->field = (enum login_field)((l->field + FIELD_COUNT - 1) % FIELD_COUNT);
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (l->field != FIELD_PASSWORD) {
			l->field = (enum login_field)(l->field + 1);
			return UI_ACT_REDRAW | UI_ACT_HANDLED;
		}
		return login_submit(ui, l);
	case KEY_F(2):
		return login_forgot(ui, l);
	case KEY_F(10):
		return UI_ACT_POP | UI_ACT_FULL | UI_ACT_HANDLED;
	default:
		return login_edit(l, key);
	}
}

static void login_status(struct ui *ui, void *state, char *out, size_t outlen)
{
	(void)ui;
	(void)state;
	snprintf(out, outlen, "login");
}

static void login_destroy(void *state)
{
	struct login_view *l = state;

	crypto_wipe(l->password, sizeof(l->password));
	free(l);
}

static const struct ui_screen login_screen = {
	.name = "Login",
	.help = login_help,
	.keys = { "Help", "Reset", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "Close" },
	.draw = login_draw,
	.key = login_key,
	.status = login_status,
	.destroy = login_destroy,
};

void login_screen_push(struct ui *ui, struct store *s, const struct cloud_options *cloud)
{
	struct login_view *l = ui_xcalloc(1, sizeof(*l));

	l->ui = ui;
	l->s = s;
	l->cloud = *cloud;
	l->field = cloud->url[0] ? FIELD_USER : FIELD_URL;
	ui_push(ui, &login_screen, l);
}
