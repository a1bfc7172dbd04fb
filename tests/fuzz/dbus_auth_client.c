/* libFuzzer target: the client's SASL state machine (dbus_auth_client_line
 * in lib/dbus/auth.c), fed the lines a hostile server sends.  The first
 * byte picks the form (bit 0: pipelined, bit 1: without identity); the
 * rest is split at CRLF into lines.  The opening is at most three lines,
 * every answer empty or one, each CRLF-ended printable ASCII within
 * DBUS_AUTH_OPEN_MAX; a
 * pipelined client answers nothing and only OK ends it well (or, without
 * identity and with no challenge before OK, the one line after it, owed to
 * the queued DATA); a step-by-step OK answers BEGIN; OK only for "OK " and 32 hex digits; a refusal always
 * says why; the exchange ends within DBUS_AUTH_MAX_LINES lines, and no line
 * is taken after the end. */
#include "lib/dbus/client.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* out: empty, or CRLF-ended lines of printable ASCII (at most `most`). */
static void check_out(const char *out, int most)
{
	size_t n = strlen(out);
	int lines = 0;

	if (n == 0)
		return;
	if (n < 2 || n >= DBUS_AUTH_OPEN_MAX || out[n - 2] != '\r' || out[n - 1] != '\n')
		abort();
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '\r' && out[i + 1] == '\n') {
			lines++;
			i++;
		} else if (out[i] < 0x20 || out[i] > 0x7e) {
			abort();
		}
	}
	if (lines > most)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbus_auth_client s;
	struct dbus_err err;
	char open[DBUS_AUTH_OPEN_MAX], out[DBUS_AUTH_OPEN_MAX];
	const char *p, *end;
	int pipelined, no_identity, ok_before = 0, lines = 0, r = 0;
	size_t n;

	if (size < 1)
		return 0;
	pipelined = data[0] & 1;
	no_identity = (data[0] >> 1) & 1;
	n = dbus_auth_client_open(&s, pipelined, no_identity, open, sizeof open);
	if (n < 2 || open[0] != 0)
		abort();
	check_out(open + 1, 3); /* AUTH, DATA, BEGIN */
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t len = crlf ? (size_t)(crlf - p) : (size_t)(end - p);
		err.msg[0] = 0;
		r = dbus_auth_client_line(&s, p, len, out, sizeof out, &err);
		lines++;
		check_out(out, 1);
		if (pipelined && out[0])
			abort();
		if (r == DBUS_AUTH_OK && ok_before) {
			/* the line owed to the queued DATA after an unchallenged OK */
			if (!pipelined || !no_identity || strlen(s.guid) != 32)
				abort();
		} else if (r == DBUS_AUTH_OK) {
			if (len != 35 || memcmp(p, "OK ", 3) != 0 || strlen(s.guid) != 32)
				abort();
			for (size_t i = 3; i < 35; i++)
				if (!is_hex(p[i]))
					abort();
			if (!pipelined && strcmp(out, "BEGIN\r\n") != 0)
				abort();
		} else if (r == DBUS_AUTH_RETRY) {
			if (!pipelined)
				abort();
		} else if (r == -1) {
			if (!err.msg[0])
				abort();
		} else if (r != 0) {
			abort();
		}
		if (r != 0)
			break;
		ok_before = len == 35 && memcmp(p, "OK ", 3) == 0;
		if (ok_before && !(pipelined && no_identity))
			abort(); /* a good OK ends it, but for the line owed */
		if (lines > DBUS_AUTH_MAX_LINES)
			abort();
		if (!crlf)
			break;
		p = crlf + 2;
	}
	/* The end is final: one more line is refused. */
	if (r != 0 && dbus_auth_client_line(&s, "OK", 2, out, sizeof out, &err) != -1)
		abort();
	return 0;
}
