/* bus: a D-Bus client that speaks the wire protocol itself.
 *
 * The bus-* applets, their synopses and options are in the applet table at
 * the end of this file (the one source for --help, the man page check and
 * the completions); the protocol itself is in lib/dbus.
 *
 * Arguments use busctl's syntax (lib/dbus/text.c) and are checked before
 * connecting: bad input exits 2 without touching the bus.  Output is
 * busctl's terse format, or with --json its --json=short shape.  An error
 * reply prints "ipcbox APPLET: ERROR.NAME: message" on stderr and exits 1; a
 * --timeout (default 25s) that expires exits 124. */
#include "applets.h"
#include "../lib/capture.h"
#include "../lib/clock.h"
#include "../lib/format.h"

#include "../lib/dbus/dbus.h"
#include "../lib/dbus/diagram.h"
#include "../lib/dbus/introspect.h"
#include "../lib/dbus/match.h"
#include "../lib/dbus/pcap.h"
#include "../lib/io.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/relay.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRIVER_NAME "org.freedesktop.DBus"
#define DRIVER_PATH "/org/freedesktop/DBus"
#define TREE_MAX_NODES 10000
#define TREE_MAX_DEPTH 64
#define LIST_BATCH 64

enum {
	OPT_SESSION = OPT_LONG_ONLY,
	OPT_SYSTEM,
	OPT_ADDRESS,
	OPT_NO_AUTO_START,
	OPT_EXPECT_REPLY,
	OPT_ACTIVATABLE,
	OPT_XML,
	OPT_SIGNAL,
	OPT_DEST,
	OPT_PCAP,
	OPT_COUNT,
	OPT_READY_FILE,
	OPT_PROFILE,
	OPT_ARGV,
	OPT_DIAG_SVG, /* bus-diagram's from here on */
	OPT_DIAG_HTML,
	OPT_DIAG_MERMAID,
	OPT_DIAG_TEXT,
	OPT_DIAG_STATS,
	OPT_DIAG_ONLY,
	OPT_DIAG_HIDE,
	OPT_DIAG_HIDE_DRIVER,
	OPT_DIAG_MATCH,
	OPT_DIAG_SINCE,
	OPT_DIAG_UNTIL,
	OPT_DIAG_MAX,
	OPT_DIAG_WIDTH,
};

/* The state: what every bus applet shares (the bus, the timeout, the
 * operands, the connection), then each verb's own, as channel.c and
 * toybox's GLOBALS; one applet runs per process. */
static struct {
	int system;                 /* --system (else the session bus) */
	const char *address;        /* --address, or the one -H makes */
	const char *host;           /* -H: the bus on that host, through ssh */
	char host_address[1280];
	int no_auto_start;          /* --no-auto-start */
	int print_json;             /* --json, -j (but bus-serve's -j: serve.max_jobs) */
	int timeout_set;            /* --timeout given */
	int64_t deadline;           /* monotonic ms, -1: none */
	const char *ready_file;     /* bus-monitor, bus-listen, bus-serve --ready-file */
	uint64_t count;             /* bus-monitor --count, bus-listen -c; 0: no limit */
	char **ops;                 /* operands */
	int nops;
	struct dbus_conn conn;
	struct dbus_arena *arena;
	struct { /* bus-call, bus-set */
		int no_reply;       /* --expect-reply=no */
	} call;
	struct { /* bus-emit */
		const char *dest;   /* --dest */
	} emit;
	struct { /* bus-list */
		int activatable;    /* --activatable */
	} list;
	struct { /* bus-introspect */
		int xml;            /* --xml: the document as it came */
	} introspect;
	struct { /* bus-tree */
		int visited;        /* objects visited so far */
	} tree;
	struct { /* bus-wait */
		int signal;         /* --signal: the operands are PATH INTERFACE SIGNAL */
	} wait;
	struct { /* bus-monitor */
		const char *pcap;   /* --pcap FILE */
		int profile;        /* --profile */
		int profile_head;   /* --profile's header is out */
		int is_client;      /* BecomeMonitor refused: an ordinary client, which may answer */
		FILE *out;          /* stdout, or the --pcap file */
		int sigfd;          /* SIGINT/SIGTERM/SIGHUP as events (sigev) */
	} monitor;
	struct { /* bus-listen */
		int verbose;        /* -v */
		const char *format; /* -F */
		const char *exec;   /* -e */
		int last_status;    /* of the last -e command */
	} listen;
	struct { /* bus-serve NAME PATH INTERFACE METHOD IN_SIG OUT_SIG -- CMD [ARG]... */
		const char *name, *path, *iface, *method, *in_sig, *out_sig;
		const char *const *cmd;
		int args_as_words;  /* --argv: the call's values as CMD's arguments, not on stdin */
		int max_jobs;       /* -j N: commands running at once (at least 1) */
	} serve;
	struct { /* bus-bridge */
		uint8_t early[DBUS_AUTH_LINE_MAX]; /* the client's bytes behind BEGIN */
	} bridge;
	struct { /* bus-diagram: it reads a capture, it never connects */
		struct dbus_diag_opts opts;
		const char **only, **hide; /* --only, --hide (opts points at them) */
		int out;            /* OPT_DIAG_SVG ... OPT_DIAG_STATS */
		int width;          /* --width */
	} diagram;
} S;

/* ---- options, checks and the connection --------------------------------- */

static int parse_bool(const char *s)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		return 0;
	cli_usage_error("invalid boolean '%s' (expected yes or no)", s);
}

/* At exit: data that could not be written is a failure, not a success. */
static void check_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn_errno(errno ? errno : EIO, "write to standard output");
		_exit(EXIT_FAIL);
	}
}

/* -H [USER@]HOST: the address that runs "ipcbox bus-bridge" there through
 * ssh, as busctl -H runs systemd-stdio-bridge; --system travels along. */
static void host_address(void)
{
	struct dbus_err err = {{0}};

	if (S.address)
		cli_usage_error("--host and --address cannot be used together");
	if (dbus_address_for_host(S.host_address, sizeof S.host_address, S.host, S.system,
				  &err) < 0)
		cli_usage_error("invalid --host: %s", err.msg);
	S.address = S.host_address;
}

/* A match rule that is not one is a usage error (lib/dbus/match.c). */
static void check_rule(const char *rule)
{
	switch (dbus_match_check(rule)) {
	case DBUS_MATCH_OK:
		return;
	case DBUS_MATCH_TOO_LONG:
		cli_usage_error("match rule longer than %d bytes", DBUS_MATCH_RULE_MAX);
	case DBUS_MATCH_UNTERMINATED:
		cli_usage_error("invalid match rule '%s': unterminated quote", rule);
	case DBUS_MATCH_SYNTAX:
		break;
	}
	cli_usage_error("invalid match rule '%s'", rule);
}

/* bus-diagram's --svg, --html, --mermaid, --text and --stats: one of them
 * (--svg, the default, goes with any). */
static void diagram_output(int key)
{
	if (S.diagram.out != OPT_DIAG_SVG && S.diagram.out != key)
		cli_usage_error("--svg, --html, --mermaid, --text and --stats exclude each other");
	S.diagram.out = key;
}

/* Parse every option of every bus applet (cli_next refuses the ones the
 * running applet's table lacks), then check the operand count. */
static void options(int argc, char **argv, int min, int max)
{
	struct dbus_diag_opts *d = &S.diagram.opts;
	int64_t timeout = 25000;
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case OPT_SESSION: S.system = 0; break;
		case OPT_SYSTEM: S.system = 1; break;
		case OPT_ADDRESS: S.address = arg; break;
		case 'H': S.host = arg; break;
		case 't':
			timeout = cli_duration(arg, "timeout", CLI_ALLOW_INF);
			S.timeout_set = 1;
			break;
		case 'j': /* --json everywhere but bus-serve, where -j N is --jobs */
			if (arg)
				S.serve.max_jobs = (int)cli_uint(arg, "number of jobs", 1, 1024);
			else
				S.print_json = 1;
			break;
		case OPT_NO_AUTO_START: S.no_auto_start = 1; break;
		case OPT_EXPECT_REPLY: S.call.no_reply = !parse_bool(arg); break;
		case OPT_ACTIVATABLE: S.list.activatable = 1; break;
		case OPT_XML: S.introspect.xml = 1; break;
		case OPT_SIGNAL: S.wait.signal = 1; break;
		case OPT_DEST: S.emit.dest = arg; break;
		case OPT_PCAP: S.monitor.pcap = arg; break;
		case 'v': S.listen.verbose = 1; break;
		case 'F': S.listen.format = arg; break;
		case 'e': S.listen.exec = arg; break;
		case 'c':
		case OPT_COUNT: S.count = cli_uint(arg, "count", 1, UINT64_MAX); break;
		case OPT_READY_FILE: S.ready_file = arg; break;
		case OPT_PROFILE: S.monitor.profile = 1; break;
		case OPT_ARGV: S.serve.args_as_words = 1; break;
		case OPT_DIAG_SVG:
		case OPT_DIAG_HTML:
		case OPT_DIAG_MERMAID:
		case OPT_DIAG_TEXT:
		case OPT_DIAG_STATS: diagram_output(key); break;
		case OPT_DIAG_ONLY: S.diagram.only[d->nonly++] = arg; break;
		case OPT_DIAG_HIDE: S.diagram.hide[d->nhide++] = arg; break;
		case OPT_DIAG_HIDE_DRIVER: d->hide_driver = 1; break;
		case OPT_DIAG_MATCH:
			check_rule(arg);
			d->match = arg;
			break;
		case OPT_DIAG_SINCE: d->since_ns = cli_duration(arg, "--since", CLI_ALLOW_ZERO) * 1000000; break;
		case OPT_DIAG_UNTIL: d->until_ns = cli_duration(arg, "--until", CLI_ALLOW_ZERO) * 1000000; break;
		case OPT_DIAG_MAX: d->max = cli_uint(arg, "--max", 0, UINT32_MAX - 2); break;
		case OPT_DIAG_WIDTH: S.diagram.width = (int)cli_uint(arg, "--width", 20, 1024); break;
		}
	}
	if (S.host)
		host_address();
	if (S.wait.signal) /* bus-wait --signal PATH INTERFACE SIGNAL */
		min = max = 3;
	cli_operands(&c, min, max);
	S.ops = argv + c.ind;
	S.nops = argc - c.ind;
	S.deadline = clock_deadline(timeout);
	if (S.serve.max_jobs == 0)
		S.serve.max_jobs = 1;
	S.arena = dbus_arena_new();
	atexit(check_stdout);
}

/* Exit 2 unless s passes valid(); what names the kind in the message. */
static const char *check_name(const char *s, int (*valid)(const char *, size_t), const char *what)
{
	if (!valid(s, strlen(s)))
		cli_usage_error("invalid %s '%s'", what, s);
	return s;
}

static const char *check_bus_name(const char *s)
{
	return check_name(s, dbus_valid_bus_name, "bus name");
}

static const char *check_path(const char *s)
{
	return check_name(s, dbus_valid_path, "object path");
}

static const char *check_interface(const char *s)
{
	return check_name(s, dbus_valid_interface, "interface name");
}

static const char *check_member(const char *s)
{
	return check_name(s, dbus_valid_member, "member name");
}

/* At exit: a unixexec command (ssh, a bridge) is reaped before we go, so
 * nothing we started outlives us. */
static void close_bus(void)
{
	dbus_conn_close(&S.conn);
}

/* bus-call's call, if set: it goes out with Hello, in the first write. */
static struct dbus_msg *first_call;

/* Connect to the chosen bus; a malformed address is a usage error.  With
 * hello 0, authenticate only (bus-bridge: its client says Hello). */
