/* Fuzz target: bus-serve's output parser (dbus_text_parse_words).  The
 * first line of the input is the signature, the rest the command's output;
 * what parses must marshal into a message that parses back. */
#include "lib/dbus/dbus.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_msg m = {.type = DBUS_METHOD_RETURN, .serial = 2, .reply_serial = 1};
	struct dbus_err err;
	char *buf = malloc(size + 1), *text;
	uint8_t *wire = NULL;
	size_t len;

	memcpy(buf, data, size);
	buf[size] = 0;
	text = strchr(buf, '\n');
	if (text && strlen(buf) == size) {
		*text++ = 0;
		m.signature = buf;
		if (dbus_valid_signature(buf, strlen(buf)) &&
		    dbus_text_parse_words(a, buf, text, &m.body, &m.nbody, &err) == 0 &&
		    dbus_msg_build(&m, &wire, &len, &err) == 0) {
			struct dbus_msg back;
			if (dbus_msg_parse(&back, wire, len, &err) < 0)
				abort();
			dbus_msg_free(&back);
		}
	}
	free(wire);
	free(buf);
	dbus_arena_free(a);
	return 0;
}
