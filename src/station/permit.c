/* Resolving a scanner address to a permitted pin and serial; see permit.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/conn.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/tls.h"
#include "station/permit.h"
#include "station/session.h"

/* Handshakes with the scanner pinned to entry's fingerprint.  Returns 0
 * when the pin and the serial match, SONO_ETLS when either differs (err
 * names which), or the connection's error. */
static int try_entry(const struct scanner_config *cfg, const struct store_cloud_scanner *entry,
	int timeout_ms, char *err, size_t errlen)
{
	struct tls_trust trust = { NULL, entry->fingerprint };
	char serial[STORE_CLOUD_SERIAL_MAX];
	struct conn c;
	SSL_CTX *ctx;
	int rc;

	conn_init(&c);
	ctx = tls_client_ctx(&trust, err, errlen);
	if (ctx == NULL)
		return SONO_ETLS;
	if (cfg->identity.cert_file[0] && tls_ctx_use_identity(ctx, cfg->identity.cert_file,
	    cfg->identity.key_file, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return SONO_ETLS;
	}
	rc = conn_connect(&c, cfg->host, cfg->port, timeout_ms, err, errlen);
	if (rc == 0)
		rc = conn_tls_connect(&c, ctx, NULL, timeout_ms, err, errlen);
	if (rc == 0 && (tls_peer_serial(c.ssl, serial, sizeof(serial)) < 0 ||
	    strcmp(serial, entry->serial) != 0)) {
		snprintf(err, errlen, "the scanner's certificate has the permitted fingerprint but "
			"not the permitted serial %s", entry->serial);
		rc = SONO_ETLS;
	}
	conn_close(&c);
	SSL_CTX_free(ctx);
	return rc;
}

/* Tries every permitted entry.  Returns the index of the match through
 * *found, or the last error. */
static int find_entry(const struct scanner_config *cfg, const struct store_cloud_scanner *list,
	size_t n, size_t *found, char *err, size_t errlen)
{
	char attempt[512];
	size_t i;
	int rc = SONO_EAUTH;

	attempt[0] = '\0';
	for (i = 0; i < n; i++) {
		rc = try_entry(cfg, &list[i], cfg->connect_timeout_ms, attempt, sizeof(attempt));
		if (rc == 0) {
			*found = i;
			return 0;
		}
		if (rc != SONO_ETLS) {
			snprintf(err, errlen, "scanner %s:%u cannot be reached: %s", cfg->host,
				cfg->port, attempt);
			return rc;
		}
	}
	snprintf(err, errlen, "scanner %s:%u is not among the %zu scanners this user is "
		"permitted%s%s; ask an administrator to grant it, then log in again", cfg->host,
		cfg->port, n, attempt[0] ? " (last check: " : "", attempt[0] ? attempt : "");
	if (attempt[0])
		snprintf(err + strlen(err), errlen - strlen(err), ")");
	return SONO_EAUTH;
}

int permit_resolve(struct store *s, struct scanner_config *cfg, char *err, size_t errlen)
{
	struct store_cloud_scanner *list = NULL;
	struct store_cloud_session sess;
	size_t n = 0, found = 0;
	int rc;

	rc = session_current(s, &sess, err, errlen);
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc < 0)
		return SONO_ESTATE;
	list = calloc(STORE_CLOUD_SCANNERS_MAX, sizeof(*list));
	if (list == NULL)
		return SONO_ENOMEM;
	rc = store_cloud_scanners_list(s, sess.username, list, STORE_CLOUD_SCANNERS_MAX, &n);
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "user %s is not permitted any scanner; ask an administrator "
			"to grant one, then log in again", sess.username);
		rc = SONO_EAUTH;
	} else if (rc == 0) {
		rc = find_entry(cfg, list, n, &found, err, errlen);
	}
	if (rc == 0) {
		snprintf(cfg->pin, sizeof(cfg->pin), "%s", list[found].fingerprint);
		snprintf(cfg->serial, sizeof(cfg->serial), "%s", list[found].serial);
		LOG_NOTICE("scanner %s:%u is permitted scanner %s for %s", cfg->host, cfg->port,
			cfg->serial, sess.username);
	} else if (rc == SONO_EAUTH) {
		LOG_NOTICE("scanner %s:%u refused: not permitted for %s", cfg->host, cfg->port,
			sess.username);
	}
	free(list);
	return rc;
}
