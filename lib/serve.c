/* serve: the listener modes; see serve.h. */
#include "serve.h"
#include "cli.h"
#include "clock.h"
#include "io.h"
#include "net.h"
#include "relay.h"
#include "sigev.h"
#include "spawn.h"
#include "tls.h"
#include "tlsrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Clients served at once by -k without -m. */
#define SERVE_DEFAULT_MAX 1000

int serve_option(struct serve_opts *o, int key, const char *arg)
{
	switch (key) {
	case 'w':
		o->wait_ms = cli_duration(arg, "connect timeout", 0);
		o->wait_text = arg;
		return 1;
	case 'i':
		o->idle_ms = cli_duration(arg, "idle time", 0);
		o->idle_text = arg;
		return 1;
	case 'z':
		o->zero = 1;
		return 1;
	case 'k':
		o->keep = 1;
		return 1;
	case 'm':
		o->max = (unsigned)cli_uint(arg, "connection count", 1, 100000);
		return 1;
	case 'e':
		o->cmd = arg;
		return 1;
	case 'v':
		o->verbose = 1;
		return 1;
	}
	return 0;
}

const char *serve_conflict(const struct serve_opts *o)
{
	if (o->zero && o->cmd)
		return "-z and -e cannot be used together";
	if (o->max && !o->keep)
		return "-m needs -k";
	if (o->cmd && o->idle_ms >= 0)
		return "-i and -e cannot be used together";
	return NULL;
}

/* Turn a relay's end into an exit status, printing the diagnostic if any.
 * A signal ends a listener with 0, a connecting applet with 128+N. */
static int serve_relay_status(const struct relay_result *r, int listener, const char *idle_text)
{
	switch (r->end) {
	case RELAY_DONE:
	case RELAY_STDOUT_CLOSED:
		return EXIT_OK;
	case RELAY_IDLE:
		cli_warn("idle for %s: connection closed", idle_text);
		return EXIT_TIMEOUT;
	case RELAY_SIGNAL:
		return listener ? EXIT_OK : 128 + r->signo;
	case RELAY_ERROR:
		break;
	}
	if (r->msg)
		cli_warn("%s", r->msg);
	else
		cli_warn_errno(r->err, "%s", r->what);
	return EXIT_FAIL;
}

/* The variables of a command run for a connection: UCSPI's, and TLS's
 * when there is TLS. */
struct cmd_env {
	struct net_env net;
	struct tls_env tls;
	char *vars[NET_ENV_MAX + TLS_ENV_MAX + 1];
};

static void cmd_env_fill(struct cmd_env *e, int fd, struct tls *t)
{
	int n = 0;

	net_ucspi_env(fd, &e->net);
	for (int i = 0; e->net.env[i]; i++)
		e->vars[n++] = e->net.env[i];
	if (t) {
		tls_env(t, &e->tls);
		for (int i = 0; e->tls.env[i]; i++)
			e->vars[n++] = e->tls.env[i];
	}
	e->vars[n] = NULL;
}

/* tls_relay_process's question for a -e command: close_notify says the
 * data ended there, which is true only if the command exited (a command
 * killed by a signal was cut short); not known while it runs. */
static enum tls_end command_ended_well(void *ctx, int peer_done, const char **why)
{
	siginfo_t si;

	(void)peer_done;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, *(pid_t *)ctx, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return TLS_END_CLEAN; /* not ours to know */
	if (si.si_pid == 0)
		return TLS_END_UNKNOWN;
	if (si.si_code == CLD_EXITED)
		return TLS_END_CLEAN;
	*why = "the command was killed by a signal: the connection ends without close_notify";
	return TLS_END_CUT;
}

/* -e over TLS: the command's fd 0 and 1 are one end of a socketpair, and
 * this process relays between the other end and the TLS connection, whose
 * socket fd is.  Returns the command's status, or 1 if it is 0 and the
 * relay ended badly (which it has said on stderr). */
