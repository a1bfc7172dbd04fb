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
#include "../lib/clock.h"

#include "../lib/dbus/client.h"
#include "../lib/dbus/dbus.h"
#include "../lib/dbus/introspect.h"
#include "../lib/dbus/match.h"
#include "../lib/dbus/pcap.h"
#include "../lib/io.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
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
};

static struct {
	int system, json, no_auto_start, no_reply, activatable, xml, signal;
	int tree_count; /* objects bus-tree has visited */
	const char *address, *dest, *pcap, *ready_file;
	uint64_t count;  /* bus-monitor --count, 0: no limit */
	int timeout_set; /* --timeout given */
	int64_t deadline; /* monotonic ms, -1: none */
	char **ops;       /* operands */
	int nops;
	struct dbus_conn conn;
	struct dbus_arena *arena;
	const char *const *serve_cmd; /* bus-serve: CMD [ARG]... */
	FILE *mon_out;   /* bus-monitor: stdout, or the --pcap file */
	int sigfd;       /* bus-monitor: SIGINT/SIGTERM/SIGHUP as events (sigev) */
} bus;

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

/* Parse every option of every bus applet (cli_next refuses the ones the
 * running applet's table lacks), then check the operand count. */
static void options(int argc, char **argv, int min, int max)
{
	int64_t timeout = 25000;
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case OPT_SESSION: bus.system = 0; break;
		case OPT_SYSTEM: bus.system = 1; break;
		case OPT_ADDRESS: bus.address = arg; break;
		case 't':
			timeout = cli_duration(arg, "timeout", CLI_ALLOW_INF);
			bus.timeout_set = 1;
			break;
		case 'j': bus.json = 1; break;
		case OPT_NO_AUTO_START: bus.no_auto_start = 1; break;
		case OPT_EXPECT_REPLY: bus.no_reply = !parse_bool(arg); break;
		case OPT_ACTIVATABLE: bus.activatable = 1; break;
		case OPT_XML: bus.xml = 1; break;
		case OPT_SIGNAL: bus.signal = 1; break;
		case OPT_DEST: bus.dest = arg; break;
		case OPT_PCAP: bus.pcap = arg; break;
		case OPT_COUNT: bus.count = cli_uint(arg, "count", 1, UINT64_MAX); break;
		case OPT_READY_FILE: bus.ready_file = arg; break;
		}
	}
	if (bus.signal) /* bus-wait --signal PATH INTERFACE SIGNAL */
		min = max = 3;
	cli_operands(&c, min, max);
	bus.ops = argv + c.ind;
	bus.nops = argc - c.ind;
	bus.deadline = timeout < 0 ? -1 : clock_now_ms() + timeout;
	bus.arena = dbus_arena_new();
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

/* Connect to the chosen bus; a malformed address is a usage error. */
static void connect_bus(void)
{
	struct dbus_addr addrs[DBUS_MAX_ADDRS]; /* only to refuse a bad address as a usage error */
	struct dbus_err err = {{0}};
	const char *addr = bus.address;
	int64_t left = -1;
	int r;

	if (!addr)
		addr = dbus_default_address(bus.system ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION, &err);
	if (!addr)
		cli_die(EXIT_FAIL, "%s", err.msg);
	if (dbus_address_parse(addr, addrs, DBUS_MAX_ADDRS, &err) < 0)
		cli_die(EXIT_USAGE, "invalid address '%s': %s", addr, err.msg);
	if (bus.deadline >= 0) {
		left = bus.deadline - clock_now_ms();
		if (left < 0)
			left = 0;
	}
	r = dbus_conn_open(&bus.conn, addr, left, &err);
	if (r == -2)
		cli_die(EXIT_TIMEOUT, "%s", err.msg);
	if (r < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
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
	if (bus.no_auto_start)
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

	if (bus.nops <= first)
		return;
	if (dbus_text_parse(bus.arena, bus.ops[first], bus.nops - first - 1, bus.ops + first + 1,
			    &m->body, &m->nbody, &err) < 0)
		cli_usage_error("%s", err.msg);
	m->signature = bus.ops[first];
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
	int r = dbus_conn_call(&bus.conn, m, reply, bus.deadline, &err);

	if (r == -2)
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

	if (dbus_conn_send(&bus.conn, m, &err) < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
}

/* After sending without a reply: a Ping to the bus, answered only once the
 * bus has handled everything we sent before it. */
static void flush_bus(void)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, "org.freedesktop.DBus.Peer", "Ping");
	struct dbus_msg reply;

	call(&m, &reply);
	fail_on_error(&reply);
	dbus_msg_free(&reply);
}

