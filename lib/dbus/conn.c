/* dbus conn: a client connection to a message bus.
 *
 * Opening connects to the first address of the list that works, runs SASL
 * EXTERNAL and sends org.freedesktop.DBus.Hello pipelined behind BEGIN (the
 * bus requires Hello as the first message; it takes serial 1), and with
 * dbus_conn_open_call a first method call behind Hello (serial 2): one
 * write, one round trip for all three.  Hello's reply, which carries our
 * unique name, is taken out of the stream by dbus_conn_recv, so applets see
 * only their own traffic.  A server that refuses the pipelined form gets a
 * second connection, authenticated one step at a time (lib/dbus/auth.c).
 *
 * Receiving reads the 16-byte fixed header first, asks dbus_msg_length for
 * the total (checked against the 128 MiB limit) before the buffer grows, and
 * then reads the rest; every message is validated by dbus_msg_parse.
 *
 * A unixexec: connection has a child process (ssh, a stdio bridge): it is
 * reaped as soon as it ends, even while the connection lives on through a
 * grandchild, so it never stays a zombie, and its exit status explains the
 * end of the connection. */
#include "client.h"
#include "lib/clock.h"
#include "lib/io.h"
#include "lib/parse.h"
#include "lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RBUF_INITIAL (64 * 1024)
#define HELLO_SERIAL 1
/* The most bytes of a first call that go out before the bus has said OK: a
 * refused pipelined attempt throws them away, and a call this big costs far
 * more than the round trip it would save.  A bigger one waits for OK. */
#define PIPELINE_MAX (64 * 1024)
int dbus_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct dbus_err *err)
{
	if (io_send_all(fd, buf, len, deadline_ms) == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return DBUS_TIMED_OUT;
	return dbus_err_set(err, "write to the bus: %s", io_strerror(errno));
}

/* How long a unixexec command may take to exit once its input closed. */
#define CHILD_GRACE_MS 1000

static uint32_t take_serial(struct dbus_conn *c)
{
	uint32_t s = c->next_serial++;

	if (c->next_serial == 0)
		c->next_serial = 1;
	return s ? s : take_serial(c);
}

/* Marshal m with the next serial. */
static int build(struct dbus_conn *c, struct dbus_msg *m, uint8_t **out, size_t *len,
		 struct dbus_err *err)
{
	if (!m->endian)
		m->endian = 'l';
	if (!m->version)
		m->version = 1;
	if (!m->signature)
		m->signature = "";
	m->serial = take_serial(c);
	return dbus_msg_build(m, out, len, err);
}

/* Reap the unixexec command if it has ended (without waiting). */
static void poll_child(struct dbus_conn *c)
{
	int st = -1;

	if (c->child <= 0 || spawn_try_wait(c->child, &st) == 0)
		return;
	c->child = 0;
	c->child_status = st; /* -1 if another waitpid took it */
}

/* End a command whose input we closed: it gets CHILD_GRACE_MS to exit on
 * its own (polled: a pidfd or SIGCHLD would need the applet's help), then
 * SIGTERM, as sd-bus ends its unixexec child; reaped either way. */
static int end_child(pid_t pid)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int st = -1;

	for (int waited = 0; waited < CHILD_GRACE_MS; waited += 10) {
		pid_t r = spawn_try_wait(pid, &st);
		if (r != 0)
			return r > 0 ? st : -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGTERM);
	return spawn_wait(pid);
}

/* Close the descriptor and end the unixexec command, if any. */
static void end_connection(struct dbus_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->child > 0)
		c->child_status = end_child(c->child);
	c->child = 0;
}

/* Append to *err why a unixexec command's connection ended, if known. */
static void explain_child(struct dbus_conn *c, struct dbus_err *err)
{
	char what[sizeof err->msg];
	int st;

	poll_child(c);
	st = c->child_status;
	if (!err || st < 0)
		return;
	memcpy(what, err->msg, sizeof what);
	if (st > 128)
		dbus_err_set(err, "%.180s (the unixexec command was killed by signal %d)", what, st - 128);
	else
		dbus_err_set(err, "%.180s (the unixexec command exited with status %d)", what, st);
}

