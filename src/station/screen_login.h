/* The login screen on the ncurses shell: cloud URL (from the
 * configuration), user name and a masked password, Enter to log in and F2
 * to request a password reset.  Errors tell apart wrong credentials, an
 * unreachable cloud, a certificate mismatch and a locked account; when the
 * cloud is unreachable the cached offline login is tried.  The password
 * buffer is wiped after every attempt and when the screen closes. */
#ifndef STATION_SCREEN_LOGIN_H
#define STATION_SCREEN_LOGIN_H

#include "station/cloud_client.h"
#include "station/store.h"
#include "station/ui.h"

/* Longest password the screens accept, in bytes. */
#define SCREEN_PASSWORD_MAX 1024

/* Pushes the login screen.  s must outlive the screen; cloud is copied. */
void login_screen_push(struct ui *ui, struct store *s, const struct cloud_options *cloud);

#endif
