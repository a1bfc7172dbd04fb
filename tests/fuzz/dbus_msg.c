/* Fuzz target: dbus_msg_length and dbus_msg_parse on arbitrary bytes; a
 * message that parses is rebuilt in both byte orders, parsed again (it must
 * be valid, with the same header and values) and rebuilt byte-identical. */
#include "lib/dbus/dbus.h"

#include <stdlib.h>
#include <string.h>

/* Deep comparison of two parsed values (doubles by bits). */
static int value_eq(const struct dbus_value *a, const struct dbus_value *b)
{
	if (a->type != b->type || strcmp(a->sig, b->sig) || a->n != b->n)
		return 0;
	switch (a->type) {
	case 's': case 'o': case 'g': return !memcmp(a->v.str, b->v.str, a->n + 1);
	case 'a': case '(': case '{': case 'v':
		for (uint32_t i = 0; i < a->n; i++)
			if (!value_eq(&a->v.items[i], &b->v.items[i]))
				return 0;
		return 1;
	default: return a->v.u == b->v.u;
	}
}

/* Two optional header strings are equal. */
static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The header fields and body of a and b are the same. */
static int msg_eq(const struct dbus_msg *a, const struct dbus_msg *b)
{
	if (a->type != b->type || a->flags != b->flags || a->serial != b->serial ||
	    a->reply_serial != b->reply_serial || a->unix_fds != b->unix_fds ||
	    !str_eq(a->path, b->path) || !str_eq(a->interface, b->interface) ||
	    !str_eq(a->member, b->member) || !str_eq(a->error_name, b->error_name) ||
	    !str_eq(a->destination, b->destination) || !str_eq(a->sender, b->sender) ||
	    !str_eq(a->signature, b->signature) || a->nbody != b->nbody)
		return 0;
	for (uint32_t i = 0; i < a->nbody; i++)
		if (!value_eq(&a->body[i], &b->body[i]))
			return 0;
	return 1;
}

/* Rebuild m in byte order e; the result must parse to the same message and
 * rebuild to the same bytes. */
static void rebuild(struct dbus_msg *m, char e)
{
	struct dbus_err err;
	struct dbus_msg p;
	uint8_t *out, *out2;
	size_t len, len2;

	m->endian = e;
	if (dbus_msg_build(m, &out, &len, &err) < 0) {
		fprintf(stderr, "valid message does not rebuild: %s\n", err.msg);
		abort();
	}
	if (dbus_msg_length(out, &err) != len || dbus_msg_parse(&p, out, len, &err) < 0) {
		fprintf(stderr, "rebuilt message does not parse: %s\n", err.msg);
		abort();
	}
	if (!msg_eq(m, &p) || p.endian != e)
		abort();
	if (dbus_msg_build(&p, &out2, &len2, &err) < 0 || len2 != len || memcmp(out, out2, len))
		abort();
	free(out2);
	free(out);
	dbus_msg_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbus_err err;
	struct dbus_msg m;

	if (size >= 16) {
		size_t total = dbus_msg_length(data, &err);
		if (total && total < 16)
			abort();
	}
	if (dbus_msg_parse(&m, data, size, &err) < 0)
		return 0;
	rebuild(&m, 'l');
	rebuild(&m, 'B');
	dbus_msg_free(&m);
	return 0;
}
