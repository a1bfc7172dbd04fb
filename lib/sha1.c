/* sha1: RFC 3174 SHA-1; see sha1.h. */
#include "sha1.h"

#include <stdio.h>
#include <string.h>

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

/* Compress one 64-byte block into the state (RFC 3174 section 6.1). */
static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		uint32_t tmp = rol(a, 5) + f + e + w[t] + k;
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1_init(struct sha1 *s)
{
	static const uint32_t init[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
					 0xC3D2E1F0};
	memcpy(s->h, init, sizeof init);
	s->bytes = 0;
	s->fill = 0;
}

void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->bytes += len;
	while (len > 0) {
		size_t take = 64 - s->fill;
		if (take > len)
			take = len;
		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		len -= take;
		if (s->fill == 64) {
			sha1_block(s->h, s->block);
			s->fill = 0;
		}
	}
}

/* Pad with 0x80, zeros and the bit length (big-endian), as RFC 3174 4. */
void sha1_final(struct sha1 *s, unsigned char digest[20])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, padlen + 8);
	for (int i = 0; i < 20; i++)
		digest[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void sha1_hex(const void *data, size_t len, char hex[41])
{
	static const char digits[] = "0123456789abcdef";
	struct sha1 s;
	unsigned char d[20];

	sha1_init(&s);
	sha1_update(&s, data, len);
	sha1_final(&s, d);
	for (int i = 0; i < 20; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[40] = 0;
}
