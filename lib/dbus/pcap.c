/* pcap: D-Bus messages in a libpcap capture file; see pcap.h. */
#include "pcap.h"

#include <string.h>

int dbus_pcap_header(FILE *f)
{
	uint32_t h[6] = {0xa1b2c3d4, 0, 0, 0, DBUS_PCAP_SNAPLEN, DBUS_PCAP_LINKTYPE};
	uint16_t v[2] = {2, 4};

	memcpy(&h[1], v, sizeof v);
	return fwrite(h, sizeof h, 1, f) == 1 ? 0 : -1;
}

int dbus_pcap_record(FILE *f, const uint8_t *raw, size_t len, int64_t sec, long usec)
{
	uint32_t r[4] = {(uint32_t)sec, (uint32_t)usec, (uint32_t)len, (uint32_t)len};

	if (fwrite(r, sizeof r, 1, f) != 1)
		return -1;
	return len == 0 || fwrite(raw, len, 1, f) == 1 ? 0 : -1;
}
