/* channel applets: QCOP-style named channels between local processes, with
 * no broker.  Each listener binds one datagram socket in a private directory
 * and registers its patterns there (lib/channel/dir.h); a sender reads the
 * registrations once, connects one non-blocking socket to every listener
 * whose pattern matches the channel, and sends each message to each of them
 * as one datagram (lib/channel/frame.h).
 *
 * Unix datagrams are reliable and ordered, and a listener's queue holds only
 * a few (net.unix.max_dgram_qlen), so a slow listener pushes back at once:
 * the sender waits for it with poll(POLLOUT) up to --timeout, then reports
 * it by name; --drop skips it instead.  A listener whose socket refuses the
 * connection is dead: its entries are removed.  The kernel tells the
 * listener who sent each datagram (SCM_CREDENTIALS); messages from another
 * uid are dropped. */
#include "applets.h"
#include "../lib/channel/dir.h"
#include "../lib/clock.h"
#include "../lib/channel/frame.h"
#include "../lib/io.h"
#include "../lib/json.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Messages a streaming sender hands to the kernel in one sendmmsg. */
#define BATCH 64
/* How often a streaming sender looks for new listeners (directory mtime). */
#define RESCAN_MS 100
/* A frame larger than this needs a raised SO_SNDBUF (default limit 212960). */
#define DEFAULT_DGRAM_MAX 200000
/* stdin buffer of channel-send -l: the longest line plus room to read. */
#define LINE_BUF (CHAN_DATA_MAX + 1 + 256 * 1024)

enum {
	OPT_DROP = OPT_LONG_ONLY,
	OPT_JSON,
	OPT_READY,
};

enum { T_OK, T_FAILED, T_DEAD };

/* One listener a sender delivers to. */
struct target {
	char id[CHAN_ID_MAX];
	char name[CHAN_NAME_MAX + 32];
	int fd;
	int state;
	int lagging;
	int sndbuf;
	size_t next;
	int64_t blocked_since;
	uint64_t delivered, missed;
};

/* One batch of messages ready for sendmmsg: header, names, data each. */
struct batch {
	size_t n;
	size_t max_frame;
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH][3];
	unsigned char hdr[BATCH][CHAN_FRAME_HDR];
};

/* channel-list: one line of the table. */
struct row {
	const char *pat;
	size_t len;
	int n;
	long pids[64];
};

/* The state: what every verb shares, then each verb's own (one at a time,
 * as toybox's GLOBALS union). */
static struct {
	struct chan_dir dir;
	int64_t timeout_ms;
	int verbose;
	union {
		struct { /* channel-send */
			int lines, drop;
			struct chan_msg msg;
			unsigned char prefix[CHAN_PREFIX_MAX];
			size_t prefix_len;
			struct target *t;
			size_t nt, capt;
			uint64_t sent;
			struct timespec dir_mtime;
			int64_t next_rescan;
			struct batch b;
		} send;
		struct { /* channel-listen, channel-wait */
			char **pats;
			int npat;
			uint64_t count;
			int json, nul;
			const char *format, *exec, *ready_file, *want_message;
			char id[CHAN_ID_MAX];
			int sock, sigfd;
			unsigned char *rbuf;
			int last_status;
		} listen;
		struct { /* channel-list */
			struct row *rows;
			size_t nrows;
		} list;
	};
} S = {.timeout_ms = 5000};

static void open_dir(void)
{
	char err[PATH_MAX + 128];

	if (chan_dir_open(&S.dir, err, sizeof err) < 0)
		cli_die(EXIT_FAIL, "%s", err);
}

static void check_name(const char *what, const char *s)
{
	const char *why = chan_name_check(s);

	if (why && strchr(s, '\n'))
		cli_usage_error("invalid %s: %s", what, why);
	if (why)
		cli_usage_error("invalid %s '%s': %s", what, s, why);
}

/* ---- channel-send -------------------------------------------------------- */