/* Connect and authenticate to one address, sending hello[0..n) after BEGIN:
 * pipelined, and if the server refuses that form, once more on a fresh
 * connection one step at a time. */
static int open_one(struct dbus_conn *c, const struct dbus_addr *a, const uint8_t *hello,
		    size_t n, int64_t deadline, struct dbus_err *err)
{
	struct dbus_auth auth = {
		.no_identity = a->kind == DBUS_ADDR_EXEC,
		.retry_on_hangup = a->kind != DBUS_ADDR_EXEC,
		.first = hello,
		.nfirst = n,
		.extra = c->rbuf,
		.extra_cap = c->rcap,
	};
	int r;

	for (;;) {
		c->fd = dbus_address_connect(a, deadline, &c->child, err);
		if (c->fd < 0) {
			end_connection(c);
			return -1;
		}
		r = dbus_auth_external(c->fd, &auth, deadline, err);
		if (r != DBUS_AUTH_RETRY || auth.stepwise)
			break;
		end_connection(c); /* what we queued means nothing to it now */
		auth.stepwise = 1;
	}
	if (r == DBUS_AUTH_RETRY)
		r = -1;
	c->rlen = auth.nextra;
	memcpy(c->guid, auth.guid, sizeof c->guid);
	if (r < 0) {
		char what[sizeof err->msg], name[300];
		if (c->child > 0) {
			end_connection(c); /* its status, to say why */
			explain_child(c, err);
		}
		dbus_address_describe(a, name, sizeof name);
		if (err) {
			memcpy(what, err->msg, sizeof what);
			dbus_err_set(err, "%.100s: %.150s", name, what);
		}
		end_connection(c);
	}
	return r;
}

/* Marshal Hello and then first (if any) into one buffer; a first call too
 * big to go before OK is left in *late.  0 or -1. */
static int build_opening(struct dbus_conn *c, struct dbus_msg *first, uint8_t **bytes,
			 size_t *len, uint8_t **late, size_t *nlate, struct dbus_err *err)
{
	struct dbus_msg hello = {
		.type = DBUS_METHOD_CALL,
		.path = "/org/freedesktop/DBus",
		.interface = "org.freedesktop.DBus",
		.member = "Hello",
		.destination = "org.freedesktop.DBus",
	};
	uint8_t *call, *both;
	size_t ncall;

	if (build(c, &hello, bytes, len, err) < 0)
		return -1;
	if (!first)
		return 0;
	if (build(c, first, &call, &ncall, err) < 0) {
		free(*bytes);
		*bytes = NULL;
		return -1;
	}
	if (ncall > PIPELINE_MAX) {
		*late = call;
		*nlate = ncall;
		return 0;
	}
	both = realloc(*bytes, *len + ncall);
	if (!both) {
		free(call);
		return dbus_err_set(err, "out of memory");
	}
	memcpy(both + *len, call, ncall);
	free(call);
	*bytes = both;
	*len += ncall;
	return 0;
}

/* Open a connection; with hello, say Hello (pipelined behind BEGIN), and
 * send first, if any.  Returns 0, -1 with *err, or DBUS_TIMED_OUT (with
 * *err) when the timeout expired during authentication. */
static int open_conn(struct dbus_conn *c, const char *address, int64_t deadline, int hello,
		     struct dbus_msg *first, struct dbus_err *err)
{
	struct dbus_addr *addrs = malloc(DBUS_MAX_ADDRS * sizeof *addrs);
	uint8_t *bytes = NULL, *late = NULL;
	size_t len = 0, nlate = 0;
	int n, r = -1;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->child_status = -1;
	c->next_serial = HELLO_SERIAL;
	if (!addrs)
		return dbus_err_set(err, "out of memory");
	n = dbus_address_parse(address, addrs, DBUS_MAX_ADDRS, err);
	if (n < 0) {
		free(addrs);
		return DBUS_BAD_ADDRESS;
	}
	if (hello && build_opening(c, first, &bytes, &len, &late, &nlate, err) < 0)
		n = -1;
	c->rcap = RBUF_INITIAL;
	c->rbuf = n >= 0 ? malloc(c->rcap) : NULL;
	if (n >= 0 && !c->rbuf)
		n = dbus_err_set(err, "out of memory");
	for (int i = 0; i < n && r < 0; i++)
		r = open_one(c, &addrs[i], bytes, len, deadline, err);
	if (r == 0 && late) {
		r = dbus_write_all(c->fd, late, nlate, deadline, err);
		if (r == DBUS_TIMED_OUT)
			dbus_err_set(err, "timed out sending to the bus");
		if (r < 0)
			end_connection(c);
	}
	free(late);
	free(bytes);
	free(addrs);
	if (r < 0) {
		free(c->rbuf);
		c->rbuf = NULL;
	}
	return r;
}

