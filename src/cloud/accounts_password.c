/* Password rules of NIST SP 800-63B-4 for a single-factor password: length
 * in code points, no composition rules, and a blocklist of common, repeated,
 * sequential and context-specific passwords (see accounts.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/accounts.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define LIST_LINE_MAX 256
#define LIST_ENTRIES_MAX 200000
#define MIN_DISTINCT 4 /* fewer distinct characters than this is a repeat */
#define MIN_CORE 4     /* shortest list word that padding checks look for */

static const char *const service_words[] = { "sonoterm", "sonocloud", "sonoprobe" };

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static char **list_words; /* sorted, lowercase */
static size_t list_count;

static int compare_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int add_word(char ***words, size_t *count, size_t *cap, const char *line)
{
	char *copy;

	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		char **grown;

		if (ncap > LIST_ENTRIES_MAX)
			return SONO_ETOOBIG;
		grown = realloc(*words, ncap * sizeof(*grown));
		if (grown == NULL)
			return SONO_ENOMEM;
		*words = grown;
		*cap = ncap;
	}
	copy = strdup(line);
	if (copy == NULL)
		return SONO_ENOMEM;
	lower_ascii(copy);
	(*words)[(*count)++] = copy;
	return SONO_OK;
}

static void free_words(char **words, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(words[i]);
	free(words);
}

static int read_list(FILE *f, char ***words, size_t *count)
{
	char line[LIST_LINE_MAX + 2];
	size_t cap = 0;
	int rc = SONO_OK;

	*words = NULL;
	*count = 0;
	while (rc == SONO_OK && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		rc = add_word(words, count, &cap, line);
	}
	if (rc == SONO_OK && ferror(f))
		rc = SONO_EIO;
	if (rc != SONO_OK) {
		free_words(*words, *count);
		*words = NULL;
		*count = 0;
	}
	return rc;
}

static const char *default_list_path(void)
{
	const char *env = getenv("SONOCLOUD_PASSWORD_LIST");

	if (env != NULL && env[0] != '\0')
		return env;
	return SONO_DATADIR "/common-passwords.txt";
}

int accounts_load_password_list(const char *path)
{
	char **words;
	size_t count;
	FILE *f;
	int rc;

	if (path == NULL)
		path = default_list_path();
	f = fopen(path, "r");
	if (f == NULL) {
		LOG_ERROR("cannot open the common-password list %s: %s", path, strerror(errno));
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	}
	rc = read_list(f, &words, &count);
	fclose(f);
	if (rc != SONO_OK) {
		LOG_ERROR("cannot read the common-password list %s: %s", path, sono_strerror(rc));
		return rc;
	}
	qsort(words, count, sizeof(*words), compare_words);
	pthread_mutex_lock(&list_lock);
	free_words(list_words, list_count);
	list_words = words;
	list_count = count;
	pthread_mutex_unlock(&list_lock);
	LOG_INFO("loaded %zu common passwords from %s", count, path);
	return SONO_OK;
}

void accounts_free_password_list(void)
{
	pthread_mutex_lock(&list_lock);
	free_words(list_words, list_count);
	list_words = NULL;
	list_count = 0;
	pthread_mutex_unlock(&list_lock);
}

/* Loads the default list on first use.  Returns 0 or the load error. */
static int ensure_list(void)
{
	int loaded;

	pthread_mutex_lock(&list_lock);
	loaded = list_words != NULL;
	pthread_mutex_unlock(&list_lock);
	return loaded ? SONO_OK : accounts_load_password_list(NULL);
}

/* Callers hold list_lock, because a reload frees the old list. */
static int on_list(const char *lower, size_t len)
{
	char key[LIST_LINE_MAX + 1];
	const char *k = key;

	if (len == 0 || len > LIST_LINE_MAX)
		return 0;
	memcpy(key, lower, len);
	key[len] = '\0';
	return bsearch(&k, list_words, list_count, sizeof(*list_words), compare_words) != NULL;
}

/* Counts the code points of valid UTF-8 text; returns -1 for invalid
 * UTF-8 (overlong forms, surrogates, values past U+10FFFF). */
static long utf8_length(const unsigned char *s, size_t len)
{
	size_t i = 0;
	long count = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		unsigned long cp;
		size_t k;

		if (n == 0 || i + n > len)
			return -1;
		cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
		    || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += n;
		count++;
	}
	return count;
}

