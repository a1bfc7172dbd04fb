/* libFuzzer target: the bus address parser (lib/dbus/address.c) on
 * arbitrary text.  Accepted addresses must be connectable forms with
 * bounded, NUL-free socket names, and unixexec commands whose words all
 * lie inside their buffer. */
#include "lib/dbus/client.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dbus_addr addrs[DBUS_MAX_ADDRS];
	struct dbus_err err;
	char *text = malloc(size + 1);
	int n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	n = dbus_address_parse(text, addrs, DBUS_MAX_ADDRS, &err);
	for (int i = 0; i < n; i++) {
		const struct dbus_addr *a = &addrs[i];
		if (a->kind == DBUS_ADDR_EXEC) {
			/* path and nargs arguments, each NUL-terminated, inside exec */
			size_t used = 0;
			for (int k = 0; k <= a->nargs; k++) {
				const char *end = memchr(a->exec + used, 0, sizeof a->exec - used);
				if (!end)
					abort();
				used = (size_t)(end - a->exec) + 1;
			}
			if (a->nargs < 1 || a->nargs > DBUS_EXEC_MAX_ARGS || !a->exec[0])
				abort();
			continue;
		}
		if (a->kind != DBUS_ADDR_TCP &&
		    (a->pathlen == 0 || a->pathlen >= sizeof a->path || memchr(a->path, 0, a->pathlen)))
			abort();
		if (a->kind == DBUS_ADDR_TCP && (!a->host[0] || !a->port[0]))
			abort();
	}
	free(text);
	return 0;
}
