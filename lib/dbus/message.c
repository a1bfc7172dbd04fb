/* dbus message: the fixed header, the header fields and the body, parsed
 * with every rule of the specification (reference/dbus.md 2.3 and 5.3) and
 * built in either byte order; see dbus.h. */
#include "dbus.h"
#include "wire.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
	F_PATH = 1, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL,
	F_DESTINATION, F_SENDER, F_SIGNATURE, F_UNIX_FDS, F_KNOWN = F_UNIX_FDS
};
/* The type of each known header field, indexed by code. */
static const char field_type[] = "?osssussgu";
static const char *const field_name[] = {
	"", "PATH", "INTERFACE", "MEMBER", "ERROR_NAME", "REPLY_SERIAL",
	"DESTINATION", "SENDER", "SIGNATURE", "UNIX_FDS",
};

#define LOCAL_PATH "/org/freedesktop/DBus/Local"
#define LOCAL_IFACE "org.freedesktop.DBus.Local"

/* Read a u32 at off of the 16-byte prefix in its byte order. */
static uint32_t prefix_u32(const uint8_t *p, size_t off)
{
	if (p[0] == 'B')
		return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
		       (uint32_t)p[off + 2] << 8 | p[off + 3];
	return (uint32_t)p[off + 3] << 24 | (uint32_t)p[off + 2] << 16 |
	       (uint32_t)p[off + 1] << 8 | p[off];
}

/* Report a bad prefix: dbus_msg_length returns 0 for it. */
static size_t __attribute__((format(printf, 2, 3))) len_err(struct dbus_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return 0;
}

size_t dbus_msg_length(const uint8_t *p, struct dbus_err *err)
{
	uint64_t flen, total;

	if (p[0] != 'l' && p[0] != 'B')
		return len_err(err, "invalid byte order mark 0x%02x", p[0]);
	if (p[1] == 0)
		return len_err(err, "invalid message type 0");
	if (p[3] != 1)
		return len_err(err, "unsupported protocol version %u", p[3]);
	if (prefix_u32(p, 8) == 0)
		return len_err(err, "message serial is 0");
	flen = prefix_u32(p, 12);
	if (flen > DBUS_MAX_ARRAY)
		return len_err(err, "header fields of %u bytes exceed 64 MiB",
					    (unsigned)flen);
	total = 16 + ((flen + 7) & ~(uint64_t)7) + prefix_u32(p, 4);
	if (total > DBUS_MAX_MESSAGE)
		return len_err(err, "message of %llu bytes exceeds 128 MiB",
					    (unsigned long long)total);
	return (size_t)total;
}

/* Check a name-like header value with validator ok. */
static int check_name(const char *s, int (*ok)(const char *, size_t), const char *what,
		      struct dbus_err *err)
{
	if (s && !ok(s, strlen(s)))
		return dbus_err_set(err, "invalid %s '%.200s'", what, s);
	return 0;
}

/* The header rules shared by parse and build: field syntax, the reserved
 * Local path and interface, and the fields each message type requires. */
static int check_fields(const struct dbus_msg *m, struct dbus_err *err)
{
	if (check_name(m->path, dbus_valid_path, "object path", err) < 0 ||
	    check_name(m->interface, dbus_valid_interface, "interface name", err) < 0 ||
	    check_name(m->member, dbus_valid_member, "member name", err) < 0 ||
	    check_name(m->error_name, dbus_valid_interface, "error name", err) < 0 ||
	    check_name(m->destination, dbus_valid_bus_name, "destination", err) < 0 ||
	    check_name(m->sender, dbus_valid_bus_name, "sender", err) < 0)
		return -1;
	if (m->path && !strcmp(m->path, LOCAL_PATH))
		return dbus_err_set(err, "the path %s is reserved", LOCAL_PATH);
	if (m->interface && !strcmp(m->interface, LOCAL_IFACE))
		return dbus_err_set(err, "the interface %s is reserved", LOCAL_IFACE);
	switch (m->type) {
	case DBUS_METHOD_CALL:
		if (!m->path || !m->member)
			return dbus_err_set(err, "method call without %s", m->path ? "MEMBER" : "PATH");
		break;
	case DBUS_SIGNAL:
		if (!m->path || !m->member || !m->interface)
			return dbus_err_set(err, "signal without %s",
					    !m->path ? "PATH" : !m->member ? "MEMBER" : "INTERFACE");
		break;
	case DBUS_ERROR:
		if (!m->error_name)
			return dbus_err_set(err, "error without ERROR_NAME");
		/* fall through */
	case DBUS_METHOD_RETURN:
		if (!m->reply_serial)
			return dbus_err_set(err, "reply without REPLY_SERIAL");
		break;
	}
	return 0;
}

