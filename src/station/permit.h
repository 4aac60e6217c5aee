/* Scanner permissions: which scanners the logged-in user may connect to.
 *
 * The cloud lists each permitted scanner's serial and certificate
 * fingerprint; the station caches the list at login (store_cloud.h).  To
 * connect to HOST:PORT without an operator-given pin, permit_resolve()
 * tries a TLS handshake pinned to each permitted fingerprint in turn (the
 * project's TLS policy, nothing sent after the handshake), and accepts the
 * first whose certificate also carries the listed serial.  The scanner
 * client then connects with that pin and serial, so it checks both again. */
#ifndef STATION_PERMIT_H
#define STATION_PERMIT_H

#include <stddef.h>

#include "station/scanner.h"
#include "station/store.h"

/* Sets cfg->pin and cfg->serial for the scanner at cfg->host:cfg->port when
 * the current login permits it.  Returns 0; SONO_ESTATE when nobody is
 * logged in; SONO_EAUTH when the scanner is not permitted (err names the
 * fingerprint it presented when known); SONO_EIO or SONO_ETIMEOUT when it
 * cannot be reached.  err gets a sentence for the operator. */
int permit_resolve(struct store *s, struct scanner_config *cfg, char *err, size_t errlen);

#endif
