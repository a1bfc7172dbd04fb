/* relay: the stdin/socket/stdout copy loop; see relay.h. */
#include "relay.h"
#include "clock.h"
#include "io.h"
#include "sigev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How a pump moves data: read/write through its buffer; splice(2) from the
 * socket straight into a stdout pipe; splice(2) through a private pipe
 * (socket -> pipe -> file or /dev/null, no copy to user space). */
enum pump_mode { PUMP_COPY, PUMP_SPLICE, PUMP_PIPE };

/* One direction of the relay. */
struct pump {
	int from, to;
	enum pump_mode mode;
	char *buf;
	size_t len, off; /* buf[off..len) is read but not yet written */
	int wait_to;     /* PUMP_SPLICE: the last move found `to` full */
	int pipe[2];     /* PUMP_PIPE: the private pipe */
	size_t inpipe;   /* PUMP_PIPE: bytes in it, not yet written */
	int done;        /* source at EOF and everything written, or failed */
	int err;
	const char *what;      /* what failed, for the message */
	const char *what_from; /* "read stdin", "receive" */
	const char *what_to;   /* "send", "write stdout" */
	int to_stdout;         /* the socket -> stdout direction */
};

int relay_copy_plain(void)
{
	const char *v = getenv(RELAY_COPY_ENV);
	return v && strcmp(v, "plain") == 0;
}

/* The S_IFMT bits of fd's type, 0 if fstat fails. */
static mode_t fd_type(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

int relay_pipe_enlarge(int fd)
{
	int size = fcntl(fd, F_GETPIPE_SZ);

	if (size >= RELAY_BUF)
		return 1;
	return fcntl(fd, F_SETPIPE_SZ, RELAY_BUF) >= RELAY_BUF;
}

static void pump_init(struct pump *p, int from, int to, const char *what_from,
		      const char *what_to)
{
	memset(p, 0, sizeof *p);
	p->from = from;
	p->to = to;
	p->what_from = what_from;
	p->what_to = what_to;
	p->mode = PUMP_COPY;
	p->pipe[0] = p->pipe[1] = -1;
}

/* The descriptor and event this pump waits for, or -1 when it is done. */
static int pump_wants(const struct pump *p, short *events)
{
	if (p->done)
		return -1;
	if (p->off < p->len || p->inpipe > 0 || p->wait_to) {
		*events = POLLOUT;
		return p->to;
	}
	*events = POLLIN;
	return p->from;
}

static int fast_unsupported(int err)
{
	return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == ESPIPE ||
	       err == EBADF || err == EXDEV;
}

static void pump_fail(struct pump *p, int err, const char *what)
{
	p->done = 1;
	p->err = err;
	p->what = what;
}

/* Write what the buffer holds; bytes written, 0 if none could be. */
static ssize_t pump_flush(struct pump *p)
{
	ssize_t n = write(p->to, p->buf + p->off, p->len - p->off);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pump_fail(p, errno, p->what_to);
		return 0;
	}
	p->off += (size_t)n;
	if (p->off == p->len)
		p->off = p->len = 0;
	return n;
}

/* Read/write mode: one read, then as much of a write as goes at once. */
static ssize_t pump_copy(struct pump *p)
{
	if (p->off < p->len)
		return pump_flush(p);
	if (!p->buf && !(p->buf = io_buffer_alloc(RELAY_BUF))) {
		pump_fail(p, errno, "allocate buffer");
		return 0;
	}
	ssize_t n = read(p->from, p->buf, RELAY_BUF);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pump_fail(p, errno, p->what_from);
		return 0;
	}
	if (n == 0) {
		p->done = 1;
		return 0;
	}
	p->len = (size_t)n;
	p->off = 0;
	pump_flush(p);
	return n;
}

/* Give a pump a private pipe for PUMP_PIPE; it stays as it is if the pipe
 * cannot be made. */
static void pump_use_pipe(struct pump *p)
{
	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	if (!relay_pipe_enlarge(p->pipe[1])) {
		close(p->pipe[0]);
		close(p->pipe[1]);
		p->pipe[0] = p->pipe[1] = -1;
		return;
	}
	p->mode = PUMP_PIPE;
}

