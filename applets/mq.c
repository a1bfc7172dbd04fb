/* mq applets: create, send to, receive from, peek into, describe, list and
 * remove message queues, POSIX (mq_open) and System V (msgget), named as in
 * lib/ipcname.h.
 *
 * Every wait sleeps in the kernel.  POSIX: mq_timedsend/mq_timedreceive
 * in slices (realtime_slice), the deadline kept on the monotonic clock;
 * System V, which has no timed call: lib/ipcmq.c blocks in msgsnd/msgrcv
 * under an interval timer (see there).  Stop signals (lib/sigev.h) end a
 * blocked mq-recv with EINTR; the slices bound the wait of one that lands
 * just before the call.  The bench (bench/50-mq.sh) set this shape: a
 * poll(2) before each blocking receive and a flush each time the queue ran
 * empty cost mq-recv a third of the C reference's rate. */
#include "applets.h"
#include "../lib/clock.h"
#include "../lib/hexdump.h"
#include "../lib/io.h"
#include "../lib/ipcmq.h"
#include "../lib/ipcname.h"
#include "../lib/ipcobj.h"
#include "../lib/json.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Linux's MQ_PRIO_MAX is 32768: priorities 0..32767. */
#define PRIO_MAX 32767
/* A System V message larger than msgmax cannot be sent; one sent while
 * msgmax was larger can still be queued: mq-recv grows its buffer up to this. */
#define SYSV_GROW_MAX (64u << 20)
/* A blocking POSIX call sleeps at most this long before it looks at the
 * stop flag again (see recv_posix). */
#define TICK_MS 250
/* mq-recv flushes its output once the queue has stayed empty this long. */
#define FLUSH_MS 10
/* Read-ahead of mq-send -l beyond the longest message. */
#define LINE_SLACK (64 * 1024)

enum {
	OPT_EXIST_OK = OPT_LONG_ONLY,
	OPT_MAX_MESSAGES,
	OPT_MESSAGE_SIZE,
	OPT_MAX_BYTES,
	OPT_PRIORITY,
	OPT_TYPE,
	OPT_NOWAIT,
	OPT_RAW,
	OPT_HEX,
	OPT_JSON,
};

/* How mq-recv and mq-peek print a message. */
enum out { OUT_TEXT, OUT_NUL, OUT_RAW, OUT_HEX, OUT_JSON, OUT_EXEC };

/* A System V message as msgsnd and msgrcv want it. */
struct sysv_msg {
	long type;
	char data[];
};

static struct {
	struct ipcname name;
	/* options */
	unsigned mode;
	int exist_ok;
	uint64_t max_messages, message_size, max_bytes;
	int lines, nowait;
	unsigned priority;
	long type;
	int64_t timeout_ms;
	uint64_t count;
	enum out out;
	const char *exec;
	int json;
	/* the open queue: a POSIX descriptor or a System V id */
	mqd_t mq;
	int msqid;
	size_t msgsize;         /* the longest message */
	struct sysv_msg *msg;   /* System V buffer: msgsize data bytes */
	struct ipcmq_limits lim;
	/* mq-recv */
	int last_status;
	int pending; /* output in stdout's buffer */
	uint64_t got;
	char stdout_buf[64 * 1024];
} S;

static void state_defaults(void)
{
	S.mode = 0600;
	S.type = 1;
	S.timeout_ms = CLI_DUR_INF;
	S.mq = (mqd_t)-1;
	S.msqid = -1;
}

static int is_posix(void)
{
	return S.name.type == IPCNAME_POSIX;
}

static void parse_name(const char *text)
{
	const char *why;

	if (ipcname_parse(&S.name, text, IPCNAME_MQ, &why) < 0)
		cli_usage_error("invalid name '%s': %s", text, why);
}

static noreturn void die_open(int err)
{
	if (err == ENOENT && S.name.type == IPCNAME_SYSV_FILE)
		cli_die_errno(EXIT_FAIL, err, "%s: key file %s", S.name.text, S.name.path);
	if (ipcobj_missing(err))
		cli_die(EXIT_FAIL, "%s: no such queue", S.name.text);
	cli_die_errno(EXIT_FAIL, err, "%s", S.name.text);
}

static void alloc_msg(size_t size)
{
	struct sysv_msg *m = realloc(S.msg, sizeof *m + size);

	if (!m)
		cli_die_errno(EXIT_FAIL, ENOMEM, "a buffer of %zu bytes", size);
	S.msg = m;
	S.msgsize = size;
}

/* Open S.name (never creating it): a POSIX queue with oflag (O_RDONLY or
 * O_WRONLY, O_NONBLOCK or not), its message size in S.msgsize, or the
 * System V id, with a buffer of msgmax bytes. */
