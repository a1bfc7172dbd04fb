/* io: whole reads and writes that survive EINTR and short transfers, the
 * one wait for a descriptor before a deadline, the one writer of ready
 * and port files, and errno in words.  (The socket applets' relay loop is
 * in relay.c.) */
#ifndef IPCBOX_IO_H
#define IPCBOX_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Write all len bytes; 0 on success, -1 with errno on failure. */
int io_write_all(int fd, const void *buf, size_t len);
/* Write all len bytes to a non-blocking fd before the monotonic deadline,
 * waiting for room as needed: on a socket with MSG_NOSIGNAL (a peer gone is
 * EPIPE, not SIGPIPE), on anything else (a pipe) with write.  0, or -1 with
 * errno (ETIMEDOUT once the deadline has passed). */
int io_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms);
/* A copy buffer of len bytes (rounded up to whole pages), page-aligned;
 * NULL with errno if none.  Every buffer that read(2)/write(2) move bulk
 * data through comes from here: on the project's VM kind a 1 MiB buffer 16
 * bytes past a page boundary (malloc's) made read(2) from tmpfs 3-4x slower
 * (1 MiB: 880 us against 259 us; shm-write of 1 GiB from a file 0.75-0.96 s
 * against 0.29-0.47 s aligned, dd 0.31-0.34 s).  Free with free(). */
void *io_buffer_alloc(size_t len);
/* Decimal numbers on a stream without printf, for the printers that run
 * once per message (under a flood, bus-monitor spent more in vfprintf than
 * in parsing): v with at least width digits (width at most 24), zeros in
 * front; and a signed v. */
void io_put_u64(FILE *f, uint64_t v, int width);
void io_put_i64(FILE *f, int64_t v);
/* A time stamp as every layout prints one: "SEC.USEC", the microseconds
 * (0 to 999999) as six digits. */
void io_put_time(FILE *f, long long sec, long usec);
/* Read a whole file descriptor into a malloc'd buffer, refusing more than
 * max bytes (errno EFBIG).  *len gets the size; the buffer is NUL-terminated. */
char *io_read_all(int fd, size_t max, size_t *len);

/* Read fd to its end a block of whole lines at a time, into the caller's
 * buf of size bytes: each block goes to fn as one text of len bytes (the
 * lines without the block's last newline; a NUL follows, and the text may
 * hold NULs of its own).  A line of size - 1 bytes or more, not counting
 * its newline, is skipped whole, with a call fn(NULL, 0, ctx) in its
 * place.  Stops at the first fn that returns nonzero and returns that; 0
 * at the end of the file, -1 with errno if a read failed.  One read(2) a
 * block, no stdio: the start-up of the applets that scan /proc is a goal. */
int io_scan_lines(int fd, char *buf, size_t size, int (*fn)(char *text, size_t len, void *ctx),
		  void *ctx);

/* Wait until fd is ready for events (POLLIN, POLLOUT) or the monotonic
 * deadline passes (clock.h; CLOCK_NO_DEADLINE: no limit), resuming after
 * EINTR.  1 ready, 0 timed out, -1 with errno. */
int io_wait_fd(int fd, short events, int64_t deadline_ms);

/* Write a small file atomically, as every --port-file and --ready-file is
 * written: the bytes go to a new temporary file beside path (O_EXCL,
 * O_NOFOLLOW, mode 0600), which is then renamed over path.  A symlink
 * planted at path is replaced, never followed.  0, or -1 with errno. */
int io_write_file_atomic(const char *path, const void *buf, size_t len);

/* strerror(err) in glibc's words, whichever libc the binary links: every
 * diagnostic of the static musl build reads as the glibc build's does. */
const char *io_strerror(int err);

#endif
