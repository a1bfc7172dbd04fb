/* Fuzz target: lib/json's string printer and the D-Bus --json printer built
 * on it.  Every output must be valid JSON by a strict RFC 8259 checker
 * written here (no extensions, UTF-8 text, no trailing bytes), and a string
 * printed by json_string must decode back to the exact input bytes (bytes
 * that are not UTF-8 come back from their \udcXX escapes).
 *
 * The first input byte picks the mode: even, the rest is one string for
 * json_string; odd, the rest is busctl argument text (first word the
 * signature, as in dbus_text) whose values go through dbus_print_json. */
#include "lib/dbus/dbus.h"
#include "lib/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 4096
#define MAX_DEPTH 512

/* A strict RFC 8259 reader over t[0..len): each function checks one
 * production at *p and advances past it, or returns -1.  A string may
 * append its decoded bytes to out (NULL: check only). */
struct reader {
	const unsigned char *t;
	size_t len, p;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->len && strchr(" \t\n\r", r->t[r->p]) && r->t[r->p])
		r->p++;
}

static int hex4(struct reader *r, unsigned *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++, r->p++) {
		unsigned char c = r->p < r->len ? r->t[r->p] : 0;
		int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (h < 0)
			return -1;
		*cp = *cp << 4 | (unsigned)h;
	}
	return 0;
}

/* Append code point cp as UTF-8, or a lone \udcXX escape (XX >= 0x80) as
 * the byte XX, the json.h convention. */
