/* The peer section of `sonoterm doctor`: tries the configured scanner and
 * cloud with the same TLS policy and trust the station uses, and prints
 * what happened, so a support call can tell a network fault from a
 * certificate or pin problem. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/conn.h"
#include "sono/error.h"
#include "sono/sanitize.h"
#include "sono/tls.h"
#include "station/cloud_client.h"
#include "station/doctor.h"

/* Seconds each peer may take; a support check must not hang. */
#define DOCTOR_PEER_TIMEOUT_MS 3000

static void print_line(FILE *out, const char *name, const char *untrusted)
{
	char clean[600];

	sanitize_str(untrusted, clean, sizeof(clean));
	fprintf(out, "  %-12s %s\n", name, clean);
}

/* Connects to the scanner and, when a pin is configured, runs the TLS
 * handshake with it.  Writes the outcome to result. */
static void check_scanner(const char *address, const char *pin, char *result, size_t len)
{
	struct tls_trust trust = { .pin = pin };
	char host[256], err[512], tls[128], serial[128] = "";
	unsigned port;
	struct conn c;
	SSL_CTX *ctx;

	if (cli_parse_hostport(address, host, sizeof(host), &port) < 0) {
		snprintf(result, len, "invalid address; write HOST:PORT");
		return;
	}
	conn_init(&c);
	if (conn_connect(&c, host, port, DOCTOR_PEER_TIMEOUT_MS, err, sizeof(err)) < 0) {
		snprintf(result, len, "unreachable: %s", err);
		return;
	}
	if (!pin || !pin[0]) {
		snprintf(result, len, "TCP connection works; no [scanner] pin, so TLS not checked");
		conn_close(&c);
		return;
	}

	ctx = tls_client_ctx(&trust, err, sizeof(err));
	if (!ctx) {
		snprintf(result, len, "TLS not checked: %s", err);
	} else if (conn_tls_connect(&c, ctx, NULL, DOCTOR_PEER_TIMEOUT_MS, err, sizeof(err)) < 0) {
		snprintf(result, len, "TLS failed: %s", err);
	} else {
		tls_describe(c.ssl, tls, sizeof(tls));
		tls_peer_serial(c.ssl, serial, sizeof(serial));
		snprintf(result, len, "reachable, pin matches, %s, serial %s", tls, serial);
	}
	conn_close(&c);
	SSL_CTX_free(ctx);
}

/* Requests GET /api/v1/me without a token: a 401 proves that TCP, TLS with
 * the configured trust, and the cloud's API all work. */
static void check_cloud(const struct config *cfg, const char *url, char *result, size_t len)
{
	const char *pin = config_get(cfg, "cloud", "pin");
	const char *ca = config_get(cfg, "cloud", "ca_file");
	struct cloud_options opt;
	struct cloud_client *client = NULL;
	struct cloud_result res;
	char err[512];

	cloud_options_defaults(&opt);
	opt.connect_timeout_s = DOCTOR_PEER_TIMEOUT_MS / 1000;
	opt.low_speed_time_s = DOCTOR_PEER_TIMEOUT_MS / 1000;
	snprintf(opt.url, sizeof(opt.url), "%s", url);
	snprintf(opt.pin, sizeof(opt.pin), "%s", pin ? pin : "");
	snprintf(opt.ca_file, sizeof(opt.ca_file), "%s", ca ? ca : "");

	if (cloud_options_check(&opt, err, sizeof(err)) < 0 ||
	    cloud_client_new(&client, &opt, err, sizeof(err)) < 0) {
		snprintf(result, len, "not checked: %s", err);
		return;
	}

	memset(&res, 0, sizeof(res));
	cloud_client_json(client, "GET", "/me", NULL, NULL, &res);
	if (res.kind == CLOUD_ERR_CREDENTIALS || res.kind == CLOUD_OK)
		snprintf(result, len, "reachable, certificate verified, API answers (HTTP %ld)",
			res.status);
	else
		snprintf(result, len, "%s: %s", cloud_error_kind_name(res.kind), res.message);
	cloud_client_free(client);
}

void doctor_report_peers(FILE *out, const struct config *cfg)
{
	const char *scanner = cfg ? config_get(cfg, "scanner", "address") : NULL;
	const char *cloud = cfg ? config_get(cfg, "cloud", "url") : NULL;
	char result[1200];

	fprintf(out, "Peers\n");
	print_line(out, "scanner:", scanner ? scanner : "(unset: [scanner] address)");
	if (scanner) {
		check_scanner(scanner, config_get(cfg, "scanner", "pin"), result, sizeof(result));
		print_line(out, "  status:", result);
	}

	print_line(out, "cloud:", cloud ? cloud : "(unset: [cloud] url, set by 'sonoterm login')");
	if (cloud) {
		check_cloud(cfg, cloud, result, sizeof(result));
		print_line(out, "  status:", result);
	}
}
