/* parse: strict conversions of text to numbers, durations, sizes and modes.
 *
 * Every function accepts the whole string or nothing: junk, overflow,
 * negatives where a count is expected, and empty strings all return -1
 * (errno EINVAL or ERANGE) and leave *out untouched. */
#ifndef IPCBOX_PARSE_H
#define IPCBOX_PARSE_H

#include <stdint.h>

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int parse_hexdigit(int c);
/* Unsigned decimal (or 0x hex) in [0, max]. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);
/* Signed decimal (or 0x hex) in [min, max]. */
int parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Duration: "250ms", "1.5s", "2m", "1h", bare seconds, "inf" (-> -1).
 * Result in milliseconds, rounded up so a non-zero duration is never 0 ms. */
int parse_duration(const char *s, int64_t *ms);
/* Size: "4096", "4K", "4KiB", "1M", "1G", "1T" (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
/* Octal permission bits such as "600" or "0644" (at most 07777). */
int parse_mode(const char *s, unsigned *out);

#endif