/* Add listener r as a target unless it is one already or does not match. */
static void target_add(const struct chan_reg *r)
{
	struct target *t;

	if (!chan_reg_matches(r, S.send.msg.channel, S.send.msg.channel_len))
		return;
	for (size_t i = 0; i < S.send.nt; i++)
		if (strcmp(S.send.t[i].id, r->id) == 0)
			return;
	if (S.send.nt == S.send.capt) {
		S.send.capt = S.send.capt ? 2 * S.send.capt : 8;
		if (!(S.send.t = realloc(S.send.t, S.send.capt * sizeof *S.send.t)))
			cli_die_errno(EXIT_FAIL, errno, "out of memory");
	}
	t = &S.send.t[S.send.nt];
	memset(t, 0, sizeof *t);
	strcpy(t->id, r->id);
	snprintf(t->name, sizeof t->name, "listener %ld (%s%s)", r->pid, chan_reg_pat(r, 0), r->npat > 1 ? " ..." : "");
	t->fd = chan_dir_connect(&S.dir, r->id);
	if (t->fd < 0 && (errno == ECONNREFUSED || errno == ENOENT)) {
		chan_dir_remove(&S.dir, r->id);
		return;
	}
	if (t->fd < 0)
		cli_warn_errno(errno, "%s: connect", t->name);
	t->state = t->fd < 0 ? T_FAILED : T_OK;
	S.send.nt++;
}

