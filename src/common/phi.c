/* The PHI wrapper type; see sono/phi.h for why it exists. */
#include "config.h"

#include <string.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/phi.h"

int phi_text_set(struct phi_text *t, const char *src)
{
	size_t n = strlen(src);

	phi_text_clear(t);
	if (n > PHI_TEXT_MAX)
		return SONO_ETOOBIG;
	memcpy(t->value, src, n);
	t->value[n] = '\0';
	return SONO_OK;
}

const char *phi_text_get(const struct phi_text *t)
{
	return t->value;
}

void phi_text_clear(struct phi_text *t)
{
	crypto_wipe(t->value, sizeof(t->value));
}
