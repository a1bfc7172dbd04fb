/* dbus marshal: compiled signatures, and the writer and reader of values in
 * either byte order with the specification's alignment and padding; see
 * wire.h.  The reader trusts nothing: every length, padding byte, boolean,
 * string, signature and nesting level is checked. */
#include "dbus.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* ---- compiled signatures --------------------------------------------- */

/* A static NUL-terminated one-character signature for a basic type or v. */
static const char *basic_sig(char c)
{
	static const char sigs[] = "y\0b\0n\0q\0i\0u\0x\0t\0d\0h\0s\0o\0g\0v";
	const char *p = c == 'v' || dbus_is_basic(c) ? memchr(sigs, c, sizeof sigs) : NULL;
	return p;
}

/* Fill t from sig[0..len), exactly one valid complete type.  Recursion is
 * bounded by the signature's nesting (at most 96 levels in 255 bytes). */
static void type_fill(struct dbus_arena *a, struct dbus_type *t, const char *sig, size_t len)
{
	t->code = sig[0];
	t->align = (uint8_t)dbus_type_align(sig[0]);
	t->fixed = (uint8_t)dbus_type_fixed(sig[0]);
	t->sig = len == 1 ? basic_sig(sig[0]) : dbus_arena_strndup(a, sig, len);
	if (sig[0] == 'a') {
		t->n = 1;
		t->kids = dbus_arena_alloc(a, sizeof *t->kids);
		type_fill(a, t->kids, sig + 1, len - 1);
	} else if (sig[0] == '(' || sig[0] == '{') {
		size_t pos;
		uint32_t i;
		for (pos = 1, t->n = 0; pos < len - 1; t->n++)
			pos += dbus_sig_next(sig + pos, len - 1 - pos);
		t->kids = dbus_arena_alloc(a, t->n * sizeof *t->kids);
		for (pos = 1, i = 0; i < t->n; i++) {
			size_t k = dbus_sig_next(sig + pos, len - 1 - pos);
			type_fill(a, &t->kids[i], sig + pos, k);
			pos += k;
		}
	}
}

int dbus_type_compile(struct dbus_arena *a, const char *sig, size_t len,
		      struct dbus_type **types, uint32_t *n)
{
	size_t pos;
	uint32_t i, count = 0;

	if (len == 1 && basic_sig(sig[0])) {
		/* One basic type or a variant: most header fields, most
		 * variants and many bodies; nothing to scan. */
		*types = dbus_arena_alloc(a, sizeof **types);
		type_fill(a, *types, sig, 1);
		*n = 1;
		return 0;
	}
	if (!dbus_valid_signature(sig, len))
		return -1;
	for (pos = 0; pos < len; count++)
		pos += dbus_sig_next(sig + pos, len - pos);
	*types = dbus_arena_alloc(a, (count ? count : 1) * sizeof **types);
	for (pos = 0, i = 0; i < count; i++) {
		size_t k = dbus_sig_next(sig + pos, len - pos);
		type_fill(a, &(*types)[i], sig + pos, k);
		pos += k;
	}
	*n = count;
	return 0;
}

/* ---- writer ------------------------------------------------------------ */

/* Make room for n more bytes. */
static void w_reserve(struct dbus_wbuf *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;

	if (w->cap - w->len >= n)
		return;
	while (cap - w->len < n)
		cap *= 2;
	w->b = realloc(w->b, cap);
	if (!w->b) {
		fputs("ipcbox: out of memory\n", stderr);
		abort();
	}
	w->cap = cap;
}

void dbus_w_pad(struct dbus_wbuf *w, unsigned align)
{
	size_t np = (w->len + align - 1) & ~(size_t)(align - 1);

	if (np == w->len)
		return;
	w_reserve(w, np - w->len);
	memset(w->b + w->len, 0, np - w->len);
	w->len = np;
}

/* Append v as size bytes in the buffer's byte order (aligned to size). */
static void w_uint(struct dbus_wbuf *w, uint64_t v, unsigned size)
{
	dbus_w_pad(w, size);
	w_reserve(w, size);
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = w->be ? 8 * (size - 1 - i) : 8 * i;
		w->b[w->len + i] = (uint8_t)(v >> shift);
	}
	w->len += size;
}

void dbus_w_u8(struct dbus_wbuf *w, uint8_t v) { w_uint(w, v, 1); }
void dbus_w_u32(struct dbus_wbuf *w, uint32_t v) { w_uint(w, v, 4); }

void dbus_w_put_u32(struct dbus_wbuf *w, size_t off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		w->b[off + i] = (uint8_t)(v >> (w->be ? 8 * (3 - i) : 8 * i));
}

