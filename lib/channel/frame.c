/* chan_frame: building and checking the version 1 channel frame (frame.h). */
#include "frame.h"

#include <stdint.h>
#include <string.h>

static const unsigned char magic[4] = {'I', 'P', 'C', 'h'};

static void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, size_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static size_t get16(const unsigned char *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

static size_t get32(const unsigned char *p)
{
	return get16(p) | get16(p + 2) << 16;
}

size_t chan_frame_prefix(unsigned char *out, const struct chan_msg *m)
{
	if (m->channel_len < 1 || m->channel_len > CHAN_NAME_MAX || m->message_len > CHAN_MESSAGE_MAX ||
	    m->data_len > CHAN_DATA_MAX)
		return 0;
	memcpy(out, magic, 4);
	out[4] = CHAN_FRAME_VERSION;
	out[5] = 0;
	put16(out + 6, m->channel_len);
	put16(out + 8, m->message_len);
	put16(out + 10, 0);
	put32(out + 12, m->data_len);
	memcpy(out + CHAN_FRAME_HDR, m->channel, m->channel_len);
	memcpy(out + CHAN_FRAME_HDR + m->channel_len, m->message, m->message_len);
	return CHAN_FRAME_HDR + m->channel_len + m->message_len;
}

void chan_frame_set_data_len(unsigned char *prefix, size_t data_len)
{
	put32(prefix + 12, data_len);
}

int chan_frame_parse(const void *buf, size_t len, struct chan_msg *m, const char **why)
{
	const unsigned char *p = buf;
	size_t cl, ml, dl;

	*why = NULL;
	if (len < CHAN_FRAME_HDR)
		*why = "shorter than the frame header";
	else if (memcmp(p, magic, 4) != 0)
		*why = "bad magic";
	else if (p[4] != CHAN_FRAME_VERSION)
		*why = "unknown frame version";
	else if (p[5] != 0 || get16(p + 10) != 0)
		*why = "unknown flags";
	if (*why)
		return -1;
	cl = get16(p + 6);
	ml = get16(p + 8);
	dl = get32(p + 12);
	if (cl < 1 || cl > CHAN_NAME_MAX)
		*why = "channel length out of range";
	else if (ml > CHAN_MESSAGE_MAX)
		*why = "message name length out of range";
	else if (dl > CHAN_DATA_MAX)
		*why = "data length out of range";
	else if (len != CHAN_FRAME_HDR + cl + ml + dl)
		*why = "lengths do not add up to the datagram size";
	if (*why)
		return -1;
	m->channel = (const char *)p + CHAN_FRAME_HDR;
	m->channel_len = cl;
	m->message = m->channel + cl;
	m->message_len = ml;
	m->data = m->message + ml;
	m->data_len = dl;
	return 0;
}
