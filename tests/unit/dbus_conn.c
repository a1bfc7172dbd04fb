/* Unit tests for lib/dbus/address.c, the server side of lib/dbus/auth.c and
 * lib/dbus/introspect.c: the address forms a client accepts (unixexec:
 * included), the ones it refuses (listen-only keys, autolaunch:, bad
 * escapes, argv gaps), the -H address, the default addresses, the SASL
 * lines a bridge answers, the introspection XML reader on good and hostile
 * documents, and the replies a connection sends (lib/dbus/conn.c: replies,
 * errors, the Peer interface, the machine id file). */
#include "lib/clock.h"
#include "lib/dbus/client.h"
#include "lib/dbus/introspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "check.h"

static struct dbus_addr addrs[DBUS_MAX_ADDRS];

static int parse(const char *text, struct dbus_err *err)
{
	return dbus_address_parse(text, addrs, DBUS_MAX_ADDRS, err);
}

static void test_good_addresses(void)
{
	struct dbus_err err;

	CHECK(parse("unix:path=/run/user/1000/bus", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_UNIX && strcmp(addrs[0].path, "/run/user/1000/bus") == 0);
	CHECK(parse("unix:abstract=/tmp/dbus-XYZ,guid=0123456789abcdef0123456789ABCDEF", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_ABSTRACT && addrs[0].pathlen == 13);
	CHECK(parse("unix:path=/tmp/a%20b%2c%3B", &err) == 1);
	CHECK(strcmp(addrs[0].path, "/tmp/a b,;") == 0);
	CHECK(parse("tcp:host=127.0.0.1,port=5555,family=ipv4", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_TCP && strcmp(addrs[0].host, "127.0.0.1") == 0 &&
	      strcmp(addrs[0].port, "5555") == 0 && addrs[0].family == AF_INET);
	CHECK(parse("tcp:host=%3a%3a1,port=1,family=ipv6", &err) == 1 && addrs[0].family == AF_INET6 &&
	      strcmp(addrs[0].host, "::1") == 0);
	/* unescaped bytes other than ',' ';' '%' are themselves, as sd-bus reads them */
	CHECK(parse("tcp:host=::1,port=1", &err) == 1 && strcmp(addrs[0].host, "::1") == 0);
	CHECK(parse("unix:path=/a b:c=d", &err) == 1 && strcmp(addrs[0].path, "/a b:c=d") == 0);
	{ /* and printed escaped, every kind */
		char buf[256];
		dbus_address_describe(&addrs[0], buf, sizeof buf);
		CHECK(strcmp(buf, "unix:path=/a%20b%3Ac%3Dd") == 0);
		CHECK(parse("tcp:host=::1,port=1", &err) == 1);
		dbus_address_describe(&addrs[0], buf, sizeof buf);
		CHECK(strcmp(buf, "tcp:host=%3A%3A1,port=1") == 0);
	}
	/* fallbacks in order; unusable entries skipped when another is usable */
	CHECK(parse("unix:path=/a;unix:abstract=b;tcp:host=h,port=9", &err) == 3);
	CHECK(addrs[1].kind == DBUS_ADDR_ABSTRACT && addrs[2].kind == DBUS_ADDR_TCP);
	CHECK(parse("autolaunch:;unix:path=/x", &err) == 1 && strcmp(addrs[0].path, "/x") == 0);
	CHECK(parse("unix:path=/x;", &err) == 1);
	/* the usable entries, or none: dbus_conn_open says DBUS_BAD_ADDRESS
	 * (an applet's exit 2) before it connects anywhere */
	CHECK(parse("unix:path=/a;autolaunch:;tcp:host=h,port=9", &err) == 2);
	{
		struct dbus_conn c;
		CHECK(dbus_conn_open(&c, "autolaunch:", clock_deadline(1000), &err) == DBUS_BAD_ADDRESS &&
		      strstr(err.msg, "autolaunch"));
		CHECK(dbus_conn_open(&c, "unix:path=/a%zz", clock_deadline(1000), &err) ==
		      DBUS_BAD_ADDRESS);
	}
}

static void refused(const char *text, const char *why)
{
	struct dbus_err err = {{0}};

	if (parse(text, &err) >= 0) {
		fprintf(stderr, "address '%s' accepted\n", text);
		failures++;
	} else if (!strstr(err.msg, why)) {
		fprintf(stderr, "address '%s': message '%s' lacks '%s'\n", text, err.msg, why);
		failures++;
	}
}

static void test_bad_addresses(void)
{
	refused("", "empty address");
	refused("unix:dir=/tmp", "for servers that listen");
	refused("unix:tmpdir=/tmp", "for servers that listen");
	refused("unix:runtime=yes", "for servers that listen");
	refused("tcp:host=h,port=1,bind=*", "for servers that listen");
	refused("autolaunch:", "autolaunch: is not supported");
	refused("nonce-tcp:host=h,port=1,noncefile=/n", "not supported");
	refused("frob:x=1", "unknown transport 'frob:'");
	refused("/run/user/0/bus", "has no transport");
	refused("unix:path=/a%zz", "two hex digits");
	refused("unix:path=/a%2", "two hex digits");
	refused("unix:path=/a%", "two hex digits");
	refused("unix:path=/a%00b", "NUL");
	refused("unix:path=", "empty socket name");
	refused("unix:path=/a,abstract=b", "exactly one");
	refused("unix:", "exactly one");
	refused("unix:path=/a,path=/b", "given twice");
	refused("unix:path=/a,frob=1", "unknown key 'frob'");
	refused("unix:path=/a,guid=123", "32 hex digits");
	refused("unix:path", "expected KEY=VALUE");
	refused("unix:path=/a,", "trailing ','");
	refused("tcp:host=h", "needs port=");
	refused("tcp:host=h,port=0", "bad tcp port");
	refused("tcp:host=h,port=65536", "bad tcp port");
	refused("tcp:host=h,port=-1", "bad tcp port");
	refused("tcp:host=h,port=1,family=ipx", "family must be");
	refused("unix:dir=/a;autolaunch:", "for servers that listen");
	/* a syntax error anywhere in the list spoils the whole list */
	refused("unix:path=/ok;unix:path=/a%zz", "two hex digits");
	{
		char longpath[200] = "unix:path=/";
		memset(longpath + 11, 'a', 150);
		longpath[161] = 0;
		refused(longpath, "longer than");
	}
}

/* The i-th string of a unixexec address's command (0: the path). */
static const char *exec_word(const struct dbus_addr *a, int i)
{
	const char *p = a->exec;

	while (i-- > 0)
		p += strlen(p) + 1;
	return p;
}

static void test_unixexec(void)
{
	struct dbus_err err;
	char buf[600];

	CHECK(parse("unixexec:path=ssh", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_EXEC && addrs[0].nargs == 1);
	CHECK(strcmp(exec_word(&addrs[0], 0), "ssh") == 0 && strcmp(exec_word(&addrs[0], 1), "ssh") == 0);
	CHECK(parse("unixexec:path=/usr/bin/ssh,argv0=sshx,argv1=-xT,argv2=u%40h,argv3=,"
		    "guid=0123456789abcdef0123456789abcdef", &err) == 1);
	CHECK(addrs[0].nargs == 4 && strcmp(exec_word(&addrs[0], 1), "sshx") == 0 &&
	      strcmp(exec_word(&addrs[0], 3), "u@h") == 0 && strcmp(exec_word(&addrs[0], 4), "") == 0);
	/* argv1 without argv0: argv0 is the path */
	CHECK(parse("unixexec:argv1=bus-bridge,path=ipcbox", &err) == 1 && addrs[0].nargs == 2 &&
	      strcmp(exec_word(&addrs[0], 1), "ipcbox") == 0);
	dbus_address_describe(&addrs[0], buf, sizeof buf);
	CHECK(strcmp(buf, "unixexec:path=ipcbox,argv1=bus-bridge") == 0);
	CHECK(parse("unixexec:path=a,argv1=%3D%2C%3B%20", &err) == 1);
	dbus_address_describe(&addrs[0], buf, sizeof buf);
	CHECK(strcmp(buf, "unixexec:path=a,argv1=%3D%2C%3B%20") == 0);
	/* a fallback after it */
	CHECK(parse("unixexec:path=false;unix:path=/x", &err) == 2 && addrs[1].kind == DBUS_ADDR_UNIX);
	refused("unixexec:", "needs path=");
	refused("unixexec:argv0=x", "needs path=");
	refused("unixexec:path=", "empty path=");
	refused("unixexec:path=a,argv2=x", "argv1= is missing");
	refused("unixexec:path=a,argv01=x", "unknown key 'argv01'");
	refused("unixexec:path=a,argv-1=x", "unknown key");
	refused("unixexec:path=a,argv30=x", "unknown key 'argv30'");
	refused("unixexec:path=a,argv99999999999=x", "unknown key");
	refused("unixexec:path=a,argvx=x", "unknown key 'argvx'");
	refused("unixexec:path=a,dir=/x", "unknown key 'dir'");
	refused("unixexec:path=a%00b", "NUL");
	refused("unixexec:path=a,argv1=a%00", "NUL");
	/* systemd's own form: an unescaped '=' inside a value; printed escaped */
	CHECK(parse("unixexec:path=ssh,argv1=-xT,argv2=host,argv3=systemd-stdio-bridge,argv4=--machine=NAME", &err) == 1 &&
	      strcmp(exec_word(&addrs[0], 5), "--machine=NAME") == 0);
	dbus_address_describe(&addrs[0], buf, sizeof buf);
	CHECK(strcmp(buf, "unixexec:path=ssh,argv1=-xT,argv2=host,argv3=systemd-stdio-bridge,argv4=--machine%3DNAME") == 0);
	CHECK(parse("unixexec:path=a,argv1=--bus-path=unix%3Apath%3D/x", &err) == 1 &&
	      strcmp(exec_word(&addrs[0], 2), "--bus-path=unix:path=/x") == 0);
	refused("unixexec:path=a,path=b", "given twice");
	{
		/* 29 arguments fit; the command's bytes are bounded */
		char many[2000] = "unixexec:path=a";
		for (int i = 1; i < DBUS_EXEC_MAX_ARGS; i++)
			snprintf(many + strlen(many), sizeof many - strlen(many), ",argv%d=x", i);
		CHECK(parse(many, &err) == 1 && addrs[0].nargs == DBUS_EXEC_MAX_ARGS);
		char big[4000] = "unixexec:path=a";
		for (int i = 1; i <= 3; i++) {
			snprintf(big + strlen(big), sizeof big - strlen(big), ",argv%d=", i);
			memset(big + strlen(big), 'y', 1000);
		}
		refused(big, "longer than");
	}
}

static void host_is(const char *host, int system, const char *want)
{
	char out[1400];
	struct dbus_err err = {{0}};

	if (dbus_address_for_host(out, sizeof out, host, system, &err) < 0) {
		fprintf(stderr, "host '%s' refused: %s\n", host, err.msg);
		failures++;
	} else if (strcmp(out, want) != 0) {
		fprintf(stderr, "host '%s': got '%s', want '%s'\n", host, out, want);
		failures++;
	}
}

static void host_refused(const char *host)
{
	char out[1400];
	struct dbus_err err;

	if (dbus_address_for_host(out, sizeof out, host, 0, &err) == 0) {
		fprintf(stderr, "host '%s' accepted: %s\n", host, out);
		failures++;
	}
}

static void test_host(void)
{
	struct dbus_err err;

	host_is("example.org", 0,
		"unixexec:path=ssh,argv1=-xT,argv2=example.org,argv3=ipcbox,argv4=bus-bridge");
	host_is("alice@example.org", 1,
		"unixexec:path=ssh,argv1=-xT,argv2=alice%40example.org,argv3=ipcbox,argv4=bus-bridge,"
		"argv5=--system");
	host_is("a,b;c=d*e\\f", 0,
		"unixexec:path=ssh,argv1=-xT,argv2=a%2Cb%3Bc%3Dd%2Ae%5Cf,argv3=ipcbox,argv4=bus-bridge");
	host_is("::1", 0, "unixexec:path=ssh,argv1=-xT,argv2=%3A%3A1,argv3=ipcbox,argv4=bus-bridge");
	/* and it parses back to the same words */
	{
		char out[1400];
		CHECK(dbus_address_for_host(out, sizeof out, "bob@h,x", 1, &err) == 0);
		CHECK(parse(out, &err) == 1 && addrs[0].nargs == 6);
		CHECK(strcmp(exec_word(&addrs[0], 3), "bob@h,x") == 0 &&
		      strcmp(exec_word(&addrs[0], 6), "--system") == 0);
	}
	host_refused("");
	host_refused("-oProxyCommand=x");
	host_refused("-x");
	host_refused("a b");
	host_refused("a\tb");
	host_refused("a\nb");
	host_refused("a\x7f");
	host_refused("user@");
	host_refused("@host");
}

/* Feed the bridge's SASL server lines; check each answer and the end. */
static void test_auth_server(void)
{
	static const struct {
		const char *line, *reply;
		int ret;
	} steps[] = {
		{"AUTH", "REJECTED EXTERNAL ANONYMOUS\r\n", 0},
		{"BEGIN", "ERROR unexpected command\r\n", 0}, /* not yet */
		{"AUTH DBUS_COOKIE_SHA1 30", "REJECTED EXTERNAL ANONYMOUS\r\n", 0},
		{"AUTH EXTERNAL", "DATA\r\n", 0},
		{"AUTH EXTERNAL 30", "REJECTED EXTERNAL ANONYMOUS\r\n", 0}, /* AUTH while waiting for DATA */
		{"AUTH EXTERNAL 31303030", "OK 0123456789abcdef0123456789abcdef\r\n", 0},
		{"NEGOTIATE_UNIX_FD", "ERROR file descriptors cannot cross this bridge\r\n", 0},
		{"DATA", "ERROR unexpected command\r\n", 0},
		{"CANCEL", "REJECTED EXTERNAL ANONYMOUS\r\n", 0},
		{"AUTH ANONYMOUS", "DATA\r\n", 0},
		{"DATA 7472616365", "OK 0123456789abcdef0123456789abcdef\r\n", 0},
		{"BEGINX", "ERROR unexpected command\r\n", 0},
		{"BEGIN", "", 1},
	};
	const char *guid = "0123456789abcdef0123456789abcdef";
	struct dbus_auth_server s = {0};
	struct dbus_err err;
	char reply[128];
	int r;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		r = dbus_auth_server_line(&s, guid, steps[i].line, strlen(steps[i].line), reply,
					  sizeof reply, &err);
		if (r != steps[i].ret || strcmp(reply, steps[i].reply) != 0) {
			fprintf(stderr, "auth line '%s': %d '%s'\n", steps[i].line, r, reply);
			failures++;
		}
	}
	/* garbage and floods drop the client */
	memset(&s, 0, sizeof s);
	CHECK(dbus_auth_server_line(&s, guid, "AUTH \x01", 6, reply, sizeof reply, &err) < 0);
	memset(&s, 0, sizeof s);
	CHECK(dbus_auth_server_line(&s, guid, "AUTH \xc3\xa9", 7, reply, sizeof reply, &err) < 0);
	memset(&s, 0, sizeof s);
	r = 0;
	for (int i = 0; i <= DBUS_AUTH_MAX_LINES && r == 0; i++)
		r = dbus_auth_server_line(&s, guid, "AUTH", 4, reply, sizeof reply, &err);
	CHECK(r < 0 && strstr(err.msg, "more than"));
}

/* The client's machine against the bridge's: every form ends in OK on the
 * client's side and BEGIN on the server's, with nothing left over. */
static void auth_pair(int pipelined, int no_identity)
{
	const char *guid = "0123456789abcdef0123456789abcdef";
	struct dbus_auth_client c;
	struct dbus_auth_server s = {0};
	struct dbus_err err;
	char to_server[512], reply[128], out[DBUS_AUTH_OPEN_MAX];
	size_t n = dbus_auth_client_open(&c, pipelined, no_identity, to_server, sizeof to_server);
	size_t pos = 1; /* past the NUL */
	char replies[512] = "";
	int client = 0, server = 0;

	CHECK(n > 1 && to_server[0] == 0);
	for (int round = 0; round < 8 && server != 1; round++) {
		/* the server answers every whole line it has */
		char *crlf;
		while (server == 0 && (crlf = strstr(to_server + pos, "\r\n")) != NULL) {
			server = dbus_auth_server_line(&s, guid, to_server + pos,
						       (size_t)(crlf - (to_server + pos)), reply,
						       sizeof reply, &err);
			pos = (size_t)(crlf - to_server) + 2;
			strcat(replies, reply);
		}
		/* the client reads every answer; what it sends joins the queue */
		while (client != DBUS_AUTH_OK && (crlf = strstr(replies, "\r\n")) != NULL) {
			client = dbus_auth_client_line(&c, replies, (size_t)(crlf - replies), out,
						       sizeof out, &err);
			memmove(replies, crlf + 2, strlen(crlf + 2) + 1);
			CHECK(client == 0 || client == DBUS_AUTH_OK);
			if (client < 0)
				return;
			strcat(to_server + pos, out);
		}
	}
	CHECK(client == DBUS_AUTH_OK && server == 1);
	CHECK(strcmp(c.guid, guid) == 0);
	CHECK(replies[0] == 0 && to_server[pos] == 0);
}

/* Server lines fed to the client; each answer and return value checked. */
struct client_step {
	const char *line, *out;
	int ret;
};

static void client_script(int pipelined, const struct client_step *steps, size_t n,
			  const char *last_error)
{
	struct dbus_auth_client c;
	struct dbus_err err = {{0}};
	char open[DBUS_AUTH_OPEN_MAX], out[DBUS_AUTH_OPEN_MAX];

	dbus_auth_client_open(&c, pipelined, 0, open, sizeof open);
	for (size_t i = 0; i < n; i++) {
		int r = dbus_auth_client_line(&c, steps[i].line, strlen(steps[i].line), out,
					      sizeof out, &err);
		if (r != steps[i].ret || strcmp(out, steps[i].out) != 0) {
			fprintf(stderr, "client line '%s': %d '%s' (%s)\n", steps[i].line, r, out,
				err.msg);
			failures++;
		}
	}
	if (last_error && !strstr(err.msg, last_error)) {
		fprintf(stderr, "client: '%s', want '%s'\n", err.msg, last_error);
		failures++;
	}
}

static void test_auth_client(void)
{
	const char *ok = "OK 0123456789abcdef0123456789abcdef";
	char hex[64] = "", uid[24], open[DBUS_AUTH_OPEN_MAX], want[128], data[80], auth[80];
	struct dbus_auth_client c;
	size_t n;

	snprintf(uid, sizeof uid, "%lu", (unsigned long)getuid());
	for (size_t i = 0; uid[i]; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)uid[i]);
	/* the openings */
	n = dbus_auth_client_open(&c, 1, 0, open, sizeof open);
	snprintf(want, sizeof want, "AUTH EXTERNAL %s\r\nBEGIN\r\n", hex);
	CHECK(n == 1 + strlen(want) && open[0] == 0 && strcmp(open + 1, want) == 0);
	n = dbus_auth_client_open(&c, 1, 1, open, sizeof open);
	CHECK(strcmp(open + 1, "AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n") == 0);
	n = dbus_auth_client_open(&c, 0, 0, open, sizeof open);
	snprintf(want, sizeof want, "AUTH EXTERNAL %s\r\n", hex);
	CHECK(strcmp(open + 1, want) == 0);
	CHECK(dbus_auth_client_open(&c, 1, 0, open, 16) == 0);

	for (int p = 0; p < 2; p++)
		for (int id = 0; id < 2; id++)
			auth_pair(p, id);

	/* pipelined: anything but OK voids the queue */
	{
		static const struct client_step rejected[] = {{"REJECTED EXTERNAL", "", DBUS_AUTH_RETRY}};
		static const struct client_step error[] = {{"ERROR no", "", DBUS_AUTH_RETRY}};
		static const struct client_step challenge[] = {{"DATA", "", DBUS_AUTH_RETRY}};
		static const struct client_step unknown[] = {{"AGREE_UNIX_FD", "", -1}};
		static const struct client_step badok[] = {{"OK 1234", "", -1}};
		static const struct client_step garbage[] = {{"OK \x01", "", -1}};
		client_script(1, rejected, 1, "refused the pipelined authentication");
		client_script(1, error, 1, NULL);
		client_script(1, challenge, 1, NULL);
		client_script(1, unknown, 1, "unexpected authentication reply");
		client_script(1, badok, 1, "malformed authentication reply");
		client_script(1, garbage, 1, "garbage");
	}
	{
		const struct client_step good[] = {{ok, "", DBUS_AUTH_OK}, {ok, "", -1}};
		client_script(1, good, 2, "authentication has ended");
	}
	/* pipelined without identity, OK before any challenge: the line after
	 * it answers our queued DATA and is passed over */
	{
		struct dbus_err err = {{0}};
		char out[DBUS_AUTH_OPEN_MAX];
		dbus_auth_client_open(&c, 1, 1, open, sizeof open);
		CHECK(dbus_auth_client_line(&c, ok, strlen(ok), out, sizeof out, &err) == 0);
		CHECK(dbus_auth_client_line(&c, "ERROR x", 7, out, sizeof out, &err) == DBUS_AUTH_OK);
		CHECK(strcmp(c.guid, ok + 3) == 0 && out[0] == 0);
		dbus_auth_client_open(&c, 1, 1, open, sizeof open);
		CHECK(dbus_auth_client_line(&c, "DATA", 4, out, sizeof out, &err) == 0);
		CHECK(dbus_auth_client_line(&c, ok, strlen(ok), out, sizeof out, &err) == DBUS_AUTH_OK);
	}
	/* step by step: the next mechanism, a DATA challenge answered once,
	 * ERROR cancelled, the offered list named at the end */
	snprintf(auth, sizeof auth, "AUTH ANONYMOUS 697063626f78\r\n");
	snprintf(data, sizeof data, "DATA %s\r\n", hex);
	{
		const struct client_step steps[] = {
			{"REJECTED EXTERNAL ANONYMOUS", auth, 0},
			{"REJECTED EXTERNAL ANONYMOUS", "", -1},
		};
		client_script(0, steps, 2, "the bus rejected authentication (offered: EXTERNAL ANONYMOUS)");
	}
	{
		const struct client_step steps[] = {{"REJECTED", auth, 0}, {ok, "BEGIN\r\n", DBUS_AUTH_OK}};
		client_script(0, steps, 2, NULL);
	}
	{
		const struct client_step steps[] = {
			{"DATA", data, 0}, {"DATA", "CANCEL\r\n", 0}, {ok, "", -1}};
		client_script(0, steps, 3, "unexpected authentication reply");
	}
	{
		const struct client_step steps[] = {{"DATA", data, 0}, {ok, "BEGIN\r\n", DBUS_AUTH_OK}};
		client_script(0, steps, 2, NULL);
	}
	{
		const struct client_step steps[] = {
			{"ERROR what", "CANCEL\r\n", 0},
			{"REJECTED DBUS_COOKIE_SHA1", "", -1},
		};
		client_script(0, steps, 2, "offered: DBUS_COOKIE_SHA1");
	}
	{
		const struct client_step steps[] = {{"ERROR a", "CANCEL\r\n", 0}, {"ERROR b", "", -1}};
		client_script(0, steps, 2, "the bus refused authentication: ERROR b");
	}
	{
		const struct client_step steps[] = {{"REJECTED ANONYMOUSX EXTERNALX", "", -1}};
		client_script(0, steps, 1, "offered: ANONYMOUSX EXTERNALX");
	}
}

static void test_defaults(void)
{
	struct dbus_err err;

	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/s", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/s") == 0);
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/run/user/1000/bus") == 0);
	setenv("XDG_RUNTIME_DIR", "/run/a b", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/run/a%20b/bus") == 0);
	unsetenv("XDG_RUNTIME_DIR");
	CHECK(dbus_default_address(DBUS_BUS_SESSION, &err) == NULL && strstr(err.msg, "no session bus"));
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SYSTEM, &err),
		     "unix:path=/run/dbus/system_bus_socket") == 0);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/y", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SYSTEM, &err), "unix:path=/y") == 0);
}

