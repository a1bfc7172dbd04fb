/* sha1: the SHA-1 message digest (RFC 3174).
 *
 * Needed only to compute Qt's legacy IPC key names (lib/ipcname.c), which
 * end in the hex SHA-1 of the key; libc has no SHA-1.  Not for security. */
#ifndef IPCBOX_SHA1_H
#define IPCBOX_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;          /* total message length so far */
	unsigned char block[64]; /* the partial block not yet compressed */
	size_t fill;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t len);
void sha1_final(struct sha1 *s, unsigned char digest[20]);
/* The digest of data[0..len) as 40 lowercase hex digits and a NUL. */
void sha1_hex(const void *data, size_t len, char hex[41]);

#endif
