/* json: writing JSON text to a stdio stream.
 *
 * Strings are emitted as valid UTF-8 JSON.  A byte that is not part of a
 * valid UTF-8 sequence is escaped as \udcXX (XX its value), the convention
 * of Python's "surrogateescape": nothing is dropped, and a reader can get the
 * original bytes back. */
#ifndef IPCBOX_JSON_H
#define IPCBOX_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s[0..len) as a quoted JSON string. */
void json_string(FILE *f, const char *s, size_t len);
/* The same for a NUL-terminated string. */
void json_cstring(FILE *f, const char *s);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there
 * are not valid UTF-8 (overlong forms, surrogates and > U+10FFFF included). */
size_t json_utf8_seq(const unsigned char *s, size_t len);

#endif
