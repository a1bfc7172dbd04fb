/* net: socket addresses for the tcp and unix applets.
 *
 * Name resolution (IPv4, IPv6, host names), listening and connecting with a
 * deadline, CIDR allow lists, the port file, and the UCSPI environment that
 * describes a connection to a program run for it.  Every descriptor made
 * here is close-on-exec.  Functions return -1 with errno (or a getaddrinfo
 * code where they say so); the applets decide what to print. */
#ifndef IPCBOX_NET_H
#define IPCBOX_NET_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* A socket address of any family with its length. */
struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Longest "[ipv6]:port" or unix path text, with its NUL. */
#define NET_ADDRSTRLEN 128

/* Resolve HOST (a name or a numeric address) and PORT into a list.
 * family: AF_UNSPEC, AF_INET or AF_INET6.  passive: for bind().
 * Returns 0 or a getaddrinfo error code (gai_strerror() explains it). */
int net_resolve(const char *host, uint16_t port, int family, int passive, struct addrinfo **res);

/* Connect a new stream socket to ai, first binding it to src if not NULL.
 * deadline_ms: a CLOCK_MONOTONIC time in ms, or -1 for none; when it passes
 * the result is -1 with errno ETIMEDOUT.  Returns the socket (blocking or
 * not: the relay sets what it needs). */
int net_connect(const struct sockaddr *to, socklen_t tolen, const struct net_addr *src,
		int64_t deadline_ms);

/* A listening stream socket bound to addr (SO_REUSEADDR for IP families);
 * non-blocking, close-on-exec. */
int net_listen(const struct sockaddr *addr, socklen_t len, int backlog);

/* The numeric text of an address: "127.0.0.1:80", "[::1]:80", a unix path,
 * "@name" for an abstract socket.  IPv4-mapped IPv6 prints as IPv4. */
void net_format(const struct sockaddr *sa, socklen_t len, char *out, size_t size);
/* The port a socket is bound to (0 if none or not IP). */
unsigned net_local_port(int fd);

/* A unix socket address from PATH or @ABSTRACT.  -1 (ENAMETOOLONG or
 * EINVAL for an empty name) if it cannot be one. */
int net_unix_addr(const char *name, struct sockaddr_un *sun, socklen_t *len);

/* One entry of an allow list: ADDR/BITS or a bare address (all bits). */
struct net_cidr {
	int family;
	unsigned char addr[16];
	unsigned bits;
};
/* Parse "10.0.0.0/8", "::1", "fe80::/10".  -1 with errno EINVAL if not. */
int net_cidr_parse(const char *text, struct net_cidr *out);
/* Does the peer address fall in the block?  IPv4-mapped IPv6 peers match
 * IPv4 blocks. */
int net_cidr_match(const struct net_cidr *c, const struct sockaddr *sa);

/* Write PORT and a newline to path through a temporary file and rename(2),
 * so a reader sees nothing or the whole number. */
int net_write_port_file(const char *path, unsigned port);

/* The UCSPI variables for a connection, "NAME=value" strings in env (at
 * most NET_ENV_MAX, NULL-terminated), text kept in buf.  TCP: PROTO,
 * TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT.  Unix: PROTO,
 * UNIXLOCALPATH and, from SO_PEERCRED, UNIXREMOTEPID, UNIXREMOTEUID,
 * UNIXREMOTEGID. */
#define NET_ENV_MAX 8
struct net_env {
	char *env[NET_ENV_MAX];
	char buf[NET_ENV_MAX][NET_ADDRSTRLEN + 32];
};
void net_ucspi_env(int fd, struct net_env *e);


#endif