/* A reply body in the chosen format, one line. */
static void print_body(const char *sig, const struct dbus_value *vals, uint32_t n)
{
	if (bus.json)
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
	if (bus.no_reply) {
		m->flags |= DBUS_FLAG_NO_REPLY_EXPECTED;
		send_msg(m);
		flush_bus();
		return 0;
	}
	call(m, reply);
	fail_on_error(reply);
	return 1;
}

static int call_main(int argc, char **argv)
{
	struct dbus_msg m, reply;

	options(argc, argv, 4, -1);
	m = method_call(check_bus_name(bus.ops[0]), check_path(bus.ops[1]),
			check_interface(bus.ops[2]), check_member(bus.ops[3]));
	text_body(&m, 4);
	connect_bus();
	if (!call_or_send(&m, &reply))
		return 0;
	print_body(reply.signature, reply.body, reply.nbody);
	dbus_msg_free(&reply);
	return 0;
}

static int emit_main(int argc, char **argv)
{
	struct dbus_msg m = {.type = DBUS_SIGNAL, .signature = ""};

	options(argc, argv, 3, -1);
	m.path = check_path(bus.ops[0]);
	m.interface = check_interface(bus.ops[1]);
	m.member = check_member(bus.ops[2]);
	if (bus.dest)
		m.destination = check_bus_name(bus.dest);
	text_body(&m, 3);
	connect_bus();
	send_msg(&m);
	flush_bus();
	return 0;
}

/* org.freedesktop.DBus.Properties.METHOD(INTERFACE, PROPERTY[, value]). */
static struct dbus_msg properties_call(const char *method, struct dbus_value *args, uint32_t n)
{
	struct dbus_msg m = method_call(check_bus_name(bus.ops[0]), check_path(bus.ops[1]),
					"org.freedesktop.DBus.Properties", method);

	args[0] = string_value(check_interface(bus.ops[2]));
	if (n > 1)
		args[1] = string_value(check_member(bus.ops[3]));
	m.signature = n == 1 ? "s" : n == 2 ? "ss" : "ssv";
	m.body = args;
	m.nbody = n;
	return m;
}

/* One value as busctl get-property prints it: terse "SIG VALUE", or JSON
 * {"type":SIG,"data":VALUE}. */
static void print_one(const struct dbus_value *v)
{
	if (bus.json) {
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

static int get_main(int argc, char **argv)
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

static int set_main(int argc, char **argv)
{
	struct dbus_value args[3], *val;
	struct dbus_msg m, reply;
	struct dbus_err err = {{0}};
	const char *sig;
	uint32_t n;

	options(argc, argv, 6, -1);
	m = properties_call("Set", args, 3);
	sig = bus.ops[4];
	if (!dbus_valid_single_type(sig, strlen(sig)))
		cli_usage_error("invalid property signature '%s' (one complete type)", sig);
	if (dbus_text_parse(bus.arena, sig, bus.nops - 5, bus.ops + 5, &val, &n, &err) < 0)
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
			*hit = (struct name){.name = dbus_arena_strndup(bus.arena, s, strlen(s))};
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
				names[i].owner = dbus_arena_strndup(bus.arena, r->body[0].v.str, r->body[0].n);
			names[i].owner_serial = 0;
			return 1;
		}
	}
	return 0;
}