static void connect_bus_as(int hello)
{
	struct dbus_err err = {{0}};
	const char *addr = S.address;
	int r;

	if (!addr)
		addr = dbus_default_address(S.system ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION, &err);
	if (!addr)
		cli_die(EXIT_FAIL, "%s", err.msg);
	if (hello)
		r = dbus_conn_open_call(&S.conn, addr, first_call, S.deadline, &err);
	else
		r = dbus_conn_open_unregistered(&S.conn, addr, S.deadline, &err);
	if (r == DBUS_BAD_ADDRESS)
		cli_die(EXIT_USAGE, "invalid address '%s': %s", addr, err.msg);
	if (r == DBUS_TIMED_OUT)
		cli_die(EXIT_TIMEOUT, "%s", err.msg);
	if (r < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
	atexit(close_bus);
}

static void connect_bus(void)
{
	connect_bus_as(1);
}

/* ---- messages ------------------------------------------------------------ */

static struct dbus_msg method_call(const char *dest, const char *path, const char *iface,
				   const char *member)
{
	struct dbus_msg m = {
		.type = DBUS_METHOD_CALL,
		.destination = dest,
		.path = path,
		.interface = iface,
		.member = member,
		.signature = "",
	};
	if (S.no_auto_start)
		m.flags |= DBUS_FLAG_NO_AUTO_START;
	return m;
}

static struct dbus_value string_value(const char *s)
{
	return (struct dbus_value){.type = 's', .sig = "s", .n = (uint32_t)strlen(s), .v.str = (char *)s};
}

/* Operands from index first on are SIGNATURE ARG...: parse them into m. */
static void text_body(struct dbus_msg *m, int first)
{
	struct dbus_err err = {{0}};

	if (S.nops <= first)
		return;
	if (dbus_text_parse(S.arena, S.ops[first], S.nops - first - 1, S.ops + first + 1,
			    &m->body, &m->nbody, &err) < 0)
		cli_usage_error("%s", err.msg);
	m->signature = S.ops[first];
}

/* An error reply: "NAME: message" in one line, exit 1. */
static void fail_on_error(const struct dbus_msg *reply)
{
	char text[512] = "";

	if (reply->type != DBUS_ERROR)
		return;
	if (reply->nbody > 0 && reply->body[0].type == 's')
		snprintf(text, sizeof text, "%s", reply->body[0].v.str);
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	cli_die(EXIT_FAIL, "%s%s%s", reply->error_name, *text ? ": " : "", text);
}

/* Call and wait for the reply; timeouts exit 124, failures 1. */
static void call(struct dbus_msg *m, struct dbus_msg *reply)
{
	struct dbus_err err = {{0}};
	int r = m == first_call ? dbus_conn_await(&S.conn, m, reply, S.deadline, &err)
				: dbus_conn_call(&S.conn, m, reply, S.deadline, &err);

	if (r == DBUS_TIMED_OUT)
		cli_die(EXIT_TIMEOUT, "%s.%s: no reply within the timeout", m->interface, m->member);
	if (r < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
}

/* A call to the bus itself whose error replies end the applet. */
static void driver_call(const char *member, const char *sig, struct dbus_value *args, uint32_t n,
			struct dbus_msg *reply)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, member);

	m.signature = sig;
	m.body = args;
	m.nbody = n;
	call(&m, reply);
	fail_on_error(reply);
}

static void send_msg(struct dbus_msg *m)
{
	struct dbus_err err = {{0}};

	if (dbus_conn_send(&S.conn, m, &err) < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
}

/* After sending sent (a signal, or a call flagged NO_REPLY_EXPECTED): know
 * that the bus accepted it.  The bus handles one connection's messages in
 * order and answers a refused message with an error even when no reply is
 * expected, so one round trip to a driver method every policy allows (GetId;
 * a Peer.Ping to the driver is refused by the system policy) is the
 * barrier: an error for sent arrives before GetId's reply, or never. */
static void flush_bus(const struct dbus_msg *sent)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, "GetId");
	struct dbus_err err = {{0}};
	struct dbus_msg r;
	int rc;

	m.flags |= DBUS_FLAG_NO_AUTO_START;
	if (dbus_conn_send(&S.conn, &m, &err) < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
	for (;;) {
		rc = dbus_conn_recv(&S.conn, &r, S.deadline, &err);
		if (rc == DBUS_TIMED_OUT)
			cli_die(EXIT_TIMEOUT, "the bus did not answer within the timeout");
		if (rc < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		if (r.type == DBUS_ERROR && r.reply_serial == sent->serial)
			fail_on_error(&r);
		if ((r.type == DBUS_METHOD_RETURN || r.type == DBUS_ERROR) && r.reply_serial == m.serial) {
			fail_on_error(&r);
			dbus_msg_free(&r);
			return;
		}
		if (dbus_conn_answer(&S.conn, &r, S.deadline, &err) < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		dbus_msg_free(&r);
	}
}

/* A reply body in the chosen format, one line. */
static void print_body(const char *sig, const struct dbus_value *vals, uint32_t n)
{
	if (S.print_json)
		dbus_print_json(stdout, sig, vals, n);
	else if (n > 0)
		dbus_print_terse(stdout, sig, vals, n);
	else
		return;
	putchar('\n');
}

/* ---- bus-call, bus-emit, bus-get, bus-set -------------------------------- */

/* Call m and wait for its reply in *reply (an error reply exits 1); or,
 * with --expect-reply=no, send it flagged NO_REPLY_EXPECTED, make sure the
 * bus has it, and return 0 without a reply.  1: *reply holds the reply. */
static int call_or_send(struct dbus_msg *m, struct dbus_msg *reply)
{
	if (S.call.no_reply) {
		m->flags |= DBUS_FLAG_NO_REPLY_EXPECTED;
		send_msg(m);
		flush_bus(m);
		return 0;
	}
	call(m, reply);
	fail_on_error(reply);
	return 1;
}

static int bus_call_main(int argc, char **argv)
{
	struct dbus_msg m, reply;

	options(argc, argv, 4, -1);
	m = method_call(check_bus_name(S.ops[0]), check_path(S.ops[1]),
			check_interface(S.ops[2]), check_member(S.ops[3]));
	text_body(&m, 4);
	first_call = S.call.no_reply ? NULL : &m;
	connect_bus();
	if (!call_or_send(&m, &reply))
		return 0;
	print_body(reply.signature, reply.body, reply.nbody);
	dbus_msg_free(&reply);
	return 0;
}

static int bus_emit_main(int argc, char **argv)
{
	struct dbus_msg m = {.type = DBUS_SIGNAL, .signature = ""};

	options(argc, argv, 3, -1);
	m.path = check_path(S.ops[0]);
	m.interface = check_interface(S.ops[1]);
	m.member = check_member(S.ops[2]);
	if (S.emit.dest)
		m.destination = check_bus_name(S.emit.dest);
	text_body(&m, 3);
	connect_bus();
	send_msg(&m);
	flush_bus(&m);
	return 0;
}

/* org.freedesktop.DBus.Properties.METHOD(INTERFACE, PROPERTY[, value]). */
static struct dbus_msg properties_call(const char *method, struct dbus_value *args, uint32_t n)
{
	struct dbus_msg m = method_call(check_bus_name(S.ops[0]), check_path(S.ops[1]),
					"org.freedesktop.DBus.Properties", method);

	args[0] = string_value(check_interface(S.ops[2]));
	if (n > 1)
		args[1] = string_value(check_member(S.ops[3]));
	m.signature = n == 1 ? "s" : n == 2 ? "ss" : "ssv";
	m.body = args;
	m.nbody = n;
	return m;
}

/* One value as busctl get-property prints it: terse "SIG VALUE", or JSON
 * {"type":SIG,"data":VALUE}. */
static void print_one(const struct dbus_value *v)
{
	if (S.print_json) {
		fputs("{\"type\":", stdout);
		json_cstring(stdout, v->sig);
		fputs(",\"data\":", stdout);
		dbus_print_json_value(stdout, v);
		fputs("}\n", stdout);
	} else {
		dbus_print_terse(stdout, v->sig, v, 1);
		putchar('\n');
	}
}

static int bus_get_main(int argc, char **argv)
{
	struct dbus_value args[2];
	struct dbus_msg m, reply;

	options(argc, argv, 4, 4);
	m = properties_call("Get", args, 2);
	connect_bus();
	call(&m, &reply);
	fail_on_error(&reply);
	if (reply.nbody != 1 || reply.body[0].type != 'v')
		cli_die(EXIT_FAIL, "unexpected reply signature '%s' to Properties.Get", reply.signature);
	print_one(&reply.body[0].v.items[0]);
	dbus_msg_free(&reply);
	return 0;
}

static int bus_set_main(int argc, char **argv)
{
	struct dbus_value args[3], *val;
	struct dbus_msg m, reply;
	struct dbus_err err = {{0}};
	const char *sig;
	uint32_t n;

	options(argc, argv, 6, -1);
	m = properties_call("Set", args, 3);
	sig = S.ops[4];
	if (!dbus_valid_single_type(sig, strlen(sig)))
		cli_usage_error("invalid property signature '%s' (one complete type)", sig);
	if (dbus_text_parse(S.arena, sig, S.nops - 5, S.ops + 5, &val, &n, &err) < 0)
		cli_usage_error("%s", err.msg);
	args[2] = (struct dbus_value){.type = 'v', .sig = "v", .n = 1, .v.items = val};
	connect_bus();
	if (call_or_send(&m, &reply))
		dbus_msg_free(&reply);
	return 0;
}

/* ---- bus-list ------------------------------------------------------------- */

struct name {
	const char *name;
	int running, activatable;
	uint32_t pid; /* 0: unknown */
	const char *owner;
	uint32_t pid_serial, owner_serial;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct name *)a)->name, ((const struct name *)b)->name);
}

/* The strings of an 'as' reply from the bus. */
static const struct dbus_value *string_list(const struct dbus_msg *reply)
{
	if (reply->nbody != 1 || strcmp(reply->signature, "as") != 0)
		cli_die(EXIT_FAIL, "unexpected reply signature '%s'", reply->signature);
	return &reply->body[0];
}

/* Mark the activatable names among the n sorted running ones, appending
 * those that are not running; keeps names[] sorted. */
static void add_activatable(struct name *names, uint32_t *n, const struct dbus_value *list)
{
	uint32_t running = *n;

	for (uint32_t i = 0; i < list->n; i++) {
		const char *s = list->v.items[i].v.str;
		struct name key = {.name = s}, *hit = bsearch(&key, names, running, sizeof *names, by_name);
		if (!hit) {
			hit = &names[(*n)++];
			*hit = (struct name){.name = dbus_arena_strndup(S.arena, s, strlen(s))};
		}
		hit->activatable = 1;
	}
	qsort(names, *n, sizeof *names, by_name);
}

/* Send one driver query about a name without waiting; returns its serial. */
static uint32_t query(const char *member, struct dbus_value *arg)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, member);

	m.signature = "s";
	m.body = arg;
	m.nbody = 1;
	send_msg(&m);
	return m.serial;
}

/* File the reply to a pipelined query under its name. */
static int file_reply(struct name *names, uint32_t n, const struct dbus_msg *r)
{
	for (uint32_t i = 0; i < n; i++) {
		int ok = r->type == DBUS_METHOD_RETURN && r->nbody == 1;
		if (r->reply_serial == names[i].pid_serial) {
			if (ok && r->body[0].type == 'u')
				names[i].pid = (uint32_t)r->body[0].v.u;
			names[i].pid_serial = 0;
			return 1;
		}
		if (r->reply_serial == names[i].owner_serial) {
			if (ok && r->body[0].type == 's')
				names[i].owner = dbus_arena_strndup(S.arena, r->body[0].v.str, r->body[0].n);
			names[i].owner_serial = 0;
			return 1;
		}
	}
	return 0;
}