static int has_control(const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static size_t distinct_bytes(const char *s, size_t len)
{
	unsigned char seen[256] = { 0 };
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (!seen[(unsigned char)s[i]]++)
			n++;
	return n;
}

/* Returns the length of the shortest unit that s repeats (with a partial
 * copy at the end allowed), or len when s has no shorter period. */
static size_t period(const char *s, size_t len)
{
	size_t p, i;

	for (p = 1; p <= len / 2; p++) {
		for (i = p; i < len && s[i] == s[i - p]; i++)
			;
		if (i == len)
			return p;
	}
	return len;
}

/* Returns 1 when most neighbouring characters step by +1 or -1 ("abcdef",
 * "987654", "123456789012345", where 9 wraps to 0). */
static int is_sequence(const char *s, size_t len)
{
	size_t i, steps = 0;

	for (i = 1; i < len; i++) {
		int d = (unsigned char)s[i] - (unsigned char)s[i - 1];

		if (d == 1 || d == -1 || (s[i - 1] == '9' && s[i] == '0')
		    || (s[i - 1] == '0' && s[i] == '9'))
			steps++;
	}
	return len > 1 && steps * 5 >= (len - 1) * 4;
}

static int is_padding(char c)
{
	return !isalpha((unsigned char)c) && !((unsigned char)c & 0x80);
}

/* Applies the list-based rules to lower (lowercase, len bytes).  Returns a
 * reason, or NULL when the password passes.  Callers hold list_lock. */
static const char *check_lists(const char *lower, size_t len)
{
	size_t start = 0, end = len, unit;

	if (on_list(lower, len))
		return "it is on a list of common passwords";
	unit = period(lower, len);
	if (unit < len && on_list(lower, unit))
		return "it repeats a common password";
	if (unit <= len / 2)
		return "it repeats the same sequence of characters";
	while (start < end && is_padding(lower[start]))
		start++;
	while (end > start && is_padding(lower[end - 1]))
		end--;
	if (end - start >= MIN_CORE && (start > 0 || end < len)) {
		unit = period(lower + start, end - start);
		if (on_list(lower + start, end - start) || on_list(lower + start, unit))
			return "it is a common password with digits or symbols added";
	}
	return NULL;
}

static const char *check_context(const char *name, const char *lower)
{
	size_t i;

	if (name != NULL && strlen(name) >= 3 && strstr(lower, name) != NULL)
		return "it contains your user name";
	for (i = 0; i < sizeof(service_words) / sizeof(service_words[0]); i++)
		if (strstr(lower, service_words[i]) != NULL)
			return "it contains the name of this service";
	return NULL;
}

static const char *check_shape(const char *lower, size_t len)
{
	if (distinct_bytes(lower, len) < MIN_DISTINCT)
		return "it uses fewer than 4 different characters";
	if (is_sequence(lower, len))
		return "it is a run of consecutive characters";
	return NULL;
}

int accounts_password_check(const char *name, const char *password,
	char *reason, size_t reasonlen)
{
	char lower[ACCOUNTS_PASSWORD_MAX_BYTES + 1];
	size_t len = strlen(password);
	const char *why = NULL;
	long chars;
	int rc;

	if (len > ACCOUNTS_PASSWORD_MAX_BYTES) {
		snprintf(reason, reasonlen, "Choose a shorter password: at most %d characters.",
			ACCOUNTS_PASSWORD_MAX);
		return SONO_EINVAL;
	}
	chars = utf8_length((const unsigned char *)password, len);
	if (chars < 0 || has_control((const unsigned char *)password, len)) {
		snprintf(reason, reasonlen, "The password contains invalid UTF-8 or control characters.");
		return SONO_EINVAL;
	}
	if (chars < ACCOUNTS_PASSWORD_MIN || chars > ACCOUNTS_PASSWORD_MAX) {
		snprintf(reason, reasonlen, "Choose a password of %d to %d characters; this one has %ld.",
			ACCOUNTS_PASSWORD_MIN, ACCOUNTS_PASSWORD_MAX, chars);
		return SONO_EINVAL;
	}
	rc = ensure_list();
	if (rc != SONO_OK) {
		snprintf(reason, reasonlen, "Passwords cannot be checked right now; try again later.");
		return SONO_ENOTFOUND;
	}
	memcpy(lower, password, len + 1);
	lower_ascii(lower);
	why = check_context(name, lower);
	if (why == NULL)
		why = check_shape(lower, len);
	if (why == NULL) {
		pthread_mutex_lock(&list_lock);
		why = check_lists(lower, len);
		pthread_mutex_unlock(&list_lock);
	}
	crypto_wipe(lower, sizeof(lower));
	if (why != NULL) {
		snprintf(reason, reasonlen, "Choose another password: %s.", why);
		return SONO_EINVAL;
	}
	return SONO_OK;
}
