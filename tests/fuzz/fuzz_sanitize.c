/* libFuzzer target for the terminal sanitiser.  Besides memory safety it
 * checks the output contract: valid UTF-8 with no ESC, C0 or C1 control. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_output(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7F)
			abort();
		/* U+0080..U+009F encode as C2 80..C2 9F. */
		if (s[i] == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256];
	size_t n, outsize = 1 + (size ? data[0] % sizeof(out) : 0);

	n = sanitize_text((const char *)data, size, out, outsize, 0);
	if (n >= outsize || out[n] != '\0' || strlen(out) != n)
		abort();
	check_output((const unsigned char *)out, n);
	(void)sanitize_width(out);
	return 0;
}
