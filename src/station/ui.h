/* The ncurses application shell of sonoterm.
 *
 * One struct ui owns the terminal: a status line on the top row, the active
 * screen's body below it, and a function-key bar on the bottom row (F1 Help
 * ... F10 Quit, as in htop and Midnight Commander).  Screens are kept on a
 * stack; each is a const table of callbacks plus a state pointer.  The main
 * loop polls the terminal and a wakeup pipe that other threads (the scanner
 * receiver) write to, so a new frame is drawn without waiting for a timeout.
 *
 * Only the image area, a rectangle a screen reserves with ui_set_image_area(),
 * is written behind ncurses' back (sixel or colour cells from the renderer).
 * The shell blanks that rectangle in ncurses' copy of the screen after every
 * draw, so ncurses sends nothing there.  The help overlay is the exception:
 * it clears the terminal and covers the image until it closes.  After a full
 * redraw or a resize the shell calls the screen's paint callback so the
 * image is emitted again.
 *
 * Allocation failure aborts in this layer (ui_xmalloc), unlike the core. */
#ifndef STATION_UI_H
#define STATION_UI_H

#include <stddef.h>
#include <curses.h>

#include "station/theme.h"

#define UI_KEYBAR_SLOTS 10

/* Flags returned by screen callbacks to tell the main loop what to do. */
enum {
	UI_ACT_NONE = 0,
	UI_ACT_REDRAW = 1 << 0, /* redraw the text (cheap: ncurses sends only changes) */
	UI_ACT_FULL = 1 << 1,   /* clear the terminal, redraw and re-emit the image */
	UI_ACT_QUIT = 1 << 2,   /* leave the main loop */
	UI_ACT_POP = 1 << 3,    /* close this screen and return to the one below */
	UI_ACT_HANDLED = 1 << 4, /* the key was used; do not apply the shell's default */
	UI_ACT_UNWIND = 1 << 5, /* close every screen above the bottom one */
};

struct ui;

/* A rectangle in terminal cells (0-based rows and columns). */
struct ui_rect {
	int row;
	int col;
	int rows;
	int cols;
};

/* One screen.  Every callback except draw may be NULL.  Callbacks get the
 * screen's state pointer as it was given to ui_push(). */
struct ui_screen {
	const char *name;                        /* shown in the status line */
	const char *help;                        /* F1 text; '\n' separates lines */
	const char *keys[UI_KEYBAR_SLOTS];       /* key bar labels for F1..F10; NULL: unused */

	/* Draws the body into win (the rows between status line and key bar).
	 * Must not draw into the image area. */
	void (*draw)(struct ui *ui, void *state, WINDOW *win);

	/* Handles a key from wgetch() (KEY_F(n), KEY_LEFT, characters).
	 * Returns UI_ACT_* flags; without UI_ACT_HANDLED the shell applies its
	 * defaults (F1 help, F10 and 'q' quit or close). */
	int (*key)(struct ui *ui, void *state, int key);

	/* Handles a left click at terminal cell (row, col) inside the body. */
	int (*click)(struct ui *ui, void *state, int row, int col);

	/* Called after the terminal size changed, before the next draw. */
	void (*resize)(struct ui *ui, void *state, int rows, int cols);

	/* Called when the screen is on top again because the one above it
	 * closed (not when the shell closes every screen). */
	void (*uncover)(struct ui *ui, void *state);

	/* Called on every loop iteration: after a wakeup, a key or a timeout.
	 * Returns UI_ACT_* flags. */
	int (*tick)(struct ui *ui, void *state);

	/* Writes the screen's part of the status line (plain text) to out. */
	void (*status)(struct ui *ui, void *state, char *out, size_t outlen);

	/* Writes the image area after ncurses has flushed its output.  full is
	 * non-zero after a clear or resize, when the image must be emitted again
	 * even if the frame did not change. */
	void (*paint)(struct ui *ui, void *state, int full);

	/* Returns the longest time in ms the loop may sleep, or -1 for no limit. */
	int (*timeout_ms)(struct ui *ui, void *state);

	/* Frees the state when the screen is popped or the shell closes. */
	void (*destroy)(void *state);
};

/* The idle lock.  The shell tracks the time since the last key or click
 * and, once the idle time has passed, asks the station to push its lock
 * screen over whatever is on top.  The station decides whether a lock
 * applies (someone is logged in) and what unlocks it.  While the lock
 * screen is on the stack the shell paints only the lock screen, so no
 * screen below it can write its image area. */
