/* tcp applets: tcp-connect and tcp-listen, a netcat with correct EOF
 * handling, fast copies and UCSPI-style exec.
 *
 * tcp-connect relays stdin/stdout to HOST PORT; tcp-listen waits on PORT
 * (127.0.0.1 unless -b says otherwise) and relays one connection, or with
 * -k keeps serving.  The copy loop is lib/relay.c, the listener modes and
 * the options shared with unix-* lib/serve.c, addresses lib/net.c.  With
 * --tls, lib/tls.c (OpenSSL, loaded then) wraps the connection and
 * lib/tlsrelay.c relays it. */
#include "applets.h"
#include "../lib/clock.h"
#include "../lib/net.h"
#include "../lib/relay.h"
#include "../lib/serve.h"
#include "../lib/sigev.h"
#include "../lib/tls.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ALLOW 64

enum { OPT_ALLOW = OPT_LONG_ONLY, OPT_PORT_FILE };

static struct {
	struct serve_opts o;          /* -w -i -z -k -m -e -v, as unix-* */
	int family;                   /* -4/-6: AF_INET, AF_INET6, AF_UNSPEC */
	const char *source;           /* -s */
	const char *bind;             /* -b */
	const char *port_file;        /* --port-file */
	struct net_cidr allow[MAX_ALLOW]; /* --allow */
	unsigned nallow;
	struct tls_opts tls;          /* --tls and its options */
} S;

/* S starts zeroed (in .bss: an initialiser would store the whole --allow
 * table in the binary); the defaults are set here. */
static void state_defaults(void)
{
	S.o = (struct serve_opts)SERVE_OPTS_INIT;
	S.family = AF_UNSPEC;
	S.tls = (struct tls_opts)TLS_OPTS_INIT;
}

/* The options both applets take: serve's, TLS's and -4/-6; 0 if key is
 * not one. */
static int common_option(int key, char *arg)
{
	if (tls_option(&S.tls, key, arg))
		return 1;
	if (key != '4' && key != '6')
		return serve_option(&S.o, key, arg);
	if (S.family != AF_UNSPEC && S.family != (key == '4' ? AF_INET : AF_INET6))
		cli_usage_error("-4 and -6 cannot be used together");
	S.family = key == '4' ? AF_INET : AF_INET6;
	return 1;
}

/* Exit 2 if the shared options conflict. */
static void check_conflicts(void)
{
	const char *why = serve_conflict(&S.o);

	if (!why)
		why = tls_conflict(&S.tls);
	if (why)
		cli_usage_error("%s", why);
	if (S.tls.first && !S.tls.on)
		cli_usage_error("%s needs --tls", S.tls.first);
}

/* Resolve HOST PORT or die: a name that does not resolve is a failed
 * operation (exit 1), not a usage error. */
static struct addrinfo *resolve(const char *host, uint16_t port, int passive)
{
	struct addrinfo *res;
	int rc = net_resolve(host, port, S.family, passive, &res);

	if (rc == EAI_SYSTEM)
		cli_die_errno(EXIT_FAIL, errno, "resolve %s", host);
	if (rc != 0)
		cli_die(EXIT_FAIL, "resolve %s: %s", host, gai_strerror(rc));
	return res;
}

/* -s: the local address to bind before connecting, of the given family. */
static int source_for(const struct addrinfo *src, int family, struct net_addr *out)
{
	for (; src; src = src->ai_next)
		if (src->ai_family == family) {
			memcpy(&out->ss, src->ai_addr, src->ai_addrlen);
			out->len = src->ai_addrlen;
			return 1;
		}
	return 0;
}

/* Try each address of HOST in turn within the -w deadline; where gets the
 * address connected to. */
