/* ipcmq: message queue limits, readers, the mqueue file system and System V
 * transfers with a deadline; see ipcmq.h. */
#include "ipcmq.h"
#include "clock.h"
#include "json.h"
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#define MQUEUE_MAGIC 0x19800202
/* The new mount API (Linux 5.2), absent from older libc headers. */
#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#define IPCMQ_FSOPEN_CLOEXEC 1
#define IPCMQ_FSCONFIG_CMD_CREATE 6
#define IPCMQ_FSMOUNT_CLOEXEC 1

/* A failure with errno err: -1. */
static int fail(int err)
{
	errno = err;
	return -1;
}

/* --- limits --- */

int ipcmq_parse_sysctl(const char *text, size_t len, long *out)
{
	char buf[32];
	uint64_t v;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = 0;
	if (parse_uint(buf, INT64_MAX, &v) < 0 || v > (uint64_t)LONG_MAX)
		return -1;
	*out = (long)v;
	return 0;
}

long ipcmq_sysctl(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long v;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n > 0 && ipcmq_parse_sysctl(buf, (size_t)n, &v) == 0 ? v : -1;
}

void ipcmq_limits_read(struct ipcmq_limits *l)
{
	l->msg_max = ipcmq_sysctl("/proc/sys/fs/mqueue/msg_max");
	l->msgsize_max = ipcmq_sysctl("/proc/sys/fs/mqueue/msgsize_max");
	l->queues_max = ipcmq_sysctl("/proc/sys/fs/mqueue/queues_max");
	l->msg_default = ipcmq_sysctl("/proc/sys/fs/mqueue/msg_default");
	l->msgsize_default = ipcmq_sysctl("/proc/sys/fs/mqueue/msgsize_default");
	l->msgmnb = ipcmq_sysctl("/proc/sys/kernel/msgmnb");
	l->msgmax = ipcmq_sysctl("/proc/sys/kernel/msgmax");
}

/* --- a POSIX queue's file --- */

/* "KEY:" then a decimal number at *p (blanks before it skipped). */
static int fs_field(const char **p, const char *end, const char *key, int64_t max, int64_t *v)
{
	size_t klen = strlen(key), n;
	uint64_t u;

	while (*p < end && **p == ' ')
		(*p)++;
	if ((size_t)(end - *p) < klen || memcmp(*p, key, klen) != 0)
		return -1;
	*p += klen;
	n = parse_digits(*p, (size_t)(end - *p), &u);
	*p += n;
	if (n == 0 || (*p < end && **p >= '0' && **p <= '9') || u > (uint64_t)max)
		return -1;
	*v = (int64_t)u;
	return 0;
}

int ipcmq_parse_fsinfo(const char *text, size_t len, struct ipcmq_fsinfo *out)
{
	const char *p = text, *end = text + len;
	int64_t q, n, s, pid;

	if (fs_field(&p, end, "QSIZE:", INT64_MAX, &q) < 0 || fs_field(&p, end, "NOTIFY:", 255, &n) < 0 ||
	    fs_field(&p, end, "SIGNO:", 255, &s) < 0 || fs_field(&p, end, "NOTIFY_PID:", INT32_MAX, &pid) < 0)
		return -1;
	while (p < end && (*p == ' ' || *p == '\n'))
		p++;
	if (p != end)
		return -1;
	*out = (struct ipcmq_fsinfo){(uint64_t)q, (int)n, (int)s, (int)pid};
	return 0;
}

int ipcmq_read_fsinfo(int fd, struct ipcmq_fsinfo *out)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof buf, 0);

	if (n < 0 && errno == ESPIPE)
		n = read(fd, buf, sizeof buf);
	if (n < 0)
		return -1;
	if (ipcmq_parse_fsinfo(buf, (size_t)n, out) < 0)
		return fail(EBADMSG);
	return 0;
}

/* --- /proc/sysvipc/msg --- */

int ipcmq_parse_sysv_row(const char *line, struct ipcmq_sysv_row *r)
{
	enum { KEY, ID, PERMS, CBYTES, QNUM, LSPID, LRPID, UID, GID, CUID, CGID, STIME, RTIME, CTIME, NF };
	int64_t f[NF];
	const char *rest = parse_int_fields(line, f, NF, 1u << PERMS);

	if (!rest || f[KEY] < INT32_MIN || f[KEY] > UINT32_MAX || f[ID] < 0 || f[ID] > INT32_MAX ||
	    f[CBYTES] < 0 || f[QNUM] < 0 || f[LSPID] < 0 || f[LSPID] > INT32_MAX || f[LRPID] < 0 ||
	    f[LRPID] > INT32_MAX)
		return -1;
	for (int i = UID; i <= CGID; i++)
		if (f[i] < 0 || f[i] > UINT32_MAX)
			return -1;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (*rest && *rest != '\n')
		return -1;
	*r = (struct ipcmq_sysv_row){
		.key = f[KEY], .id = (int)f[ID], .mode = (unsigned)f[PERMS] & 0777,
		.bytes = (uint64_t)f[CBYTES], .messages = (uint64_t)f[QNUM],
		.lspid = (int)f[LSPID], .lrpid = (int)f[LRPID],
		.uid = (unsigned)f[UID], .gid = (unsigned)f[GID], .cuid = (unsigned)f[CUID], .cgid = (unsigned)f[CGID],
		.stime = f[STIME], .rtime = f[RTIME], .ctime = f[CTIME],
	};
	return 0;
}

int ipcmq_find_sysv_row(int id, struct ipcmq_sysv_row *r)
{
	FILE *f = fopen("/proc/sysvipc/msg", "re");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	if (fgets(line, sizeof line, f)) /* the header */
		while (!found && fgets(line, sizeof line, f))
			found = ipcmq_parse_sysv_row(line, r) == 0 && r->id == id;
	fclose(f);
	return found ? 0 : fail(ENOENT);
}

