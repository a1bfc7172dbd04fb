/* dbus auth: the client side of SASL EXTERNAL (D-Bus specification,
 * "Authentication Protocol").
 *
 * The client sends one NUL byte (the credentials byte), then
 * "AUTH EXTERNAL <hex>" where <hex> is the decimal uid written in ASCII and
 * hex-encoded (uid 1000 -> "31303030").  The server answers one line:
 * "OK <32 hex digits: the server's guid>", "REJECTED <mechanisms>" or
 * "ERROR [text]".  "BEGIN" ends the exchange; the client may send it and its
 * first messages without waiting for OK, which saves a round trip, but the
 * OK line is always read and checked.  Every reply line is bounded
 * (AUTH_LINE_MAX) and must be printable ASCII. */
#include "client.h"
#include "lib/io.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUTH_LINE_MAX 16384

int dbus_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct dbus_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = io_wait_fd(fd, POLLOUT, deadline_ms);
			if (r == 0)
				return -2;
			if (r > 0)
				continue;
		}
		return dbus_err_set(err, "write to the bus: %s", strerror(errno));
	}
	return 0;
}

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

/* Judge one complete reply line: 1 for a good OK, -1 with *err otherwise. */
static int judge_line(const char *line, size_t len, struct dbus_err *err)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return dbus_err_set(err, "garbage in the bus's authentication reply");
	if (len >= 2 && memcmp(line, "OK", 2) == 0 && (len == 2 || line[2] == ' ')) {
		size_t hex = 0;
		for (size_t i = 3; i < len; i++)
			hex += (line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f') ||
			       (line[i] >= 'A' && line[i] <= 'F');
		if (len != 35 || hex != 32)
			return dbus_err_set(err, "malformed authentication reply '%s' (want OK and a "
						 "32-hex-digit guid)", printable(line, len));
		return 1;
	}
	if (len >= 8 && memcmp(line, "REJECTED", 8) == 0 && (len == 8 || line[8] == ' '))
		return dbus_err_set(err, "the bus rejected authentication (offered: %s)",
				    len > 9 ? printable(line + 9, len - 9) : "nothing");
	if (len >= 5 && memcmp(line, "ERROR", 5) == 0 && (len == 5 || line[5] == ' '))
		return dbus_err_set(err, "the bus refused authentication: %s", printable(line, len));
	return dbus_err_set(err, "unexpected authentication reply '%s'", printable(line, len));
}

/* The NUL byte, AUTH EXTERNAL with our uid, BEGIN and the first messages. */
static int send_auth(int fd, const uint8_t *first, size_t nfirst, int64_t deadline_ms,
		     struct dbus_err *err)
{
	char uid[24], head[96];
	size_t n;
	uint8_t *out;
	int r;

	snprintf(uid, sizeof uid, "%lu", (unsigned long)getuid());
	n = 0;
	head[n++] = 0;
	n += (size_t)snprintf(head + n, sizeof head - n, "AUTH EXTERNAL ");
	for (size_t i = 0; uid[i]; i++)
		n += (size_t)snprintf(head + n, sizeof head - n, "%02x", (unsigned char)uid[i]);
	n += (size_t)snprintf(head + n, sizeof head - n, "\r\nBEGIN\r\n");
	out = malloc(n + nfirst);
	if (!out)
		return dbus_err_set(err, "out of memory");
	memcpy(out, head, n);
	if (nfirst)
		memcpy(out + n, first, nfirst);
	r = dbus_write_all(fd, out, n + nfirst, deadline_ms, err);
	free(out);
	if (r == -2)
		dbus_err_set(err, "timed out sending authentication");
	return r;
}

int dbus_auth_reply(const char *buf, size_t len, size_t *used, struct dbus_err *err)
{
	const char *crlf = len >= 2 ? memmem(buf, len, "\r\n", 2) : NULL;

	if (!crlf) {
		if (len >= AUTH_LINE_MAX)
			return dbus_err_set(err, "authentication reply longer than %d bytes",
					    AUTH_LINE_MAX);
		return 0;
	}
	if (judge_line(buf, (size_t)(crlf - buf), err) < 0)
		return -1;
	*used = (size_t)(crlf - buf) + 2;
	return 1;
}

/* Read reply lines into buf (AUTH_LINE_MAX bytes) until the OK line. */
static int read_ok(int fd, char *buf, int64_t deadline_ms, uint8_t *extra, size_t extra_cap,
		   size_t *nextra, struct dbus_err *err)
{
	size_t len = 0;

	for (;;) {
		size_t used, rest;
		ssize_t n;
		int r = dbus_auth_reply(buf, len, &used, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			rest = len - used;
			if (rest > extra_cap)
				return dbus_err_set(err, "too much data after authentication");
			memcpy(extra, buf + used, rest);
			*nextra = rest;
			return 0;
		}
		n = read(fd, buf + len, AUTH_LINE_MAX - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			return dbus_err_set(err, "the bus closed the connection during authentication");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return dbus_err_set(err, "read from the bus: %s", strerror(errno));
		n = io_wait_fd(fd, POLLIN, deadline_ms);
		if (n == 0) {
			dbus_err_set(err, "timed out waiting for authentication");
			return -2;
		}
		if (n < 0)
			return dbus_err_set(err, "poll: %s", strerror(errno));
	}
}

int dbus_auth_external(int fd, const uint8_t *first, size_t nfirst, int64_t deadline_ms,
		       uint8_t *extra, size_t extra_cap, size_t *nextra, struct dbus_err *err)
{
	char *buf;
	int r;

	*nextra = 0;
	r = send_auth(fd, first, nfirst, deadline_ms, err);
	if (r < 0)
		return r;
	buf = malloc(AUTH_LINE_MAX);
	if (!buf)
		return dbus_err_set(err, "out of memory");
	r = read_ok(fd, buf, deadline_ms, extra, extra_cap, nextra, err);
	free(buf);
	return r;
}