/* Append raw bytes. */
static void w_bytes(struct dbus_wbuf *w, const void *p, size_t n)
{
	w_reserve(w, n);
	if (n)
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

/* Write a string-like value (s o g) after checking it is valid. */
static int w_string(struct dbus_wbuf *w, char code, const struct dbus_value *v,
		    struct dbus_err *err)
{
	const char *s = v->v.str ? v->v.str : "";
	size_t n = v->v.str ? v->n : 0;

	if (!dbus_valid_utf8(s, n))
		return dbus_err_set(err, "string is not valid UTF-8 or contains NUL");
	if (code == 'o' && !dbus_valid_path(s, n))
		return dbus_err_set(err, "invalid object path '%.*s'", (int)(n > 80 ? 80 : n), s);
	if (code == 'g') {
		if (!dbus_valid_signature(s, n))
			return dbus_err_set(err, "invalid signature '%.*s'", (int)(n > 80 ? 80 : n), s);
		dbus_w_u8(w, (uint8_t)n);
	} else {
		dbus_w_u32(w, (uint32_t)n);
	}
	w_bytes(w, s, n);
	dbus_w_u8(w, 0);
	return 0;
}

/* Write a fixed-size basic value after a range check of the stored number. */
static int w_fixed(struct dbus_wbuf *w, char code, const struct dbus_value *v,
		   struct dbus_err *err)
{
	uint64_t u = v->v.u;
	int64_t i = v->v.i;
	int ok;

	switch (code) {
	case 'y': ok = u <= UINT8_MAX; break;
	case 'b': ok = u <= 1; break;
	case 'q': ok = u <= UINT16_MAX; break;
	case 'u': case 'h': ok = u <= UINT32_MAX; break;
	case 'n': ok = i >= INT16_MIN && i <= INT16_MAX; break;
	case 'i': ok = i >= INT32_MIN && i <= INT32_MAX; break;
	default: ok = 1; /* x t d use all 64 bits */
	}
	if (!ok)
		return dbus_err_set(err, "value out of range for type '%c'", code);
	w_uint(w, u, dbus_type_fixed(code));
	return 0;
}

/* Write an array: length placeholder, element padding (even when empty),
 * elements, then the real length. */
static int w_array(struct dbus_wbuf *w, struct dbus_arena *a, const struct dbus_type *t,
		   const struct dbus_value *v, unsigned depth, struct dbus_err *err)
{
	size_t off, start;

	if (v->n && !v->v.items)
		return dbus_err_set(err, "array '%s' without its elements", t->sig);
	dbus_w_u32(w, 0);
	off = w->len - 4;
	dbus_w_pad(w, t->kids->align);
	start = w->len;
	for (uint32_t k = 0; k < v->n; k++)
		if (dbus_w_value(w, a, t->kids, &v->v.items[k], depth, err) < 0)
			return -1;
	if (w->len - start > DBUS_MAX_ARRAY)
		return dbus_err_set(err, "array of %zu bytes exceeds the 64 MiB limit", w->len - start);
	dbus_w_put_u32(w, off, (uint32_t)(w->len - start));
	return 0;
}

/* Write a variant: the contained value's signature, then the value. */
static int w_variant(struct dbus_wbuf *w, struct dbus_arena *a, const struct dbus_value *v,
		     unsigned depth, struct dbus_err *err)
{
	const struct dbus_value *c = v->v.items;
	struct dbus_type *ct;
	uint32_t nt;
	size_t len;

	if (v->n != 1 || !c || !c->sig)
		return dbus_err_set(err, "variant without a value");
	len = strlen(c->sig);
	if (!dbus_valid_single_type(c->sig, len) ||
	    dbus_type_compile(a, c->sig, len, &ct, &nt) < 0)
		return dbus_err_set(err, "invalid variant signature '%.80s'", c->sig);
	dbus_w_u8(w, (uint8_t)len);
	w_bytes(w, c->sig, len + 1);
	return dbus_w_value(w, a, ct, c, depth, err);
}

int dbus_w_value(struct dbus_wbuf *w, struct dbus_arena *a, const struct dbus_type *t,
		 const struct dbus_value *v, unsigned depth, struct dbus_err *err)
{
	if (v->type != t->code)
		return dbus_err_set(err, "value of type '%c' where the signature has '%c'",
				    v->type ? v->type : '?', t->code);
	if (t->fixed)
		return w_fixed(w, t->code, v, err);
	if (t->code == 's' || t->code == 'o' || t->code == 'g')
		return w_string(w, t->code, v, err);
	if (++depth > DBUS_MAX_TOTAL_DEPTH)
		return dbus_err_set(err, "values nested more than %d deep", DBUS_MAX_TOTAL_DEPTH);
	if (t->code == 'a')
		return w_array(w, a, t, v, depth, err);
	if (t->code == 'v')
		return w_variant(w, a, v, depth, err);
	/* struct or dict entry */
	if (v->n != t->n || !v->v.items)
		return dbus_err_set(err, "%s '%s' with %u fields", t->code == '(' ? "struct" : "dict entry",
				    t->sig, (unsigned)v->n);
	dbus_w_pad(w, 8);
	for (uint32_t k = 0; k < t->n; k++)
		if (dbus_w_value(w, a, &t->kids[k], &v->v.items[k], depth, err) < 0)
			return -1;
	return 0;
}

/* ---- reader ------------------------------------------------------------ */

int dbus_r_pad(struct dbus_rbuf *r, unsigned align, struct dbus_err *err)
{
	size_t np = (r->pos + align - 1) & ~(size_t)(align - 1);

	if (np > r->len)
		return dbus_err_set(err, "data ends early at offset %zu", r->pos);
	for (; r->pos < np; r->pos++)
		if (r->b[r->pos])
			return dbus_err_set(err, "non-zero padding byte at offset %zu", r->pos);
	return 0;
}

/* Read an aligned unsigned integer of size bytes in the message's order. */
static int r_uint(struct dbus_rbuf *r, unsigned size, uint64_t *v, struct dbus_err *err)
{
	uint64_t x = 0;

	if (dbus_r_pad(r, size, err) < 0)
		return -1;
	if (r->len - r->pos < size)
		return dbus_err_set(err, "data ends early at offset %zu", r->pos);
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = r->be ? 8 * (size - 1 - i) : 8 * i;
		x |= (uint64_t)r->b[r->pos + i] << shift;
	}
	r->pos += size;
	*v = x;
	return 0;
}