static int run_tls_cmd(const char *cmd, int fd, struct tls *t, int sigfd)
{
	struct cmd_env env;
	struct relay_result r;
	int sv[2], status;

	cmd_env_fill(&env, fd, t);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		cli_warn_errno(errno, "socketpair");
		return EXIT_FAIL;
	}
	struct spawn_req req = {.cmd = cmd, .in = sv[1], .out = sv[1], .err = SPAWN_INHERIT, .vars = env.vars};
	pid_t pid = spawn_start(&req);
	int err = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		cli_warn_errno(err, "run '%s'", cmd);
		return EXIT_FAIL;
	}
	/* Never block on the command: it may be writing to us meanwhile. */
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	tls_relay_process(sv[0], t, sigfd, command_ended_well, &pid, &r);
	close(sv[0]);
	if (r.end == RELAY_SIGNAL)
		kill(pid, r.signo);
	else if (r.end == RELAY_ERROR)
		serve_relay_status(&r, 0, NULL);
	status = spawn_wait(pid);
	if (status < 0) {
		cli_warn_errno(errno, "wait");
		return EXIT_FAIL;
	}
	/* A relay that failed (a connection cut short, ...) is not a success
	 * even if the command, which saw only an EOF, thinks so. */
	return status == EXIT_OK && r.end == RELAY_ERROR ? EXIT_FAIL : status;
}

/* -e without TLS: start the command with the socket itself on fd 0 and 1
 * and the UCSPI variables; its pid, or -1 after a warning. */
static pid_t start_cmd(const char *cmd, int fd)
{
	struct cmd_env env;
	pid_t pid;

	cmd_env_fill(&env, fd, NULL);
	struct spawn_req req = {.cmd = cmd, .in = fd, .out = fd, .err = SPAWN_INHERIT, .vars = env.vars};
	pid = spawn_start(&req);
	if (pid < 0)
		cli_warn_errno(errno, "run '%s'", cmd);
	return pid;
}

/* -e without TLS, connecting: start the command, wait for its status. */
static int run_cmd(const char *cmd, int fd)
{
	pid_t pid = start_cmd(cmd, fd);

	close(fd);
	if (pid < 0)
		return EXIT_FAIL;
	int status = spawn_wait(pid);
	if (status < 0) {
		cli_warn_errno(errno, "wait");
		return EXIT_FAIL;
	}
	return status;
}

int serve_connected(int fd, struct tls *t, const struct serve_opts *o)
{
	struct relay_result r;
	int status;

	if (o->zero) {
		if (t)
			tls_shutdown(t);
		status = EXIT_OK;
	} else if (t && o->cmd) {
		status = run_tls_cmd(o->cmd, fd, t, sigev_open(SIGEV_CHILD));
	} else if (o->cmd) {
		return run_cmd(o->cmd, fd);
	} else {
		if (t)
			tls_relay_run(STDIN_FILENO, STDOUT_FILENO, t, o->idle_ms, sigev_open(SIGEV_CHILD), &r);
		else
			relay_run(STDIN_FILENO, STDOUT_FILENO, fd, o->idle_ms, sigev_open(SIGEV_CHILD), &r);
		status = serve_relay_status(&r, 0, o->idle_text);
	}
	tls_close(t);
	close(fd);
	return status;
}

/* Accept one connection if there is one; -1 if none (EAGAIN and the like)
 * or the admit callback refused it.  The socket is blocking. */
