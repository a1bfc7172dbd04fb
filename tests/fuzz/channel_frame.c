/* Fuzz target: lib/channel's frame parser (every datagram a listener
 * receives), and on the same bytes the registration file parser and the
 * pattern matcher (pattern and name split at the first NUL).  A parsed
 * frame's lengths must lie within the input, and building it again gives
 * the same bytes.  Round trip the other way: the input cut into channel,
 * message and data (lengths from its first bytes) is built with
 * chan_frame_prefix and must parse back to those three. */
#include "lib/channel/dir.h"
#include "lib/channel/frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Build a frame from m and check it parses back to m (or that building
 * refused a length out of range). */
static void build_parse(const struct chan_msg *m)
{
	static unsigned char frame[CHAN_FRAME_MAX];
	struct chan_msg back;
	const char *why;
	size_t n = chan_frame_prefix(frame, m);
	int ok = m->channel_len >= 1 && m->channel_len <= CHAN_NAME_MAX &&
		 m->message_len <= CHAN_MESSAGE_MAX && m->data_len <= CHAN_DATA_MAX;

	if (!ok) {
		if (n != 0)
			abort();
		return;
	}
	if (n != CHAN_FRAME_HDR + m->channel_len + m->message_len)
		abort();
	memcpy(frame + n, m->data, m->data_len);
	if (chan_frame_parse(frame, n + m->data_len, &back, &why) != 0)
		abort();
	if (back.channel_len != m->channel_len || memcmp(back.channel, m->channel, m->channel_len) ||
	    back.message_len != m->message_len || memcmp(back.message, m->message, m->message_len) ||
	    back.data_len != m->data_len || memcmp(back.data, m->data, m->data_len))
		abort();
	/* a new data length in the same prefix: the sender's -l path */
	if (m->data_len > 0) {
		chan_frame_set_data_len(frame, m->data_len - 1);
		if (chan_frame_parse(frame, n + m->data_len - 1, &back, &why) != 0 ||
		    back.data_len != m->data_len - 1)
			abort();
	}
}

/* Parse, then rebuild: the same bytes. */
static void parse_build(const uint8_t *data, size_t size, const struct chan_msg *m)
{
	static unsigned char frame[CHAN_PREFIX_MAX];
	size_t n = chan_frame_prefix(frame, m);

	if (n == 0 || n + m->data_len != size || memcmp(frame, data, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chan_reg reg;
	struct chan_msg m;
	const char *why;
	const char *nul;

	if (chan_frame_parse(data, size, &m, &why) == 0) {
		if (m.data + m.data_len != (const char *)data + size || m.channel_len == 0)
			abort();
		chan_reg_matches(&reg, m.channel, m.channel_len);
		parse_build(data, size, &m);
	}
	if (size >= 2) {
		size_t cl = data[0], ml = data[1], rest = size - 2;
		cl = cl < rest ? cl : rest;
		ml = ml < rest - cl ? ml : rest - cl;
		m = (struct chan_msg){(const char *)data + 2, cl, (const char *)data + 2 + cl, ml,
				      (const char *)data + 2 + cl + ml, rest - cl - ml};
		build_parse(&m);
	}
	if (size <= CHAN_REG_FILE_MAX) {
		memcpy(reg.text, data, size);
		if (chan_reg_parse(&reg, size) < 0)
			reg.npat = 0;
		for (int i = 0; i < reg.npat; i++)
			if (reg.patoff[i] + reg.patlen[i] > size)
				abort();
		reg.npat = 0;
	}
	nul = memchr(data, 0, size);
	if (nul)
		chan_match((const char *)data, (size_t)(nul - (const char *)data), nul + 1,
			   size - (size_t)(nul - (const char *)data) - 1);
	return 0;
}
