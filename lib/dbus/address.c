/* dbus address: parse server addresses and connect to them.
 *
 * Syntax (D-Bus specification, "Server Addresses"):
 *     TRANSPORT:KEY=VALUE,KEY=VALUE;TRANSPORT:...
 * Entries are tried in order.  The specification asks that bytes outside
 * [-0-9A-Za-z_/.\*] be written %XX; like sd-bus, which reads every byte but
 * ',' ';' and '%' as itself, this parser takes them unescaped (systemd
 * writes argv4=--machine=NAME), and a '%' not followed by two hex digits is
 * an error.  Addresses are always printed escaped.  A client connects to unix:path=, unix:abstract=,
 * tcp:host=,port=[,family=] and unixexec:path=[,argv0=,argv1=...] (the
 * spec's "exec" transport: run the program, speak over its stdin and
 * stdout); listen-only keys (unix:dir=, tmpdir=, runtime=yes),
 * autolaunch: and other transports are refused by name. */
#include "client.h"
#include "lib/io.h"
#include "lib/net.h"
#include "lib/parse.h"
#include "lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYS (DBUS_EXEC_MAX_ARGS + 2) /* unixexec: path, guid, argv0.. */
#define MAX_VALUE 1024

/* One entry being parsed: the transport and its raw key=value pairs. */
struct entry {
	const char *text; /* the whole entry, for messages */
	size_t len;
	char transport[32];
	int nkeys;
	char keys[MAX_KEYS][32];
	char values[MAX_KEYS][MAX_VALUE];
	size_t vlens[MAX_KEYS];
};

static int optionally_escaped(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	       b == '-' || b == '_' || b == '/' || b == '\\' || b == '*' || b == '.';
}

/* Decode the %-escaped value s[0..len) into out (MAX_VALUE bytes). */
static int decode_value(const char *s, size_t len, char *out, size_t *outlen, struct dbus_err *err)
{
	/* ',' and ';' never reach here: they end the value */
	if (parse_pct_decode(s, len, out, MAX_VALUE, outlen) == 0)
		return 0;
	if (errno == ERANGE)
		return dbus_err_set(err, "value '%.40s...' is too long", s);
	return dbus_err_set(err, "'%%' must be followed by two hex digits");
}

/* Split one entry into transport and key=value pairs (syntax only). */
static int split_entry(struct entry *e, struct dbus_err *err)
{
	const char *p = e->text, *end = e->text + e->len;
	const char *colon = memchr(p, ':', e->len);

	if (!colon)
		return dbus_err_set(err, "'%.*s' has no transport (expected TRANSPORT:KEY=VALUE,...)",
				    (int)e->len, e->text);
	if (colon == p || (size_t)(colon - p) >= sizeof e->transport)
		return dbus_err_set(err, "'%.*s': bad transport name", (int)e->len, e->text);
	memcpy(e->transport, p, (size_t)(colon - p));
	e->transport[colon - p] = 0;
	for (p = colon + 1; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		size_t klen;
		if (!eq || eq == p)
			return dbus_err_set(err, "'%.*s': expected KEY=VALUE", (int)(stop - p), p);
		klen = (size_t)(eq - p);
		if (klen >= sizeof e->keys[0] || e->nkeys == MAX_KEYS)
			return dbus_err_set(err, "'%.*s': too many or too long keys", (int)e->len, e->text);
		for (int k = 0; k < e->nkeys; k++)
			if (strlen(e->keys[k]) == klen && memcmp(e->keys[k], p, klen) == 0)
				return dbus_err_set(err, "key '%.*s' given twice", (int)klen, p);
		memcpy(e->keys[e->nkeys], p, klen);
		e->keys[e->nkeys][klen] = 0;
		if (decode_value(eq + 1, (size_t)(stop - eq - 1), e->values[e->nkeys],
				 &e->vlens[e->nkeys], err) < 0) {
			char why[sizeof err->msg];
			if (!err)
				return -1;
			memcpy(why, err->msg, sizeof why);
			return dbus_err_set(err, "value of '%s': %s", e->keys[e->nkeys], why);
		}
		e->nkeys++;
		if (!comma)
			break;
		p = comma + 1;
		if (p == end)
			return dbus_err_set(err, "'%.*s': trailing ','", (int)e->len, e->text);
	}
	return 0;
}