static void open_queue(int oflag)
{
	struct mq_attr a;

	if (is_posix()) {
		if ((S.mq = mq_open(S.name.posix, oflag | O_CLOEXEC)) == (mqd_t)-1)
			die_open(errno);
		if (mq_getattr(S.mq, &a) < 0)
			die_open(errno);
		S.msgsize = (size_t)a.mq_msgsize;
		return;
	}
	if ((S.msqid = ipcobj_sysv_id(&S.name)) < 0)
		die_open(errno);
	S.lim.msgmax = ipcmq_sysctl("/proc/sys/kernel/msgmax"); /* every send and receive */
	alloc_msg(S.lim.msgmax > 0 ? (size_t)S.lim.msgmax : 8192);
}

/* One NAME operand (and at most extra more), after the options. */
static void name_operand(struct cli *c, int extra)
{
	cli_operands(c, 1, 1 + extra);
	parse_name(c->argv[c->ind]);
}

/* --- mq-create --- */

/* Why mq_open refused a, in the words of the limits create_posix read. */
static noreturn void create_posix_failed(int err, const struct mq_attr *a)
{
	const char *name = S.name.text;

	if (err == EINVAL && S.lim.msg_max >= 0 && a->mq_maxmsg > S.lim.msg_max)
		cli_die(EXIT_FAIL, "create %s: %ld messages exceed the limit msg_max (%ld, /proc/sys/fs/mqueue/msg_max)",
			name, a->mq_maxmsg, S.lim.msg_max);
	if (err == EINVAL && S.lim.msgsize_max >= 0 && a->mq_msgsize > S.lim.msgsize_max)
		cli_die(EXIT_FAIL, "create %s: %ld-byte messages exceed the limit msgsize_max (%ld, /proc/sys/fs/mqueue/msgsize_max)",
			name, a->mq_msgsize, S.lim.msgsize_max);
	if (err == ENOSPC)
		cli_die(EXIT_FAIL, "create %s: the system's queues are at the limit queues_max (%ld, /proc/sys/fs/mqueue/queues_max)",
			name, S.lim.queues_max);
	if (err == EMFILE)
		cli_die(EXIT_FAIL, "create %s: %ld x %ld bytes exceed this user's RLIMIT_MSGQUEUE (ulimit -q), or too many open files",
			name, a->mq_maxmsg, a->mq_msgsize);
	cli_die_errno(EXIT_FAIL, err, "create %s", name);
}

static int create_posix(void)
{
	struct mq_attr a = {0};
	mqd_t q;
	mode_t old;

	if (S.max_bytes)
		cli_usage_error("--max-bytes is for System V queues; a POSIX queue takes --max-messages and --message-size");
	ipcmq_limits_read(&S.lim);
	a.mq_maxmsg = S.max_messages ? (long)S.max_messages : S.lim.msg_default > 0 ? S.lim.msg_default : 10;
	a.mq_msgsize = S.message_size ? (long)S.message_size : S.lim.msgsize_default > 0 ? S.lim.msgsize_default : 8192;
	old = umask(0); /* the mode asked for, exactly */
	q = mq_open(S.name.posix, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, (mode_t)S.mode, &a);
	umask(old);
	if (q == (mqd_t)-1 && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (q == (mqd_t)-1)
		create_posix_failed(errno, &a);
	mq_close(q);
	return EXIT_OK;
}

/* msg_qbytes as asked; past msgmnb only with CAP_SYS_RESOURCE. */
static void set_max_bytes(int id)
{
	struct msqid_ds ds;
	int err;

	if (msgctl(id, IPC_STAT, &ds) == 0) {
		ds.msg_qbytes = (msglen_t)S.max_bytes;
		if (msgctl(id, IPC_SET, &ds) == 0)
			return;
	}
	err = errno;
	msgctl(id, IPC_RMID, NULL);
	if (err == EPERM)
		cli_die(EXIT_FAIL, "create %s: --max-bytes %llu exceeds msgmnb (%ld, /proc/sys/kernel/msgmnb): "
			"raising it needs CAP_SYS_RESOURCE (root)", S.name.text,
			(unsigned long long)S.max_bytes, S.lim.msgmnb);
	cli_die_errno(EXIT_FAIL, err, "create %s: set --max-bytes", S.name.text);
}

static int create_sysv(void)
{
	int id;

	if (S.max_messages || S.message_size)
		cli_usage_error("--%s is for POSIX queues; a System V queue takes --max-bytes",
				S.max_messages ? "max-messages" : "message-size");
	if (S.name.type == IPCNAME_SYSV_ID)
		cli_usage_error("cannot create by id: '%s'; use sysv:KEY", S.name.text);
	if (ipcname_key(&S.name) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: key file %s", S.name.text, S.name.path);
	ipcmq_limits_read(&S.lim);
	id = msgget(S.name.key, IPC_CREAT | IPC_EXCL | (int)S.mode);
	if (id < 0 && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (id < 0 && errno == ENOSPC)
		cli_die(EXIT_FAIL, "create %s: the system's queues are at the limit msgmni (/proc/sys/kernel/msgmni)",
			S.name.text);
	if (id < 0)
		cli_die_errno(EXIT_FAIL, errno, "create %s", S.name.text);
	if (S.max_bytes)
		set_max_bytes(id);
	return EXIT_OK;
}

static int mq_create_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'm': S.mode = cli_mode(arg); break;
		case OPT_EXIST_OK: S.exist_ok = 1; break;
		case OPT_MAX_MESSAGES: S.max_messages = cli_uint(arg, "message count", 1, INT_MAX); break;
		case OPT_MESSAGE_SIZE:
			S.message_size = cli_size(arg, "message size");
			if (S.message_size < 1 || S.message_size > INT_MAX)
				cli_usage_error("invalid message size '%s' (expected 1..%d bytes)", arg, INT_MAX);
			break;
		case OPT_MAX_BYTES:
			S.max_bytes = cli_size(arg, "byte count");
			if (S.max_bytes < 1 || S.max_bytes > INT_MAX)
				cli_usage_error("invalid byte count '%s' (expected 1..%d)", arg, INT_MAX);
			break;
		}
	}
	name_operand(&c, 0);
	if (S.mode & ~0777u)
		cli_usage_error("invalid mode '%o': only permission bits 0777 apply", S.mode);
	return is_posix() ? create_posix() : create_sysv();
}