/* Store header field code's value v into m. */
static int store_field(struct dbus_msg *m, uint8_t code, const struct dbus_value *v,
		       struct dbus_err *err)
{
	switch (code) {
	case F_PATH: m->path = v->v.str; break;
	case F_INTERFACE: m->interface = v->v.str; break;
	case F_MEMBER: m->member = v->v.str; break;
	case F_ERROR_NAME: m->error_name = v->v.str; break;
	case F_REPLY_SERIAL:
		if (v->v.u == 0)
			return dbus_err_set(err, "REPLY_SERIAL is 0");
		m->reply_serial = (uint32_t)v->v.u;
		break;
	case F_DESTINATION: m->destination = v->v.str; break;
	case F_SENDER: m->sender = v->v.str; break;
	case F_SIGNATURE: m->signature = v->v.str; break;
	case F_UNIX_FDS: m->unix_fds = (uint32_t)v->v.u; break;
	}
	return 0;
}

/* Read one (yv) header field; unknown codes are read (so validated) and
 * skipped.  seen tracks known codes to refuse duplicates. */
static int read_field(struct dbus_rbuf *r, struct dbus_msg *m, unsigned *seen,
		      struct dbus_err *err)
{
	uint8_t code;
	const char *sig;
	uint32_t len, nt;
	struct dbus_type *t;
	struct dbus_value v;

	if (dbus_arena_used(r->a) > DBUS_PARSE_MEMORY_MAX)
		return dbus_err_set(err, "message too large to unpack in memory");
	if (dbus_r_pad(r, 8, err) < 0 || dbus_r_u8(r, &code, err) < 0 ||
	    dbus_r_sig(r, &sig, &len, err) < 0)
		return -1;
	if (code == 0)
		return dbus_err_set(err, "header field code 0");
	if (!dbus_valid_single_type(sig, len))
		return dbus_err_set(err, "header field %u has signature '%s', not one type",
				    code, sig);
	if (code <= F_KNOWN) {
		if (len != 1 || sig[0] != field_type[code])
			return dbus_err_set(err, "header field %s has type '%s', expected '%c'",
					    field_name[code], sig, field_type[code]);
		if (*seen & 1u << code)
			return dbus_err_set(err, "header field %s appears twice", field_name[code]);
		*seen |= 1u << code;
	}
	dbus_type_compile(r->a, sig, len, &t, &nt);
	memset(&v, 0, sizeof v);
	/* depth 3: inside the fields array, a field struct and its variant */
	if (dbus_r_value(r, t, &v, 3, err) < 0)
		return -1;
	return code <= F_KNOWN ? store_field(m, code, &v, err) : 0;
}

/* Read the body values per m->signature, which must use exactly r->len. */
static int read_body(struct dbus_rbuf *r, struct dbus_msg *m, struct dbus_err *err)
{
	struct dbus_type *types;
	uint32_t n;

	if (!m->signature) {
		m->signature = "";
		if (r->pos != r->len)
			return dbus_err_set(err, "body of %zu bytes without a SIGNATURE field",
					    r->len - r->pos);
		return 0;
	}
	dbus_type_compile(r->a, m->signature, strlen(m->signature), &types, &n);
	m->body = dbus_arena_alloc(r->a, (n ? n : 1) * sizeof *m->body);
	m->nbody = n;
	r->unix_fds = m->unix_fds;
	for (uint32_t i = 0; i < n; i++)
		if (dbus_r_value(r, &types[i], &m->body[i], 0, err) < 0)
			return -1;
	if (r->pos != r->len)
		return dbus_err_set(err, "%zu bytes of body data beyond signature '%s'",
				    r->len - r->pos, m->signature);
	return 0;
}

/* Parse the fixed header, the fields array and the body of buf[0..total). */
static int parse_all(struct dbus_msg *m, struct dbus_rbuf *r, struct dbus_err *err)
{
	uint32_t body_len, flen;
	unsigned seen = 0;
	size_t fend, total = r->len;

	m->endian = (char)r->b[0];
	m->type = r->b[1];
	m->flags = r->b[2];
	m->version = r->b[3];
	r->pos = 4;
	dbus_r_u32(r, &body_len, err);
	dbus_r_u32(r, &m->serial, err);
	dbus_r_u32(r, &flen, err);
	fend = 16 + (size_t)flen;
	r->len = fend;
	while (r->pos < fend)
		if (read_field(r, m, &seen, err) < 0)
			return -1;
	r->len = total;
	if (dbus_r_pad(r, 8, err) < 0)
		return -1;
	if (check_fields(m, err) < 0)
		return -1;
	return read_body(r, m, err);
}

int dbus_msg_parse(struct dbus_msg *m, const uint8_t *buf, size_t len, struct dbus_err *err)
{
	struct dbus_rbuf r;
	size_t total;

	memset(m, 0, sizeof *m);
	if (len < 16)
		return dbus_err_set(err, "message truncated: %zu bytes", len);
	total = dbus_msg_length(buf, err);
	if (!total)
		return -1;
	if (len != total)
		return dbus_err_set(err, "message of %zu bytes where the header says %zu", len, total);
	memset(&r, 0, sizeof r);
	r.b = buf;
	r.len = total;
	r.be = buf[0] == 'B';
	r.a = m->arena = dbus_arena_new();
	if (parse_all(m, &r, err) < 0) {
		dbus_msg_free(m);
		return -1;
	}
	return 0;
}

