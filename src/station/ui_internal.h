/* The shell's state, shared by ui.c (lifecycle), ui_draw.c (status line,
 * key bar, help) and ui_loop.c (main loop).  Not for screens: they use ui.h. */
#ifndef STATION_UI_INTERNAL_H
#define STATION_UI_INTERNAL_H

#include "station/ui.h"

#define UI_STACK_MAX 16
#define UI_MESSAGE_MS 4000
#define UI_IDLE_MS 1000
/* Maximum number of keys ui_drop_pending_enter() keeps.  Later keys stay in
 * the terminal's input buffer. */
#define UI_PENDING_MAX 64

struct ui_layer {
	const struct ui_screen *screen;
	void *state;
};

/* One key from wgetch(), with its mouse event when key is KEY_MOUSE. */
struct ui_input {
	int key;
	int has_mouse;            /* non-zero: mouse contains the event of a KEY_MOUSE */
	MEVENT mouse;
};

struct ui {
	SCREEN *term;
	WINDOW *body;             /* derwin of stdscr between status line and key bar */
	struct theme theme;
	struct ui_layer stack[UI_STACK_MAX];
	int depth;
	int wake[2];              /* wakeup pipe: [0] polled, [1] written by ui_wakeup */
	struct ui_rect image;     /* cells ncurses must leave alone; rows == 0: none */
	int full;                 /* clear and re-emit the image on the next render */
	int help_visible;
	int help_top;             /* first help line shown */
	int quit;
	int mouse;
	char message[256];        /* sanitised text shown in the status line */
	long long message_until;  /* ui_now_ms() when the message expires */
	const struct ui_lock_hooks *lock; /* NULL: no idle lock */
	void *lock_arg;
	long long lock_idle_ms;   /* idle time before the lock; -1: no lock applies */
	long long input_ms;       /* ui_now_ms() of the last key or click */
	int lock_layer;           /* stack index of the lock screen; -1 when unlocked */
	struct ui_input pending[UI_PENDING_MAX]; /* keys kept by ui_drop_pending_enter() */
	int pending_count;
	int pending_next;         /* next of pending[] to dispatch */
};

/* Pops and destroys the top screen; requests a full redraw. */
void ui_pop_screen(struct ui *ui);

/* Draws status line, body, key bar and help overlay, flushes ncurses, then
 * lets the top screen paint its image area. */
void ui_render(struct ui *ui);

/* Handles a key from wgetch(): help, mouse, resize, screen keys and the
 * shell's defaults.  Returns UI_ACT_* flags. */
int ui_dispatch_key(struct ui *ui, const struct ui_input *in);

/* Returns the signal number that SIGINT, SIGTERM or SIGHUP delivered since
 * the last call, or 0. */
int ui_take_signal(void);

/* Pushes the lock screen when the idle time has passed since the last
 * input. */
void ui_check_idle(struct ui *ui);

/* Returns the key of key bar slot at column col, or 0 when none. */
int ui_keybar_key_at(const struct ui *ui, int col);

#endif