static int accept_one(const struct serve *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			cli_warn_errno(errno, "accept");
		return -1;
	}
	if (!s->admit(fd, s->ctx)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The first stop signal waiting in the pipe, or 0; once there is one, the
 * later ones are held so that the way out is not cut short. */
static int stop_signal(int sigfd, int *child)
{
	int sig = sigev_take(sigfd, child);

	if (sig)
		sigev_hold();
	return sig;
}

/* Wait until the listener or the signal pipe is ready.  Returns the
 * terminating signal or 0; *child is set if SIGCHLD came. */
static int wait_listener(const struct serve *s, int listen, int *child)
{
	struct pollfd pf[2] = {{.fd = s->sigfd, .events = POLLIN}, {.fd = s->lfd, .events = POLLIN}};

	*child = 0;
	if (poll(pf, listen ? 2 : 1, -1) < 0)
		return 0;
	if (pf[0].revents)
		return stop_signal(s->sigfd, child);
	return 0;
}

/* Wait for the one child, passing INT/TERM/HUP on to it. */
static int wait_child(const struct serve *s, pid_t pid)
{
	int status = spawn_wait_forward(pid, s->sigfd);

	if (status < 0) {
		cli_warn_errno(errno, "wait");
		return EXIT_FAIL;
	}
	return status;
}

/* A listener's TLS handshake on the accepted fd, within -i or
 * TLS_HANDSHAKE_MS: the connection, or NULL after one line saying why. */
static struct tls *accept_tls(const struct serve *s, int fd)
{
	char err[TLS_ERR_MAX], who[NET_ADDRSTRLEN] = "a client";
	struct net_addr peer = {.len = sizeof peer.ss};
	struct tls *t = tls_open(s->tls, fd, NULL, err, sizeof err);
	int64_t limit = s->opt.idle_ms >= 0 ? s->opt.idle_ms : TLS_HANDSHAKE_MS;

	/* Asked now: a client that gave up is no longer connected after. */
	if (getpeername(fd, (struct sockaddr *)&peer.ss, &peer.len) == 0)
		net_format((struct sockaddr *)&peer.ss, peer.len, who, sizeof who);
	if (t && tls_handshake(t, clock_deadline(limit), err, sizeof err) == 0) {
		if (s->opt.verbose)
			tls_report(t);
		return t;
	}
	cli_warn("TLS with %s: %s", who, err);
	tls_close(t);
	return NULL;
}

/* In a child forked for one TLS connection: let go of the listener, take
 * a signal pipe of its own, run the handshake; exit 1 if it fails. */
static struct tls *tls_child_begin(const struct serve *s, int fd, int *sigfd)
{
	struct tls *t;

	close(s->lfd);
	*sigfd = sigev_renew();
	if (!(t = accept_tls(s, fd)))
		_exit(EXIT_FAIL);
	return t;
}

/* -k -e over TLS: a child per connection runs its handshake, then the
 * command, relaying for it.  Its pid, or -1. */
static pid_t start_tls_cmd(const struct serve *s, int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int sigfd;
		struct tls *t = tls_child_begin(s, fd, &sigfd);
		_exit(run_tls_cmd(s->opt.cmd, fd, t, sigfd));
	}
	if (pid < 0)
		cli_warn_errno(errno, "fork");
	return pid;
}

/* No -k, over TLS: the handshake here, then the command or the relay. */
static int serve_once_tls(const struct serve *s, int fd)
{
	struct tls *t = accept_tls(s, fd);
	struct relay_result r;
	int status;

	if (!t) {
		close(fd);
		return EXIT_FAIL;
	}
	if (s->opt.cmd) {
		status = run_tls_cmd(s->opt.cmd, fd, t, s->sigfd);
	} else {
		tls_relay_run(STDIN_FILENO, STDOUT_FILENO, t, s->opt.idle_ms, s->sigfd, &r);
		status = serve_relay_status(&r, 1, s->opt.idle_text);
	}
	tls_close(t);
	close(fd);
	return status;
}

/* No -k: one connection, then done. */
static int serve_once(const struct serve *s)
{
	int fd = -1, child;

	while (fd < 0) {
		int sig = wait_listener(s, 1, &child);
		if (sig)
			return EXIT_OK;
		fd = accept_one(s);
	}
	close(s->lfd);
	if (s->stopped)
		s->stopped(s->ctx);
	if (s->tls)
		return serve_once_tls(s, fd);
	if (s->opt.cmd) {
		pid_t pid = start_cmd(s->opt.cmd, fd);
		close(fd);
		return pid < 0 ? EXIT_FAIL : wait_child(s, pid);
	}
	struct relay_result r;
	relay_run(STDIN_FILENO, STDOUT_FILENO, fd, s->opt.idle_ms, s->sigfd, &r);
	close(fd);
	return serve_relay_status(&r, 1, s->opt.idle_text);
}

/* -k -e: a child per connection, at most max at once. */
static int serve_exec(const struct serve *s)
{
	unsigned children = 0, max = s->opt.max ? s->opt.max : SERVE_DEFAULT_MAX;

	for (;;) {
		int child = 0;
		int sig = wait_listener(s, children < max, &child);
		if (sig)
			return EXIT_OK;
		if (child) {
			int n = spawn_reap();
			children = (unsigned)n > children ? 0 : children - (unsigned)n;
			continue;
		}
		if (children >= max)
			continue;
		int fd = accept_one(s);
		if (fd < 0)
			continue;
		if ((s->tls ? start_tls_cmd(s, fd) : start_cmd(s->opt.cmd, fd)) > 0)
			children++;
		close(fd);
	}
}

