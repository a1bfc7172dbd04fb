/* io: whole reads and writes; see io.h. */
#include "io.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_scan_lines(int fd, char *buf, size_t size, int (*fn)(char *text, size_t len, void *ctx),
		  void *ctx)
{
	size_t have = 0;
	int skipping = 0; /* inside a line too long for buf: drop it to its end */

	for (;;) {
		ssize_t n = read(fd, buf + have, size - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		have += (size_t)n;
		char *start = buf;
		if (skipping) {
			char *nl = memchr(buf, '\n', have);
			if (!nl) {
				have = 0;
				if (n == 0)
					return 0;
				continue;
			}
			skipping = 0;
			start = nl + 1;
		}
		size_t left = have - (size_t)(start - buf);
		char *end = n == 0 ? start + left : memrchr(start, '\n', left);
		if (!end) { /* no line end: a full block is one overlong line */
			if (left == size - 1) {
				int r = fn(NULL, 0, ctx); /* in its place */
				if (r)
					return r;
				skipping = 1;
				left = 0;
			}
			memmove(buf, start, left);
			have = left;
			continue;
		}
		if (end == start && n == 0)
			return 0; /* nothing after the last newline */
		char keep = *end;
		*end = '\0';
		int r = fn(start, (size_t)(end - start), ctx);
		if (r)
			return r;
		*end = keep;
		if (n == 0)
			return 0;
		have = left - (size_t)(end + 1 - start);
		memmove(buf, end + 1, have);
	}
}

int io_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	const char *p = buf;
	int sock = 1;

	while (len > 0) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && errno == ENOTSOCK && sock) {
			sock = 0;
			continue;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = io_wait_fd(fd, POLLOUT, deadline_ms);
			if (r > 0)
				continue;
			if (r == 0)
				errno = ETIMEDOUT;
		}
		return -1;
	}
	return 0;
}

char *io_read_all(int fd, size_t max, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
	for (;;) {
		if (used == cap) {
			char *bigger;
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[used] = 0;
	*len = used;
	return buf;
}

int io_wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, clock_poll_ms(deadline_ms));
		if (r > 0)
			return 1;
		if (r == 0) {
			if (clock_expired(deadline_ms))
				return 0;
			continue; /* a capped wait ended early: look again */
		}
		if (errno != EINTR)
			return -1;
	}
}

int io_write_file_atomic(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd, saved;

	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (io_write_all(fd, buf, len) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == 0 && rename(tmp, path) == 0)
		return 0;
fail:
	saved = errno ? errno : EIO;
	unlink(tmp);
	errno = saved;
	return -1;
}

const char *io_strerror(int err)
{
#ifndef __GLIBC__
	/* musl words these errors differently (reference/field.md section 4.2):
	 * glibc's words, so the static build says what the glibc build says
	 * and a script matching a diagnostic works with both. */
	switch (err) {
	case EADDRINUSE: return "Address already in use";
	case EADDRNOTAVAIL: return "Cannot assign requested address";
	case ETIMEDOUT: return "Connection timed out";
	case ENOTCONN: return "Transport endpoint is not connected";
	case EHOSTUNREACH: return "No route to host";
	case ENETUNREACH: return "Network is unreachable";
	case ECONNABORTED: return "Software caused connection abort";
	case ENOTSOCK: return "Socket operation on non-socket";
	case EMSGSIZE: return "Message too long";
	case EBUSY: return "Device or resource busy";
	case ENOMEM: return "Cannot allocate memory";
	case EMFILE: return "Too many open files";
	case ENAMETOOLONG: return "File name too long";
	case ENOTSUP: return "Operation not supported";
	case ELOOP: return "Too many levels of symbolic links";
	case ENOTTY: return "Inappropriate ioctl for device";
	}
#endif
	return strerror(err);
}

void *io_buffer_alloc(size_t len)
{
	size_t page = (size_t)getpagesize();

	if (len > SIZE_MAX - page) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned_alloc(page, len ? (len + page - 1) / page * page : page);
}

void io_put_u64(FILE *f, uint64_t v, int width)
{
	char buf[24];
	int i = (int)sizeof buf;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i > (int)sizeof buf - width && i > 0)
		buf[--i] = '0';
	fwrite_unlocked(buf + i, 1, sizeof buf - (size_t)i, f);
}

void io_put_i64(FILE *f, int64_t v)
{
	if (v < 0) {
		putc_unlocked('-', f);
		io_put_u64(f, (uint64_t)0 - (uint64_t)v, 0);
	} else {
		io_put_u64(f, (uint64_t)v, 0);
	}
}

void io_put_time(FILE *f, long long sec, long usec)
{
	io_put_i64(f, sec);
	putc_unlocked('.', f);
	io_put_u64(f, usec > 0 ? (uint64_t)usec : 0, 6);
}