/* The pid and owner of every running name, LIST_BATCH queries at a time. */
static void lookup_owners(struct name *names, uint32_t n)
{
	struct dbus_value *args = dbus_arena_alloc(S.arena, sizeof *args * (n ? n : 1));
	struct dbus_err err = {{0}};

	for (uint32_t start = 0; start < n; start += LIST_BATCH) {
		uint32_t end = start + LIST_BATCH < n ? start + LIST_BATCH : n, pending = 0;
		for (uint32_t i = start; i < end; i++) {
			if (!names[i].running)
				continue;
			args[i] = string_value(names[i].name);
			names[i].pid_serial = query("GetConnectionUnixProcessID", &args[i]);
			pending++;
			if (names[i].name[0] != ':') {
				names[i].owner_serial = query("GetNameOwner", &args[i]);
				pending++;
			}
		}
		while (pending > 0) {
			struct dbus_msg r;
			int rc = dbus_conn_recv(&S.conn, &r, S.deadline, &err);
			if (rc == DBUS_TIMED_OUT)
				cli_die(EXIT_TIMEOUT, "no reply from the bus within the timeout");
			if (rc < 0)
				cli_die(EXIT_FAIL, "%s", err.msg);
			if ((r.type == DBUS_METHOD_RETURN || r.type == DBUS_ERROR) &&
			    file_reply(names + start, end - start, &r))
				pending--;
			dbus_msg_free(&r);
		}
	}
}

/* /proc/PID/comm, or "-". */
static const char *process_name(uint32_t pid, char *buf, size_t size)
{
	return proc_comm((pid_t)pid, buf, size) ? buf : "-";
}

static void print_names_json(const struct name *names, uint32_t n)
{
	char comm[64];

	putchar('[');
	for (uint32_t i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_cstring(stdout, names[i].name);
		if (names[i].pid) {
			printf(",\"pid\":%u,\"process\":", names[i].pid);
			json_cstring(stdout, process_name(names[i].pid, comm, sizeof comm));
		} else {
			printf(",\"pid\":null,\"process\":null");
		}
		printf(",\"connection\":");
		if (names[i].owner || (names[i].running && names[i].name[0] == ':'))
			json_cstring(stdout, names[i].owner ? names[i].owner : names[i].name);
		else
			printf("null");
		printf(",\"activatable\":%s}", names[i].activatable ? "true" : "false");
	}
	puts("]");
}

static void print_names(const struct name *names, uint32_t n)
{
	int w = 4;
	char comm[64], pid[16];

	for (uint32_t i = 0; i < n; i++)
		if ((int)strlen(names[i].name) > w)
			w = (int)strlen(names[i].name);
	printf("%-*s %7s %-15s %s\n", w, "NAME", "PID", "PROCESS", "CONNECTION");
	for (uint32_t i = 0; i < n; i++) {
		const char *conn = names[i].owner ? names[i].owner
				   : names[i].name[0] == ':' ? names[i].name
				   : !names[i].running ? "(activatable)" : "-";
		snprintf(pid, sizeof pid, names[i].pid ? "%u" : "-", names[i].pid);
		printf("%-*s %7s %-15s %s\n", w, names[i].name, pid,
		       process_name(names[i].pid, comm, sizeof comm), conn);
	}
}

static int bus_list_main(int argc, char **argv)
{
	struct dbus_msg names_reply, act_reply;
	const struct dbus_value *running, *act = NULL;
	struct name *names;
	uint32_t n = 0;

	options(argc, argv, 0, 0);
	connect_bus();
	driver_call("ListNames", "", NULL, 0, &names_reply);
	running = string_list(&names_reply);
	if (S.list.activatable) {
		driver_call("ListActivatableNames", "", NULL, 0, &act_reply);
		act = string_list(&act_reply);
	}
	names = dbus_arena_alloc(S.arena, sizeof *names * ((size_t)running->n + (act ? act->n : 0) + 1));
	for (uint32_t i = 0; i < running->n; i++)
		names[n++] = (struct name){.name = running->v.items[i].v.str, .running = 1};
	qsort(names, n, sizeof *names, by_name);
	if (act)
		add_activatable(names, &n, act);
	lookup_owners(names, n);
	if (S.print_json)
		print_names_json(names, n);
	else
		print_names(names, n);
	dbus_msg_free(&names_reply);
	if (act)
		dbus_msg_free(&act_reply);
	return 0;
}

/* ---- bus-introspect ------------------------------------------------------- */

/* Introspect DEST PATH: the XML text (in the reply's arena), or NULL if the
 * object answered with an error and quiet is set. */
static const char *introspect(const char *dest, const char *path, struct dbus_msg *reply,
			      int quiet)
{
	struct dbus_msg m = method_call(dest, path, "org.freedesktop.DBus.Introspectable", "Introspect");

	call(&m, reply);
	if (quiet && reply->type == DBUS_ERROR) {
		dbus_msg_free(reply);
		return NULL;
	}
	fail_on_error(reply);
	if (reply->nbody != 1 || reply->body[0].type != 's')
		cli_die(EXIT_FAIL, "unexpected reply signature '%s' to Introspect", reply->signature);
	return reply->body[0].v.str;
}

/* Properties.GetAll(iface): the a{sv} value, or NULL on an error reply. */
static const struct dbus_value *get_all(const char *iface, struct dbus_msg *reply)
{
	struct dbus_value arg = string_value(iface);
	struct dbus_msg m = method_call(S.ops[0], S.ops[1], "org.freedesktop.DBus.Properties", "GetAll");

	m.signature = "s";
	m.body = &arg;
	m.nbody = 1;
	call(&m, reply);
	if (reply->type != DBUS_METHOD_RETURN || reply->nbody != 1 || strcmp(reply->signature, "a{sv}"))
		return NULL;
	return &reply->body[0];
}

/* The value of property name in an a{sv}, or NULL. */
static const struct dbus_value *find_property(const struct dbus_value *all, const char *name)
{
	for (uint32_t i = 0; all && i < all->n; i++) {
		const struct dbus_value *e = &all->v.items[i];
		if (strcmp(e->v.items[0].v.str, name) == 0)
			return &e->v.items[1].v.items[0];
	}
	return NULL;
}

/* A value in terse form without its leading signature ("2 \"a\" \"b\""). */
static char *terse_value(const struct dbus_value *v)
{
	char *buf = NULL, *out;
	size_t len = 0, skip;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		cli_die(EXIT_FAIL, "out of memory");
	dbus_print_terse(f, v->sig, v, 1);
	fclose(f);
	skip = strlen(v->sig) + 1 <= len ? strlen(v->sig) + 1 : len;
	out = dbus_arena_strndup(S.arena, buf + skip, len - skip);
	free(buf);
	return out;
}

/* A member's flags, space-separated, or "-": in the arena. */
static const char *flags_text(const struct dbus_intro_member *m)
{
	static const struct {
		unsigned flag;
		const char *text;
	} names[] = {{DBUS_INTRO_DEPRECATED, " deprecated"}, {DBUS_INTRO_NO_REPLY, " no-reply"},
		     {DBUS_INTRO_CONST, " const"}, {DBUS_INTRO_EMITS_CHANGE, " emits-change"},
		     {DBUS_INTRO_EMITS_INVALIDATION, " emits-invalidation"}, {DBUS_INTRO_WRITABLE, " writable"}};
	char buf[96];
	size_t len = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(m->flags & names[i].flag))
			continue;
		if (names[i].flag == DBUS_INTRO_WRITABLE && m->kind != DBUS_INTRO_PROPERTY)
			continue;
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", names[i].text);
	}
	return len ? dbus_arena_strndup(S.arena, buf + 1, len - 1) : "-";
}

/* One row of the table: NAME TYPE SIGNATURE RESULT/VALUE FLAGS. */
struct row {
	const char *col[5];
	const struct dbus_value *value; /* a property's value, for --json */
};

