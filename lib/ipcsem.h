/* ipcsem: semaphore waits with a timeout, for sem-* and shm's Qt lock, and
 * POSIX named semaphores in glibc's format.
 *
 * Timeouts run on the monotonic clock (a wall-clock jump changes nothing)
 * and a wait interrupted by a signal resumes with the time that is left,
 * unless *stop has been set (a signal handler's request to give up).
 *
 * POSIX named semaphores are opened here, not with sem_open(3), in every
 * build: the programs on a live system (Python's multiprocessing, Qt built
 * with QT_POSIX_IPC, anything linked with glibc) keep a named semaphore in
 * /dev/shm/sem.NAME holding glibc's sem_t, and the static build links musl,
 * whose sem_open uses /dev/shm/NAME (the shm_open name) and another sem_t
 * layout.  One implementation of glibc's format serves both builds, so the
 * glibc build's tests exercise the code the static binary runs. */
#ifndef IPCBOX_IPCSEM_H
#define IPCBOX_IPCSEM_H

#include <signal.h>
#include <stdint.h>

/* timeout_ms: IPCSEM_FOREVER, 0 (try once, never block) or milliseconds. */
#define IPCSEM_FOREVER (-1)

/* The largest value of a POSIX semaphore (glibc's and musl's SEM_VALUE_MAX). */
#define IPCSEM_VALUE_MAX 2147483647u

/* An open POSIX named semaphore (its mapped sem_t). */
struct ipcsem;

/* System V: add delta to semaphore 0 of semid (delta < 0 waits until the
 * value allows it).  flags: 0 or SEM_UNDO.  0 on success; -1 with errno
 * EAGAIN (timed out, or would block when timeout_ms is 0), EINTR (*stop was
 * set), or the semop error (ERANGE, EIDRM, EACCES...). */
int ipcsem_sysv_op(int semid, int delta, int flags, int64_t timeout_ms,
		   volatile sig_atomic_t *stop);

/* Open the POSIX semaphore NAME ("/foo" or "foo": /dev/shm/sem.foo) as
 * sem_open does.  oflag: 0 (it must exist) or O_CREAT, O_CREAT|O_EXCL;
 * when created it gets value and exactly mode (the umask does not apply).
 * NULL with errno (ENOENT, EEXIST, EACCES, EINVAL for a bad name,
 * EBADMSG for a file that cannot be a semaphore: not a regular file, or
 * shorter than glibc's sem_t, ENAMETOOLONG, ELOOP for a symlink...). */
struct ipcsem *ipcsem_open(const char *name, int oflag, unsigned mode, unsigned value);
void ipcsem_close(struct ipcsem *s);
/* Remove NAME (sem_unlink): 0, or -1 with errno. */
int ipcsem_unlink(const char *name);
/* Add one and wake a waiter: 0, or -1 with errno EOVERFLOW at IPCSEM_VALUE_MAX. */
int ipcsem_post(struct ipcsem *s);
/* The current value (never negative). */
unsigned ipcsem_value(const struct ipcsem *s);
/* Decrement s, waiting as ipcsem_sysv_op does.  Errors as ipcsem_sysv_op. */
int ipcsem_posix_wait(struct ipcsem *s, int64_t timeout_ms, volatile sig_atomic_t *stop);

#endif