/* The pid and owner of every running name, LIST_BATCH queries at a time. */
static void lookup_owners(struct name *names, uint32_t n)
{
	struct dbus_value *args = dbus_arena_alloc(bus.arena, sizeof *args * (n ? n : 1));
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
			int rc = dbus_conn_recv(&bus.conn, &r, bus.deadline, &err);
			if (rc == -2)
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

static int list_main(int argc, char **argv)
{
	struct dbus_msg names_reply, act_reply;
	const struct dbus_value *running, *act = NULL;
	struct name *names;
	uint32_t n = 0;

	options(argc, argv, 0, 0);
	connect_bus();
	driver_call("ListNames", "", NULL, 0, &names_reply);
	running = string_list(&names_reply);
	if (bus.activatable) {
		driver_call("ListActivatableNames", "", NULL, 0, &act_reply);
		act = string_list(&act_reply);
	}
	names = dbus_arena_alloc(bus.arena, sizeof *names * ((size_t)running->n + (act ? act->n : 0) + 1));
	for (uint32_t i = 0; i < running->n; i++)
		names[n++] = (struct name){.name = running->v.items[i].v.str, .running = 1};
	qsort(names, n, sizeof *names, by_name);
	if (act)
		add_activatable(names, &n, act);
	lookup_owners(names, n);
	if (bus.json)
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
	struct dbus_msg m = method_call(bus.ops[0], bus.ops[1], "org.freedesktop.DBus.Properties", "GetAll");

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
	out = dbus_arena_strndup(bus.arena, buf + skip, len - skip);
	free(buf);
	return out;
}

/* A member's flags, space-separated, or "-": in the arena. */
static const char *flags_text(const struct dbus_intro_member *m)
{
	static const struct {
		unsigned flag;
		const char *text;
	} names[] = {{INTRO_DEPRECATED, " deprecated"}, {INTRO_NO_REPLY, " no-reply"},
		     {INTRO_CONST, " const"}, {INTRO_EMITS_CHANGE, " emits-change"},
		     {INTRO_EMITS_INVALIDATION, " emits-invalidation"}, {INTRO_WRITABLE, " writable"}};
	char buf[96];
	size_t len = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(m->flags & names[i].flag))
			continue;
		if (names[i].flag == INTRO_WRITABLE && m->kind != INTRO_PROPERTY)
			continue;
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", names[i].text);
	}
	return len ? dbus_arena_strndup(bus.arena, buf + 1, len - 1) : "-";
}

/* One row of the table: NAME TYPE SIGNATURE RESULT/VALUE FLAGS. */
struct row {
	const char *col[5];
	const struct dbus_value *value; /* a property's value, for --json */
};

static int member_order(const void *a, const void *b)
{
	const struct dbus_intro_member *x = a, *y = b;
	static const char rank[] = {[INTRO_METHOD] = 0, [INTRO_PROPERTY] = 1, [INTRO_SIGNAL] = 2};
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
	char *name = dbus_arena_alloc(bus.arena, strlen(m->name) + 2);
	const char *flags = flags_text(m);

	name[0] = '.';
	strcpy(name + 1, m->name);
	r->col[0] = name;
	r->col[1] = m->kind == INTRO_METHOD ? "method" : m->kind == INTRO_SIGNAL ? "signal" : "property";
	r->col[2] = m->in[0] ? m->in : "-";
	r->col[3] = m->kind == INTRO_METHOD && m->out[0] ? m->out : "-";
	r->col[4] = flags;
	if (m->kind == INTRO_PROPERTY && (r->value = find_property(all, m->name)))
		r->col[3] = terse_value(r->value);
}

/* Rows for every interface (sorted, as busctl does) and its members
 * (methods, properties, signals, each sorted by name), with property values
 * from one Properties.GetAll per interface that has properties. */
