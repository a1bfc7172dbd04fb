/* introspect: a strict, bounded reader of introspection XML.
 *
 * The scanner walks the document once: comments, processing instructions
 * and a DOCTYPE without an internal subset are skipped (no entity
 * definitions, so no entity expansion), tags must balance, attribute values
 * are quoted and may use the five predefined entities and character
 * references.  Names and decoded values are copied into one pool the size of
 * the input, so nothing grows with hostile input beyond a fixed factor. */
#include "introspect.h"
#include "wire.h"
#include "lib/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTRS 16
#define MAX_ITEMS 65536

enum { K_NODE, K_CHILD, K_IFACE, K_METHOD, K_SIGNAL, K_PROP, K_ARG, K_ANNOT, K_SKIP };

struct attr {
	const char *name, *value;
};

struct scan {
	const char *p, *end;
	char *pool;
	size_t used;
	int depth;
	const char *names[DBUS_INTRO_MAX_DEPTH];
	int kinds[DBUS_INTRO_MAX_DEPTH];
	int seen_root;
	struct dbus_intro *in;
	struct dbus_err *err;
};

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct scan *s)
{
	while (s->p < s->end && is_space(*s->p))
		s->p++;
}

/* Copy a name at s->p into the pool. */
static const char *take_name(struct scan *s)
{
	const char *start = s->p;
	char *out = s->pool + s->used;

	if (s->p >= s->end || !is_name_start(*s->p))
		return NULL;
	while (s->p < s->end && is_name_char(*s->p))
		s->p++;
	memcpy(out, start, (size_t)(s->p - start));
	out[s->p - start] = 0;
	s->used += (size_t)(s->p - start) + 1;
	return out;
}

/* Append the UTF-8 encoding of code point cp. */
static int put_utf8(char *out, size_t *n, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
	return 0;
}

/* Decode one entity at e[0..len) (after '&', up to ';'). */
static int entity(const char *e, size_t len, char *out, size_t *n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	unsigned long cp = 0;
	size_t i = 1;
	int base = 10;

	for (size_t k = 0; k < 5; k++)
		if (strlen(named[k].name) == len && memcmp(named[k].name, e, len) == 0) {
			out[(*n)++] = named[k].c;
			return 0;
		}
	if (len < 2 || e[0] != '#' || len > 9)
		return -1;
	if (e[1] == 'x') {
		base = 16;
		i = 2;
	}
	if (i >= len)
		return -1;
	for (; i < len; i++) {
		int d = parse_hexdigit((unsigned char)e[i]);
		if (d < 0 || d >= base)
			return -1;
		cp = cp * (unsigned long)base + (unsigned long)d;
	}
	return put_utf8(out, n, cp);
}

/* A quoted attribute value at s->p, decoded into the pool. */
static const char *take_value(struct scan *s)
{
	char quote, *out = s->pool + s->used;
	size_t n = 0;

	if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
		return NULL;
	quote = *s->p++;
	while (s->p < s->end && *s->p != quote) {
		if (*s->p == '<')
			return NULL;
		if (*s->p == '&') {
			const char *semi = memchr(s->p, ';', (size_t)(s->end - s->p));
			if (!semi || entity(s->p + 1, (size_t)(semi - s->p - 1), out, &n) < 0)
				return NULL;
			s->p = semi + 1;
			continue;
		}
		out[n++] = *s->p++;
	}
	if (s->p >= s->end)
		return NULL;
	s->p++;
	out[n] = 0;
	s->used += n + 1;
	return out;
}

static const char *attr_of(const struct attr *a, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(a[i].name, name) == 0)
			return a[i].value;
	return NULL;
}

/* Grow *arr (of elem-sized items, *n used) to hold one more. */
static int grow(void *arr, int n, size_t elem)
{
	void **p = arr;
	void *q;

	if (n >= MAX_ITEMS)
		return -1;
	if (n & (n - 1) && n > 8)
		return 0;
	q = realloc(*p, elem * (size_t)(n < 8 ? 8 : n * 2));
	if (!q)
		return -1;
	*p = q;
	return 0;
}

static int add_sig(char *sig, const char *type, struct scan *s)
{
	if (!type || !dbus_valid_single_type(type, strlen(type)))
		return dbus_err_set(s->err, "bad type '%s' in introspection data", type ? type : "");
	if (strlen(sig) + strlen(type) > DBUS_MAX_SIGNATURE)
		return dbus_err_set(s->err, "signature too long in introspection data");
	strcat(sig, type);
	return 0;
}

