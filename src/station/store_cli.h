/* Opening the station store from a headless command: the options the store
 * commands share and their error reporting. */
#ifndef STATION_STORE_CLI_H
#define STATION_STORE_CLI_H

#include "station/store.h"

/* Options shared by the commands that open the store. */
struct store_cli {
	const char *data_dir;        /* NULL: $XDG_DATA_HOME/sonoterm */
	const char *passphrase_file; /* NULL: raw key file mode */
};

/* Opens the store for command (e.g. "sonoterm exams") and prints any failure
 * as "COMMAND: reason" on stderr.  Returns a process exit code: EXIT_OK,
 * EXIT_SECURITY for a wrong key or passphrase, EXIT_USAGE for an unreadable
 * passphrase file, or EXIT_FAILURE_RUN.  *missing is set (when not NULL)
 * when there is no database yet and create is 0. */
int store_cli_open(const char *command, const struct store_cli *o, int create,
	struct store **out, int *missing);

/* Opens the log for a headless command: stderr, or path when not NULL.
 * Returns EXIT_OK or EXIT_USAGE. */
int store_cli_log(const char *command, const char *path);

#endif
