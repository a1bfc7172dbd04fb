/* dbus text: busctl's argument syntax (signature, then one word per value)
 * and the two printers, busctl's terse format and --json=short's shape made
 * lossless; see dbus.h. */
#include "dbus.h"
#include "wire.h"
#include "lib/io.h"
#include "lib/json.h"
#include "lib/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ----------------------------------------------------------- */

/* The state of one dbus_text_parse: the words and the next one to use. */
struct tp {
	struct dbus_arena *a;
	const char *sig; /* the whole signature, for messages */
	int argc, i;
	char **argv;
	struct dbus_err *err;
};

/* The next word, or NULL with "too few values". */
static const char *tp_word(struct tp *p)
{
	if (p->i >= p->argc) {
		dbus_err_set(p->err, "too few values for signature '%s'", p->sig);
		return NULL;
	}
	return p->argv[p->i++];
}

/* The name busctl's users know a basic type by, for error messages. */
static const char *type_word(char c)
{
	switch (c) {
	case 'y': return "byte";
	case 'b': return "boolean";
	case 'n': return "int16";
	case 'q': return "uint16";
	case 'i': return "int32";
	case 'u': return "uint32";
	case 'x': return "int64";
	case 't': return "uint64";
	case 'd': return "double";
	case 's': return "string";
	case 'o': return "object path";
	case 'g': return "signature";
	default: return "value";
	}
}

/* "invalid TYPE 'WORD'" with ": out of range" when errno says so. */
static int bad_word(struct tp *p, char code, const char *w, int range)
{
	return dbus_err_set(p->err, "invalid %s '%.100s'%s", type_word(code), w,
			    range ? ": out of range" : "");
}

/* A boolean in any of busctl's spellings. */
static int parse_bool(const char *w, uint64_t *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t k = 0; k < 4; k++) {
		if (!strcmp(w, yes[k]) || !strcmp(w, no[k])) {
			*out = !strcmp(w, yes[k]);
			return 0;
		}
	}
	return -1;
}

/* A double: the whole word, no leading space, no overflow to infinity. */
static int parse_double(const char *w, double *out)
{
	char *end;
	double d;

	if (!*w || strchr(" \t\n\v\f\r", *w)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	d = strtod(w, &end);
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE && isinf(d))
		return -1;
	*out = d;
	return 0;
}

/* Parse one fixed-size number or boolean word into v. */
static int tp_fixed(struct tp *p, char code, const char *w, struct dbus_value *v)
{
	static const struct { char code; int64_t min; uint64_t max; } lim[] = {
		{'y', 0, UINT8_MAX}, {'q', 0, UINT16_MAX}, {'u', 0, UINT32_MAX},
		{'t', 0, UINT64_MAX}, {'n', INT16_MIN, INT16_MAX},
		{'i', INT32_MIN, INT32_MAX}, {'x', INT64_MIN, INT64_MAX},
	};
	int rc = -1;

	errno = EINVAL;
	if (code == 'b')
		rc = parse_bool(w, &v->v.u);
	else if (code == 'd')
		rc = parse_double(w, &v->v.d);
	for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
		if (lim[k].code != code)
			continue;
		if (lim[k].min < 0)
			rc = parse_int(w, lim[k].min, (int64_t)lim[k].max, &v->v.i);
		else
			rc = parse_uint(w, lim[k].max, &v->v.u);
	}
	return rc < 0 ? bad_word(p, code, w, errno == ERANGE) : 0;
}

/* Parse one string, object path or signature word into v. */
static int tp_string(struct tp *p, char code, const char *w, struct dbus_value *v)
{
	size_t n = strlen(w);

	if (!dbus_valid_utf8(w, n))
		return dbus_err_set(p->err, "invalid %s '%.100s': not valid UTF-8", type_word(code), w);
	if ((code == 'o' && !dbus_valid_path(w, n)) || (code == 'g' && !dbus_valid_signature(w, n)))
		return bad_word(p, code, w, 0);
	v->v.str = dbus_arena_strndup(p->a, w, n);
	v->n = (uint32_t)n;
	return 0;
}

static int tp_value(struct tp *p, const struct dbus_type *t, struct dbus_value *v,
		    unsigned depth);

/* An array: a count word, then that many elements. */
static int tp_array(struct tp *p, const struct dbus_type *t, struct dbus_value *v,
		    unsigned depth)
{
	const char *w = tp_word(p);
	uint64_t count;

	if (!w)
		return -1;
	if (parse_uint(w, UINT32_MAX, &count) < 0)
		return dbus_err_set(p->err, "invalid array count '%.100s'", w);
	if (count > (uint64_t)(p->argc - p->i)) /* every element takes a word */
		return dbus_err_set(p->err, "too few values for signature '%s'", p->sig);
	v->n = (uint32_t)count;
	v->v.items = dbus_arena_alloc(p->a, (count ? count : 1) * sizeof *v->v.items);
	for (uint32_t k = 0; k < v->n; k++)
		if (tp_value(p, t->kids, &v->v.items[k], depth) < 0)
			return -1;
	return 0;
}

