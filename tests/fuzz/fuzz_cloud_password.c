/* libFuzzer target for the cloud's password rules and audit time parser.
 * Input: a user name, a NUL, then the password; a leading 'T' instead
 * fuzzes audit_parse_time.  Besides memory safety it checks that every
 * rejection comes with a reason. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/accounts.h"
#include "cloud/audit.h"
#include "sono/error.h"

#define INPUT_MAX 2048

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (accounts_load_password_list(NULL) != SONO_OK)
		accounts_load_password_list(SONO_SRCDIR "/src/cloud/common-passwords.txt");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INPUT_MAX + 1], reason[ACCOUNTS_REASON_MAX];
	const char *password;
	int64_t when;
	int rc;

	if (size > INPUT_MAX)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (size > 0 && text[0] == 'T') {
		audit_parse_time(text + 1, &when);
		return 0;
	}
	password = text + strlen(text) + (strlen(text) < size ? 1 : 0);
	reason[0] = '\0';
	rc = accounts_password_check(text, password, reason, sizeof(reason));
	if (rc != SONO_OK && reason[0] == '\0')
		abort();
	return 0;
}