/* --- mq-send --- */

static noreturn void send_failed(int err, size_t len)
{
	if (err == EAGAIN && S.nowait)
		cli_die(EXIT_FAIL, "%s: the queue is full", S.name.text);
	if (err == EAGAIN)
		cli_die(EXIT_TIMEOUT, "%s: timed out waiting for room in the queue", S.name.text);
	if (err == EMSGSIZE || (err == EINVAL && !is_posix()))
		cli_die(EXIT_FAIL, "%s: a message of %zu bytes is longer than the queue takes (%s)", S.name.text,
			len, is_posix() ? "its message size" : "msgmax, /proc/sys/kernel/msgmax, or its --max-bytes");
	die_open(err);
}

/* The wall-clock time at most slice_ms from now and never past deadline,
 * for mq_timedsend and mq_timedreceive, whose timeout is a CLOCK_REALTIME
 * instant: the deadline itself stays on the monotonic clock, and a wait is
 * made in slices of at most a second, so that a jump of the wall clock
 * moves it by a slice at most. */
static struct timespec realtime_slice(int64_t deadline, int slice_ms)
{
	int ms = clock_poll_ms(deadline);

	if (ms < 0 || ms > slice_ms)
		ms = slice_ms;
	return clock_wall(ms);
}

/* Send one message, waiting up to --timeout for room (each message has the
 * whole timeout: a stream waits as long as its reader is slow).  POSIX: the
 * descriptor blocks (it is non-blocking only with --nowait), so a full
 * queue costs the one call that sleeps in the kernel. */
static void send_one(const char *data, size_t len)
{
	int64_t deadline;
	struct timespec ts;

	if (len > S.msgsize)
		cli_die(EXIT_FAIL, "%s: a message of %zu bytes is longer than the queue takes (%zu%s)",
			S.name.text, len, S.msgsize, is_posix() ? ", its message size" : ", msgmax");
	if (!is_posix()) {
		S.msg->type = S.type;
		memcpy(S.msg->data, data, len);
		if (ipcmq_sysv_send(S.msqid, S.msg, len, S.nowait, clock_deadline(S.timeout_ms), NULL) < 0)
			send_failed(errno, len);
		return;
	}
	if (S.nowait || S.timeout_ms == CLI_DUR_INF) {
		while (mq_send(S.mq, data, len, S.priority) < 0)
			if (errno != EINTR)
				send_failed(errno, len);
		return;
	}
	deadline = clock_deadline(S.timeout_ms);
	for (;;) {
		ts = realtime_slice(deadline, 1000);
		if (mq_timedsend(S.mq, data, len, S.priority, &ts) == 0)
			return;
		if (errno == ETIMEDOUT && clock_expired(deadline))
			send_failed(EAGAIN, len);
		if (errno != ETIMEDOUT && errno != EINTR)
			send_failed(errno, len);
	}
}

/* -l: one message per line of stdin (without its newline); a last line
 * without a newline is a message too. */
