/* channel applets: QCOP-style named channels between local processes, with
 * no broker on one machine (--broker URL speaks MQTT 5 to an existing one).  Each listener binds one datagram socket in a private directory
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
#include "../lib/channel/broker.h"
#include "../lib/channel/dir.h"
#include "../lib/clock.h"
#include "../lib/format.h"
#include "../lib/channel/frame.h"
#include "../lib/io.h"
#include "../lib/json.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"
#include "../lib/tls.h"

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
	OPT_BROKER,
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

/* The state: what every verb shares, then each verb's own, as toybox's
 * GLOBALS; not a union, because channel-bridge is a listener and a sender
 * at once. */
/* A slow listener, or the broker, is waited for this long by default. */
#define DEFAULT_TIMEOUT_MS 5000

static struct {
	struct chan_dir dir;
	int64_t timeout_ms;
	int verbose;
	struct {
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
		struct { /* --broker (lib/channel/broker.h), channel-bridge */
			const char *text;
			struct chan_broker_url url;
			/* mqtts://: the TLS options, the first one given (its key,
			 * for a usage error), the configuration they make. */
			struct tls_opts tls;
			struct tls_ctx *ctx;
			struct chan_broker br;
			int open;
			uint64_t acked, refused;
			uint8_t refused_reason;
			int64_t last_progress;
		} broker;
	};
	char stdout_buf[1 << 16]; /* listeners: stdout is flushed per message batch */
} S; /* in bss: defaults are set by each verb (a 58 KiB initialised struct
      * would sit in the binary) */

