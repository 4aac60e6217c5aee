/* The ncurses application shell: screen stack, status line, key bar, help
 * overlay, main loop, signals and terminal restore. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sono/config.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/ui.h"
#include "station/ui_internal.h"

/* State the signal handlers need; set once in ui_open(). */
static volatile sig_atomic_t ui_signal_caught;
static int ui_wake_wfd = -1;
static char ui_reset_seq[256];
static size_t ui_reset_len;
static struct termios ui_saved_termios;
static int ui_termios_saved;

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

void *ui_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		LOG_ERROR("out of memory allocating %zu bytes", n);
		abort();
	}
	return p;
}

void *ui_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p) {
		LOG_ERROR("out of memory allocating %zu x %zu bytes", count, size);
		abort();
	}
	return p;
}

long long ui_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wakes the loop; only async-signal-safe calls. */
static void wake_fd(int fd)
{
	int saved = errno;
	char c = 1;

	if (fd >= 0 && write(fd, &c, 1) < 0) {
		/* EAGAIN: the pipe is full, so a wakeup is already pending. */
	}
	errno = saved;
}

int ui_take_signal(void)
{
	int sig = ui_signal_caught;

	ui_signal_caught = 0;
	return sig;
}

static void on_stop_signal(int sig)
{
	ui_signal_caught = sig;
	wake_fd(ui_wake_wfd);
}

/* Restores the terminal with the precomputed sequence and re-raises: the
 * handler runs with SA_RESETHAND, so the second delivery takes the default
 * action (core dump) with the original signal. */
static void on_crash_signal(int sig)
{
	if (ui_reset_len > 0 && write(STDOUT_FILENO, ui_reset_seq, ui_reset_len) < 0) {
		/* nothing more can be done in a crashing process */
	}
	if (ui_termios_saved)
		tcsetattr(STDOUT_FILENO, TCSANOW, &ui_saved_termios);
	raise(sig);
}

/* Appends terminfo capability cap to the reset sequence, without its
 * padding marks ("$<2>" in vt100's sgr0): a crash handler cannot call
 * tputs(), and terminals that still need the delay are rare. */
static void append_cap(const char *cap)
{
	const char *s = tigetstr(cap);

	if (!s || s == (char *)-1)
		return;
	while (*s && ui_reset_len < sizeof(ui_reset_seq)) {
		if (s[0] == '$' && s[1] == '<' && strchr(s, '>')) {
			s = strchr(s, '>') + 1;
			continue;
		}
		ui_reset_seq[ui_reset_len++] = *s++;
	}
}

/* Precomputes what endwin() would send, for the crash handler: end any
 * sixel (ST), mouse reporting off, attributes reset, cursor visible, keypad
 * mode off and the alternate screen left. */
static void build_reset_sequence(int mouse)
{
	static const char st[] = "\033\\";
	static const char mouse_off[] = "\033[?1006l\033[?1002l\033[?1000l";

	ui_reset_len = 0;
	memcpy(ui_reset_seq, st, sizeof(st) - 1);
	ui_reset_len = sizeof(st) - 1;
	if (mouse) {
		memcpy(ui_reset_seq + ui_reset_len, mouse_off, sizeof(mouse_off) - 1);
		ui_reset_len += sizeof(mouse_off) - 1;
	}
	append_cap("sgr0");
	append_cap("cnorm");
	append_cap("rmkx");
	append_cap("rmcup");
}

static void install_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	for (i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);

	sa.sa_handler = on_crash_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);

	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
}

static void restore_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);
}

/* Sends the log to $XDG_STATE_HOME/sonoterm/sonoterm.log, or syslog when
 * the file cannot be opened, so nothing is written to the terminal. */
static void move_log_off_tty(void)
{
	char dir[4096];
	char path[4200];

	if (config_xdg_dir("STATE", "sonoterm", dir, sizeof(dir)) == 0) {
		snprintf(path, sizeof(path), "%s/sonoterm.log", dir);
		if (log_open("sonoterm", LOG_TARGET_FILE, path) == 0)
			return;
	}
	log_open("sonoterm", LOG_TARGET_SYSLOG, NULL);
}

