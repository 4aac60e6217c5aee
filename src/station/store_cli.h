/* Opening the station store from a headless command: the options the
 * headless commands share (store, log, configuration file), their help
 * lines and their error reporting. */
#ifndef STATION_STORE_CLI_H
#define STATION_STORE_CLI_H

#include <getopt.h>

#include "station/store.h"

/* Options shared by the headless commands.  Each command takes only some
 * of them; the others stay NULL. */
struct store_cli {
	const char *data_dir;        /* NULL: $XDG_DATA_HOME/sonoterm */
	const char *passphrase_file; /* NULL: raw key file mode */
	const char *log_path;        /* NULL: log to stderr */
	const char *config_path;     /* NULL: the default configuration file */
};

/* getopt_long codes of the options in struct store_cli.  They lie above
 * every character, so they never clash with a command's own codes. */
enum store_cli_option {
	STORE_CLI_OPT_DATA_DIR = 0x100,
	STORE_CLI_OPT_PASSPHRASE_FILE,
	STORE_CLI_OPT_LOG,
	STORE_CLI_OPT_CONFIG,
};

/* Rows of a command's struct option table. */
#define STORE_CLI_LONGOPTS_STORE \
	{ "data-dir", required_argument, NULL, STORE_CLI_OPT_DATA_DIR }, \
	{ "passphrase-file", required_argument, NULL, STORE_CLI_OPT_PASSPHRASE_FILE }
#define STORE_CLI_LONGOPT_LOG { "log", required_argument, NULL, STORE_CLI_OPT_LOG }
#define STORE_CLI_LONGOPT_CONFIG { "config", required_argument, NULL, STORE_CLI_OPT_CONFIG }

/* Help lines of those options, plus --verbose and --help, in the columns
 * of the headless commands' usage texts. */
#define STORE_CLI_HELP_CONFIG \
	"      --config FILE          configuration file\n"
#define STORE_CLI_HELP_DATA_DIR \
	"      --data-dir DIR         station database folder\n"
#define STORE_CLI_HELP_PASSPHRASE_FILE \
	"      --passphrase-file FILE read the store passphrase from FILE's first line\n"
#define STORE_CLI_HELP_LOG_VERBOSE_HELP \
	"      --log FILE             write the log to FILE instead of stderr\n" \
	"  -v, --verbose              log more detail\n" \
	"  -h, --help                 show this help and exit\n"

/* Calls getopt_long and stores the options of struct store_cli in o until
 * another option comes.  Returns that option's code as getopt_long does
 * ('?' for an invalid one), or -1 after the last option. */
int store_cli_getopt(int argc, char **argv, const char *shortopts,
	const struct option *longopts, struct store_cli *o);

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
