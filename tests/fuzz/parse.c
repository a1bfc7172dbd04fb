/* Fuzz target: lib/parse's strict conversions (numbers, durations, sizes,
 * modes) against small independent oracles written here.  The input is one
 * string (cut at its first NUL).  For each parser: accepted exactly when the
 * oracle's grammar matches and the value is in range, with the oracle's
 * value; refused with EINVAL or ERANGE and the output left untouched.
 * The line field readers run on the same string: fields where the oracle
 * finds them, integers as the oracle reads them, the rest of the line where
 * the oracle's last field ends. */
#include "lib/parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aULL

static void fail(const char *what, const char *s)
{
	fprintf(stderr, "%s: '%s'\n", what, s);
	abort();
}

/* Oracle for parse_digits: decimal, or hex after 0x/0X.  Sets *v (saturated
 * flag in *over) and returns the number of characters used, 0 if none. */
static size_t oracle_digits(const char *s, unsigned __int128 *v, int *over)
{
	size_t i = 0, start;
	unsigned base = 10;

	*v = 0;
	*over = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	start = i;
	for (;; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		*v = *v * base + d;
		if (*v > UINT64_MAX) {
			*over = 1;
			*v = (unsigned __int128)UINT64_MAX + 1;
		}
	}
	return i == start ? 0 : i;
}

static void check_uint(const char *s, uint64_t max)
{
	unsigned __int128 v;
	int over, want;
	size_t n = oracle_digits(s, &v, &over);
	uint64_t out = UNTOUCHED;
	int r = parse_uint(s, max, &out);

	want = n > 0 && s[n] == 0 && !over && v <= max;
	if (want != (r == 0))
		fail(want ? "parse_uint refused" : "parse_uint accepted", s);
	if (r == 0 && out != (uint64_t)v)
		fail("parse_uint value", s);
	if (r < 0 && (out != UNTOUCHED || (errno != EINVAL && errno != ERANGE)))
		fail("parse_uint failure", s);
}

static void check_int(const char *s, int64_t min, int64_t max)
{
	unsigned __int128 mag;
	__int128 v;
	int over, neg = 0, want;
	const char *d = s;
	size_t n;
	int64_t out = (int64_t)UNTOUCHED;
	int r = parse_int(s, min, max, &out);

	if (*d == '-' || *d == '+')
		neg = *d++ == '-';
	n = oracle_digits(d, &mag, &over);
	v = neg ? -(__int128)mag : (__int128)mag;
	want = n > 0 && d[n] == 0 && !over && v >= min && v <= max;
	if (want != (r == 0))
		fail(want ? "parse_int refused" : "parse_int accepted", s);
	if (r == 0 && out != (int64_t)v)
		fail("parse_int value", s);
	if (r < 0 && (out != (int64_t)UNTOUCHED || (errno != EINVAL && errno != ERANGE)))
		fail("parse_int failure", s);
}

/* Durations: [digits][.digits] (at least one digit) then "", ms, s, m or h;
 * or "inf".  With at most 30 digits the oracle is exact (a rational in
 * __int128) and the value must be its ceiling; beyond that, within a
 * millisecond of a long double estimate. */
static void check_duration(const char *s)
{
	static const struct {
		const char *suffix;
		unsigned ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000}};
	int64_t out = (int64_t)UNTOUCHED;
	int r = parse_duration(s, &out);
	size_t i = 0;
	int digits = 0, nonzero = 0, unit = -1;
	long double v = 0, scale = 1;
	unsigned __int128 num = 0, den = 1;

	if (strcmp(s, "inf") == 0) {
		if (r != 0 || out != -1)
			fail("parse_duration inf", s);
		return;
	}
	for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		v = v * 10 + (s[i] - '0');
		nonzero |= s[i] != '0';
		if (digits < 30)
			num = num * 10 + (unsigned)(s[i] - '0');
	}
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			scale /= 10;
			v += (s[i] - '0') * scale;
			nonzero |= s[i] != '0';
			if (digits < 30) {
				num = num * 10 + (unsigned)(s[i] - '0');
				den *= 10;
			}
		}
	for (size_t k = 0; digits && k < sizeof units / sizeof units[0]; k++)
		if (strcmp(s + i, units[k].suffix) == 0)
			unit = (int)k;
	if (unit < 0) {
		if (r == 0)
			fail("parse_duration accepted junk", s);
		if (out != (int64_t)UNTOUCHED || errno != EINVAL)
			fail("parse_duration failure", s);
		return;
	}
	v *= units[unit].ms;
	if (v > 9.1e15L) {
		if (r == 0)
			fail("parse_duration accepted an overflow", s);
		return;
	}
	if (v < 8.9e15L && r != 0)
		fail("parse_duration refused", s);
	if (r != 0)
		return;
	if (out < 0 || (nonzero && out == 0) || (!nonzero && out != 0))
		fail("parse_duration sign or zero", s);
	if (digits <= 30) {
		unsigned __int128 exact = (num * units[unit].ms + den - 1) / den;
		if ((unsigned __int128)out != exact)
			fail("parse_duration value (not the ceiling)", s);
	} else if ((long double)out < v - v * 1e-12L - 1e-9L || (long double)out > v + 1 + v * 1e-12L) {
		fail("parse_duration value", s);
	}
}

/* Sizes: digits (decimal or 0x hex), optionally K, M, G or T then
 * optionally B or iB; powers of 1024. */
