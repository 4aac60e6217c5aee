/* The live scanning screen: state shared by its files.
 *
 *   screen_live.c  screen callbacks (keys, clicks, tick) and the screen table
 *   live_panel.c   side panel, depth scale labels and status line
 *   live_paint.c   image pipeline (newest frame, output-queue drain, size and
 *                  palette adaptation, re-emission after a redraw)
 *   live_source.c  frame delivery from the scanner client or a synthetic test
 *                  source, and the thread that forwards frames to the UI
 *
 * Frames flow: receive thread -> link mailbox -> forwarder thread (which
 * also records the cine and wakes the UI) -> UI mailbox -> live->current ->
 * renderer -> terminal.  Both mailboxes keep only the newest frame. */
#ifndef STATION_LIVE_H
#define STATION_LIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sono/buf.h"
#include "sono/frame.h"
#include "sono/tls.h"
#include "station/calipers.h"
#include "station/capture.h"
#include "station/cine.h"
#include "station/mailbox.h"
#include "station/render.h"
#include "station/scanner.h"
#include "station/termcaps.h"
#include "station/ui.h"

#define LIVE_DEPTH_MIN_MM 10.0
#define LIVE_DEPTH_MAX_MM 300.0
#define LIVE_DEPTH_STEP_MM 10.0
#define LIVE_GAIN_MIN_DB (-30.0)
#define LIVE_GAIN_MAX_DB 30.0
#define LIVE_GAIN_STEP_DB 2.0
#define LIVE_PANEL_COLS 28   /* side panel width; hidden below 60 columns */
#define LIVE_SCALE_COLS 5    /* depth scale labels between image and panel */
#define LIVE_AGES_MAX 1024   /* frame ages kept per 5 s stats window */

struct live;

/* The current exam as the live screen shows it. */
struct live_exam_status {
	char exam[32];     /* short exam id, e.g. the UUID's first 8 digits; "" hides it */
	int has_patient;
	char prompt[160];  /* a question waiting for a key, shown first; "" for none */
};

/* The station workflow around the live screen (station/flow.h): keys and
 * status of the current exam.  Every callback may be NULL; arg is the
 * options' hooks_arg. */
struct live_hooks {
	/* Sees every key before the live screen does.  Returns UI_ACT_* flags,
	 * with UI_ACT_HANDLED when it used the key. */
	int (*key)(struct ui *ui, void *arg, struct live *lv, int key);
	/* Fills out with the current exam for the status line and the panel.
	 * Anyone near the cart sees them, so they carry no patient data. */
	void (*status)(void *arg, struct live_exam_status *out);
	/* Called when the live screen is on top again after a screen above it
	 * closed. */
	void (*uncover)(struct ui *ui, void *arg, struct live *lv);
	/* Called when the live screen closes, before its sink is closed. */
	void (*closed)(void *arg, struct live *lv);
};

/* Start-up settings of the live screen, from the command line or config. */
struct live_options {
	char host[256];
	unsigned port;
	char pin[TLS_FINGERPRINT_LEN];
	char serial[64];             /* expected certificate serial; "" = any */
	int insecure_igtl;
	struct station_identity identity; /* certificate presented to the scanner */
	const char *test_source;     /* non-NULL: synthetic frames, no scanner */
	enum render_mode render;     /* requested mode (AUTO resolves via termcaps) */
	double cine_seconds;
	size_t cine_bytes;
	int *exit_status;            /* when not NULL, gets an EXIT_* code on close */
	/* Target of the captures.  When save_still is NULL the screen keeps
	 * them in memory (capture_memory_sink); otherwise the screen takes
	 * ownership and calls sink.close when it closes. */
	struct capture_sink sink;
	const struct live_hooks *hooks; /* NULL: no workflow keys */
	void *hooks_arg;
};

/* Size and palette adaptation to the terminal's throughput. */
struct live_adapt {
	double area_scale;           /* fraction of the image area used, 0.1 .. 1 */
	unsigned gray_levels;        /* sixel gray palette size */
	double link_bytes_per_s;     /* measured terminal throughput; 0 = unknown */
	size_t last_bytes;           /* output of the last frame */
	long long write_ms;          /* when the last frame was written */
	long long grow_ms;           /* when the image last grew */
	int draining;                /* the last frame is still in the output queue */
	uint64_t frame_ts_ns;        /* timestamp of the last live frame written, 0 if frozen */
};

struct live_testsrc;

struct live {
	struct ui *ui;
	struct live_options opt;
	struct termcaps caps;