/* A variant: a word with one complete type, then a value of it. */
static int tp_variant(struct tp *p, struct dbus_value *v, unsigned depth)
{
	const char *w = tp_word(p);
	struct dbus_type *ct;
	uint32_t nt;

	if (!w)
		return -1;
	if (!dbus_valid_single_type(w, strlen(w)))
		return dbus_err_set(p->err, "invalid variant signature '%.100s'", w);
	if (strchr(w, 'h'))
		return dbus_err_set(p->err, "file descriptors (type 'h') cannot be given as text");
	dbus_type_compile(p->a, w, strlen(w), &ct, &nt);
	v->n = 1;
	v->v.items = dbus_arena_alloc(p->a, sizeof *v->v.items);
	return tp_value(p, ct, v->v.items, depth);
}

/* One value of type t from the words; depth counts open containers. */
static int tp_value(struct tp *p, const struct dbus_type *t, struct dbus_value *v,
		    unsigned depth)
{
	const char *w;

	v->type = t->code;
	v->sig = t->sig;
	if (dbus_is_basic(t->code)) {
		if (!(w = tp_word(p)))
			return -1;
		return t->fixed ? tp_fixed(p, t->code, w, v) : tp_string(p, t->code, w, v);
	}
	if (++depth > DBUS_MAX_TOTAL_DEPTH)
		return dbus_err_set(p->err, "values nested more than %d deep", DBUS_MAX_TOTAL_DEPTH);
	if (t->code == 'a')
		return tp_array(p, t, v, depth);
	if (t->code == 'v')
		return tp_variant(p, v, depth);
	v->n = t->n;
	v->v.items = dbus_arena_alloc(p->a, t->n * sizeof *v->v.items);
	for (uint32_t k = 0; k < t->n; k++)
		if (tp_value(p, &t->kids[k], &v->v.items[k], depth) < 0)
			return -1;
	return 0;
}

int dbus_text_parse(struct dbus_arena *a, const char *sig, int argc, char **argv,
		    struct dbus_value **vals, uint32_t *n, struct dbus_err *err)
{
	struct tp p = {.a = a, .sig = sig, .argc = argc, .argv = argv, .err = err};
	struct dbus_type *types;
	uint32_t nt;

	if (dbus_type_compile(a, sig, strlen(sig), &types, &nt) < 0)
		return dbus_err_set(err, "invalid signature '%.255s'", sig);
	if (strchr(sig, 'h'))
		return dbus_err_set(err, "file descriptors (type 'h') cannot be given as text");
	*vals = dbus_arena_alloc(a, (nt ? nt : 1) * sizeof **vals);
	for (uint32_t k = 0; k < nt; k++)
		if (tp_value(&p, &types[k], &(*vals)[k], 0) < 0)
			return -1;
	if (p.i < argc)
		return dbus_err_set(err, "too many values for signature '%s': '%.100s' is left over",
				    sig, argv[p.i]);
	*n = nt;
	return 0;
}

/* ---- terse printer ----------------------------------------------------- */

/* d as busctl prints it (%g) when that reads back as the same double,
 * else with the fewest more digits that do (at most 17 are needed). */
static void fmt_double(char *buf, size_t size, double d)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
	snprintf(buf, size, "%.17g", d); /* NaN lands here */
}

/* The letter of c's C escape (\n: 'n'), 0 if it has none. */
static char escape_letter(unsigned char c)
{
	switch (c) {
	case '\a': return 'a';
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	case '\v': return 'v';
	case '\\': case '"': case '\'': return (char)c;
	default: return 0;
	}
}

/* A string C-escaped and double-quoted, as busctl prints it, except that
 * multi-byte UTF-8 stays readable (busctl writes its bytes in octal). */
static void terse_string(FILE *f, const char *s, size_t n)
{
	putc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char letter = escape_letter(c);
		if (letter) {
			putc('\\', f);
			putc(letter, f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\%03o", c);
		} else {
			putc(c, f);
		}
	}
	putc('"', f);
}

/* One scalar (basic type) in the terse format. */
static void terse_basic(FILE *f, const struct dbus_value *v)
{
	char buf[40];

	switch (v->type) {
	case 'b': fputs(v->v.u ? "true" : "false", f); break;
	case 'n': case 'i': case 'x': io_put_i64(f, v->v.i); break;
	case 'd': fmt_double(buf, sizeof buf, v->v.d); fputs(buf, f); break;
	case 's': case 'o': case 'g': terse_string(f, v->v.str, v->n); break;
	default: io_put_u64(f, v->v.u, 0);
	}
}

/* One value in the terse format: arrays as a count then elements, variants
 * as the signature then the value, structs and dict entries inline. */
static void terse_value(FILE *f, const struct dbus_value *v)
{
	if (dbus_is_basic(v->type)) {
		terse_basic(f, v);
	} else if (v->type == 'v') {
		fputs(v->v.items[0].sig, f);
		putc(' ', f);
		terse_value(f, &v->v.items[0]);
	} else {
		if (v->type == 'a')
			fprintf(f, "%u%s", (unsigned)v->n, v->n ? " " : "");
		for (uint32_t k = 0; k < v->n; k++) {
			if (k)
				putc(' ', f);
			terse_value(f, &v->v.items[k]);
		}
	}
}

