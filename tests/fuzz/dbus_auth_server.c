/* libFuzzer target: the SASL server lines bus-bridge answers
 * (dbus_auth_server_line in lib/dbus/auth.c).  The input is split at CRLF
 * into lines, as dbus_auth_serve does; every answer must be one short
 * CRLF-ended line of printable ASCII, and the exchange must end (BEGIN or a
 * refusal) within DBUS_AUTH_MAX_LINES lines. */
#include "lib/dbus/client.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *guid = "0123456789abcdef0123456789abcdef";
	const char *p = (const char *)data, *end = p + size;
	struct dbus_auth_server s = {0};
	struct dbus_err err;
	char reply[128];
	int lines = 0;

	while (p < end) {
		const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t len = crlf ? (size_t)(crlf - p) : (size_t)(end - p);
		size_t n;
		int r = dbus_auth_server_line(&s, guid, p, len, reply, sizeof reply, &err);
		if (++lines > DBUS_AUTH_MAX_LINES && r == 0)
			abort();
		if (r != 0)
			break;
		n = strlen(reply);
		if (n < 2 || reply[n - 2] != '\r' || reply[n - 1] != '\n')
			abort();
		for (size_t i = 0; i + 2 < n; i++)
			if (reply[i] < 0x20 || reply[i] > 0x7e)
				abort();
		if (!crlf)
			break;
		p = crlf + 2;
	}
	return 0;
}
