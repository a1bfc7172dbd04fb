/* dbus client internals: server addresses and the SASL EXTERNAL handshake.
 *
 * dbus.h declares the connection API the applets use (dbus_conn_open and
 * friends); this header exposes the steps underneath it so that they can be
 * unit-tested and so that an applet can refuse a bad address (exit 2) before
 * trying to connect.  Prefix: dbus_. */
#ifndef IPCBOX_DBUS_CLIENT_H
#define IPCBOX_DBUS_CLIENT_H

#include "dbus.h"

#include <sys/un.h>

enum { DBUS_ADDR_UNIX, DBUS_ADDR_ABSTRACT, DBUS_ADDR_TCP };

/* One connectable address, %-escapes decoded.  For unix and abstract
 * sockets, path holds pathlen bytes (no NUL inside); for tcp, host and port
 * (decimal text) and family (AF_UNSPEC, AF_INET or AF_INET6). */
struct dbus_addr {
	int kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t pathlen;
	char host[256];
	char port[6];
	int family;
};

#define DBUS_MAX_ADDRS 16

/* Parse a ';'-separated address list into out[0..max).  Every entry must be
 * well-formed (keys, values, %-escapes); entries this client cannot connect
 * to (listen-only keys, autolaunch:, unknown transports) are skipped, and
 * only if no entry is left is that an error, naming the first problem.
 * Returns the number of usable entries, or -1 with *err. */
int dbus_address_parse(const char *text, struct dbus_addr *out, int max, struct dbus_err *err);

/* A readable form of an address for messages: "unix:path=/x". */
void dbus_address_describe(const struct dbus_addr *a, char *buf, size_t size);

/* Connect to one address before the monotonic deadline (< 0: none).
 * Returns a non-blocking, close-on-exec socket, or -1 with *err. */
int dbus_address_connect(const struct dbus_addr *a, int64_t deadline_ms, struct dbus_err *err);

/* The SASL EXTERNAL exchange on a fresh socket: send the NUL byte,
 * "AUTH EXTERNAL <hex uid>", "BEGIN" and then first[0..nfirst) (the first
 * messages, pipelined), and read the server's "OK <guid>" line.  Bytes the
 * server sent after that line are the start of the message stream: they are
 * stored in extra (at most extra_cap; more is an error) and counted in
 * *nextra.  Returns 0, -1 with *err, or -2 (with *err) on timeout. */
int dbus_auth_external(int fd, const uint8_t *first, size_t nfirst, int64_t deadline_ms,
		       uint8_t *extra, size_t extra_cap, size_t *nextra, struct dbus_err *err);

/* Judge the server's reply bytes buf[0..len) received so far: 0 if no
 * complete line has arrived yet (more must be read), 1 if the first line is
 * a good "OK <guid>" (*used: its length with the CRLF; what follows is the
 * message stream), -1 with *err for any other line, a non-printable byte, or
 * no line end within AUTH_LINE_MAX (16384) bytes. */
int dbus_auth_reply(const char *buf, size_t len, size_t *used, struct dbus_err *err);

/* Answer a method call that reached this client while it waited for
 * something else: Peer.Ping gets an empty reply, anything else the error
 * UnknownMethod; calls flagged NO_REPLY_EXPECTED and other messages are
 * left alone.  0, -1 with *err, -2 on timeout. */
int dbus_conn_answer(struct dbus_conn *c, const struct dbus_msg *call, int64_t deadline_ms,
		     struct dbus_err *err);


/* Write all of buf to the non-blocking fd before the deadline: 0, -1 with
 * *err, -2 on timeout. */
int dbus_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct dbus_err *err);

#endif
