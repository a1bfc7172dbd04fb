/* Fuzz target: lib/mqtt's packet decoder (every byte a broker sends).
 * The input is a stream of packets as a client reads it: each length is
 * taken from the fixed header, bounded by a maximum packet size, then the
 * packet is decoded.  A decoded packet's pointers must lie inside it, and
 * every User Property lookup must stay inside it too.  The UTF-8 checker
 * runs on the whole input as well. */
#include "lib/mqtt/packet.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const void *p, size_t len, const uint8_t *start, size_t size)
{
	const uint8_t *q = p;

	if (len && (q < start || q + len > start + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, total;
	struct mqtt_packet p;
	struct mqtt_str v;
	const char *why;
	uint8_t reason;

	mqtt_utf8_check((const char *)data, size, 1);
	while (off < size && mqtt_packet_len(data + off, size - off, 4096, &total, &reason, &why) == 1 &&
	       total <= size - off) {
		const uint8_t *pk = data + off;
		if (mqtt_parse(pk, total, &p, &reason, &why) == 0) {
			inside(p.topic.p, p.topic.len, pk, total);
			inside(p.payload, p.payload_len, pk, total);
			inside(p.codes, p.ncodes, pk, total);
			inside(p.props.reason.p, p.props.reason.len, pk, total);
			inside(p.props.user, p.props.user_len, pk, total);
			if (mqtt_user_prop(&p.props, "qcop-message", &v))
				inside(v.p, v.len, pk, total);
			if (mqtt_user_prop(&p.props, "qcop-origin", &v))
				inside(v.p, v.len, pk, total);
		} else if (!why || reason < 0x80) {
			abort();
		}
		off += total;
	}
	return 0;
}
