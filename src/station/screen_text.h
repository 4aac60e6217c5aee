/* Column-exact text output for the store screens: untrusted UTF-8 is
 * sanitised and laid out by terminal columns (CJK takes two, combining marks
 * none), so a table stays aligned whatever the patient's name holds. */
#ifndef STATION_SCREEN_TEXT_H
#define STATION_SCREEN_TEXT_H

#include <curses.h>

/* Sanitises text and writes it at (row, col) into exactly width columns,
 * padding with spaces.  Text that does not fit is cut at a character
 * boundary.  With tail set the end is shown instead of the start, so an
 * input field shows what is being typed.  Returns the columns written. */
int screen_text_put(WINDOW *win, int row, int col, int width, const char *text, int tail);

/* Returns the terminal columns that text takes after sanitising. */
int screen_text_width(const char *text);

#endif
