/* dbus auth: SASL EXTERNAL (D-Bus specification, "Authentication
 * Protocol"), the client side and the little a stdio bridge serves.
 *
 * The client sends one NUL byte (the credentials byte), then
 * "AUTH EXTERNAL <hex>" where <hex> is the decimal uid written in ASCII and
 * hex-encoded (uid 1000 -> "31303030"), as libdbus does on sockets; or,
 * where our uid means nothing to the far end (unixexec: through ssh),
 * "AUTH EXTERNAL" and an empty "DATA" as sd-bus always does, and the server
 * takes the uid it sees.  The server answers "DATA" to an AUTH without an
 * identity, then one line: "OK <32 hex digits: the server's guid>",
 * "REJECTED <mechanisms>" or "ERROR [text]".  "BEGIN" ends the exchange;
 * the client may send it and its first messages without waiting for OK,
 * which saves a round trip, but the OK line is always read and checked.
 * Every line is bounded (DBUS_AUTH_LINE_MAX) and must be printable ASCII. */
#include "client.h"
#include "lib/io.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AUTH_LINE_MAX DBUS_AUTH_LINE_MAX

/* A printable copy of a reply line for messages (at most 80 bytes). */
static const char *printable(const char *line, size_t len)
{
	static char out[84];
	size_t n = 0;

	for (size_t i = 0; i < len && n < 80; i++)
		out[n++] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	out[n] = 0;
	return out;
}

/* Is line[0..len) the command cmd, alone or followed by a space? */
static int is_command(const char *line, size_t len, const char *cmd)
{
	size_t n = strlen(cmd);

	return len >= n && memcmp(line, cmd, n) == 0 && (len == n || line[n] == ' ');
}

/* Judge one complete reply line: 1 for a good OK (its guid copied into
 * guid), 0 for a DATA challenge when data_ok, -1 with *err otherwise. */
static int judge_line(const char *line, size_t len, int data_ok, char *guid, struct dbus_err *err)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return dbus_err_set(err, "garbage in the bus's authentication reply");
	if (data_ok && is_command(line, len, "DATA"))
		return 0;
	if (len >= 2 && memcmp(line, "OK", 2) == 0 && (len == 2 || line[2] == ' ')) {
		size_t hex = 0;
		for (size_t i = 3; i < len; i++)
			hex += (line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f') ||
			       (line[i] >= 'A' && line[i] <= 'F');
		if (len != 35 || hex != 32)
			return dbus_err_set(err, "malformed authentication reply '%s' (want OK and a "
						 "32-hex-digit guid)", printable(line, len));
		memcpy(guid, line + 3, 32);
		guid[32] = 0;
		return 1;
	}
	if (len >= 8 && memcmp(line, "REJECTED", 8) == 0 && (len == 8 || line[8] == ' '))
		return dbus_err_set(err, "the bus rejected authentication (offered: %s)",
				    len > 9 ? printable(line + 9, len - 9) : "nothing");
	if (len >= 5 && memcmp(line, "ERROR", 5) == 0 && (len == 5 || line[5] == ' '))
		return dbus_err_set(err, "the bus refused authentication: %s", printable(line, len));
	return dbus_err_set(err, "unexpected authentication reply '%s'", printable(line, len));
}

/* The NUL byte, AUTH EXTERNAL with our uid (or none and an empty DATA),
 * BEGIN and the first messages. */
static int send_auth(int fd, const struct dbus_auth *a, int64_t deadline_ms, struct dbus_err *err)
{
	char uid[24], head[96];
	size_t n;
	uint8_t *out;
	int r;

	n = 0;
	head[n++] = 0;
	if (a->no_identity) {
		n += (size_t)snprintf(head + n, sizeof head - n, "AUTH EXTERNAL\r\nDATA\r\n");
	} else {
		snprintf(uid, sizeof uid, "%lu", (unsigned long)getuid());
		n += (size_t)snprintf(head + n, sizeof head - n, "AUTH EXTERNAL ");
		for (size_t i = 0; uid[i]; i++)
			n += (size_t)snprintf(head + n, sizeof head - n, "%02x", (unsigned char)uid[i]);
		n += (size_t)snprintf(head + n, sizeof head - n, "\r\n");
	}
	n += (size_t)snprintf(head + n, sizeof head - n, "BEGIN\r\n");
	out = malloc(n + a->nfirst);
	if (!out)
		return dbus_err_set(err, "out of memory");
	memcpy(out, head, n);
	if (a->nfirst)
		memcpy(out + n, a->first, a->nfirst);
	r = io_send_all(fd, out, n + a->nfirst, deadline_ms);
	free(out);
	if (r < 0 && errno == ETIMEDOUT) {
		dbus_err_set(err, "timed out sending authentication");
		return DBUS_TIMED_OUT;
	}
	if (r < 0)
		return dbus_err_set(err, "write to the bus: %s", io_strerror(errno));
	return 0;
}

/* The first CRLF in buf[0..len), or NULL.  Not memmem: it would bring
 * 1.2 KiB of musl's two-way search into the static binary for two bytes. */