static void annotate(struct dbus_intro_member *m, const char *name, const char *value)
{
	if (!name || !value)
		return;
	if (strcmp(name, "org.freedesktop.DBus.Deprecated") == 0 && strcmp(value, "true") == 0)
		m->flags |= DBUS_INTRO_DEPRECATED;
	else if (strcmp(name, "org.freedesktop.DBus.Method.NoReply") == 0 && strcmp(value, "true") == 0)
		m->flags |= DBUS_INTRO_NO_REPLY;
	else if (strcmp(name, "org.freedesktop.DBus.Property.EmitsChangedSignal") == 0) {
		m->flags &= ~(unsigned)(DBUS_INTRO_EMITS_CHANGE | DBUS_INTRO_EMITS_INVALIDATION | DBUS_INTRO_CONST);
		if (strcmp(value, "true") == 0)
			m->flags |= DBUS_INTRO_EMITS_CHANGE;
		else if (strcmp(value, "invalidates") == 0)
			m->flags |= DBUS_INTRO_EMITS_INVALIDATION;
		else if (strcmp(value, "const") == 0)
			m->flags |= DBUS_INTRO_CONST;
	}
}

/* A new member of the current interface. */
static int new_member(struct scan *s, int kind, const struct attr *a, int na)
{
	struct dbus_intro *in = s->in;
	struct dbus_intro_member *m;
	const char *name = attr_of(a, na, "name");

	if (!name || !*name)
		return dbus_err_set(s->err, "a member without a name in introspection data");
	if (grow(&in->members, in->nmembers, sizeof *m) < 0)
		return dbus_err_set(s->err, "too many members in introspection data");
	m = &in->members[in->nmembers++];
	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->name = name;
	m->iface = in->ifaces[in->nifaces - 1];
	if (kind == DBUS_INTRO_PROPERTY) {
		const char *access = attr_of(a, na, "access");
		if (add_sig(m->in, attr_of(a, na, "type"), s) < 0)
			return -1;
		m->flags |= DBUS_INTRO_EMITS_CHANGE; /* the specification's default */
		if (!access || strcmp(access, "read") == 0)
			m->flags |= DBUS_INTRO_READABLE;
		else if (strcmp(access, "write") == 0)
			m->flags |= DBUS_INTRO_WRITABLE;
		else if (strcmp(access, "readwrite") == 0)
			m->flags |= DBUS_INTRO_READABLE | DBUS_INTRO_WRITABLE;
		else
			return dbus_err_set(s->err, "bad property access '%s'", access);
	}
	return 0;
}

/* What an element means in its parent: its kind, with side effects. */
static int open_element(struct scan *s, const char *name, const struct attr *a, int na)
{
	int parent = s->depth ? s->kinds[s->depth - 1] : -1;
	struct dbus_intro *in = s->in;
	const char *v;

	if (parent == -1) {
		if (strcmp(name, "node") != 0 || s->seen_root)
			return dbus_err_set(s->err, "introspection data must have one <node> root");
		s->seen_root = 1;
		return K_NODE;
	}
	if (parent == K_NODE && strcmp(name, "node") == 0) {
		v = attr_of(a, na, "name");
		if (!v || !*v)
			return dbus_err_set(s->err, "a child <node> without a name");
		if (grow(&in->children, in->nchildren, sizeof *in->children) < 0)
			return dbus_err_set(s->err, "too many child nodes");
		in->children[in->nchildren++] = v;
		return K_CHILD;
	}
	if (parent == K_NODE && strcmp(name, "interface") == 0) {
		v = attr_of(a, na, "name");
		if (!v || !*v)
			return dbus_err_set(s->err, "an <interface> without a name");
		if (grow(&in->ifaces, in->nifaces, sizeof *in->ifaces) < 0)
			return dbus_err_set(s->err, "too many interfaces");
		in->ifaces[in->nifaces++] = v;
		return K_IFACE;
	}
	if (parent == K_IFACE && (strcmp(name, "method") == 0 || strcmp(name, "signal") == 0 ||
				  strcmp(name, "property") == 0)) {
		int kind = name[0] == 'm' ? DBUS_INTRO_METHOD : name[0] == 's' ? DBUS_INTRO_SIGNAL : DBUS_INTRO_PROPERTY;
		if (new_member(s, kind, a, na) < 0)
			return -1;
		return kind == DBUS_INTRO_METHOD ? K_METHOD : kind == DBUS_INTRO_SIGNAL ? K_SIGNAL : K_PROP;
	}
	if ((parent == K_METHOD || parent == K_SIGNAL) && strcmp(name, "arg") == 0) {
		struct dbus_intro_member *m = &in->members[in->nmembers - 1];
		const char *dir = attr_of(a, na, "direction");
		int out = parent == K_METHOD && dir && strcmp(dir, "out") == 0;
		if (dir && strcmp(dir, "out") != 0 && strcmp(dir, "in") != 0)
			return dbus_err_set(s->err, "bad arg direction '%s'", dir);
		if (add_sig(out ? m->out : m->in, attr_of(a, na, "type"), s) < 0)
			return -1;
		return K_ARG;
	}
	if ((parent == K_METHOD || parent == K_SIGNAL || parent == K_PROP) &&
	    strcmp(name, "annotation") == 0) {
		annotate(&in->members[in->nmembers - 1], attr_of(a, na, "name"), attr_of(a, na, "value"));
		return K_ANNOT;
	}
	return K_SKIP;
}

