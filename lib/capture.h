/* capture: reading packet captures, pcap and pcapng, one record at a time.
 *
 * Formats: libpcap files (magic 0xa1b2c3d4 for microsecond and 0xa1b23c4d
 * for nanosecond times, either byte order) and pcapng (sections, interface
 * descriptions with if_tsresol, enhanced packet blocks; other blocks are
 * skipped by their length).  Every byte is untrusted: each length is
 * checked against the block that holds it and against CAPTURE_MAX_RECORD
 * before it is used, and nothing is read past the bytes given.
 *
 * The reader is a push parser over the caller's buffer, so the same code
 * serves a whole file in memory (the fuzz target) and a pipe read as it
 * grows (bus-monitor --pcap - | bus-diagram --text).  Prefix: capture_. */
#ifndef IPCBOX_CAPTURE_H
#define IPCBOX_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* The largest record accepted: a D-Bus message's limit (128 MiB) and room
 * for the block around it. */
#define CAPTURE_MAX_RECORD (128u * 1024 * 1024 + 4096)
/* pcapng interfaces remembered per section; a packet on a higher one is
 * corrupt. */
#define CAPTURE_MAX_IFACES 64

enum capture_format { CAPTURE_UNKNOWN, CAPTURE_PCAP, CAPTURE_PCAPNG };

/* What capture_next found. */
enum capture_result {
	CAPTURE_RECORD, /* a packet: *rec is filled */
	CAPTURE_MORE,   /* the bytes given end inside the next block: give more */
	CAPTURE_END,    /* eof exactly at a block boundary */
	CAPTURE_CUT,    /* eof inside a block: err says where */
	CAPTURE_BAD,    /* not a capture, or a corrupt block: err says what */
};

struct capture_iface {
	uint32_t linktype;
	uint8_t tsresol; /* pcapng if_tsresol: 10^-n (bit 7 clear) or 2^-n seconds */
};

/* The reader's state; zero it before the first call. */
struct capture {
	enum capture_format format;
	int swap;                  /* the file's byte order is not ours */
	int nanosec;               /* pcap: nanosecond timestamps */
	uint32_t linktype;         /* pcap: the file's link type */
	struct capture_iface ifaces[CAPTURE_MAX_IFACES];
	uint32_t nifaces;          /* pcapng: in the current section */
	uint64_t offset;           /* file offset of the next unread byte */
	uint64_t records;          /* records returned so far */
	char err[160];
};

/* One packet: data[0..len) points into the caller's buffer. */
struct capture_record {
	const uint8_t *data;
	size_t len;
	uint32_t linktype;
	int64_t ts_ns; /* nanoseconds since the epoch (as the file says) */
	uint64_t offset; /* where its record starts in the file */
};

/* Look at buf[0..len), the unread bytes of the file (the first call: from
 * its start); eof: no more bytes will come.  *used gets the bytes consumed,
 * which the caller drops before the next call (also on CAPTURE_MORE, where
 * a skipped block or a header may have been consumed).  On CAPTURE_RECORD,
 * rec->data points into buf: use it before dropping the bytes. */
enum capture_result capture_next(struct capture *c, const uint8_t *buf, size_t len, int eof,
				 size_t *used, struct capture_record *rec);

/* Read the capture from fd to its end: fn(record, ctx) for each record (a
 * nonzero return stops the reading and is returned); idle(ctx), if not
 * NULL, before each read(2), which may wait (a live pipe: flush what was
 * printed, wait for the input or a signal); its nonzero return stops the
 * reading and is returned too.  Returns 0 with *end CAPTURE_END,
 * CAPTURE_CUT or CAPTURE_BAD (c->err says why), fn's or idle's nonzero
 * value, or -1 with errno if a read failed. */
int capture_read_fd(struct capture *c, int fd, int (*fn)(const struct capture_record *r, void *ctx),
		    int (*idle)(void *ctx), void *ctx, enum capture_result *end);

#endif
