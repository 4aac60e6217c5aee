/* The request head parser of the HTTP gate; see http_head.h for the rules. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sono/crypto.h"
#include "cloud/http_head.h"

/* Counts of the headers that decide how the body is framed. */
struct head_framing {
	unsigned content_lengths;
	int transfer_encoding;
};

void cloud_rejection_set(struct cloud_rejection *f, int status, const char *error,
	const char *message)
{
	memset(f, 0, sizeof(*f));
	f->status = status;
	f->error = error;
	snprintf(f->message, sizeof(f->message), "%s", message);
}

static int reject_invalid(struct cloud_rejection *f, const char *message)
{
	cloud_rejection_set(f, 400, "invalid_request", message);
	return -1;
}

static int is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		(ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A header value byte: visible ASCII, SP, HTAB or obs-text (0x80-0xff). */
static int is_value_char(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static int all_tchars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* Returns the length of the head at the start of data[0..len), through its
 * empty line, or 0 when the head is not complete.  Returns -1 after filling
 * f when a line does not end in CRLF or the head contains NUL or a bare CR. */
static long head_end(const char *data, size_t len, struct cloud_rejection *f)
{
	size_t pos, line_start = 0;

	for (pos = 0; pos < len; pos++) {
		if (data[pos] == '\0')
			return reject_invalid(f, "The request head contains a NUL byte.");
		if (data[pos] == '\r') {
			if (pos + 1 < len && data[pos + 1] != '\n')
				return reject_invalid(f, "Each line of the request head must end with CRLF.");
			continue;
		}
		if (data[pos] != '\n')
			continue;
		if (pos == 0 || data[pos - 1] != '\r')
			return reject_invalid(f, "Each line of the request head must end with CRLF.");
		if (pos - 1 == line_start) {
			if (line_start == 0)
				return reject_invalid(f, "The request line is empty.");
			return (long)(pos + 1);
		}
		line_start = pos + 1;
	}
	return 0;
}

static enum cloud_method method_of(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum cloud_method method;
	} methods[] = {
		{ "GET", CLOUD_METHOD_GET },
		{ "HEAD", CLOUD_METHOD_HEAD },
		{ "POST", CLOUD_METHOD_POST },
		{ "PUT", CLOUD_METHOD_PUT },
		{ "DELETE", CLOUD_METHOD_DELETE },
	};
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n && memcmp(methods[i].name, s, n) == 0)
			return methods[i].method;
	return CLOUD_METHOD_OTHER;
}

/* Sets h->minor_version from "HTTP/1.0" or "HTTP/1.1".  Any other
 * HTTP/x.y gets 505; anything else 400. */
static int parse_version(const char *s, size_t n, struct http_head *h, struct cloud_rejection *f)
{
	if (n == 8 && memcmp(s, "HTTP/1.", 7) == 0 && (s[7] == '0' || s[7] == '1')) {
		h->minor_version = s[7] - '0';
		return 0;
	}
	if (n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
	    s[7] >= '0' && s[7] <= '9') {
		cloud_rejection_set(f, 505, "version_not_supported",
			"Only HTTP/1.0 and HTTP/1.1 are supported.");
		return -1;
	}
	return reject_invalid(f, "The request line must end with HTTP/1.1 or HTTP/1.0.");
}

char *http_head_decode_path(const struct evhttp_uri *uri)
{
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t len = 0;
	char *path;

	if (raw == NULL || raw[0] != '/')
		return NULL;
	path = evhttp_uridecode(raw, 0, &len);
	if (path != NULL && strlen(path) != len) {
		free(path);
		path = NULL;
	}
	return path;
}

/* Checks the target's bytes, parses it as evhttp does and decodes its path
 * into h->path. */
static int parse_target(const char *s, size_t n, struct http_head *h, struct cloud_rejection *f)
{
	struct evhttp_uri *uri;
	char *target;
	size_t i;

	if (n == 0 || s[0] != '/')
		return reject_invalid(f, "The request target must be a path starting with \"/\".");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return reject_invalid(f, "The request target contains a character that "
				"must be percent-encoded.");
	target = strndup(s, n);
	if (target == NULL)
		return reject_invalid(f, "The server is out of memory.");
	uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
	free(target);
	if (uri == NULL)
		return reject_invalid(f, "The request target is not a valid URI.");
	h->path = http_head_decode_path(uri);
	evhttp_uri_free(uri);
	return 0;
}

/* Parses "METHOD SP TARGET SP VERSION" (line without its CRLF). */
static int parse_request_line(const char *line, size_t n, struct http_head *h,
	struct cloud_rejection *f)
{
	const char *end = line + n;
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;

	if (sp2 == NULL || memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)) != NULL ||
	    !all_tchars(line, (size_t)(sp1 - line)))
		return reject_invalid(f, "The request line must be a method, a path and "
			"HTTP/1.1, separated by single spaces.");
	h->method = method_of(line, (size_t)(sp1 - line));
	if (parse_version(sp2 + 1, (size_t)(end - sp2 - 1), h, f) < 0)
		return -1;
	return parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), h, f);
}

static int name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int parse_content_length(const char *v, size_t n, struct http_head *h,
	struct head_framing *fr, struct cloud_rejection *f)
{
	uint64_t value = 0;
	size_t i;

