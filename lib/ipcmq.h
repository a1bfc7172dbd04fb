/* ipcmq: message queues for the mq applets: the kernel's limits, the
 * readers of what the kernel shows about queues (a POSIX queue's mqueue
 * file, a line of /proc/sysvipc/msg), the mqueue file system, and System V
 * sends and receives with a deadline.
 *
 * Two kinds of queue:
 *  - POSIX (mq_open): a name in the IPC namespace, a descriptor (on Linux a
 *    file descriptor that poll(2) waits on), messages of at most mq_msgsize
 *    bytes, at most mq_maxmsg of them, taken highest priority first.
 *  - System V (msgget): a key or an id, no descriptor, messages with a type
 *    (> 0) that msgrcv selects on, at most msg_qbytes bytes in the queue.
 *
 * The readers take untrusted text (a file another user may have made the
 * kernel print, or a test's input) and check every field; they are fuzzed
 * (tests/fuzz/mq_text.c). */
#ifndef IPCBOX_IPCMQ_H
#define IPCBOX_IPCMQ_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

/* The system's limits; -1 where the file could not be read. */
struct ipcmq_limits {
	long msg_max;         /* /proc/sys/fs/mqueue/msg_max */
	long msgsize_max;     /* /proc/sys/fs/mqueue/msgsize_max */
	long queues_max;      /* /proc/sys/fs/mqueue/queues_max */
	long msg_default;     /* /proc/sys/fs/mqueue/msg_default */
	long msgsize_default; /* /proc/sys/fs/mqueue/msgsize_default */
	long msgmnb;          /* /proc/sys/kernel/msgmnb: a new System V queue's bytes */
	long msgmax;          /* /proc/sys/kernel/msgmax: a System V message's bytes */
};
/* One of those files (or any /proc/sys number): its value, -1 if it cannot
 * be read.  For the applets that want one limit, not seven files. */
long ipcmq_sysctl(const char *path);
void ipcmq_limits_read(struct ipcmq_limits *l);
/* One number from a /proc/sys file's text ("8192\n"): 0, or -1. */
int ipcmq_parse_sysctl(const char *text, size_t len, long *out);

/* What reading a POSIX queue's file shows (its mqueue file, or its
 * descriptor): "QSIZE:N NOTIFY:N SIGNO:N NOTIFY_PID:N". */
struct ipcmq_fsinfo {
	uint64_t qsize;  /* bytes of message data in the queue */
	int notify;      /* the mq_notify sigev_notify, or 0 */
	int signo;
	int notify_pid;  /* 0: nobody registered */
};
/* Parse that text (len bytes, need not be NUL-terminated): 0, or -1. */
int ipcmq_parse_fsinfo(const char *text, size_t len, struct ipcmq_fsinfo *out);
/* Read it from a queue descriptor or an open mqueue file: 0, or -1 with errno. */
int ipcmq_read_fsinfo(int fd, struct ipcmq_fsinfo *out);

/* One line of /proc/sysvipc/msg after the header:
 * key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime */
struct ipcmq_sysv_row {
	int64_t key;
	int id;
	unsigned mode; /* permission bits */
	uint64_t bytes, messages;
	int lspid, lrpid;
	unsigned uid, gid, cuid, cgid;
	int64_t stime, rtime, ctime;
};
/* 0, or -1 for a line that is not such a row. */
int ipcmq_parse_sysv_row(const char *line, struct ipcmq_sysv_row *r);
/* The row of id in /proc/sysvipc/msg: 0, or -1 (ENOENT: no such id). */
int ipcmq_find_sysv_row(int id, struct ipcmq_sysv_row *r);

/* The mqueue file system, where POSIX queues are listed: a directory
 * descriptor, or -1 with errno.  Tried in order: $IPCBOX_MQUEUE_DIR, then
 * /dev/mqueue if an mqueue file system is mounted there, then (root, or
 * CAP_SYS_ADMIN over this IPC namespace) a detached mount made with
 * fsopen/fsmount, seen by this process only and gone when it exits.
 * ENOENT means none of them: the file system is not mounted and we may not
 * mount it.  *where says which ("/dev/mqueue", "a private mount"). */
int ipcmq_fs_open(const char **where);

/* System V messages with a deadline (clock.h; CLOCK_NO_DEADLINE: none).
 * msg points at a long (the type) followed by the data, as msgsnd wants.
 * 0 (send) or the data's length (receive) on success; -1 with errno:
 * EAGAIN timed out (at once when nowait), ENOMSG nothing to take with
 * nowait, EINTR a stop signal (*stop set; stop may be NULL), E2BIG (receive)
 * the next message is longer than size: it stays in the queue, or msgsnd's
 * and msgrcv's own errors (EIDRM, EACCES, EINVAL...). */
int ipcmq_sysv_send(int id, const void *msg, size_t len, int nowait, int64_t deadline,
		    volatile sig_atomic_t *stop);
ssize_t ipcmq_sysv_recv(int id, void *msg, size_t size, long type, int nowait,
			int64_t deadline, volatile sig_atomic_t *stop);
/* msgrcv(MSG_COPY): a copy of the message at index, the queue unchanged.
 * The data's length, or -1 with errno (ENOMSG: no message there; ENOSYS:
 * the kernel has no MSG_COPY, CONFIG_CHECKPOINT_RESTORE off). */
ssize_t ipcmq_sysv_copy(int id, void *msg, size_t size, long index);

/* mq-recv's and mq-peek's text line: data as is where it is printable
 * UTF-8, else C escapes: \\ \n \t \r, \xHH for other control bytes, DEL
 * and bytes that are not UTF-8 (printf '%b' gives the bytes back).  No
 * newline.  0, or -1 if writing failed. */
int ipcmq_print_escaped(FILE *f, const char *data, size_t len);

#endif
