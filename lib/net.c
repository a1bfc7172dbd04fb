/* net: addresses, listen, connect, allow lists; see net.h. */
#include "net.h"
#include "clock.h"
#include "io.h"
#include "parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int net_resolve(const char *host, uint16_t port, int family, int passive, struct addrinfo **res)
{
	struct addrinfo hints = {0};
	char service[8];

	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(service, sizeof service, "%u", port);
	return getaddrinfo(host, service, &hints, res);
}

/* Wait until a non-blocking connect finishes or the deadline passes. */
static int finish_connect(int fd, int64_t deadline_ms)
{
	int err = 0, r = io_wait_fd(fd, POLLOUT, deadline_ms);
	socklen_t len = sizeof err;

	if (r <= 0) {
		if (r == 0)
			errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* A unix connect cannot be waited for with poll (a full backlog gives
 * EAGAIN, not EINPROGRESS): block in connect with a send timeout instead. */
static int unix_connect(int fd, const struct sockaddr *to, socklen_t tolen, int64_t deadline_ms)
{
	if (deadline_ms >= 0) {
		int64_t left = clock_left_ms(deadline_ms);
		struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
		if (left == 0)
			tv = (struct timeval){0, 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	while (connect(fd, to, tolen) < 0) {
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EINPROGRESS) && deadline_ms >= 0)
			errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

int net_connect(const struct sockaddr *to, socklen_t tolen, const struct net_addr *src,
		int64_t deadline_ms)
{
	int is_unix = to->sa_family == AF_UNIX;
	int fd = socket(to->sa_family, SOCK_STREAM | SOCK_CLOEXEC | (is_unix ? 0 : SOCK_NONBLOCK), 0);

	if (fd < 0)
		return -1;
	if (src && bind(fd, (const struct sockaddr *)&src->ss, src->len) < 0)
		goto fail;
	if (is_unix) {
		if (unix_connect(fd, to, tolen, deadline_ms) < 0)
			goto fail;
	} else if (connect(fd, to, tolen) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			goto fail;
		if (finish_connect(fd, deadline_ms) < 0)
			goto fail;
	}
	return fd;
fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int net_listen(const struct sockaddr *addr, socklen_t len, int backlog)
{
	int one = 1;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (addr->sa_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, addr, len) < 0 || listen(fd, backlog) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address. */
static const unsigned char *mapped_v4(const struct sockaddr_in6 *s6)
{
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) ? s6->sin6_addr.s6_addr + 12 : NULL;
}

/* The host part alone ("127.0.0.1", "::1") and the port, for UCSPI. */
static void net_host_port(const struct sockaddr *sa, char *host, size_t size, unsigned *port)
{
	*port = 0;
	host[0] = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, (socklen_t)size);
		*port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const unsigned char *v4 = mapped_v4(s6);
		if (v4)
			inet_ntop(AF_INET, v4, host, (socklen_t)size);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, host, (socklen_t)size);
		*port = ntohs(s6->sin6_port);
	}
}

void net_format(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
		size_t n = len > offsetof(struct sockaddr_un, sun_path)
				   ? len - offsetof(struct sockaddr_un, sun_path)
				   : 0;
		if (n == 0)
			snprintf(out, size, "(unnamed)");
		else if (su->sun_path[0] == 0)
			snprintf(out, size, "@%.*s", (int)(n - 1), su->sun_path + 1);
		else
			snprintf(out, size, "%.*s", (int)strnlen(su->sun_path, n), su->sun_path);
		return;
	}
	net_host_port(sa, host, sizeof host, &port);
	if (strchr(host, ':'))
		snprintf(out, size, "[%s]:%u", host, port);
	else
		snprintf(out, size, "%s:%u", host, port);
}

unsigned net_local_port(int fd)
{
	struct net_addr a = {.len = sizeof a.ss};
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) < 0)
		return 0;
	net_host_port((struct sockaddr *)&a.ss, host, sizeof host, &port);
	return port;
}

