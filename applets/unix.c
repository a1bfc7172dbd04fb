/* unix applets: unix-connect and unix-listen, the tcp applets' twins for
 * Unix domain stream sockets, named by a PATH or an @ABSTRACT name.
 *
 * unix-listen replaces a stale socket file (one nobody answers on), never
 * anything else, and removes its own socket when it ends.  Connections get
 * the peer's pid, uid and gid (SO_PEERCRED) in the UCSPI variables. */
#include "applets.h"
#include "../lib/clock.h"
#include "../lib/net.h"
#include "../lib/relay.h"
#include "../lib/serve.h"
#include "../lib/sigev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_MODE = OPT_LONG_ONLY };

static struct {
	struct serve_opts o; /* -w -i -z -k -m -e -v, as tcp-* */
	unsigned mode;    /* --mode, for the socket file */
	const char *path; /* our socket file, removed at exit */
	dev_t dev;
	ino_t ino;
} S = {.o = SERVE_OPTS_INIT, .mode = 0600};

/* Exit 2 if the shared options conflict. */
static void check_conflicts(void)
{
	const char *why = serve_conflict(&S.o);

	if (why)
		cli_usage_error("%s", why);
}

static void socket_address(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	if (net_unix_addr(name, sun, len) < 0)
		cli_usage_error("invalid socket name '%s': %s", name,
				errno == ENAMETOOLONG ? "too long" : "empty");
}

static int unix_connect_main(int argc, char **argv)
{
	struct sockaddr_un sun;
	socklen_t len;
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		serve_option(&S.o, key, arg);
	cli_operands(&c, 1, 1);
	const char *name = argv[c.ind];
	socket_address(name, &sun, &len);
	check_conflicts();

	int64_t deadline = clock_deadline(S.o.wait_ms);
	int fd = net_connect((struct sockaddr *)&sun, len, NULL, deadline);
	if (fd < 0 && errno == ETIMEDOUT && deadline >= 0)
		cli_die(EXIT_TIMEOUT, "connect to %s: no answer within %s", name, S.o.wait_text);
	if (fd < 0)
		cli_die_errno(EXIT_FAIL, errno, "connect to %s", name);
	if (S.o.verbose)
		cli_warn("connected to %s", name);
	return serve_connected(fd, NULL, &S.o);
}

/* Remove our socket file, if it is still the one we made. */
static void remove_socket(void)
{
	struct stat st;

	if (S.path && lstat(S.path, &st) == 0 && st.st_dev == S.dev && st.st_ino == S.ino)
		unlink(S.path);
	S.path = NULL;
}

/* serve's callback when one-connection mode stops listening. */
static void stopped(void *ctx)
{
	(void)ctx;
	remove_socket();
}

/* A socket file is in the way: remove it if nobody answers on it. */
static void clear_stale(const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			cli_die_errno(EXIT_FAIL, errno, "%s", path);
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		cli_die(EXIT_FAIL, "%s: exists and is not a socket; not removed", path);
	int fd = net_connect((const struct sockaddr *)sun, len, NULL, clock_deadline(1000));
	if (fd >= 0) {
		close(fd);
		cli_die(EXIT_FAIL, "%s: another process is listening on it", path);
	}
	if (errno != ECONNREFUSED)
		cli_die_errno(EXIT_FAIL, errno, "%s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		cli_die_errno(EXIT_FAIL, errno, "remove stale socket %s", path);
}

/* Bind and listen on name, the file (if any) with mode S.mode. */
static int unix_listen_socket(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	struct stat st;
	int abstract = name[0] == '@';

	socket_address(name, &sun, &len);
	if (!abstract)
		clear_stale(name, &sun, len);
	mode_t old = umask(0777 & ~S.mode);
	int fd = net_listen((struct sockaddr *)&sun, len, SOMAXCONN);
	int err = errno;
	umask(old);
	if (fd < 0)
		cli_die_errno(EXIT_FAIL, err, "listen on %s", name);
	if (!abstract && lstat(name, &st) == 0) {
		S.path = name;
		S.dev = st.st_dev;
		S.ino = st.st_ino;
		atexit(remove_socket);
		if (chmod(name, S.mode) < 0)
			cli_die_errno(EXIT_FAIL, errno, "chmod %s", name);
	}
	return fd;
}

/* serve's admit callback: log the peer's credentials with -v. */
static int unix_admit(int fd, void *ctx)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	(void)ctx;
	if (S.o.verbose && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		cli_warn("connection from pid %ld uid %lu", (long)cred.pid, (unsigned long)cred.uid);
	return 1;
}

static int unix_listen_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (!serve_option(&S.o, key, arg) && key == OPT_MODE)
			S.mode = cli_mode(arg) & 0777;
	cli_operands(&c, 1, 1);
	check_conflicts();

	int sigfd = sigev_open(SIGEV_CHILD);
	int lfd = unix_listen_socket(argv[c.ind]);
	if (S.o.verbose)
		cli_warn("listening on %s", argv[c.ind]);
	struct serve s = {
		.opt = S.o, .lfd = lfd, .sigfd = sigfd, .admit = unix_admit, .stopped = stopped,
	};
	return serve_run(&s);
}

static const struct opt connect_opts[] = {
	{'w', "wait", "CONNECT_TIMEOUT", "give up connecting after this long (exit 124)", NULL},
	{'i', "idle", "IDLE", "end after this long without data either way (exit 124)", NULL},
	{'z', "zero", NULL, "only check that the socket accepts, send nothing", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD with the connection on fd 0 and 1", NULL},
	{'v', "verbose", NULL, "say on stderr when connected", NULL},
	{0},
};

static const struct opt listen_opts[] = {
	{'k', "keep", NULL, "keep listening: serve clients concurrently", NULL},
	{'m', "max", "MAX", "with -k: at most MAX connections at once", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD per connection, socket on fd 0 and 1", NULL},
	{'i', "idle", "IDLE", "close a connection idle that long (exit 124 without -k)", NULL},
	{OPT_MODE, "mode", "MODE", "permissions of the socket file (default 600)", NULL},
	{'v', "verbose", NULL, "report listening and each connection on stderr", NULL},
	{0},
};

const struct applet unix_applets[] = {
	{"unix-connect", unix_connect_main, "[-w CONNECT_TIMEOUT] [-i IDLE] [-z] [-e CMD] [-v] PATH|@ABSTRACT",
	 "connect to a Unix stream socket and relay stdin and stdout over it", connect_opts, NULL},
	{"unix-listen", unix_listen_main,
	 "[-k] [-m MAX] [-e CMD] [-i IDLE] [--mode MODE] [-v] PATH|@ABSTRACT",
	 "listen on a Unix stream socket and relay connections to stdin and stdout", listen_opts,
	 NULL},
	{0},
};