static int use_broker(void);
static void check_broker_name(const char *what, const char *s, int topic);
static void check_broker_patterns(void);
static int broker_send(const char *data, size_t len);
static int broker_listen(void);
static int broker_registered(const char *channel);
static int channel_bridge_main(int argc, char **argv);

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

	/* channel-bridge is registered too: it never delivers to itself. */
	if (!chan_reg_matches(r, S.send.msg.channel, S.send.msg.channel_len) || strcmp(r->id, S.listen.id) == 0)
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
	if (chan_dir_scan(&S.dir, &regs, &n, 1) < 0)
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
		} else if (errno == ECONNREFUSED || errno == ENOENT || errno == ENOTCONN) {
			/* ENOTCONN: the listener died after part of a sendmmsg
			 * went out; the kernel disconnected our socket, and the
			 * refusal went with the call's partial count (make soak
			 * saw it under load, 1 run in 9). */
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

/* Every verb's start: its default timeout, no TLS option yet. */
static void options_begin(struct cli *c, int argc, char **argv, int64_t timeout_ms)
{
	S.timeout_ms = timeout_ms;
	S.broker.tls = (struct tls_opts)TLS_OPTS_INIT;
	cli_begin(c, argc, argv);
}

/* The options the verbs share, each where its table lists it: -t, which
 * means the same to all, --ready-file, --broker, and the TLS options an
 * mqtts:// URL takes. */
static void common_option(int key, char *arg)
{
	switch (key) {
	case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
	case OPT_READY: S.listen.ready_file = arg; break;
	case OPT_BROKER: S.broker.text = arg; break;
	default: tls_option(&S.broker.tls, key, arg); break;
	}
}

static int channel_send_main(int argc, char **argv)
{
	struct cli c;
	char *arg, *data = NULL;
	size_t len = 0;
	int key;

	options_begin(&c, argc, argv, DEFAULT_TIMEOUT_MS);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'l': S.send.lines = 1; break;
		case 'v': S.verbose = 1; break;
		case OPT_DROP: S.send.drop = 1; break;
		default: common_option(key, arg); break;
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
	if (use_broker()) {
		if (S.send.drop)
			cli_usage_error("--drop and --broker cannot be combined (the broker queues for its subscribers)");
		check_broker_name("channel", argv[c.ind], 1);
		check_broker_name("message name", argv[c.ind + 1], 0);
		key = broker_send(data, len);
		free(data);
		return key;
	}
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
	/* From a broker: no pid or uid is known. */
	int remote;
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
	if (S.broker.open)
		chan_broker_leave(&S.broker.br, clock_deadline(2000));
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

/* Stdout after a batch of messages: flushed; a reader gone ends the
 * listener quietly (0), a stop signal that cut a write short ends it as the
 * stop does, another write error exit 1. */
static void flush_batch(void)
{
	if (fflush(stdout) != 0 && errno == EPIPE)
		listen_exit(EXIT_OK);
	if (ferror(stdout) && *sigev_stop_flag())
		stop_listening();
	if (ferror(stdout)) {
		cli_warn_errno(errno, "write standard output");
		listen_exit(EXIT_FAIL);
	}
}

/* Is "%x" or "\x" in a -F format one we know?  Checked before listening. */
static void check_format(const char *f)
{
	char why[64];

	if (format_check(f, "cmdput", "nt0\\", why, sizeof why) < 0)
		cli_usage_error("invalid format '%s': %s", f, why);
}

static void print_time(FILE *out, const struct timespec *ts)
{
	io_put_time(out, (long long)ts->tv_sec, ts->tv_nsec / 1000);
}

static void put_directive(FILE *out, char directive, const void *arg)
{
	const struct received *r = arg;

	switch (directive) {
	case 'c': fwrite(r->m.channel, 1, r->m.channel_len, out); break;
	case 'm': fwrite(r->m.message, 1, r->m.message_len, out); break;
	case 'd': fwrite(r->m.data, 1, r->m.data_len, out); break;
	case 'p': r->remote ? (void)putc('-', out) : (void)fprintf(out, "%ld", r->pid); break;
	case 'u': r->remote ? (void)putc('-', out) : (void)fprintf(out, "%u", r->uid); break;
	case 't': print_time(out, &r->time); break;
	}
}

static void print_format(const struct received *r)
{
	format_print(stdout, S.listen.format, put_directive, r);
}

static void print_json(const struct received *r)
{
	fputs("{\"channel\":", stdout);
	json_string(stdout, r->m.channel, r->m.channel_len);
	fputs(",\"message\":", stdout);
	json_string(stdout, r->m.message, r->m.message_len);
	fputs(",\"data\":", stdout);
	json_string(stdout, r->m.data, r->m.data_len);
	if (r->remote)
		fputs(",\"pid\":null,\"uid\":null,\"time\":", stdout);
	else
		printf(",\"pid\":%ld,\"uid\":%u,\"time\":", r->pid, r->uid);
	print_time(stdout, &r->time);
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
	int err = 0, werr = 0;

	snprintf(pidtext, sizeof pidtext, "%ld", r->pid);
	snprintf(uidtext, sizeof uidtext, "%u", r->uid);
	vars[0] = env_var("CHANNEL", r->m.channel, strnlen(r->m.channel, r->m.channel_len));
	vars[1] = env_var("MESSAGE", r->m.message, strnlen(r->m.message, r->m.message_len));
	vars[2] = env_var("SENDER_PID", pidtext, strlen(pidtext));
	vars[3] = env_var("SENDER_UID", uidtext, strlen(uidtext));
	if (!vars[0] || !vars[1] || !vars[2] || !vars[3])
		err = ENOMEM;
	if (!err) {
		S.listen.last_status = spawn_feed(S.listen.exec, vars, r->m.data, r->m.data_len, &werr);
		if (S.listen.last_status < 0)
			err = errno;
	}
	for (int i = 0; i < 4; i++)
		free(vars[i]);
	if (werr)
		cli_warn_errno(werr, "write to '%s'", S.listen.exec);
	if (err) {
		cli_warn_errno(err, "run '%s'", S.listen.exec);
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
	r->remote = 0;
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
	r->time = clock_wall(0);
	return 1;
}

/* Write our pid to --ready-file, if asked: we are registered. */
static void tell_ready(void)
{
	char line[32];
	int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());

	if (S.listen.ready_file && io_write_file_atomic(S.listen.ready_file, line, (size_t)len) < 0) {
		cli_warn_errno(errno, "write %s", S.listen.ready_file);
		listen_exit(EXIT_FAIL);
	}
}

/* Turn SIGINT/SIGTERM/SIGHUP into a descriptor (sigev; SIGPIPE ignored),
 * and register in the directory unless over a broker (local 0). */
static void listen_setup(int local)
{
	S.listen.sock = S.listen.sigfd = -1;
	if ((S.listen.sigfd = sigev_open(0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	if (!(S.listen.rbuf = malloc(CHAN_FRAME_MAX + 1)))
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	if (local) {
		open_dir();
		if ((S.listen.sock = chan_dir_register(&S.dir, S.listen.pats, S.listen.npat, S.listen.id)) < 0)
			cli_die_errno(EXIT_FAIL, errno, "register in %s", S.dir.path);
	}
	setvbuf(stdout, S.stdout_buf, _IOFBF, sizeof S.stdout_buf);
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

	listen_setup(1);
	tell_ready();
	deadline = clock_deadline(S.timeout_ms);
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
		flush_batch();
	}
}

static const char *json_conflict(void)
{
	return S.listen.json ? "--json" : S.listen.format ? "-F" : S.listen.exec ? "-e" : S.verbose ? "-v" : NULL;
}

/* The listeners' PATTERN operands, each a valid channel name or pattern. */
static void take_patterns(char **pats, int n)
{
	S.listen.pats = pats;
	S.listen.npat = n;
	for (int i = 0; i < n; i++)
		check_name("pattern", pats[i]);
}

static int channel_listen_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key, nmodes;

	options_begin(&c, argc, argv, CLI_DUR_INF);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'c': S.listen.count = cli_uint(arg, "count", 1, UINT64_MAX); break;
		case 'v': S.verbose = 1; break;
		case 'F': S.listen.format = arg; break;
		case '0': S.listen.nul = 1; break;
		case 'e': S.listen.exec = arg; break;
		case OPT_JSON: S.listen.json = 1; break;
		default: common_option(key, arg); break;
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
	take_patterns(argv + c.ind, argc - c.ind);
	if (use_broker()) {
		check_broker_patterns();
		return broker_listen();
	}
	return listen_loop();
}

static int channel_wait_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	options_begin(&c, argc, argv, CLI_DUR_INF);
	while ((key = cli_next(&c, &arg)) != -1)
		common_option(key, arg);
	cli_operands(&c, 1, 2);
	take_patterns(argv + c.ind, 1);
	S.listen.want_message = argc - c.ind == 2 ? argv[c.ind + 1] : NULL;
	if (S.listen.want_message && strlen(S.listen.want_message) > CHAN_MESSAGE_MAX)
		cli_usage_error("invalid message name '%s': longer than 255 bytes", S.listen.want_message);
	S.listen.count = 1;
	if (use_broker()) {
		check_broker_patterns();
		return broker_listen();
	}
	return listen_loop();
}

/* ---- channel-list, channel-registered ------------------------------------ */

/* The live registrations (a connect probe says so); dead ones are left to
 * the next sender, so that looking never changes anything. */
static struct chan_reg *live_regs(size_t *n)
{
	struct chan_reg *regs;
	size_t all, k = 0;

	if (chan_dir_scan(&S.dir, &regs, &all, 0) < 0)
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

static int channel_list_main(int argc, char **argv)
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

static int channel_registered_main(int argc, char **argv)
{
	struct chan_reg *regs;
	struct cli c;
	char *arg;
	size_t n;
	int found = 0, key;

	options_begin(&c, argc, argv, DEFAULT_TIMEOUT_MS);
	while ((key = cli_next(&c, &arg)) != -1)
		common_option(key, arg);
	cli_operands(&c, 1, 1);
	check_name("channel", argv[c.ind]);
	if (use_broker()) {
		check_broker_name("channel", argv[c.ind], 1);
		return broker_registered(argv[c.ind]);
	}
	open_dir();
	regs = live_regs(&n);
	for (size_t i = 0; i < n && !found; i++)
		found = chan_reg_matches(&regs[i], argv[c.ind], strlen(argv[c.ind]));
	free(regs);
	return found ? EXIT_OK : EXIT_FAIL;
}

/* ---- over an MQTT broker (--broker, lib/channel/broker.h) ----------------- */

/* The broker URL from --broker, else $IPCBOX_BROKER; 0 if neither is set
 * (the local directory is used).  A TLS option needs an mqtts:// URL, and
 * the TLS options must agree with each other (usage errors, exit 2). */
static int use_broker(void)
{
	const char *why;
	int set;

	if (!S.broker.text)
		S.broker.text = getenv("IPCBOX_BROKER");
	set = S.broker.text && *S.broker.text;
	if (set && chan_broker_url_parse(S.broker.text, &S.broker.url, &why) < 0)
		cli_usage_error("invalid broker URL '%s': %s", S.broker.text, why);
	if (S.broker.tls.first && !(set && S.broker.url.tls))
		cli_usage_error("%s is for an mqtts:// broker (--broker or $IPCBOX_BROKER)",
				S.broker.tls.first);
	S.broker.tls.on = S.broker.url.tls;
	if (S.broker.url.tls && (why = tls_conflict(&S.broker.tls)))
		cli_usage_error("%s", why);
	return set;
}

/* A channel, pattern or message name the broker would refuse is refused
 * here, before connecting. */
static void check_broker_name(const char *what, const char *s, int topic)
{
	const char *why = topic ? chan_broker_name_check(s, strlen(s)) : mqtt_utf8_check(s, strlen(s), 1);

	if (why)
		cli_usage_error("invalid %s for a broker: %s", what, why);
}

/* The listeners' patterns, each one the broker would take. */
static void check_broker_patterns(void)
{
	for (int i = 0; i < S.listen.npat; i++)
		check_broker_name("pattern", S.listen.pats[i], 1);
}

/* Connect to the broker (over TLS for mqtts://, with the configuration
 * made here once), or exit: 1 with the reason, timeout_status when the
 * deadline passed. */
static void broker_connect(int presence, int64_t deadline, int timeout_status)
{
	char err[TLS_ERR_MAX];

	/* mqtts://: OpenSSL is loaded now, after every usage check. */
	if (S.broker.url.tls && !S.broker.ctx) {
		if (!(S.broker.ctx = tls_ctx_client(&S.broker.tls, err, sizeof err)))
			cli_die(EXIT_FAIL, "%s", err);
	}
	if (chan_broker_open(&S.broker.br, &S.broker.url, S.broker.ctx, presence, deadline) < 0)
		cli_die(errno == ETIMEDOUT ? timeout_status : EXIT_FAIL, "%s", S.broker.br.mc.err);
	S.broker.open = 1;
}

/* What channel-send -v prints over a broker. */
static void broker_send_verbose(void)
{
	if (!S.verbose)
		return;
	if (S.send.lines)
		printf("%llu messages, acknowledged by the broker: %llu\n", (unsigned long long)S.send.sent,
		       (unsigned long long)S.broker.acked);
	else
		printf("%s by the broker\n", S.broker.acked ? "acknowledged" : "not acknowledged");
	fflush(stdout);
}

/* The connection failed mid-stream: one line with what is unaccounted for. */
static noreturn void broker_send_fail(const char *why)
{
	broker_send_verbose();
	cli_die(EXIT_FAIL, "%s: %llu of %llu message%s not acknowledged", why,
		(unsigned long long)(S.send.sent - S.broker.acked), (unsigned long long)S.send.sent, S.send.sent == 1 ? "" : "s");
}

/* Count the PUBACKs that have arrived. */
static void broker_take_acks(void)
{
	struct mqtt_packet p;
	int k;

	while ((k = mqtt_next(&S.broker.br.mc, &p)) > 0) {
		if (p.type != MQTT_PUBACK)
			continue;
		if (p.reason >= 0x80 && !S.broker.refused++)
			S.broker.refused_reason = p.reason;
		else if (p.reason < 0x80)
			S.broker.acked++;
		S.broker.last_progress = clock_now_ms();
	}
	if (k < 0)
		broker_send_fail(S.broker.br.mc.err);
}

/* One wait of channel-send on the broker and, if in >= 0, on standard
 * input too.  Returns 1 if standard input is readable.  With messages
 * unacknowledged, --timeout bounds the wait for the next acknowledgement. */
static int broker_send_step(int in)
{
	int64_t wait = mqtt_timer(&S.broker.br.mc), limit = CLOCK_NO_DEADLINE;
	struct pollfd pfd[2] = {{.fd = S.broker.br.mc.fd, .events = mqtt_events(&S.broker.br.mc)}, {.fd = in, .events = POLLIN}};

	if (S.broker.br.mc.inflight && S.timeout_ms != CLI_DUR_INF)
		limit = S.broker.last_progress + S.timeout_ms;
	if (limit >= 0 && (wait < 0 || limit < wait))
		wait = limit;
	if (poll(pfd, in >= 0 ? 2 : 1, clock_poll_ms(wait)) < 0 && errno != EINTR)
		cli_die_errno(EXIT_FAIL, errno, "poll");
	if (mqtt_io(&S.broker.br.mc) < 0)
		broker_take_acks();
	broker_take_acks();
	if (S.broker.br.mc.dead)
		broker_send_fail(S.broker.br.mc.err);
	if (S.broker.br.mc.inflight && clock_expired(limit)) {
		char why[96];
		snprintf(why, sizeof why, "timed out after %lld ms waiting for the broker", (long long)S.timeout_ms);
		broker_send_fail(why);
	}
	return in >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR));
}

/* Queue one message as a QoS 1 PUBLISH, waiting for room in the window. */
static void broker_publish(const char *data, size_t len)
{
	struct chan_msg m = S.send.msg;
	uint16_t id;

	while (!mqtt_can_publish(&S.broker.br.mc))
		broker_send_step(-1);
	if (S.broker.br.mc.inflight == 0)
		S.broker.last_progress = clock_now_ms();
	m.data = data;
	m.data_len = len;
	if (chan_broker_publish(&S.broker.br, &m, NULL, &id) < 0 && errno == EMSGSIZE)
		broker_send_fail("a message is larger than the broker's maximum packet size");
	if (S.broker.br.mc.dead)
		broker_send_fail(S.broker.br.mc.err);
	S.send.sent++;
}

/* channel-send -l over a broker: one message per line, as many in flight
 * as the broker's Receive Maximum allows; standard input is read only
 * while there is room, so a slow broker slows the reader. */
static void broker_send_lines(void)
{
	char *buf = malloc(LINE_BUF), *nl;
	size_t have = 0, start = 0, end, lineno = 0;
	int eof = 0;
	ssize_t n;

	if (!buf)
		cli_die_errno(EXIT_FAIL, errno, "out of memory");
	for (;;) {
		while (start < have && mqtt_can_publish(&S.broker.br.mc)) {
			nl = memchr(buf + start, '\n', have - start);
			if (!nl && !eof)
				break;
			end = nl ? (size_t)(nl - buf) : have;
			if (end - start > CHAN_DATA_MAX)
				break;
			lineno++;
			broker_publish(buf + start, end - start);
			start = nl ? end + 1 : have;
		}
		if (eof && start == have)
			break;
		/* Room is made only when no whole line is left: a buffer of short
		 * lines is not moved again for each window of messages. */
		if (start > 0 && !memchr(buf + start, '\n', have - start)) {
			memmove(buf, buf + start, have - start);
			have -= start;
			start = 0;
		}
		/* The line at the start is too long if it has no newline where one
		 * should be, or if the buffer is full without one. */
		nl = memchr(buf + start, '\n', have - start < CHAN_DATA_MAX + 1 ? have - start : CHAN_DATA_MAX + 1);
		if (!nl && have - start > CHAN_DATA_MAX)
			cli_die(EXIT_USAGE, "line %zu: longer than the %d-byte message limit", lineno + 1, CHAN_DATA_MAX);
		if (!broker_send_step(!eof && have < LINE_BUF && mqtt_can_publish(&S.broker.br.mc) ? 0 : -1))
			continue;
		n = read(0, buf + have, LINE_BUF - have);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			cli_die_errno(EXIT_FAIL, errno, "read standard input");
		if (n == 0)
			eof = 1;
		if (n > 0)
			have += (size_t)n;
	}
	free(buf);
}

/* channel-send --broker: connect, publish, wait for every PUBACK. */
static int broker_send(const char *data, size_t len)
{
	broker_connect(0, clock_deadline(S.timeout_ms), EXIT_FAIL);
	S.broker.last_progress = clock_now_ms();
	if (S.send.lines)
		broker_send_lines();
	else
		broker_publish(data, len);
	while (S.broker.acked + S.broker.refused < S.send.sent)
		broker_send_step(-1);
	mqtt_close(&S.broker.br.mc, 0, clock_deadline(2000));
	broker_send_verbose();
	if (S.broker.refused)
		cli_warn("%llu of %llu message%s not acknowledged: the broker answered %s", (unsigned long long)S.broker.refused,
			 (unsigned long long)S.send.sent, S.send.sent == 1 ? "" : "s",
			 mqtt_reason_text(MQTT_PUBACK, S.broker.refused_reason));
	return S.broker.refused ? EXIT_FAIL : EXIT_OK;
}

/* The broker connection failed: say why (one line), leave, exit 1. */
static noreturn void broker_listen_fail(void)
{
	cli_warn("%s", S.broker.br.mc.err);
	listen_exit(EXIT_FAIL);
}

static noreturn void poll_failed(void)
{
	cli_warn_errno(errno, "poll");
	listen_exit(EXIT_FAIL);
}

/* A packet for a listener over a broker. */
static void broker_listen_packet(const struct mqtt_packet *p, uint64_t *got)
{
	struct received r = {.pid = 0, .uid = (unsigned)-1, .remote = 1};
	const char *why;
	int k;

	if (p->type == MQTT_SUBACK && chan_broker_suback(&S.broker.br, p, 1) < 0)
		broker_listen_fail();
	if (p->type == MQTT_PUBACK && chan_broker_puback(&S.broker.br, p))
		tell_ready();
	if (p->type != MQTT_PUBLISH)
		return;
	k = chan_broker_message(&S.broker.br, p, &r.m, NULL, &why);
	if (!k && why)
		cli_warn("dropped a message on topic '%.*s': %s", (int)p->topic.len, p->topic.p, why);
	if (k && S.listen.want_message &&
	    (r.m.message_len != strlen(S.listen.want_message) || memcmp(r.m.message, S.listen.want_message, r.m.message_len)))
		k = 0;
	if (k) {
		r.time = clock_wall(0);
		output(&r);
	}
	/* Acknowledged once handled: the broker resends nothing (no session),
	 * but its window advances. */
	if (p->qos)
		mqtt_puback(&S.broker.br.mc, p->id);
	if (k && S.listen.count && ++*got == S.listen.count)
		listen_exit(S.listen.exec ? S.listen.last_status : EXIT_OK);
}

/* channel-listen and channel-wait --broker: subscribe, announce presence,
 * then print each message as the local listener does. */
static int broker_listen(void)
{
	int64_t deadline = clock_deadline(S.timeout_ms);
	struct pollfd pfd[2];
	struct mqtt_packet p;
	uint64_t got = 0;
	int k, child;

	listen_setup(0);
	broker_connect(1, deadline, EXIT_TIMEOUT);
	if (chan_broker_subscribe(&S.broker.br, S.listen.pats, S.listen.npat, 0) < 0)
		broker_listen_fail();
	for (;;) {
		int64_t wait = mqtt_timer(&S.broker.br.mc);
		if (deadline >= 0 && (wait < 0 || deadline < wait))
			wait = deadline;
		pfd[0] = (struct pollfd){.fd = S.broker.br.mc.fd, .events = mqtt_events(&S.broker.br.mc)};
		pfd[1] = (struct pollfd){.fd = S.listen.sigfd, .events = POLLIN};
		if (poll(pfd, 2, clock_poll_ms(wait)) < 0 && errno != EINTR)
			poll_failed();
		if (pfd[1].revents && sigev_take(S.listen.sigfd, &child))
			stop_listening();
		if (clock_expired(deadline))
			listen_exit(EXIT_TIMEOUT);
		mqtt_io(&S.broker.br.mc);
		while ((k = mqtt_next(&S.broker.br.mc, &p)) > 0)
			broker_listen_packet(&p, &got);
		if (k < 0) {
			S.broker.open = 0;
			broker_listen_fail();
		}
		flush_batch();
	}
}

/* channel-registered --broker: is a listener's presence announcing a
 * pattern that matches the channel? */
static int broker_registered(const char *channel)
{
	int64_t deadline = clock_deadline(S.timeout_ms);
	int k;

	broker_connect(0, deadline, EXIT_TIMEOUT);
	k = chan_broker_registered(&S.broker.br, channel, deadline);
	if (k < 0)
		cli_die(errno == ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAIL, "%s", S.broker.br.mc.err);
	mqtt_close(&S.broker.br.mc, 0, clock_deadline(2000));
	return k ? EXIT_OK : EXIT_FAIL;
}

/* ---- channel-bridge ---------------------------------------------------------- */

/* A message from the broker, to every local listener it matches but the
 * bridge itself, as channel-send delivers it. */
static void bridge_deliver(const struct chan_msg *m)
{
	for (size_t i = 0; i < S.send.nt; i++)
		if (S.send.t[i].fd >= 0)
			close(S.send.t[i].fd);
	S.send.nt = 0;
	S.send.msg = (struct chan_msg){m->channel, m->channel_len, m->message, m->message_len, "", 0};
	if (!(S.send.prefix_len = chan_frame_prefix(S.send.prefix, &S.send.msg)))
		return;
	scan_targets();
	queue_message(m->data, m->data_len);
	deliver_batch();
}

/* A local message for the broker, marked with our origin.  Our own
 * deliveries never reach our socket (we skip ourselves), but a message
 * sent by this process is dropped all the same. */
static void bridge_publish(const struct received *r)
{
	uint16_t id;

	if (r->pid == (long)getpid())
		return;
	if (chan_broker_publish(&S.broker.br, &r->m, S.broker.br.id, &id) < 0 && !S.broker.br.mc.dead)
		cli_warn_errno(errno, "message on '%.*s' not forwarded to the broker", (int)r->m.channel_len,
			       r->m.channel);
}

static void bridge_packet(const struct mqtt_packet *p)
{
	struct mqtt_str origin;
	struct chan_msg m;
	const char *why;

	if (p->type == MQTT_SUBACK) {
		int k = chan_broker_suback(&S.broker.br, p, 0);
		if (k < 0)
			broker_listen_fail();
		if (k > 0)
			tell_ready();
	}
	if (p->type == MQTT_PUBACK && p->reason >= 0x80)
		cli_warn("the broker refused a forwarded message: %s", mqtt_reason_text(MQTT_PUBACK, p->reason));
	if (p->type != MQTT_PUBLISH)
		return;
	if (chan_broker_message(&S.broker.br, p, &m, &origin, &why)) {
		if (origin.len != strlen(S.broker.br.id) || memcmp(origin.p, S.broker.br.id, origin.len) != 0)
			bridge_deliver(&m);
	} else if (why) {
		cli_warn("dropped a message on topic '%.*s': %s", (int)p->topic.len, p->topic.p, why);
	}
	/* After local delivery, so that the broker's window paces us. */
	if (p->qos)
		mqtt_puback(&S.broker.br.mc, p->id);
}

/* The bridge's loop: local datagrams go to the broker while its window has
 * room (otherwise they wait in our socket, and local senders feel it);
 * broker messages go to the local listeners. */
static int bridge_loop(void)
{
	struct pollfd pfd[3];
	struct mqtt_packet p;
	struct received r;
	int k, child;

	listen_setup(1);
	broker_connect(0, clock_deadline(S.timeout_ms == CLI_DUR_INF ? 30000 : S.timeout_ms), EXIT_FAIL);
	if (chan_broker_subscribe(&S.broker.br, S.listen.pats, S.listen.npat, MQTT_SUB_NO_LOCAL) < 0)
		broker_listen_fail();
	for (;;) {
		int room = mqtt_can_publish(&S.broker.br.mc);
		pfd[0] = (struct pollfd){.fd = S.broker.br.mc.fd, .events = mqtt_events(&S.broker.br.mc)};
		pfd[1] = (struct pollfd){.fd = S.listen.sigfd, .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = room ? S.listen.sock : -1, .events = POLLIN};
		if (poll(pfd, 3, clock_poll_ms(mqtt_timer(&S.broker.br.mc))) < 0 && errno != EINTR)
			poll_failed();
		if (pfd[1].revents && sigev_take(S.listen.sigfd, &child))
			stop_listening();
		while (mqtt_can_publish(&S.broker.br.mc) && (k = receive(&r)) != 0)
			if (k > 0)
				bridge_publish(&r);
		mqtt_io(&S.broker.br.mc);
		while ((k = mqtt_next(&S.broker.br.mc, &p)) > 0)
			bridge_packet(&p);
		if (k < 0) {
			S.broker.open = 0;
			broker_listen_fail();
		}
	}
}

static int channel_bridge_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	options_begin(&c, argc, argv, DEFAULT_TIMEOUT_MS);
	while ((key = cli_next(&c, &arg)) != -1)
		common_option(key, arg);
	cli_operands(&c, 1, CHAN_PATTERNS_MAX);
	take_patterns(argv + c.ind, argc - c.ind);
	if (!use_broker())
		cli_usage_error("a broker is needed: --broker URL or $IPCBOX_BROKER");
	check_broker_patterns();
	return bridge_loop();
}

