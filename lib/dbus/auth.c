/* dbus auth: SASL (D-Bus specification, "Authentication Protocol"), the
 * client side and the little a stdio bridge serves.
 *
 * The client sends one NUL byte (the credentials byte), then
 * "AUTH EXTERNAL <hex>" where <hex> is the decimal uid written in ASCII and
 * hex-encoded (uid 1000 -> "31303030"), as libdbus does on sockets; or,
 * where our uid means nothing to the far end (unixexec: through ssh),
 * "AUTH EXTERNAL" and an empty "DATA" as sd-bus always does, and the server
 * takes the uid it sees.  The server answers "DATA" to an AUTH without an
 * identity, then one line: "OK <32 hex digits: the server's guid>",
 * "REJECTED <mechanisms>" or "ERROR [text]".  "BEGIN" ends the exchange.
 *
 * Pipelined first: the NUL byte, AUTH, BEGIN and the first messages go out
 * in one write, before any answer (sd-bus does the same), so a bus that
 * says OK costs one round trip for authentication, Hello and a first call
 * together.  The OK line is still read and checked.  Any other answer
 * (REJECTED, ERROR, a DATA challenge to an AUTH that carried its
 * response), or a hang-up before one, voids everything queued behind the
 * AUTH line: by the spec's server state machine the server, back in
 * WaitingForAuth, hangs up at BEGIN, and would have read the messages as
 * SASL lines.  The caller then connects again and the exchange goes one
 * step at a time: AUTH, wait, answer a DATA challenge once, on REJECTED try
 * the next mechanism the server lists (EXTERNAL, then ANONYMOUS), on ERROR
 * CANCEL; only after OK go BEGIN and the messages.
 *
 * Every line is bounded (DBUS_AUTH_LINE_MAX) and must be printable ASCII,
 * and an exchange ends within DBUS_AUTH_MAX_LINES replies. */
#include "client.h"
#include "lib/io.h"
#include "lib/parse.h"

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

/* Read more of a line-based exchange into buf[*len..AUTH_LINE_MAX): 0,
 * -1 with *err (and *hung_up set, if not NULL, when the other side closed),
 * DBUS_TIMED_OUT on timeout.  who names the other side in messages. */
static int read_more(int fd, char *buf, size_t *len, int64_t deadline_ms, const char *who,
		     int *hung_up, struct dbus_err *err)
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
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			if (hung_up)
				*hung_up = 1;
			return dbus_err_set(err, "%s closed the connection during authentication", who);
		}
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

/* ---- the client's side, one server line at a time ------------------------ */

enum { C_WAIT_OK, C_WAIT_DATA, C_WAIT_REJECT, C_WAIT_LAST, C_DONE };
enum { MECH_EXTERNAL, MECH_ANONYMOUS, MECH_COUNT };
static const char *const mech_names[MECH_COUNT] = {"EXTERNAL", "ANONYMOUS"};

/* Mechanism m's response, hex-encoded, into out (at least 64 bytes):
 * EXTERNAL's is our uid in decimal ASCII (empty without identity: the
 * server takes the uid it sees), ANONYMOUS's a trace string (RFC 4505). */
static void mech_response(const struct dbus_auth_client *s, int m, char *out)
{
	char text[24] = "";
	size_t n = 0;

	if (m == MECH_ANONYMOUS)
		snprintf(text, sizeof text, "ipcbox");
	else if (!s->no_identity)
		snprintf(text, sizeof text, "%lu", (unsigned long)getuid());
	out[0] = 0;
	for (size_t i = 0; text[i]; i++)
		n += (size_t)snprintf(out + n, 64 - n, "%02x", (unsigned char)text[i]);
}

/* "AUTH <mechanism m> [response]\r\n" into out; the state it leads to. */
static void auth_line(struct dbus_auth_client *s, int m, char *out, size_t cap)
{
	char resp[64];

	mech_response(s, m, resp);
	snprintf(out, cap, "AUTH %s%s%s\r\n", mech_names[m], resp[0] ? " " : "", resp);
	s->mech = m;
	s->tried |= 1u << m;
	s->challenges = 0;
	s->state = resp[0] ? C_WAIT_OK : C_WAIT_DATA;
}

size_t dbus_auth_client_open(struct dbus_auth_client *s, int pipelined, int no_identity, char *out,
			     size_t cap)
{
	size_t n;

	memset(s, 0, sizeof *s);
	s->pipelined = pipelined;
	s->no_identity = no_identity;
	if (cap < DBUS_AUTH_OPEN_MAX)
		return 0;
	out[0] = 0; /* the credentials byte */
	auth_line(s, MECH_EXTERNAL, out + 1, cap - 1);
	n = 1 + strlen(out + 1);
	if (pipelined) /* the empty DATA answers the challenge to come */
		n += (size_t)snprintf(out + n, cap - n, "%sBEGIN\r\n",
				      s->state == C_WAIT_DATA ? "DATA\r\n" : "");
	return n;
}

/* Does a REJECTED line's list list[0..len) name mechanism name?  No list
 * at all leaves every mechanism open. */