static void send_lines(void)
{
	size_t cap = S.msgsize + LINE_SLACK, have = 0, start, lineno = 0;
	char *buf = malloc(cap), *nl;
	ssize_t n;

	if (!buf)
		cli_die_errno(EXIT_FAIL, ENOMEM, "line buffer");
	for (;;) {
		n = read(0, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, "read standard input");
		have += (size_t)n;
		for (start = 0; (nl = memchr(buf + start, '\n', have - start)); start = (size_t)(nl - buf) + 1) {
			lineno++;
			if ((size_t)(nl - buf) - start > S.msgsize)
				cli_die(EXIT_FAIL, "%s: line %zu is longer than the queue's messages (%zu bytes)",
					S.name.text, lineno, S.msgsize);
			send_one(buf + start, (size_t)(nl - buf) - start);
		}
		if (have - start > S.msgsize)
			cli_die(EXIT_FAIL, "%s: line %zu is longer than the queue's messages (%zu bytes)",
				S.name.text, lineno + 1, S.msgsize);
		if (n == 0) {
			if (start < have)
				send_one(buf + start, have - start);
			break;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	free(buf);
}

static int mq_send_main(int argc, char **argv)
{
	struct cli c;
	char *arg, *prio_text = NULL, *type_text = NULL;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'l': S.lines = 1; break;
		case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
		case OPT_NOWAIT: S.nowait = 1; break;
		case OPT_PRIORITY: prio_text = arg; break;
		case OPT_TYPE: type_text = arg; break;
		}
	}
	name_operand(&c, 1);
	if (S.lines && argc - c.ind > 1)
		cli_usage_error("-l reads the messages from standard input: no DATA operand");
	if (S.nowait && S.timeout_ms != CLI_DUR_INF)
		cli_usage_error("--nowait and --timeout cannot be combined");
	if (prio_text && !is_posix())
		cli_usage_error("--priority is for POSIX queues; a System V message has a --type");
	if (type_text && is_posix())
		cli_usage_error("--type is for System V queues; a POSIX message has a --priority");
	if (prio_text)
		S.priority = (unsigned)cli_uint(prio_text, "priority", 0, PRIO_MAX);
	if (type_text)
		S.type = (long)cli_int(type_text, "type", 1, LONG_MAX);
	open_queue(O_WRONLY | (S.nowait ? O_NONBLOCK : 0));
	if (S.lines) {
		send_lines();
	} else if (argc - c.ind > 1) {
		const char *d = argv[c.ind + 1];
		send_one(d, strlen(d));
	} else {
		size_t len;
		char *d = io_read_all(0, S.msgsize, &len);
		if (!d && errno == EFBIG)
			cli_die(EXIT_FAIL, "%s: standard input is longer than the queue's messages (%zu bytes)",
				S.name.text, S.msgsize);
		if (!d)
			cli_die_errno(EXIT_FAIL, errno, "read standard input");
		send_one(d, len);
		free(d);
	}
	return EXIT_OK;
}

/* --- mq-recv and mq-peek: output --- */

/* Flush stdout; a reader that went away ends us quietly (as SIGPIPE would). */
static void flush_out(void)
{
	S.pending = 0;
	if (fflush(stdout) == 0)
		return;
	if (errno == EPIPE)
		exit(EXIT_OK);
	cli_die_errno(EXIT_FAIL, errno, "write standard output");
}

static noreturn void recv_exit(int status)
{
	sigev_hold();
	flush_out();
	exit(status);
}

/* -e CMD: /bin/sh -c CMD with the data on its stdin, MQ_NAME and
 * MQ_PRIORITY (POSIX) or MQ_TYPE (System V) in its environment. */
static void run_command(const char *data, size_t len, long tag)
{
	char *vars[3] = {NULL};
	int werr = 0;

	if (asprintf(&vars[0], "MQ_NAME=%s", S.name.text) < 0 ||
	    asprintf(&vars[1], "%s=%ld", is_posix() ? "MQ_PRIORITY" : "MQ_TYPE", tag) < 0)
		cli_die(EXIT_FAIL, "out of memory");
	S.last_status = spawn_feed(S.exec, vars, data, len, &werr);
	free(vars[0]);
	free(vars[1]);
	if (S.last_status < 0)
		cli_die_errno(EXIT_FAIL, errno, "run '%s'", S.exec);
	if (werr)
		cli_warn_errno(werr, "write to '%s'", S.exec);
}

/* Print one message as --raw, -0, --hex, --json or text ask; tag is its
 * priority (POSIX) or type (System V). */
static void output(const char *data, size_t len, long tag)
{
	S.pending = 1;
	switch (S.out) {
	case OUT_EXEC:
		run_command(data, len, tag);
		return;
	case OUT_RAW:
		fwrite(data, 1, len, stdout);
		break;
	case OUT_NUL:
		fwrite(data, 1, len, stdout);
		putchar('\0');
		break;
	case OUT_HEX:
		if (hexdump_write(stdout, 0, data, len) < 0)
			flush_out();
		break;
	case OUT_JSON:
		/* once a message: no printf (io_put_u64 says why) */
		fputs(is_posix() ? "{\"priority\":" : "{\"type\":", stdout);
		io_put_i64(stdout, tag);
		fputs(",\"size\":", stdout);
		io_put_u64(stdout, len, 0);
		fputs(",\"data\":", stdout);
		json_string(stdout, data, len);
		fputs("}\n", stdout);
		break;
	case OUT_TEXT:
		ipcmq_print_escaped(stdout, data, len);
		putchar('\n');
		break;
	}
}

