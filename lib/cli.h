/* cli: the applet table, option parsing from one table per applet, usage
 * text, and the one error helper every applet uses.
 *
 * Each applet is described once, by a struct applet: its name, synopsis,
 * one-line summary, options and operand completer.  That description drives
 * getopt_long parsing, --help, `ipcbox --options` (read by the shell
 * completions) and the man page check in tests/cli.bats, so they cannot
 * disagree. */
#ifndef IPCBOX_CLI_H
#define IPCBOX_CLI_H

#include "clock.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Exit codes shared by every applet (DESIGN section 2). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 124,
};

/* Keys for long-only options start here, above every char value. */
#define OPT_LONG_ONLY 256

/* One option.  key: the short letter, or OPT_LONG_ONLY + n for a long-only
 * option.  arg: the argument's name in --help ("DURATION"), NULL for a flag.
 * complete: what the shell should offer for the argument: "file", "host",
 * or NULL for nothing in particular. */
struct opt {
	int key;
	const char *name;
	const char *arg;
	const char *help;
	const char *complete;
};

/* One applet.  synopsis: what follows the applet name in the usage line.
 * opts: terminated by an entry with key 0.  complete: prints candidate
 * operands one per line (existing object names and the like), or NULL. */
struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
	const struct opt *opts;
	void (*complete)(void);
};

/* The running applet: set by main.c before calling applet->main. */
extern const struct applet *cli_applet;

/* Option iteration.  Call cli_next() until it returns -1; it returns the key
 * of each option (its argument in *arg), handles -h/--help itself, and exits 2
 * with a one-line message on an unknown option or a missing argument.
 * Options may follow operands; "--" ends options.  Afterwards the operands
 * are argv[c->ind .. argc-1]. */
struct cli {
	int argc;
	char **argv;
	int ind;
	int started;
};
void cli_begin(struct cli *c, int argc, char **argv);
int cli_next(struct cli *c, char **arg);
/* Exit 2 unless the number of operands is within [min, max] (max < 0: any). */
void cli_operands(const struct cli *c, int min, int max);

/* Usage text for --help. */
void cli_usage(const struct applet *a);
/* One line per option for the completions: "-t --timeout DURATION file". */
void cli_print_options(const struct applet *a);

/* Diagnostics: "ipcbox APPLET: MESSAGE" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with ": strerror(err)" appended (io_strerror: glibc's words). */
void cli_warn_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void cli_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void cli_die_errno(int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Usage error: one line, "ipcbox APPLET: message", and exit 2. */
noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Argument converters that exit 2 with "invalid WHAT 'TEXT'" on bad input.
 * Durations are in milliseconds; CLI_DUR_INF is "inf" where allowed: the
 * clock's "no deadline", so that clock_deadline(CLI_DUR_INF) is none. */
#define CLI_DUR_INF CLOCK_NO_DEADLINE
enum { CLI_ALLOW_ZERO = 1, CLI_ALLOW_INF = 2 };
int64_t cli_duration(const char *text, const char *what, int flags);
uint64_t cli_size(const char *text, const char *what);
uint64_t cli_uint(const char *text, const char *what, uint64_t min, uint64_t max);
int64_t cli_int(const char *text, const char *what, int64_t min, int64_t max);
uint16_t cli_port(const char *text, int allow_zero);
unsigned cli_mode(const char *text);

#endif