/* Completion: the patterns listeners are registered with, quietly. */
static void complete_channels(void)
{
	char err[PATH_MAX + 128];
	struct chan_reg *regs;
	size_t n;

	if (chan_dir_open(&S.dir, err, sizeof err) < 0 || chan_dir_scan(&S.dir, &regs, &n, 0) < 0)
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
	{OPT_BROKER, "broker", "URL", "publish to an MQTT 5 broker, mqtt[s]://[USER[:PASS]@]HOST[:PORT][/PREFIX]", NULL},
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
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
	{OPT_BROKER, "broker", "URL", "subscribe at an MQTT 5 broker instead of the local directory", NULL},
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
	{0},
};

static const struct opt wait_opts[] = {
	{'t', "timeout", "DURATION", "exit 124 when this has passed (default inf)", NULL},
	{OPT_READY, "ready-file", "FILE", "write the pid to FILE once registered", "file"},
	{OPT_BROKER, "broker", "URL", "subscribe at an MQTT 5 broker instead of the local directory", NULL},
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
	{0},
};

static const struct opt bridge_opts[] = {
	{'t', "timeout", "DURATION", "wait this long for a slow local listener (default 5s; 0, inf)", NULL},
	{OPT_READY, "ready-file", "FILE", "write the pid to FILE once joined both ways", "file"},
	{OPT_BROKER, "broker", "URL", "the MQTT 5 broker to join (or $IPCBOX_BROKER)", NULL},
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
	{0},
};