/* The output options of mq-recv and mq-peek: at most one. */
static void set_out(enum out o, const char *opt)
{
	static const char *const names[] = {"", "-0", "--raw", "--hex", "--json", "-e"};

	if (S.out != OUT_TEXT && S.out != o)
		cli_usage_error("%s and %s cannot be combined", names[S.out], opt);
	S.out = o;
}

static int out_option(int key, char *arg)
{
	switch (key) {
	case '0': set_out(OUT_NUL, "-0"); return 1;
	case OPT_RAW: set_out(OUT_RAW, "--raw"); return 1;
	case OPT_HEX: set_out(OUT_HEX, "--hex"); return 1;
	case OPT_JSON: set_out(OUT_JSON, "--json"); return 1;
	case 'e': set_out(OUT_EXEC, "-e"); S.exec = arg; return 1;
	}
	return 0;
}

/* --- mq-recv --- */

/* A message was printed: stop at -c. */
static void counted(void)
{
	if (S.count && ++S.got == S.count)
		recv_exit(S.out == OUT_EXEC ? S.last_status : EXIT_OK);
}

static noreturn void recv_timed_out(void)
{
	flush_out();
	cli_die(EXIT_TIMEOUT, "%s: timed out waiting for a message", S.name.text);
}

/* POSIX: block in mq_timedreceive, in slices of at most TICK_MS: a stop
 * signal interrupts the call (EINTR: no SA_RESTART), and one that lands
 * just before the call is seen at the end of the slice.  Output waits in
 * stdout's buffer while messages keep coming: it is flushed once the queue
 * has stayed empty for FLUSH_MS, so a stream costs no write(2) a message,
 * and a reader sees each message within FLUSH_MS of the queue running dry. */
static int recv_posix(int64_t deadline)
{
	char *buf = malloc(S.msgsize + 1);
	int64_t until;
	struct timespec ts;
	unsigned prio;
	ssize_t n;

	if (!buf)
		cli_die_errno(EXIT_FAIL, ENOMEM, "a buffer of %zu bytes", S.msgsize);
	for (;;) {
		if (*sigev_stop_flag())
			recv_exit(EXIT_OK);
		until = S.pending ? clock_deadline(FLUSH_MS) : deadline;
		if (deadline != CLOCK_NO_DEADLINE && (until == CLOCK_NO_DEADLINE || deadline < until))
			until = deadline;
		ts = realtime_slice(until, TICK_MS);
		if ((n = mq_timedreceive(S.mq, buf, S.msgsize, &prio, &ts)) >= 0) {
			output(buf, (size_t)n, (long)prio);
			counted();
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			die_open(errno);
		if (S.pending && clock_expired(until))
			flush_out();
		if (clock_expired(deadline))
			recv_timed_out();
	}
}

/* System V: msgrcv, first without waiting; before a wait, flush. */
static int recv_sysv(int64_t deadline)
{
	volatile sig_atomic_t *stop = sigev_stop_flag();
	ssize_t n;

	for (;;) {
		if (*stop)
			recv_exit(EXIT_OK);
		n = ipcmq_sysv_recv(S.msqid, S.msg, S.msgsize, S.type, 1, deadline, stop);
		if (n < 0 && errno == ENOMSG) {
			flush_out();
			n = ipcmq_sysv_recv(S.msqid, S.msg, S.msgsize, S.type, 0, deadline, stop);
		}
		if (n >= 0) {
			output(S.msg->data, (size_t)n, S.msg->type);
			counted();
			continue;
		}
		if (errno == E2BIG && S.msgsize < SYSV_GROW_MAX) {
			alloc_msg(S.msgsize * 2);
			continue;
		}
		if (errno == EINTR)
			recv_exit(EXIT_OK);
		if (errno == EAGAIN)
			recv_timed_out();
		if (errno == E2BIG)
			cli_die(EXIT_FAIL, "%s: the next message is longer than %u bytes", S.name.text, SYSV_GROW_MAX);
		die_open(errno);
	}
}

static int mq_recv_main(int argc, char **argv)
{
	struct cli c;
	char *arg, *type_text = NULL;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		if (out_option(key, arg))
			continue;
		switch (key) {
		case 'c': S.count = cli_uint(arg, "count", 1, UINT64_MAX); break;
		case 't': S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF); break;
		case OPT_TYPE: type_text = arg; break;
		}
	}
	name_operand(&c, 0);
	if (type_text && is_posix())
		cli_usage_error("--type is for System V queues; a POSIX queue gives the highest priority first");
	S.type = type_text ? (long)cli_int(type_text, "type", -LONG_MAX, LONG_MAX) : 0;
	if (sigev_open(0) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	open_queue(O_RDONLY);
	setvbuf(stdout, S.stdout_buf, _IOFBF, sizeof S.stdout_buf);
	if (is_posix())
		return recv_posix(clock_deadline(S.timeout_ms));
	return recv_sysv(clock_deadline(S.timeout_ms));
}

