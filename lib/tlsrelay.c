/* tlsrelay: the stdin/TLS/stdout copy loop; see tlsrelay.h. */
#include "tlsrelay.h"
#include "clock.h"
#include "io.h"
#include "sigev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* One direction: buf[off..len) is read and not yet passed on.  want: the
 * socket events the last EAGAIN waited for, 0 when it may be tried now. */
struct tside {
	char *buf;
	size_t len, off;
	short want;
	int eof;  /* up: stdin ended; down: the peer's close_notify (or cut) */
	int done; /* up: close_notify sent; down: everything written */
};

struct trelay {
	int in, out;
	int process;     /* tls_relay_process: in == out, a socketpair */
	tls_clean_end_fn *clean_end;
	void *ctx;
	struct tls *t;
	struct tside up, down;
	int truncated;  /* the peer closed TCP without close_notify */
	int out_shut;   /* process: out's writing side shut */
	const char *cut; /* process: why it ended without close_notify */
	struct relay_result *r;
};

static void trelay_fail(struct trelay *x, int err, const char *what, const char *msg)
{
	x->r->end = err == EPIPE && strcmp(what, "write stdout") == 0 ? RELAY_STDOUT_CLOSED : RELAY_ERROR;
	x->r->err = err;
	x->r->what = what;
	x->r->msg = msg;
}

/* stdin -> TLS: write what is buffered, then close_notify after stdin's
 * EOF.  Returns bytes moved, -1 on failure (r set). */
static ssize_t trelay_up(struct trelay *x)
{
	struct tside *u = &x->up;
	ssize_t moved = 0;

	while (u->off < u->len && !u->want) {
		ssize_t n = tls_write(x->t, u->buf + u->off, u->len - u->off);
		if (n < 0 && errno == EAGAIN) {
			u->want = tls_events(x->t);
			break;
		}
		if (n < 0) {
			trelay_fail(x, errno, "send", errno == EPROTO ? tls_error(x->t) : NULL);
			return -1;
		}
		u->off += (size_t)n;
		moved += n;
	}
	if (u->off == u->len)
		u->off = u->len = 0;
	if (u->eof && u->len == 0 && !u->done && !u->want) {
		enum tls_end end = x->clean_end ? x->clean_end(x->ctx, x->down.eof, &x->cut) : TLS_END_CLEAN;
		if (end == TLS_END_UNKNOWN)
			return moved; /* asked again after the next signal */
		if (end == TLS_END_CUT) {
			trelay_fail(x, EPIPE, "send", x->cut);
			return -1;
		}
		if (tls_shutdown(x->t) == 0)
			u->done = 1;
		else if (errno == EAGAIN)
			u->want = tls_events(x->t);
		else
			u->done = 1; /* the peer is gone: nothing more to say to it */
	}
	return moved;
}

/* TLS -> buffer: read until the socket has no more, the buffer is full or
 * the peer's data ended.  Returns bytes read, -1 on failure (r set). */
static ssize_t trelay_down_read(struct trelay *x)
{
	struct tside *d = &x->down;
	ssize_t moved = 0;

	while (d->len < RELAY_BUF && !d->eof && !d->want) {
		ssize_t n = tls_read(x->t, d->buf + d->len, RELAY_BUF - d->len);
		if (n > 0) {
			d->len += (size_t)n;
			moved += n;
		} else if (n == 0) {
			d->eof = 1;
		} else if (errno == EAGAIN) {
			d->want = tls_events(x->t);
		} else if (errno == EPIPE) {
			d->eof = 1;
			x->truncated = 1;
		} else {
			trelay_fail(x, errno, "receive", errno == EPROTO ? tls_error(x->t) : NULL);
			return -1;
		}
	}
	return moved;
}

/* buffer -> stdout: one write (a blocking stdout takes it all).  -1 on
 * failure (r set). */
static int trelay_down_write(struct trelay *x)
{
	struct tside *d = &x->down;

	if (d->off < d->len) {
		ssize_t n = write(x->out, d->buf + d->off, d->len - d->off);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			trelay_fail(x, errno, "write stdout", NULL);
			return -1;
		}
		if (n > 0)
			d->off += (size_t)n;
	}
	if (d->off == d->len)
		d->off = d->len = 0;
	if (d->eof && d->len == 0) {
		d->done = 1;
		if (x->process && !x->out_shut) {
			shutdown(x->out, SHUT_WR);
			x->out_shut = 1;
		}
	}
	return 0;
}

/* stdin -> buffer, when poll says it is readable. */
static int trelay_stdin(struct trelay *x)
{
	ssize_t n = read(x->in, x->up.buf, RELAY_BUF);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		trelay_fail(x, errno, "read stdin", NULL);
		return -1;
	}
	if (n == 0)
		x->up.eof = 1;
	x->up.len = (size_t)n;
	x->up.off = 0;
	return 0;
}