/* A start tag after '<': name, attributes, '>' or '/>'. */
static int start_tag(struct scan *s)
{
	struct attr a[MAX_ATTRS];
	const char *name = take_name(s);
	int na = 0, kind, empty = 0;

	if (!name)
		return dbus_err_set(s->err, "malformed tag in introspection data");
	for (;;) {
		int spaced = s->p < s->end && is_space(*s->p);
		skip_space(s);
		if (s->p >= s->end)
			return dbus_err_set(s->err, "unterminated tag <%s>", name);
		if (*s->p == '>' || (*s->p == '/' && s->p + 1 < s->end && s->p[1] == '>'))
			break;
		if (!spaced || na == MAX_ATTRS)
			return dbus_err_set(s->err, "malformed attributes in <%s>", name);
		a[na].name = take_name(s);
		skip_space(s);
		if (!a[na].name || s->p >= s->end || *s->p++ != '=')
			return dbus_err_set(s->err, "malformed attribute in <%s>", name);
		skip_space(s);
		a[na].value = take_value(s);
		if (!a[na].value)
			return dbus_err_set(s->err, "malformed attribute value in <%s>", name);
		for (int i = 0; i < na; i++)
			if (strcmp(a[i].name, a[na].name) == 0)
				return dbus_err_set(s->err, "attribute '%s' twice in <%s>", a[na].name, name);
		na++;
	}
	empty = *s->p == '/';
	s->p += empty ? 2 : 1;
	if (s->depth == DBUS_INTRO_MAX_DEPTH)
		return dbus_err_set(s->err, "introspection data nested deeper than %d", DBUS_INTRO_MAX_DEPTH);
	kind = s->depth && s->kinds[s->depth - 1] == K_SKIP ? K_SKIP : open_element(s, name, a, na);
	if (kind < 0)
		return -1;
	if (!empty) {
		s->names[s->depth] = name;
		s->kinds[s->depth++] = kind;
	}
	return 0;
}

static int end_tag(struct scan *s)
{
	const char *name = take_name(s);

	skip_space(s);
	if (!name || s->p >= s->end || *s->p++ != '>')
		return dbus_err_set(s->err, "malformed end tag in introspection data");
	if (s->depth == 0 || strcmp(s->names[s->depth - 1], name) != 0)
		return dbus_err_set(s->err, "unexpected </%s> in introspection data", name);
	s->depth--;
	return 0;
}

/* Skip from s->p past the terminator, or fail.  memchr and memcmp, not
 * memmem: that would bring 1.2 KiB of musl's two-way search into the
 * static binary for needles of two or three bytes. */
static int skip_past(struct scan *s, const char *term)
{
	size_t n = strlen(term);
	const char *t = s->p;

	while ((t = memchr(t, term[0], (size_t)(s->end - t))) != NULL && (size_t)(s->end - t) >= n &&
	       memcmp(t, term, n) != 0)
		t++;
	if (!t || (size_t)(s->end - t) < n)
		return dbus_err_set(s->err, "unterminated markup in introspection data");
	s->p = t + n;
	return 0;
}

/* Markup after '<' that is not an element. 1 if handled, 0 if an element. */
static int special(struct scan *s)
{
	size_t left = (size_t)(s->end - s->p);

	if (left >= 3 && memcmp(s->p, "!--", 3) == 0)
		return skip_past(s, "-->") < 0 ? -1 : 1;
	if (left >= 8 && memcmp(s->p, "![CDATA[", 8) == 0)
		return skip_past(s, "]]>") < 0 ? -1 : 1;
	if (left >= 1 && *s->p == '?')
		return skip_past(s, "?>") < 0 ? -1 : 1;
	if (left >= 1 && *s->p == '!') {
		const char *gt = memchr(s->p, '>', left);
		if (!gt || memchr(s->p, '[', (size_t)(gt - s->p)))
			return dbus_err_set(s->err, "DOCTYPE with an internal subset is not accepted");
		s->p = gt + 1;
		return 1;
	}
	return 0;
}