/* Read the registrations and connect to every matching listener. */
static void scan_targets(void)
{
	struct chan_reg *regs;
	struct stat st;
	size_t n;

	if (fstat(S.dir.fd, &st) == 0)
		S.send.dir_mtime = st.st_mtim;
	if (chan_dir_scan(&S.dir, &regs, &n) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s", S.dir.path);
	for (size_t i = 0; i < n; i++)
		target_add(&regs[i]);
	free(regs);
	S.send.next_rescan = clock_now_ms() + RESCAN_MS;
}

/* In a stream: rescan when the directory changed since the last scan. */
static void maybe_rescan(void)
{
	struct stat st;

	if (clock_now_ms() < S.send.next_rescan)
		return;
	S.send.next_rescan = clock_now_ms() + RESCAN_MS;
	if (fstat(S.dir.fd, &st) == 0 &&
	    (st.st_mtim.tv_sec != S.send.dir_mtime.tv_sec || st.st_mtim.tv_nsec != S.send.dir_mtime.tv_nsec))
		scan_targets();
}

static void target_fail(struct target *t, uint64_t missed, const char *why)
{
	t->missed += missed;
	t->state = T_FAILED;
	close(t->fd);
	t->fd = -1;
	cli_warn("%s: %s", t->name, why);
}

/* Raise the target's send buffer so that a frame of len bytes fits. */
static void fit_sndbuf(struct target *t, size_t len)
{
	int want = (int)(len / 2 + 64 * 1024);

	if (len <= DEFAULT_DGRAM_MAX || t->sndbuf >= want)
		return;
	if (setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0)
		setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
	t->sndbuf = want;
}

/* The target's queue stayed full for the whole timeout: without --drop it
 * gets nothing more; with --drop it misses this message, and the following
 * ones as long as its queue stays full, without more waiting. */
static void target_timed_out(struct target *t)
{
	char why[96];

	if (S.send.drop) {
		t->missed++;
		t->next++;
		t->lagging = 1;
		t->blocked_since = -1;
		return;
	}
	snprintf(why, sizeof why, "not taking messages: timed out after %lld ms", (long long)S.timeout_ms);
	target_fail(t, S.send.b.n - t->next, why);
}

/* Hand the target as much of the batch as its queue takes now.  Returns 1
 * if it is blocked (queue full, timeout not yet reached), else 0. */
static int target_push(struct target *t)
{
	struct batch *b = &S.send.b;
	int64_t now;
	int r;

	while (t->state == T_OK && t->next < b->n) {
		fit_sndbuf(t, b->max_frame);
		r = sendmmsg(t->fd, &b->mm[t->next], (unsigned)(b->n - t->next), MSG_DONTWAIT);
		if (r > 0) {
			t->next += (size_t)r;
			t->delivered += (uint64_t)r;
			t->blocked_since = -1;
			t->lagging = 0;
		} else if (errno == EAGAIN && t->lagging) {
			t->missed++;
			t->next++;
		} else if (errno == EAGAIN) {
			now = clock_now_ms();
			if (t->blocked_since < 0)
				t->blocked_since = now;
			if (S.timeout_ms == CLI_DUR_INF || now - t->blocked_since < S.timeout_ms)
				return 1;
			target_timed_out(t);
		} else if (errno == ECONNREFUSED || errno == ENOENT) {
			t->state = T_DEAD;
			close(t->fd);
			chan_dir_remove(&S.dir, t->id);
		} else if (errno == EMSGSIZE) {
			cli_die(EXIT_FAIL, "a frame of %zu bytes exceeds this system's datagram limit "
					   "(raise net.core.wmem_max)", b->max_frame);
		} else if (errno != EINTR) {
			target_fail(t, b->n - t->next, strerror(errno));
		}
	}
	return 0;
}

/* Deliver the batch to every target, waiting in poll(POLLOUT) for the
 * slow ones, each up to the timeout from when it stopped taking messages. */
static void deliver_batch(void)
{
	struct pollfd pfd[256];

	if (S.send.b.n == 0)
		return;
	for (size_t i = 0; i < S.send.nt; i++) {
		S.send.t[i].next = 0;
		S.send.t[i].blocked_since = -1;
		if (S.send.t[i].state == T_FAILED)
			S.send.t[i].missed += S.send.b.n;
	}
	for (;;) {
		size_t np = 0;
		int64_t wait = CLOCK_NO_DEADLINE, until;

		for (size_t i = 0; i < S.send.nt; i++) {
			struct target *t = &S.send.t[i];
			if (!target_push(t) || np == 256)
				continue;
			until = S.timeout_ms == CLI_DUR_INF ? CLOCK_NO_DEADLINE : t->blocked_since + S.timeout_ms;
			if (until >= 0 && (wait < 0 || until < wait))
				wait = until;
			pfd[np++] = (struct pollfd){.fd = t->fd, .events = POLLOUT};
		}
		if (np == 0)
			break;
		if (poll(pfd, np, clock_poll_ms(wait)) < 0 && errno != EINTR)
			cli_die_errno(EXIT_FAIL, errno, "poll");
	}
	S.send.sent += S.send.b.n;
	S.send.b.n = 0;
	S.send.b.max_frame = 0;
}

/* Queue data as the next message of the batch; send when it is full. */
static void queue_message(const char *data, size_t len)
{
	struct batch *b = &S.send.b;
	size_t i = b->n;

	memcpy(b->hdr[i], S.send.prefix, CHAN_FRAME_HDR);
	chan_frame_set_data_len(b->hdr[i], len);
	b->iov[i][0] = (struct iovec){b->hdr[i], CHAN_FRAME_HDR};
	b->iov[i][1] = (struct iovec){S.send.prefix + CHAN_FRAME_HDR, S.send.prefix_len - CHAN_FRAME_HDR};
	b->iov[i][2] = (struct iovec){(void *)data, len};
	memset(&b->mm[i], 0, sizeof b->mm[i]);
	b->mm[i].msg_hdr.msg_iov = b->iov[i];
	b->mm[i].msg_hdr.msg_iovlen = 3;
	if (S.send.prefix_len + len > b->max_frame)
		b->max_frame = S.send.prefix_len + len;
	if (++b->n == BATCH)
		deliver_batch();
}

static noreturn void line_too_long(size_t lineno)
{
	deliver_batch();
	cli_die(EXIT_USAGE, "line %zu: longer than the %d-byte message limit", lineno, CHAN_DATA_MAX);
}

/* channel-send -l: one message per line of stdin; a last line without a
 * newline is a message too.  What one read() brings is sent at once, so a
 * line reaches the listeners as soon as it is written. */
static void send_lines(void)
{
	char *buf = malloc(LINE_BUF), *nl;
	size_t have = 0, start, lineno = 0;
	ssize_t n;

	if (!buf)
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	for (;;) {
		n = read(0, buf + have, LINE_BUF - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, "read standard input");
		maybe_rescan();
		have += (size_t)n;
		for (start = 0; (nl = memchr(buf + start, '\n', have - start)); start = (size_t)(nl - buf) + 1) {
			if ((size_t)(nl - buf) - start > CHAN_DATA_MAX)
				line_too_long(lineno + 1);
			lineno++;
			queue_message(buf + start, (size_t)(nl - buf) - start);
		}
		if (have - start > CHAN_DATA_MAX)
			line_too_long(lineno + 1);
		if (n == 0 && start < have)
			queue_message(buf + start, have - start);
		deliver_batch();
		if (n == 0)
			break;
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	free(buf);
}

/* The data operands, joined by single spaces, or stdin for a lone "-". */
static char *send_data(char **ops, int nops, size_t *len)
{
	char *data;
	size_t n = 0;

	if (nops == 1 && strcmp(ops[0], "-") == 0) {
		data = io_read_all(0, CHAN_DATA_MAX, len);
		if (!data && errno == EFBIG)
			cli_die(EXIT_USAGE, "data: larger than the %d-byte message limit", CHAN_DATA_MAX);
		if (!data)
			cli_die_errno(EXIT_FAIL, errno, "read standard input");
		return data;
	}
	for (int i = 0; i < nops; i++)
		n += strlen(ops[i]) + 1;
	if (n > (size_t)CHAN_DATA_MAX + 1)
		cli_die(EXIT_USAGE, "data: larger than the %d-byte message limit", CHAN_DATA_MAX);
	if (!(data = malloc(n + 1)))
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	*len = 0;
	for (int i = 0; i < nops; i++)
		*len += (size_t)sprintf(data + *len, "%s%s", i ? " " : "", ops[i]);
	return data;
}

/* Say what did not get through; the exit status. */
static int send_report(void)
{
	size_t ok = 0, live = 0;
	int status = EXIT_OK;

	for (size_t i = 0; i < S.send.nt; i++) {
		struct target *t = &S.send.t[i];
		if (t->state == T_DEAD)
			continue;
		live++;
		if (t->missed == 0) {
			ok++;
			continue;
		}
		status = EXIT_FAIL;
		if (S.send.lines || S.send.drop)
			cli_warn("%s: missed %llu of %llu messages%s", t->name, (unsigned long long)t->missed,
				 (unsigned long long)S.send.sent, S.send.drop && t->state == T_OK ? " (dropped: queue full)" : "");
	}
	if (S.verbose && S.send.lines)
		printf("%llu messages, delivered to %zu of %zu listeners\n", (unsigned long long)S.send.sent, ok, live);
	else if (S.verbose)
		printf("delivered to %zu of %zu listeners\n", ok, live);
	if (fflush(stdout) != 0)
		cli_die_errno(EXIT_FAIL, errno, "write standard output");
	return status;
}

static int send_main(int argc, char **argv)
{
	struct cli c;
	char *arg, *data = NULL;
	size_t len = 0;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'l': S.send.lines = 1; break;
		case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
		case 'v': S.verbose = 1; break;
		case OPT_DROP: S.send.drop = 1; break;
		}
	}
	cli_operands(&c, 2, -1);
	check_name("channel", argv[c.ind]);
	if (strlen(argv[c.ind + 1]) > CHAN_MESSAGE_MAX)
		cli_usage_error("invalid message name '%s': longer than 255 bytes", argv[c.ind + 1]);
	if (S.send.lines && argc - c.ind > 2)
		cli_usage_error("-l reads the data from standard input: no DATA operands with it");
	S.send.msg = (struct chan_msg){argv[c.ind], strlen(argv[c.ind]), argv[c.ind + 1], strlen(argv[c.ind + 1]), "", 0};
	S.send.prefix_len = chan_frame_prefix(S.send.prefix, &S.send.msg);
	if (!S.send.lines)
		data = send_data(argv + c.ind + 2, argc - c.ind - 2, &len);
	signal(SIGPIPE, SIG_IGN);
	open_dir();
	scan_targets();
	if (S.send.lines) {
		send_lines();
	} else {
		queue_message(data, len);
		deliver_batch();
	}
	free(data);
	return send_report();
}

