/* libFuzzer target for the theme file parser: any text either parses into
 * a theme or fails with a "file:line:" message, and never crashes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "station/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	char err[512];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (theme_parse(&t, "fuzz.theme", text, err, sizeof(err)) != 0 &&
	    strncmp(err, "fuzz.theme:", 11) != 0)
		abort();
	free(text);
	return 0;
}
