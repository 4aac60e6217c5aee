/* libFuzzer target for the parser of sonoprobe's --stations file. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "probe/stations.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct station_list list = { 0 };
	char err[512];
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	(void)station_list_read(&list, f, "fuzz.stations", err, sizeof(err));
	fclose(f);
	station_list_free(&list);
	return 0;
}