/* ---- channel-listen, channel-wait ---------------------------------------- */

/* One received message and what the kernel says about its sender. */
struct received {
	struct chan_msg m;
	long pid;
	unsigned uid;
	struct timespec time;
};

/* Remove our entries; called on every way out of a listener. */
static void unregister(void)
{
	if (S.listen.sock >= 0) {
		chan_dir_remove(&S.dir, S.listen.id);
		close(S.listen.sock);
		S.listen.sock = -1;
	}
}

static noreturn void listen_exit(int status)
{
	int err = fflush(stdout) != 0 ? errno : 0;

	unregister();
	if (err && err != EPIPE)
		cli_die_errno(EXIT_FAIL, err, "write standard output");
	exit(status);
}

/* A stop signal: flush what was received, unregister, exit 0; a second
 * signal waits until we are gone. */
static noreturn void stop_listening(void)
{
	sigev_hold();
	clearerr(stdout);
	listen_exit(EXIT_OK);
}

/* Is "%x" or "\x" in a -F format one we know?  Checked before listening. */
static void check_format(const char *f)
{
	for (; *f; f++) {
		if (*f == '%' && (!f[1] || !strchr("cmdput%", f[1])))
			cli_usage_error("invalid format '%s': unknown directive '%%%.1s'", S.listen.format, f + 1);
		if (*f == '\\' && (!f[1] || !strchr("nt0\\", f[1])))
			cli_usage_error("invalid format '%s': unknown escape '\\%.1s'", S.listen.format, f + 1);
		if (*f == '%' || *f == '\\')
			f++;
	}
}