static struct row *intro_rows(struct dbus_intro *in, int *nrows)
{
	struct row *rows = dbus_arena_alloc(bus.arena, sizeof *rows * (size_t)(in->nmembers + in->nifaces + 1));
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
			has_props |= in->members[k].kind == INTRO_PROPERTY;
		if (has_props) /* kept until exit: rows point into the reply */
			all = get_all(iface, dbus_arena_alloc(bus.arena, sizeof(struct dbus_msg)));
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

static int introspect_main(int argc, char **argv)
{
	struct dbus_msg reply;
	struct dbus_intro in;
	struct dbus_err err = {{0}};
	struct row *rows;
	const char *xml;
	int n;

	options(argc, argv, 2, 2);
	check_bus_name(bus.ops[0]);
	check_path(bus.ops[1]);
	connect_bus();
	xml = introspect(bus.ops[0], bus.ops[1], &reply, 0);
	if (bus.xml) {
		fputs(xml, stdout);
		if (!*xml || xml[strlen(xml) - 1] != '\n')
			putchar('\n');
		dbus_msg_free(&reply);
		return 0;
	}
	if (dbus_intro_parse(&in, xml, strlen(xml), &err) < 0)
		cli_die(EXIT_FAIL, "%s %s: %s", bus.ops[0], bus.ops[1], err.msg);
	dbus_msg_free(&reply);
	rows = intro_rows(&in, &n);
	if (bus.json)
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

	if (++bus.tree_count > TREE_MAX_NODES)
		cli_die(EXIT_FAIL, "more than %d objects; stopping", TREE_MAX_NODES);
	if (bus.json) {
		fputs(bus.tree_count > 1 ? "," : "", stdout);
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

static int tree_main(int argc, char **argv)
{
	options(argc, argv, 1, 1);
	check_bus_name(bus.ops[0]);
	connect_bus();
	if (bus.json)
		putchar('[');
	tree_walk(bus.ops[0], "/", 0);
	if (bus.json)
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
	int r = dbus_conn_recv(&bus.conn, m, bus.deadline, &err);

	if (r == 0)
		r = dbus_conn_answer(&bus.conn, m, bus.deadline, &err);
	if (r == -2)
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
	char rule[400];
	struct dbus_value arg = string_value(name);
	struct dbus_msg reply, m;
	char what[300];

	snprintf(rule, sizeof rule,
		 "type='signal',sender='" DRIVER_NAME "',interface='" DRIVER_NAME
		 "',member='NameOwnerChanged',arg0='%s'", name);
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
	char rule[1024], what[600];
	struct dbus_msg m;

	if (snprintf(rule, sizeof rule, "type='signal',path='%s',interface='%s',member='%s'", path,
		     iface, member) >= (int)sizeof rule)
		cli_usage_error("match rule longer than %zu bytes", sizeof rule - 1);
	add_match(rule);
	snprintf(what, sizeof what, "no signal %.250s.%.250s", iface, member);
	for (;;) {
		next_message(&m, what);
		if (m.type == DBUS_SIGNAL && str_is(m.path, path) && str_is(m.interface, iface) &&
		    str_is(m.member, member)) {
			if (bus.json || m.nbody > 0)
				print_body(m.signature, m.body, m.nbody);
			dbus_msg_free(&m);
			return 0;
		}
		dbus_msg_free(&m);
	}
}

static int wait_main(int argc, char **argv)
{
	options(argc, argv, 1, 1);
	if (bus.signal) {
		check_path(bus.ops[0]);
		check_interface(bus.ops[1]);
		check_member(bus.ops[2]);
		connect_bus();
		return wait_signal(bus.ops[0], bus.ops[1], bus.ops[2]);
	}
	check_bus_name(bus.ops[0]);
	connect_bus();
	return wait_name(bus.ops[0]);
}

/* ---- bus-monitor ---------------------------------------------------------- */

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

/* The old way: eavesdrop=true in front of every rule (alone if none). */
static void eavesdrop(void)
{
	char rule[DBUS_MATCH_RULE_MAX + 32];

	for (int i = 0; i < bus.nops || (i == 0 && bus.nops == 0); i++) {
		const char *user = bus.nops ? bus.ops[i] : "";
		struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, "AddMatch");
		struct dbus_value arg;
		struct dbus_msg reply;

		snprintf(rule, sizeof rule, "eavesdrop=true%s%s", *user ? "," : "", user);
		arg = string_value(rule);
		m.signature = "s";
		m.body = &arg;
		m.nbody = 1;
		call(&m, &reply);
		rule_error(&reply);
		dbus_msg_free(&reply);
	}
}

/* BecomeMonitor(as rules, u 0); after it we never send again. */
static void become_monitor(void)
{
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, "org.freedesktop.DBus.Monitoring",
					"BecomeMonitor");
	struct dbus_value args[2] = {{.type = 'a', .sig = "as", .n = (uint32_t)bus.nops},
				     {.type = 'u', .sig = "u"}};
	struct dbus_msg reply;

	args[0].v.items = dbus_arena_alloc(bus.arena, sizeof(struct dbus_value) * (size_t)(bus.nops + 1));
	for (int i = 0; i < bus.nops; i++)
		args[0].v.items[i] = string_value(bus.ops[i]);
	m.signature = "asu";
	m.body = args;
	m.nbody = 2;
	call(&m, &reply);
	if (refused(&reply))
		eavesdrop();
	else
		rule_error(&reply);
	dbus_msg_free(&reply);
}

static const char *kind_json(int type)
{
	switch (type) {
	case DBUS_METHOD_CALL: return "method_call";
	case DBUS_METHOD_RETURN: return "method_return";
	case DBUS_ERROR: return "error";
	case DBUS_SIGNAL: return "signal";
	}
	return "unknown";
}

static void json_field(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	if (value)
		json_cstring(stdout, value);
	else
		fputs("null", stdout);
}

static void print_json_msg(const struct dbus_msg *m, const struct timeval *tv)
{
	printf("{\"time\":%lld.%06ld,\"type\":\"%s\"", (long long)tv->tv_sec, (long)tv->tv_usec,
	       kind_json(m->type));
	json_field("sender", m->sender);
	json_field("destination", m->destination);
	printf(",\"serial\":%u", m->serial);
	if (m->reply_serial)
		printf(",\"reply_serial\":%u", m->reply_serial);
	else
		fputs(",\"reply_serial\":null", stdout);
	json_field("path", m->path);
	json_field("interface", m->interface);
	json_field("member", m->member);
	json_field("error_name", m->error_name);
	json_field("signature", m->signature);
	fputs(",\"body\":", stdout);
	dbus_print_json(stdout, m->signature, m->body, m->nbody);
	fputs("}\n", stdout);
}

/* libpcap: the global header in host order (readers detect the order from
 * the magic), then per message {sec, usec, incl_len, orig_len} + bytes. */
/* Flush what one message produced; a closed pipe ends quietly, and so
 * does a stop signal that cut the write short (after one more try). */
static void mon_flush(void)
{
	if (fflush(bus.mon_out) == 0 && !ferror(bus.mon_out))
		return;
	if (errno == EPIPE)
		_exit(EXIT_OK);
	if (errno == EINTR && *sigev_stop_flag()) {
		sigev_hold();
		clearerr(bus.mon_out);
		if (fflush(bus.mon_out) == 0)
			exit(EXIT_OK);
	}
	cli_die_errno(EXIT_FAIL, errno ? errno : EIO, "write %s", bus.pcap ? bus.pcap : "standard output");
}

static void mon_output(const struct dbus_msg *m, const uint8_t *raw, size_t len)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (bus.pcap)
		dbus_pcap_record(bus.mon_out, raw, len, tv.tv_sec, tv.tv_usec);
	else if (bus.json)
		print_json_msg(m, &tv);
	else
		dbus_print_monitor(stdout, m, (long long)tv.tv_sec, (long)tv.tv_usec);
	mon_flush();
}

