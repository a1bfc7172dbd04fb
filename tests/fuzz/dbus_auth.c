/* Fuzz target: the SASL reader, lib/dbus/auth.c's judgement of the bytes a
 * server sends back during authentication (dbus_auth_reply).  On the whole
 * input and on every prefix that ends a read of up to 64 bytes: the answer
 * is "need more" only without a CRLF and within the line limit, "OK" only
 * for exactly "OK " and 32 hex digits, and *used never passes the input.
 * A prefix that already holds the first line gets the whole input's answer. */
#include "lib/dbus/client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Check one answer for buf[0..len); returns it. */
static int judge(const char *buf, size_t len, size_t *used)
{
	struct dbus_err err;
	const char *crlf = len >= 2 ? memmem(buf, len, "\r\n", 2) : NULL;
	int r;

	*used = (size_t)-1;
	err.msg[0] = 0;
	r = dbus_auth_reply(buf, len, used, &err);
	if (r == 0 && (crlf || len >= 16384))
		abort(); /* a complete line or an overlong one must be judged */
	if (r < 0 && !err.msg[0])
		abort(); /* an error always says why */
	if (r == 1) {
		if (!crlf || *used != (size_t)(crlf - buf) + 2 || *used > len || *used != 37)
			abort();
		if (memcmp(buf, "OK ", 3) != 0)
			abort();
		for (size_t i = 3; i < 35; i++)
			if (!is_hex(buf[i]))
				abort();
	}
	if (r < -1 || r > 1)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t used, used_k;
	int whole = judge(buf, size, &used);

	/* Feed it as a server would, in reads of 1..64 bytes chosen by the
	 * data: the first answer that is not "need more" is the final one. */
	for (size_t k = 0, step = 1; k < size; k += step) {
		int r;
		step = 1 + (data[k] & 63);
		r = judge(buf, k, &used_k);
		if (r == 0)
			continue;
		if (r != whole || (r == 1 && used_k != used))
			abort();
		break;
	}
	return 0;
}
