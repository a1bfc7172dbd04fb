/* dbus validate: signatures, object paths, names and UTF-8 as the D-Bus
 * specification defines them; see dbus.h. */
#include "dbus.h"
#include "wire.h"
#include "lib/json.h"

#include <string.h>

int dbus_is_basic(char c)
{
	switch (c) {
	case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x':
	case 't': case 'd': case 'h': case 's': case 'o': case 'g':
		return 1;
	default:
		return 0;
	}
}

unsigned dbus_type_align(char c)
{
	switch (c) {
	case 'n': case 'q': return 2;
	case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a': return 4;
	case 'x': case 't': case 'd': case '(': case '{': return 8;
	default: return 1; /* y g v */
	}
}

unsigned dbus_type_fixed(char c)
{
	switch (c) {
	case 'y': return 1;
	case 'n': case 'q': return 2;
	case 'b': case 'i': case 'u': case 'h': return 4;
	case 'x': case 't': case 'd': return 8;
	default: return 0;
	}
}

/* An open container while scanning a signature: its kind ('a', '(' or
 * '{') and how many complete fields it holds so far. */
struct sig_frame {
	char kind;
	uint8_t fields;
};

/* Check that c may begin the next type inside the innermost container:
 * a dict entry's key must be basic, and it holds exactly two fields. */
static int sig_fits(const struct sig_frame *top, char c)
{
	if (!top || top->kind != '{')
		return 1;
	if (top->fields == 0)
		return dbus_is_basic(c);
	if (top->fields == 2)
		return c == '}';
	return 1;
}

/* Iterative scan with an explicit stack: at most 32 arrays, 32 structs and
 * 32 dict entries are open at once, so the stack has a fixed size. */
size_t dbus_sig_next(const char *sig, size_t len)
{
	struct sig_frame st[DBUS_MAX_ARRAY_DEPTH + 2 * DBUS_MAX_STRUCT_DEPTH + 1];
	unsigned sp = 0, depth[3] = {0, 0, 0}; /* open a, (, { */
	size_t pos = 0;

	if (len > 0 && (dbus_is_basic(sig[0]) || sig[0] == 'v'))
		return 1; /* the common case, without the stack */
	for (;;) {
		char c;
		if (pos >= len)
			return 0;
		c = sig[pos++];
		if (!sig_fits(sp ? &st[sp - 1] : NULL, c))
			return 0;
		switch (c) {
		case 'a':
		case '(':
		case '{': {
			unsigned k = c == 'a' ? 0 : c == '(' ? 1 : 2;
			if (c == '{' && (!sp || st[sp - 1].kind != 'a'))
				return 0; /* dict entries only as array elements */
			if (++depth[k] > DBUS_MAX_ARRAY_DEPTH)
				return 0;
			st[sp].kind = c;
			st[sp++].fields = 0;
			continue;
		}
		case ')':
			if (!sp || st[sp - 1].kind != '(' || st[sp - 1].fields == 0)
				return 0;
			sp--, depth[1]--;
			break;
		case '}':
			if (!sp || st[sp - 1].kind != '{' || st[sp - 1].fields != 2)
				return 0;
			sp--, depth[2]--;
			break;
		default:
			if (!dbus_is_basic(c) && c != 'v')
				return 0;
		}
		/* A complete type ends here; it completes any arrays around it. */
		while (sp && st[sp - 1].kind == 'a')
			sp--, depth[0]--;
		if (!sp)
			return pos;
		st[sp - 1].fields++;
	}
}

int dbus_valid_signature(const char *sig, size_t len)
{
	size_t pos = 0;

	if (len > DBUS_MAX_SIGNATURE)
		return 0;
	while (pos < len) {
		size_t k = dbus_sig_next(sig + pos, len - pos);
		if (!k)
			return 0;
		pos += k;
	}
	return 1;
}

int dbus_valid_single_type(const char *sig, size_t len)
{
	return len > 0 && len <= DBUS_MAX_SIGNATURE && dbus_sig_next(sig, len) == len;
}

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dbus_valid_path(const char *s, size_t len)
{
	if (len == 0 || len > DBUS_MAX_PATH || s[0] != '/')
		return 0;
	if (len == 1)
		return 1;
	if (s[len - 1] == '/')
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == '/') {
			if (s[i - 1] == '/')
				return 0;
		} else if (!is_alpha_(s[i]) && !is_digit(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Dot-separated names: at least two non-empty elements of characters
 * accepted by ok(); an element may start with a digit only if digit_first;
 * extra is an additional allowed character ('-' in bus names, or 0). */
static int valid_dotted(const char *s, size_t len, int digit_first, char extra)
{
	size_t elems = 0, elen = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (elen == 0)
				return 0;
			elems++, elen = 0;
			continue;
		}
		if (!is_alpha_(c) && !(extra && c == extra) && !(is_digit(c) && (elen || digit_first)))
			return 0;
		elen++;
	}
	return elen > 0 && elems >= 1;
}

int dbus_valid_interface(const char *s, size_t len)
{
	return len > 0 && len <= DBUS_MAX_NAME && valid_dotted(s, len, 0, 0);
}

int dbus_valid_member(const char *s, size_t len)
{
	if (len == 0 || len > DBUS_MAX_NAME || is_digit(s[0]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alpha_(s[i]) && !is_digit(s[i]))
			return 0;
	return 1;
}

int dbus_valid_bus_name(const char *s, size_t len)
{
	if (len == 0 || len > DBUS_MAX_NAME)
		return 0;
	if (s[0] == ':')
		return valid_dotted(s + 1, len - 1, 1, '-');
	return valid_dotted(s, len, 0, '-');
}

int dbus_valid_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;
		if (u[i] == 0)
			return 0;
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		n = json_utf8_seq(u + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}
