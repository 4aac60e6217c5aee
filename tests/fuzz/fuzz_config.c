/* libFuzzer target for the configuration file parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/config.h"

static const struct config_key known[] = {
	{ "", "log_level", "" },
	{ "scanner", "address", "" },
	{ "scanner", "pin", "" },
	{ "cloud", "url", "" },
	{ NULL, NULL, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	char err[512];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	config_init(&c, known);
	if (config_parse(&c, "fuzz.conf", text, err, sizeof(err)) == 0) {
		(void)config_get(&c, "scanner", "address");
		(void)config_get_long(&c, "", "log_level", 0, 0, 10, NULL);
	}
	free(text);
	return 0;
}
