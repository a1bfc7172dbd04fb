/* dbus client internals: server addresses, the SASL EXTERNAL handshake and
 * the connection's writes, for lib/dbus and its unit tests and fuzzers.
 *
 * Applets include dbus.h alone: it declares the connection API they use
 * (dbus_conn_open and friends, the replies, the -H address, a bridge's
 * side of SASL); this header exposes the steps underneath it so that they
 * can be unit-tested.  Prefix: dbus_. */
#ifndef IPCBOX_DBUS_CLIENT_H
#define IPCBOX_DBUS_CLIENT_H

#include "dbus.h"

#include <sys/types.h>
#include <sys/un.h>

enum { DBUS_ADDR_UNIX, DBUS_ADDR_ABSTRACT, DBUS_ADDR_TCP, DBUS_ADDR_EXEC };

/* The most bytes a unixexec: command may take (path and arguments with
 * their NULs), and the most arguments. */
#define DBUS_EXEC_MAX 2048
#define DBUS_EXEC_MAX_ARGS 30

/* One connectable address, %-escapes decoded.  For unix and abstract
 * sockets, path holds pathlen bytes (no NUL inside); for tcp, host and port
 * (decimal text) and family (AF_UNSPEC, AF_INET or AF_INET6); for unixexec,
 * exec holds the program (path=) and then its nargs arguments (argv0=,
 * which defaults to the path, argv1=...), each NUL-terminated. */
struct dbus_addr {
	int kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t pathlen;
	char host[256];
	char port[6];
	int family;
	char exec[DBUS_EXEC_MAX];
	int nargs;
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
 * Returns a non-blocking, close-on-exec socket, or -1 with *err.  For a
 * unixexec: address the socket is one end of a socket pair whose other end
 * is the started command's stdin and stdout; *child gets its pid (0 for
 * the other transports), which the caller must reap. */
int dbus_address_connect(const struct dbus_addr *a, int64_t deadline_ms, pid_t *child,
			 struct dbus_err *err);

/* One SASL exchange, client side. */
struct dbus_auth {
	int no_identity;      /* in: "AUTH EXTERNAL" with no uid, as sd-bus sends */
	const uint8_t *first; /* in: the first messages, sent right after BEGIN */
	size_t nfirst;
	uint8_t *extra; /* in: room for bytes the server sent after its OK line */
	size_t extra_cap;
	size_t nextra;  /* out: how many of those */
	char guid[33];  /* out: the server's guid, from its OK line */
	int stepwise;        /* in: one step at a time, not pipelined */
	int retry_on_hangup; /* in: a hang-up before the pipelined form's OK may
				be answered by connecting again (not unixexec:,
				where that would run the command again) */
};

/* What dbus_auth_external returns when the pipelined form was refused: the
 * connection is spent; connect again and run it with stepwise set. */
#define DBUS_AUTH_RETRY (-3)

/* The SASL exchange on a fresh socket.  Pipelined (stepwise 0): send the
 * NUL byte, "AUTH EXTERNAL <hex uid>" (or, with no_identity, "AUTH
 * EXTERNAL" and an empty "DATA": the server then takes the uid it sees on
 * its own side), "BEGIN" and a->first in one write, and read the server's
 * lines up to "OK <guid>" (a DATA challenge to an AUTH without identity
 * before it is passed over; with none, the answer to the queued DATA after
 * it is).  Any other reply, or a hang-up when
 * retry_on_hangup allows, returns DBUS_AUTH_RETRY.  Stepwise: the NUL byte
 * and AUTH, then one line at a time (dbus_auth_client_line), BEGIN and
 * a->first only after OK.  Bytes after the OK line are the start of the
 * message stream: they are stored in a->extra (more than extra_cap is an
 * error).  Returns 0, -1 with *err, DBUS_TIMED_OUT (with *err) or
 * DBUS_AUTH_RETRY. */
int dbus_auth_external(int fd, struct dbus_auth *a, int64_t deadline_ms, struct dbus_err *err);

/* The client's side as a state machine, one server line at a time (the
 * pure part of dbus_auth_external, for tests and the fuzz target). */
struct dbus_auth_client {
	int pipelined, no_identity;
	int state, mech, challenges, lines;
	unsigned tried;     /* the mechanisms tried, a bit each */
	char offered[84];   /* the first REJECTED's list, printable */
	char guid[33];      /* after OK */
};
/* Room for the opening and for any one answer. */
#define DBUS_AUTH_OPEN_MAX 128
enum { DBUS_AUTH_OK = 1 };
/* Start: the opening bytes into out (cap at least DBUS_AUTH_OPEN_MAX):
 * NUL, the AUTH line, and when pipelined (the empty DATA and) BEGIN.
 * Returns their number (0 if cap is too small). */
size_t dbus_auth_client_open(struct dbus_auth_client *s, int pipelined, int no_identity, char *out,
			     size_t cap);
/* One line from the server, without its CRLF; out (cap at least
 * DBUS_AUTH_OPEN_MAX) gets what to send now, "" for nothing.  Returns 0
 * (read on), DBUS_AUTH_OK (s->guid holds the guid; out holds BEGIN when
 * stepwise, and the messages go right after it), DBUS_AUTH_RETRY (the
 * pipelined form was refused), or -1 with *err (refused, garbage, too many
 * lines, a line after the end). */
int dbus_auth_client_line(struct dbus_auth_client *s, const char *line, size_t len, char *out,
			  size_t cap, struct dbus_err *err);

/* The server side, as a stdio bridge speaks it to its client (the bridge
 * has authenticated itself to the bus; the client's claimed uid means
 * nothing here, the far side of ssh): EXTERNAL with or without an identity
 * and ANONYMOUS are accepted, the guid given is the bus's, and
 * NEGOTIATE_UNIX_FD is refused (bytes are relayed, descriptors cannot be). */
struct dbus_auth_server {
	int state; /* 0: waiting for AUTH, 1: for DATA, 2: for BEGIN */
	int lines; /* how many lines so far */
};
#define DBUS_AUTH_MAX_LINES 64

/* Take one line from the client (without its CRLF): the answer, if any,
 * goes into reply (a CRLF-ended line; "" for none).  1 when BEGIN ended
 * the exchange, 0 to read on, -1 with *err when the client is to be
 * dropped (a line that is not printable ASCII, too many lines). */
int dbus_auth_server_line(struct dbus_auth_server *s, const char *guid, const char *line,
			  size_t len, char *reply, size_t reply_cap, struct dbus_err *err);

/* The machine id in the file path: 32 hex digits, then a newline or the
 * end of the file, into id (NUL-terminated).  0, or -1 with errno (EINVAL:
 * the file holds no id). */
int dbus_machine_id_read(const char *path, char id[33]);


/* Write all of buf to the non-blocking fd before the deadline: 0, -1 with
 * *err, DBUS_TIMED_OUT. */
int dbus_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct dbus_err *err);

#endif
