/* libFuzzer target for the terminal reply parsers (DA1, CSI 16 t and
 * CSI 14 t), which read whatever the terminal or a program pretending to be
 * one sends.  Besides memory safety it checks that the DA1 parameter copy
 * stays NUL-terminated within its buffer. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "station/termcaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char params[8], *copy;
	unsigned w, h, cw, ch;
	int sixel = 0;

	/* An exact-size copy, so a read past the end is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	memset(params, 'x', sizeof(params));
	if (termcaps_parse_da1(copy, size, &sixel, params, sizeof(params)) == 0 &&
	    (memchr(params, '\0', sizeof(params)) == NULL || (sixel != 0 && sixel != 1)))
		abort();
	if (termcaps_parse_size_report(copy, size, 6, &w, &h) == 0)
		termcaps_cell_plausible(w, h);
	if (termcaps_parse_size_report(copy, size, 4, &w, &h) == 0)
		termcaps_cell_from_window(w, h, 80, 24, &cw, &ch);
	free(copy);
	return 0;
}
