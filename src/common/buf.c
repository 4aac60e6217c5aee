/* Bounded buffers and a checked byte reader; see sono/buf.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"

void sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Grows the allocation so that n more bytes and a NUL fit.
 * Returns 0, SONO_ETOOBIG past max or on overflow, or SONO_ENOMEM. */
static int sbuf_grow(struct sbuf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n)
		return SONO_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return SONO_OK;

	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;

	p = realloc(b->data, cap);
	if (!p)
		return SONO_ENOMEM;
	b->data = p;
	b->cap = cap;
	return SONO_OK;
}

int sbuf_append(struct sbuf *b, const void *data, size_t n)
{
	int rc = sbuf_grow(b, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SONO_OK;
}

int sbuf_append_str(struct sbuf *b, const char *s)
{
	return sbuf_append(b, s, strlen(s));
}

int sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n, rc;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return SONO_EINVAL;

	rc = sbuf_grow(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return SONO_OK;
}

int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

uint8_t *sbuf_reserve(struct sbuf *b, size_t n)
{
	if (sbuf_grow(b, n) < 0)
		return NULL;
	return b->data + b->len;
}

void sbuf_commit(struct sbuf *b, size_t n)
{
	/* The caller filled at most what sbuf_reserve() made room for. */
	b->len += n;
	b->data[b->len] = '\0';
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sbuf_free(struct sbuf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void sbuf_free_wipe(struct sbuf *b)
{
	if (!b)
		return;
	crypto_wipe(b->data, b->cap);
	sbuf_free(b);
}

uint8_t *sbuf_steal(struct sbuf *b, size_t *len)
{
	uint8_t *p = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void br_init(struct breader *r, const void *data, size_t len)
{
	r->p = data;
	r->len = len;
	r->off = 0;
}

size_t br_remaining(const struct breader *r)
{
	return r->len - r->off;
}

int br_bytes(struct breader *r, size_t n, const uint8_t **out)
{
	if (n > br_remaining(r))
		return SONO_EINVAL;
	*out = r->p + r->off;
	r->off += n;
	return SONO_OK;
}

int br_skip(struct breader *r, size_t n)
{
	const uint8_t *p;

	return br_bytes(r, n, &p);
}

/* Reads an n-byte unsigned integer, big-endian when be is set. */
static int br_uint(struct breader *r, size_t n, int be, uint64_t *out)
{
	const uint8_t *p;
	uint64_t v = 0;
	size_t i;

	if (br_bytes(r, n, &p) < 0)
		return SONO_EINVAL;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
	*out = v;
	return SONO_OK;
}

int br_u8(struct breader *r, uint8_t *out)
{
	uint64_t v;

	if (br_uint(r, 1, 1, &v) < 0)
		return SONO_EINVAL;
	*out = (uint8_t)v;
	return SONO_OK;
}

int br_u16be(struct breader *r, uint16_t *out)
{
	uint64_t v;

	if (br_uint(r, 2, 1, &v) < 0)
		return SONO_EINVAL;
	*out = (uint16_t)v;
	return SONO_OK;
}

int br_u32be(struct breader *r, uint32_t *out)
{
	uint64_t v;

	if (br_uint(r, 4, 1, &v) < 0)
		return SONO_EINVAL;
	*out = (uint32_t)v;
	return SONO_OK;
}

int br_u64be(struct breader *r, uint64_t *out)
{
	return br_uint(r, 8, 1, out);
}

int br_u16le(struct breader *r, uint16_t *out)
{
	uint64_t v;

	if (br_uint(r, 2, 0, &v) < 0)
		return SONO_EINVAL;
	*out = (uint16_t)v;
	return SONO_OK;
}

int br_u32le(struct breader *r, uint32_t *out)
{
	uint64_t v;

	if (br_uint(r, 4, 0, &v) < 0)
		return SONO_EINVAL;
	*out = (uint32_t)v;
	return SONO_OK;
}

int br_f32be(struct breader *r, float *out)
{
	uint32_t u;

	if (br_u32be(r, &u) < 0)
		return SONO_EINVAL;
	memcpy(out, &u, sizeof(*out));
	return SONO_OK;
}

int size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return SONO_ETOOBIG;
	*out = a * b;
	return SONO_OK;
}

void put_u16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void put_u32be(uint8_t *p, uint32_t v)
{
	put_u16be(p, (uint16_t)(v >> 16));
	put_u16be(p + 2, (uint16_t)v);
}

void put_u64be(uint8_t *p, uint64_t v)
{
	put_u32be(p, (uint32_t)(v >> 32));
	put_u32be(p + 4, (uint32_t)v);
}

void put_f32be(uint8_t *p, float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	put_u32be(p, u);
}