static const struct opt registered_opts[] = {
	{'t', "timeout", "DURATION", "with --broker: exit 124 when this has passed (default 5s)", NULL},
	{OPT_BROKER, "broker", "URL", "ask an MQTT 5 broker for the listeners' presence", NULL},
	TLS_OPT_ENTRIES_VERIFY,
	TLS_OPT_ENTRIES_CERT,
	{0},
};

static const struct opt list_opts[] = {
	{OPT_JSON, "json", NULL, "print a JSON array", NULL},
	{0},
};


const struct applet channel_applets[] = {
	{"channel-send", channel_send_main,
	 "[-l] [-v] [-t DURATION] [--drop | --broker URL [TLS-OPTION]...] CHANNEL MESSAGE [DATA]...",
	 "send a message to every listener on a channel", send_opts, complete_channels},
	{"channel-listen", channel_listen_main,
	 "[-c COUNT] [-t DURATION] [-v|--json|-F FORMAT|-e CMD] [-0] [--broker URL [TLS-OPTION]...] PATTERN...",
	 "print the messages sent to the channels matching the patterns", listen_opts, complete_channels},
	{"channel-wait", channel_wait_main, "[-t DURATION] [--broker URL [TLS-OPTION]...] PATTERN [MESSAGE]",
	 "wait for one message and print its data", wait_opts, complete_channels},
	{"channel-list", channel_list_main, "[--json]", "list the registered patterns and their listener counts", list_opts,
	 NULL},
	{"channel-registered", channel_registered_main, "[--broker URL [-t DURATION] [TLS-OPTION]...] CHANNEL",
	 "exit 0 if a live listener is registered for CHANNEL", registered_opts, complete_channels},
	{"channel-bridge", channel_bridge_main, "--broker URL [TLS-OPTION]... [-t DURATION] [--ready-file FILE] PATTERN...",
	 "join the local channels matching the patterns to an MQTT broker, both ways", bridge_opts, complete_channels},
	{0},
};
