/* Unit tests for lib/parse and lib/json: every accepted form and the junk,
 * overflow and negative inputs that must be refused. */
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_durations(void)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{"250ms", 250}, {"1.5s", 1500}, {"2m", 120000}, {"1h", 3600000}, {"3", 3000},
		{"0", 0}, {"inf", -1}, {"0.0001s", 1}, {"1.", 1000}, {"0.7s", 700}, {"1.1s", 1100},
		{"0.000000000000000000001s", 1}, {"2.5m", 150000},
	};
	static const char *const bad[] = {
		"", "s", "-1", "1x", "12Q", "1.5.5", " 1", "1 ", "ms", "1e3", "99999999999999999h", "+1",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t ms = -2;
		CHECK(parse_duration(good[i].text, &ms) == 0 && ms == good[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms;
		if (parse_duration(bad[i], &ms) == 0) {
			fprintf(stderr, "duration '%s' accepted\n", bad[i]);
			failures++;
		}
	}
}

static void test_sizes(void)
{
	uint64_t v;
	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("4K", &v) == 0 && v == 4096);
	CHECK(parse_size("4KiB", &v) == 0 && v == 4096);
	CHECK(parse_size("1M", &v) == 0 && v == 1048576);
	CHECK(parse_size("1G", &v) == 0 && v == 1073741824);
	CHECK(parse_size("0", &v) == 0 && v == 0);
	CHECK(parse_size("12Q", &v) < 0);
	CHECK(parse_size("-1", &v) < 0);
	CHECK(parse_size("", &v) < 0);
	CHECK(parse_size("K", &v) < 0);
	CHECK(parse_size("1KiBx", &v) < 0);
	CHECK(parse_size("18446744073709551616", &v) < 0);
	CHECK(parse_size("17179869184G", &v) < 0);
}

static void test_integers(void)
{
	uint64_t u;
	int64_t i;
	/* %-decoding */
	{
		char out[8];
		size_t n;
		CHECK(parse_pct_decode("a%41%3a", 7, out, sizeof out, &n) == 0 && n == 3 && strcmp(out, "aA:") == 0);
		CHECK(parse_pct_decode("a%00b", 5, out, sizeof out, &n) == 0 && n == 3 && out[1] == 0);
		CHECK(parse_pct_decode("%4", 2, out, sizeof out, &n) < 0 && errno == EINVAL);
		CHECK(parse_pct_decode("%zz", 3, out, sizeof out, &n) < 0 && errno == EINVAL);
		CHECK(parse_pct_decode("%", 1, out, sizeof out, &n) < 0 && errno == EINVAL);
		CHECK(parse_pct_decode("1234567", 7, out, sizeof out, &n) == 0 && n == 7);
		CHECK(parse_pct_decode("12345678", 8, out, sizeof out, &n) < 0 && errno == ERANGE);
	}
	/* a run of digits inside a larger text */
	CHECK(parse_digits("8883/pre", 8, &u) == 4 && u == 8883);
	CHECK(parse_digits("x1", 2, &u) == 0 && u == 0);
	CHECK(parse_digits("123", 2, &u) == 2 && u == 12);
	CHECK(parse_digits("", 0, &u) == 0);
	CHECK(parse_digits("99999999999999999999999", 23, &u) == 19 && u == 9999999999999999999u);
	CHECK(parse_uint("18446744073709551615", UINT64_MAX, &u) == 0 && u == UINT64_MAX);
	CHECK(parse_uint("18446744073709551616", UINT64_MAX, &u) < 0);
	CHECK(parse_uint("0x51002bd4", UINT64_MAX, &u) == 0 && u == 0x51002bd4);
	CHECK(parse_uint("65536", 65535, &u) < 0);
	CHECK(parse_uint("-0", 10, &u) < 0);
	CHECK(parse_uint("0x", 10, &u) < 0);
	CHECK(parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MIN);
	CHECK(parse_int("-9223372036854775809", INT64_MIN, INT64_MAX, &i) < 0);
	CHECK(parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MAX);
	CHECK(parse_int("-129", -128, 127, &i) < 0);
	CHECK(parse_int("--1", -128, 127, &i) < 0);
	unsigned m;
	CHECK(parse_mode("600", &m) == 0 && m == 0600);
	CHECK(parse_mode("0644", &m) == 0 && m == 0644);
	CHECK(parse_mode("800", &m) < 0);
	CHECK(parse_mode("", &m) < 0);
	CHECK(parse_mode("017777", &m) < 0);
}

