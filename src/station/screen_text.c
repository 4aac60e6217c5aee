/* Column-exact output of sanitised UTF-8 text for the store screens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "sono/crypto.h"
#include "sono/sanitize.h"
#include "station/screen_text.h"

#define TEXT_MAX 4096

/* Decodes sanitised UTF-8 into wide characters; returns how many. */
static size_t decode(const char *s, wchar_t *out, int *widths, size_t max)
{
	mbstate_t st;
	size_t n = 0;
	size_t len = strlen(s);
	size_t step;
	wchar_t wc;
	int w;

	memset(&st, 0, sizeof(st));
	while (len > 0 && n < max) {
		step = mbrtowc(&wc, s, len, &st);
		if (step == (size_t)-1 || step == (size_t)-2 || step == 0) {
			wc = L'?';
			step = 1;
			memset(&st, 0, sizeof(st));
		}
		w = wcwidth(wc);
		out[n] = wc;
		widths[n++] = w < 0 ? 0 : w;
		s += step;
		len -= step;
	}
	return n;
}

int screen_text_width(const char *text)
{
	char clean[TEXT_MAX];
	int width;

	sanitize_str(text, clean, sizeof(clean));
	width = sanitize_width(clean);
	crypto_wipe(clean, sizeof(clean));
	return width;
}

int screen_text_put(WINDOW *win, int row, int col, int width, const char *text, int tail)
{
	static wchar_t chars[TEXT_MAX];
	static int widths[TEXT_MAX];
	char clean[TEXT_MAX];
	size_t n, first = 0, i;
	int used = 0;

	if (width <= 0)
		return 0;
	sanitize_str(text, clean, sizeof(clean));
	n = decode(clean, chars, widths, TEXT_MAX - 1);
	if (tail) {
		int total = 0;

		for (i = 0; i < n; i++)
			total += widths[i];
		while (first < n && total > width)
			total -= widths[first++];
	}
	wmove(win, row, col);
	for (i = first; i < n && used + widths[i] <= width; i++) {
		waddnwstr(win, &chars[i], 1);
		used += widths[i];
	}
	for (i = (size_t)used; i < (size_t)width; i++)
		waddch(win, ' ');
	crypto_wipe(clean, sizeof(clean));
	crypto_wipe(chars, sizeof(chars));
	return used;
}