/* --- the mqueue file system --- */

static int is_mqueue_dir(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == MQUEUE_MAGIC;
}

static int open_mqueue_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && !is_mqueue_dir(fd)) {
		close(fd);
		return fail(ENOENT);
	}
	return fd;
}

/* A detached mount of this IPC namespace's mqueue file system: no mount
 * point, no namespace of our own, nothing left behind. */
static int private_mount(void)
{
	int fs = (int)syscall(SYS_fsopen, "mqueue", IPCMQ_FSOPEN_CLOEXEC), mnt = -1, dir = -1;

	if (fs < 0)
		return -1;
	if (syscall(SYS_fsconfig, fs, IPCMQ_FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = (int)syscall(SYS_fsmount, fs, IPCMQ_FSMOUNT_CLOEXEC, 0);
	close(fs);
	if (mnt >= 0) {
		dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(mnt);
	}
	return dir;
}

int ipcmq_fs_open(const char **where)
{
	const char *env = getenv("IPCBOX_MQUEUE_DIR");
	int fd;

	if (env && *env) {
		*where = env;
		return open_mqueue_dir(env);
	}
	*where = "/dev/mqueue";
	if ((fd = open_mqueue_dir("/dev/mqueue")) >= 0)
		return fd;
	*where = "a private mount";
	if ((fd = private_mount()) >= 0)
		return fd;
	*where = "/dev/mqueue";
	return fail(ENOENT);
}

/* --- System V transfers with a deadline ---
 *
 * msgsnd and msgrcv have no timed form and no descriptor to poll.  They
 * block in the kernel, which a signal interrupts (EINTR, as our handlers
 * are installed without SA_RESTART).  So a blocking call is made with an
 * interval timer armed: SIGALRM, whose handler does nothing, ends the call
 * at the deadline, and the loop looks at the clock and at *stop.  The timer
 * also ticks every TICK_MS while the call blocks: a stop signal (sigev)
 * that lands after the loop looked at *stop but before the call went to
 * sleep would otherwise leave it asleep; the next tick wakes it.  No busy
 * loop: the process sleeps in the kernel between ticks, and the first try
 * of every call is IPC_NOWAIT, so a stream that never waits never arms the
 * timer. */
#define TICK_MS 250

static void on_alarm(int signo)
{
	(void)signo; /* no work: interrupting the call is the whole point */
}

static void alarm_arm(int64_t deadline)
{
	struct sigaction sa;
	struct itimerval it = {.it_interval = {0, TICK_MS * 1000}};
	int ms = clock_poll_ms(deadline);

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	if (ms < 0 || ms > TICK_MS)
		ms = TICK_MS;
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = ms % 1000 * 1000;
	if (ms == 0)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void alarm_disarm(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_REAL, &off, NULL);
}

/* Should a wait that was interrupted (or is about to start) end?  -1 with
 * errno EINTR for a stop, EAGAIN at the deadline; 0 to go on. */
static int wait_over(int64_t deadline, volatile sig_atomic_t *stop)
{
	if (stop && *stop)
		return fail(EINTR);
	if (clock_expired(deadline))
		return fail(EAGAIN);
	return 0;
}

/* A blocking call needs the timer only when something may end it early. */
static int needs_timer(int64_t deadline, volatile sig_atomic_t *stop)
{
	return deadline != CLOCK_NO_DEADLINE || stop;
}

int ipcmq_sysv_send(int id, const void *msg, size_t len, int nowait, int64_t deadline,
		    volatile sig_atomic_t *stop)
{
	int r, err, timer;

	for (;;) {
		if (msgsnd(id, msg, len, IPC_NOWAIT) == 0)
			return 0;
		if (errno != EAGAIN || nowait)
			return -1;
		if (wait_over(deadline, stop) < 0)
			return -1;
		if ((timer = needs_timer(deadline, stop)))
			alarm_arm(deadline);
		r = msgsnd(id, msg, len, 0);
		err = errno;
		if (timer)
			alarm_disarm();
		if (r == 0)
			return 0;
		if (err != EINTR)
			return fail(err);
	}
}

ssize_t ipcmq_sysv_recv(int id, void *msg, size_t size, long type, int nowait, int64_t deadline,
			volatile sig_atomic_t *stop)
{
	ssize_t n;
	int err, timer;

	for (;;) {
		if ((n = msgrcv(id, msg, size, type, IPC_NOWAIT)) >= 0)
			return n;
		if (errno != ENOMSG || nowait)
			return -1;
		if (wait_over(deadline, stop) < 0)
			return -1;
		if ((timer = needs_timer(deadline, stop)))
			alarm_arm(deadline);
		n = msgrcv(id, msg, size, type, 0);
		err = errno;
		if (timer)
			alarm_disarm();
		if (n >= 0)
			return n;
		if (err != EINTR)
			return fail(err);
	}
}

ssize_t ipcmq_sysv_copy(int id, void *msg, size_t size, long index)
{
	return msgrcv(id, msg, size, index, IPC_NOWAIT | MSG_COPY);
}

int ipcmq_print_escaped(FILE *f, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, n;

	while (i < len) {
		unsigned c = s[i];
		size_t run = i;
		while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '\\')
			run++;
		if (run > i) { /* printable ASCII, the common case: one fwrite */
			fwrite(s + i, 1, run - i, f);
			i = run;
			continue;
		}
		switch (c) {
		case '\\': fputs("\\\\", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		}
		if (c < 0x20 || c == 0x7f || (n = json_utf8_seq(s + i, len - i)) == 0) {
			fprintf(f, "\\x%02x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
	return ferror(f) ? -1 : 0;
}
