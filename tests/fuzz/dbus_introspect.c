/* libFuzzer target: the introspection XML reader (lib/dbus/introspect.c)
 * on arbitrary bytes, as a hostile service could send them.  Whatever it
 * accepts must hold together: signatures valid, members within bounds. */
#include "lib/dbus/introspect.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbus_intro in;
	struct dbus_err err;

	if (dbus_intro_parse(&in, (const char *)data, size, &err) < 0)
		return 0;
	for (int i = 0; i < in.nmembers; i++) {
		const struct dbus_intro_member *m = &in.members[i];
		if (!dbus_valid_signature(m->in, strlen(m->in)) ||
		    !dbus_valid_signature(m->out, strlen(m->out)) || !m->name || !m->iface)
			abort();
	}
	for (int i = 0; i < in.nchildren; i++)
		if (!in.children[i][0])
			abort();
	dbus_intro_free(&in);
	return 0;
}