static void pump_close_pipe(struct pump *p)
{
	if (p->pipe[0] >= 0) {
		close(p->pipe[0]);
		close(p->pipe[1]);
		p->pipe[0] = p->pipe[1] = -1;
	}
}

/* PUMP_PIPE refused by the kernel: move what the pipe holds into the
 * buffer and go on with read/write. */
static int pump_pipe_to_copy(struct pump *p)
{
	p->mode = PUMP_COPY;
	if (p->inpipe > 0) {
		if (!p->buf && !(p->buf = io_buffer_alloc(RELAY_BUF)))
			return -1;
		ssize_t n = read(p->pipe[0], p->buf, p->inpipe);
		if (n < 0)
			return -1;
		p->len = (size_t)n;
		p->off = 0;
		p->inpipe = 0;
	}
	pump_close_pipe(p);
	return 0;
}

/* PUMP_PIPE: fill the private pipe from the source when it is empty, then
 * empty it into the sink as far as it goes. */
static ssize_t pump_via_pipe(struct pump *p)
{
	ssize_t n;

	if (p->inpipe == 0) {
		n = splice(p->from, NULL, p->pipe[1], NULL, RELAY_BUF, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0)
			p->done = 1;
		if (n <= 0)
			goto failed_from;
		p->inpipe = (size_t)n;
	}
	n = splice(p->pipe[0], NULL, p->to, NULL, p->inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		goto failed_to;
	p->inpipe -= (size_t)n;
	return n;
failed_from:
	if (n == 0 || errno == EAGAIN || errno == EINTR)
		return 0;
	if (!fast_unsupported(errno))
		pump_fail(p, errno, p->what_from);
	else if (pump_pipe_to_copy(p) == 0)
		return pump_copy(p);
	return 0;
failed_to:
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (!fast_unsupported(errno))
		pump_fail(p, errno, p->what_to);
	else if (pump_pipe_to_copy(p) == 0)
		return pump_copy(p);
	return 0;
}

/* One step of this pump after poll said its descriptor is ready.  Returns
 * the number of bytes moved (0 if none). */
static ssize_t pump_step(struct pump *p)
{
	ssize_t n;

	if (p->mode == PUMP_COPY)
		return pump_copy(p);
	if (p->mode == PUMP_PIPE)
		return pump_via_pipe(p);
	if (p->wait_to) {
		/* `to` has room again: go back to waiting for the source. */
		p->wait_to = 0;
		return 0;
	}
	n = splice(p->from, NULL, p->to, NULL, RELAY_BUF, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0)
		return n;
	if (n == 0) {
		p->done = 1;
		return 0;
	}
	if (errno == EAGAIN)
		p->wait_to = 1; /* the socket was ready, so the pipe is full */
	else if (fast_unsupported(errno)) {
		p->mode = PUMP_COPY;
		return pump_copy(p);
	} else if (errno != EINTR)
		pump_fail(p, errno, p->what_from);
	return 0;
}

int relay_fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* The poll timeout for the idle limit, or -1; 0 means it has expired. */
static int idle_wait(int64_t idle_ms, int64_t last)
{
	if (idle_ms < 0)
		return -1;
	return clock_poll_ms(last + idle_ms);
}

/* Fill r from a failed pump. */
static void pump_result(const struct pump *p, struct relay_result *r)
{
	r->err = p->err;
	r->what = p->what;
	r->end = p->err == EPIPE && p->to_stdout ? RELAY_STDOUT_CLOSED : RELAY_ERROR;
}

/* The copy paths, as bench/10-tcp.sh measured them on the project's VM kind
 * (Linux 6.18, 2 cores, medians of alternating runs; see DESIGN 4):
 *  - stdin -> socket: read/write.  sendfile(2) from a file and splice(2)
 *    from a pipe both lost to a 1 MiB read/write (0.34 s against 0.27 s,
 *    1.10 s against 0.57 s per 256 MiB).  A stdin pipe is enlarged to
 *    1 MiB (best effort) so its writer fills it in fewer wake-ups.
 *  - socket -> stdout pipe: splice(2) straight into it, once the pipe is
 *    enlarged to 1 MiB (0.31 s against 0.55 s with read/write); into a pipe
 *    that stays at 64 KiB splice lost to read/write, so that one gets
 *    read/write.
 *  - socket -> a regular file: read/write.  Splice through a private pipe
 *    lost, measured onto a file written over (1 GiB: 0.48-0.50 s against
 *    0.39-0.40 s; socat -b1M 0.40 s).  Onto a fresh file both paths wait
 *    on page allocation, which hid this until the bench stopped making one.
 *  - socket -> anything else (/dev/null, a socket): splice(2) through a
 *    private 1 MiB pipe (0.33 s against 0.38 s to /dev/null); no 1 MiB
 *    private pipe, read/write.
 * A call the kernel refuses for these descriptors (EINVAL for anything
 * open for append, ...) falls back to read/write without losing a byte.
 * IPCBOX_COPY=plain makes every path read/write: the bench's yardstick for
 * the fast paths, and the tests' way to force the fallback. */
static void relay_choose(struct pump *up, struct pump *down)
{
	if (relay_copy_plain())
		return;
	mode_t out = fd_type(down->to);

	if (fd_type(up->from) == S_IFIFO)
		relay_pipe_enlarge(up->from); /* best effort */
	if (out == S_IFIFO) {
		if (relay_pipe_enlarge(down->to))
			down->mode = PUMP_SPLICE;
	} else if (out != S_IFREG) {
		pump_use_pipe(down);
	}
}

void relay_run(int in, int out, int sock, int64_t idle_ms, int sigfd, struct relay_result *r)
{
	relay_run_flags(in, out, sock, idle_ms, sigfd, 0, r);
}

void relay_run_flags(int in, int out, int sock, int64_t idle_ms, int sigfd, int flags,
		     struct relay_result *r)
{
	struct pump up, down;
	int64_t last = clock_now_ms();

	memset(r, 0, sizeof *r);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	pump_init(&up, in, sock, "read stdin", "send");
	pump_init(&down, sock, out, "receive", "write stdout");
	down.to_stdout = 1;
	relay_choose(&up, &down);
	if (!relay_fd_open(in)) {
		up.done = 1;
		shutdown(sock, SHUT_WR);
	}
	while (!up.done || !down.done) {
		struct pollfd pf[3];
		int iu = -1, id = -1, is = -1, n = 0, wait;
		short ev;
		int fd;

		if ((fd = pump_wants(&up, &ev)) >= 0)
			pf[iu = n++] = (struct pollfd){.fd = fd, .events = ev};
		if ((fd = pump_wants(&down, &ev)) >= 0)
			pf[id = n++] = (struct pollfd){.fd = fd, .events = ev};
		if (sigfd >= 0)
			pf[is = n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		if ((wait = idle_wait(idle_ms, last)) == 0) {
			r->end = RELAY_IDLE;
			break;
		}
		if (poll(pf, (nfds_t)n, wait) < 0) {
			if (errno == EINTR)
				continue;
			r->end = RELAY_ERROR, r->err = errno, r->what = "poll";
			break;
		}
		if (is >= 0 && pf[is].revents) {
			int child = 0;
			if ((r->signo = sigev_take(sigfd, &child)) != 0) {
				sigev_hold();
				r->end = RELAY_SIGNAL;
				break;
			}
		}
		ssize_t moved = 0;
		if (iu >= 0 && pf[iu].revents) {
			moved += pump_step(&up);
			if (up.done)
				shutdown(sock, SHUT_WR); /* the half-close */
		}
		if (id >= 0 && pf[id].revents) {
			moved += pump_step(&down);
			if (down.err) {
				pump_result(&down, r);
				break;
			}
			if (down.done && !up.done && (flags & RELAY_END_ON_PEER_EOF)) {
				r->peer_first = 1;
				break;
			}
		}
		if (moved > 0)
			last = clock_now_ms();
	}
	if (r->end == RELAY_DONE && up.err)
		pump_result(&up, r);
	pump_close_pipe(&down);
	free(up.buf);
	free(down.buf);
}