static void print_time(const struct timespec *ts)
{
	printf("%lld.%06ld", (long long)ts->tv_sec, ts->tv_nsec / 1000);
}

static void print_format(const struct received *r)
{
	for (const char *f = S.listen.format; *f; f++) {
		if (*f == '\\') {
			f++;
			putchar(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f == '0' ? '\0' : '\\');
			continue;
		}
		if (*f != '%') {
			putchar(*f);
			continue;
		}
		switch (*++f) {
		case 'c': fwrite(r->m.channel, 1, r->m.channel_len, stdout); break;
		case 'm': fwrite(r->m.message, 1, r->m.message_len, stdout); break;
		case 'd': fwrite(r->m.data, 1, r->m.data_len, stdout); break;
		case 'p': printf("%ld", r->pid); break;
		case 'u': printf("%u", r->uid); break;
		case 't': print_time(&r->time); break;
		default: putchar('%'); break;
		}
	}
}

static void print_json(const struct received *r)
{
	fputs("{\"channel\":", stdout);
	json_string(stdout, r->m.channel, r->m.channel_len);
	fputs(",\"message\":", stdout);
	json_string(stdout, r->m.message, r->m.message_len);
	fputs(",\"data\":", stdout);
	json_string(stdout, r->m.data, r->m.data_len);
	printf(",\"pid\":%ld,\"uid\":%u,\"time\":", r->pid, r->uid);
	print_time(&r->time);
	putchar('}');
}

/* "NAME=value" for the first len bytes of value, malloc'd; NULL if out of
 * memory. */
static char *env_var(const char *name, const char *value, size_t len)
{
	size_t n = strlen(name);
	char *v = malloc(n + 1 + len + 1);

	if (v) {
		memcpy(v, name, n);
		v[n] = '=';
		memcpy(v + n + 1, value, len);
		v[n + 1 + len] = '\0';
	}
	return v;
}

/* -e CMD: run /bin/sh -c CMD with the data on its stdin and the message in
 * its environment; wait for it.  Its status is kept for the exit status.
 * A command that does not read its data is no error (EPIPE), as in sh. */
static void run_command(const struct received *r)
{
	char pidtext[24], uidtext[24];
	char *vars[5] = {NULL};
	struct spawn_req req = {.cmd = S.listen.exec, .in = SPAWN_PIPE, .out = SPAWN_INHERIT, .err = SPAWN_INHERIT,
				.vars = vars};
	pid_t pid = -1;
	int err = 0;

	snprintf(pidtext, sizeof pidtext, "%ld", r->pid);
	snprintf(uidtext, sizeof uidtext, "%u", r->uid);
	vars[0] = env_var("CHANNEL", r->m.channel, strnlen(r->m.channel, r->m.channel_len));
	vars[1] = env_var("MESSAGE", r->m.message, strnlen(r->m.message, r->m.message_len));
	vars[2] = env_var("SENDER_PID", pidtext, strlen(pidtext));
	vars[3] = env_var("SENDER_UID", uidtext, strlen(uidtext));
	if (!vars[0] || !vars[1] || !vars[2] || !vars[3])
		err = ENOMEM;
	if (!err && (pid = spawn_start(&req)) < 0)
		err = errno;
	for (int i = 0; i < 4; i++)
		free(vars[i]);
	if (err) {
		cli_warn_errno(err, "run '%s'", S.listen.exec);
		listen_exit(EXIT_FAIL);
	}
	if (io_write_all(req.in, r->m.data, r->m.data_len) < 0 && errno != EPIPE)
		cli_warn_errno(errno, "write to '%s'", S.listen.exec);
	close(req.in);
	S.listen.last_status = spawn_wait(pid);
	if (S.listen.last_status < 0) {
		cli_warn_errno(errno, "wait for '%s'", S.listen.exec);
		listen_exit(EXIT_FAIL);
	}
}

static void output(const struct received *r)
{
	char end = S.listen.nul ? '\0' : '\n';

	if (S.listen.exec) {
		run_command(r);
		return;
	}
	if (S.listen.json) {
		print_json(r);
		end = '\n';
	} else if (S.listen.format) {
		print_format(r);
	} else if (S.verbose) {
		fwrite(r->m.channel, 1, r->m.channel_len, stdout);
		putchar(' ');
		fwrite(r->m.message, 1, r->m.message_len, stdout);
		putchar(' ');
		fwrite(r->m.data, 1, r->m.data_len, stdout);
	} else {
		fwrite(r->m.data, 1, r->m.data_len, stdout);
	}
	putchar(end);
}

