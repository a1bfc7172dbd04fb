/* introspect: a small, strict, bounded reader of D-Bus introspection XML
 * (D-Bus specification, "Introspection Data Format").
 *
 * It knows the elements node, interface, method, signal, property, arg and
 * annotation, skips unknown elements (such as documentation), and refuses
 * what is not well-formed: unbalanced tags, bad attributes, unknown entities.
 * Limits: INTRO_MAX_XML bytes, INTRO_MAX_DEPTH nested elements, signatures
 * of at most 255 bytes.  Prefix: dbus_intro_. */
#ifndef IPCBOX_DBUS_INTROSPECT_H
#define IPCBOX_DBUS_INTROSPECT_H

#include "dbus.h"

#define INTRO_MAX_XML (16u * 1024 * 1024)
#define INTRO_MAX_DEPTH 64

enum { INTRO_METHOD = 'm', INTRO_SIGNAL = 's', INTRO_PROPERTY = 'p' };
enum {
	INTRO_WRITABLE = 1,
	INTRO_READABLE = 2,
	INTRO_DEPRECATED = 4,
	INTRO_NO_REPLY = 8,
	INTRO_EMITS_CHANGE = 16,
	INTRO_EMITS_INVALIDATION = 32,
	INTRO_CONST = 64,
};

/* A method (in: arguments, out: results), a signal (in: its arguments) or a
 * property (in: its type). */
struct dbus_intro_member {
	int kind;
	const char *name;
	char in[DBUS_MAX_SIGNATURE + 1];
	char out[DBUS_MAX_SIGNATURE + 1];
	unsigned flags;
	const char *iface; /* the interface it belongs to */
};

struct dbus_intro {
	char *text;                        /* decoded copy; names point into it */
	const char **ifaces;               /* interface names, in document order */
	int nifaces;
	struct dbus_intro_member *members; /* every member, grouped by interface */
	int nmembers;
	const char **children;             /* names of the direct child nodes */
	int nchildren;
};

/* Parse xml[0..len).  0, or -1 with *err; free with dbus_intro_free. */
int dbus_intro_parse(struct dbus_intro *in, const char *xml, size_t len, struct dbus_err *err);
void dbus_intro_free(struct dbus_intro *in);

/* The writer: the introspection document of an object with one method,
 * iface.method taking in_sig and returning out_sig (one <arg> per complete
 * type), and the standard Introspectable and Peer interfaces, as bus-serve
 * answers Introspect.  Names must be valid D-Bus names.  A malloc'd string,
 * or NULL if out of memory or a signature is not valid. */
char *dbus_intro_xml_method(const char *iface, const char *method, const char *in_sig,
			    const char *out_sig);

#endif
