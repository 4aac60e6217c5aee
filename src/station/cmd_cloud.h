/* Helpers shared by the headless cloud commands (login, upload, logout):
 * the configuration file, cloud and upload options, passwords and exit
 * codes.  Each prints its failure as "COMMAND: reason" on stderr and
 * returns a process exit code from sono/cli.h. */
#ifndef STATION_CMD_CLOUD_H
#define STATION_CMD_CLOUD_H

#include <stddef.h>

#include "sono/config.h"
#include "station/cloud_client.h"
#include "station/store_cli.h"
#include "station/uploader.h"

/* Longest password accepted, in bytes. */
#define CLOUD_CLI_PASSWORD_MAX 1024

/* Loads the station configuration from path, or from the default path when
 * path is NULL, and sets cfg->path to the file used.  A missing file gives
 * an empty configuration. */
int cloud_cli_load_config(const char *command, const char *path, struct config *cfg);

/* Reads the [cloud] and [upload] keys into opt. */
int cloud_cli_options(const char *command, const struct config *cfg,
	struct uploader_options *opt);

/* Loads the configuration as cloud_cli_load_config does, then reads its
 * [cloud] and [upload] keys into opt: the start of every cloud command. */
int cloud_cli_setup(const char *command, const char *config_path, struct config *cfg,
	struct uploader_options *opt);

/* Opens the log at cli->log_path (at debug level when verbose), then runs
 * cloud_cli_setup() on cli->config_path: the start of the cloud commands
 * that log. */
int cloud_cli_start(const char *command, const struct store_cli *cli, int verbose,
	struct config *cfg, struct uploader_options *opt);

/* Reads a password line from path, or from standard input when path is
 * NULL (echo off on a terminal).  The caller wipes out. */
int cloud_cli_read_password(const char *command, const char *path, char *out, size_t outlen);

/* Maps a failed cloud request to an exit code: 1 for wrong credentials
 * (SONO_EAUTH, online or offline), 3 for certificate and TLS failures, 4
 * when the cloud is unreachable, else 1. */
int cloud_cli_exit_code(enum cloud_error_kind kind, int rc);

#endif
