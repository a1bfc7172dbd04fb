/* ipcsem: semaphore waits with a timeout, for sem-* and shm's Qt lock.
 *
 * Timeouts run on the monotonic clock (a wall-clock jump changes nothing)
 * and a wait interrupted by a signal resumes with the time that is left,
 * unless *stop has been set (a signal handler's request to give up). */
#ifndef IPCBOX_IPCSEM_H
#define IPCBOX_IPCSEM_H

#include <semaphore.h>
#include <signal.h>
#include <stdint.h>

/* timeout_ms: IPCSEM_FOREVER, 0 (try once, never block) or milliseconds. */
#define IPCSEM_FOREVER (-1)

/* System V: add delta to semaphore 0 of semid (delta < 0 waits until the
 * value allows it).  flags: 0 or SEM_UNDO.  0 on success; -1 with errno
 * EAGAIN (timed out, or would block when timeout_ms is 0), EINTR (*stop was
 * set), or the semop error (ERANGE, EIDRM, EACCES...). */
int ipcsem_sysv_op(int semid, int delta, int flags, int64_t timeout_ms,
		   volatile sig_atomic_t *stop);
/* POSIX: decrement s, waiting as above.  Errors as ipcsem_sysv_op. */
int ipcsem_posix_wait(sem_t *s, int64_t timeout_ms, volatile sig_atomic_t *stop);

#endif