static int connect_host(const char *host, uint16_t port, char where[NET_ADDRSTRLEN])
{
	struct addrinfo *res = resolve(host, port, 0), *src = NULL;
	int64_t deadline = clock_deadline(S.o.wait_ms);
	int fd = -1, err = EADDRNOTAVAIL;

	where[0] = '\0';

	if (S.source)
		src = resolve(S.source, 0, 1);
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		struct net_addr local;
		if (src && !source_for(src, ai->ai_family, &local))
			continue;
		net_format(ai->ai_addr, ai->ai_addrlen, where, NET_ADDRSTRLEN);
		fd = net_connect(ai->ai_addr, ai->ai_addrlen, src ? &local : NULL, deadline);
		err = errno;
		if (fd < 0 && deadline >= 0 && clock_now_ms() >= deadline)
			cli_die(EXIT_TIMEOUT, "connect to %s: no answer within %s", where, S.o.wait_text);
	}
	if (fd < 0 && !where[0])
		cli_die(EXIT_FAIL, "connect to %s: no address of the source's family", host);
	if (fd < 0)
		cli_die_errno(EXIT_FAIL, err, "connect to %s", where);
	if (S.o.verbose)
		cli_warn("connected to %s", where);
	freeaddrinfo(res);
	if (src)
		freeaddrinfo(src);
	return fd;
}

static int tcp_connect_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (!common_option(key, arg) && key == 's')
			S.source = arg;
	cli_operands(&c, 2, 2);
	uint16_t port = cli_port(argv[c.ind + 1], 0);
	check_conflicts();

	char where[NET_ADDRSTRLEN], err[TLS_ERR_MAX];
	struct tls_ctx *ctx = NULL;
	struct tls *t = NULL;
	/* The configuration first: a missing library or an unreadable file
	 * is said before anything goes out. */
	if (S.tls.on && !(ctx = tls_ctx_client(&S.tls, err, sizeof err)))
		cli_die(EXIT_FAIL, "%s", err);
	int fd = connect_host(argv[c.ind], port, where);
	if (ctx) {
		int64_t deadline = S.o.wait_ms >= 0 ? clock_deadline(S.o.wait_ms) : -1;
		if (!(t = tls_open(ctx, fd, argv[c.ind], err, sizeof err)) ||
		    tls_handshake(t, deadline, err, sizeof err) < 0)
			cli_die(errno == ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAIL, "TLS with %s: %s", where, err);
		if (S.o.verbose)
			tls_report(t);
	}
	int status = serve_connected(fd, t, &S.o);
	tls_ctx_free(ctx);
	return status;
}

/* serve's admit callback: the --allow list and the -v log. */
static int tcp_admit(int fd, void *ctx)
{
	struct net_addr peer = {.len = sizeof peer.ss};
	char who[NET_ADDRSTRLEN];
	int ok = S.nallow == 0;

	(void)ctx;
	if (getpeername(fd, (struct sockaddr *)&peer.ss, &peer.len) < 0)
		return 0;
	net_format((struct sockaddr *)&peer.ss, peer.len, who, sizeof who);
	for (unsigned i = 0; i < S.nallow && !ok; i++)
		ok = net_cidr_match(&S.allow[i], (struct sockaddr *)&peer.ss);
	if (S.o.verbose)
		cli_warn("%s %s", ok ? "connection from" : "refused connection from", who);
	return ok;
}

/* The listening socket on -b (default loopback) and PORT. */
static int tcp_listen_socket(uint16_t port)
{
	const char *host = S.bind;
	char where[NET_ADDRSTRLEN];

	if (!host)
		host = S.family == AF_INET6 ? "::1" : "127.0.0.1";
	else if (strcmp(host, "*") == 0)
		host = S.family == AF_INET6 ? "::" : "0.0.0.0";
	struct addrinfo *ai = resolve(host, port, 1);
	net_format(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
	int fd = net_listen(ai->ai_addr, ai->ai_addrlen, SOMAXCONN);
	if (fd < 0)
		cli_die_errno(EXIT_FAIL, errno, "listen on %s", where);
	freeaddrinfo(ai);
	return fd;
}

static int tcp_listen_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		if (common_option(key, arg))
			continue;
		switch (key) {
		case 'b':
			S.bind = arg;
			break;
		case OPT_ALLOW:
			if (S.nallow == MAX_ALLOW)
				cli_usage_error("too many --allow (at most %d)", MAX_ALLOW);
			if (net_cidr_parse(arg, &S.allow[S.nallow++]) < 0)
				cli_usage_error("invalid address block '%s'", arg);
			break;
		case OPT_PORT_FILE:
			S.port_file = arg;
			break;
		}
	}
	cli_operands(&c, 1, 1);
	uint16_t port = cli_port(argv[c.ind], 1);
	check_conflicts();

	/* A certificate that cannot serve is said before listening. */
	char err[TLS_ERR_MAX];
	struct tls_ctx *ctx = NULL;
	if (S.tls.on && !(ctx = tls_ctx_server(&S.tls, err, sizeof err)))
		cli_die(EXIT_FAIL, "%s", err);
	if (ctx && !S.tls.cert)
		cli_warn("TLS with an ephemeral certificate; the other side connects with --pin %s",
			 tls_ctx_pin(ctx));
	int sigfd = sigev_open(SIGEV_CHILD);
	int lfd = tcp_listen_socket(port);
	struct net_addr self = {.len = sizeof self.ss};
	char where[NET_ADDRSTRLEN];
	getsockname(lfd, (struct sockaddr *)&self.ss, &self.len);
	net_format((struct sockaddr *)&self.ss, self.len, where, sizeof where);
	if (S.port_file && net_write_port_file(S.port_file, net_local_port(lfd)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "write port file %s", S.port_file);
	if (S.o.verbose)
		cli_warn("listening on %s", where);

	struct serve s = {.opt = S.o, .lfd = lfd, .sigfd = sigfd, .admit = tcp_admit, .tls = ctx};
	int status = serve_run(&s);
	tls_ctx_free(ctx);
	return status;
}