static int member_order(const void *a, const void *b)
{
	const struct dbus_intro_member *x = a, *y = b;
	static const char rank[] = {[DBUS_INTRO_METHOD] = 0, [DBUS_INTRO_PROPERTY] = 1, [DBUS_INTRO_SIGNAL] = 2};
	int c = strcmp(x->iface, y->iface);

	if (c)
		return c;
	if (x->kind != y->kind)
		return rank[x->kind] - rank[y->kind];
	return strcmp(x->name, y->name);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The row of one member; property values come from all (GetAll's a{sv}). */
static void member_row(struct row *r, const struct dbus_intro_member *m, const struct dbus_value *all)
{
	char *name = dbus_arena_alloc(S.arena, strlen(m->name) + 2);
	const char *flags = flags_text(m);

	name[0] = '.';
	strcpy(name + 1, m->name);
	r->col[0] = name;
	r->col[1] = m->kind == DBUS_INTRO_METHOD ? "method" : m->kind == DBUS_INTRO_SIGNAL ? "signal" : "property";
	r->col[2] = m->in[0] ? m->in : "-";
	r->col[3] = m->kind == DBUS_INTRO_METHOD && m->out[0] ? m->out : "-";
	r->col[4] = flags;
	if (m->kind == DBUS_INTRO_PROPERTY && (r->value = find_property(all, m->name)))
		r->col[3] = terse_value(r->value);
}

/* Rows for every interface (sorted, as busctl does) and its members
 * (methods, properties, signals, each sorted by name), with property values
 * from one Properties.GetAll per interface that has properties. */
static struct row *intro_rows(struct dbus_intro *in, int *nrows)
{
	struct row *rows = dbus_arena_alloc(S.arena, sizeof *rows * (size_t)(in->nmembers + in->nifaces + 1));
	int n = 0, j = 0;

	qsort(in->ifaces, (size_t)in->nifaces, sizeof *in->ifaces, by_string);
	qsort(in->members, (size_t)in->nmembers, sizeof *in->members, member_order);
	for (int i = 0; i < in->nifaces; i++) {
		const char *iface = in->ifaces[i];
		const struct dbus_value *all = NULL;
		int has_props = 0;
		if (i > 0 && strcmp(iface, in->ifaces[i - 1]) == 0)
			continue; /* an interface given twice: its members are merged */
		rows[n++] = (struct row){{iface, "interface", "-", "-", "-"}, NULL};
		for (int k = j; k < in->nmembers && strcmp(in->members[k].iface, iface) == 0; k++)
			has_props |= in->members[k].kind == DBUS_INTRO_PROPERTY;
		if (has_props) /* kept until exit: rows point into the reply */
			all = get_all(iface, dbus_arena_alloc(S.arena, sizeof(struct dbus_msg)));
		for (; j < in->nmembers && strcmp(in->members[j].iface, iface) == 0; j++)
			member_row(&rows[n++], &in->members[j], all);
	}
	*nrows = n;
	return rows;
}

static void print_rows(const struct row *rows, int n)
{
	static const char *const head[5] = {"NAME", "TYPE", "SIGNATURE", "RESULT/VALUE", "FLAGS"};
	int w[4] = {0};

	for (int c = 0; c < 4; c++) {
		w[c] = (int)strlen(head[c]);
		for (int i = 0; i < n; i++)
			if ((int)strlen(rows[i].col[c]) > w[c])
				w[c] = (int)strlen(rows[i].col[c]);
	}
	printf("%-*s %-*s %-*s %-*s %s\n", w[0], head[0], w[1], head[1], w[2], head[2], w[3], head[3], head[4]);
	for (int i = 0; i < n; i++)
		printf("%-*s %-*s %-*s %-*s %s\n", w[0], rows[i].col[0], w[1], rows[i].col[1], w[2],
		       rows[i].col[2], w[3], rows[i].col[3], rows[i].col[4]);
}

/* --json: [{"name","type","signature","result","value","flags"}...]; an
 * interface row starts each group, members carry their interface. */
static void print_rows_json(const struct row *rows, int n)
{
	const char *iface = "";

	putchar('[');
	for (int i = 0; i < n; i++) {
		int is_iface = strcmp(rows[i].col[1], "interface") == 0;
		if (is_iface)
			iface = rows[i].col[0];
		printf("%s{\"interface\":", i ? "," : "");
		json_cstring(stdout, iface);
		fputs(",\"name\":", stdout);
		json_cstring(stdout, is_iface ? iface : rows[i].col[0] + 1);
		fputs(",\"type\":", stdout);
		json_cstring(stdout, rows[i].col[1]);
		fputs(",\"signature\":", stdout);
		json_cstring(stdout, strcmp(rows[i].col[2], "-") ? rows[i].col[2] : "");
		if (!strcmp(rows[i].col[1], "method")) {
			fputs(",\"result\":", stdout);
			json_cstring(stdout, strcmp(rows[i].col[3], "-") ? rows[i].col[3] : "");
		}
		if (rows[i].value) {
			fputs(",\"value\":", stdout);
			dbus_print_json_value(stdout, rows[i].value);
		}
		fputs(",\"flags\":", stdout);
		json_cstring(stdout, strcmp(rows[i].col[4], "-") ? rows[i].col[4] : "");
		putchar('}');
	}
	puts("]");
}

static int bus_introspect_main(int argc, char **argv)
{
	struct dbus_msg reply;
	struct dbus_intro in;
	struct dbus_err err = {{0}};
	struct row *rows;
	const char *xml;
	int n;

	options(argc, argv, 2, 2);
	check_bus_name(S.ops[0]);
	check_path(S.ops[1]);
	connect_bus();
	xml = introspect(S.ops[0], S.ops[1], &reply, 0);
	if (S.introspect.xml) {
		fputs(xml, stdout);
		if (!*xml || xml[strlen(xml) - 1] != '\n')
			putchar('\n');
		dbus_msg_free(&reply);
		return 0;
	}
	if (dbus_intro_parse(&in, xml, strlen(xml), &err) < 0)
		cli_die(EXIT_FAIL, "%s %s: %s", S.ops[0], S.ops[1], err.msg);
	dbus_msg_free(&reply);
	rows = intro_rows(&in, &n);
	if (S.print_json)
		print_rows_json(rows, n);
	else
		print_rows(rows, n);
	dbus_intro_free(&in);
	return 0;
}

/* ---- bus-tree ------------------------------------------------------------- */

/* Print path and, depth-first in document order, the paths below it. */
static void tree_walk(const char *dest, const char *path, int depth)
{
	struct dbus_msg reply;
	struct dbus_intro in;
	struct dbus_err err = {{0}};
	const char *xml;

	if (++S.tree.visited > TREE_MAX_NODES)
		cli_die(EXIT_FAIL, "more than %d objects; stopping", TREE_MAX_NODES);
	if (S.print_json) {
		fputs(S.tree.visited > 1 ? "," : "", stdout);
		json_cstring(stdout, path);
	} else {
		puts(path);
	}
	xml = introspect(dest, path, &reply, depth > 0);
	if (!xml)
		return;
	if (dbus_intro_parse(&in, xml, strlen(xml), &err) < 0) {
		cli_warn("%s: %s", path, err.msg);
		dbus_msg_free(&reply);
		return;
	}
	for (int i = 0; i < in.nchildren && depth < TREE_MAX_DEPTH; i++) {
		size_t len = strlen(path) + strlen(in.children[i]) + 2;
		char *child = malloc(len);
		if (!child)
			cli_die(EXIT_FAIL, "out of memory");
		snprintf(child, len, "%s/%s", strcmp(path, "/") ? path : "", in.children[i]);
		if (dbus_valid_path(child, strlen(child)))
			tree_walk(dest, child, depth + 1);
		free(child);
	}
	dbus_intro_free(&in);
	dbus_msg_free(&reply);
}

static int bus_tree_main(int argc, char **argv)
{
	options(argc, argv, 1, 1);
	check_bus_name(S.ops[0]);
	connect_bus();
	if (S.print_json)
		putchar('[');
	tree_walk(S.ops[0], "/", 0);
	if (S.print_json)
		puts("]");
	return 0;
}

/* ---- bus-wait ------------------------------------------------------------- */

static void add_match(const char *rule)
{
	struct dbus_value arg = string_value(rule);
	struct dbus_msg reply;

	driver_call("AddMatch", "s", &arg, 1, &reply);
	dbus_msg_free(&reply);
}

/* The next message before the deadline; a timeout exits 124 with what. */
static void next_message(struct dbus_msg *m, const char *what)
{
	struct dbus_err err = {{0}};
	int r = dbus_conn_recv(&S.conn, m, S.deadline, &err);

	if (r == 0)
		r = dbus_conn_answer(&S.conn, m, S.deadline, &err);
	if (r == DBUS_TIMED_OUT)
		cli_die(EXIT_TIMEOUT, "%s within the timeout", what);
	if (r < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
}

static int str_is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Until NAME has an owner: subscribe to NameOwnerChanged first, then ask,
 * so an owner that appears in between is not missed. */
static int wait_name(const char *name)
{
	const char *const kv[] = {"type", "signal", "sender", DRIVER_NAME, "interface", DRIVER_NAME,
				  "member", "NameOwnerChanged", "arg0", name};
	char rule[400];
	struct dbus_value arg = string_value(name);
	struct dbus_msg reply, m;
	char what[300];

	if (dbus_match_build(rule, sizeof rule, kv, 5, NULL) < 0)
		cli_usage_error("match rule for '%s' longer than %zu bytes", name, sizeof rule - 1);
	add_match(rule);
	driver_call("NameHasOwner", "s", &arg, 1, &reply);
	if (reply.nbody == 1 && reply.body[0].type == 'b' && reply.body[0].v.u) {
		dbus_msg_free(&reply);
		return 0;
	}
	dbus_msg_free(&reply);
	snprintf(what, sizeof what, "%s did not appear", name);
	for (;;) {
		next_message(&m, what);
		if (m.type == DBUS_SIGNAL && str_is(m.sender, DRIVER_NAME) &&
		    str_is(m.member, "NameOwnerChanged") && m.nbody == 3 && m.body[0].type == 's' &&
		    str_is(m.body[0].v.str, name) && m.body[2].n > 0) {
			dbus_msg_free(&m);
			return 0;
		}
		dbus_msg_free(&m);
	}
}

/* Until the signal arrives; print its arguments like a reply. */
static int wait_signal(const char *path, const char *iface, const char *member)
{
	const char *const kv[] = {"type", "signal", "path", path, "interface", iface, "member", member};
	char rule[DBUS_MATCH_RULE_MAX + 1], what[600];
	struct dbus_msg m;

	if (dbus_match_build(rule, sizeof rule, kv, 4, NULL) < 0)
		cli_usage_error("match rule longer than %d bytes", DBUS_MATCH_RULE_MAX);
	add_match(rule);
	snprintf(what, sizeof what, "no signal %.250s.%.250s", iface, member);
	for (;;) {
		next_message(&m, what);
		if (m.type == DBUS_SIGNAL && str_is(m.path, path) && str_is(m.interface, iface) &&
		    str_is(m.member, member)) {
			if (S.print_json || m.nbody > 0)
				print_body(m.signature, m.body, m.nbody);
			dbus_msg_free(&m);
			return 0;
		}
		dbus_msg_free(&m);
	}
}

static int bus_wait_main(int argc, char **argv)
{
	options(argc, argv, 1, 1);
	if (S.wait.signal) {
		check_path(S.ops[0]);
		check_interface(S.ops[1]);
		check_member(S.ops[2]);
		connect_bus();
		return wait_signal(S.ops[0], S.ops[1], S.ops[2]);
	}
	check_bus_name(S.ops[0]);
	connect_bus();
	return wait_name(S.ops[0]);
}

/* ---- bus-monitor ---------------------------------------------------------- */

static int refused(const struct dbus_msg *r)
{
	return r->type == DBUS_ERROR &&
	       (str_is(r->error_name, "org.freedesktop.DBus.Error.AccessDenied") ||
		str_is(r->error_name, "org.freedesktop.DBus.Error.UnknownMethod") ||
		str_is(r->error_name, "org.freedesktop.DBus.Error.UnknownInterface"));
}

/* An invalid rule is the user's input: exit 2; other errors exit 1. */
static void rule_error(const struct dbus_msg *r)
{
	if (r->type == DBUS_ERROR && str_is(r->error_name, "org.freedesktop.DBus.Error.MatchRuleInvalid"))
		cli_usage_error("invalid match rule: %s",
				r->nbody > 0 && r->body[0].type == 's' ? r->body[0].v.str : "");
	fail_on_error(r);
}

/* AddMatch(rule) and its reply, which the caller judges and frees. */
static void add_match_reply(const char *rule, struct dbus_msg *reply)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, "AddMatch");
	struct dbus_value arg = string_value(rule);

	m.signature = "s";
	m.body = &arg;
	m.nbody = 1;
	call(&m, reply);
}

/* The last part of an error name, "AccessDenied", for the mode line. */
static const char *short_error(const struct dbus_msg *r)
{
	const char *dot = r->error_name ? strrchr(r->error_name, '.') : NULL;

	return dot ? dot + 1 : r->error_name ? r->error_name : "refused";
}

/* Plain match rules (AddMatch "" if none), as any client may add them. */
static void plain_rules(void)
{
	for (int i = 0; i < S.nops || (i == 0 && S.nops == 0); i++) {
		struct dbus_msg reply;
		add_match_reply(S.nops ? S.ops[i] : "", &reply);
		rule_error(&reply);
		dbus_msg_free(&reply);
	}
}

/* The old way: eavesdrop=true in front of every rule (alone if none).  As
 * dbus-monitor does, a refusal of the first rule (a policy that refuses
 * eavesdropping, a bus that does not know the key, a rule the prefix makes
 * too long) means plain rules instead: 0 then, with why filled in; 1 if
 * eavesdropping is on. */
static int eavesdrop(char *why, size_t size)
{
	char rule[DBUS_MATCH_RULE_MAX + 32];

	for (int i = 0; i < S.nops || (i == 0 && S.nops == 0); i++) {
		const char *user = S.nops ? S.ops[i] : "";
		struct dbus_msg reply;

		static const char *const kv[] = {"eavesdrop", "true"};
		/* Longer than the bus takes is the bus's to refuse, as
		 * dbus-monitor finds it (LimitsExceeded). */
		if (dbus_match_build(rule, sizeof rule, kv, 1, user) < 0) {
			snprintf(why, size, "the rule with eavesdrop='true' is too long");
			return 0;
		}
		add_match_reply(rule, &reply);
		if (i == 0 && reply.type == DBUS_ERROR) {
			snprintf(why, size, "%s", short_error(&reply));
			dbus_msg_free(&reply);
			return 0;
		}
		rule_error(&reply);
		dbus_msg_free(&reply);
	}
	return 1;
}

/* BecomeMonitor(as rules, u 0); after it we never send again.  Where it is
 * refused (an ordinary user on a system bus), eavesdropping, and where that
 * is refused too, plain rules: as dbus-monitor, it keeps working, and says
 * once on stderr which way it watches and what that can see. */
static void become_monitor(void)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, "org.freedesktop.DBus.Monitoring",
					"BecomeMonitor");
	struct dbus_value args[2] = {{.type = 'a', .sig = "as", .n = (uint32_t)S.nops},
				     {.type = 'u', .sig = "u"}};
	struct dbus_msg reply;
	char why1[128], why2[128];

	args[0].v.items = dbus_arena_alloc(S.arena, sizeof(struct dbus_value) * (size_t)(S.nops + 1));
	for (int i = 0; i < S.nops; i++)
		args[0].v.items[i] = string_value(S.ops[i]);
	m.signature = "asu";
	m.body = args;
	m.nbody = 2;
	call(&m, &reply);
	if (!refused(&reply)) {
		rule_error(&reply);
		dbus_msg_free(&reply);
		return; /* full sight: nothing to say, as dbus-monitor */
	}
	S.monitor.is_client = 1;
	snprintf(why1, sizeof why1, "%s", short_error(&reply));
	dbus_msg_free(&reply);
	if (eavesdrop(why2, sizeof why2))
		cli_warn("BecomeMonitor refused (%s); eavesdropping with match rules: matching signals, "
			 "messages to us, and what the bus policy lets us overhear", why1);
	else {
		plain_rules();
		cli_warn("BecomeMonitor refused (%s), eavesdropping refused (%s); plain match rules: "
			 "matching broadcast signals and messages to us only", why1, why2);
	}
}