static int scan_all(struct scan *s)
{
	while (s->p < s->end) {
		int r;
		if (*s->p != '<') {
			if (!s->depth && !is_space(*s->p))
				return dbus_err_set(s->err, "text outside the root of introspection data");
			s->p++;
			continue;
		}
		s->p++;
		r = special(s);
		if (r < 0)
			return -1;
		if (r)
			continue;
		if (s->p < s->end && *s->p == '/') {
			s->p++;
			r = end_tag(s);
		} else {
			if (s->seen_root && !s->depth)
				return dbus_err_set(s->err, "content after the root of introspection data");
			r = start_tag(s);
		}
		if (r < 0)
			return -1;
	}
	if (!s->seen_root || s->depth)
		return dbus_err_set(s->err, "introspection data ends inside an element");
	return 0;
}

int dbus_intro_parse(struct dbus_intro *in, const char *xml, size_t len, struct dbus_err *err)
{
	struct scan s = {.p = xml, .end = xml + len, .in = in, .err = err};

	memset(in, 0, sizeof *in);
	if (len > DBUS_INTRO_MAX_XML)
		return dbus_err_set(err, "introspection data larger than %u bytes", DBUS_INTRO_MAX_XML);
	if (memchr(xml, 0, len))
		return dbus_err_set(err, "NUL byte in introspection data");
	s.pool = malloc(len + 1);
	if (!s.pool)
		return dbus_err_set(err, "out of memory");
	in->text = s.pool;
	if (scan_all(&s) < 0) {
		dbus_intro_free(in);
		return -1;
	}
	return 0;
}

void dbus_intro_free(struct dbus_intro *in)
{
	free(in->text);
	free(in->ifaces);
	free(in->members);
	free(in->children);
	memset(in, 0, sizeof *in);
}

/* ---- the writer --------------------------------------------------------- */

/* One <arg> per complete type of sig; -1 if sig is not valid. */
static int write_args(FILE *f, const char *sig, const char *dir)
{
	size_t len = strlen(sig);

	while (len > 0) {
		size_t n = dbus_sig_next(sig, len);
		if (n == 0)
			return -1;
		fprintf(f, "   <arg type=\"%.*s\" direction=\"%s\"/>\n", (int)n, sig, dir);
		sig += n;
		len -= n;
	}
	return 0;
}

char *dbus_intro_xml_method(const char *iface, const char *method, const char *in_sig,
			    const char *out_sig)
{
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	int bad;

	if (!f)
		return NULL;
	fputs("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
	      "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n", f);
	fprintf(f, " <interface name=\"%s\">\n  <method name=\"%s\">\n", iface, method);
	bad = write_args(f, in_sig, "in") < 0 || write_args(f, out_sig, "out") < 0;
	fputs("  </method>\n </interface>\n"
	      " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
	      "  <method name=\"Introspect\">\n"
	      "   <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n  </method>\n </interface>\n"
	      " <interface name=\"org.freedesktop.DBus.Peer\">\n  <method name=\"Ping\"/>\n"
	      "  <method name=\"GetMachineId\">\n"
	      "   <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n  </method>\n"
	      " </interface>\n</node>\n", f);
	if (fclose(f) != 0 || bad) {
		free(xml);
		return NULL;
	}
	return xml;
}

/* The length of the name of ancestor's child on the way to path ("a" for
 * "/" and "/a/b"), or 0 if ancestor is not a proper ancestor of path. */
static size_t child_toward(const char *ancestor, const char *path)
{
	size_t n = strcmp(ancestor, "/") == 0 ? 0 : strlen(ancestor);

	if (strcmp(ancestor, path) == 0 || strncmp(ancestor, path, n) != 0 || path[n] != '/')
		return 0;
	return strcspn(path + n + 1, "/");
}

char *dbus_intro_xml_ancestor(const char *ancestor, const char *path)
{
	size_t n = child_toward(ancestor, path);
	const char *child = path + (strcmp(ancestor, "/") == 0 ? 1 : strlen(ancestor) + 1);
	char *xml;

	if (n == 0) {
		errno = ENOENT;
		return NULL;
	}
	/* a valid path's elements are [A-Za-z0-9_]: nothing to escape */
	if (asprintf(&xml, "<node>\n <node name=\"%.*s\"/>\n</node>\n", (int)n, child) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return xml;
}