static int intro(const char *xml, struct dbus_intro *in)
{
	struct dbus_err err;
	return dbus_intro_parse(in, xml, strlen(xml), &err);
}

static void test_introspect(void)
{
	static const char *const bad[] = {
		"", "<node>", "<node></nod>", "<node/><node/>", "text<node/>", "<node a=b/>",
		"<node a='1' a='2'/>", "<node><interface/></node>",
		"<node><interface name='a.b'><method/></interface></node>",
		"<node><interface name='a.b'><property name='p' type='zz'/></interface></node>",
		"<node><interface name='a.b'><property name='p' type='s' access='all'/></interface></node>",
		"<!DOCTYPE node [<!ENTITY x 'y'>]><node/>", "<node name='&bogus;'/>",
		"<node name='&#0;'/>", "<node name='&#6a;'/>", "<node name='&#x4g;'/>",
		"<node><!-- unterminated </node>", "<node a='<'/>",
		"<node><node></node></node>",
	};
	struct dbus_intro in;
	char deep[4 * DBUS_INTRO_MAX_DEPTH + 64] = "";

	CHECK(intro("<?xml version='1.0'?><!DOCTYPE node PUBLIC \"x\" \"y\">\n<!-- c -->"
		    "<node name=\"/a\"><interface name=\"org.x.Y\">"
		    "<method name=\"M\"><arg type=\"s\" direction=\"in\"/><arg type=\"a{sv}\" direction=\"out\"/>"
		    "<annotation name=\"org.freedesktop.DBus.Deprecated\" value=\"true\"/></method>"
		    "<signal name=\"S\"><arg type=\"i\"/><arg type=\"(ii)\"/></signal>"
		    "<property name=\"P\" type=\"as\" access=\"readwrite\"/>"
		    "<doc:doc><doc:summary>ignored &amp; skipped</doc:summary></doc:doc>"
		    "</interface><node name=\"child\"/><node name=\"x&amp;y&#x41;&#66;&#x6a;\"></node></node>",
		    &in) == 0);
	CHECK(in.nifaces == 1 && strcmp(in.ifaces[0], "org.x.Y") == 0);
	CHECK(in.nmembers == 3);
	CHECK(in.members[0].kind == DBUS_INTRO_METHOD && strcmp(in.members[0].in, "s") == 0 &&
	      strcmp(in.members[0].out, "a{sv}") == 0 && (in.members[0].flags & DBUS_INTRO_DEPRECATED));
	CHECK(in.members[1].kind == DBUS_INTRO_SIGNAL && strcmp(in.members[1].in, "i(ii)") == 0);
	CHECK(in.members[2].kind == DBUS_INTRO_PROPERTY && (in.members[2].flags & DBUS_INTRO_WRITABLE) &&
	      (in.members[2].flags & DBUS_INTRO_EMITS_CHANGE));
	CHECK(in.nchildren == 2 && strcmp(in.children[1], "x&yABj") == 0);
	dbus_intro_free(&in);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (intro(bad[i], &in) == 0) {
			fprintf(stderr, "introspection '%s' accepted\n", bad[i]);
			failures++;
			dbus_intro_free(&in);
		}
	for (int i = 0; i <= DBUS_INTRO_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	CHECK(intro(deep, &in) < 0);
	/* markup whose terminator ends the data; a byte short of it, or one off */
	CHECK(intro("<node/><!-- c -->", &in) == 0);
	dbus_intro_free(&in);
	CHECK(intro("<node/><!-- c --", &in) < 0);
	CHECK(intro("<node/><!-- c -x>", &in) < 0);
}

/* The next message c sent, read from the other end of the pair (fd): 0, or
 * -1 if none is waiting. */
static int sent_msg(int fd, struct dbus_msg *m)
{
	static uint8_t buf[4096];
	struct pollfd p = {fd, POLLIN, 0};
	struct dbus_err err;
	size_t total, have = 0;

	if (poll(&p, 1, 0) != 1)
		return -1;
	while (have < 16) {
		ssize_t n = read(fd, buf + have, 16 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	total = dbus_msg_length(buf, &err);
	if (total == 0 || total > sizeof buf)
		return -1;
	while (have < total) {
		ssize_t n = read(fd, buf + have, total - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return dbus_msg_parse(m, buf, total, &err);
}

/* A reply sent: its type, the serial it answers, its destination and its
 * one string (or none). */
static int is_reply(const struct dbus_msg *m, int type, uint32_t to, const char *error_name,
		    const char *text)
{
	return m->type == type && m->reply_serial == to && m->destination &&
	       strcmp(m->destination, ":1.9") == 0 && m->serial != 0 &&
	       (error_name ? m->error_name && strcmp(m->error_name, error_name) == 0 : !m->error_name) &&
	       (text ? m->nbody == 1 && m->body[0].type == 's' && strcmp(m->body[0].v.str, text) == 0
		     : m->nbody == 0);
}

/* A file holding text, in dir. */
static const char *id_file(const char *dir, const char *text)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/machine-id", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	if (fd >= 0)
		close(fd);
	return path;
}

static void test_machine_id(void)
{
	static const char *const bad[] = {
		"", "\n", "0123456789abcdef0123456789abcde\n", "0123456789abcdef0123456789abcdef0\n",
		"0123456789abcdef0123456789abcdeg\n", "0123456789abcdef 123456789abcdef\n",
	};
	const char *tmp = getenv("TMPDIR");
	char dir[512], missing[600], id[33];

	snprintf(dir, sizeof dir, "%s/ipcbox-unit-conn.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(dbus_machine_id_read(id_file(dir, "0123456789abcdef0123456789ABCDEF\n"), id) == 0 &&
	      strcmp(id, "0123456789abcdef0123456789ABCDEF") == 0);
	CHECK(dbus_machine_id_read(id_file(dir, "00112233445566778899aabbccddeeff"), id) == 0 &&
	      strcmp(id, "00112233445566778899aabbccddeeff") == 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (dbus_machine_id_read(id_file(dir, bad[i]), id) != -1 || errno != EINVAL) {
			fprintf(stderr, "machine id file '%s' accepted\n", bad[i]);
			failures++;
		}
	}
	CHECK(unlink(id_file(dir, "")) == 0);
	snprintf(missing, sizeof missing, "%s/machine-id", dir);
	CHECK(dbus_machine_id_read(missing, id) == -1 && errno == ENOENT);
	CHECK(rmdir(dir) == 0);
}

/* What a connection answers: Peer.Ping and Peer.GetMachineId, replies and
 * errors to the caller, nothing when no reply is expected, UnknownMethod
 * for the rest (dbus_conn_answer), and a broken connection an error. */
static void test_replies(void)
{
	struct dbus_msg call = {.type = DBUS_METHOD_CALL, .serial = 7, .sender = ":1.9", .path = "/",
				.interface = "org.freedesktop.DBus.Peer", .member = "Ping"};
	struct dbus_msg sig = {.type = DBUS_SIGNAL, .serial = 8, .sender = ":1.9", .path = "/",
			       .interface = "org.x.Y", .member = "S"};
	struct dbus_conn c = {.fd = -1, .next_serial = 1, .child_status = -1};
	struct dbus_err err = {{0}};
	struct dbus_msg m;
	char id[33];
	int sv[2], have_id;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	c.fd = sv[0];
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	CHECK(dbus_conn_answer_peer(&c, &call, -1, &err) == 1);
	CHECK(sent_msg(sv[1], &m) == 0 && is_reply(&m, DBUS_METHOD_RETURN, 7, NULL, NULL));
	dbus_msg_free(&m);

	call.member = "GetMachineId";
	have_id = dbus_machine_id_read("/etc/machine-id", id) == 0 ||
		  dbus_machine_id_read("/var/lib/dbus/machine-id", id) == 0;
	CHECK(dbus_conn_answer_peer(&c, &call, -1, &err) == 1);
	CHECK(sent_msg(sv[1], &m) == 0);
	if (have_id)
		CHECK(is_reply(&m, DBUS_METHOD_RETURN, 7, NULL, id));
	else
		CHECK(is_reply(&m, DBUS_ERROR, 7, "org.freedesktop.DBus.Error.FileNotFound", "no machine id"));
	dbus_msg_free(&m);

	call.flags = DBUS_FLAG_NO_REPLY_EXPECTED; /* answered: nothing sent */
	CHECK(dbus_conn_answer_peer(&c, &call, -1, &err) == 1);
	CHECK(dbus_conn_answer(&c, &call, -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == -1);
	call.flags = 0;

	call.interface = "org.x.Y"; /* not Peer: dbus_conn_answer_peer leaves it */
	call.member = "Ping";
	CHECK(dbus_conn_answer_peer(&c, &call, -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == -1);
	CHECK(dbus_conn_answer(&c, &call, -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == 0 && is_reply(&m, DBUS_ERROR, 7, "org.freedesktop.DBus.Error.UnknownMethod",
						     "this ipcbox client serves no methods"));
	dbus_msg_free(&m);
	CHECK(dbus_conn_answer(&c, &sig, -1, &err) == 0); /* not a call: left alone */
	CHECK(dbus_conn_answer_peer(&c, &sig, -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == -1);

	CHECK(dbus_conn_reply_error(&c, &call, "org.x.Error.Bad", "why", -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == 0 && is_reply(&m, DBUS_ERROR, 7, "org.x.Error.Bad", "why"));
	dbus_msg_free(&m);
	CHECK(dbus_conn_reply_string(&c, &call, "<node/>", -1, &err) == 0);
	CHECK(sent_msg(sv[1], &m) == 0 && is_reply(&m, DBUS_METHOD_RETURN, 7, NULL, "<node/>"));
	dbus_msg_free(&m);

	close(sv[1]); /* the bus went away */
	CHECK(dbus_conn_reply_string(&c, &call, "x", -1, &err) == -1 && *err.msg);
	close(sv[0]);
}

int main(void)
{
	test_good_addresses();
	test_bad_addresses();
	test_unixexec();
	test_host();
	test_auth_server();
	test_auth_client();
	test_defaults();
	test_introspect();
	test_machine_id();
	test_replies();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