/* Flush what a monitor or listener produced so far (what names it in a
 * message); a closed pipe ends quietly, and so does a stop signal that cut
 * the write short (after one more try). */
static void flush_or_end(FILE *f, const char *what)
{
	if (fflush(f) == 0 && !ferror(f))
		return;
	if (errno == EPIPE)
		_exit(EXIT_OK);
	if (errno == EINTR && *sigev_stop_flag()) {
		sigev_hold();
		clearerr(f);
		if (fflush(f) == 0)
			exit(EXIT_OK);
	}
	cli_die_errno(EXIT_FAIL, errno ? errno : EIO, "write %s", what);
}

/* Flush the monitor's output once no message is left waiting. */
static void mon_flush(void)
{
	flush_or_end(S.monitor.out, S.monitor.pcap ? S.monitor.pcap : "standard output");
}

static void mon_output(const struct dbus_msg *m, const uint8_t *raw, size_t len)
{
	struct timespec now = clock_wall(0);
	long long sec = (long long)now.tv_sec;
	long usec = now.tv_nsec / 1000;

	if (S.monitor.pcap) {
		dbus_pcap_record(S.monitor.out, raw, len, sec, usec);
	} else if (S.monitor.profile) {
		if (!S.monitor.profile_head++)
			dbus_print_monitor_profile_header(stdout);
		dbus_print_monitor_profile(stdout, m, sec, usec);
	} else if (S.print_json) {
		dbus_print_monitor_json(stdout, m, sec, usec);
	} else {
		dbus_print_monitor(stdout, m, sec, usec);
	}
}

/* The bus telling us about our own names (NameAcquired, NameLost). */
static int own_traffic(const struct dbus_msg *m)
{
	return str_is(m->sender, DRIVER_NAME) && str_is(m->destination, S.conn.unique_name);
}

/* A listener that keeps up with a flood is woken every few messages, and
 * then the wake-ups, not the messages, are most of its cost (bench/31: 10
 * to 20 thousand context switches for 100,000 signals, where dbus-monitor,
 * always behind, sleeps a few hundred times).  So after a wake-up that
 * follows a drain of FLOOD_BATCH messages or more, bus-listen and
 * bus-monitor wait FLOOD_PAUSE_US before they drain again, and the next
 * batch gathers meanwhile: the CPU per message fell by a third.  A quiet
 * bus (drains of fewer) pays nothing; under a flood a message waits at most
 * that much longer, and what was printed before the wait is out. */
#define FLOOD_BATCH 4
#define FLOOD_PAUSE_US 200

static void flood_pause(uint64_t batch)
{
	struct timespec pause = {0, FLOOD_PAUSE_US * 1000L};

	if (batch >= FLOOD_BATCH)
		nanosleep(&pause, NULL); /* a stop signal ends it early: no matter */
}

/* Wait for the bus or a stop signal: 1 to read on, 0 to stop (a signal:
 * everything printed so far is flushed, so we can leave at once).  batch:
 * the messages of the drain before (flood_pause). */
static int monitor_wait(int64_t deadline, uint64_t seen, uint64_t batch)
{
	struct pollfd pf[2] = {{.fd = S.conn.fd, .events = POLLIN}, {.fd = S.monitor.sigfd, .events = POLLIN}};
	int n = poll(pf, 2, clock_poll_ms(deadline)), child;

	if (n < 0 && errno != EINTR)
		cli_die_errno(EXIT_FAIL, errno, "poll");
	if (n == 0 && clock_expired(deadline))
		cli_die(EXIT_TIMEOUT, "timed out after %llu messages", (unsigned long long)seen);
	if (n > 0 && pf[1].revents && sigev_take(S.monitor.sigfd, &child)) {
		sigev_hold();
		return 0;
	}
	if (n > 0)
		flood_pause(batch);
	return 1;
}

/* Print every message until --count, --timeout or a stop signal.  Messages
 * already buffered or readable are taken without waiting; only when none is
 * does the loop poll, on the bus and the signal pipe together. */
