/* capture: pcap and pcapng records; see capture.h.
 *
 * pcap: a 24-byte file header (magic, version 2.4, zone, sigfigs, snaplen,
 * link type), then records of a 16-byte header (seconds, micro- or
 * nanoseconds, included length, original length) and the included bytes.
 * pcapng: blocks of (type, total length, body, total length again), the
 * lengths in the byte order the section header's magic 0x1A2B3C4D gives. */
#include "capture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_IDB 1u
#define PCAPNG_EPB 6u
#define PCAPNG_OPT_TSRESOL 9u

static uint32_t rd32(const struct capture *c, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return c->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct capture *c, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return c->swap ? __builtin_bswap16(v) : v;
}

static enum capture_result fail(struct capture *c, enum capture_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum capture_result fail(struct capture *c, enum capture_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return r;
}

/* The bytes end before `need`: more may come, or the file was cut. */
static enum capture_result short_read(struct capture *c, int eof, const char *what)
{
	if (!eof)
		return CAPTURE_MORE;
	return fail(c, CAPTURE_CUT, "cut inside %s at byte %llu", what,
		    (unsigned long long)c->offset);
}

/* The first bytes of the file: which format, which byte order. */
static enum capture_result file_header(struct capture *c, const uint8_t *buf, size_t len, int eof,
				       size_t *used)
{
	uint32_t magic;

	if (len < 4)
		return eof ? fail(c, CAPTURE_BAD, len ? "not a capture: %zu bytes" : "not a capture: empty", len)
			   : CAPTURE_MORE;
	memcpy(&magic, buf, 4);
	if (magic == PCAPNG_SHB) { /* the same either way round: the section header says more */
		c->format = CAPTURE_PCAPNG;
		return CAPTURE_MORE;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		c->swap = 0;
	else if (__builtin_bswap32(magic) == PCAP_MAGIC_US || __builtin_bswap32(magic) == PCAP_MAGIC_NS)
		c->swap = 1;
	else
		return fail(c, CAPTURE_BAD, "not a capture: no pcap or pcapng magic number");
	if (len < 24)
		return eof ? fail(c, CAPTURE_BAD, "not a capture: pcap header cut at byte %zu", len)
			   : CAPTURE_MORE;
	c->nanosec = rd32(c, buf) == PCAP_MAGIC_NS;
	if (rd16(c, buf + 4) != 2)
		return fail(c, CAPTURE_BAD, "not a capture: pcap version %u.%u", rd16(c, buf + 4),
			    rd16(c, buf + 6));
	c->linktype = rd32(c, buf + 20) & 0x0fffffffu; /* the top bits are FCS flags */
	c->format = CAPTURE_PCAP;
	*used = 24;
	return CAPTURE_MORE;
}

static enum capture_result pcap_record(struct capture *c, const uint8_t *buf, size_t len, int eof,
				       size_t *used, struct capture_record *rec)
{
	uint32_t sec, frac, incl;

	if (len == 0)
		return eof ? CAPTURE_END : CAPTURE_MORE;
	if (len < 16)
		return short_read(c, eof, "a record header");
	sec = rd32(c, buf);
	frac = rd32(c, buf + 4);
	incl = rd32(c, buf + 8);
	if (incl > CAPTURE_MAX_RECORD)
		return fail(c, CAPTURE_BAD, "corrupt record at byte %llu: length %u",
			    (unsigned long long)c->offset, incl);
	if (frac >= (c->nanosec ? 1000000000u : 1000000u))
		return fail(c, CAPTURE_BAD, "corrupt record at byte %llu: fraction of a second %u",
			    (unsigned long long)c->offset, frac);
	if (len - 16 < incl)
		return short_read(c, eof, "a record");
	rec->data = buf + 16;
	rec->len = incl;
	rec->linktype = c->linktype;
	rec->ts_ns = (int64_t)sec * 1000000000 + (c->nanosec ? frac : (int64_t)frac * 1000);
	rec->offset = c->offset;
	*used = 16 + (size_t)incl;
	return CAPTURE_RECORD;
}

/* pcapng timestamp units to nanoseconds, at most INT64_MAX (a 64-bit
 * count of picoseconds or of 2^-n seconds goes beyond it; it never wraps
 * into a negative time). */
static int64_t pcapng_ns(uint64_t ts, uint8_t resol)
{
	unsigned n = resol & 0x7f;
	unsigned __int128 v;

	if (resol & 0x80) { /* 2^-n seconds */
		v = n >= 64 ? 0 : ((unsigned __int128)ts * 1000000000u) >> n;
		return v > INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	if (n <= 9) {
		uint64_t mul = 1;
		for (unsigned i = n; i < 9; i++)
			mul *= 10;
		v = (unsigned __int128)ts * mul;
		return v > INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	for (unsigned i = 9; i < n && ts; i++)
		ts /= 10;
	return ts > INT64_MAX ? INT64_MAX : (int64_t)ts;
}

/* The options of an interface description: if_tsresol is the only one
 * read.  opts[0..len): code, length, value padded to 4. */
static enum capture_result idb_options(struct capture *c, const uint8_t *p, size_t len,
				       struct capture_iface *ifc)
{
	while (len >= 4) {
		uint16_t code = rd16(c, p), olen = rd16(c, p + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;
		if (code == 0)
			break;
		if (padded > len - 4)
			return fail(c, CAPTURE_BAD, "corrupt interface block at byte %llu: option %u overruns it",
				    (unsigned long long)c->offset, code);
		if (code == PCAPNG_OPT_TSRESOL && olen >= 1)
			ifc->tsresol = p[4];
		p += 4 + padded;
		len -= 4 + padded;
	}
	return CAPTURE_MORE;
}

/* One pcapng block at buf; body[0..blen) is what lies between the two
 * length fields after the type. */
static enum capture_result pcapng_block(struct capture *c, uint32_t type, const uint8_t *body,
					size_t blen, struct capture_record *rec)
{
	if (type == PCAPNG_IDB) {
		struct capture_iface ifc = {0, 6};
		if (blen < 8)
			return fail(c, CAPTURE_BAD, "corrupt interface block at byte %llu",
				    (unsigned long long)c->offset);
		if (c->nifaces == CAPTURE_MAX_IFACES)
			return fail(c, CAPTURE_BAD, "more than %d interfaces in a section", CAPTURE_MAX_IFACES);
		ifc.linktype = rd16(c, body);
		if (idb_options(c, body + 8, blen - 8, &ifc) == CAPTURE_BAD)
			return CAPTURE_BAD;
		c->ifaces[c->nifaces++] = ifc;
		return CAPTURE_MORE;
	}
	if (type == PCAPNG_EPB) {
		uint32_t id, caplen;
		uint64_t ts;
		if (blen < 20)
			return fail(c, CAPTURE_BAD, "corrupt packet block at byte %llu",
				    (unsigned long long)c->offset);
		id = rd32(c, body);
		ts = (uint64_t)rd32(c, body + 4) << 32 | rd32(c, body + 8);
		caplen = rd32(c, body + 12);
		if (id >= c->nifaces)
			return fail(c, CAPTURE_BAD, "corrupt packet block at byte %llu: no interface %u",
				    (unsigned long long)c->offset, id);
		if (caplen > blen - 20)
			return fail(c, CAPTURE_BAD, "corrupt packet block at byte %llu: length %u",
				    (unsigned long long)c->offset, caplen);
		rec->data = body + 20;
		rec->len = caplen;
		rec->linktype = c->ifaces[id].linktype;
		rec->ts_ns = pcapng_ns(ts, c->ifaces[id].tsresol);
		rec->offset = c->offset;
		return CAPTURE_RECORD;
	}
	return CAPTURE_MORE; /* a block we do not read: skipped by its length */
}

static enum capture_result pcapng_next(struct capture *c, const uint8_t *buf, size_t len, int eof,
				       size_t *used, struct capture_record *rec)
{
	uint32_t type, total;
	enum capture_result r;

	if (len == 0)
		return eof ? CAPTURE_END : CAPTURE_MORE;
	if (len < 12)
		return short_read(c, eof, "a block header");
	memcpy(&type, buf, 4);
	if (type == PCAPNG_SHB) {
		uint32_t bom;
		memcpy(&bom, buf + 8, 4);
		if (bom == PCAPNG_BOM)
			c->swap = 0;
		else if (__builtin_bswap32(bom) == PCAPNG_BOM)
			c->swap = 1;
		else
			return fail(c, CAPTURE_BAD, "%s at byte %llu: bad byte-order magic",
				    c->offset ? "corrupt section header" : "not a capture",
				    (unsigned long long)c->offset);
		c->nifaces = 0;
	} else {
		type = rd32(c, buf);
	}
	total = rd32(c, buf + 4);
	if (total < 12 || total % 4 || total > CAPTURE_MAX_RECORD)
		return fail(c, CAPTURE_BAD, "corrupt block at byte %llu: length %u",
			    (unsigned long long)c->offset, total);
	if (type == PCAPNG_SHB && total < 28)
		return fail(c, CAPTURE_BAD, "corrupt section header at byte %llu: length %u",
			    (unsigned long long)c->offset, total);
	if (len < total)
		return short_read(c, eof, "a block");
	if (rd32(c, buf + total - 4) != total)
		return fail(c, CAPTURE_BAD, "corrupt block at byte %llu: its two lengths differ",
			    (unsigned long long)c->offset);
	if (type == PCAPNG_SHB && rd16(c, buf + 12) != 1)
		return fail(c, CAPTURE_BAD, "unknown pcapng version %u at byte %llu", rd16(c, buf + 12),
			    (unsigned long long)c->offset);
	r = type == PCAPNG_SHB ? CAPTURE_MORE : pcapng_block(c, type, buf + 8, total - 12, rec);
	if (r != CAPTURE_BAD)
		*used = total;
	return r;
}

enum capture_result capture_next(struct capture *c, const uint8_t *buf, size_t len, int eof,
				 size_t *used, struct capture_record *rec)
{
	enum capture_result r;

	*used = 0;
	if (c->format == CAPTURE_UNKNOWN) {
		r = file_header(c, buf, len, eof, used);
		c->offset += *used;
		if (r != CAPTURE_MORE || c->format == CAPTURE_UNKNOWN)
			return r;
		buf += *used;
		len -= *used;
		if (c->format == CAPTURE_PCAPNG && len < 12 && eof)
			return fail(c, CAPTURE_BAD, "not a capture: pcapng header cut at byte %zu", len);
	}
	size_t first = *used;
	*used = 0;
	if (c->format == CAPTURE_PCAP)
		r = pcap_record(c, buf, len, eof, used, rec);
	else
		r = pcapng_next(c, buf, len, eof, used, rec);
	c->offset += *used;
	*used += first;
	if (r == CAPTURE_RECORD)
		c->records++;
	return r;
}

#define READ_CHUNK (256u * 1024)

int capture_read_fd(struct capture *c, int fd, int (*fn)(const struct capture_record *r, void *ctx),
		    int (*idle)(void *ctx), void *ctx, enum capture_result *end)
{
	size_t cap = READ_CHUNK, start = 0, len = 0, used;
	uint8_t *buf = malloc(cap);
	int eof = 0, ret = 0;

	if (!buf)
		return -1;
	for (;;) {
		struct capture_record rec;
		enum capture_result r = capture_next(c, buf + start, len - start, eof, &used, &rec);
		start += used;
		if (r == CAPTURE_RECORD) {
			if ((ret = fn(&rec, ctx)) != 0)
				break;
			continue;
		}
		if (r != CAPTURE_MORE) {
			*end = r;
			break;
		}
		/* more bytes: keep the unread ones at the front, room for a chunk */
		if (start) {
			memmove(buf, buf + start, len - start);
			len -= start;
			start = 0;
		}
		if (cap - len < READ_CHUNK / 4) {
			uint8_t *b = cap > CAPTURE_MAX_RECORD + READ_CHUNK ? NULL : realloc(buf, cap * 2);
			if (!b) {
				errno = ENOMEM;
				ret = -1;
				break;
			}
			buf = b;
			cap *= 2;
		}
		if (idle && (ret = idle(ctx)) != 0)
			break;
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -1;
			break;
		}
		if (n == 0)
			eof = 1;
		len += (size_t)n;
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return ret;
}