int net_unix_addr(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(name);
	int abstract = name[0] == '@';

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (n == 0 || (abstract && n == 1)) {
		errno = EINVAL;
		return -1;
	}
	/* A path needs room for its NUL; an abstract name has the leading 0. */
	if (n >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, name, n);
	if (abstract)
		sun->sun_path[0] = 0;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 0 : 1));
	return 0;
}

int net_cidr_parse(const char *text, struct net_cidr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	if (n == 0 || n >= sizeof addr)
		goto bad;
	memcpy(addr, text, n);
	addr[n] = 0;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6, max = 128;
	else
		goto bad;
	out->bits = max;
	if (slash) {
		const char *p = slash + 1;
		size_t len = strlen(p);
		uint64_t v;
		if (len == 0 || len > 3 || parse_digits(p, len, &v) != len || v > max)
			goto bad;
		out->bits = (unsigned)v;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Do the first bits of a and b agree? */
static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int net_cidr_match(const struct net_cidr *c, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return c->family == AF_INET &&
		       prefix_equal(c->addr, (const unsigned char *)&s4->sin_addr, c->bits);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const unsigned char *v4 = mapped_v4(s6);
		if (c->family == AF_INET)
			return v4 && prefix_equal(c->addr, v4, c->bits);
		return prefix_equal(c->addr, s6->sin6_addr.s6_addr, c->bits);
	}
	return 0;
}

int net_write_port_file(const char *path, unsigned port)
{
	char text[16];
	int len = snprintf(text, sizeof text, "%u\n", port);

	return io_write_file_atomic(path, text, (size_t)len);
}

/* Add "NAME=value" to the environment list being built. */
static void env_add(struct net_env *e, int *n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void env_add(struct net_env *e, int *n, const char *name, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= NET_ENV_MAX - 1)
		return;
	k = snprintf(e->buf[*n], sizeof e->buf[*n], "%s=", name);
	va_start(ap, fmt);
	vsnprintf(e->buf[*n] + k, sizeof e->buf[*n] - (size_t)k, fmt, ap);
	va_end(ap);
	e->env[*n] = e->buf[*n];
	e->env[++*n] = NULL;
}

void net_ucspi_env(int fd, struct net_env *e)
{
	struct net_addr local = {.len = sizeof local.ss}, remote = {.len = sizeof remote.ss};
	char host[NET_ADDRSTRLEN];
	unsigned port;
	int n = 0;

	e->env[0] = NULL;
	getsockname(fd, (struct sockaddr *)&local.ss, &local.len);
	getpeername(fd, (struct sockaddr *)&remote.ss, &remote.len);
	if (local.ss.ss_family == AF_UNIX) {
		struct ucred cred;
		socklen_t len = sizeof cred;
		env_add(e, &n, "PROTO", "UNIX");
		net_format((struct sockaddr *)&local.ss, local.len, host, sizeof host);
		env_add(e, &n, "UNIXLOCALPATH", "%s", host);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			env_add(e, &n, "UNIXREMOTEPID", "%ld", (long)cred.pid);
			env_add(e, &n, "UNIXREMOTEUID", "%lu", (unsigned long)cred.uid);
			env_add(e, &n, "UNIXREMOTEGID", "%lu", (unsigned long)cred.gid);
		}
		return;
	}
	env_add(e, &n, "PROTO", "TCP");
	net_host_port((struct sockaddr *)&local.ss, host, sizeof host, &port);
	env_add(e, &n, "TCPLOCALIP", "%s", host);
	env_add(e, &n, "TCPLOCALPORT", "%u", port);
	net_host_port((struct sockaddr *)&remote.ss, host, sizeof host, &port);
	env_add(e, &n, "TCPREMOTEIP", "%s", host);
	env_add(e, &n, "TCPREMOTEPORT", "%u", port);
}
