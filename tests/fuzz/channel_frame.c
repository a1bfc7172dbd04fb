/* Fuzz target: lib/channel's frame parser (every datagram a listener
 * receives), and on the same bytes the registration file parser and the
 * pattern matcher (pattern and name split at the first NUL).  A parsed
 * frame's lengths must lie within the input. */
#include "lib/channel/dir.h"
#include "lib/channel/frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
