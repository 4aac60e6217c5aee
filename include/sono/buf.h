/* Bounded buffers for everything read from outside the process.
 *
 * struct sbuf is a growable byte buffer with a hard maximum: appending past
 * max fails with SONO_ETOOBIG and leaves the buffer as it was.  The buffer is
 * always NUL-terminated after its data so text can be used as a C string.
 * struct breader reads big- and little-endian integers and byte runs from a
 * fixed span, checking every length against what remains.
 *
 * Invariants of sbuf: len <= cap, cap <= max + 1 once allocated,
 * data[len] == '\0' whenever data != NULL. */
#ifndef SONO_BUF_H
#define SONO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Initialises an empty buffer that may grow to max bytes. */
void sbuf_init(struct sbuf *b, size_t max);

/* Appends n bytes.  Returns 0, SONO_ETOOBIG past max, or SONO_ENOMEM. */
int sbuf_append(struct sbuf *b, const void *data, size_t n);

/* Appends a NUL-terminated string without its terminator. */
int sbuf_append_str(struct sbuf *b, const char *s);

/* Appends formatted text.  Same returns as sbuf_append. */
int sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Makes room for n more bytes and returns a pointer to them, or NULL
 * (past max or out of memory).  Call sbuf_commit(b, n) after filling them. */
uint8_t *sbuf_reserve(struct sbuf *b, size_t n);
void sbuf_commit(struct sbuf *b, size_t n);

/* Drops the contents but keeps the allocation. */
void sbuf_reset(struct sbuf *b);

/* Frees the buffer; sbuf_free_wipe() first overwrites it for secrets.
 * Both accept a buffer that was never allocated. */
void sbuf_free(struct sbuf *b);
void sbuf_free_wipe(struct sbuf *b);

/* Hands the data to the caller, who frees it with free(); *len gets the length.
 * The buffer is left empty.  Returns NULL if nothing was ever appended. */
uint8_t *sbuf_steal(struct sbuf *b, size_t *len);

struct breader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void br_init(struct breader *r, const void *data, size_t len);

/* Each reader returns 0, or SONO_EINVAL when fewer bytes remain than asked;
 * on failure the position does not move and *out is untouched. */
int br_u8(struct breader *r, uint8_t *out);
int br_u16be(struct breader *r, uint16_t *out);
int br_u32be(struct breader *r, uint32_t *out);
int br_u64be(struct breader *r, uint64_t *out);
int br_u16le(struct breader *r, uint16_t *out);
int br_u32le(struct breader *r, uint32_t *out);
int br_f32be(struct breader *r, float *out);

/* Points *out at the next n bytes without copying. */
int br_bytes(struct breader *r, size_t n, const uint8_t **out);
int br_skip(struct breader *r, size_t n);
size_t br_remaining(const struct breader *r);

/* Multiplies a * b into *out.
 * Returns 0, or SONO_ETOOBIG when the product overflows size_t. */
int size_mul(size_t a, size_t b, size_t *out);

/* Big-endian stores for encoders. */
void put_u16be(uint8_t *p, uint16_t v);
void put_u32be(uint8_t *p, uint32_t v);
void put_u64be(uint8_t *p, uint64_t v);
void put_f32be(uint8_t *p, float v);

#endif