static int monitor_loop(void)
{
	int64_t deadline = S.timeout_set ? S.deadline : CLOCK_NO_DEADLINE;
	uint64_t seen = 0, waited_at = 0;

	for (;;) {
		struct dbus_err err = {{0}};
		struct dbus_msg m;
		uint8_t *raw = NULL;
		size_t len = 0;
		/* the bytes as received only for --pcap */
		int r = dbus_conn_recv_raw(&S.conn, &m, S.monitor.pcap ? &raw : NULL, &len, clock_deadline(0), &err);
		if (r == DBUS_TIMED_OUT) { /* nothing whole to take now: out with what we have */
			mon_flush();
			if (!monitor_wait(deadline, seen, seen - waited_at))
				return EXIT_OK;
			waited_at = seen;
			continue;
		}
		if (r < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		if (!own_traffic(&m)) {
			mon_output(&m, raw, len);
			seen++;
		}
		/* Not a monitor after a fallback: a call to us gets its answer. */
		if (S.monitor.is_client && str_is(m.destination, S.conn.unique_name) &&
		    dbus_conn_answer(&S.conn, &m, deadline, &err) < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		dbus_msg_free(&m);
		free(raw);
		if (S.count && seen == S.count) {
			mon_flush();
			return EXIT_OK;
		}
	}
}

/* The ready file holds our unique name, a line. */
static void write_ready(const char *path)
{
	char line[300];
	int n = snprintf(line, sizeof line, "%s\n", S.conn.unique_name);

	if (n < 0 || (size_t)n >= sizeof line || io_write_file_atomic(path, line, (size_t)n) < 0)
		cli_die_errno(EXIT_FAIL, errno ? errno : EIO, "write %s", path);
}

static int bus_monitor_main(int argc, char **argv)
{
	options(argc, argv, 0, -1);
	if (S.print_json + !!S.monitor.pcap + S.monitor.profile > 1)
		cli_usage_error("--json, --pcap and --profile exclude each other");
	for (int i = 0; i < S.nops; i++)
		check_rule(S.ops[i]);
	S.monitor.out = stdout;
	if (S.monitor.pcap && strcmp(S.monitor.pcap, "-") != 0) {
		S.monitor.out = fopen(S.monitor.pcap, "wbe");
		if (!S.monitor.out)
			cli_die_errno(EXIT_FAIL, errno, "open %s", S.monitor.pcap);
	}
	if (S.monitor.pcap) {
		dbus_pcap_header(S.monitor.out);
		mon_flush();
	}
	if ((S.monitor.sigfd = sigev_open(0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	connect_bus();
	become_monitor();
	if (S.ready_file)
		write_ready(S.ready_file);
	return monitor_loop();
}

/* ---- bus-listen ----------------------------------------------------------- */

/* A rule of bus-listen matches signals: type='signal' is added where the
 * rule has no type, and a rule for another type is refused (exit 2). */
static char *listen_rule(const char *rule)
{
	static const char *const kv[] = {"type", "signal"};
	char type[64], *full;

	check_rule(rule);
	if (dbus_match_value(rule, "type", type, sizeof type)) {
		if (strcmp(type, "signal") != 0)
			cli_usage_error("invalid match rule '%s': bus-listen receives signals only", rule);
		return (char *)rule;
	}
	if (!(full = malloc(DBUS_MATCH_RULE_MAX + 1)))
		cli_die(EXIT_FAIL, "out of memory");
	if (dbus_match_build(full, DBUS_MATCH_RULE_MAX + 1, kv, 1, rule) < 0)
		cli_usage_error("match rule longer than %d bytes", DBUS_MATCH_RULE_MAX);
	return full;
}

/* -F: the directives bus-listen knows, checked before the first signal. */
#define LISTEN_DIRECTIVES "spimgat"

static void listen_check_format(const char *f)
{
	char why[64];

	if (format_check(f, LISTEN_DIRECTIVES, "nt\\", why, sizeof why) < 0)
		cli_usage_error("invalid format '%s': %s", f, why);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The arguments in terse text, without the leading signature (%a). */
static void listen_print_args(FILE *out, const struct dbus_msg *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		cli_die(EXIT_FAIL, "out of memory");
	dbus_print_terse(f, "", m->body, m->nbody);
	if (fclose(f) != 0)
		cli_die(EXIT_FAIL, "out of memory");
	fputs(len ? buf + 1 : "", out);
	free(buf);
}

/* One signal as -F prints it: the message and when it arrived. */
struct listen_signal {
	const struct dbus_msg *m;
	long long sec; /* when it arrived */
	long usec;
};

static void listen_put(FILE *out, char directive, const void *arg)
{
	const struct listen_signal *sig = arg;
	const struct dbus_msg *m = sig->m;

	switch (directive) {
	case 's': fputs(or_empty(m->sender), out); break;
	case 'p': fputs(or_empty(m->path), out); break;
	case 'i': fputs(or_empty(m->interface), out); break;
	case 'm': fputs(or_empty(m->member), out); break;
	case 'g': fputs(or_empty(m->signature), out); break;
	case 'a': listen_print_args(out, m); break;
	case 't': io_put_time(out, sig->sec, sig->usec); break;
	}
}

static void listen_print_format(const struct dbus_msg *m, long long sec, long usec)
{
	struct listen_signal sig = {m, sec, usec};

	format_print(stdout, S.listen.format, listen_put, &sig);
	putchar('\n');
}

/* -e CMD, the slot: /bin/sh -c CMD with the arguments as one line of terse
 * text on its stdin and the signal in BUS_* variables; waited for, so that
 * commands run one at a time in the order the signals came. */
static void listen_run_slot(const struct dbus_msg *m)
{
	char *vars[6], *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int werr;

	if (!f)
		cli_die(EXIT_FAIL, "out of memory");
	dbus_print_terse(f, or_empty(m->signature), m->body, m->nbody);
	fputc('\n', f);
	if (fclose(f) != 0 ||
	    asprintf(&vars[0], "BUS_SENDER=%s", or_empty(m->sender)) < 0 ||
	    asprintf(&vars[1], "BUS_PATH=%s", or_empty(m->path)) < 0 ||
	    asprintf(&vars[2], "BUS_INTERFACE=%s", or_empty(m->interface)) < 0 ||
	    asprintf(&vars[3], "BUS_MEMBER=%s", or_empty(m->member)) < 0 ||
	    asprintf(&vars[4], "BUS_SIGNATURE=%s", or_empty(m->signature)) < 0)
		cli_die(EXIT_FAIL, "out of memory");
	vars[5] = NULL;
	fflush(stdout);
	S.listen.last_status = spawn_feed(S.listen.exec, vars, line, len, &werr);
	if (S.listen.last_status < 0)
		cli_die_errno(EXIT_FAIL, errno, "run '%s'", S.listen.exec);
	if (werr)
		cli_warn_errno(werr, "write to '%s'", S.listen.exec);
	for (int i = 0; i < 5; i++)
		free(vars[i]);
	free(line);
}

/* Flush what the signals so far produced. */
static void listen_flush(void)
{
	flush_or_end(stdout, "standard output");
}

static void listen_output(const struct dbus_msg *m)
{
	struct timespec now = clock_wall(0);
	long long sec = (long long)now.tv_sec;
	long usec = now.tv_nsec / 1000;

	if (S.listen.exec)
		listen_run_slot(m);
	else if (S.print_json)
		dbus_print_listen_json(stdout, m, sec, usec);
	else if (S.listen.format)
		listen_print_format(m, sec, usec);
	else
		dbus_print_listen_line(stdout, m, S.listen.verbose, sec, usec);
}

/* Handle every message already received or readable now; 1 once --count
 * signals have been handled.  Output is flushed once no message is left
 * waiting, before the loop sleeps: each signal is out before we wait for
 * the next, and a flood costs one write per batch, not one per signal. */
static int listen_drain(uint64_t *seen)
{
	for (;;) {
		struct dbus_err err = {{0}};
		struct dbus_msg m;
		int r = dbus_conn_recv(&S.conn, &m, clock_deadline(0), &err);
		if (r == DBUS_TIMED_OUT) {
			listen_flush();
			return 0;
		}
		if (r < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		if (m.type == DBUS_SIGNAL && !own_traffic(&m)) {
			listen_output(&m);
			++*seen;
		} else if (dbus_conn_answer(&S.conn, &m, S.deadline, &err) < 0) {
			cli_die(EXIT_FAIL, "%s", err.msg);
		}
		dbus_msg_free(&m);
		if (S.count && *seen == S.count) {
			listen_flush();
			return 1;
		}
	}
}

/* The poll loop: the bus and the stop signals (SIGINT, SIGTERM, SIGHUP as
 * events from lib/sigev; they end listening with 0 between two signals,
 * everything printed so far flushed). */
static int listen_loop(int sigfd)
{
	int64_t deadline = S.timeout_set ? S.deadline : CLOCK_NO_DEADLINE;
	uint64_t seen = 0;
	int child;

	for (;;) {
		struct pollfd pfd[2] = {{S.conn.fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
		uint64_t before = seen;
		int r;
		if (listen_drain(&seen))
			return S.listen.exec ? S.listen.last_status : EXIT_OK;
		r = poll(pfd, 2, clock_poll_ms(deadline));
		if (r < 0 && errno != EINTR)
			cli_die_errno(EXIT_FAIL, errno, "poll");
		if (r > 0 && pfd[1].revents && sigev_take(sigfd, &child)) {
			sigev_hold();
			return EXIT_OK;
		}
		if (r == 0 && clock_expired(deadline))
			cli_die(EXIT_TIMEOUT, "timed out after %llu signals", (unsigned long long)seen);
		if (r > 0)
			flood_pause(seen - before);
	}
}

static int bus_listen_main(int argc, char **argv)
{
	char **rules;
	int nrules, sigfd;

	options(argc, argv, 0, -1);
	if (!!S.print_json + !!S.listen.format + !!S.listen.exec + S.listen.verbose > 1)
		cli_usage_error("-v, --json, -F and -e exclude each other");
	if (S.listen.format)
		listen_check_format(S.listen.format);
	nrules = S.nops ? S.nops : 1;
	rules = dbus_arena_alloc(S.arena, sizeof *rules * (size_t)nrules);
	for (int i = 0; i < nrules; i++)
		rules[i] = listen_rule(S.nops ? S.ops[i] : "");
	sigfd = sigev_open(0);
	if (sigfd < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	connect_bus();
	for (int i = 0; i < nrules; i++) {
		struct dbus_msg reply;
		add_match_reply(rules[i], &reply);
		rule_error(&reply);
		dbus_msg_free(&reply);
	}
	if (S.ready_file)
		write_ready(S.ready_file);
	return listen_loop(sigfd);
}

/* ---- bus-serve ------------------------------------------------------------- */

#define SERVE_OUTPUT_MAX (16u * 1024 * 1024)

/* bus-serve's replies are lib/dbus's (dbus_conn_reply and friends); one
 * that cannot be sent ends the service. */
static void replied(int r, const struct dbus_err *err)
{
	if (r < 0)
		cli_die(EXIT_FAIL, "%s", err->msg);
}

static void serve_error(const struct dbus_msg *call, const char *name, const char *text)
{
	struct dbus_err err = {{0}};

	replied(dbus_conn_reply_error(&S.conn, call, name, text, CLOCK_NO_DEADLINE, &err), &err);
}

static void serve_string(const struct dbus_msg *call, const char *s)
{
	struct dbus_err err = {{0}};

	replied(dbus_conn_reply_string(&S.conn, call, s, CLOCK_NO_DEADLINE, &err), &err);
}

/* All of the temporary file f, NUL-terminated, its size in *len; NULL if
 * it holds more than SERVE_OUTPUT_MAX bytes. */
static char *read_back(FILE *f, size_t *len)
{
	if (lseek(fileno(f), 0, SEEK_SET) < 0)
		cli_die_errno(EXIT_FAIL, errno, "temporary file");
	char *text = io_read_all(fileno(f), SERVE_OUTPUT_MAX, len);
	if (!text && errno != EFBIG)
		cli_die_errno(EXIT_FAIL, errno, "temporary file");
	return text;
}

/* CMD's argv: CMD [ARG]..., then with --argv one word per value of the
 * call (dbus_print_words); words[] points into *buf.  NULL if out of memory. */
static char **serve_argv(const struct dbus_msg *call, char **buf)
{
	size_t len = 0, ncmd = 0, nwords = 0;
	FILE *f = open_memstream(buf, &len);
	char **argv;

	if (!f)
		return NULL;
	if (S.serve.args_as_words)
		dbus_print_words(f, call->body, call->nbody);
	if (fclose(f) != 0)
		return NULL;
	while (S.serve.cmd[ncmd])
		ncmd++;
	for (size_t i = 0; i < len; i++)
		nwords += (*buf)[i] == '\0';
	argv = malloc((ncmd + nwords + 1) * sizeof *argv);
	if (!argv)
		return NULL;
	memcpy(argv, S.serve.cmd, ncmd * sizeof *argv);
	for (size_t i = 0, k = ncmd; i < len; i += strlen(*buf + i) + 1)
		argv[k++] = *buf + i;
	argv[ncmd + nwords] = NULL;
	return argv;
}

/* Start CMD for call with in as stdin, out and errf as stdout and stderr:
 * its pid, or -1 having said why on errf (as sh would) with *status the
 * status sh gives (127 not found, 126 otherwise; E2BIG: --argv words past
 * the system's limit). */
static pid_t start_cmd(const struct dbus_msg *call, FILE *in, FILE *out, FILE *errf, int *status)
{
	char *words = NULL, **argv = serve_argv(call, &words);
	struct spawn_req req = {.argv = argv, .in = fileno(in), .out = fileno(out), .err = fileno(errf)};
	pid_t pid = argv ? spawn_start(&req) : -1;

	if (pid < 0) {
		int err = argv ? errno : ENOMEM;
		fprintf(errf, "%s: %s\n", S.serve.cmd[0], strerror(err));
		fflush(errf);
		*status = spawn_exec_status(err);
	}
	free(argv);
	free(words);
	return pid;
}

/* CMD's stdout, split at blanks, as values of OUT_SIG: the reply.  text
 * is NULL if the output was too long. */
static void reply_output(const struct dbus_msg *call, char *text, size_t len)
{
	struct dbus_arena *a;
	struct dbus_msg r = {.type = DBUS_METHOD_RETURN, .signature = S.serve.out_sig};
	struct dbus_err err = {{0}};
	char msg[400];

	if (!text || strlen(text) != len) {
		serve_error(call, "org.freedesktop.DBus.Error.Failed", "the command's output is too long or has NUL bytes");
		return;
	}
	a = dbus_arena_new();
	if (dbus_text_parse_words(a, S.serve.out_sig, text, &r.body, &r.nbody, &err) < 0) {
		snprintf(msg, sizeof msg, "bad output from the command: %s", err.msg);
		serve_error(call, "org.freedesktop.DBus.Error.Failed", msg);
	} else {
		replied(dbus_conn_reply(&S.conn, call, &r, CLOCK_NO_DEADLINE, &err), &err);
	}
	dbus_arena_free(a);
}

/* The first line of CMD's stderr, or its status. */
static void reply_failure(const struct dbus_msg *call, const char *errtext, int status)
{
	size_t n = strcspn(errtext, "\n");
	char msg[512];

	if (n > 0 && dbus_valid_utf8(errtext, n))
		snprintf(msg, sizeof msg, "%.*s", (int)n, errtext);
	else
		snprintf(msg, sizeof msg, "%s exited with status %d", S.serve.cmd[0], status);
	serve_error(call, "org.freedesktop.DBus.Error.Failed", msg);
}

/* One call being answered by a running CMD (up to -j at once). */
struct serve_job {
	pid_t pid;          /* 0: a free slot */
	uint32_t serial;    /* of the call: the reply's REPLY_SERIAL */
	uint8_t flags;
	char *sender;       /* the caller: the reply's DESTINATION */
	FILE *out, *errf;   /* CMD's stdout and stderr */
};

/* The reply to a finished job from CMD's status and output. */
static void finish_job(struct serve_job *j, int status)
{
	struct dbus_msg call = {.type = DBUS_METHOD_CALL, .serial = j->serial, .flags = j->flags,
				.sender = j->sender};
	size_t olen = 0, elen = 0;
	char *otext = read_back(j->out, &olen), *etext = read_back(j->errf, &elen);

	if (status == 0)
		reply_output(&call, otext, olen);
	else
		reply_failure(&call, etext ? etext : "", status);
	free(otext);
	free(etext);
	fclose(j->out);
	fclose(j->errf);
	free(j->sender);
	*j = (struct serve_job){0};
}

/* Answer METHOD in job slot j: CMD with the arguments in busctl's terse
 * text on its stdin (or, with --argv, as words after its own arguments),
 * started and left running; finish_job replies once it has ended. */
static void serve_method(const struct dbus_msg *call, struct serve_job *j)
{
	FILE *in = tmpfile();
	int status = 0;

	j->out = tmpfile();
	j->errf = tmpfile();
	j->sender = call->sender ? strdup(call->sender) : NULL;
	if (!in || !j->out || !j->errf || (call->sender && !j->sender))
		cli_die_errno(EXIT_FAIL, errno ? errno : ENOMEM, "temporary file");
	j->serial = call->serial;
	j->flags = call->flags;
	if (!S.serve.args_as_words && call->nbody > 0)
		dbus_print_terse(in, call->signature, call->body, call->nbody);
	if (!S.serve.args_as_words)
		fputc('\n', in);
	fflush(in);
	rewind(in);
	j->pid = start_cmd(call, in, j->out, j->errf, &status);
	fclose(in);
	if (j->pid < 0)
		finish_job(j, status);
}

/* Introspect on an object above PATH lists the next node down, so that
 * bus-tree and busctl tree find PATH; anything else there is unknown. */
static void serve_ancestor(const struct dbus_msg *m)
{
	int introspect = m->path && str_is(m->interface, "org.freedesktop.DBus.Introspectable") &&
			 str_is(m->member, "Introspect");
	char *xml = introspect ? dbus_intro_xml_ancestor(m->path, S.serve.path) : NULL;

	if (!xml && introspect && errno == ENOMEM)
		cli_die(EXIT_FAIL, "out of memory");
	if (!xml) {
		serve_error(m, "org.freedesktop.DBus.Error.UnknownObject", "no such object");
		return;
	}
	serve_string(m, xml);
	free(xml);
}

static void serve_one(const struct dbus_msg *m, struct serve_job *free_job)
{
	const char *sig = m->signature ? m->signature : "";
	struct dbus_err err = {{0}};
	int peer;

	if (m->type != DBUS_METHOD_CALL)
		return;
	peer = dbus_conn_answer_peer(&S.conn, m, CLOCK_NO_DEADLINE, &err);
	replied(peer, &err);
	if (peer)
		return;
	if (!str_is(m->path, S.serve.path))
		serve_ancestor(m);
	else if (str_is(m->interface, "org.freedesktop.DBus.Introspectable") &&
		 str_is(m->member, "Introspect")) {
		char *xml = dbus_intro_xml_method(S.serve.iface, S.serve.method, S.serve.in_sig, S.serve.out_sig);
		if (!xml)
			cli_die(EXIT_FAIL, "out of memory");
		serve_string(m, xml);
		free(xml);
	} else if ((!m->interface || str_is(m->interface, S.serve.iface)) && str_is(m->member, S.serve.method)) {
		if (strcmp(sig, S.serve.in_sig) != 0)
			serve_error(m, "org.freedesktop.DBus.Error.InvalidArgs", "wrong argument signature");
		else
			serve_method(m, free_job);
	} else {
		serve_error(m, "org.freedesktop.DBus.Error.UnknownMethod", "no such method");
	}
}

static void request_name(const char *name)
{
	struct dbus_value args[2] = {string_value(name), {.type = 'u', .sig = "u", .v.u = 4}};
	struct dbus_msg reply;

	driver_call("RequestName", "su", args, 2, &reply);
	if (reply.nbody != 1 || reply.body[0].type != 'u' ||
	    (reply.body[0].v.u != 1 && reply.body[0].v.u != 4))
		cli_die(EXIT_FAIL, "%s: the name is taken", name);
	dbus_msg_free(&reply);
}

static void check_sig(const char *s)
{
	if (!dbus_valid_signature(s, strlen(s)))
		cli_usage_error("invalid signature '%s'", s);
}

/* Reap the commands that have ended and reply for each. */
static void reap_jobs(struct serve_job *jobs, int *running)
{
	int status;
	pid_t pid;

	while ((pid = spawn_try_wait(-1, &status)) > 0)
		for (int i = 0; i < S.serve.max_jobs; i++)
			if (jobs[i].pid == pid) {
				finish_job(&jobs[i], status);
				--*running;
			}
}

static struct serve_job *free_slot(struct serve_job *jobs)
{
	for (int i = 0; i < S.serve.max_jobs; i++)
		if (jobs[i].pid <= 0)
			return &jobs[i];
	return NULL;
}

/* Stopped by a signal: the calls still running get no reply (their callers
 * see the service go); what their slots hold is given back. */
static void drop_jobs(struct serve_job *jobs)
{
	for (int i = 0; i < S.serve.max_jobs; i++)
		if (jobs[i].pid > 0) {
			fclose(jobs[i].out);
			fclose(jobs[i].errf);
			free(jobs[i].sender);
		}
	free(jobs);
}

/* Calls are read while fewer than -j commands run; the others wait in the
 * connection (and the bus) until one ends.  SIGCHLD and the stop signals
 * come from lib/sigev; a stop signal ends the service with 0. */
static int serve_loop(int sigfd)
{
	struct serve_job *jobs = calloc((size_t)S.serve.max_jobs, sizeof *jobs);
	int64_t deadline = S.timeout_set ? S.deadline : CLOCK_NO_DEADLINE;
	int running = 0, child = 0;

	if (!jobs)
		cli_die(EXIT_FAIL, "out of memory");
	for (;;) {
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {S.conn.fd, POLLIN, 0}};
		int r;
		while (running < S.serve.max_jobs) {
			struct dbus_err err = {{0}};
			struct dbus_msg m;
			struct serve_job *j = free_slot(jobs);
			r = dbus_conn_recv(&S.conn, &m, clock_deadline(0), &err);
			if (r == DBUS_TIMED_OUT)
				break;
			if (r < 0)
				cli_die(EXIT_FAIL, "%s", err.msg);
			serve_one(&m, j);
			running += j->pid > 0;
			dbus_msg_free(&m);
		}
		r = poll(pfd, running < S.serve.max_jobs ? 2 : 1, running ? -1 : clock_poll_ms(deadline));
		if (r < 0 && errno != EINTR)
			cli_die_errno(EXIT_FAIL, errno, "poll");
		if (r > 0 && pfd[0].revents && sigev_take(sigfd, &child)) {
			drop_jobs(jobs);
			return EXIT_OK;
		}
		reap_jobs(jobs, &running);
		if (r == 0 && !running && clock_expired(deadline))
			cli_die(EXIT_TIMEOUT, "no more calls within the timeout");
	}
}

static int bus_serve_main(int argc, char **argv)
{
	int sigfd;

	options(argc, argv, 7, -1);
	S.serve.name = S.ops[0];
	S.serve.path = S.ops[1];
	S.serve.iface = S.ops[2];
	S.serve.method = S.ops[3];
	S.serve.in_sig = S.ops[4];
	S.serve.out_sig = S.ops[5];
	S.serve.cmd = (const char *const *)S.ops + 6;
	check_bus_name(S.serve.name);
	if (S.serve.name[0] == ':')
		cli_usage_error("invalid bus name '%s': a unique name cannot be requested", S.serve.name);
	check_path(S.serve.path);
	check_interface(S.serve.iface);
	check_member(S.serve.method);
	check_sig(S.serve.in_sig);
	check_sig(S.serve.out_sig);
	sigfd = sigev_open(SIGEV_CHILD);
	if (sigfd < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	connect_bus();
	request_name(S.serve.name);
	if (S.ready_file)
		write_ready(S.ready_file);
	return serve_loop(sigfd);
}

/* ---- bus-bridge ------------------------------------------------------------ */

/* bus-bridge joins its stdin and stdout to the bus, as systemd-stdio-bridge
 * does, for a client at the far end of ssh.  It authenticates to the bus
 * itself (as whoever runs it) and sends no Hello; it then speaks the server
 * side of SASL to its client (any EXTERNAL identity or ANONYMOUS: the
 * client's uid belongs to another machine) with the bus's guid, and from
 * BEGIN on copies bytes both ways unchanged: the client's Hello reaches the
 * bus and the client gets its own unique name.  After authentication both
 * directions are one byte stream each, so a relay of bytes carries the
 * messages exactly.  It ends when either side closes. */
static int bus_bridge_main(int argc, char **argv)
{
	struct dbus_err err = {{0}};
	struct relay_result rr;
	const uint8_t *early;
	size_t nearly = 0;
	int sigfd, r;

	options(argc, argv, 0, 0);
	connect_bus_as(0);
	/* Non-blocking: the handshake keeps its deadline, and later neither
	 * direction of the relay waits on the other. */
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	r = dbus_auth_serve(0, 1, S.conn.guid, S.deadline, S.bridge.early, sizeof S.bridge.early, &nearly, &err);
	if (r == DBUS_TIMED_OUT)
		cli_die(EXIT_TIMEOUT, "client: %s", err.msg);
	if (r < 0)
		cli_die(EXIT_FAIL, "client: %s", err.msg);
	/* What each side sent right behind the handshake goes first. */
	if (io_send_all(S.conn.fd, S.bridge.early, nearly, CLOCK_NO_DEADLINE) < 0)
		cli_die_errno(EXIT_FAIL, errno, "write to the bus");
	early = dbus_conn_unread(&S.conn, &nearly);
	if (io_send_all(1, early, nearly, CLOCK_NO_DEADLINE) < 0)
		cli_die_errno(EXIT_FAIL, errno, "write to the client");
	sigfd = sigev_open(0);
	if (sigfd < 0)
		cli_die_errno(EXIT_FAIL, errno, "signals");
	relay_run_flags(0, 1, S.conn.fd, -1, sigfd, RELAY_END_ON_PEER_EOF, &rr);
	if (rr.end == RELAY_DONE && rr.peer_first)
		cli_die(EXIT_FAIL, "the bus closed the connection");
	if (rr.end == RELAY_ERROR)
		cli_die_errno(EXIT_FAIL, rr.err, "%s", rr.what);
	return 0; /* the client hung up, or a signal ended us */
}

/* ---- bus-diagram ----------------------------------------------------------- */

struct diagram_run {
	const char *file;     /* the input's name in messages */
	struct dbus_diag *d;
	struct capture cap;
	struct dbus_diag_text text;
	uint64_t bad;         /* records that are not valid D-Bus messages */
	uint64_t bad_at;      /* the first one's offset */
	char bad_why[256];
	char stop[300];       /* why reading stopped early */
	int fd, sigfd;        /* the capture; stop signals (sigev) */
	int stopped;          /* a stop signal ended the reading */
};

/* One record from the capture into the model. */
static int diagram_record(const struct capture_record *r, void *ctx)
{
	struct diagram_run *run = ctx;
	struct dbus_err err = {{0}};

	if (r->linktype != DBUS_PCAP_LINKTYPE) {
		snprintf(run->stop, sizeof run->stop, "record at byte %llu has link type %u, not D-Bus (%u)",
			 (unsigned long long)r->offset, r->linktype, DBUS_PCAP_LINKTYPE);
		return 1;
	}
	if (dbus_diag_add(run->d, r->data, r->len, r->ts_ns, &err) < 0 && run->bad++ == 0) {
		run->bad_at = r->offset;
		snprintf(run->bad_why, sizeof run->bad_why, "%s", err.msg);
	}
	return 0;
}

/* Before a read that may wait: what was printed goes out, then wait for
 * input or a stop signal (SIGINT, SIGTERM, SIGHUP as events: sigev), which
 * ends the reading as the end of the capture would. */
static int diagram_wait(void *ctx)
{
	struct diagram_run *run = ctx;
	struct pollfd p[2] = {{run->fd, POLLIN, 0}, {run->sigfd, POLLIN, 0}};

	fflush(stdout);
	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	int child = 0;
	if ((p[1].revents & POLLIN) && sigev_take(run->sigfd, &child))
		run->stopped = 1;
	return run->stopped;
}

static void diagram_text_event(const struct dbus_diag *d, uint32_t e, void *ctx)
{
	struct diagram_run *run = ctx;
	dbus_diag_text_event(stdout, &run->text, d, e);
}

/* --width's default: $COLUMNS, else 80. */
static int diagram_width(void)
{
	const char *c = getenv("COLUMNS");
	char *end;
	long w = c ? strtol(c, &end, 10) : 0;
	return c && *c && !*end && w >= 20 && w <= 1024 ? (int)w : 80;
}

static int diagram_utf8(void)
{
	setlocale(LC_CTYPE, "");
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

/* Read the capture into run->d.  A capture that stops early (cut, or a
 * corrupt block) leaves why in run->stop; exit 2 if it was no D-Bus
 * capture at all. */
static void diagram_read(struct diagram_run *run, int fd)
{
	enum capture_result end = CAPTURE_END;
	int r = capture_read_fd(&run->cap, fd, diagram_record, diagram_wait, run, &end);
	uint64_t records = run->cap.records;
	int at_record = *run->stop != 0; /* stopped by a record of another link type */

	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "read %s", run->file);
	if (run->stopped) /* by the user: what was read is drawn, exit 0 */
		return;
	if (r == 0 && run->cap.format == CAPTURE_PCAP && run->cap.linktype != DBUS_PCAP_LINKTYPE)
		snprintf(run->stop, sizeof run->stop, "link type %u, not D-Bus (%u)", run->cap.linktype,
			 DBUS_PCAP_LINKTYPE);
	if (*run->stop) {
		records -= at_record; /* that record is not drawn */
		if (records == 0) /* nothing to draw: not a D-Bus capture at all */
			cli_die(EXIT_USAGE, "%s: %s", run->file, run->stop);
	} else if (end == CAPTURE_BAD && records == 0) {
		cli_die(EXIT_USAGE, "%s: %s", run->file, run->cap.err);
	} else if (end == CAPTURE_BAD || end == CAPTURE_CUT) {
		snprintf(run->stop, sizeof run->stop, "%s", run->cap.err);
	}
	if (*run->stop)
		snprintf(run->stop + strlen(run->stop), sizeof run->stop - strlen(run->stop),
			 "; drew the %llu whole records before it", (unsigned long long)records);
}

/* One line for what went wrong with the capture, if anything: exit 1. */
static int diagram_complain(const struct diagram_run *run)
{
	char bad[400] = "";

	if (run->bad)
		snprintf(bad, sizeof bad, "%llu records are not valid D-Bus messages, left out (the first at byte %llu: %s)",
			 (unsigned long long)run->bad, (unsigned long long)run->bad_at, run->bad_why);
	if (*run->stop)
		cli_warn("%s: %s%s%s", run->file, run->stop, *bad ? "; " : "", bad);
	else if (*bad)
		cli_warn("%s: %s", run->file, bad);
	return *run->stop || *bad ? EXIT_FAIL : EXIT_OK;
}

static int bus_diagram_main(int argc, char **argv)
{
	struct dbus_diag_opts *o = &S.diagram.opts;
	struct diagram_run run = {.file = "standard input"};
	int fd = 0, status;

	*o = (struct dbus_diag_opts){.since_ns = -1, .until_ns = -1, .max = 5000};
	S.diagram.only = calloc((size_t)argc, sizeof *S.diagram.only);
	S.diagram.hide = calloc((size_t)argc, sizeof *S.diagram.hide);
	if (!S.diagram.only || !S.diagram.hide)
		cli_die(EXIT_FAIL, "out of memory");
	S.diagram.out = OPT_DIAG_SVG;
	S.diagram.width = diagram_width();
	options(argc, argv, 0, 1);
	if (S.print_json && S.diagram.out != OPT_DIAG_STATS)
		cli_usage_error("--json goes with --stats");
	o->only = S.diagram.only;
	o->hide = S.diagram.hide;
	if (S.nops > 0 && strcmp(S.ops[0], "-") != 0) {
		run.file = S.ops[0];
		if ((fd = open(run.file, O_RDONLY | O_CLOEXEC)) < 0)
			cli_die_errno(EXIT_USAGE, errno, "open %s", run.file);
	}
	if (S.diagram.out == OPT_DIAG_TEXT) { /* live: each event as it is read */
		dbus_diag_text_init(&run.text, S.diagram.width, diagram_utf8());
		o->on_event = diagram_text_event;
		o->ctx = &run;
	}
	run.fd = fd;
	if ((run.sigfd = sigev_open(0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signals");
	signal(SIGPIPE, SIG_DFL); /* a closed stdout ends us quietly, as any filter */
	run.d = dbus_diag_new(o);
	diagram_read(&run, fd);
	if (S.diagram.out != OPT_DIAG_TEXT)
		dbus_diag_finish(run.d);
	switch (S.diagram.out) {
	case OPT_DIAG_SVG: dbus_diag_svg(stdout, run.d, 0); break;
	case OPT_DIAG_HTML: dbus_diag_svg(stdout, run.d, 1); break;
	case OPT_DIAG_MERMAID: dbus_diag_mermaid(stdout, run.d); break;
	case OPT_DIAG_STATS: dbus_diag_stats(stdout, run.d, S.print_json); break;
	case OPT_DIAG_TEXT: dbus_diag_text_end(stdout, &run.text, run.d); break;
	}
	status = diagram_complain(&run);
	if (run.d->left_out)
		cli_warn("left out %llu of %llu messages beyond --max %llu (their statistics are counted)",
			 (unsigned long long)run.d->left_out, (unsigned long long)run.d->kept,
			 (unsigned long long)o->max);
	dbus_diag_free(run.d);
	free(S.diagram.only);
	free(S.diagram.hide);
	return status;
}

/* ---- completion: the names on the default bus ----------------------------- */

static void complete_names(void)
{
	struct dbus_err err = {{0}};
	const char *addr = dbus_default_address(DBUS_BUS_SESSION, &err);
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, "ListNames"), reply;

	if (!addr || dbus_conn_open(&S.conn, addr, clock_deadline(1000), &err) < 0)
		return;
	if (dbus_conn_call(&S.conn, &m, &reply, clock_deadline(1000), &err) == 0) {
		if (reply.type == DBUS_METHOD_RETURN && reply.nbody == 1 && reply.body[0].type == 'a')
			for (uint32_t i = 0; i < reply.body[0].n; i++)
				puts(reply.body[0].v.items[i].v.str);
		dbus_msg_free(&reply);
	}
	dbus_conn_close(&S.conn);
}

/* ---- the table ------------------------------------------------------------ */

#define O_BUS                                                                          \
	{OPT_SESSION, "session", NULL, "use the session bus (the default)", NULL},     \
	{OPT_SYSTEM, "system", NULL, "use the system bus", NULL},                      \
	{OPT_ADDRESS, "address", "ADDR", "use the bus at ADDR (unix:path=..., unixexec:path=...)", \
	 NULL},                                                                        \
	{'H', "host", "[USER@]HOST", "use the bus on HOST: ssh -xT HOST ipcbox bus-bridge", "host"}, \
	{'t', "timeout", "DURATION", "give up after DURATION (default 25s; exit 124)", NULL}
#define O_JSON {'j', "json", NULL, "print JSON (busctl --json=short shape)", NULL}
#define O_NO_AUTO_START {OPT_NO_AUTO_START, "no-auto-start", NULL, "do not let the bus start DEST", NULL}
#define O_EXPECT_REPLY \
	{OPT_EXPECT_REPLY, "expect-reply", "BOOL", "'no': send, flagged NO_REPLY_EXPECTED, and exit", NULL}

static const struct opt call_opts[] = {O_BUS, O_JSON, O_NO_AUTO_START, O_EXPECT_REPLY, {0}};
static const struct opt emit_opts[] = {
	O_BUS, {OPT_DEST, "dest", "NAME", "send the signal to NAME only", NULL}, {0}};
static const struct opt get_opts[] = {O_BUS, O_JSON, O_NO_AUTO_START, {0}};
static const struct opt set_opts[] = {O_BUS, O_NO_AUTO_START, O_EXPECT_REPLY, {0}};
static const struct opt list_opts[] = {
	O_BUS, O_JSON, {OPT_ACTIVATABLE, "activatable", NULL, "also list names the bus can start", NULL},
	{0}};
static const struct opt introspect_opts[] = {
	O_BUS, O_JSON, O_NO_AUTO_START, {OPT_XML, "xml", NULL, "print the raw XML document", NULL}, {0}};
static const struct opt tree_opts[] = {O_BUS, O_JSON, O_NO_AUTO_START, {0}};
static const struct opt wait_opts[] = {
	O_BUS, O_JSON,
	{OPT_SIGNAL, "signal", NULL, "operands are PATH INTERFACE SIGNAL: wait for that signal", NULL},
	{0}};
static const struct opt monitor_opts[] = {
	O_BUS, {'j', "json", NULL, "print one JSON object per message", NULL},
	{OPT_PCAP, "pcap", "FILE", "write a libpcap capture (link type DBUS) to FILE ('-': stdout)", "file"},
	{OPT_PROFILE, "profile", NULL, "print dbus-monitor --profile's tab-separated lines", NULL},
	{OPT_COUNT, "count", "N", "exit after N messages", NULL},
	{OPT_READY_FILE, "ready-file", "FILE", "write our unique name to FILE once monitoring has begun", "file"},
	{0}};

static const struct opt listen_opts[] = {
	O_BUS, {'j', "json", NULL, "print one JSON object per signal", NULL},
	{'c', "count", "COUNT", "exit after COUNT signals (with -e: the last command's status)", NULL},
	{'v', "verbose", NULL, "put the time and the serial in front of each line", NULL},
	{'F', "format", "FORMAT", "print %s %p %i %m %g %a %t (sender, path, interface, member, signature, arguments, time)", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD per signal, its arguments on stdin, BUS_* set", NULL},
	{OPT_READY_FILE, "ready-file", "FILE", "write our unique name to FILE once subscribed", "file"},
	{0}};

static const struct opt serve_opts[] = {
	O_BUS,
	{OPT_ARGV, "argv", NULL, "give CMD the arguments as words after its own, one per value", NULL},
	{'j', "jobs", "N", "run up to N commands at once (default 1)", NULL},
	{OPT_READY_FILE, "ready-file", "FILE", "write our unique name to FILE once NAME is ours", "file"},
	{0}};

static const struct opt bridge_opts[] = {O_BUS, {0}};

static const struct opt diagram_opts[] = {
	{OPT_DIAG_SVG, "svg", NULL, "draw an SVG document (the default)", NULL},
	{OPT_DIAG_HTML, "html", NULL, "an HTML page: the SVG and the statistics table", NULL},
	{OPT_DIAG_MERMAID, "mermaid", NULL, "a Mermaid sequenceDiagram", NULL},
	{OPT_DIAG_TEXT, "text", NULL, "a ladder for the terminal, each message as it is read", NULL},
	{OPT_DIAG_STATS, "stats", NULL, "calls, errors and times per method, count per signal", NULL},
	{'j', "json", NULL, "with --stats: one JSON array", NULL},
	{OPT_DIAG_ONLY, "only", "NAME", "keep messages to or from NAME (repeatable)", NULL},
	{OPT_DIAG_HIDE, "hide", "NAME", "leave out messages to or from NAME (repeatable)", NULL},
	{OPT_DIAG_HIDE_DRIVER, "hide-driver", NULL, "leave out the bus driver, org.freedesktop.DBus", NULL},
	{OPT_DIAG_MATCH, "match", "RULE", "keep messages that match the D-Bus match rule RULE", NULL},
	{OPT_DIAG_SINCE, "since", "DURATION", "leave out what came before DURATION from the start", NULL},
	{OPT_DIAG_UNTIL, "until", "DURATION", "leave out what came after DURATION from the start", NULL},
	{OPT_DIAG_MAX, "max", "N", "draw at most N messages (default 5000; 0: no limit)", NULL},
	{OPT_DIAG_WIDTH, "width", "N", "--text: N columns (default $COLUMNS, else 80)", NULL},
	{0}};

const struct applet bus_applets[] = {
	{"bus-call", bus_call_main, "DEST PATH INTERFACE METHOD [SIGNATURE [ARG]...]",
	 "call a method and print its reply", call_opts, complete_names},
	{"bus-emit", bus_emit_main, "PATH INTERFACE SIGNAL [SIGNATURE [ARG]...]", "emit a signal",
	 emit_opts, complete_names},
	{"bus-get", bus_get_main, "DEST PATH INTERFACE PROPERTY", "print a property's value", get_opts,
	 complete_names},
	{"bus-set", bus_set_main, "DEST PATH INTERFACE PROPERTY SIGNATURE VALUE...",
	 "set a property", set_opts, complete_names},
	{"bus-list", bus_list_main, "[--activatable]", "list the names on the bus, with their processes",
	 list_opts, NULL},
	{"bus-introspect", bus_introspect_main, "DEST PATH",
	 "list an object's interfaces, methods, signals and properties with values",
	 introspect_opts, complete_names},
	{"bus-tree", bus_tree_main, "DEST", "list the object paths of a service", tree_opts,
	 complete_names},
	{"bus-wait", bus_wait_main, "NAME | --signal PATH INTERFACE SIGNAL",
	 "wait until a name has an owner, or a signal arrives", wait_opts, complete_names},
	{"bus-listen", bus_listen_main, "[MATCH_RULE]... [-c COUNT] [-v | --json | -F FORMAT | -e CMD]",
	 "print the signals that match, or run a command for each: a shell slot", listen_opts, NULL},
	{"bus-monitor", bus_monitor_main, "[MATCH_RULE]... [--json | --pcap FILE | --profile] [--count N]",
	 "print the messages on the bus, as dbus-monitor", monitor_opts, NULL},
	{"bus-diagram", bus_diagram_main,
	 "[--svg | --html | --mermaid | --text | --stats [--json]] [--only NAME]... [--hide NAME]... [--hide-driver] [--match RULE] [--since S] [--until S] [--max N] [--width N] [FILE]",
	 "draw a D-Bus capture (pcap, pcapng) as a sequence diagram", diagram_opts, NULL},
	{"bus-serve", bus_serve_main, "NAME PATH INTERFACE METHOD IN_SIG OUT_SIG [--argv] [-j N] -- CMD [ARG]...",
	 "answer METHOD calls by running CMD: a script becomes a D-Bus service", serve_opts, NULL},
	{"bus-bridge", bus_bridge_main, "[--session | --system | --address ADDR]",
	 "join stdin and stdout to the bus, as systemd-stdio-bridge (what -H runs remotely)",
	 bridge_opts, NULL},
	{0},
};