/* The value of key in e, or NULL. */
static const char *value_of(const struct entry *e, const char *key, size_t *len)
{
	for (int k = 0; k < e->nkeys; k++)
		if (strcmp(e->keys[k], key) == 0) {
			if (len)
				*len = e->vlens[k];
			return e->values[k];
		}
	return NULL;
}

/* Refuse keys other than the ones listed (NULL-terminated). */
static int only_keys(const struct entry *e, const char *const *known, struct dbus_err *err)
{
	for (int k = 0; k < e->nkeys; k++) {
		int ok = 0;
		for (const char *const *n = known; *n; n++)
			ok |= strcmp(e->keys[k], *n) == 0;
		if (!ok)
			return dbus_err_set(err, "unknown key '%s' in a %s: address", e->keys[k],
					    e->transport);
	}
	return 0;
}

static int check_guid(const struct entry *e, struct dbus_err *err)
{
	size_t len;
	const char *g = value_of(e, "guid", &len);

	if (!g)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (parse_hexdigit((unsigned char)g[i]) < 0)
			len = 0;
	if (len != 32)
		return dbus_err_set(err, "guid must be 32 hex digits");
	return 0;
}

static int unix_entry(const struct entry *e, struct dbus_addr *a, struct dbus_err *err)
{
	static const char *const known[] = {"path", "abstract", "dir", "tmpdir", "runtime", "guid", NULL};
	static const char *const listen_only[] = {"dir", "tmpdir", "runtime"};
	size_t plen = 0, alen = 0;
	const char *path = value_of(e, "path", &plen), *abs = value_of(e, "abstract", &alen);
	const char *v;

	if (only_keys(e, known, err) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (value_of(e, listen_only[i], NULL))
			return dbus_err_set(err, "unix:%s= is for servers that listen; a client needs "
					    "unix:path= or unix:abstract=", listen_only[i]);
	if (!path == !abs)
		return dbus_err_set(err, "a unix: address needs exactly one of path= and abstract=");
	v = path ? path : abs;
	a->pathlen = path ? plen : alen;
	a->kind = path ? DBUS_ADDR_UNIX : DBUS_ADDR_ABSTRACT;
	if (a->pathlen == 0 || memchr(v, 0, a->pathlen))
		return dbus_err_set(err, "empty socket name or a NUL byte in it");
	if (a->pathlen + 1 > sizeof a->path)
		return dbus_err_set(err, "socket name longer than %zu bytes", sizeof a->path - 1);
	memcpy(a->path, v, a->pathlen);
	a->path[a->pathlen] = 0;
	return 0;
}

static int tcp_entry(const struct entry *e, struct dbus_addr *a, struct dbus_err *err)
{
	static const char *const known[] = {"host", "port", "family", "bind", "guid", NULL};
	size_t len;
	const char *host = value_of(e, "host", &len), *port = value_of(e, "port", NULL);
	const char *family = value_of(e, "family", NULL);
	char *end;
	unsigned long p;

	if (only_keys(e, known, err) < 0)
		return -1;
	if (value_of(e, "bind", NULL))
		return dbus_err_set(err, "tcp:bind= is for servers that listen");
	if (!host) {
		host = "localhost";
		len = 9;
	}
	if (len == 0 || len >= sizeof a->host || memchr(host, 0, len))
		return dbus_err_set(err, "bad tcp host");
	if (!port)
		return dbus_err_set(err, "a tcp: address needs port=");
	errno = 0;
	p = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end || errno || p == 0 || p > 65535)
		return dbus_err_set(err, "bad tcp port '%s'", port);
	a->kind = DBUS_ADDR_TCP;
	memcpy(a->host, host, len + 1);
	snprintf(a->port, sizeof a->port, "%lu", p);
	if (!family)
		a->family = AF_UNSPEC;
	else if (strcmp(family, "ipv4") == 0)
		a->family = AF_INET;
	else if (strcmp(family, "ipv6") == 0)
		a->family = AF_INET6;
	else
		return dbus_err_set(err, "family must be ipv4 or ipv6, not '%s'", family);
	return 0;
}

