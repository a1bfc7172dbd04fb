/* pcap: D-Bus messages in a libpcap capture file (link type 231, DBUS),
 * which Wireshark dissects: one file header, then one record per message
 * holding the whole message as it came off the wire.  Prefix: dbus_pcap_. */
#ifndef IPCBOX_DBUS_PCAP_H
#define IPCBOX_DBUS_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DBUS_PCAP_LINKTYPE 231
#define DBUS_PCAP_SNAPLEN (128u * 1024 * 1024) /* the largest message */

/* The file header (version 2.4, microsecond times, host byte order).
 * 0, or -1 if f refused it (as ferror(f) then says). */
int dbus_pcap_header(FILE *f);

/* One record: the raw message raw[0..len) received at sec.usec.
 * 0, or -1 as above. */
int dbus_pcap_record(FILE *f, const uint8_t *raw, size_t len, int64_t sec, long usec);

#endif