/* The bus telling us about our own names (NameAcquired, NameLost). */
static int own_traffic(const struct dbus_msg *m)
{
	return str_is(m->sender, DRIVER_NAME) && str_is(m->destination, bus.conn.unique_name);
}

/* Wait for the bus or a stop signal: 1 to read on, 0 to stop (a signal:
 * everything printed so far is flushed, so we can leave at once). */
static int monitor_wait(int64_t deadline, uint64_t seen)
{
	struct pollfd pf[2] = {{.fd = bus.conn.fd, .events = POLLIN}, {.fd = bus.sigfd, .events = POLLIN}};
	int n = poll(pf, 2, clock_poll_ms(deadline)), child;

	if (n < 0 && errno != EINTR)
		cli_die_errno(EXIT_FAIL, errno, "poll");
	if (n == 0 && clock_expired(deadline))
		cli_die(EXIT_TIMEOUT, "timed out after %llu messages", (unsigned long long)seen);
	if (n > 0 && pf[1].revents && sigev_take(bus.sigfd, &child)) {
		sigev_hold();
		return 0;
	}
	return 1;
}

/* Print every message until --count, --timeout or a stop signal.  Messages
 * already buffered or readable are taken without waiting; only when none is
 * does the loop poll, on the bus and the signal pipe together. */
