/* hexdump: xxd's default layout.
 *
 *   00000000: 6865 6c6c 6f0a                           hello.
 *
 * An offset of at least 8 hex digits, 16 bytes in groups of two, the hex
 * column padded to full width on a short last line, then the bytes with
 * anything outside printable ASCII shown as '.'. */
#ifndef IPCBOX_HEXDUMP_H
#define IPCBOX_HEXDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest line hexdump_line writes, with its newline and NUL. */
#define HEXDUMP_LINE_MAX 96

/* Format one line of up to 16 bytes at offset off into line; returns its
 * length (the newline included). */
size_t hexdump_line(char line[HEXDUMP_LINE_MAX], uint64_t off, const unsigned char *p, size_t n);
/* Dump data[0..len) to f, the first byte labelled with offset base.
 * Returns 0, or -1 if writing failed. */
int hexdump_write(FILE *f, uint64_t base, const void *data, size_t len);

#endif