/* --- mq-peek --- */

static int mq_peek_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;
	ssize_t n;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		out_option(key, arg);
	name_operand(&c, 0);
	if (is_posix())
		cli_die(EXIT_FAIL, "%s: a POSIX queue cannot be read without taking its messages "
			"(mq_receive removes them); mq-info counts them", S.name.text);
	open_queue(O_RDONLY);
	setvbuf(stdout, S.stdout_buf, _IOFBF, sizeof S.stdout_buf);
	for (long i = 0;; i++) {
		while ((n = ipcmq_sysv_copy(S.msqid, S.msg, S.msgsize, i)) < 0 && errno == E2BIG &&
		       S.msgsize < SYSV_GROW_MAX)
			alloc_msg(S.msgsize * 2);
		if (n < 0 && errno == ENOMSG)
			break;
		if (n < 0 && errno == ENOSYS)
			cli_die(EXIT_FAIL, "%s: this kernel has no MSG_COPY (CONFIG_CHECKPOINT_RESTORE): "
				"System V messages cannot be read without taking them", S.name.text);
		if (n < 0)
			die_open(errno);
		output(S.msg->data, (size_t)n, S.msg->type);
	}
	flush_out();
	return EXIT_OK;
}

/* --- mq-info --- */

static void print_time_text(const char *label, int pid, int64_t t)
{
	char when[32] = "never";
	struct tm tm;
	time_t tt = (time_t)t;

	if (t > 0 && gmtime_r(&tt, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-10s pid %d, %s\n", label, pid, when);
}

static void info_posix(void)
{
	struct mq_attr a;
	struct ipcmq_fsinfo fi;
	struct stat st;
	int have_fi;

	if ((S.mq = mq_open(S.name.posix, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == (mqd_t)-1 &&
	    errno == EACCES)
		S.mq = mq_open(S.name.posix, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (S.mq == (mqd_t)-1 || mq_getattr(S.mq, &a) < 0 || fstat(S.mq, &st) < 0)
		die_open(errno);
	have_fi = ipcmq_read_fsinfo(S.mq, &fi) == 0; /* needs a readable descriptor */
	if (S.json) {
		printf("{\"name\":");
		json_cstring(stdout, S.name.text);
		printf(",\"backend\":\"posix\",\"path\":");
		json_cstring(stdout, S.name.posix);
		printf(",\"messages\":%ld,\"max_messages\":%ld,\"message_size\":%ld", a.mq_curmsgs, a.mq_maxmsg,
		       a.mq_msgsize);
		if (have_fi)
			printf(",\"bytes\":%llu,\"notify\":%d,\"signo\":%d,\"notify_pid\":%d",
			       (unsigned long long)fi.qsize, fi.notify, fi.signo, fi.notify_pid);
		else
			printf(",\"bytes\":null,\"notify\":null,\"signo\":null,\"notify_pid\":null");
		printf(",\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"owner\":", (unsigned)st.st_mode & 0777,
		       (unsigned)st.st_uid, (unsigned)st.st_gid);
		json_cstring(stdout, ipcobj_user_name(st.st_uid));
		printf("}\n");
		return;
	}
	printf("name       %s\nbackend    posix\npath       %s\nmessages   %ld of %ld\nmsg size   %ld\n",
	       S.name.text, S.name.posix, a.mq_curmsgs, a.mq_maxmsg, a.mq_msgsize);
	if (have_fi)
		printf("bytes      %llu\n", (unsigned long long)fi.qsize);
	printf("mode       %04o\nowner      %s (%u)\n", (unsigned)st.st_mode & 0777, ipcobj_user_name(st.st_uid),
	       (unsigned)st.st_uid);
	if (have_fi && fi.notify_pid)
		printf("notify     pid %d (sigev_notify %d, signal %d)\n", fi.notify_pid, fi.notify, fi.signo);
	else if (have_fi)
		printf("notify     none\n");
}

static void info_sysv(void)
{
	struct ipcmq_sysv_row r;
	struct msqid_ds ds;
	char keybuf[12];
	long long qbytes = -1;

	if ((S.msqid = ipcobj_sysv_id(&S.name)) < 0)
		die_open(errno);
	if (ipcmq_find_sysv_row(S.msqid, &r) < 0)
		die_open(ENOENT);
	if (msgctl(S.msqid, IPC_STAT, &ds) == 0) /* needs read permission */
		qbytes = (long long)ds.msg_qbytes;
	ipcname_keystr((key_t)r.key, keybuf);
	if (S.json) {
		printf("{\"name\":");
		json_cstring(stdout, S.name.text);
		printf(",\"backend\":\"sysv\",\"key\":\"%s\",\"id\":%d,\"messages\":%llu,\"bytes\":%llu", keybuf, r.id,
		       (unsigned long long)r.messages, (unsigned long long)r.bytes);
		if (qbytes >= 0)
			printf(",\"max_bytes\":%lld", qbytes);
		else
			printf(",\"max_bytes\":null");
		printf(",\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"owner\":", r.mode, r.uid, r.gid);
		json_cstring(stdout, ipcobj_user_name(r.uid));
		printf(",\"creator_uid\":%u,\"last_send_pid\":%d,\"last_send_time\":%lld,"
		       "\"last_recv_pid\":%d,\"last_recv_time\":%lld,\"change_time\":%lld}\n",
		       r.cuid, r.lspid, (long long)r.stime, r.lrpid, (long long)r.rtime, (long long)r.ctime);
		return;
	}
	printf("name       %s\nbackend    sysv\nkey        %s\nid         %d\nmessages   %llu\nbytes      %llu\n",
	       S.name.text, keybuf, r.id, (unsigned long long)r.messages, (unsigned long long)r.bytes);
	if (qbytes >= 0)
		printf("max bytes  %lld\n", qbytes);
	printf("mode       %04o\nowner      %s (%u)\n", r.mode, ipcobj_user_name(r.uid), r.uid);
	print_time_text("last send", r.lspid, r.stime);
	print_time_text("last recv", r.lrpid, r.rtime);
}

static int mq_info_main(int argc, char **argv)
{
	struct cli c;
	char *arg;
	int key;

	state_defaults();
	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == OPT_JSON)
			S.json = 1;
	name_operand(&c, 0);
	if (is_posix())
		info_posix();
	else
		info_sysv();
	return EXIT_OK;
}

/* --- mq-list --- */

/* One row; messages < 0: unknown (not ours to open); limit: "10x8192"
 * (POSIX) or msg_qbytes (System V), "?" if unknown. */
static void list_row(struct ipcobj_list *l, const char *backend, const char *name,
		     long long messages, long long bytes, const char *limit, unsigned mode,
		     unsigned uid)
{
	if (!l->json) {
		char m[24] = "?", b[24] = "?";
		if (messages >= 0)
			snprintf(m, sizeof m, "%lld", messages);
		if (bytes >= 0)
			snprintf(b, sizeof b, "%lld", bytes);
		printf("%-6s %-32s %8s %10s %12s %04o %s\n", backend, name, m, b, limit, mode,
		       ipcobj_user_name(uid));
		return;
	}
	ipcobj_json_row_begin(l, backend, name);
	if (messages >= 0)
		printf(",\"messages\":%lld", messages);
	else
		printf(",\"messages\":null");
	if (bytes >= 0)
		printf(",\"bytes\":%lld", bytes);
	else
		printf(",\"bytes\":null");
	printf(",\"mode\":\"%04o\",\"uid\":%u", mode, uid);
}

static void list_header(void)
{
	printf("%-6s %-32s %8s %10s %12s %-4s %s\n", "TYPE", "NAME", "MESSAGES", "BYTES", "LIMIT",
	       "MODE", "OWNER");
}

/* A POSIX queue, from its file in the mqueue file system (dir). */
static void list_posix(struct ipcobj_list *l, const char *name, int dir, const char *file,
		       const struct stat *st)
{
	char limit[48] = "?";
	struct ipcmq_fsinfo fi;
	struct mq_attr a;
	long long messages = -1, bytes = -1;
	int fd = openat(dir, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && mq_getattr(fd, &a) == 0) {
		messages = a.mq_curmsgs;
		snprintf(limit, sizeof limit, "%ldx%ld", a.mq_maxmsg, a.mq_msgsize);
		if (ipcmq_read_fsinfo(fd, &fi) == 0)
			bytes = (long long)fi.qsize;
	}
	list_row(l, "posix", name, messages, bytes, limit, (unsigned)st->st_mode & 0777,
		 (unsigned)st->st_uid);
	if (l->json) {
		if (messages >= 0)
			printf(",\"max_messages\":%ld,\"message_size\":%ld", a.mq_maxmsg,
			       a.mq_msgsize);
		ipcobj_json_row_end(l, NULL);
	}
	if (fd >= 0)
		close(fd);
}

/* A line of /proc/sysvipc/msg. */
static void list_sysv(struct ipcobj_list *l, const char *line)
{
	struct ipcmq_sysv_row r;
	struct msqid_ds ds;
	char name[32], limit[24] = "?", keybuf[12];
	int have;

	if (ipcmq_parse_sysv_row(line, &r) < 0)
		return;
	if ((have = msgctl(r.id, IPC_STAT, &ds) == 0))
		snprintf(limit, sizeof limit, "%llu", (unsigned long long)ds.msg_qbytes);
	ipcobj_sysv_name(r.key, r.id, name);
	list_row(l, "sysv", name, (long long)r.messages, (long long)r.bytes, limit, r.mode, r.uid);
	if (l->json) {
		printf(",\"key\":\"%s\",\"id\":%d,\"max_bytes\":",
		       ipcname_keystr((key_t)r.key, keybuf), r.id);
		if (have)
			printf("%llu", (unsigned long long)ds.msg_qbytes);
		else
			printf("null");
		ipcobj_json_row_end(l, NULL);
	}
}

static int mq_list_main(int argc, char **argv)
{
	static const struct ipcobj_lister lister = {IPCNAME_MQ, OPT_JSON, list_header, list_posix,
						    list_sysv};
	return ipcobj_list_main(argc, argv, &lister);
}

/* --- mq-rm --- */

static int mq_rm_main(int argc, char **argv)
{
	return ipcobj_rm_main(argc, argv, IPCNAME_MQ);
}

static void mq_complete(void)
{
	ipcname_complete(IPCNAME_MQ);
}

static const struct opt create_opts[] = {
	{OPT_MAX_MESSAGES, "max-messages", "N", "POSIX: at most N messages (default msg_default)", NULL},
	{OPT_MESSAGE_SIZE, "message-size", "SIZE", "POSIX: messages of at most SIZE bytes (default msgsize_default)", NULL},
	{OPT_MAX_BYTES, "max-bytes", "SIZE", "System V: at most SIZE bytes queued (msg_qbytes; default msgmnb)", NULL},
	{'m', "mode", "MODE", "permission bits, octal (default 0600)", NULL},
	{OPT_EXIST_OK, "exist-ok", NULL, "succeed if the queue exists already", NULL},
	{0},
};
static const struct opt send_opts[] = {
	{'l', "lines", NULL, "one message per line of standard input", NULL},
	{OPT_PRIORITY, "priority", "N", "POSIX: priority 0..32767 (default 0)", NULL},
	{OPT_TYPE, "type", "N", "System V: message type, 1 or more (default 1)", NULL},
	{'t', "timeout", "DURATION", "wait at most DURATION for room in a full queue, exit 124 (default inf)", NULL},
	{OPT_NOWAIT, "nowait", NULL, "fail at once, exit 1, if the queue is full", NULL},
	{0},
};
static const struct opt recv_opts[] = {
	{'c', "count", "N", "exit after N messages", NULL},
	{'t', "timeout", "DURATION", "give up after DURATION, exit 124 (default inf)", NULL},
	{OPT_TYPE, "type", "N", "System V: 0 any, N the first of type N, -N the lowest type <= N", NULL},
	{'0', "null", NULL, "end each message with NUL instead of newline, no escapes", NULL},
	{OPT_RAW, "raw", NULL, "the messages' bytes, nothing added", NULL},
	{OPT_HEX, "hex", NULL, "an xxd-style dump of each message", NULL},
	{OPT_JSON, "json", NULL, "one JSON object per message", NULL},
	{'e', "exec", "CMD", "run CMD per message, the data on its stdin", NULL},
	{0},
};
static const struct opt peek_opts[] = {
	{'0', "null", NULL, "end each message with NUL instead of newline, no escapes", NULL},
	{OPT_RAW, "raw", NULL, "the messages' bytes, nothing added", NULL},
	{OPT_HEX, "hex", NULL, "an xxd-style dump of each message", NULL},
	{OPT_JSON, "json", NULL, "one JSON object per message", NULL},
	{0},
};
static const struct opt json_opts[] = {
	{OPT_JSON, "json", NULL, "print JSON", NULL},
	{0},
};
static const struct opt no_opts[] = {{0}};

const struct applet mq_applets[] = {
	{"mq-create", mq_create_main,
	 "NAME [--max-messages N --message-size SIZE | --max-bytes SIZE] [--mode MODE] [--exist-ok]",
	 "create a message queue", create_opts, mq_complete},
	{"mq-send", mq_send_main, "NAME [DATA] [-l] [--priority N | --type N] [-t D | --nowait]",
	 "send one message (DATA, or all of stdin), or one per line with -l", send_opts, mq_complete},
	{"mq-recv", mq_recv_main, "NAME [-c N] [-t D] [--type N|-N] [-0 | --raw | --hex | --json | -e CMD]",
	 "take messages from a queue and print them", recv_opts, mq_complete},
	{"mq-peek", mq_peek_main, "NAME [-0 | --raw | --hex | --json]",
	 "print a System V queue's messages without taking them (MSG_COPY)", peek_opts, mq_complete},
	{"mq-info", mq_info_main, "NAME [--json]", "describe a queue: counts, limits, owner, last use",
	 json_opts, mq_complete},
	{"mq-list", mq_list_main, "[--json]", "list POSIX and System V message queues", json_opts, NULL},
	{"mq-rm", mq_rm_main, "NAME...", "remove message queues", no_opts, mq_complete},
	{0},
};