/* -k alone: the clients of one process. */
struct hub_client {
	int fd;
	size_t off;   /* how much of the current stdin chunk it has been sent */
	int rd_eof;   /* it closed its sending side */
	int64_t last; /* last byte moved, for -i */
};

struct hub {
	const struct serve *s;
	struct hub_client *c;
	unsigned n, max;
	char *chunk, *rbuf;
	size_t len;    /* bytes of stdin in chunk, being sent to every client */
	int stdin_eof;
};

static void hub_drop(struct hub *h, unsigned i)
{
	close(h->c[i].fd);
	h->c[i] = h->c[--h->n];
}

/* tls_relay_process's question for a hub client's relay: the hub's end
 * of the socketpair has ended.  A clean end is the hub's half-close (its
 * stdin ended) or its close once the client's data had ended; a close while
 * the client still had its say (POLLHUP: both directions gone) is the hub
 * dropping it (-i), or the listener killed: no close_notify for that.
 * Unix sockets mark both directions of the peer shut before its reader
 * wakes, so POLLHUP is there when the EOF is. */
static enum tls_end hub_end_clean(void *ctx, int peer_done, const char **why)
{
	struct pollfd pf = {.fd = *(int *)ctx, .events = 0};

	if (peer_done || poll(&pf, 1, 0) < 1 || !(pf.revents & POLLHUP))
		return TLS_END_CLEAN;
	*why = "the listener dropped the connection: it ends without close_notify";
	return TLS_END_CUT;
}

/* A TLS client of the hub: a child forked for it runs the handshake and
 * relays between TLS and a socketpair, whose other end the hub serves as
 * it would the client's socket.  That end, or -1. */