int dbus_conn_open(struct dbus_conn *c, const char *address, int64_t deadline_ms,
		   struct dbus_err *err)
{
	return open_conn(c, address, deadline_ms, 1, NULL, err);
}

int dbus_conn_open_call(struct dbus_conn *c, const char *address, struct dbus_msg *first,
			int64_t deadline_ms, struct dbus_err *err)
{
	return open_conn(c, address, deadline_ms, 1, first, err);
}

int dbus_conn_open_unregistered(struct dbus_conn *c, const char *address, int64_t deadline_ms,
				struct dbus_err *err)
{
	return open_conn(c, address, deadline_ms, 0, NULL, err);
}

const uint8_t *dbus_conn_unread(const struct dbus_conn *c, size_t *len)
{
	*len = c->rlen - c->rpos;
	return c->rbuf + c->rpos;
}

void dbus_conn_close(struct dbus_conn *c)
{
	end_connection(c);
	free(c->rbuf);
	free(c->unique_name);
	c->rbuf = NULL;
	c->unique_name = NULL;
	c->rpos = c->rlen = c->rcap = 0;
}

/* Send m with a deadline: 0, -1, or DBUS_TIMED_OUT. */
static int send_until(struct dbus_conn *c, struct dbus_msg *m, int64_t deadline,
		      struct dbus_err *err)
{
	uint8_t *bytes;
	size_t len;
	int r;

	if (build(c, m, &bytes, &len, err) < 0)
		return -1;
	r = dbus_write_all(c->fd, bytes, len, deadline, err);
	free(bytes);
	if (r == DBUS_TIMED_OUT)
		dbus_err_set(err, "timed out sending to the bus");
	return r;
}

int dbus_conn_send(struct dbus_conn *c, struct dbus_msg *m, struct dbus_err *err)
{
	return send_until(c, m, -1, err);
}

/* Read more bytes into rbuf, so that need bytes from rpos on can fit: 0,
 * -1, DBUS_TIMED_OUT.  The unconsumed bytes move to the front only when the end is in
 * the way (not once per message: a buffer holds hundreds of small ones). */
static int fill(struct dbus_conn *c, size_t need, int64_t deadline, struct dbus_err *err)
{
	if (c->rpos > 0 && (c->rpos + need > c->rcap || c->rlen == c->rcap)) {
		c->rlen -= c->rpos;
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen);
		c->rpos = 0;
	}
	if (need > c->rcap) {
		uint8_t *p = realloc(c->rbuf, need);
		if (!p)
			return dbus_err_set(err, "out of memory for a %zu-byte message", need);
		c->rbuf = p;
		c->rcap = need;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		int r;
		if (n > 0) {
			c->rlen += (size_t)n;
			return 0;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			dbus_err_set(err, "the bus closed the connection");
			if (c->child > 0) {
				end_connection(c);
				explain_child(c, err);
			}
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return dbus_err_set(err, "read from the bus: %s", io_strerror(errno));
		poll_child(c); /* before we sleep: no zombie while we wait */
		/* The read just said there is nothing: with no time left, a poll
		 * would only say it again (bus-listen drains with deadline 0, and
		 * a flood costs one such call per wake-up). */
		r = clock_expired(deadline) ? 0 : io_wait_fd(c->fd, POLLIN, deadline);
		if (r == 0) {
			dbus_err_set(err, "timed out");
			return DBUS_TIMED_OUT;
		}
		if (r < 0)
			return dbus_err_set(err, "poll: %s", io_strerror(errno));
	}
}