static int offers(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len == 0)
		return 1;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && list[j] != ' ')
			j++;
		if (j - i == n && memcmp(list + i, name, n) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* REJECTED [list]: AUTH with the next mechanism both sides speak, in our
 * order, that has not been tried; -1 with *err when none is left.  The
 * first list is the one named in messages (the spec lets a client ignore
 * later ones). */
static int next_mechanism(struct dbus_auth_client *s, const char *line, size_t len, char *out,
			  size_t cap, struct dbus_err *err)
{
	const char *list = len > 9 ? line + 9 : "";
	size_t n = len > 9 ? len - 9 : 0;

	if (!s->offered[0])
		snprintf(s->offered, sizeof s->offered, "%s", n ? printable(list, n) : "nothing");
	for (int m = 0; m < MECH_COUNT; m++)
		if (!(s->tried & (1u << m)) && offers(list, n, mech_names[m])) {
			auth_line(s, m, out, cap);
			return 0;
		}
	s->state = C_DONE;
	return dbus_err_set(err, "the bus rejected authentication (offered: %s)", s->offered);
}

/* The good OK: its guid kept, BEGIN to send unless it went already. */
static int take_ok(struct dbus_auth_client *s, const char *line, size_t len, char *out, size_t cap,
		   struct dbus_err *err)
{
	size_t hex = 0;

	for (size_t i = 3; i < len; i++)
		hex += parse_hexdigit((unsigned char)line[i]) >= 0;
	if (len != 35 || hex != 32) {
		s->state = C_DONE;
		return dbus_err_set(err, "malformed authentication reply '%s' (want OK and a "
					 "32-hex-digit guid)", printable(line, len));
	}
	memcpy(s->guid, line + 3, 32);
	s->guid[32] = 0;
	if (s->pipelined && s->state == C_WAIT_DATA) {
		/* OK with no challenge first: the DATA we queued for one is
		 * still owed its one-line answer (an ERROR, by the server state
		 * machine), and that line comes before the message stream. */
		s->state = C_WAIT_LAST;
		return 0;
	}
	s->state = C_DONE;
	if (!s->pipelined)
		snprintf(out, cap, "BEGIN\r\n");
	return DBUS_AUTH_OK;
}

/* A reply the pipelined opening cannot go on from.  The server is back in
 * its WaitingForAuth (or WaitingForData) state and reads what we queued in
 * that state: BEGIN there makes it hang up (the spec's server state
 * machine), and the messages behind it would be read as SASL lines.  No
 * byte of the queue keeps its meaning, so the exchange starts over on a
 * fresh connection, one step at a time. */
static int refused_pipelined(struct dbus_auth_client *s, const char *line, size_t len,
			     struct dbus_err *err)
{
	s->state = C_DONE;
	dbus_err_set(err, "the bus refused the pipelined authentication: '%s'", printable(line, len));
	return DBUS_AUTH_RETRY;
}

int dbus_auth_client_line(struct dbus_auth_client *s, const char *line, size_t len, char *out,
			  size_t cap, struct dbus_err *err)
{
	int data = is_command(line, len, "DATA");

	out[0] = 0;
	if (s->state == C_DONE)
		return dbus_err_set(err, "authentication has ended");
	if (++s->lines > DBUS_AUTH_MAX_LINES) {
		s->state = C_DONE;
		return dbus_err_set(err, "more than %d authentication replies", DBUS_AUTH_MAX_LINES);
	}
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e) {
			s->state = C_DONE;
			return dbus_err_set(err, "garbage in the bus's authentication reply");
		}
	if (s->state == C_WAIT_LAST) { /* the answer to our DATA, passed over */
		s->state = C_DONE;
		return DBUS_AUTH_OK;
	}
	if (is_command(line, len, "OK") && s->state != C_WAIT_REJECT)
		return take_ok(s, line, len, out, cap, err);
	if (s->pipelined) {
		/* The challenge to an AUTH without identity: our queued DATA
		 * answers it. */
		if (data && s->state == C_WAIT_DATA) {
			s->state = C_WAIT_OK;
			return 0;
		}
		if (data || is_command(line, len, "REJECTED") || is_command(line, len, "ERROR"))
			return refused_pipelined(s, line, len, err);
	} else if (data && s->state != C_WAIT_REJECT) {
		/* A challenge: the mechanism's response once (a server that
		 * wants it in DATA rather than in AUTH); a second, CANCEL. */
		char resp[64];
		if (s->challenges++ == 0) {
			mech_response(s, s->mech, resp);
			snprintf(out, cap, "DATA%s%s\r\n", resp[0] ? " " : "", resp);
			s->state = C_WAIT_OK;
		} else {
			snprintf(out, cap, "CANCEL\r\n");
			s->state = C_WAIT_REJECT;
		}
		return 0;
	} else if (is_command(line, len, "REJECTED")) {
		return next_mechanism(s, line, len, out, cap, err);
	} else if (is_command(line, len, "ERROR") && s->state != C_WAIT_REJECT) {
		snprintf(out, cap, "CANCEL\r\n"); /* the server answers REJECTED */
		s->state = C_WAIT_REJECT;
		return 0;
	} else if (is_command(line, len, "ERROR")) {
		s->state = C_DONE;
		return dbus_err_set(err, "the bus refused authentication: %s", printable(line, len));
	}
	s->state = C_DONE;
	return dbus_err_set(err, "unexpected authentication reply '%s'", printable(line, len));
}