static int hub_tls_client(struct hub *h, int fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		cli_warn_errno(errno, "socketpair");
		close(fd);
		return -1;
	}
	if ((pid = fork()) == 0) {
		struct relay_result r;
		int sigfd;
		for (unsigned i = 0; i < h->n; i++)
			close(h->c[i].fd);
		close(sv[0]);
		struct tls *t = tls_child_begin(h->s, fd, &sigfd);
		fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
		tls_relay_process(sv[1], t, sigfd, hub_end_clean, &sv[1], &r);
		_exit(r.end == RELAY_ERROR ? serve_relay_status(&r, 1, NULL) : EXIT_OK);
	}
	close(sv[1]);
	close(fd);
	if (pid < 0) {
		cli_warn_errno(errno, "fork");
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

static void hub_accept(struct hub *h)
{
	int fd = accept_one(h->s);

	if (fd >= 0 && h->s->tls)
		fd = hub_tls_client(h, fd);
	if (fd < 0)
		return;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (h->stdin_eof)
		shutdown(fd, SHUT_WR);
	/* A client that arrives mid-chunk starts with the next one. */
	h->c[h->n++] = (struct hub_client){.fd = fd, .off = h->len, .last = clock_now_ms()};
}

/* Read a chunk of stdin for every client; at EOF half-close them all. */
static void hub_read_stdin(struct hub *h)
{
	ssize_t n = read(STDIN_FILENO, h->chunk, RELAY_BUF);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		cli_warn_errno(errno, "read stdin");
	if (n <= 0) {
		h->stdin_eof = 1;
		for (unsigned i = 0; i < h->n; i++)
			shutdown(h->c[i].fd, SHUT_WR);
		return;
	}
	h->len = (size_t)n;
	for (unsigned i = 0; i < h->n; i++)
		h->c[i].off = 0;
}

/* What serving one client asks of the hub. */
enum hub_verdict {
	HUB_KEEP,	/* the client goes on */
	HUB_DROP,	/* the client is done or broken: close it */
	HUB_STDOUT_GONE, /* stdout's reader is gone: end quietly, status 0 */
	HUB_STDOUT_FAILED, /* writing stdout failed (said): end, status 1 */
};

/* Serve one ready client. */
static enum hub_verdict hub_client_io(struct hub *h, struct hub_client *c, short revents)
{
	if ((revents & (POLLOUT | POLLERR | POLLHUP)) && c->off < h->len) {
		ssize_t n = send(c->fd, h->chunk + c->off, h->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return HUB_DROP;
		if (n > 0) {
			c->off += (size_t)n;
			c->last = clock_now_ms();
		}
	}
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !c->rd_eof) {
		ssize_t n = read(c->fd, h->rbuf, RELAY_BUF);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return HUB_DROP;
		if (n == 0)
			c->rd_eof = 1;
		if (n > 0) {
			c->last = clock_now_ms();
			if (io_write_all(STDOUT_FILENO, h->rbuf, (size_t)n) < 0) {
				if (errno == EPIPE) /* a closed stdout ends it quietly */
					return HUB_STDOUT_GONE;
				cli_warn_errno(errno, "write stdout");
				return HUB_STDOUT_FAILED;
			}
		}
	}
	return c->rd_eof && c->off >= h->len ? HUB_DROP : HUB_KEEP;
}

/* Poll set: [0] signals, [1] listener, [2] stdin, then the clients. */
static int hub_poll(struct hub *h, struct pollfd *pf, int *timeout)
{
	int all_sent = 1;

	pf[0] = (struct pollfd){.fd = h->s->sigfd, .events = POLLIN};
	pf[1] = (struct pollfd){.fd = h->n < h->max ? h->s->lfd : -1, .events = POLLIN};
	*timeout = -1;
	for (unsigned i = 0; i < h->n; i++) {
		struct hub_client *c = &h->c[i];
		short ev = (short)((c->rd_eof ? 0 : POLLIN) | (c->off < h->len ? POLLOUT : 0));
		pf[3 + i] = (struct pollfd){.fd = c->fd, .events = ev};
		if (c->off < h->len)
			all_sent = 0;
		if (h->s->opt.idle_ms >= 0) {
			int left = clock_poll_ms(c->last + h->s->opt.idle_ms);
			if (*timeout < 0 || left < *timeout)
				*timeout = left;
		}
	}
	if (all_sent)
		h->len = 0;
	/* Read stdin only when a client is there to take it. */
	pf[2] = (struct pollfd){.fd = !h->stdin_eof && h->n > 0 && all_sent ? STDIN_FILENO : -1,
				.events = POLLIN};
	return 3 + (int)h->n;
}

static int hub_loop(struct hub *h, struct pollfd *pf)
{
	for (;;) {
		int timeout, child = 0;
		int n = hub_poll(h, pf, &timeout);
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return EXIT_FAIL;
		if (pf[0].revents && stop_signal(h->s->sigfd, &child))
			return EXIT_OK;
		if (child)
			spawn_reap(); /* the TLS clients' children */
		int64_t now = clock_now_ms();
		for (unsigned i = (unsigned)n - 3; i-- > 0;) {
			enum hub_verdict v = HUB_KEEP;
			if (pf[3 + i].revents)
				v = hub_client_io(h, &h->c[i], pf[3 + i].revents);
			if (v == HUB_STDOUT_GONE)
				return EXIT_OK;
			if (v == HUB_STDOUT_FAILED)
				return EXIT_FAIL;
			if (v == HUB_KEEP && h->s->opt.idle_ms >= 0 && now - h->c[i].last >= h->s->opt.idle_ms) {
				if (h->s->opt.verbose)
					cli_warn("closed an idle connection");
				v = HUB_DROP;
			}
			if (v == HUB_DROP)
				hub_drop(h, i);
		}
		if (pf[2].revents)
			hub_read_stdin(h);
		if (pf[1].revents && h->n < h->max)
			hub_accept(h);
	}
}

static int serve_hub(const struct serve *s)
{
	struct hub h = {.s = s, .max = s->opt.max ? s->opt.max : SERVE_DEFAULT_MAX};
	struct pollfd *pf;
	int status = EXIT_FAIL;

	h.stdin_eof = fcntl(STDIN_FILENO, F_GETFD) < 0;
	h.c = calloc(h.max, sizeof *h.c);
	pf = calloc(h.max + 3, sizeof *pf);
	h.chunk = io_buffer_alloc(RELAY_BUF);
	h.rbuf = io_buffer_alloc(RELAY_BUF);
	if (h.c && pf && h.chunk && h.rbuf)
		status = hub_loop(&h, pf);
	else
		cli_warn_errno(ENOMEM, "allocate");
	while (h.n > 0)
		hub_drop(&h, h.n - 1);
	free(h.c);
	free(pf);
	free(h.chunk);
	free(h.rbuf);
	return status;
}

int serve_run(const struct serve *s)
{
	if (!s->opt.keep)
		return serve_once(s);
	if (s->opt.cmd)
		return serve_exec(s);
	return serve_hub(s);
}