/* The N of an "argvN" key (decimal, no leading zero), or -1. */
static int argv_index(const char *key)
{
	size_t len = strlen(key), digits;
	uint64_t n;

	if (len < 5 || strncmp(key, "argv", 4) != 0 || (key[4] == '0' && len > 5))
		return -1;
	digits = parse_digits(key + 4, len - 4, &n);
	return digits == len - 4 && n < DBUS_EXEC_MAX_ARGS ? (int)n : -1;
}

/* Append value v (len bytes, no NUL inside) and its NUL to a->exec. */
static int exec_append(struct dbus_addr *a, size_t *used, const char *what, const char *v,
		       size_t len, struct dbus_err *err)
{
	if (memchr(v, 0, len))
		return dbus_err_set(err, "unixexec: a NUL byte in %s", what);
	if (*used + len + 1 > sizeof a->exec)
		return dbus_err_set(err, "unixexec: the command is longer than %zu bytes",
				    sizeof a->exec - 1);
	memcpy(a->exec + *used, v, len);
	a->exec[*used + len] = 0;
	*used += len + 1;
	return 0;
}

/* unixexec:path=P[,argv0=A0][,argv1=A1]...: argv0 defaults to the path;
 * the arguments must follow each other without a gap (as sd-bus checks;
 * libdbus would silently stop at the gap). */
static int exec_entry(const struct entry *e, struct dbus_addr *a, struct dbus_err *err)
{
	size_t plen = 0, used = 0;
	const char *path = value_of(e, "path", &plen);
	int top = 0;

	for (int k = 0; k < e->nkeys; k++) {
		int i = argv_index(e->keys[k]);
		if (i < 0 && strcmp(e->keys[k], "path") != 0 && strcmp(e->keys[k], "guid") != 0)
			return dbus_err_set(err, "unknown key '%s' in a unixexec: address (path=, "
					    "argv0=...argv%d=, guid=)", e->keys[k], DBUS_EXEC_MAX_ARGS - 1);
		if (i + 1 > top)
			top = i + 1;
	}
	if (!path)
		return dbus_err_set(err, "a unixexec: address needs path=");
	if (plen == 0)
		return dbus_err_set(err, "unixexec: empty path=");
	a->kind = DBUS_ADDR_EXEC;
	if (exec_append(a, &used, "path=", path, plen, err) < 0)
		return -1;
	for (int i = 0; i < top || i == 0; i++) {
		char key[16];
		size_t len;
		const char *v;
		snprintf(key, sizeof key, "argv%d", i);
		v = value_of(e, key, &len);
		if (!v && i == 0) {
			v = path;
			len = plen;
		}
		if (!v)
			return dbus_err_set(err, "unixexec: argv%d= is missing before argv%d=", i,
					    top - 1);
		if (exec_append(a, &used, key, v, len, err) < 0)
			return -1;
	}
	a->nargs = top ? top : 1;
	return 0;
}

/* Turn one split entry into a connectable address, or say why not. */
static int usable_entry(const struct entry *e, struct dbus_addr *a, struct dbus_err *err)
{
	memset(a, 0, sizeof *a);
	if (check_guid(e, err) < 0)
		return -1;
	if (strcmp(e->transport, "unix") == 0)
		return unix_entry(e, a, err);
	if (strcmp(e->transport, "tcp") == 0)
		return tcp_entry(e, a, err);
	if (strcmp(e->transport, "unixexec") == 0)
		return exec_entry(e, a, err);
	if (strcmp(e->transport, "autolaunch") == 0)
		return dbus_err_set(err, "autolaunch: is not supported (it starts a bus through X11); "
				    "give a unix: address");
	if (strcmp(e->transport, "nonce-tcp") == 0 || strcmp(e->transport, "launchd") == 0 || strcmp(e->transport, "systemd") == 0)
		return dbus_err_set(err, "transport '%s:' is not supported (use unix:, tcp: or unixexec:)",
				    e->transport);
	return dbus_err_set(err, "unknown transport '%s:'", e->transport);
}

