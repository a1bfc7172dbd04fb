/* parse: strict conversions of text to numbers, durations, sizes and modes.
 *
 * Every function accepts the whole string or nothing: junk, overflow,
 * negatives where a count is expected, and empty strings all return -1
 * (errno EINVAL or ERANGE) and leave *out untouched.  The field readers at
 * the end take one field of a line at a time, with the same strictness. */
#ifndef IPCBOX_PARSE_H
#define IPCBOX_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int parse_hexdigit(int c);
/* The run of decimal digits that starts s[0..len), at most 19 of them (so
 * the value cannot overflow): its length, 0 when s[0] is no digit, and its
 * value in *out.  For numbers inside a larger text (a port after a host, the
 * N of "argvN"); the caller checks what follows the run. */
size_t parse_digits(const char *s, size_t len, uint64_t *out);
/* %-decode s[0..len) into out (size bytes with its NUL): 0, the decoded
 * length in *outlen; -1 with errno EINVAL for a '%' not followed by two hex
 * digits, ERANGE when out is too small.  %00 decodes to a NUL byte: whether
 * one may stand is the caller's to say. */
int parse_pct_decode(const char *s, size_t len, char *out, size_t size, size_t *outlen);
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

/* Lines of whitespace-separated fields, as in /proc/sysvipc/shm or
 * /proc/PID/maps.  Blanks are spaces and tabs; a newline ends the line. */

/* Skips the blanks at line, copies the field that follows into buf (size
 * bytes with its NUL; buf NULL: the field is skipped) and returns the
 * position after it.  NULL when there is no field before the end of the
 * line (EINVAL) or it does not fit buf (ERANGE). */
const char *parse_field(const char *line, char *buf, size_t size);
/* The first n (at most PARSE_FIELDS_MAX) fields of line as integers into
 * v[0..n-1]: as parse_int reads them (an optional sign, decimal or 0x hex),
 * or plain octal digits for the fields i whose bit (1u << i) is set in
 * octal.  Returns the position after the last of them (the rest of the
 * line, not split); NULL (EINVAL or ERANGE, v untouched) when a field is
 * missing, junk, longer than 63 characters or outside int64_t. */
#define PARSE_FIELDS_MAX 16
const char *parse_int_fields(const char *line, int64_t *v, unsigned n, unsigned octal);

#endif