	fr->content_lengths++;
	if (n == 0 || n > HTTP_HEAD_LENGTH_DIGITS_MAX)
		return reject_invalid(f, "The Content-Length header must be a decimal number "
			"of at most 15 digits.");
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return reject_invalid(f, "The Content-Length header must be a decimal number "
				"of at most 15 digits.");
		value = value * 10 + (uint64_t)(v[i] - '0');
	}
	h->has_content_length = 1;
	h->content_length = value;
	return 0;
}

/* Acts on the headers the gate reads: Content-Length, Transfer-Encoding,
 * Authorization and Expect.  v[0..n) is the value without surrounding
 * whitespace. */
static int use_header(const char *name, size_t name_len, const char *v, size_t n,
	struct http_head *h, struct head_framing *fr, struct cloud_rejection *f)
{
	if (name_is(name, name_len, "Content-Length"))
		return parse_content_length(v, n, h, fr, f);
	if (name_is(name, name_len, "Transfer-Encoding")) {
		fr->transfer_encoding = 1;
		return 0;
	}
	if (name_is(name, name_len, "Authorization")) {
		if (h->authorization != NULL)
			return reject_invalid(f, "The request has more than one Authorization header.");
		h->authorization = strndup(v, n);
		return h->authorization ? 0 : reject_invalid(f, "The server is out of memory.");
	}
	if (name_is(name, name_len, "Expect")) {
		if (!(n == 12 && strncasecmp(v, "100-continue", 12) == 0)) {
			cloud_rejection_set(f, 417, "expectation_failed",
				"The only expectation supported is \"Expect: 100-continue\".");
			return -1;
		}
		h->expect_continue = 1;
	}
	return 0;
}

/* Parses one "name: value" line (without its CRLF). */
static int parse_header_line(const char *line, size_t n, struct http_head *h,
	struct head_framing *fr, struct cloud_rejection *f)
{
	const char *colon = memchr(line, ':', n);
	const char *v, *end = line + n;
	size_t i;

	if (line[0] == ' ' || line[0] == '\t')
		return reject_invalid(f, "Folded header lines are not accepted.");
	if (colon == NULL || !all_tchars(line, (size_t)(colon - line)))
		return reject_invalid(f, "Each header line must be a name, a colon and a value.");
	for (v = colon + 1; v < end; v++)
		if (!is_value_char((unsigned char)*v))
			return reject_invalid(f, "A header value contains a control character.");
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	i = (size_t)(colon - line);
	return use_header(line, i, v, (size_t)(end - v), h, fr, f);
}

/* Rejects the framings that evhttp reads differently from other HTTP
 * software; see http_head.h. */
static int check_framing(const struct http_head *h, const struct head_framing *fr,
	struct cloud_rejection *f)
{
	if (fr->content_lengths > 1) {
		cloud_rejection_set(f, 400, "ambiguous_length", "The request has more than one "
			"Content-Length header; send exactly one.");
		return -1;
	}
	if (fr->transfer_encoding && fr->content_lengths > 0) {
		cloud_rejection_set(f, 400, "ambiguous_length", "The request has both Content-Length "
			"and Transfer-Encoding; send the body with Content-Length only.");
		return -1;
	}
	if (fr->transfer_encoding) {
		cloud_rejection_set(f, 411, "length_required", "Transfer-Encoding is not accepted; "
			"send the body with a Content-Length header.");
		return -1;
	}
	if (h->method == CLOUD_METHOD_HEAD && h->content_length > 0)
		return reject_invalid(f, "A HEAD request cannot have a body.");
	return 0;
}

/* Parses the lines of a complete head data[0..len), which head_end has
 * checked for line ends. */
static int parse_lines(const char *data, size_t len, struct http_head *h, struct cloud_rejection *f)
{
	struct head_framing fr = { 0, 0 };
	const char *line = data, *end = data + len;
	const char *eol = memchr(line, '\r', len);

	if (parse_request_line(line, (size_t)(eol - line), h, f) < 0)
		return -1;
	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memchr(line, '\r', (size_t)(end - line));
		if (eol == line)
			break;
		if (parse_header_line(line, (size_t)(eol - line), h, &fr, f) < 0)
			return -1;
	}
	return check_framing(h, &fr, f);
}

int http_head_parse(const char *data, size_t len, size_t max_len, struct http_head *head,
	struct cloud_rejection *rejection)
{
	char message[sizeof(rejection->message)];
	long end;

	memset(head, 0, sizeof(*head));
	memset(rejection, 0, sizeof(*rejection));
	end = head_end(data, len < max_len ? len : max_len, rejection);
	if (end < 0)
		return -1;
	if (end == 0) {
		if (len < max_len)
			return 0;
		snprintf(message, sizeof(message), "The request line and headers exceed %zu bytes.",
			max_len);
		cloud_rejection_set(rejection, 431, "headers_too_large", message);
		return -1;
	}
	head->length = (size_t)end;
	if (parse_lines(data, head->length, head, rejection) < 0) {
		http_head_clear(head);
		return -1;
	}
	return 1;
}

void http_head_clear(struct http_head *head)
{
	if (head->authorization != NULL) {
		crypto_wipe(head->authorization, strlen(head->authorization));
		free(head->authorization);
	}
	free(head->path);
	memset(head, 0, sizeof(*head));
}