/* The poll set for this turn: [0] signals, [1] stdin, [2] stdout, [3] the
 * socket.  *now: some direction can go on without waiting. */
static void trelay_poll_set(const struct trelay *x, int sigfd, struct pollfd pf[4], int *now)
{
	const struct tside *u = &x->up, *d = &x->down;
	/* Waiting on clean_end is waiting for a signal, not for the socket. */
	int pending = u->eof && !u->done && u->len == 0 && x->clean_end;
	int up_sock = u->len > 0 || (u->eof && !u->done && !pending);
	int down_sock = d->len == 0 && !d->eof;
	short ev = (short)((up_sock ? u->want : 0) | (down_sock ? d->want : 0));

	*now = (up_sock && !u->want) || (down_sock && !d->want);
	pf[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
	pf[1] = (struct pollfd){.fd = !u->eof && u->len == 0 ? x->in : -1, .events = POLLIN};
	pf[2] = (struct pollfd){.fd = d->len > 0 ? x->out : -1, .events = POLLOUT};
	/* A command that has let go of its socket entirely (POLLHUP) will
	 * read nothing more: watched once its output has ended, but not while
	 * clean_end waits for its exit status: that comes with SIGCHLD, and
	 * the POLLHUP standing meanwhile spun the loop (per connection of
	 * `-k --tls -e cat`, 140.6 handshakes/s against 178-188 without). */
	if (x->process && u->eof && d->len == 0 && !pending)
		pf[2] = (struct pollfd){.fd = x->out, .events = 0};
	pf[3] = (struct pollfd){.fd = ev ? tls_fd(x->t) : -1, .events = ev};
}

static void trelay_loop(struct trelay *x, int64_t idle_ms, int sigfd)
{
	int64_t last = clock_now_ms();

	while (!x->up.done || !x->down.done) {
		struct pollfd pf[4];
		int now, wait = idle_ms < 0 ? -1 : clock_poll_ms(last + idle_ms);
		trelay_poll_set(x, sigfd, pf, &now);
		if (wait == 0) {
			x->r->end = RELAY_IDLE;
			return;
		}
		if (poll(pf, 4, now ? 0 : wait) < 0 && errno != EINTR) {
			trelay_fail(x, errno, "poll", NULL);
			return;
		}
		if (pf[0].revents) {
			int child = 0;
			if ((x->r->signo = sigev_take(sigfd, &child)) != 0) {
				sigev_hold();
				x->r->end = RELAY_SIGNAL;
				return;
			}
		}
		if (pf[3].revents)
			x->up.want = x->down.want = 0;
		if (pf[1].revents && trelay_stdin(x) < 0)
			return;
		ssize_t up = trelay_up(x), down = up < 0 ? -1 : trelay_down_read(x);
		if (up < 0 || down < 0 || trelay_down_write(x) < 0)
			return;
		if (up > 0 || down > 0)
			last = clock_now_ms();
		if (x->truncated && x->down.done) {
			trelay_fail(x, EPIPE, "receive",
				    "the peer closed the connection without close_notify: what arrived may be "
				    "cut short");
			return;
		}
		if (pf[2].fd == x->out && (pf[2].revents & (POLLHUP | POLLERR)) && x->down.len == 0 &&
		    x->process && x->up.done)
			return;
	}
}

static void trelay_start(struct trelay *x, int64_t idle_ms, int sigfd)
{
	memset(x->r, 0, sizeof *x->r);
	/* Page-aligned (io_buffer_alloc): 1 GiB sent took 2.1-2.4 CPU s a
	 * side, not 3.0 as with malloc's buffers. */
	x->up.buf = io_buffer_alloc(RELAY_BUF);
	x->down.buf = io_buffer_alloc(RELAY_BUF);
	if (!x->up.buf || !x->down.buf) {
		trelay_fail(x, ENOMEM, "allocate buffer", NULL);
	} else {
		if (!relay_fd_open(x->in))
			x->up.eof = 1;
		if (!relay_copy_plain()) {
			relay_pipe_enlarge(x->in); /* best effort; leaves a non-pipe alone */
			relay_pipe_enlarge(x->out);
		}
		trelay_loop(x, idle_ms, sigfd);
	}
	free(x->up.buf);
	free(x->down.buf);
}

void tls_relay_run(int in, int out, struct tls *t, int64_t idle_ms, int sigfd, struct relay_result *r)
{
	struct trelay x = {.in = in, .out = out, .t = t, .r = r};

	trelay_start(&x, idle_ms, sigfd);
}

void tls_relay_process(int sock, struct tls *t, int sigfd, tls_clean_end_fn *clean_end, void *ctx,
		       struct relay_result *r)
{
	struct trelay x = {.in = sock, .out = sock, .process = 1, .clean_end = clean_end, .ctx = ctx,
			   .t = t, .r = r};

	trelay_start(&x, -1, sigfd);
}