/* Lines of /proc text: fields between blanks, the rest of the line kept. */
static void test_fields(void)
{
	const char *shm = "  -1361051693    3276800      1600         65536  4242  4243     2  1000  1000  1000"
			  "  1000 1701000000 0 1701000001      65536         0\n";
	const char *maps = "7f0e1c000000-7f0e1c010000 rw-s 00000000 00:01 3276800    "
			   "/SYSV5ae0e533 (deleted)\n";
	int64_t v[16];
	const char *p;
	char buf[8];

	p = parse_int_fields(shm, v, 8, 1u << 2);
	CHECK(p && v[0] == -1361051693 && v[1] == 3276800 && v[2] == 01600 && v[3] == 65536 &&
	      v[4] == 4242 && v[5] == 4243 && v[6] == 2 && v[7] == 1000);
	CHECK(p && strncmp(p, "  1000  1000", 12) == 0);
	/* the rest keeps its blanks: a path may hold spaces */
	p = maps;
	for (int i = 0; i < 4 && p; i++)
		p = parse_field(p, NULL, 0);
	CHECK(p == maps + 45);
	p = parse_field(maps, buf, sizeof buf);
	CHECK(!p && errno == ERANGE);
	p = parse_field(maps + 25, buf, sizeof buf);
	CHECK(p == maps + 30 && strcmp(buf, "rw-s") == 0);
	p = parse_int_fields(maps + 45, v, 1, 0);
	CHECK(p && v[0] == 3276800 && strcmp(p, "    /SYSV5ae0e533 (deleted)\n") == 0);
	p = parse_field("\t x\ty", buf, sizeof buf);
	CHECK(p && strcmp(buf, "x") == 0 && strcmp(p, "\ty") == 0);
	CHECK(!parse_field("", buf, sizeof buf) && errno == EINVAL);
	CHECK(!parse_field("  \t\n", NULL, 0) && errno == EINVAL);
	CHECK(!parse_field("\nx", buf, sizeof buf));

	/* refused: v untouched, errno says why */
	static const struct {
		const char *line;
		unsigned n, octal;
		int err;
	} bad[] = {
		{"1 2", 3, 0, EINVAL},	 /* a field missing */
		{"1 2\n3", 3, 0, EINVAL}, /* the newline ends the line */
		{"1 2x 3", 3, 0, EINVAL},	 /* junk */
		{"1 8 3", 3, 2, EINVAL},	 /* not octal */
		{"1 -7 3", 3, 2, EINVAL},	 /* no sign on octal */
		{"1 0x10", 2, 0, 0},	 /* hex as parse_int takes it: accepted */
		{"9223372036854775808", 1, 0, ERANGE},
		{"-9223372036854775809", 1, 0, ERANGE},
		{"1000000000000000000000", 1, 1, ERANGE}, /* 2^63 in octal */
		{"0000000000000000000000000000000000000000000000000000000000000000001", 1, 0, ERANGE},
		{"1", 17, 0, EINVAL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (size_t k = 0; k < 16; k++)
			v[k] = 77;
		errno = 0;
		p = parse_int_fields(bad[i].line, v, bad[i].n, bad[i].octal);
		if (!bad[i].err) {
			CHECK(p && v[1] == 16);
			continue;
		}
		if (p || errno != bad[i].err || v[0] != 77) {
			fprintf(stderr, "fields '%s' (%u): %s, errno %d\n", bad[i].line, bad[i].n,
				p ? "accepted" : "refused", errno);
			failures++;
		}
	}
	CHECK(parse_int_fields("777777777777777777777 -9223372036854775808", v, 2, 1) && v[0] == INT64_MAX &&
	      v[1] == INT64_MIN);
}

static void test_json(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	json_string(f, "a\"\\\n\x01\xff" "\xc3\xa9" "\xed\xa0\x80", 11);
	fclose(f);
	CHECK(strcmp(out, "\"a\\\"\\\\\\n\\u0001\\udcff\xc3\xa9\\udced\\udca0\\udc80\"") == 0);
	free(out);
	CHECK(json_utf8_seq((const unsigned char *)"\xc0\x80", 2) == 0);
	CHECK(json_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0);
	CHECK(json_utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4);
}

/* clock_wall: tv_nsec stays in [0, 1e9) whatever after_ms carries, and
 * after_ms moves the time by that much (between two readings of now: the
 * wall clock is not stepped back in the few microseconds this takes). */
static void test_wall(void)
{
	static const int64_t after[] = {0, 1, 999, 1000, 1001, 1999, 86400123, -1, -999, -1000, -1500};

	for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
		struct timespec before = clock_wall(0);
		struct timespec t = clock_wall(after[i]);
		struct timespec now = clock_wall(0);
		int64_t lo = (int64_t)before.tv_sec * 1000000000 + before.tv_nsec + after[i] * 1000000;
		int64_t hi = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + after[i] * 1000000;
		int64_t got = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;

		CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
		CHECK(got >= lo && got <= hi);
	}
}

int main(void)
{
	test_durations();
	test_sizes();
	test_integers();
	test_fields();
	test_json();
	test_wall();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
