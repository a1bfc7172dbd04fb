/* ipcsem: timed semaphore waits; see ipcsem.h. */
#include "ipcsem.h"
#include "clock.h"

#include <errno.h>
#include <sys/sem.h>
#include <time.h>

static struct timespec ms_to_ts(int64_t ms)
{
	return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
}

int ipcsem_sysv_op(int semid, int delta, int flags, int64_t timeout_ms,
		   volatile sig_atomic_t *stop)
{
	struct sembuf op = {.sem_num = 0, .sem_op = (short)delta, .sem_flg = (short)flags};
	int64_t deadline = clock_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (timeout_ms == 0)
		op.sem_flg |= IPC_NOWAIT;
	for (;;) {
		int r;
		if (timeout_ms > 0) {
			int64_t left = deadline - clock_now_ms();
			if (left <= 0)
				return errno = EAGAIN, -1;
			struct timespec ts = ms_to_ts(left);
			r = semtimedop(semid, &op, 1, &ts);
		} else {
			r = semop(semid, &op, 1);
		}
		if (r == 0)
			return 0;
		if (errno != EINTR || (stop && *stop))
			return -1;
	}
}

int ipcsem_posix_wait(sem_t *s, int64_t timeout_ms, volatile sig_atomic_t *stop)
{
	struct timespec abs;

	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += timeout_ms / 1000;
		abs.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (abs.tv_nsec >= 1000000000) {
			abs.tv_sec++;
			abs.tv_nsec -= 1000000000;
		}
	}
	for (;;) {
		int r;
		if (timeout_ms == 0)
			r = sem_trywait(s);
		else if (timeout_ms > 0)
			r = sem_clockwait(s, CLOCK_MONOTONIC, &abs);
		else
			r = sem_wait(s);
		if (r == 0)
			return 0;
		if (errno == ETIMEDOUT)
			errno = EAGAIN;
		if (errno != EINTR || (stop && *stop))
			return -1;
	}
}