void dbus_msg_free(struct dbus_msg *m)
{
	dbus_arena_free(m->arena);
	memset(m, 0, sizeof *m);
}

/* Write a string-typed header field if present. */
static void put_str_field(struct dbus_wbuf *w, uint8_t code, const char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	dbus_w_pad(w, 8);
	dbus_w_u8(w, code);
	dbus_w_u8(w, 1);
	dbus_w_u8(w, (uint8_t)field_type[code]);
	dbus_w_u8(w, 0);
	if (code == F_SIGNATURE)
		dbus_w_u8(w, (uint8_t)n);
	else
		dbus_w_u32(w, (uint32_t)n);
	for (size_t i = 0; i <= n; i++)
		dbus_w_u8(w, (uint8_t)s[i]);
}

/* Write a u32 header field if non-zero. */
static void put_u32_field(struct dbus_wbuf *w, uint8_t code, uint32_t v)
{
	if (!v)
		return;
	dbus_w_pad(w, 8);
	dbus_w_u8(w, code);
	dbus_w_u8(w, 1);
	dbus_w_u8(w, 'u');
	dbus_w_u8(w, 0);
	dbus_w_u32(w, v);
}

/* Write the fixed header and the fields array of m. */
static void build_header(struct dbus_wbuf *w, const struct dbus_msg *m, const char *sig)
{
	dbus_w_u8(w, (uint8_t)(w->be ? 'B' : 'l'));
	dbus_w_u8(w, m->type);
	dbus_w_u8(w, m->flags);
	dbus_w_u8(w, 1);
	dbus_w_u32(w, 0); /* body length, patched later */
	dbus_w_u32(w, m->serial);
	dbus_w_u32(w, 0); /* fields length, patched below */
	put_str_field(w, F_PATH, m->path);
	put_str_field(w, F_INTERFACE, m->interface);
	put_str_field(w, F_MEMBER, m->member);
	put_str_field(w, F_ERROR_NAME, m->error_name);
	put_u32_field(w, F_REPLY_SERIAL, m->reply_serial);
	put_str_field(w, F_DESTINATION, m->destination);
	put_str_field(w, F_SENDER, m->sender);
	put_str_field(w, F_SIGNATURE, *sig ? sig : NULL);
	put_u32_field(w, F_UNIX_FDS, m->unix_fds);
	dbus_w_put_u32(w, 12, (uint32_t)(w->len - 16));
	dbus_w_pad(w, 8);
}

/* Check m's fixed header and signature before building. */
static int check_build(const struct dbus_msg *m, const char *sig, struct dbus_err *err)
{
	if (m->endian && m->endian != 'l' && m->endian != 'B')
		return dbus_err_set(err, "invalid byte order '%c'", m->endian);
	if (m->type == 0)
		return dbus_err_set(err, "invalid message type 0");
	if (m->version > 1)
		return dbus_err_set(err, "unsupported protocol version %u", m->version);
	if (m->serial == 0)
		return dbus_err_set(err, "message serial is 0");
	if (!dbus_valid_signature(sig, strlen(sig)))
		return dbus_err_set(err, "invalid signature '%.255s'", sig);
	return check_fields(m, err);
}

/* Write the body values of m per sig. */
static int build_body(struct dbus_wbuf *w, struct dbus_arena *a, const struct dbus_msg *m,
		      const char *sig, struct dbus_err *err)
{
	struct dbus_type *types;
	uint32_t n;

	dbus_type_compile(a, sig, strlen(sig), &types, &n);
	if (n != m->nbody || (n && !m->body))
		return dbus_err_set(err, "%u values for signature '%s' of %u types",
				    (unsigned)m->nbody, sig, (unsigned)n);
	for (uint32_t i = 0; i < n; i++)
		if (dbus_w_value(w, a, &types[i], &m->body[i], 0, err) < 0)
			return -1;
	return 0;
}

int dbus_msg_build(const struct dbus_msg *m, uint8_t **out, size_t *len, struct dbus_err *err)
{
	const char *sig = m->signature ? m->signature : "";
	struct dbus_wbuf w = {.be = m->endian == 'B'};
	struct dbus_arena *a;
	size_t body;
	int rc;

	if (check_build(m, sig, err) < 0)
		return -1;
	build_header(&w, m, sig);
	body = w.len;
	a = dbus_arena_new();
	rc = build_body(&w, a, m, sig, err);
	dbus_arena_free(a);
	if (rc == 0 && w.len > DBUS_MAX_MESSAGE)
		rc = dbus_err_set(err, "message of %zu bytes exceeds 128 MiB", w.len);
	if (rc < 0) {
		free(w.b);
		return -1;
	}
	dbus_w_put_u32(&w, 4, (uint32_t)(w.len - body));
	*out = w.b;
	*len = w.len;
	return 0;
}