int dbus_address_parse(const char *text, struct dbus_addr *out, int max, struct dbus_err *err)
{
	struct entry *e = malloc(sizeof *e); /* 16 KiB of values: not on the stack */
	struct dbus_err first = {{0}};
	const char *p = text;
	int n = 0, skipped = 0, bad = 0;

	if (!e)
		return dbus_err_set(err, "out of memory");
	while (*p && !bad) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		struct dbus_err why;
		if (len > 0) {
			/* Not a memset of its 33 KiB: every key and value is
			 * NUL-terminated as it is stored, and only the first
			 * nkeys are read (a memset faulted in 9 pages a parse,
			 * a tenth of bus-call's page faults). */
			e->nkeys = 0;
			e->transport[0] = 0;
			e->text = p;
			e->len = len;
			if (split_entry(e, err) < 0)
				bad = 1;
			else if (n >= max)
				break;
			else if (usable_entry(e, &out[n], &why) == 0)
				n++;
			else if (!skipped++)
				first = why;
		}
		p += len + (semi != NULL);
	}
	free(e);
	if (bad)
		return -1;
	if (n > 0)
		return n;
	if (skipped)
		return dbus_err_set(err, "%s", first.msg);
	return dbus_err_set(err, "empty address");
}

/* Append s to out (size bytes, NUL-terminated), %-escaping every byte
 * outside [-0-9A-Za-z_/.]: what the spec asks of an emitted value, the
 * strictest reading (libdbus checks it, sd-bus's escaper does the same). */
static void escape_into(char *out, size_t size, const char *s)
{
	size_t n = strlen(out);

	for (; *s && n + 4 < size; s++) {
		if (optionally_escaped((unsigned char)*s) && *s != '\\' && *s != '*')
			out[n++] = *s;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", (unsigned char)*s);
	}
	out[n] = 0;
}

/* unixexec:path=P,argv1=A1,...: the address, escaped (argv0 only when it
 * differs from the path). */
static void describe_exec(const struct dbus_addr *a, char *buf, size_t size)
{
	const char *p = a->exec, *arg = p + strlen(p) + 1;

	snprintf(buf, size, "unixexec:path=");
	escape_into(buf, size, p);
	for (int i = 0; i < a->nargs; arg += strlen(arg) + 1, i++) {
		size_t n = strlen(buf);
		if (i == 0 && strcmp(arg, p) == 0)
			continue;
		snprintf(buf + n, size - n, ",argv%d=", i);
		escape_into(buf, size, arg);
	}
}

void dbus_address_describe(const struct dbus_addr *a, char *buf, size_t size)
{
	if (a->kind == DBUS_ADDR_EXEC)
		describe_exec(a, buf, size);
	else if (a->kind == DBUS_ADDR_TCP) {
		snprintf(buf, size, "tcp:host=");
		escape_into(buf, size, a->host);
		strncat(buf, ",port=", size - strlen(buf) - 1);
		escape_into(buf, size, a->port);
	} else {
		snprintf(buf, size, "unix:%s=", a->kind == DBUS_ADDR_UNIX ? "path" : "abstract");
		escape_into(buf, size, a->path);
	}
}

/* A unix or abstract socket: connecting is immediate on Linux. */
static int connect_unix(const struct dbus_addr *a, struct dbus_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t salen;
	char name[300];
	struct stat st;
	int fd, e;

	dbus_address_describe(a, name, sizeof name);
	if (a->kind == DBUS_ADDR_UNIX) {
		memcpy(sa.sun_path, a->path, a->pathlen + 1);
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + a->pathlen + 1);
	} else {
		memcpy(sa.sun_path + 1, a->path, a->pathlen); /* no trailing NUL */
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + a->pathlen);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dbus_err_set(err, "socket: %s", io_strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		e = errno;
		close(fd);
		if (e == ECONNREFUSED && a->kind == DBUS_ADDR_UNIX && stat(a->path, &st) == 0 &&
		    !S_ISSOCK(st.st_mode))
			return dbus_err_set(err, "connect to %s: not a socket", name);
		return dbus_err_set(err, "connect to %s: %s", name, io_strerror(e));
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return dbus_err_set(err, "fcntl: %s", io_strerror(e));
	}
	return fd;
}

