/* Unit tests for lib/sha1 (the RFC 3174 and FIPS 180 test vectors, plus the
 * Qt key hashes from reference/shm-sem.md) and lib/hexdump (xxd's layout). */
#include "lib/hexdump.h"
#include "lib/sha1.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void check_hex(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s: got %s, want %s\n", what, got, want);
		failures++;
	}
}

static void test_vectors(void)
{
	static const struct {
		const char *text;
		const char *hex;
	} v[] = {
		{"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"demo", "89e495e7941cf9e40e6980d14a16bf023ccd4c91"},
		{"demo-sem", "5800ae9ff37d6db346d15df7b4eedf9cbee7a0e8"},
		/* RFC 3174 TEST4: 80 bytes, one copy of the 10-fold string */
		{"0123456701234567012345670123456701234567012345670123456701234567",
		 "e0c094e867ef46c350ef54a7f59dd60bed92ae83"},
	};
	char hex[41];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		sha1_hex(v[i].text, strlen(v[i].text), hex);
		check_hex(v[i].text, hex, v[i].hex);
	}
}

/* RFC 3174 TEST3: one million 'a', fed in uneven pieces. */
static void test_million(void)
{
	static char a[1000];
	struct sha1 s;
	unsigned char d[20];
	char hex[41];
	size_t left = 1000000, step = 1;

	memset(a, 'a', sizeof a);
	sha1_init(&s);
	while (left > 0) {
		size_t n = step < left ? step : left;
		sha1_update(&s, a, n);
		left -= n;
		step = step % 990 + 7;
	}
	sha1_final(&s, d);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	check_hex("a x 1000000", hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_hexdump(void)
{
	char line[HEXDUMP_LINE_MAX];
	const unsigned char hello[] = "hello\n";
	unsigned char all[16];

	hexdump_line(line, 0, hello, 6);
	check_hex("hexdump short", line,
		  "00000000: 6865 6c6c 6f0a                           hello.\n");
	for (int i = 0; i < 16; i++)
		all[i] = (unsigned char)(i * 17);
	hexdump_line(line, 0x10, all, 16);
	check_hex("hexdump full", line,
		  "00000010: 0011 2233 4455 6677 8899 aabb ccdd eeff  ..\"3DUfw........\n");
	hexdump_line(line, 0x123456789ULL, hello, 1);
	check_hex("hexdump big offset", line,
		  "123456789: 68                                       h\n");
}

int main(void)
{
	test_vectors();
	test_million();
	test_hexdump();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
