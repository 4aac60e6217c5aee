/* OpenIGTLink protocol version 2 codec: the 58-byte message header with its
 * CRC-64, and the IMAGE, STATUS and STRING bodies the scanner link uses.
 *
 * Protocol version 2 messages carry header version 1 in their first field;
 * header version 2 (protocol version 3, with an extended header) is rejected.
 * All integers and floats are big-endian on the wire.  The CRC is the
 * ECMA-182 CRC-64 (polynomial 0x42F0E1EBA9EA3693, initial value 0, no
 * reflection, no final XOR) over the body, as the OpenIGTLink reference
 * library computes it.  Timestamps hold seconds since the Unix epoch in the
 * upper 32 bits and the fraction of a second, in units of 2^-32 s, in the
 * lower 32 bits.
 *
 * The decoder takes bytes as they arrive and never allocates more than it has
 * received, so a header that promises a large body costs nothing until the
 * bytes come; an IMAGE header is checked against the promised body size as
 * soon as its 72 bytes are in. */
#ifndef SONO_IGTL_H
#define SONO_IGTL_H

#include <stddef.h>
#include <stdint.h>

#include "sono/buf.h"
#include "sono/frame.h"

#define IGTL_HEADER_SIZE 58
#define IGTL_HEADER_VERSION 1
#define IGTL_TYPE_LEN 12
#define IGTL_DEVICE_LEN 20
#define IGTL_IMAGE_HEADER_SIZE 72
#define IGTL_STATUS_HEADER_SIZE 30 /* code, subcode, error name */
#define IGTL_STRING_HEADER_SIZE 4  /* encoding, length */

/* MIBenum values of the STRING encodings the codec accepts. */
#define IGTL_ENCODING_US_ASCII 3
#define IGTL_ENCODING_UTF8 106

/* STATUS codes used by the scanner link (a subset of the specification's). */
#define IGTL_STATUS_OK 1
#define IGTL_STATUS_GENERIC_ERROR 2

/* Largest STRING or STATUS body the decoder accepts, in bytes: the largest
 * STRING the format carries, a 4-byte header and 65535 bytes of text. */
#define IGTL_TEXT_BODY_MAX (IGTL_STRING_HEADER_SIZE + 0xffff)

/* A decoded message header.  type and device are NUL-terminated copies of the
 * space- or NUL-padded fields. */
struct igtl_header {
	uint16_t version;
	char type[IGTL_TYPE_LEN + 1];
	char device[IGTL_DEVICE_LEN + 1];
	uint64_t timestamp; /* seconds << 32 | fraction */
	uint64_t body_size;
	uint64_t crc;
};

/* A decoded STRING body.  text points into the message body and is not
 * NUL-terminated; it is valid while the body is. */
struct igtl_string {
	uint16_t encoding;
	const char *text;
	size_t len;
};

/* A decoded STATUS body; message points into the body like igtl_string. */
struct igtl_status {
	uint16_t code;
	int64_t subcode;
	char error_name[IGTL_DEVICE_LEN + 1];
	const char *message;
	size_t message_len;
};

/* Continues a CRC-64 over n more bytes; start with crc = 0. */
uint64_t igtl_crc64(uint64_t crc, const void *data, size_t n);

/* Converts between CLOCK_REALTIME nanoseconds and the header timestamp. */
uint64_t igtl_timestamp_from_ns(uint64_t ns);
uint64_t igtl_timestamp_to_ns(uint64_t timestamp);

/* Writes h to out in wire order (type and device are truncated to their
 * field sizes and padded with NULs). */
void igtl_header_pack(const struct igtl_header *h, uint8_t out[IGTL_HEADER_SIZE]);

/* Reads a header.  Returns 0, or SONO_EPROTO for a header version other than
 * 1 or a type field that is empty or not printable ASCII. */
int igtl_header_unpack(struct igtl_header *h, const uint8_t in[IGTL_HEADER_SIZE]);

/* Each encoder appends one whole message (header and body) to out and
 * returns 0, SONO_EINVAL for an argument the format cannot carry, or the
 * sbuf error.  timestamp_ns is CLOCK_REALTIME; device may be NULL. */