/* Send head[0..nhead) and tail[0..ntail) in one write: 0, -1 with *err
 * (*hung_up set if the server had closed), DBUS_TIMED_OUT. */
static int send_two(int fd, const char *head, size_t nhead, const uint8_t *tail, size_t ntail,
		    int64_t deadline_ms, int *hung_up, struct dbus_err *err)
{
	const void *buf = head;
	uint8_t *out = NULL;
	size_t len = nhead;
	int r;

	if (ntail) { /* the opening and the messages: together, for one write */
		if (!(out = malloc(nhead + ntail)))
			return dbus_err_set(err, "out of memory");
		memcpy(out, head, nhead);
		memcpy(out + nhead, tail, ntail);
		buf = out;
		len += ntail;
	}
	r = io_send_all(fd, buf, len, deadline_ms);
	free(out);
	if (r < 0 && errno == ETIMEDOUT) {
		dbus_err_set(err, "timed out sending authentication");
		return DBUS_TIMED_OUT;
	}
	if (r < 0) {
		*hung_up = errno == EPIPE || errno == ECONNRESET;
		return dbus_err_set(err, "write to the bus: %s", io_strerror(errno));
	}
	return 0;
}

/* Lines from the server into buf (AUTH_LINE_MAX bytes), each through the
 * state machine, its answers sent, until OK (0) or the end. */
static int converse(int fd, struct dbus_auth_client *s, struct dbus_auth *a, char *buf,
		    int64_t deadline_ms, int *hung_up, struct dbus_err *err)
{
	size_t len = 0;
	char out[DBUS_AUTH_OPEN_MAX];

	for (;;) {
		char *crlf = find_crlf(buf, len);
		size_t used;
		int r;
		if (!crlf) {
			if (len >= AUTH_LINE_MAX)
				return dbus_err_set(err, "authentication reply longer than %d bytes",
						    AUTH_LINE_MAX);
			r = read_more(fd, buf, &len, deadline_ms, "the bus", hung_up, err);
			if (r < 0)
				return r;
			continue;
		}
		used = (size_t)(crlf - buf) + 2;
		r = dbus_auth_client_line(s, buf, used - 2, out, sizeof out, err);
		if (r < 0 || r == DBUS_AUTH_RETRY)
			return r;
		memmove(buf, buf + used, len - used);
		len -= used;
		if (r == DBUS_AUTH_OK) {
			if (len > a->extra_cap)
				return dbus_err_set(err, "too much data after authentication");
			memcpy(a->extra, buf, len);
			a->nextra = len;
			memcpy(a->guid, s->guid, sizeof a->guid);
			if (!out[0])
				return 0;
			/* One at a time until here: BEGIN and the first messages. */
			return send_two(fd, out, strlen(out), a->first, a->nfirst, deadline_ms,
					hung_up, err);
		}
		if (out[0] && (r = send_two(fd, out, strlen(out), NULL, 0, deadline_ms, hung_up,
					    err)) != 0)
			return r;
	}
}

int dbus_auth_external(int fd, struct dbus_auth *a, int64_t deadline_ms, struct dbus_err *err)
{
	struct dbus_auth_client s;
	char open[DBUS_AUTH_OPEN_MAX];
	int pipelined = !a->stepwise, hung_up = 0;
	size_t n = dbus_auth_client_open(&s, pipelined, a->no_identity, open, sizeof open);
	char *buf;
	int r;

	a->nextra = 0;
	a->guid[0] = 0;
	/* Pipelined: the opening, BEGIN and the first messages in one write. */
	r = send_two(fd, open, n, pipelined ? a->first : NULL, pipelined ? a->nfirst : 0,
		     deadline_ms, &hung_up, err);
	if (r == 0) {
		buf = malloc(AUTH_LINE_MAX);
		r = buf ? converse(fd, &s, a, buf, deadline_ms, &hung_up, err)
			: dbus_err_set(err, "out of memory");
		free(buf);
	}
	/* A server that hung up on the pipelined form without a word (it may
	 * have read BEGIN before it wrote its REJECTED out, as dbus-daemon can
	 * when all arrives in one read): step by step, if the caller may
	 * connect again. */
	if (r == -1 && hung_up && pipelined && s.state != C_DONE && a->retry_on_hangup)
		r = DBUS_AUTH_RETRY;
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
		if ((r = read_more(in, buf, &len, deadline_ms, "the client", NULL, err)) < 0)
			break;
	if (r == 1) {
		memcpy(extra, buf, len);
		*nextra = len;
		r = 0;
	}
	free(buf);
	return r;
}