struct ui_lock_hooks {
	/* Returns the idle time in ms after which the shell locks, or -1 when
	 * no lock applies now.  Called by ui_set_lock() and ui_lock_refresh(). */
	long long (*idle_ms)(void *arg);
	/* Pushes exactly one lock screen and returns 0, or returns -1 without
	 * pushing anything when no lock applies. */
	int (*push)(struct ui *ui, void *arg);
};

/* Options for ui_open(). */
struct ui_options {
	const char *theme_name; /* NULL or "" selects the default theme */
	int mouse;              /* non-zero: enable mouse clicks */
};

/* Takes over the terminal: moves the log to a file under
 * $XDG_STATE_HOME/sonoterm/, starts ncurses, installs the signal handlers and
 * the crash-restore string.  Returns the shell, or NULL with a message on
 * stderr when stdin or stdout is not a terminal or ncurses cannot start. */
struct ui *ui_open(const struct ui_options *opts);

/* Restores the terminal, pops and destroys every screen, and returns the log
 * to stderr.  Accepts NULL. */
void ui_close(struct ui *ui);

/* Pops and destroys every screen but keeps the terminal and the log file,
 * for clean-up that should still log to the file before ui_close(). */
void ui_close_screens(struct ui *ui);

/* Pushes a screen on top of the stack; the shell owns state from here on and
 * frees it with screen->destroy. */
void ui_push(struct ui *ui, const struct ui_screen *screen, void *state);

/* Runs the main loop until a screen returns UI_ACT_QUIT, the last screen is popped,
 * or SIGINT, SIGTERM or SIGHUP arrives.  Returns 0, or the signal number that
 * ended the loop. */
int ui_run(struct ui *ui);

/* Wakes the main loop from another thread.  Async-signal-safe.  The pipe is
 * non-blocking, so a full pipe (a wakeup already pending) does not block. */
void ui_wakeup(struct ui *ui);

/* Returns the write end of the wakeup pipe for code that needs a plain fd. */
int ui_wakeup_fd(const struct ui *ui);

/* Reserves rect (terminal cells) as the image area of the current screen.
 * A zero-sized rect releases it.  Drawing into it afterwards is the screen's
 * own business: the shell only keeps ncurses and its overlays out of it. */
void ui_set_image_area(struct ui *ui, const struct ui_rect *rect);

/* Returns the body rectangle (between status line and key bar). */
struct ui_rect ui_body(const struct ui *ui);

/* Draws the screen now, before a long operation on the UI thread, so a
 * message set with ui_message() is seen while the operation runs. */
void ui_refresh(struct ui *ui);

/* Draws the status line alone, with the current ui_message(), and flushes
 * it, to report progress during a long operation on the UI thread.  It
 * calls only the top screen's status callback, so a screen may call it
 * while it holds locks that its draw or paint callbacks take. */
void ui_refresh_status(struct ui *ui);

/* Drops the Enter keys typed during a long operation on the UI thread and
 * keeps every other key and click, in order, for the main loop.  Call it
 * right after the operation, so that an Enter pressed again while the
 * screen waited does not submit the same form twice.  Keys after the first
 * 64 are not examined, and the main loop handles them as typed. */
void ui_drop_pending_enter(struct ui *ui);

/* Requests a full redraw and image re-emission on the next iteration. */
void ui_request_full(struct ui *ui);

/* Shows a one-line message in the status line for a few seconds.  The text
 * passes through sanitize_text(). */
void ui_message(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Installs the idle lock; hooks and arg must outlive the shell.  Reads the
 * idle time at once and restarts the idle clock. */
void ui_set_lock(struct ui *ui, const struct ui_lock_hooks *hooks, void *arg);

/* Reads the idle time again, after a login or logout changed whether a lock
 * applies or how long the idle time is, and restarts the idle clock. */
void ui_lock_refresh(struct ui *ui);

/* Locks the screen now.  Returns 0 when the lock screen is up (pushed now
 * or already there), or -1 when no lock is installed or none applies. */
int ui_lock(struct ui *ui);

/* Returns non-zero while the lock screen is on the stack. */
int ui_locked(const struct ui *ui);

/* The active theme. */
const struct theme *ui_theme(const struct ui *ui);

/* Returns the file descriptor of the terminal for writes behind ncurses'
 * back (the image area only). */
int ui_tty_fd(const struct ui *ui);

/* Returns non-zero while the help overlay covers the body: screens must not
 * paint the image then. */
int ui_overlay_active(const struct ui *ui);

/* Monotonic clock in ms, used for frame rates and timeouts. */
long long ui_now_ms(void);

/* malloc/calloc that abort with a message on failure (UI layer only). */
void *ui_xmalloc(size_t n);
void *ui_xcalloc(size_t count, size_t size);

#endif