static const struct opt connect_opts[] = {
	{'4', "ipv4", NULL, "IPv4 only", NULL},
	{'6', "ipv6", NULL, "IPv6 only", NULL},
	{'s', "source", "ADDR", "connect from this local address", "host"},
	{'w', "wait", "CONNECT_TIMEOUT", "give up connecting after this long (exit 124)", NULL},
	{'i', "idle", "IDLE", "end after this long without data either way (exit 124)", NULL},
	{'z', "zero", NULL, "only check that the port accepts, send nothing", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD with the connection on fd 0 and 1", NULL},
	{'v', "verbose", NULL, "say on stderr when connected (with --tls: protocol, cipher, peer)", NULL},
	TLS_OPT_ENTRY_TLS,
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
	TLS_OPT_ENTRIES_PROTO,
	{0},
};

static const struct opt listen_opts[] = {
	{'4', "ipv4", NULL, "IPv4 only (default bind 127.0.0.1)", NULL},
	{'6', "ipv6", NULL, "IPv6 only (default bind ::1)", NULL},
	{'b', "bind", "ADDR", "listen on ADDR ('*' for every address)", "host"},
	{'k', "keep", NULL, "keep listening: serve clients concurrently", NULL},
	{'m', "max", "MAX", "with -k: at most MAX connections at once", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD per connection, socket on fd 0 and 1", NULL},
	{OPT_ALLOW, "allow", "CIDR", "accept only peers in CIDR (repeatable)", NULL},
	{'i', "idle", "IDLE", "close a connection idle that long (exit 124 without -k)", NULL},
	{OPT_PORT_FILE, "port-file", "FILE", "write the bound port to FILE", "file"},
	{'v', "verbose", NULL, "report listening and each connection on stderr", NULL},
	TLS_OPT_ENTRY_TLS,
	TLS_OPT_ENTRIES_CERT,
	TLS_OPT_ENTRY_CLIENT_CA,
	TLS_OPT_ENTRIES_PROTO,
	{0},
};

const struct applet tcp_applets[] = {
	{"tcp-connect", tcp_connect_main,
	 "[-46] [-s ADDR] [-w CONNECT_TIMEOUT] [-i IDLE] [-z] [-e CMD] [-v] [--tls [--cacert FILE] "
	 "[--capath DIR] [--cert FILE --key FILE] [--servername NAME] [--insecure | --pin sha256//BASE64]... "
	 "[--tls-min VERSION] [--alpn LIST]] HOST PORT",
	 "connect to HOST PORT and relay stdin and stdout over the connection", connect_opts,
	 NULL},
	{"tcp-listen", tcp_listen_main,
	 "[-46] [-b ADDR] [-k] [-m MAX] [-e CMD] [--allow CIDR]... [-i IDLE] [--port-file FILE] "
	 "[-v] [--tls [--cert FILE --key FILE] [--client-ca FILE] [--tls-min VERSION] [--alpn LIST]] PORT",
	 "listen on PORT (loopback by default) and relay connections to stdin and stdout",
	 listen_opts, NULL},
	{0},
};