static void check_size(const char *s)
{
	unsigned __int128 v;
	int over, want;
	size_t n = oracle_digits(s, &v, &over);
	unsigned shift = 0;
	const char *rest = s + n;
	uint64_t out = UNTOUCHED;
	int r = parse_size(s, &out);
	int grammar = n > 0;

	if (grammar && *rest) {
		const char *u = strchr("KMGT", *rest);
		if (!u || !*u)
			grammar = 0;
		else {
			shift = 10 * (unsigned)(u - "KMGT" + 1);
			rest++;
			if (*rest && strcmp(rest, "B") && strcmp(rest, "iB"))
				grammar = 0;
		}
	}
	if (!over)
		v <<= shift;
	want = grammar && !over && v <= UINT64_MAX;
	if (want != (r == 0))
		fail(want ? "parse_size refused" : "parse_size accepted", s);
	if (r == 0 && out != (uint64_t)v)
		fail("parse_size value", s);
	if (r < 0 && (out != UNTOUCHED || (errno != EINVAL && errno != ERANGE)))
		fail("parse_size failure", s);
}

static void check_mode(const char *s)
{
	unsigned out = 0xdeadbeef, v = 0;
	int r = parse_mode(s, &out), want = *s != 0;

	for (const char *p = s; *p && want; p++) {
		if (*p < '0' || *p > '7' || p - s >= 5)
			want = 0;
		else
			v = v * 8 + (unsigned)(*p - '0');
	}
	want = want && v <= 07777;
	if (want != (r == 0))
		fail(want ? "parse_mode refused" : "parse_mode accepted", s);
	if (r == 0 && out != v)
		fail("parse_mode value", s);
	if (r < 0 && out != 0xdeadbeef)
		fail("parse_mode failure", s);
}

/* Oracle for one field of a line: blanks are spaces and tabs, a field runs
 * to the next blank, newline or end.  Sets *start and returns its length. */
static size_t oracle_field(const char *s, size_t *start)
{
	size_t i = 0, n = 0;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	while (s[i + n] && s[i + n] != ' ' && s[i + n] != '\t' && s[i + n] != '\n')
		n++;
	*start = i;
	return n;
}

/* Is field f (len bytes) an integer parse_int_fields takes, and which? */
static int oracle_int_field(const char *f, size_t len, int octal, int64_t *out)
{
	char buf[64];
	unsigned __int128 mag;
	int over, neg = 0;
	const char *d = buf;

	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, f, len);
	buf[len] = 0;
	if (octal) {
		unsigned __int128 v = 0;
		for (size_t i = 0; i < len; i++) {
			if (buf[i] < '0' || buf[i] > '7')
				return 0;
			v = v * 8 + (unsigned)(buf[i] - '0');
			if (v > INT64_MAX)
				return 0;
		}
		*out = (int64_t)v;
		return 1;
	}
	if (*d == '-' || *d == '+')
		neg = *d++ == '-';
	size_t n = oracle_digits(d, &mag, &over);
	__int128 v = neg ? -(__int128)mag : (__int128)mag;
	if (n == 0 || d[n] || over || v < INT64_MIN || v > INT64_MAX)
		return 0;
	*out = (int64_t)v;
	return 1;
}

static void check_field(const char *s)
{
	size_t start, len = oracle_field(s, &start);
	char buf[8] = "untouch";
	const char *r = parse_field(s, buf, sizeof buf), *skip = parse_field(s, NULL, 0);

	if (len == 0) {
		if (r || skip || errno != EINVAL)
			fail("parse_field took no field", s);
		return;
	}
	if (skip != s + start + len)
		fail("parse_field skip end", s);
	if (len >= sizeof buf) {
		if (r || errno != ERANGE || strcmp(buf, "untouch"))
			fail("parse_field overlong", s);
	} else if (r != s + start + len || strlen(buf) != len || memcmp(buf, s + start, len)) {
		fail("parse_field value", s);
	}
}

static void check_int_fields(const char *s, unsigned n, unsigned octal)
{
	int64_t want[PARSE_FIELDS_MAX], got[PARSE_FIELDS_MAX];
	const char *p = s, *r;
	int ok = 1;

	for (unsigned i = 0; i < n && ok; i++) {
		size_t start, len = oracle_field(p, &start);
		ok = oracle_int_field(p + start, len, octal >> i & 1, &want[i]);
		p += start + len;
	}
	for (unsigned i = 0; i < n; i++)
		got[i] = (int64_t)UNTOUCHED;
	r = parse_int_fields(s, got, n, octal);
	if (ok != (r != NULL))
		fail(ok ? "parse_int_fields refused" : "parse_int_fields accepted", s);
	for (unsigned i = 0; i < n; i++)
		if (got[i] != (ok ? want[i] : (int64_t)UNTOUCHED))
			fail("parse_int_fields value", s);
	if (ok && r != p)
		fail("parse_int_fields rest", s);
	if (!ok && errno != EINVAL && errno != ERANGE)
		fail("parse_int_fields errno", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	check_uint(s, UINT64_MAX);
	check_uint(s, 65535);
	check_int(s, INT64_MIN, INT64_MAX);
	check_int(s, -1000, 1000);
	check_duration(s);
	check_size(s);
	check_mode(s);
	check_field(s);
	check_int_fields(s, 1, 0);
	check_int_fields(s, 3, 2);
	check_int_fields(s, 5, 0x1f);
	for (size_t i = 0; i < 4 && i < size; i++)
		if (parse_hexdigit(data[i]) != (data[i] >= '0' && data[i] <= '9' ? data[i] - '0' :
						data[i] >= 'a' && data[i] <= 'f' ? data[i] - 'a' + 10 :
						data[i] >= 'A' && data[i] <= 'F' ? data[i] - 'A' + 10 : -1))
			fail("parse_hexdigit", s);
	free(s);
	return 0;
}