/* Take the reply to Hello out of the stream: 1 if m was it (and is freed),
 * 0 if not, -1 if Hello failed. */
static int take_hello_reply(struct dbus_conn *c, struct dbus_msg *m, struct dbus_err *err)
{
	if (c->unique_name || m->reply_serial != HELLO_SERIAL ||
	    (m->type != DBUS_METHOD_RETURN && m->type != DBUS_ERROR))
		return 0;
	if (m->type == DBUS_ERROR) {
		const char *text = m->nbody > 0 && m->body[0].type == 's' ? m->body[0].v.str : "";
		dbus_err_set(err, "the bus refused Hello: %s: %s", m->error_name, text);
		dbus_msg_free(m);
		return -1;
	}
	if (m->nbody > 0 && m->body[0].type == 's')
		c->unique_name = strdup(m->body[0].v.str);
	if (!c->unique_name)
		c->unique_name = strdup("");
	dbus_msg_free(m);
	return 1;
}

/* Prefix the parser's reason: the bus broke the protocol. */
static int bad_message(struct dbus_err *err)
{
	char why[sizeof err->msg];

	if (!err)
		return -1;
	memcpy(why, err->msg, sizeof why);
	return dbus_err_set(err, "bad message from the bus: %.200s", why);
}

/* A malloc'd copy of the total bytes at p (the message m). */
static int keep_raw(struct dbus_msg *m, const uint8_t *p, size_t total, uint8_t **raw,
		    size_t *rawlen, struct dbus_err *err)
{
	*raw = malloc(total);
	if (!*raw) {
		dbus_msg_free(m);
		return dbus_err_set(err, "out of memory");
	}
	memcpy(*raw, p, total);
	*rawlen = total;
	return 0;
}

int dbus_conn_recv(struct dbus_conn *c, struct dbus_msg *m, int64_t deadline_ms,
		   struct dbus_err *err)
{
	return dbus_conn_recv_raw(c, m, NULL, NULL, deadline_ms, err);
}

int dbus_conn_recv_raw(struct dbus_conn *c, struct dbus_msg *m, uint8_t **raw, size_t *rawlen,
		       int64_t deadline_ms, struct dbus_err *err)
{
	for (;;) {
		const uint8_t *p = c->rbuf + c->rpos;
		size_t total = 0, avail = c->rlen - c->rpos;
		int r;
		if (avail >= 16) {
			total = dbus_msg_length(p, err);
			if (total == 0)
				return bad_message(err);
		}
		if (total == 0 || avail < total) {
			r = fill(c, total ? total : 16, deadline_ms, err);
			if (r < 0)
				return r;
			continue;
		}
		memset(m, 0, sizeof *m);
		if (dbus_msg_parse(m, p, total, err) < 0)
			return bad_message(err);
		if (raw && keep_raw(m, p, total, raw, rawlen, err) < 0)
			return -1;
		c->rpos += total;
		if (c->rpos == c->rlen)
			c->rpos = c->rlen = 0;
		r = take_hello_reply(c, m, err);
		if (r == 0)
			return 0;
		if (raw) {
			free(*raw);
			*raw = NULL;
		}
		if (r < 0)
			return -1;
	}
}

/* ---- replies, and the Peer interface every connection answers ----------- */

int dbus_conn_reply(struct dbus_conn *c, const struct dbus_msg *call, struct dbus_msg *r,
		    int64_t deadline_ms, struct dbus_err *err)
{
	if (call->flags & DBUS_FLAG_NO_REPLY_EXPECTED)
		return 0;
	r->reply_serial = call->serial;
	r->destination = call->sender;
	return send_until(c, r, deadline_ms, err);
}

