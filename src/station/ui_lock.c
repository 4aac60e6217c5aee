/* The shell's idle lock: the idle clock and the lock screen's place on the
 * stack.  What the lock screen shows and what unlocks it is the station's
 * business (screen_lock.h). */
#include "config.h"

#include "sono/log.h"
#include "station/ui.h"
#include "station/ui_internal.h"

void ui_set_lock(struct ui *ui, const struct ui_lock_hooks *hooks, void *arg)
{
	ui->lock = hooks;
	ui->lock_arg = arg;
	ui_lock_refresh(ui);
}

void ui_lock_refresh(struct ui *ui)
{
	ui->lock_idle_ms = ui->lock ? ui->lock->idle_ms(ui->lock_arg) : -1;
	ui->input_ms = ui_now_ms();
}

int ui_locked(const struct ui *ui)
{
	return ui->lock_layer >= 0;
}

/* Pushes the lock screen and forces a full redraw.  Only clearing the
 * whole terminal removes a sixel image, because ncurses does not know it is
 * there.  The lock screen has no paint callback, so nothing writes the
 * image area again until it closes.  The status line message may name what
 * the operator just did, so it is cleared too. */
int ui_lock(struct ui *ui)
{
	if (ui_locked(ui))
		return 0;
	if (!ui->lock || ui->lock->push(ui, ui->lock_arg) < 0) {
		ui->lock_idle_ms = -1;
		return -1;
	}
	ui->lock_layer = ui->depth - 1;
	ui->message[0] = '\0';
	ui->message_until = 0;
	ui->help_visible = 0;
	ui->image.rows = 0;
	ui->full = 1;
	return 0;
}

void ui_check_idle(struct ui *ui)
{
	if (ui_locked(ui) || ui->lock_idle_ms < 0)
		return;
	if (ui_now_ms() - ui->input_ms < ui->lock_idle_ms)
		return;
	if (ui_lock(ui) == 0)
		LOG_NOTICE("screen locked after %lld s without input", ui->lock_idle_ms / 1000);
	else
		LOG_INFO("idle time passed, but no lock applies (nobody is logged in)");
}
