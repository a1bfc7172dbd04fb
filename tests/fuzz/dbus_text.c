/* Fuzz target: busctl argument text.  The input is split into words at
 * spaces, tabs and newlines; the first word is the signature.  If the rest
 * parses, both printers run, and the terse output is split back into words
 * (undoing the quoting and C escapes) and must parse to the same values. */
#include "lib/dbus/dbus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 4096

/* Deep comparison of two values (NaN equals NaN). */
static int value_eq(const struct dbus_value *a, const struct dbus_value *b)
{
	if (a->type != b->type || strcmp(a->sig, b->sig) || a->n != b->n)
		return 0;
	switch (a->type) {
	case 's': case 'o': case 'g': return !memcmp(a->v.str, b->v.str, a->n + 1);
	case 'd': return (isnan(a->v.d) && isnan(b->v.d)) || !memcmp(&a->v.d, &b->v.d, sizeof a->v.d);
	case 'a': case '(': case '{': case 'v':
		for (uint32_t i = 0; i < a->n; i++)
			if (!value_eq(&a->v.items[i], &b->v.items[i]))
				return 0;
		return 1;
	default: return a->v.u == b->v.u;
	}
}

/* Split s in place at blanks into at most max words. */
static int split(char *s, char **words, int max)
{
	int n = 0;
	for (char *w = strtok(s, " \t\n"); w && n < max; w = strtok(NULL, " \t\n"))
		words[n++] = w;
	return n;
}

/* Undo one terse token in place: "quoted" with C escapes, or bare.  *p
 * points at the token; returns the word, advancing *p past it. */
static char *unquote(char **p)
{
	char *s = *p, *out, *w;

	if (*s != '"') {
		w = s;
		s += strcspn(s, " ");
		if (*s)
			*s++ = 0;
		*p = s;
		return w;
	}
	w = out = ++s;
	while (*s && *s != '"') {
		if (*s != '\\') {
			*out++ = *s++;
			continue;
		}
		s++;
		const char *k = strchr("abfnrtv\\\"'", *s);
		if (*s >= '0' && *s <= '7') {
			*out++ = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
			s += 3;
		} else if (k && *s) {
			*out++ = "\a\b\f\n\r\t\v\\\"'"[k - "abfnrtv\\\"'"];
			s++;
		} else {
			abort(); /* the printer wrote an escape it cannot read back */
		}
	}
	if (*s != '"')
		abort();
	*out = 0;
	s++;
	if (*s == ' ')
		s++;
	*p = s;
	return w;
}

/* Print vals tersely, tokenize the output and parse it back as sig. */
static void reparse(const char *sig, const struct dbus_value *vals, uint32_t n)
{
	static char *words[MAX_WORDS * 2];
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *back;
	struct dbus_err err;
	uint32_t nback;
	char *text = NULL, *p;
	size_t len = 0;
	int nw = 0;
	FILE *f = open_memstream(&text, &len);

	dbus_print_terse(f, sig, vals, n);
	fclose(f);
	p = text + strlen(sig);
	if (*p == ' ')
		p++;
	while (*p && nw < MAX_WORDS * 2)
		words[nw++] = unquote(&p);
	if (dbus_text_parse(a, sig, nw, words, &back, &nback, &err) < 0) {
		fprintf(stderr, "terse output does not parse back: %s\n", err.msg);
		abort();
	}
	for (uint32_t i = 0; i < n; i++)
		if (!value_eq(&vals[i], &back[i]))
			abort();
	free(text);
	dbus_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *words[MAX_WORDS];
	struct dbus_arena *a;
	struct dbus_value *vals;
	struct dbus_err err;
	uint32_t n;
	char *buf, *out = NULL;
	size_t len = 0;
	int nw;

	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	nw = split(buf, words, MAX_WORDS);
	a = dbus_arena_new();
	if (nw > 0 && dbus_text_parse(a, words[0], nw - 1, words + 1, &vals, &n, &err) == 0) {
		FILE *f = open_memstream(&out, &len);
		dbus_print_json(f, words[0], vals, n);
		fclose(f);
		free(out);
		reparse(words[0], vals, n);
	}
	dbus_arena_free(a);
	free(buf);
	return 0;
}