	/* frame delivery */
	struct mailbox *link_mb;     /* filled by the scanner or test source */
	struct mailbox *ui_mb;       /* filled by the forwarder */
	struct scanner *scanner;
	struct live_testsrc *testsrc;
	pthread_t forwarder;
	int forwarder_started;
	atomic_int stop;
	atomic_int frozen;           /* read by the forwarder: stop recording cine */
	pthread_mutex_t cine_lock;   /* guards cine */
	struct cine *cine;
	atomic_uint_fast64_t frames_in; /* frames forwarded to the UI */

	/* what is shown */
	struct frame current;        /* newest live frame taken by the UI */
	int have_frame;
	int dirty;                   /* current (or the frozen view) not yet painted */
	size_t cine_pos;             /* frame index shown while frozen */
	double depth_mm;
	int depth_known;             /* depth_mm was set by a frame or a key */
	double gain_db;
	size_t preset;               /* index into live_presets */
	struct calipers calipers;
	struct capture_sink sink;
	unsigned stills_saved;
	unsigned cines_saved;

	/* rendering */
	enum render_mode mode;
	struct render *render;
	struct render_target target;
	struct render_layout layout;
	struct render_layout logged_layout; /* last placement written to the log */
	int layout_valid;
	struct ui_rect area;         /* full image area in cells */
	struct sbuf out;
	struct live_adapt adapt;
	int last_render_rc;          /* last render_frame error, so repeats are not logged */

	/* statistics for the status line */
	long long fps_start_ms;
	unsigned fps_frames;
	double fps;                  /* frames painted per second */
	long long last_paint_ms;
	double frame_age_ms;         /* age of the last frame when the terminal took it */
	double frame_age_max_ms;     /* since the last periodic log line */
	double ages[LIVE_AGES_MAX];  /* frame ages since the last log line, for p95 */
	size_t ages_count;
	long long stats_log_ms;
	uint64_t paints;
	struct scanner_stats link;   /* snapshot, refreshed each tick */
};

extern const char *const live_presets[];
extern const size_t live_preset_count;

/* Creates the live screen's state and starts frame delivery.  Takes
 * ownership of opt->sink, also on failure.  Returns the state for
 * ui_push(&live_screen, ...), or NULL with a message in err (invalid
 * option, scanner link not started). */
struct live *live_new(struct ui *ui, const struct live_options *opt,
	const struct termcaps *caps, char *err, size_t errlen);

/* The screen table for ui_push(). */
extern const struct ui_screen live_screen;

/* Closes the current capture target and saves later captures to sink,
 * taking ownership of it.  stills and cines start the panel's capture
 * counts (the captures the new target already contains). */
void live_set_sink(struct live *lv, const struct capture_sink *sink, unsigned stills,
	unsigned cines);

/* Starts and stops frame delivery (live_source.c).  live_sources_start
 * returns 0 or a negative SONO_E* code with err filled. */
int live_sources_start(struct live *lv, char *err, size_t errlen);
void live_sources_stop(struct live *lv);

/* Sends the current depth, gain, preset or freeze state to the scanner;
 * no-ops with a test source. */
void live_send_depth(struct live *lv);
void live_send_gain(struct live *lv);
void live_send_preset(struct live *lv);
void live_send_freeze(struct live *lv);

/* Returns the frame to show: the cine frame while frozen, else the newest
 * live frame, or NULL before the first frame.  Call with cine_lock held
 * while frozen. */
const struct frame *live_view_frame(struct live *lv);

/* The image pipeline (live_paint.c).  live_paint writes the view frame when
 * it changed or full is set, once the terminal has drained the previous
 * one. */
void live_paint(struct live *lv, int full);

/* Returns the ms the main loop may sleep before the pipeline needs it. */
int live_paint_timeout(const struct live *lv);

/* Recomputes the image area from the body size; call after a resize. */
void live_layout(struct live *lv);

/* Draws the side panel and the depth scale labels (live_panel.c). */
void live_draw(struct ui *ui, void *state, WINDOW *win);

/* Writes the screen's part of the status line (live_panel.c). */
void live_status(struct ui *ui, void *state, char *out, size_t outlen);

/* Maps a clicked cell to frame pixel coordinates.  Returns 0 or SONO_EINVAL
 * when the click is outside the image. */
int live_cell_to_frame(const struct live *lv, int row, int col, struct render_point *out);

/* Returns the depth scale's tick spacing in mm: 5 up to 40 mm, 10 up to
 * 150 mm, 20 beyond. */
double live_tick_step_mm(double depth_mm);

/* Returns the terminal row on which frame row y is shown, or -1. */
int live_frame_row_to_cell(const struct live *lv, double y);

#endif