int dbus_r_u8(struct dbus_rbuf *r, uint8_t *v, struct dbus_err *err)
{
	uint64_t x = 0;
	if (r_uint(r, 1, &x, err) < 0)
		return -1;
	*v = (uint8_t)x;
	return 0;
}

int dbus_r_u32(struct dbus_rbuf *r, uint32_t *v, struct dbus_err *err)
{
	uint64_t x = 0;
	if (r_uint(r, 4, &x, err) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* Read n string bytes and the NUL after them; check for interior NUL and
 * UTF-8; copy into the arena. */
static int r_chars(struct dbus_rbuf *r, uint32_t n, char **out, struct dbus_err *err)
{
	const char *s = (const char *)r->b + r->pos;

	if (r->len - r->pos < (uint64_t)n + 1)
		return dbus_err_set(err, "string of %u bytes runs past the end at offset %zu",
				    (unsigned)n, r->pos);
	if (s[n] != 0)
		return dbus_err_set(err, "string not NUL-terminated at offset %zu", r->pos);
	if (!dbus_valid_utf8(s, n)) /* which refuses NUL too: say which it was */
		return dbus_err_set(err, memchr(s, 0, n) ? "string contains a NUL byte at offset %zu"
						      : "string is not valid UTF-8 at offset %zu",
				    r->pos);
	*out = dbus_arena_strndup(r->a, s, n);
	r->pos += (size_t)n + 1;
	return 0;
}

int dbus_r_sig(struct dbus_rbuf *r, const char **sig, uint32_t *len, struct dbus_err *err)
{
	uint8_t n;
	char *s;

	if (dbus_r_u8(r, &n, err) < 0 || r_chars(r, n, &s, err) < 0)
		return -1;
	if (!dbus_valid_signature(s, n))
		return dbus_err_set(err, "invalid signature '%s'", s);
	*sig = s;
	*len = n;
	return 0;
}

/* Read a string or object path. */
static int r_string(struct dbus_rbuf *r, char code, struct dbus_value *v, struct dbus_err *err)
{
	uint32_t n;

	if (dbus_r_u32(r, &n, err) < 0 || r_chars(r, n, &v->v.str, err) < 0)
		return -1;
	if (code == 'o' && !dbus_valid_path(v->v.str, n))
		return dbus_err_set(err, "invalid object path '%.80s'", v->v.str);
	v->n = n;
	return 0;
}

/* Read a fixed-size basic value; booleans must be 0 or 1 and fd indexes
 * below the message's UNIX_FDS. */
static int r_fixed(struct dbus_rbuf *r, char code, struct dbus_value *v, struct dbus_err *err)
{
	uint64_t x = 0;

	if (r_uint(r, dbus_type_fixed(code), &x, err) < 0)
		return -1;
	switch (code) {
	case 'b':
		if (x > 1)
			return dbus_err_set(err, "boolean value %u is not 0 or 1", (unsigned)x);
		break;
	case 'h':
		if (x >= r->unix_fds)
			return dbus_err_set(err, "file descriptor index %u but the message carries %u",
					    (unsigned)x, (unsigned)r->unix_fds);
		break;
	case 'n': v->v.i = (int16_t)(uint16_t)x; return 0;
	case 'i': v->v.i = (int32_t)(uint32_t)x; return 0;
	case 'x': v->v.i = (int64_t)x; return 0;
	}
	v->v.u = x;
	return 0;
}

/* Room for one more element in an array value being read; grows by
 * doubling inside the arena (waste bounded by the final size). */
static struct dbus_value *r_slot(struct dbus_rbuf *r, struct dbus_value *v, uint32_t *cap)
{
	if (v->n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 4;
		struct dbus_value *items = dbus_arena_alloc(r->a, (size_t)ncap * sizeof *items);
		if (v->n)
			memcpy(items, v->v.items, (size_t)v->n * sizeof *items);
		v->v.items = items;
		*cap = ncap;
	}
	return &v->v.items[v->n++];
}

/* Read an array: length, element padding (present even when empty), then
 * elements that must end exactly at the declared length. */
static int r_array(struct dbus_rbuf *r, const struct dbus_type *t, struct dbus_value *v,
		   unsigned depth, struct dbus_err *err)
{
	const struct dbus_type *et = t->kids;
	uint32_t n, cap = 0;
	size_t end, outer = r->len;

	if (dbus_r_u32(r, &n, err) < 0)
		return -1;
	if (n > DBUS_MAX_ARRAY)
		return dbus_err_set(err, "array length %u exceeds the 64 MiB limit", (unsigned)n);
	if (dbus_r_pad(r, et->align, err) < 0)
		return -1;
	if (n > r->len - r->pos)
		return dbus_err_set(err, "array of %u bytes runs past the end at offset %zu",
				    (unsigned)n, r->pos);
	if (et->fixed && n % et->fixed)
		return dbus_err_set(err, "array length %u is not a multiple of the %u-byte element",
				    (unsigned)n, (unsigned)et->fixed);
	if (et->fixed) {
		cap = n / et->fixed;
		if (dbus_arena_used(r->a) + (size_t)cap * sizeof *v->v.items > DBUS_PARSE_MEMORY_MAX)
			return dbus_err_set(err, "message too large to unpack in memory");
		v->v.items = dbus_arena_alloc(r->a, (size_t)(cap ? cap : 1) * sizeof *v->v.items);
	}
	end = r->pos + n;
	r->len = end;
	while (r->pos < end) {
		if (dbus_arena_used(r->a) > DBUS_PARSE_MEMORY_MAX)
			return dbus_err_set(err, "message too large to unpack in memory");
		if (dbus_r_value(r, et, r_slot(r, v, &cap), depth, err) < 0) {
			r->len = outer;
			return -1;
		}
	}
	r->len = outer;
	return 0;
}

/* Read a variant: a single complete type, then a value of it. */
static int r_variant(struct dbus_rbuf *r, struct dbus_value *v, unsigned depth,
		     struct dbus_err *err)
{
	const char *sig;
	uint32_t len, nt;
	struct dbus_type *ct;

	if (dbus_arena_used(r->a) > DBUS_PARSE_MEMORY_MAX)
		return dbus_err_set(err, "message too large to unpack in memory");
	if (dbus_r_sig(r, &sig, &len, err) < 0)
		return -1;
	if (!dbus_valid_single_type(sig, len))
		return dbus_err_set(err, "variant signature '%s' is not one complete type", sig);
	dbus_type_compile(r->a, sig, len, &ct, &nt);
	v->n = 1;
	v->v.items = dbus_arena_alloc(r->a, sizeof *v->v.items);
	return dbus_r_value(r, ct, v->v.items, depth, err);
}

int dbus_r_value(struct dbus_rbuf *r, const struct dbus_type *t, struct dbus_value *v,
		 unsigned depth, struct dbus_err *err)
{
	v->type = t->code;
	v->sig = t->sig;
	if (t->fixed)
		return r_fixed(r, t->code, v, err);
	if (t->code == 's' || t->code == 'o')
		return r_string(r, t->code, v, err);
	if (t->code == 'g') {
		const char *s;
		if (dbus_r_sig(r, &s, &v->n, err) < 0)
			return -1;
		v->v.str = (char *)s;
		return 0;
	}
	if (++depth > DBUS_MAX_TOTAL_DEPTH)
		return dbus_err_set(err, "values nested more than %d deep", DBUS_MAX_TOTAL_DEPTH);
	if (t->code == 'a')
		return r_array(r, t, v, depth, err);
	if (t->code == 'v')
		return r_variant(r, v, depth, err);
	if (dbus_r_pad(r, 8, err) < 0)
		return -1;
	v->n = t->n;
	v->v.items = dbus_arena_alloc(r->a, t->n * sizeof *v->v.items);
	for (uint32_t k = 0; k < t->n; k++)
		if (dbus_r_value(r, &t->kids[k], &v->v.items[k], depth, err) < 0)
			return -1;
	return 0;
}
