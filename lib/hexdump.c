/* hexdump: xxd-style dumps; see hexdump.h. */
#include "hexdump.h"

#include <string.h>

size_t hexdump_line(char line[HEXDUMP_LINE_MAX], uint64_t off, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	int len = snprintf(line, HEXDUMP_LINE_MAX, "%08llx: ", (unsigned long long)off);
	size_t at = (size_t)len;

	if (n > 16)
		n = 16;
	for (size_t i = 0; i < 16; i++) {
		if (i < n) {
			line[at++] = digits[p[i] >> 4];
			line[at++] = digits[p[i] & 15];
		} else {
			line[at++] = ' ';
			line[at++] = ' ';
		}
		if (i % 2 == 1)
			line[at++] = ' ';
	}
	line[at++] = ' ';
	for (size_t i = 0; i < n; i++)
		line[at++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	line[at++] = '\n';
	line[at] = 0;
	return at;
}

int hexdump_write(FILE *f, uint64_t base, const void *data, size_t len)
{
	const unsigned char *p = data;
	char line[HEXDUMP_LINE_MAX];

	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;
		size_t l = hexdump_line(line, base + off, p + off, n);
		if (fwrite(line, 1, l, f) != l)
			return -1;
	}
	return fflush(f) == 0 ? 0 : -1;
}