/* Read one datagram without blocking into r.  1: a message for us; 0:
 * nothing (more) to read; -1: a datagram that was dropped. */
static int receive(struct received *r)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {S.listen.rbuf, CHAN_FRAME_MAX + 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
	struct cmsghdr *cm;
	struct ucred cred = {.pid = 0, .uid = (uid_t)-1};
	const char *why;
	ssize_t n = recvmsg(S.listen.sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		cli_warn_errno(errno, "receive");
		listen_exit(EXIT_FAIL);
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof cred))
			memcpy(&cred, CMSG_DATA(cm), sizeof cred);
	r->pid = cred.pid;
	r->uid = cred.uid;
	if (cred.uid != getuid()) {
		cli_warn("dropped a message from uid %d (pid %ld): not ours", (int)cred.uid, (long)cred.pid);
		return -1;
	}
	if (chan_frame_parse(S.listen.rbuf, (size_t)n, &r->m, &why) < 0) {
		cli_warn("dropped a malformed message from pid %ld: %s", (long)cred.pid, why);
		return -1;
	}
	for (int i = 0; i < S.listen.npat; i++)
		if (chan_match(S.listen.pats[i], strlen(S.listen.pats[i]), r->m.channel, r->m.channel_len))
			goto matched;
	return -1;
matched:
	if (S.listen.want_message &&
	    (r->m.message_len != strlen(S.listen.want_message) || memcmp(r->m.message, S.listen.want_message, r->m.message_len)))
		return -1;
	clock_gettime(CLOCK_REALTIME, &r->time);
	return 1;
}

/* Register, tell --ready-file, and turn SIGINT/SIGTERM/SIGHUP into a
 * descriptor (sigev; SIGPIPE ignored). */
static void listen_setup(void)
{
	S.listen.sock = S.listen.sigfd = -1;
	if ((S.listen.sigfd = sigev_open(0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	if (!(S.listen.rbuf = malloc(CHAN_FRAME_MAX + 1)))
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	open_dir();
	if ((S.listen.sock = chan_dir_register(&S.dir, S.listen.pats, S.listen.npat, S.listen.id)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "register in %s", S.dir.path);
	if (S.listen.ready_file) {
		char line[32];
		int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
		if (io_write_file_atomic(S.listen.ready_file, line, (size_t)len) < 0) {
			cli_warn_errno(errno, "write %s", S.listen.ready_file);
			listen_exit(EXIT_FAIL);
		}
	}
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
}

/* The listener's loop: wait, then take every datagram already queued,
 * flushing stdout once the queue is empty. */
static int listen_loop(void)
{
	struct pollfd pfd[2];
	struct received r;
	uint64_t got = 0;
	int64_t deadline;
	int n, child;

	listen_setup();
	deadline = clock_deadline(S.timeout_ms == CLI_DUR_INF ? CLOCK_NO_DEADLINE : S.timeout_ms);
	pfd[0] = (struct pollfd){.fd = S.listen.sock, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = S.listen.sigfd, .events = POLLIN};
	for (;;) {
		n = poll(pfd, 2, clock_poll_ms(deadline));
		if (n < 0 && errno != EINTR) {
			cli_warn_errno(errno, "poll");
			listen_exit(EXIT_FAIL);
		}
		if (n == 0 && clock_expired(deadline)) {
			cli_warn("timed out after %lld ms", (long long)S.timeout_ms);
			listen_exit(EXIT_TIMEOUT);
		}
		if (pfd[1].revents && sigev_take(S.listen.sigfd, &child))
			stop_listening();
		while ((n = receive(&r)) != 0) {
			if (n < 0)
				continue;
			output(&r);
			if (S.listen.count && ++got == S.listen.count)
				listen_exit(S.listen.exec ? S.listen.last_status : EXIT_OK);
		}
		if (fflush(stdout) != 0 && errno == EPIPE)
			listen_exit(EXIT_OK);
		if (ferror(stdout) && *sigev_stop_flag()) /* a stop cut a write short */
			stop_listening();
		if (ferror(stdout)) {
			cli_warn_errno(errno, "write standard output");
			listen_exit(EXIT_FAIL);
		}
	}
}

static const char *json_conflict(void)
{
	return S.listen.json ? "--json" : S.listen.format ? "-F" : S.listen.exec ? "-e" : S.verbose ? "-v" : NULL;
}

static int listen_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key, nmodes;

	S.timeout_ms = CLI_DUR_INF;
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'c': S.listen.count = cli_uint(arg, "count", 1, UINT64_MAX); break;
		case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
		case 'v': S.verbose = 1; break;
		case 'F': S.listen.format = arg; break;
		case '0': S.listen.nul = 1; break;
		case 'e': S.listen.exec = arg; break;
		case OPT_JSON: S.listen.json = 1; break;
		case OPT_READY: S.listen.ready_file = arg; break;
		}
	}
	cli_operands(&c, 1, CHAN_PATTERNS_MAX);
	nmodes = !!S.listen.json + !!S.listen.format + !!S.listen.exec + S.verbose;
	if (nmodes > 1)
		cli_usage_error("%s and %s cannot be combined", S.verbose ? "-v" : S.listen.exec ? "-e" : "-F",
				json_conflict());
	if (S.listen.nul && (S.listen.json || S.listen.exec))
		cli_usage_error("-0 and %s cannot be combined", S.listen.json ? "--json" : "-e");
	if (S.listen.format)
		check_format(S.listen.format);
	S.listen.pats = argv + c.ind;
	S.listen.npat = argc - c.ind;
	for (int i = 0; i < S.listen.npat; i++)
		check_name("pattern", S.listen.pats[i]);
	return listen_loop();
}

static int wait_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	S.timeout_ms = CLI_DUR_INF;
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
		case OPT_READY: S.listen.ready_file = arg; break;
		}
	}
	cli_operands(&c, 1, 2);
	check_name("pattern", argv[c.ind]);
	S.listen.pats = argv + c.ind;
	S.listen.npat = 1;
	S.listen.want_message = argc - c.ind == 2 ? argv[c.ind + 1] : NULL;
	if (S.listen.want_message && strlen(S.listen.want_message) > CHAN_MESSAGE_MAX)
		cli_usage_error("invalid message name '%s': longer than 255 bytes", S.listen.want_message);
	S.listen.count = 1;
	return listen_loop();
}

