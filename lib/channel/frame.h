/* chan_frame: the datagram a channel sender hands to each listener.
 *
 * Version 1, every integer little-endian, no padding:
 *
 *   offset  size  field
 *        0     4  magic "IPCh"
 *        4     1  version (1)
 *        5     1  flags (0; a listener refuses any other value)
 *        6     2  channel length (1..CHAN_NAME_MAX)
 *        8     2  message name length (0..CHAN_MESSAGE_MAX)
 *       10     2  reserved (0)
 *       12     4  data length (0..CHAN_DATA_MAX)
 *       16        channel, message name, data: exactly the lengths above
 *
 * The datagram's size must equal 16 + the three lengths; anything else is
 * refused.  The sender's pid and uid are not in the frame: the kernel
 * attaches them (SCM_CREDENTIALS), so a sender cannot lie about them. */
#ifndef IPCBOX_CHAN_FRAME_H
#define IPCBOX_CHAN_FRAME_H

#include <stddef.h>

#define CHAN_FRAME_VERSION 1
#define CHAN_FRAME_HDR 16
#define CHAN_NAME_MAX 255
#define CHAN_MESSAGE_MAX 255
#define CHAN_DATA_MAX (1024 * 1024)
#define CHAN_PREFIX_MAX (CHAN_FRAME_HDR + CHAN_NAME_MAX + CHAN_MESSAGE_MAX)
#define CHAN_FRAME_MAX (CHAN_PREFIX_MAX + CHAN_DATA_MAX)

/* One message: pointers into a frame or into the sender's buffers. */
struct chan_msg {
	const char *channel;
	size_t channel_len;
	const char *message;
	size_t message_len;
	const char *data;
	size_t data_len;
};

/* Write the header, channel and message name of m to out (at least
 * CHAN_PREFIX_MAX bytes); the data follows it on the wire.  Returns the
 * prefix length, or 0 if a length is out of range. */
size_t chan_frame_prefix(unsigned char *out, const struct chan_msg *m);
/* Store a new data length in a prefix made by chan_frame_prefix. */
void chan_frame_set_data_len(unsigned char *prefix, size_t data_len);
/* Parse a received datagram of len bytes.  On success m points into buf and
 * 0 is returned; otherwise -1 and *why says what is wrong. */
int chan_frame_parse(const void *buf, size_t len, struct chan_msg *m, const char **why);

#endif
