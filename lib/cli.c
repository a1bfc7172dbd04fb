/* cli: option parsing, usage and diagnostics from the applet table. */
#include "cli.h"
#include "io.h"
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct applet *cli_applet;

#define MAX_OPTS 64

static const char *applet_name(void)
{
	return cli_applet ? cli_applet->name : "ipcbox";
}

static void vmessage(int err, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "ipcbox %s: ", applet_name());

	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s\n", line, io_strerror(err));
	else
		fprintf(stderr, "%s\n", line);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
}

void cli_warn_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(err, fmt, ap);
	va_end(ap);
}

void cli_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(code);
}

void cli_die_errno(int code, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(err, fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(code);
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* The -h/--help entry every applet gets without listing it. */
static const struct opt help_opt = {'h', "help", NULL, "show this help and exit", NULL};

static void print_opt(const struct opt *o)
{
	char left[64];
	int n;

	if (o->key < OPT_LONG_ONLY)
		n = snprintf(left, sizeof left, "  -%c%s", o->key, o->name ? ", " : "");
	else
		n = snprintf(left, sizeof left, "      ");
	if (o->name)
		n += snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name,
			      o->arg ? "=" : "", o->arg ? o->arg : "");
	else if (o->arg)
		n += snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);
	if (n < 28)
		printf("%-28s%s\n", left, o->help);
	else
		printf("%s\n%28s%s\n", left, "", o->help);
}

void cli_usage(const struct applet *a)
{
	/* Summaries are written lower case for the family listing; a sentence here. */
	printf("Usage: ipcbox %s %s\n%c%s.\n\n", a->name, a->synopsis, toupper((unsigned char)a->summary[0]),
	       a->summary + 1);
	for (const struct opt *o = a->opts; o && o->key; o++)
		print_opt(o);
	print_opt(&help_opt);
	printf("\nExit status: 0 success, 1 failure, 2 usage error, 124 timeout.\n"
	       "See ipcbox(1) and the family's man page for details.\n");
}

void cli_print_options(const struct applet *a)
{
	for (const struct opt *o = a->opts; o && o->key; o++) {
		char s[3] = "-";
		if (o->key < OPT_LONG_ONLY)
			s[1] = (char)o->key;
		printf("%s %s%s %s %s\n", s, o->name ? "--" : "-", o->name ? o->name : "",
		       o->arg ? o->arg : "-", o->complete ? o->complete : "-");
	}
	printf("-h --help - -\n");
}

void cli_begin(struct cli *c, int argc, char **argv)
{
	c->argc = argc;
	c->argv = argv;
	c->ind = 1;
	c->started = 0;
	optind = 0; /* full reinitialisation of getopt's state */
	opterr = 0;
}

/* Build getopt_long's short string and long table from the applet's options. */
static void build_getopt(const struct applet *a, char *shorts, struct option *longs)
{
	size_t s = 0, l = 0;

	shorts[s++] = ':';
	for (const struct opt *o = a->opts; o && o->key && l < MAX_OPTS - 2; o++) {
		if (o->key < OPT_LONG_ONLY) {
			shorts[s++] = (char)o->key;
			if (o->arg)
				shorts[s++] = ':';
		}
		if (o->name)
			longs[l++] = (struct option){o->name, o->arg ? required_argument : no_argument,
						     NULL, o->key};
	}
	shorts[s++] = 'h';
	shorts[s] = 0;
	longs[l++] = (struct option){"help", no_argument, NULL, 'h'};
	longs[l] = (struct option){0, 0, 0, 0};
}

/* The option text as the user typed it, for messages. */
static const char *typed_option(const struct cli *c, const struct applet *a)
{
	static char buf[8];
	const char *word = c->argv[optind - 1];

	if (word && word[0] == '-' && word[1] == '-')
		return word;
	if (optopt > 0 && optopt < OPT_LONG_ONLY) {
		snprintf(buf, sizeof buf, "-%c", optopt);
		return buf;
	}
	(void)a;
	return word ? word : "?";
}

int cli_next(struct cli *c, char **arg)
{
	static char shorts[MAX_OPTS * 2 + 4];
	static struct option longs[MAX_OPTS];
	const struct applet *a = cli_applet;
	int key;

	if (!c->started) {
		build_getopt(a, shorts, longs);
		c->started = 1;
	}
	key = getopt_long(c->argc, c->argv, shorts, longs, NULL);
	*arg = optarg;
	switch (key) {
	case -1:
		c->ind = optind;
		return -1;
	case 'h':
		cli_usage(a);
		exit(EXIT_OK);
	case ':':
		cli_usage_error("option '%s' needs an argument; try 'ipcbox %s --help'",
				typed_option(c, a), a->name);
	case '?':
		cli_usage_error("unknown option '%s'; try 'ipcbox %s --help'", typed_option(c, a),
				a->name);
	default:
		return key;
	}
}

void cli_operands(const struct cli *c, int min, int max)
{
	int n = c->argc - c->ind;

	if (n < min)
		cli_usage_error("missing operand; usage: ipcbox %s %s", cli_applet->name,
				cli_applet->synopsis);
	if (max >= 0 && n > max)
		cli_usage_error("unexpected operand '%s'; usage: ipcbox %s %s", c->argv[c->ind + max],
				cli_applet->name, cli_applet->synopsis);
}

int64_t cli_duration(const char *text, const char *what, int flags)
{
	int64_t ms;

	if (parse_duration(text, &ms) < 0 || (ms == 0 && !(flags & CLI_ALLOW_ZERO)) ||
	    (ms == CLI_DUR_INF && !(flags & CLI_ALLOW_INF)))
		cli_usage_error("invalid %s '%s'", what, text);
	return ms;
}

uint64_t cli_size(const char *text, const char *what)
{
	uint64_t v;

	if (parse_size(text, &v) < 0)
		cli_usage_error("invalid %s '%s'", what, text);
	return v;
}

uint64_t cli_uint(const char *text, const char *what, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_uint(text, max, &v) < 0 || v < min)
		cli_usage_error("invalid %s '%s' (expected %llu..%llu)", what, text,
				(unsigned long long)min, (unsigned long long)max);
	return v;
}

int64_t cli_int(const char *text, const char *what, int64_t min, int64_t max)
{
	int64_t v;

	if (parse_int(text, min, max, &v) < 0)
		cli_usage_error("invalid %s '%s' (expected %lld..%lld)", what, text, (long long)min,
				(long long)max);
	return v;
}

uint16_t cli_port(const char *text, int allow_zero)
{
	uint64_t v;

	if (parse_uint(text, 65535, &v) < 0 || (v == 0 && !allow_zero) ||
	    (text[0] == '0' && text[1] == 'x'))
		cli_usage_error("invalid port '%s'", text);
	return (uint16_t)v;
}

unsigned cli_mode(const char *text)
{
	unsigned v;

	if (parse_mode(text, &v) < 0)
		cli_usage_error("invalid mode '%s'", text);
	return v;
}
