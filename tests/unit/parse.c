/* Unit tests for lib/parse and lib/json: every accepted form and the junk,
 * overflow and negative inputs that must be refused. */
#include "lib/json.h"
#include "lib/parse.h"

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

int main(void)
{
	test_durations();
	test_sizes();
	test_integers();
	test_json();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
