/* parse: strict conversions; see parse.h. */
#include "parse.h"

#include <errno.h>
#include <string.h>

int parse_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Digits in base (8, 10 or 16) up to the first other character. */
static int parse_radix(const char *s, unsigned base, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	int any = 0;

	for (;; s++) {
		int h = parse_hexdigit((unsigned char)*s);
		if (h < 0 || (unsigned)h >= base)
			break;
		unsigned d = (unsigned)h;
		if (v > (UINT64_MAX - d) / base) {
			errno = ERANGE;
			return -1;
		}
		v = v * base + d;
		any = 1;
	}
	if (!any) {
		errno = EINVAL;
		return -1;
	}
	*end = s;
	*out = v;
	return 0;
}

/* Digits in base 10, or base 16 after "0x"; rejects signs, spaces, junk. */
static int read_number(const char *s, const char **end, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_radix(s + 2, 16, end, out);
	return parse_radix(s, 10, end, out);
}

size_t parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; n < len && n < 19 && s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	*out = v;
	return n;
}

int parse_pct_decode(const char *s, size_t len, char *out, size_t size, size_t *outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? parse_hexdigit((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < len ? parse_hexdigit((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				errno = EINVAL;
				return -1;
			}
			c = hi << 4 | lo;
			i += 2;
		}
		if (n + 1 >= size) {
			errno = ERANGE;
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = 0;
	*outlen = n;
	return 0;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (read_number(s, &end, &v) < 0)
		return -1;
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	if (v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int neg = 0;
	uint64_t mag;
	int64_t v;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (parse_uint(s, UINT64_MAX, &mag) < 0)
		return -1;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1) {
			errno = ERANGE;
			return -1;
		}
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX) {
			errno = ERANGE;
			return -1;
		}
		v = (int64_t)mag;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

/* Durations are computed in integers: a double made "0.7s" 700.0000000000001
 * ms, which rounded up to 701.  Fraction digits past the twelfth only
 * decide whether to round up. */
int parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000},
	};
	const uint64_t limit = 9000000000000000ULL; /* ~285 years: surely a typo */
	uint64_t whole = 0, frac = 0, den = 1;
	int digits = 0, tail = 0, big = 0;
	const char *p = s;

	if (strcmp(s, "inf") == 0) {
		*ms = -1;
		return 0;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > limit)
			big = 1;
		else
			whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (den < 1000000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				den *= 10;
			} else {
				tail |= *p != '0';
			}
		}
	}
	if (!digits) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		uint64_t u = units[i].ms, f = frac * u, v; /* frac * u < 3.6e18 */
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (big || whole > limit / u) {
			errno = ERANGE;
			return -1;
		}
		v = whole * u + f / den + (f % den != 0 || tail); /* round up */
		if (v >= limit) {
			errno = ERANGE;
			return -1;
		}
		*ms = (int64_t)v;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *end;
	uint64_t v;
	unsigned shift = 0;

	if (read_number(s, &end, &v) < 0)
		return -1;
	if (*end) {
		const char *u = strchr(units, *end);
		if (!u || !*u) {
			errno = EINVAL;
			return -1;
		}
		shift = 10 * (unsigned)(u - units + 1);
		end++;
		if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
			end += strlen(end);
		if (*end) {
			errno = EINVAL;
			return -1;
		}
		if (v > (UINT64_MAX >> shift)) {
			errno = ERANGE;
			return -1;
		}
	}
	*out = v << shift;
	return 0;
}

int parse_mode(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 5) {
		errno = EINVAL;
		return -1;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '7') {
			errno = EINVAL;
			return -1;
		}
		v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 07777) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_blank(char c)
{
	return c == ' ' || c == '\t';
}

const char *parse_field(const char *line, char *buf, size_t size)
{
	size_t len;

	while (parse_blank(*line))
		line++;
	len = strcspn(line, " \t\n");
	if (len == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (buf) {
		if (len >= size) {
			errno = ERANGE;
			return NULL;
		}
		memcpy(buf, line, len);
		buf[len] = 0;
	}
	return line + len;
}

/* A field longer than this is no int64_t a kernel would print. */
#define FIELD_CHARS 64

const char *parse_int_fields(const char *line, int64_t *v, unsigned n, unsigned octal)
{
	int64_t got[PARSE_FIELDS_MAX];
	char field[FIELD_CHARS];

	if (n > PARSE_FIELDS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *end;
		uint64_t u;
		if (!(line = parse_field(line, field, sizeof field)))
			return NULL;
		if (!(octal >> i & 1)) {
			if (parse_int(field, INT64_MIN, INT64_MAX, &got[i]) < 0)
				return NULL;
			continue;
		}
		if (parse_radix(field, 8, &end, &u) < 0)
			return NULL;
		if (*end || u > INT64_MAX) {
			errno = *end ? EINVAL : ERANGE;
			return NULL;
		}
		got[i] = (int64_t)u;
	}
	memcpy(v, got, n * sizeof *v);
	return line;
}