static int put_cp(unsigned char *out, size_t *n, unsigned cp)
{
	if (cp >= 0xdc80 && cp <= 0xdcff) {
		out[(*n)++] = (unsigned char)(cp & 0xff);
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		return -1; /* json_string never writes another surrogate */
	} else if (cp < 0x80) {
		out[(*n)++] = (unsigned char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (unsigned char)(0xc0 | cp >> 6);
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (unsigned char)(0xe0 | cp >> 12);
		out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	}
	return 0;
}

static int read_string(struct reader *r, unsigned char *out, size_t *nout)
{
	size_t n = 0;

	if (r->p >= r->len || r->t[r->p] != '"')
		return -1;
	r->p++;
	for (;;) {
		unsigned char c;
		size_t k;
		if (r->p >= r->len)
			return -1;
		c = r->t[r->p];
		if (c == '"') {
			r->p++;
			break;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			const char *esc = "\"\\/bfnrt", *raw = "\"\\/\b\f\n\r\t", *e;
			unsigned cp;
			r->p++;
			c = r->p < r->len ? r->t[r->p] : 0;
			if (c == 'u') {
				r->p++;
				if (hex4(r, &cp) < 0)
					return -1;
				if (out && put_cp(out, &n, cp) < 0)
					return -1;
				continue;
			}
			e = c ? strchr(esc, c) : NULL;
			if (!e)
				return -1;
			if (out)
				out[n++] = (unsigned char)raw[e - esc];
			r->p++;
			continue;
		}
		k = json_utf8_seq(r->t + r->p, r->len - r->p);
		if (k == 0)
			return -1; /* RFC 8259 section 8.1: JSON text is UTF-8 */
		if (out)
			memcpy(out + n, r->t + r->p, k);
		n += k;
		r->p += k;
	}
	if (nout)
		*nout = n;
	return 0;
}

static int is_digit(struct reader *r)
{
	return r->p < r->len && r->t[r->p] >= '0' && r->t[r->p] <= '9';
}

static int read_number(struct reader *r)
{
	if (r->p < r->len && r->t[r->p] == '-')
		r->p++;
	if (!is_digit(r))
		return -1;
	if (r->t[r->p] == '0')
		r->p++;
	else
		while (is_digit(r))
			r->p++;
	if (r->p < r->len && r->t[r->p] == '.') {
		r->p++;
		if (!is_digit(r))
			return -1;
		while (is_digit(r))
			r->p++;
	}
	if (r->p < r->len && (r->t[r->p] == 'e' || r->t[r->p] == 'E')) {
		r->p++;
		if (r->p < r->len && (r->t[r->p] == '+' || r->t[r->p] == '-'))
			r->p++;
		if (!is_digit(r))
			return -1;
		while (is_digit(r))
			r->p++;
	}
	return 0;
}

static int read_word(struct reader *r, const char *w)
{
	size_t n = strlen(w);
	if (r->len - r->p < n || memcmp(r->t + r->p, w, n))
		return -1;
	r->p += n;
	return 0;
}

static int read_value(struct reader *r, int depth);

/* An array ([...]) or object ({...}) after its opening bracket. */
static int read_members(struct reader *r, int depth, int object)
{
	char close = object ? '}' : ']';

	skip_ws(r);
	if (r->p < r->len && r->t[r->p] == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		skip_ws(r);
		if (object) {
			if (read_string(r, NULL, NULL) < 0)
				return -1;
			skip_ws(r);
			if (r->p >= r->len || r->t[r->p] != ':')
				return -1;
			r->p++;
		}
		if (read_value(r, depth + 1) < 0)
			return -1;
		if (r->p >= r->len)
			return -1;
		if (r->t[r->p] == close) {
			r->p++;
			return 0;
		}
		if (r->t[r->p] != ',')
			return -1;
		r->p++;
	}
}

/* ws value ws */
static int read_value(struct reader *r, int depth)
{
	int rc;

	if (depth > MAX_DEPTH)
		return -1;
	skip_ws(r);
	if (r->p >= r->len)
		return -1;
	switch (r->t[r->p]) {
	case '{': r->p++; rc = read_members(r, depth, 1); break;
	case '[': r->p++; rc = read_members(r, depth, 0); break;
	case '"': rc = read_string(r, NULL, NULL); break;
	case 't': rc = read_word(r, "true"); break;
	case 'f': rc = read_word(r, "false"); break;
	case 'n': rc = read_word(r, "null"); break;
	default: rc = read_number(r);
	}
	skip_ws(r);
	return rc;
}

/* Abort unless t[0..len) is exactly one JSON text. */
static void check_json(const char *t, size_t len)
{
	struct reader r = {(const unsigned char *)t, len, 0};

	if (read_value(&r, 0) < 0 || r.p != len) {
		fprintf(stderr, "invalid JSON at byte %zu: %.*s\n", r.p, (int)len, t);
		abort();
	}
}

static void string_round_trip(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t len = 0, nback = 0;
	unsigned char *back;
	FILE *f = open_memstream(&text, &len);
	struct reader r;

	json_string(f, (const char *)data, size);
	fclose(f);
	back = malloc(len + 1); /* decoding never makes text longer */
	check_json(text, len);
	r = (struct reader){(const unsigned char *)text, len, 0};
	if (read_string(&r, back, &nback) < 0 || r.p != len || nback != size ||
	    memcmp(back, data, size)) {
		fprintf(stderr, "json_string output does not decode to its input\n");
		abort();
	}
	free(back);
	free(text);
}

static void dbus_json(const uint8_t *data, size_t size)
{
	static char *words[MAX_WORDS];
	char *buf = malloc(size + 1), *text = NULL;
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *vals;
	struct dbus_err err;
	uint32_t n;
	size_t len = 0;
	int nw = 0;

	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *w = strtok(buf, " \t\n"); w && nw < MAX_WORDS; w = strtok(NULL, " \t\n"))
		words[nw++] = w;
	if (nw > 0 && dbus_text_parse(a, words[0], nw - 1, words + 1, &vals, &n, &err) == 0) {
		FILE *f = open_memstream(&text, &len);
		dbus_print_json(f, words[0], vals, n);
		fclose(f);
		check_json(text, len);
		free(text);
	}
	dbus_arena_free(a);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		dbus_json(data + 1, size - 1);
	else
		string_round_trip(data + 1, size - 1);
	return 0;
}