/* Encodes a 2-D, 8-bit frame with 1 or 3 components; the matrix carries the
 * frame's spacing (1 mm when unknown) with the identity orientation. */
int igtl_encode_image(struct sbuf *out, const char *device, const struct frame *f);

/* Encodes len bytes of text (at most 65535) with the given encoding. */
int igtl_encode_string(struct sbuf *out, const char *device, uint64_t timestamp_ns,
	uint16_t encoding, const char *text, size_t len);

/* Encodes a STATUS with a NUL-terminated message (the specification's form). */
int igtl_encode_status(struct sbuf *out, const char *device, uint64_t timestamp_ns,
	uint16_t code, int64_t subcode, const char *error_name, const char *message);

/* Decodes an IMAGE body into out, reusing out's pixels when the size matches,
 * and sets out's timestamp from header_timestamp.  Only full 2-D frames of
 * 8-bit unsigned scalars with 1 or 3 components are accepted.  The pixel
 * count is checked for overflow, against max_bytes and against the bytes in
 * body before out is touched.  Returns 0, SONO_EPROTO (malformed),
 * SONO_EUNSUPPORTED (valid but not a frame this station shows) or
 * SONO_ETOOBIG, with the reason in err. */
int igtl_decode_image(const uint8_t *body, size_t len, uint64_t header_timestamp,
	size_t max_bytes, struct frame *out, char *err, size_t errlen);

/* Checks the first IGTL_IMAGE_HEADER_SIZE bytes of an IMAGE body against the
 * body size the message header promised, so an oversized or inconsistent
 * frame is rejected before its pixels arrive.  Same returns as
 * igtl_decode_image. */
int igtl_check_image_header(const uint8_t *head, uint64_t body_size, size_t max_bytes,
	char *err, size_t errlen);

/* Decodes a STRING body.  Returns 0 or SONO_EPROTO (bad length or encoding). */
int igtl_decode_string(const uint8_t *body, size_t len, struct igtl_string *out);

/* Decodes a STATUS body.  Returns 0 or SONO_EPROTO. */
int igtl_decode_status(const uint8_t *body, size_t len, struct igtl_status *out);

/* Incremental decoder.  Feed it bytes as they arrive; it reports a complete
 * message whose CRC matched, or an error with a reason.  The body buffer
 * grows only with received bytes and is kept between messages. */
struct igtl_decoder {
	size_t max_image;       /* largest IMAGE body accepted, in bytes */
	uint8_t head[IGTL_HEADER_SIZE];
	size_t head_len;        /* header bytes received so far */
	struct igtl_header header; /* valid once head_len == IGTL_HEADER_SIZE */
	struct sbuf body;       /* body bytes received so far */
	uint64_t crc;           /* CRC of the body bytes received so far */
	int complete;           /* a whole message is waiting for igtl_decoder_next */
	char err[160];          /* reason for the last error */
};

/* Prepares a decoder that accepts IMAGE bodies up to max_image bytes and
 * other bodies up to IGTL_TEXT_BODY_MAX. */
void igtl_decoder_init(struct igtl_decoder *d, size_t max_image);

/* Consumes bytes from data, stopping at the end of one message.  *used gets
 * the number consumed.  Returns 1 when a message is complete (d->header and
 * d->body hold it; call igtl_decoder_next before feeding more), 0 when more
 * bytes are needed, or SONO_EPROTO / SONO_ETOOBIG / SONO_ENOMEM with the
 * reason in d->err.  After an error the stream cannot be resynchronised and
 * the connection should be closed. */
int igtl_decoder_feed(struct igtl_decoder *d, const uint8_t *data, size_t n, size_t *used);

/* Forgets the completed message and gets ready for the next header. */
void igtl_decoder_next(struct igtl_decoder *d);

/* Returns 1 when part of a message has been received, else 0. */
int igtl_decoder_in_message(const struct igtl_decoder *d);

/* Frees the body buffer; the decoder can be initialised again. */
void igtl_decoder_free(struct igtl_decoder *d);

#endif
