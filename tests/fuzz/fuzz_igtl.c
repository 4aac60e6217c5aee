/* libFuzzer target for the OpenIGTLink decoder and body decoders.
 *
 * The first input byte sets the chunk size in which the rest is fed, so
 * messages split at every offset are covered.  Each complete message is
 * decoded by its type, as the station's receive thread does. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sono/frame.h"
#include "sono/igtl.h"

/* Small enough that the fuzzer reaches the limit checks quickly. */
#define FUZZ_MAX_IMAGE ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_body(const struct igtl_decoder *d, struct frame *f)
{
	struct igtl_string str;
	struct igtl_status st;
	char err[160];

	if (strcmp(d->header.type, "IMAGE") == 0)
		igtl_decode_image(d->body.data, d->body.len, d->header.timestamp, FUZZ_MAX_IMAGE, f,
			err, sizeof(err));
	else if (strcmp(d->header.type, "STRING") == 0)
		igtl_decode_string(d->body.data, d->body.len, &str);
	else if (strcmp(d->header.type, "STATUS") == 0)
		igtl_decode_status(d->body.data, d->body.len, &st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct igtl_decoder d;
	struct frame f = { 0 };
	size_t chunk, off = 1, used, take;
	int rc = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	igtl_decoder_init(&d, FUZZ_MAX_IMAGE);
	while (off < size && rc >= 0) {
		take = size - off < chunk ? size - off : chunk;
		rc = igtl_decoder_feed(&d, data + off, take, &used);
		off += used;
		if (rc == 1) {
			decode_body(&d, &f);
			igtl_decoder_next(&d);
		}
	}
	frame_free(&f);
	igtl_decoder_free(&d);
	return 0;
}