static int connect_tcp(const struct dbus_addr *a, int64_t deadline_ms, struct dbus_err *err)
{
	struct addrinfo hints = {.ai_family = a->family, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	char name[300];
	int r, fd = -1, e = 0;

	dbus_address_describe(a, name, sizeof name);
	r = getaddrinfo(a->host, a->port, &hints, &res);
	if (r != 0)
		return dbus_err_set(err, "resolve %s: %s", a->host, gai_strerror(r));
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		if ((fd = net_connect(ai->ai_addr, ai->ai_addrlen, NULL, deadline_ms)) < 0)
			e = errno;
	freeaddrinfo(res);
	if (fd < 0)
		return dbus_err_set(err, "connect to %s: %s", name, io_strerror(e));
	return fd;
}

/* unixexec: start the command with one end of a socket pair as its stdin
 * and stdout (stderr is ours); the other end is the connection.  Unlike
 * libdbus, which never waits for it, the caller keeps the pid and reaps. */
static int connect_exec(const struct dbus_addr *a, pid_t *child, struct dbus_err *err)
{
	struct spawn_req req = SPAWN_REQ_INIT;
	char *argv[DBUS_EXEC_MAX_ARGS + 1];
	char *p = (char *)a->exec + strlen(a->exec) + 1;
	int sv[2], e;
	pid_t pid;

	for (int i = 0; i < a->nargs; p += strlen(p) + 1)
		argv[i++] = p;
	argv[a->nargs] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return dbus_err_set(err, "socketpair: %s", io_strerror(errno));
	req.file = a->exec;
	req.argv = argv;
	req.in = req.out = sv[1];
	pid = spawn_start(&req);
	e = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return dbus_err_set(err, "run '%s': %s", a->exec, io_strerror(e));
	}
	*child = pid;
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) < 0)
		return dbus_err_set(err, "fcntl: %s", io_strerror(errno)); /* the caller reaps */
	return sv[0];
}

int dbus_address_connect(const struct dbus_addr *a, int64_t deadline_ms, pid_t *child,
			 struct dbus_err *err)
{
	*child = 0;
	if (a->kind == DBUS_ADDR_EXEC)
		return connect_exec(a, child, err);
	if (a->kind == DBUS_ADDR_TCP)
		return connect_tcp(a, deadline_ms, err);
	return connect_unix(a, err);
}

int dbus_address_for_host(char *out, size_t size, const char *host, int system,
			  struct dbus_err *err)
{
	size_t len = strlen(host);

	if (len == 0)
		return dbus_err_set(err, "empty host");
	if (host[0] == '-')
		return dbus_err_set(err, "host '%.60s' starts with '-' (ssh would take it for an option)",
				    host);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f)
			return dbus_err_set(err, "host '%.60s' has a blank or a control character", host);
	if (host[0] == '@' || host[len - 1] == '@' || len > 255)
		return dbus_err_set(err, "host '%.60s': expected [USER@]HOST", host);
	if (size < 4 * len + 128)
		return dbus_err_set(err, "host '%.60s' is too long", host);
	snprintf(out, size, "unixexec:path=ssh,argv1=-xT,argv2=");
	escape_into(out, size, host);
	strcat(out, ",argv3=ipcbox,argv4=bus-bridge");
	if (system)
		strcat(out, ",argv5=--system");
	return 0;
}

const char *dbus_default_address(int bus, struct dbus_err *err)
{
	static char buf[4200];
	const char *env, *dir;

	if (bus == DBUS_BUS_SYSTEM) {
		env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
		return env && *env ? env : "unix:path=/run/dbus/system_bus_socket";
	}
	env = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (env && *env)
		return env;
	dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir) {
		dbus_err_set(err, "no session bus: neither DBUS_SESSION_BUS_ADDRESS nor "
				  "XDG_RUNTIME_DIR is set");
		return NULL;
	}
	if (strlen(dir) > 1000) {
		dbus_err_set(err, "XDG_RUNTIME_DIR is too long");
		return NULL;
	}
	strcpy(buf, "unix:path=");
	escape_into(buf, sizeof buf, dir);
	escape_into(buf, sizeof buf, "/bus");
	return buf;
}