static int monitor_loop(void)
{
	int64_t deadline = bus.timeout_set ? bus.deadline : -1;
	uint64_t seen = 0;

	for (;;) {
		struct dbus_err err = {{0}};
		struct dbus_msg m;
		uint8_t *raw = NULL;
		size_t len = 0;
		int r = dbus_conn_recv_raw(&bus.conn, &m, &raw, &len, clock_deadline(0), &err);
		if (r == -2) { /* nothing whole to take now */
			if (!monitor_wait(deadline, seen))
				return EXIT_OK;
			continue;
		}
		if (r < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		if (!own_traffic(&m)) {
			mon_output(&m, raw, len);
			seen++;
		}
		dbus_msg_free(&m);
		free(raw);
		if (bus.count && seen == bus.count)
			return EXIT_OK;
	}
}

/* The ready file holds our unique name, a line. */
static void write_ready(const char *path)
{
	char line[300];
	int n = snprintf(line, sizeof line, "%s\n", bus.conn.unique_name);

	if (n < 0 || (size_t)n >= sizeof line || io_write_file_atomic(path, line, (size_t)n) < 0)
		cli_die_errno(EXIT_FAIL, errno ? errno : EIO, "write %s", path);
}

static int monitor_main(int argc, char **argv)
{
	options(argc, argv, 0, -1);
	if (bus.json && bus.pcap)
		cli_usage_error("--json and --pcap exclude each other");
	for (int i = 0; i < bus.nops; i++)
		check_rule(bus.ops[i]);
	bus.mon_out = stdout;
	if (bus.pcap && strcmp(bus.pcap, "-") != 0) {
		bus.mon_out = fopen(bus.pcap, "wbe");
		if (!bus.mon_out)
			cli_die_errno(EXIT_FAIL, errno, "open %s", bus.pcap);
	}
	if (bus.pcap) {
		dbus_pcap_header(bus.mon_out);
		mon_flush();
	}
	if ((bus.sigfd = sigev_open(0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	connect_bus();
	become_monitor();
	if (bus.ready_file)
		write_ready(bus.ready_file);
	return monitor_loop();
}

/* ---- bus-serve ------------------------------------------------------------- */

#define SERVE_OUTPUT_MAX (16u * 1024 * 1024)

/* The name of the child of ancestor on the way to PATH: "a" for "/" and
 * "/a/b"; its length, or 0 if ancestor is not a proper ancestor of PATH. */
static size_t child_toward(const char *ancestor)
{
	const char *path = bus.ops[1];
	size_t n = strcmp(ancestor, "/") == 0 ? 0 : strlen(ancestor);

	if (strcmp(ancestor, path) == 0 || strncmp(ancestor, path, n) != 0 || path[n] != '/')
		return 0;
	return strcspn(path + n + 1, "/");
}

static void reply_with(const struct dbus_msg *call, struct dbus_msg *r)
{
	struct dbus_err err = {{0}};

	if (call->flags & DBUS_FLAG_NO_REPLY_EXPECTED)
		return;
	r->reply_serial = call->serial;
	r->destination = call->sender;
	if (dbus_conn_send(&bus.conn, r, &err) < 0)
		cli_die(EXIT_FAIL, "%s", err.msg);
}

static void reply_error(const struct dbus_msg *call, const char *name, const char *text)
{
	struct dbus_value v = string_value(text);
	struct dbus_msg r = {.type = DBUS_ERROR, .error_name = name, .signature = "s"};

	r.body = &v;
	r.nbody = 1;
	reply_with(call, &r);
}

static void reply_string(const struct dbus_msg *call, const char *s)
{
	struct dbus_value v = string_value(s);
	struct dbus_msg r = {.type = DBUS_METHOD_RETURN, .signature = "s"};

	r.body = &v;
	r.nbody = 1;
	reply_with(call, &r);
}

static void machine_id(const struct dbus_msg *call)
{
	char id[33] = "";
	FILE *f = fopen("/etc/machine-id", "re");

	if (!f)
		f = fopen("/var/lib/dbus/machine-id", "re");
	if (f && fgets(id, sizeof id, f) && strlen(id) == 32)
		reply_string(call, id);
	else
		reply_error(call, "org.freedesktop.DBus.Error.FileNotFound", "no machine id");
	if (f)
		fclose(f);
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

/* Run CMD with in as stdin, out and errf as stdout and stderr: its status.
 * A command that cannot be run says why on errf, as sh would. */
static int run_cmd(FILE *in, FILE *out, FILE *errf)
{
	struct spawn_req req = {.argv = (char *const *)bus.serve_cmd, .in = fileno(in), .out = fileno(out),
				.err = fileno(errf)};
	pid_t pid = spawn_start(&req);

	if (pid < 0) {
		int err = errno;
		fprintf(errf, "%s: %s\n", bus.serve_cmd[0], strerror(err));
		fflush(errf);
		return spawn_exec_status(err);
	}
	return spawn_wait(pid);
}

/* CMD's stdout, split at blanks, as values of OUT_SIG: the reply.  text
 * is NULL if the output was too long. */
static void reply_output(const struct dbus_msg *call, char *text, size_t len)
{
	struct dbus_arena *a;
	struct dbus_msg r = {.type = DBUS_METHOD_RETURN, .signature = bus.ops[5]};
	struct dbus_err err = {{0}};
	char msg[400];

	if (!text || strlen(text) != len) {
		reply_error(call, "org.freedesktop.DBus.Error.Failed", "the command's output is too long or has NUL bytes");
		return;
	}
	a = dbus_arena_new();
	if (dbus_text_parse_words(a, bus.ops[5], text, &r.body, &r.nbody, &err) < 0) {
		snprintf(msg, sizeof msg, "bad output from the command: %s", err.msg);
		reply_error(call, "org.freedesktop.DBus.Error.Failed", msg);
	} else {
		reply_with(call, &r);
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
		snprintf(msg, sizeof msg, "%s exited with status %d", bus.serve_cmd[0], status);
	reply_error(call, "org.freedesktop.DBus.Error.Failed", msg);
}

/* Answer METHOD: the arguments in busctl's terse text on CMD's stdin. */
static void serve_method(const struct dbus_msg *call)
{
	FILE *in = tmpfile(), *out = tmpfile(), *errf = tmpfile();
	char *otext, *etext;
	size_t olen = 0, elen = 0;
	int status, err;

	if (!in || !out || !errf)
		cli_die_errno(EXIT_FAIL, errno, "temporary file");
	if (call->nbody > 0)
		dbus_print_terse(in, call->signature, call->body, call->nbody);
	fputc('\n', in);
	fflush(in);
	rewind(in);
	status = run_cmd(in, out, errf);
	err = errno;
	otext = read_back(out, &olen);
	etext = read_back(errf, &elen);
	if (status == 0)
		reply_output(call, otext, olen);
	else if (status < 0)
		reply_error(call, "org.freedesktop.DBus.Error.Failed", strerror(err));
	else
		reply_failure(call, etext ? etext : "", status);
	free(otext);
	free(etext);
	fclose(in);
	fclose(out);
	fclose(errf);
}

/* Introspect on an object above PATH lists the next node down, so that
 * bus-tree and busctl tree find PATH; anything else there is unknown. */
static void serve_ancestor(const struct dbus_msg *m)
{
	size_t n = m->path ? child_toward(m->path) : 0;
	const char *child;
	char *xml;

	if (!n || !str_is(m->interface, "org.freedesktop.DBus.Introspectable") ||
	    !str_is(m->member, "Introspect")) {
		reply_error(m, "org.freedesktop.DBus.Error.UnknownObject", "no such object");
		return;
	}
	child = bus.ops[1] + (strcmp(m->path, "/") == 0 ? 1 : strlen(m->path) + 1);
	if (asprintf(&xml, "<node>\n <node name=\"%.*s\"/>\n</node>\n", (int)n, child) < 0)
		cli_die(EXIT_FAIL, "out of memory");
	reply_string(m, xml);
	free(xml);
}

static void serve_one(const struct dbus_msg *m)
{
	const char *sig = m->signature ? m->signature : "";

	if (m->type != DBUS_METHOD_CALL)
		return;
	if (str_is(m->interface, "org.freedesktop.DBus.Peer") && str_is(m->member, "Ping"))
		reply_with(m, &(struct dbus_msg){.type = DBUS_METHOD_RETURN, .signature = ""});
	else if (str_is(m->interface, "org.freedesktop.DBus.Peer") && str_is(m->member, "GetMachineId"))
		machine_id(m);
	else if (!str_is(m->path, bus.ops[1]))
		serve_ancestor(m);
	else if (str_is(m->interface, "org.freedesktop.DBus.Introspectable") &&
		 str_is(m->member, "Introspect")) {
		char *xml = dbus_intro_xml_method(bus.ops[2], bus.ops[3], bus.ops[4], bus.ops[5]);
		if (!xml)
			cli_die(EXIT_FAIL, "out of memory");
		reply_string(m, xml);
		free(xml);
	} else if ((!m->interface || str_is(m->interface, bus.ops[2])) && str_is(m->member, bus.ops[3])) {
		if (strcmp(sig, bus.ops[4]) != 0)
			reply_error(m, "org.freedesktop.DBus.Error.InvalidArgs", "wrong argument signature");
		else
			serve_method(m);
	} else {
		reply_error(m, "org.freedesktop.DBus.Error.UnknownMethod", "no such method");
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

static int serve_main(int argc, char **argv)
{
	int64_t deadline;

	options(argc, argv, 7, -1);
	check_bus_name(bus.ops[0]);
	if (bus.ops[0][0] == ':')
		cli_usage_error("invalid bus name '%s': a unique name cannot be requested", bus.ops[0]);
	check_path(bus.ops[1]);
	check_interface(bus.ops[2]);
	check_member(bus.ops[3]);
	check_sig(bus.ops[4]);
	check_sig(bus.ops[5]);
	bus.serve_cmd = (const char *const *)bus.ops + 6;
	signal(SIGPIPE, SIG_IGN);
	connect_bus();
	request_name(bus.ops[0]);
	if (bus.ready_file)
		write_ready(bus.ready_file);
	deadline = bus.timeout_set ? bus.deadline : -1;
	for (;;) {
		struct dbus_err err = {{0}};
		struct dbus_msg m;
		int r = dbus_conn_recv(&bus.conn, &m, deadline, &err);
		if (r == -2)
			cli_die(EXIT_TIMEOUT, "no more calls within the timeout");
		if (r < 0)
			cli_die(EXIT_FAIL, "%s", err.msg);
		serve_one(&m);
		dbus_msg_free(&m);
	}
}

/* ---- completion: the names on the default bus ----------------------------- */

static void complete_names(void)
{
	struct dbus_err err = {{0}};
	const char *addr = dbus_default_address(DBUS_BUS_SESSION, &err);
	struct dbus_msg m = method_call(DRIVER_NAME, DRIVER_PATH, DRIVER_NAME, "ListNames"), reply;

	if (!addr || dbus_conn_open(&bus.conn, addr, 1000, &err) < 0)
		return;
	if (dbus_conn_call(&bus.conn, &m, &reply, clock_now_ms() + 1000, &err) == 0) {
		if (reply.type == DBUS_METHOD_RETURN && reply.nbody == 1 && reply.body[0].type == 'a')
			for (uint32_t i = 0; i < reply.body[0].n; i++)
				puts(reply.body[0].v.items[i].v.str);
		dbus_msg_free(&reply);
	}
	dbus_conn_close(&bus.conn);
}

/* ---- the table ------------------------------------------------------------ */

#define O_BUS                                                                          \
	{OPT_SESSION, "session", NULL, "use the session bus (the default)", NULL},     \
	{OPT_SYSTEM, "system", NULL, "use the system bus", NULL},                      \
	{OPT_ADDRESS, "address", "ADDR", "use the bus at ADDR (unix:path=...)", NULL}, \
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
	{OPT_COUNT, "count", "N", "exit after N messages", NULL},
	{OPT_READY_FILE, "ready-file", "FILE", "write our unique name to FILE once monitoring has begun", "file"},
	{0}};

static const struct opt serve_opts[] = {
	O_BUS,
	{OPT_READY_FILE, "ready-file", "FILE", "write our unique name to FILE once NAME is ours", "file"},
	{0}};

const struct applet bus_applets[] = {
	{"bus-call", call_main, "DEST PATH INTERFACE METHOD [SIGNATURE [ARG]...]",
	 "call a method and print its reply", call_opts, complete_names},
	{"bus-emit", emit_main, "PATH INTERFACE SIGNAL [SIGNATURE [ARG]...]", "emit a signal",
	 emit_opts, complete_names},
	{"bus-get", get_main, "DEST PATH INTERFACE PROPERTY", "print a property's value", get_opts,
	 complete_names},
	{"bus-set", set_main, "DEST PATH INTERFACE PROPERTY SIGNATURE VALUE...",
	 "set a property", set_opts, complete_names},
	{"bus-list", list_main, "[--activatable]", "list the names on the bus, with their processes",
	 list_opts, NULL},
	{"bus-introspect", introspect_main, "DEST PATH",
	 "list an object's interfaces, methods, signals and properties with values",
	 introspect_opts, complete_names},
	{"bus-tree", tree_main, "DEST", "list the object paths of a service", tree_opts,
	 complete_names},
	{"bus-wait", wait_main, "NAME | --signal PATH INTERFACE SIGNAL",
	 "wait until a name has an owner, or a signal arrives", wait_opts, complete_names},
	{"bus-monitor", monitor_main, "[MATCH_RULE]... [--json | --pcap FILE] [--count N]",
	 "print the messages on the bus, as dbus-monitor", monitor_opts, NULL},
	{"bus-serve", serve_main, "NAME PATH INTERFACE METHOD IN_SIG OUT_SIG -- CMD [ARG]...",
	 "answer METHOD calls by running CMD: a script becomes a D-Bus service", serve_opts, NULL},
	{0},
};
