/* introspect: a small, strict, bounded reader of D-Bus introspection XML
 * (D-Bus specification, "Introspection Data Format").
 *
 * It knows the elements node, interface, method, signal, property, arg and
 * annotation, skips unknown elements (such as documentation), and refuses
 * what is not well-formed: unbalanced tags, bad attributes, unknown entities.
 * Limits: DBUS_INTRO_MAX_XML bytes, DBUS_INTRO_MAX_DEPTH nested elements, signatures
 * of at most 255 bytes.  It also writes the documents bus-serve serves: its
 * object's (dbus_intro_xml_method) and its ancestors' (dbus_intro_xml_ancestor).
 * Prefix: dbus_intro_. */
#ifndef IPCBOX_DBUS_INTROSPECT_H
#define IPCBOX_DBUS_INTROSPECT_H

#include "dbus.h"

#define DBUS_INTRO_MAX_XML (16u * 1024 * 1024)
#define DBUS_INTRO_MAX_DEPTH 64

enum { DBUS_INTRO_METHOD = 'm', DBUS_INTRO_SIGNAL = 's', DBUS_INTRO_PROPERTY = 'p' };
enum {
	DBUS_INTRO_WRITABLE = 1,
	DBUS_INTRO_READABLE = 2,
	DBUS_INTRO_DEPRECATED = 4,
	DBUS_INTRO_NO_REPLY = 8,
	DBUS_INTRO_EMITS_CHANGE = 16,
	DBUS_INTRO_EMITS_INVALIDATION = 32,
	DBUS_INTRO_CONST = 64,
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

/* The document of an object above path, the one object a service has (as
 * bus-serve answers Introspect there): a node whose one child is the next
 * element on the way down, so that bus-tree and busctl tree find path.
 * For ancestor "/" and path "/a/b": "<node>\n <node name=\"a\"/>\n</node>\n".
 * Both must be valid object paths.  A malloc'd string; NULL with errno
 * ENOENT if ancestor is not a proper ancestor of path, ENOMEM if out of
 * memory. */
char *dbus_intro_xml_ancestor(const char *ancestor, const char *path);

#endif
