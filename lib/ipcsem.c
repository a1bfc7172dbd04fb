/* ipcsem: timed semaphore waits, glibc-format POSIX semaphores; see ipcsem.h. */
#include "ipcsem.h"
#include "clock.h"

#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Fail with errno set to e: -1, or NULL for the functions that return a
 * semaphore. */
static int fail_errno(int e)
{
	errno = e;
	return -1;
}

static void *fail_errno_null(int e)
{
	errno = e;
	return NULL;
}

static struct timespec ms_to_ts(int64_t ms)
{
	return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
}

int ipcsem_sysv_op(int semid, int delta, int flags, int64_t timeout_ms,
		   volatile sig_atomic_t *stop)
{
	struct sembuf op = {.sem_num = 0, .sem_op = (short)delta, .sem_flg = (short)flags};
	int64_t deadline = clock_deadline(timeout_ms > 0 ? timeout_ms : 0);

	if (timeout_ms == 0)
		op.sem_flg |= IPC_NOWAIT;
	for (;;) {
		int r;
		if (timeout_ms > 0) {
			int64_t left = clock_left_ms(deadline);
			if (left == 0) {
				errno = EAGAIN;
				return -1;
			}
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

/* --- POSIX named semaphores in glibc's format --- */

/* glibc's sem_t on 64-bit targets (struct new_sem, sysdeps/nptl/internaltypes.h):
 * a 64-bit word holding the value in its low 32 bits and the number of
 * waiters in its high 32 bits, then `int private` (the futex flag: 128,
 * glibc's FUTEX_SHARED, for a named semaphore), then padding: 32 bytes in
 * all.  Waiters sleep on the futex at the value's 32-bit half; a post that
 * sees waiters wakes one.  32-bit targets use another layout, not this one. */
#if UINTPTR_MAX != UINT64_MAX
#error "lib/ipcsem.c knows glibc's 64-bit sem_t layout only"
#endif

#define SEM_FILE_SIZE 32
#define SEM_GLIBC_SHARED 128
#define SEM_VALUE_MASK UINT64_C(0xffffffff)
#define SEM_ONE_WAITER (UINT64_C(1) << 32)

/* Linux futex operations (linux/futex.h: a stable kernel ABI; musl-gcc has
 * no kernel headers).  Shared (not private) futexes: other processes map the file. */
#define FUTEX_OP_WAKE 1
#define FUTEX_OP_WAIT_BITSET 9
#define FUTEX_BITSET_ANY 0xffffffffu

struct ipcsem {
	uint64_t data;
	int32_t private;
	int32_t pad;
	uint8_t rest[SEM_FILE_SIZE - 16];
};

/* The 32-bit half of data that holds the value: the futex word. */
static uint32_t *futex_word(struct ipcsem *s)
{
	return (uint32_t *)&s->data + (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

/* /dev/shm/sem.NAME, with sem_open's rules: leading '/'s are dropped, and
 * an empty name or one with another '/' is invalid. */
static int sem_path(const char *name, char *path, size_t size)
{
	while (*name == '/')
		name++;
	if (!*name || strchr(name, '/'))
		return fail_errno(EINVAL);
	if (strlen(name) + 4 > NAME_MAX)
		return fail_errno(ENAMETOOLONG);
	if ((size_t)snprintf(path, size, "/dev/shm/sem.%s", name) >= size)
		return fail_errno(ENAMETOOLONG);
	return 0;
}

/* Map an open semaphore file; the file is checked first: whoever made it
 * may not be glibc, and mapping a short file would fault on first use. */
static struct ipcsem *sem_map(int fd)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode) || st.st_size < SEM_FILE_SIZE)
		return fail_errno_null(EBADMSG);
	p = mmap(NULL, SEM_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Create the semaphore as glibc does: a temporary file in /dev/shm holds
 * the initialised sem_t before link() gives it its name, so nobody ever
 * opens a half-written one.  -1 with errno EEXIST if the name is taken. */
static int sem_create(const char *path, unsigned mode, unsigned value)
{
	char tmp[] = "/dev/shm/.ipcbox-sem-XXXXXX";
	struct ipcsem init = {.data = value, .private = SEM_GLIBC_SHARED};
	int fd = mkostemp(tmp, O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) == 0 && io_write_all(fd, &init, sizeof init) == 0 &&
	    link(tmp, path) == 0) {
		unlink(tmp);
		return fd;
	}
	err = errno;
	unlink(tmp);
	close(fd);
	return fail_errno(err);
}

struct ipcsem *ipcsem_open(const char *name, int oflag, unsigned mode, unsigned value)
{
	char path[PATH_MAX];
	struct ipcsem *s;
	int fd = -1, err;

	if (sem_path(name, path, sizeof path) < 0)
		return NULL;
	if (value > IPCSEM_VALUE_MAX)
		return fail_errno_null(EINVAL);
	for (;;) {
		if (!(oflag & O_EXCL)) {
			fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 || errno != ENOENT || !(oflag & O_CREAT))
				break;
		}
		fd = sem_create(path, mode, value);
		if (fd >= 0 || errno != EEXIST || (oflag & O_EXCL))
			break;
		/* made by someone else since our open: open theirs */
	}
	if (fd < 0)
		return NULL;
	s = sem_map(fd);
	err = errno;
	close(fd);
	errno = err;
	return s;
}

void ipcsem_close(struct ipcsem *s)
{
	if (s)
		munmap(s, SEM_FILE_SIZE);
}

int ipcsem_unlink(const char *name)
{
	char path[PATH_MAX];

	if (sem_path(name, path, sizeof path) < 0)
		return -1;
	return unlink(path);
}

unsigned ipcsem_value(const struct ipcsem *s)
{
	return (unsigned)(__atomic_load_n(&s->data, __ATOMIC_RELAXED) & SEM_VALUE_MASK);
}

int ipcsem_post(struct ipcsem *s)
{
	uint64_t d = __atomic_load_n(&s->data, __ATOMIC_RELAXED);

	do {
		if ((d & SEM_VALUE_MASK) >= IPCSEM_VALUE_MAX)
			return fail_errno(EOVERFLOW);
	} while (!__atomic_compare_exchange_n(&s->data, &d, d + 1, 1, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (d >> 32)
		syscall(SYS_futex, futex_word(s), FUTEX_OP_WAKE, 1, NULL, NULL, 0);
	return 0;
}

/* Take one if the value is positive: 1 taken, 0 the value is 0. */
static int take_fast(struct ipcsem *s)
{
	uint64_t d = __atomic_load_n(&s->data, __ATOMIC_RELAXED);

	while (d & SEM_VALUE_MASK)
		if (__atomic_compare_exchange_n(&s->data, &d, d - 1, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	return 0;
}

int ipcsem_posix_wait(struct ipcsem *s, int64_t timeout_ms, volatile sig_atomic_t *stop)
{
	struct timespec abs;
	uint64_t d;
	int err = 0;

	if (take_fast(s))
		return 0;
	if (timeout_ms == 0)
		return fail_errno(EAGAIN);
	if (timeout_ms > 0) /* clock_now_ms counts CLOCK_MONOTONIC, as the futex does */
		abs = ms_to_ts(clock_deadline(timeout_ms));
	/* Count ourselves as a waiter (so posts wake us), then as glibc's
	 * __new_sem_wait_slow: sleep while the value is 0, take one when it is
	 * not, and leave the waiter count as we found it either way. */
	d = __atomic_fetch_add(&s->data, SEM_ONE_WAITER, __ATOMIC_RELAXED) + SEM_ONE_WAITER;
	for (;;) {
		if (d & SEM_VALUE_MASK) {
			if (__atomic_compare_exchange_n(&s->data, &d, d - 1 - SEM_ONE_WAITER, 1,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return 0;
			continue;
		}
		/* FUTEX_WAIT_BITSET's timeout is absolute on CLOCK_MONOTONIC */
		if (syscall(SYS_futex, futex_word(s), FUTEX_OP_WAIT_BITSET, 0,
			    timeout_ms > 0 ? &abs : NULL, NULL, FUTEX_BITSET_ANY) < 0) {
			err = errno;
			/* EAGAIN: the value changed before we slept; EINTR: a
			 * signal, which ends the wait only when *stop says so */
			if (err != EAGAIN && (err != EINTR || (stop && *stop)))
				break;
		}
		d = __atomic_load_n(&s->data, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&s->data, SEM_ONE_WAITER, __ATOMIC_RELAXED);
	return fail_errno(err == ETIMEDOUT ? EAGAIN : err);
}
