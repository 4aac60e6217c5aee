/* libFuzzer target for the patient file parser.  A record that parses must
 * also pass patient_validate(), and no field may keep a control byte. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "station/patient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct patient p;
	char value[PATIENT_NOTE_MAX_BYTES + 1];
	char msg[512];
	size_t i;
	int f;

	if (patient_parse(&p, (const char *)data, size, "2026-12-04", msg, sizeof(msg)) != 0)
		return 0;
	if (patient_validate(&p, "2026-12-04", msg, sizeof(msg)) != 0)
		abort();
	for (f = 0; f < PATIENT_FIELD_COUNT; f++) {
		patient_get_field(&p, (enum patient_field)f, value, sizeof(value));
		for (i = 0; value[i]; i++) {
			unsigned char c = (unsigned char)value[i];

			if ((c < 0x20 && !(c == '\n' && f == PATIENT_FIELD_NOTES)) || c == 0x7f)
				abort();
		}
	}
	patient_clear(&p);
	return 0;
}