/* One value as the words bus-call would take for it, each ended by NUL. */
static void words_value(FILE *f, const struct dbus_value *v)
{
	if (v->type == 's' || v->type == 'o' || v->type == 'g') {
		fwrite(v->v.str, 1, v->n, f);
	} else if (dbus_is_basic(v->type)) {
		terse_basic(f, v);
	} else if (v->type == 'v') {
		fputs(v->v.items[0].sig, f);
		putc('\0', f);
		words_value(f, &v->v.items[0]);
		return;
	} else {
		if (v->type == 'a')
			fprintf(f, "%u%c", (unsigned)v->n, '\0');
		for (uint32_t k = 0; k < v->n; k++)
			words_value(f, &v->v.items[k]);
		return;
	}
	putc('\0', f);
}

void dbus_print_words(FILE *f, const struct dbus_value *vals, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		words_value(f, &vals[k]);
}

void dbus_print_terse(FILE *f, const char *sig, const struct dbus_value *vals, uint32_t n)
{
	fputs(sig, f);
	for (uint32_t k = 0; k < n; k++) {
		putc(' ', f);
		terse_value(f, &vals[k]);
	}
}

/* ---- JSON printer ------------------------------------------------------ */

/* An array value: dicts keyed by strings as an object, other dicts as an
 * array of [key, value] pairs, everything else as a JSON array. */
static void json_array(FILE *f, const struct dbus_value *v)
{
	const char *esig = v->sig ? v->sig + 1 : "";
	int object = esig[0] == '{' && esig[1] && strchr("sog", esig[1]);

	if (!v->sig && v->n) /* built by hand: judge by the first element */
		object = v->v.items[0].type == '{' && v->v.items[0].v.items[0].type &&
			 strchr("sog", v->v.items[0].v.items[0].type);

	putc(object ? '{' : '[', f);
	for (uint32_t k = 0; k < v->n; k++) {
		const struct dbus_value *e = &v->v.items[k];
		if (k)
			putc(',', f);
		if (object) {
			json_string(f, e->v.items[0].v.str, e->v.items[0].n);
			putc(':', f);
			dbus_print_json_value(f, &e->v.items[1]);
		} else {
			dbus_print_json_value(f, e);
		}
	}
	putc(object ? '}' : ']', f);
}

void dbus_print_json_value(FILE *f, const struct dbus_value *v)
{
	char buf[40];

	switch (v->type) {
	case 'b': fputs(v->v.u ? "true" : "false", f); break;
	case 'n': case 'i': case 'x': io_put_i64(f, v->v.i); break;
	case 'y': case 'q': case 'u': case 't': case 'h': io_put_u64(f, v->v.u, 0); break;
	case 'd':
		if (!isfinite(v->v.d)) {
			fputs("null", f);
			break;
		}
		fmt_double(buf, sizeof buf, v->v.d);
		fputs(buf, f);
		break;
	case 's': case 'o': case 'g': json_string(f, v->v.str, v->n); break;
	case 'a': json_array(f, v); break;
	case 'v':
		fputs("{\"type\":", f);
		json_cstring(f, v->v.items[0].sig);
		fputs(",\"data\":", f);
		dbus_print_json_value(f, &v->v.items[0]);
		putc('}', f);
		break;
	default: /* struct or dict entry: a JSON array of its fields */
		putc('[', f);
		for (uint32_t k = 0; k < v->n; k++) {
			if (k)
				putc(',', f);
			dbus_print_json_value(f, &v->v.items[k]);
		}
		putc(']', f);
	}
}

void dbus_print_json(FILE *f, const char *sig, const struct dbus_value *vals, uint32_t n)
{
	fputs("{\"type\":", f);
	json_cstring(f, sig);
	fputs(",\"data\":[", f);
	for (uint32_t k = 0; k < n; k++) {
		if (k)
			putc(',', f);
		dbus_print_json_value(f, &vals[k]);
	}
	fputs("]}", f);
}

/* Is c a blank between words of a command's output? */
static int word_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int dbus_text_parse_words(struct dbus_arena *a, const char *sig, char *text, struct dbus_value **vals,
			  uint32_t *n, struct dbus_err *err)
{
	size_t nwords = 0;
	char **words, *p;
	int r;

	for (p = text; *p;) {
		while (word_blank(*p))
			p++;
		if (!*p)
			break;
		if (++nwords > DBUS_TEXT_MAX_WORDS)
			return dbus_err_set(err, "too many words (more than %d)", DBUS_TEXT_MAX_WORDS);
		while (*p && !word_blank(*p))
			p++;
	}
	words = malloc((nwords ? nwords : 1) * sizeof *words);
	if (!words)
		return dbus_err_set(err, "out of memory for %zu words", nwords);
	nwords = 0;
	for (p = text; *p;) {
		while (word_blank(*p))
			*p++ = 0;
		if (!*p)
			break;
		words[nwords++] = p;
		while (*p && !word_blank(*p))
			p++;
	}
	r = dbus_text_parse(a, sig, (int)nwords, words, vals, n, err);
	free(words);
	return r;
}
