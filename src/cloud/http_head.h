/* The request head parser of the HTTP gate.
 *
 * http_head_parse() reads the request line and headers from the start of a
 * byte buffer.  It is stricter than evhttp's own parser (libevent 2.1.12),
 * so that evhttp accepts every head the gate lets through and never sends
 * its own HTML error page for one:
 *  - every line ends in CRLF, and no line contains NUL, a bare CR or a
 *    control character other than HTAB;
 *  - the request line is exactly METHOD SP TARGET SP HTTP/1.0 or HTTP/1.1,
 *    and the target is a path starting with "/" with no spaces or non-ASCII
 *    bytes;
 *  - header names are tokens; folded (continued) header lines are rejected.
 * It also rejects the body framings that evhttp reads differently from other
 * HTTP software, which are the usual request smuggling vectors.  These are
 * more than one Content-Length, Content-Length together with
 * Transfer-Encoding, and a HEAD request with a body (evhttp 2.1.12 does not
 * read it and parses it as the next request).  Any Transfer-Encoding is
 * rejected too, because evhttp would read a chunked body, whose length the
 * gate cannot know from the head.
 *
 * The parser needs no server, so the router's fuzz target drives it. */
#ifndef SONO_CLOUD_HTTP_HEAD_H
#define SONO_CLOUD_HTTP_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#include "cloud/http.h"

/* Longest Content-Length value in digits: 15 digits stay far below
 * UINT64_MAX and far above any body limit. */
#define HTTP_HEAD_LENGTH_DIGITS_MAX 15

struct http_head {
	size_t length;                  /* bytes of the head, its final empty line included */
	enum cloud_method method;
	int minor_version;              /* 0 or 1, from HTTP/1.x */
	char *path;                     /* decoded target path, owned; NULL when it does not decode */
	char *authorization;            /* Authorization value, owned and wiped; NULL when absent */
	int has_content_length;
	uint64_t content_length;        /* 0 without Content-Length */
	int expect_continue;            /* "Expect: 100-continue" was sent */
};

/* Parses the head at the start of data[0..len).  A head longer than max_len
 * bytes is rejected.
 * Returns 1 and fills head (free it with http_head_clear) when the head is
 * complete and valid; 0 when more bytes are needed; -1 with rejection filled
 * (status 400, 411, 417, 431 or 505) when the head is invalid. */
int http_head_parse(const char *data, size_t len, size_t max_len, struct http_head *head,
	struct cloud_rejection *rejection);

/* Frees the strings of head, wiping the Authorization value, and zeroes it. */
void http_head_clear(struct http_head *head);

/* Returns the decoded path of uri as a new string, or NULL when the URI has
 * no path starting with "/" or the decoded path contains a NUL byte. */
char *http_head_decode_path(const struct evhttp_uri *uri);

#endif