static char *find_crlf(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	for (; (p = memchr(p, '\r', (size_t)(end - p))) != NULL && end - p >= 2; p++)
		if (p[1] == '\n')
			return (char *)p;
	return NULL;
}

/* The first reply line in buf[0..len): 0 if it is not complete yet, 1 for
 * a good OK (its guid copied into guid), 2 for a DATA challenge when
 * data_ok, -1 with *err otherwise or when no line end came within
 * AUTH_LINE_MAX bytes.  *used: the line's length with its CRLF. */
static int reply_line(const char *buf, size_t len, int data_ok, char *guid, size_t *used,
		      struct dbus_err *err)
{
	const char *crlf = find_crlf(buf, len);
	int r;

	if (!crlf) {
		if (len >= AUTH_LINE_MAX)
			return dbus_err_set(err, "authentication reply longer than %d bytes",
					    AUTH_LINE_MAX);
		return 0;
	}
	r = judge_line(buf, (size_t)(crlf - buf), data_ok, guid, err);
	if (r < 0)
		return -1;
	*used = (size_t)(crlf - buf) + 2;
	return r == 1 ? 1 : 2;
}

int dbus_auth_reply(const char *buf, size_t len, size_t *used, struct dbus_err *err)
{
	char guid[33];

	return reply_line(buf, len, 0, guid, used, err);
}

/* Read more of a line-based exchange into buf[*len..AUTH_LINE_MAX): 0,
 * -1 with *err, DBUS_TIMED_OUT on timeout.  who names the other side in
 * messages. */
static int read_more(int fd, char *buf, size_t *len, int64_t deadline_ms, const char *who,
		     struct dbus_err *err)
{
	for (;;) {
		ssize_t n;
		if (*len == AUTH_LINE_MAX)
			return dbus_err_set(err, "authentication %s longer than %d bytes",
					    strcmp(who, "the bus") == 0 ? "reply" : "line", AUTH_LINE_MAX);
		n = read(fd, buf + *len, AUTH_LINE_MAX - *len);
		if (n > 0) {
			*len += (size_t)n;
			return 0;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return dbus_err_set(err, "%s closed the connection during authentication", who);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return dbus_err_set(err, "read from %s: %s", who, io_strerror(errno));
		n = io_wait_fd(fd, POLLIN, deadline_ms);
		if (n == 0) {
			dbus_err_set(err, "timed out waiting for authentication");
			return DBUS_TIMED_OUT;
		}
		if (n < 0)
			return dbus_err_set(err, "poll: %s", io_strerror(errno));
	}
}

/* Read reply lines into buf (AUTH_LINE_MAX bytes) until the OK line. */
static int read_ok(int fd, char *buf, int64_t deadline_ms, struct dbus_auth *a,
		   struct dbus_err *err)
{
	size_t len = 0, used;
	int challenges = 0;