/* A reply (type) whose body is the one string s. */
static int reply_one_string(struct dbus_conn *c, const struct dbus_msg *call, struct dbus_msg *r,
			    const char *s, int64_t deadline_ms, struct dbus_err *err)
{
	struct dbus_value v = {.type = 's', .sig = "s", .n = (uint32_t)strlen(s), .v.str = (char *)s};

	r->signature = "s";
	r->body = &v;
	r->nbody = 1;
	return dbus_conn_reply(c, call, r, deadline_ms, err);
}

int dbus_conn_reply_string(struct dbus_conn *c, const struct dbus_msg *call, const char *s,
			   int64_t deadline_ms, struct dbus_err *err)
{
	struct dbus_msg r = {.type = DBUS_METHOD_RETURN};

	return reply_one_string(c, call, &r, s, deadline_ms, err);
}

int dbus_conn_reply_error(struct dbus_conn *c, const struct dbus_msg *call, const char *name,
			  const char *text, int64_t deadline_ms, struct dbus_err *err)
{
	struct dbus_msg r = {.type = DBUS_ERROR, .error_name = name};

	return reply_one_string(c, call, &r, text, deadline_ms, err);
}

int dbus_machine_id_read(const char *path, char id[33])
{
	char buf[34];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return -1;
	if (n < 32 || (n > 32 && buf[32] != '\n')) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < 32; i++)
		if (parse_hexdigit((unsigned char)buf[i]) < 0) {
			errno = EINVAL;
			return -1;
		}
	memcpy(id, buf, 32);
	id[32] = '\0';
	return 0;
}

static int is_call(const struct dbus_msg *m, const char *iface, const char *member)
{
	return m->type == DBUS_METHOD_CALL && m->interface && strcmp(m->interface, iface) == 0 &&
	       m->member && strcmp(m->member, member) == 0;
}

int dbus_conn_answer_peer(struct dbus_conn *c, const struct dbus_msg *call, int64_t deadline_ms,
			  struct dbus_err *err)
{
	static const char peer[] = "org.freedesktop.DBus.Peer";
	struct dbus_msg empty = {.type = DBUS_METHOD_RETURN};
	char id[33];
	int r;

	if (is_call(call, peer, "Ping"))
		r = dbus_conn_reply(c, call, &empty, deadline_ms, err);
	else if (!is_call(call, peer, "GetMachineId"))
		return 0;
	else if (dbus_machine_id_read("/etc/machine-id", id) == 0 ||
		 dbus_machine_id_read("/var/lib/dbus/machine-id", id) == 0)
		r = dbus_conn_reply_string(c, call, id, deadline_ms, err);
	else
		r = dbus_conn_reply_error(c, call, "org.freedesktop.DBus.Error.FileNotFound",
					  "no machine id", deadline_ms, err);
	return r < 0 ? r : 1;
}

int dbus_conn_answer(struct dbus_conn *c, const struct dbus_msg *call, int64_t deadline_ms,
		     struct dbus_err *err)
{
	int r = dbus_conn_answer_peer(c, call, deadline_ms, err);

	if (r != 0 || call->type != DBUS_METHOD_CALL)
		return r < 0 ? r : 0;
	return dbus_conn_reply_error(c, call, "org.freedesktop.DBus.Error.UnknownMethod",
				     "this ipcbox client serves no methods", deadline_ms, err);
}

int dbus_conn_await(struct dbus_conn *c, const struct dbus_msg *call, struct dbus_msg *reply,
		    int64_t deadline_ms, struct dbus_err *err)
{
	for (;;) {
		int r = dbus_conn_recv(c, reply, deadline_ms, err);
		if (r < 0)
			return r;
		if ((reply->type == DBUS_METHOD_RETURN || reply->type == DBUS_ERROR) &&
		    reply->reply_serial == call->serial)
			return 0;
		r = dbus_conn_answer(c, reply, deadline_ms, err);
		dbus_msg_free(reply);
		if (r < 0)
			return r;
	}
}

int dbus_conn_call(struct dbus_conn *c, struct dbus_msg *call, struct dbus_msg *reply,
		   int64_t deadline_ms, struct dbus_err *err)
{
	int r = send_until(c, call, deadline_ms, err);

	return r < 0 ? r : dbus_conn_await(c, call, reply, deadline_ms, err);
}
