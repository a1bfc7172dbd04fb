/* io: whole reads and writes that survive EINTR and short transfers.
 * The relay loop shared by the socket applets lives here too (io_relay). */
#ifndef IPCBOX_IO_H
#define IPCBOX_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes; 0 on success, -1 with errno on failure. */
int io_write_all(int fd, const void *buf, size_t len);
/* Read a whole file descriptor into a malloc'd buffer, refusing more than
 * max bytes (errno EFBIG).  *len gets the size; the buffer is NUL-terminated. */
char *io_read_all(int fd, size_t max, size_t *len);

#endif