	for (;;) {
		/* One DATA challenge answers an AUTH without identity. */
		int r = reply_line(buf, len, a->no_identity && !challenges, a->guid, &used, err);
		if (r < 0)
			return -1;
		if (r == 2) {
			challenges++;
			memmove(buf, buf + used, len - used);
			len -= used;
			continue;
		}
		if (r == 1) {
			if (len - used > a->extra_cap)
				return dbus_err_set(err, "too much data after authentication");
			memcpy(a->extra, buf + used, len - used);
			a->nextra = len - used;
			return 0;
		}
		r = read_more(fd, buf, &len, deadline_ms, "the bus", err);
		if (r < 0)
			return r;
	}
}

int dbus_auth_external(int fd, struct dbus_auth *a, int64_t deadline_ms, struct dbus_err *err)
{
	char *buf;
	int r;

	a->nextra = 0;
	a->guid[0] = 0;
	r = send_auth(fd, a, deadline_ms, err);
	if (r < 0)
		return r;
	buf = malloc(AUTH_LINE_MAX);
	if (!buf)
		return dbus_err_set(err, "out of memory");
	r = read_ok(fd, buf, deadline_ms, a, err);
	free(buf);
	return r;
}

/* ---- the server side (bus-bridge) ---------------------------------------- */

enum { WAIT_AUTH, WAIT_DATA, WAIT_BEGIN };

#define MECHANISMS "REJECTED EXTERNAL ANONYMOUS\r\n"

/* The first word after "AUTH " and where the rest starts. */
static size_t auth_mechanism(const char *line, size_t len, const char **rest, size_t *restlen)
{
	size_t m = 0;

	line += 5;
	len -= 5;
	while (m < len && line[m] != ' ')
		m++;
	*rest = m < len ? line + m + 1 : line + len;
	*restlen = m < len ? len - m - 1 : 0;
	return m;
}

/* AUTH [MECHANISM [INITIAL-RESPONSE]] while waiting for it. */
static void server_auth(struct dbus_auth_server *s, const char *guid, const char *line,
			size_t len, char *reply, size_t cap)
{
	const char *rest;
	size_t restlen, m = len > 5 ? auth_mechanism(line, len, &rest, &restlen) : 0;
	int external = m == 8 && memcmp(line + 5, "EXTERNAL", 8) == 0;
	int anonymous = m == 9 && memcmp(line + 5, "ANONYMOUS", 9) == 0;

	if (!external && !anonymous) {
		snprintf(reply, cap, MECHANISMS);
		return;
	}
	if (restlen == 0) { /* no initial response: ask for it */
		snprintf(reply, cap, "DATA\r\n");
		s->state = WAIT_DATA;
		return;
	}
	snprintf(reply, cap, "OK %s\r\n", guid);
	s->state = WAIT_BEGIN;
}

int dbus_auth_server_line(struct dbus_auth_server *s, const char *guid, const char *line,
			  size_t len, char *reply, size_t reply_cap, struct dbus_err *err)
{
	reply[0] = 0;
	if (++s->lines > DBUS_AUTH_MAX_LINES)
		return dbus_err_set(err, "more than %d authentication lines", DBUS_AUTH_MAX_LINES);
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return dbus_err_set(err, "garbage in the client's authentication");
	if (s->state == WAIT_BEGIN && is_command(line, len, "BEGIN") && len == 5)
		return 1;
	if (is_command(line, len, "CANCEL") || is_command(line, len, "ERROR")) {
		snprintf(reply, reply_cap, MECHANISMS);
		s->state = WAIT_AUTH;
	} else if (s->state == WAIT_AUTH && is_command(line, len, "AUTH")) {
		server_auth(s, guid, line, len, reply, reply_cap);
	} else if (s->state == WAIT_DATA && is_command(line, len, "DATA")) {
		snprintf(reply, reply_cap, "OK %s\r\n", guid);
		s->state = WAIT_BEGIN;
	} else if (s->state == WAIT_DATA && is_command(line, len, "AUTH")) {
		snprintf(reply, reply_cap, MECHANISMS);
		s->state = WAIT_AUTH;
	} else if (s->state == WAIT_BEGIN && is_command(line, len, "NEGOTIATE_UNIX_FD")) {
		snprintf(reply, reply_cap, "ERROR file descriptors cannot cross this bridge\r\n");
	} else {
		snprintf(reply, reply_cap, "ERROR unexpected command\r\n");
	}
	return 0;
}

/* The credentials byte: the client's very first byte must be NUL. */
static int read_nul(int in, int64_t deadline_ms, struct dbus_err *err)
{
	for (;;) {
		unsigned char b;
		ssize_t n = read(in, &b, 1);
		if (n == 1)
			return b == 0 ? 0 : dbus_err_set(err, "the client's first byte is not NUL "
							 "(not a D-Bus client)");
		if (n == 0)
			return dbus_err_set(err, "the client closed the connection before authenticating");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return dbus_err_set(err, "read from the client: %s", io_strerror(errno));
		n = io_wait_fd(in, POLLIN, deadline_ms);
		if (n == 0) {
			dbus_err_set(err, "timed out waiting for the client to authenticate");
			return DBUS_TIMED_OUT;
		}
		if (n < 0)
			return dbus_err_set(err, "poll: %s", io_strerror(errno));
	}
}

/* Answer each complete line in buf[0..*len); 1 once BEGIN came (the bytes
 * after it are left at the start of buf), 0 for more, -1 with *err,
 * DBUS_TIMED_OUT on timeout. */
static int serve_lines(struct dbus_auth_server *s, int out, const char *guid, char *buf,
		       size_t *len, int64_t deadline_ms, struct dbus_err *err)
{
	char reply[128];
	char *crlf;

	while ((crlf = find_crlf(buf, *len)) != NULL) {
		size_t linelen = (size_t)(crlf - buf), rest = *len - linelen - 2;
		int r = dbus_auth_server_line(s, guid, buf, linelen, reply, sizeof reply, err);
		memmove(buf, crlf + 2, rest);
		*len = rest;
		if (r != 0)
			return r;
		if (!reply[0])
			continue;
		r = io_send_all(out, reply, strlen(reply), deadline_ms);
		if (r < 0 && errno == ETIMEDOUT) {
			dbus_err_set(err, "timed out writing to the client");
			return DBUS_TIMED_OUT;
		}
		if (r < 0)
			return dbus_err_set(err, "write to the client: %s", io_strerror(errno));
	}
	return 0;
}

int dbus_auth_serve(int in, int out, const char *guid, int64_t deadline_ms, uint8_t *extra,
		    size_t extra_cap, size_t *nextra, struct dbus_err *err)
{
	struct dbus_auth_server s = {0};
	char *buf;
	size_t len = 0;
	int r;

	*nextra = 0;
	if (extra_cap < AUTH_LINE_MAX)
		return dbus_err_set(err, "dbus_auth_serve: buffer too small");
	r = read_nul(in, deadline_ms, err);
	if (r < 0)
		return r;
	buf = malloc(AUTH_LINE_MAX);
	if (!buf)
		return dbus_err_set(err, "out of memory");
	while ((r = serve_lines(&s, out, guid, buf, &len, deadline_ms, err)) == 0)
		if ((r = read_more(in, buf, &len, deadline_ms, "the client", err)) < 0)
			break;
	if (r == 1) {
		memcpy(extra, buf, len);
		*nextra = len;
		r = 0;
	}
	free(buf);
	return r;
}