/* ---- channel-list, channel-registered ------------------------------------ */

/* The live registrations (a connect probe says so); dead ones are left to
 * the next sender, so that looking never changes anything. */
static struct chan_reg *live_regs(size_t *n)
{
	struct chan_reg *regs;
	size_t all, k = 0;

	if (chan_dir_scan(&S.dir, &regs, &all) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s", S.dir.path);
	for (size_t i = 0; i < all; i++)
		if (chan_dir_alive(&S.dir, regs[i].id))
			memmove(&regs[k++], &regs[i], sizeof *regs);
	*n = k;
	return regs;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = memcmp(x->pat, y->pat, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Count listeners per pattern into S.list.rows, sorted by pattern. */
static void tally(const struct chan_reg *regs, size_t n)
{
	size_t total = 0, j;

	for (size_t i = 0; i < n; i++)
		total += (size_t)regs[i].npat;
	if (!(S.list.rows = calloc(total + 1, sizeof *S.list.rows)))
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	for (size_t i = 0; i < n; i++)
		for (int p = 0; p < regs[i].npat; p++) {
			for (j = 0; j < S.list.nrows; j++)
				if (S.list.rows[j].len == regs[i].patlen[p] &&
				    !memcmp(S.list.rows[j].pat, chan_reg_pat(&regs[i], p), S.list.rows[j].len))
					break;
			if (j == S.list.nrows)
				S.list.rows[S.list.nrows++] = (struct row){.pat = chan_reg_pat(&regs[i], p), .len = regs[i].patlen[p]};
			if (S.list.rows[j].n < 64)
				S.list.rows[j].pids[S.list.rows[j].n] = regs[i].pid;
			S.list.rows[j].n++;
		}
	qsort(S.list.rows, S.list.nrows, sizeof *S.list.rows, row_cmp);
}

static void print_rows_json(void)
{
	putchar('[');
	for (size_t i = 0; i < S.list.nrows; i++) {
		fputs(i ? ",{\"channel\":" : "{\"channel\":", stdout);
		json_string(stdout, S.list.rows[i].pat, S.list.rows[i].len);
		printf(",\"listeners\":%d,\"pids\":[", S.list.rows[i].n);
		for (int p = 0; p < S.list.rows[i].n && p < 64; p++)
			printf(p ? ",%ld" : "%ld", S.list.rows[i].pids[p]);
		fputs("]}", stdout);
	}
	puts("]");
}

static int list_main(int argc, char **argv)
{
	struct chan_reg *regs;
	struct cli c;
	char *arg;
	size_t n;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == OPT_JSON)
			S.listen.json = 1;
	cli_operands(&c, 0, 0);
	open_dir();
	regs = live_regs(&n);
	tally(regs, n);
	if (S.listen.json)
		print_rows_json();
	for (size_t i = 0; !S.listen.json && i < S.list.nrows; i++) {
		fwrite(S.list.rows[i].pat, 1, S.list.rows[i].len, stdout);
		printf(" %d\n", S.list.rows[i].n);
	}
	free(regs);
	if (fflush(stdout) != 0)
		cli_die_errno(EXIT_FAIL, errno, "write standard output");
	return EXIT_OK;
}

static int registered_main(int argc, char **argv)
{
	struct chan_reg *regs;
	struct cli c;
	char *arg;
	size_t n;
	int found = 0;

	cli_begin(&c, argc, argv);
	while (cli_next(&c, &arg) != -1)
		;
	cli_operands(&c, 1, 1);
	check_name("channel", argv[c.ind]);
	open_dir();
	regs = live_regs(&n);
	for (size_t i = 0; i < n && !found; i++)
		found = chan_reg_matches(&regs[i], argv[c.ind], strlen(argv[c.ind]));
	free(regs);
	return found ? EXIT_OK : EXIT_FAIL;
}

/* Completion: the patterns listeners are registered with, quietly. */
static void complete_channels(void)
{
	char err[PATH_MAX + 128];
	struct chan_reg *regs;
	size_t n;

	if (chan_dir_open(&S.dir, err, sizeof err) < 0 || chan_dir_scan(&S.dir, &regs, &n) < 0)
		return;
	tally(regs, n);
	for (size_t i = 0; i < S.list.nrows; i++)
		printf("%.*s\n", (int)S.list.rows[i].len, S.list.rows[i].pat);
	free(regs);
}

/* ---- the table ------------------------------------------------------------ */

static const struct opt send_opts[] = {
	{'l', "lines", NULL, "one message per line of standard input", NULL},
	{'t', "timeout", "DURATION", "wait this long for a slow listener (default 5s; 0, inf)", NULL},
	{OPT_DROP, "drop", NULL, "skip a listener whose queue is full instead of waiting", NULL},
	{'v', "verbose", NULL, "say how many listeners received the message(s)", NULL},
	{0},
};

static const struct opt listen_opts[] = {
	{'c', "count", "COUNT", "exit 0 after COUNT messages", NULL},
	{'t', "timeout", "DURATION", "exit 124 when this has passed (default inf)", NULL},
	{'v', "verbose", NULL, "print CHANNEL MESSAGE DATA", NULL},
	{OPT_JSON, "json", NULL, "one JSON object per message", NULL},
	{'F', "format", "FORMAT", "print %c %m %d %p %u %t (channel, message, data, pid, uid, time)", NULL},
	{'0', "null", NULL, "end each message with NUL instead of newline", NULL},
	{'e', "exec", "CMD", "run /bin/sh -c CMD per message, data on its stdin", NULL},
	{OPT_READY, "ready-file", "FILE", "write the pid to FILE once registered", "file"},
	{0},
};

static const struct opt wait_opts[] = {
	{'t', "timeout", "DURATION", "exit 124 when this has passed (default inf)", NULL},
	{OPT_READY, "ready-file", "FILE", "write the pid to FILE once registered", "file"},
	{0},
};

static const struct opt list_opts[] = {
	{OPT_JSON, "json", NULL, "print a JSON array", NULL},
	{0},
};

static const struct opt no_opts[] = {{0}};

const struct applet channel_applets[] = {
	{"channel-send", send_main, "[-l] [-v] [-t DURATION] [--drop] CHANNEL MESSAGE [DATA]...",
	 "send a message to every listener on a channel", send_opts, complete_channels},
	{"channel-listen", listen_main, "[-c COUNT] [-t DURATION] [-v|--json|-F FORMAT|-e CMD] [-0] PATTERN...",
	 "print the messages sent to the channels matching the patterns", listen_opts, complete_channels},
	{"channel-wait", wait_main, "[-t DURATION] PATTERN [MESSAGE]", "wait for one message and print its data",
	 wait_opts, complete_channels},
	{"channel-list", list_main, "[--json]", "list the registered patterns and their listener counts", list_opts,
	 NULL},
	{"channel-registered", registered_main, "CHANNEL", "exit 0 if a live listener is registered for CHANNEL",
	 no_opts, complete_channels},
	{0},
};