static int open_wakeup_pipe(struct ui *ui)
{
	if (pipe(ui->wake) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(ui->wake[i], F_SETFL, fcntl(ui->wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(ui->wake[i], F_SETFD, FD_CLOEXEC);
	}
	ui_wake_wfd = ui->wake[1];
	return 0;
}

static int start_curses(struct ui *ui)
{
	ui->term = newterm(NULL, stdout, stdin);
	if (!ui->term)
		return -1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	idlok(stdscr, FALSE);
	scrollok(stdscr, FALSE);
	/* Long enough that a mouse report or function key split across reads
	 * on a loaded machine or slow link is not taken for a lone Escape. */
	set_escdelay(100);
	curs_set(0);
	if (has_colors())
		start_color();
	theme_apply(&ui->theme);
	if (ui->mouse) {
		mouseinterval(0);
		if (mousemask(BUTTON1_PRESSED, NULL) == 0)
			ui->mouse = 0;
	}
	build_reset_sequence(ui->mouse);
	ui->body = derwin(stdscr, LINES > 2 ? LINES - 2 : 1, COLS, LINES > 2 ? 1 : 0, 0);
	return ui->body ? 0 : -1;
}

struct ui *ui_open(const struct ui_options *opts)
{
	char err[512] = "";
	struct ui *ui;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sonoterm: the screens need a terminal on stdin and stdout\n");
		return NULL;
	}
	ui = ui_xcalloc(1, sizeof(*ui));
	ui->mouse = opts ? opts->mouse : 1;
	move_log_off_tty();
	if (theme_load(&ui->theme, opts ? opts->theme_name : NULL, err, sizeof(err)) < 0) {
		/* Printed before ncurses starts, so it is seen after the station exits. */
		fprintf(stderr, "sonoterm: %s; using the default theme\n", err);
		LOG_WARN("%s; using the default theme", err);
	}
	if (open_wakeup_pipe(ui) < 0) {
		fprintf(stderr, "sonoterm: pipe: %s\n", strerror(errno));
		log_close();
		free(ui);
		return NULL;
	}
	if (tcgetattr(STDOUT_FILENO, &ui_saved_termios) == 0)
		ui_termios_saved = 1;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	install_signals();
	if (start_curses(ui) < 0) {
		restore_signals();
		log_close();
		fprintf(stderr, "sonoterm: cannot start ncurses on TERM=%s\n",
			getenv("TERM") ? getenv("TERM") : "(unset)");
		close(ui->wake[0]);
		close(ui->wake[1]);
		ui_wake_wfd = -1;
		free(ui);
		return NULL;
	}
	LOG_NOTICE("screens started: TERM=%s, %dx%d, %d colours, theme %s",
		getenv("TERM") ? getenv("TERM") : "(unset)", COLS, LINES, has_colors() ? COLORS : 0,
		ui->theme.name);
	ui->full = 1;
	ui->lock_layer = -1;
	ui->lock_idle_ms = -1;
	ui->input_ms = ui_now_ms();
	return ui;
}

void ui_pop_screen(struct ui *ui)
{
	struct ui_layer *top;

	if (ui->depth == 0)
		return;
	top = &ui->stack[--ui->depth];
	if (top->screen->destroy)
		top->screen->destroy(top->state);
	memset(top, 0, sizeof(*top));
	ui->image.rows = 0;
	ui->full = 1;
	if (ui->lock_layer >= ui->depth) {
		ui->lock_layer = -1;
		ui->input_ms = ui_now_ms();
	}
}

void ui_close_screens(struct ui *ui)
{
	while (ui->depth > 0)
		ui_pop_screen(ui);
}

void ui_close(struct ui *ui)
{
	if (!ui)
		return;
	ui_close_screens(ui);
	if (ui->body)
		delwin(ui->body);
	endwin();
	delscreen(ui->term);
	ui_reset_len = 0;
	restore_signals();
	ui_wake_wfd = -1;
	close(ui->wake[0]);
	close(ui->wake[1]);
	LOG_NOTICE("screens closed");
	log_close();
	free(ui);
}

void ui_push(struct ui *ui, const struct ui_screen *screen, void *state)
{
	if (ui->depth == UI_STACK_MAX) {
		LOG_ERROR("screen stack full (%d); not opening %s", UI_STACK_MAX, screen->name);
		if (screen->destroy)
			screen->destroy(state);
		return;
	}
	ui->stack[ui->depth].screen = screen;
	ui->stack[ui->depth].state = state;
	ui->depth++;
	ui->image.rows = 0;
	ui->help_visible = 0;
	ui->full = 1;
}

void ui_wakeup(struct ui *ui)
{
	wake_fd(ui ? ui->wake[1] : -1);
}

int ui_wakeup_fd(const struct ui *ui)
{
	return ui->wake[1];
}

void ui_set_image_area(struct ui *ui, const struct ui_rect *rect)
{
	ui->image = *rect;
	if (ui->image.rows <= 0 || ui->image.cols <= 0)
		memset(&ui->image, 0, sizeof(ui->image));
}

struct ui_rect ui_body(const struct ui *ui)
{
	struct ui_rect r;

	(void)ui;
	r.row = 1;
	r.col = 0;
	r.rows = LINES > 2 ? LINES - 2 : 0;
	r.cols = COLS;
	return r;
}

void ui_refresh(struct ui *ui)
{
	ui_render(ui);
}

void ui_request_full(struct ui *ui)
{
	ui->full = 1;
}

void ui_message(struct ui *ui, const char *fmt, ...)
{
	char raw[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	sanitize_str(raw, ui->message, sizeof(ui->message));
	ui->message_until = ui_now_ms() + UI_MESSAGE_MS;
}

const struct theme *ui_theme(const struct ui *ui)
{
	return &ui->theme;
}

int ui_tty_fd(const struct ui *ui)
{
	(void)ui;
	return STDOUT_FILENO;
}

int ui_overlay_active(const struct ui *ui)
{
	return ui->help_visible;
}
