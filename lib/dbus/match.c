/* match: the grammar of D-Bus match rules; see match.h. */
#include "match.h"
#include "dbus.h"
#include "lib/parse.h"

#include <stdio.h>
#include <string.h>

/* Append s to out[*len..size), keeping a NUL; -1 if it does not fit. */
static int put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n >= size)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = 0;
	return 0;
}

int dbus_match_build(char *out, size_t size, const char *const *kv, size_t npairs, const char *extra)
{
	size_t len = 0;
	int r = size ? 0 : -1;

	if (size)
		out[0] = 0;
	for (size_t i = 0; i < npairs && r == 0; i++) {
		const char *v = kv[2 * i + 1];
		if (i)
			r |= put(out, size, &len, ",", 1);
		r |= put(out, size, &len, kv[2 * i], strlen(kv[2 * i]));
		r |= strchr(v, '\'') ? -1 : 0;
		r |= put(out, size, &len, "='", 2);
		r |= put(out, size, &len, v, strlen(v));
		r |= put(out, size, &len, "'", 1);
	}
	if (r == 0 && extra && *extra) {
		if (npairs)
			r |= put(out, size, &len, ",", 1);
		r |= put(out, size, &len, extra, strlen(extra));
	}
	return r;
}

int dbus_match_key_ok(const char *k, size_t n)
{
	static const char *const keys[] = {"type", "sender", "interface", "member", "path",
		"path_namespace", "destination", "eavesdrop", "arg0namespace", NULL};
	size_t d;
	uint64_t num;

	for (int i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return 1;
	if (n < 4 || memcmp(k, "arg", 3) != 0)
		return 0;
	d = 3 + parse_digits(k + 3, n - 3 < 2 ? n - 3 : 2, &num); /* arg0 .. arg63 */
	if (d == 3 || num > 63 || (k[3] == '0' && d > 4))
		return 0;
	return d == n || (n - d == 4 && memcmp(k + d, "path", 4) == 0);
}

enum dbus_match_fault dbus_match_check(const char *rule)
{
	const char *p = rule;

	if (strlen(rule) > DBUS_MATCH_RULE_MAX)
		return DBUS_MATCH_TOO_LONG;
	while (*p) {
		const char *k = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p != '=' || !dbus_match_key_ok(k, (size_t)(p - k)))
			return DBUS_MATCH_SYNTAX;
		p++;
		if (*p == '\'') {
			p = strchr(p + 1, '\'');
			if (!p)
				return DBUS_MATCH_UNTERMINATED;
			p++;
		} else {
			while (*p && *p != ',')
				p++;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return DBUS_MATCH_SYNTAX;
	}
	return DBUS_MATCH_OK;
}

/* The pair at *p of a rule dbus_match_check accepted: the key k[0..kn),
 * the value v[0..vn) without its quotes; *p moves past the pair and its
 * comma. */
static void next_pair(const char **p, const char **k, size_t *kn, const char **v, size_t *vn)
{
	const char *q = strchr(*p, '='), *end;

	*k = *p;
	*kn = (size_t)(q - *p);
	q++;
	if (*q == '\'') {
		*v = q + 1;
		end = strchr(*v, '\'');
		q = end + 1;
	} else {
		*v = q;
		end = q + strcspn(q, ",");
		q = end;
	}
	*vn = (size_t)(end - *v);
	*p = *q == ',' ? q + 1 : q;
}

int dbus_match_value(const char *rule, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = rule; *p;) {
		const char *k, *v;
		size_t kn, vn;
		next_pair(&p, &k, &kn, &v, &vn);
		if (kn == klen && strncmp(k, key, klen) == 0) {
			snprintf(out, size, "%.*s", (int)vn, v);
			return 1;
		}
	}
	return 0;
}

/* argNpath: equal, or one a prefix of the other that ends in '/'. */
static int path_like(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == lb)
		return strcmp(a, b) == 0;
	if (la > lb)
		return path_like(b, a);
	return la > 0 && a[la - 1] == '/' && strncmp(a, b, la) == 0;
}

/* One key=value of the rule against m: 1 if it matches. */
static int match_pair(const char *k, size_t kn, const char *v, const struct dbus_msg *m,
		      int (*same_name)(const char *, const char *, void *), void *ctx)
{
	static const char *const types[] = {"", "method_call", "method_return", "error", "signal"};
#define KEY(s) (kn == sizeof s - 1 && memcmp(k, s, kn) == 0)
	if (KEY("type"))
		return m->type >= 1 && m->type <= 4 && strcmp(types[m->type], v) == 0;
	if (KEY("sender") || KEY("destination")) {
		const char *have = KEY("sender") ? m->sender : m->destination;
		return have && (same_name ? same_name(v, have, ctx) : strcmp(v, have) == 0);
	}
	if (KEY("interface"))
		return m->interface && strcmp(m->interface, v) == 0;
	if (KEY("member"))
		return m->member && strcmp(m->member, v) == 0;
	if (KEY("path"))
		return m->path && strcmp(m->path, v) == 0;
	if (KEY("path_namespace")) {
		size_t n = strlen(v);
		if (!m->path)
			return 0;
		if (strcmp(v, "/") == 0)
			return 1;
		return strncmp(m->path, v, n) == 0 && (m->path[n] == 0 || m->path[n] == '/');
	}
	if (KEY("eavesdrop"))
		return 1;
#undef KEY
	/* argN, argNpath, arg0namespace: N after "arg" */
	unsigned n = 0;
	size_t d = 3;
	while (d < kn && k[d] >= '0' && k[d] <= '9')
		n = n * 10 + (unsigned)(k[d++] - '0');
	if (n >= m->nbody || !strchr("so", m->body[n].type))
		return 0;
	const char *a = m->body[n].v.str;
	if (d == kn)
		return strcmp(a, v) == 0;
	if (kn - d == 4) /* path */
		return path_like(a, v);
	size_t vn = strlen(v); /* namespace */
	return m->body[n].type == 's' && strncmp(a, v, vn) == 0 && (a[vn] == 0 || a[vn] == '.');
}

int dbus_match_msg(const char *rule, const struct dbus_msg *m,
		   int (*same_name)(const char *want, const char *have, void *ctx), void *ctx)
{
	char v[DBUS_MATCH_RULE_MAX + 1];

	for (const char *p = rule; *p;) {
		const char *k, *val;
		size_t kn, vn;
		next_pair(&p, &k, &kn, &val, &vn);
		snprintf(v, sizeof v, "%.*s", (int)vn, val);
		if (!match_pair(k, kn, v, m, same_name, ctx))
			return 0;
	}
	return 1;
}
