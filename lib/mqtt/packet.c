/* mqtt_packet: encoding and checking MQTT 5.0 packets; see packet.h. */
#include "packet.h"

#include <stdlib.h>
#include <string.h>

/* ---- reading ------------------------------------------------------------- */

/* A cursor over bytes from the broker; every getter checks the length
 * left before it reads, and a failure sticks (reason and why). */
struct rd {
	const unsigned char *p, *end;
	uint8_t reason;
	const char *why;
};

static int rd_fail(struct rd *r, uint8_t reason, const char *why)
{
	if (!r->why) {
		r->reason = reason;
		r->why = why;
	}
	r->p = r->end;
	return -1;
}

static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return rd_fail(r, MQTT_RC_MALFORMED, "packet ends early");
	*v = *r->p++;
	return 0;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return rd_fail(r, MQTT_RC_MALFORMED, "packet ends early");
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return rd_fail(r, MQTT_RC_MALFORMED, "packet ends early");
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return 0;
}

/* A Variable Byte Integer: at most 4 bytes, shortest form (§1.5.5). */
static int vbi_get(const unsigned char *p, size_t len, uint32_t *v, size_t *used)
{
	uint32_t x = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= len)
			return 0;
		x |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return -1;
			*v = x;
			*used = i + 1;
			return 1;
		}
	}
	return -1;
}

static int rd_vbi(struct rd *r, uint32_t *v)
{
	size_t used;
	int k = vbi_get(r->p, rd_left(r), v, &used);

	if (k == 0)
		return rd_fail(r, MQTT_RC_MALFORMED, "packet ends inside a variable byte integer");
	if (k < 0)
		return rd_fail(r, MQTT_RC_MALFORMED, "malformed variable byte integer");
	r->p += used;
	return 0;
}

static int rd_bin(struct rd *r, struct mqtt_str *s)
{
	uint16_t n;

	if (rd_u16(r, &n) < 0)
		return -1;
	if (rd_left(r) < n)
		return rd_fail(r, MQTT_RC_MALFORMED, "a length runs past the end of the packet");
	s->p = (const char *)r->p;
	s->len = n;
	r->p += n;
	return 0;
}

static int rd_str(struct rd *r, struct mqtt_str *s)
{
	if (rd_bin(r, s) < 0)
		return -1;
	if (mqtt_utf8_check(s->p, s->len, 0))
		return rd_fail(r, MQTT_RC_MALFORMED, "a string is not valid UTF-8");
	return 0;
}

const char *mqtt_utf8_check(const char *s, size_t len, int strict)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		uint32_t c = *p, min;
		size_t n;

		if (c < 0x80) {
			n = 0, min = 0;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return "invalid UTF-8 lead byte";
		}
		if ((size_t)(end - p) <= n)
			return "truncated UTF-8 sequence";
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return "invalid UTF-8 continuation byte";
			c = c << 6 | (p[i] & 0x3f);
		}
		if (c < min)
			return "overlong UTF-8 sequence";
		if (c > 0x10ffff)
			return "code point above U+10FFFF";
		if (c >= 0xd800 && c <= 0xdfff)
			return "UTF-16 surrogate in UTF-8";
		if (c == 0)
			return "contains U+0000";
		if (strict && (c < 0x20 || (c >= 0x7f && c <= 0x9f)))
			return "contains a control character";
		if (strict && ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe))
			return "contains a Unicode noncharacter";
		p += n + 1;
	}
	return NULL;
}

int mqtt_filter_match(const char *f, size_t flen, const char *t, size_t tlen)
{
	const char *fe = f + flen, *te = t + tlen;

	if (tlen && *t == '$' && flen && (*f == '+' || *f == '#'))
		return 0;
	for (;;) {
		const char *fl = memchr(f, '/', (size_t)(fe - f)), *tl;
		if (!fl)
			fl = fe;
		if (fl - f == 1 && *f == '#')
			return 1;
		tl = t <= te ? memchr(t, '/', (size_t)(te - t)) : NULL;
		if (t > te)
			return 0;
		if (!tl)
			tl = te;
		if (!(fl - f == 1 && *f == '+') && (fl - f != tl - t || memcmp(f, t, (size_t)(fl - f)) != 0))
			return 0;
		if (fl == fe && tl == te)
			return 1;
		if (fl == fe)
			return 0;
		/* "a/#" matches "a": the filter goes on, the topic has ended. */
		if (tl == te)
			return fe - fl == 2 && fl[1] == '#';
		f = fl + 1;
		t = tl + 1;
	}
}

/* ---- properties ---------------------------------------------------------- */

/* Which packets (bit 1 << type) may carry each property id, from a server. */
#define IN(t) (1u << MQTT_##t)
enum { P_BYTE, P_U16, P_U32, P_VBI, P_STR, P_BIN, P_PAIR };
static const struct prop_rule {
	uint8_t kind;
	uint16_t where;
} prop_rules[0x2b] = {
	[0x01] = {P_BYTE, IN(PUBLISH)},  [0x02] = {P_U32, IN(PUBLISH)},  [0x03] = {P_STR, IN(PUBLISH)},
	[0x08] = {P_STR, IN(PUBLISH)},   [0x09] = {P_BIN, IN(PUBLISH)},  [0x0b] = {P_VBI, IN(PUBLISH)},
	[0x11] = {P_U32, IN(CONNACK) | IN(DISCONNECT)},   [0x12] = {P_STR, IN(CONNACK)},  [0x13] = {P_U16, IN(CONNACK)},
	[0x15] = {P_STR, IN(CONNACK)},   [0x16] = {P_BIN, IN(CONNACK)},  [0x1a] = {P_STR, IN(CONNACK)},
	[0x1c] = {P_STR, IN(CONNACK) | IN(DISCONNECT)},
	[0x1f] = {P_STR, IN(CONNACK) | IN(PUBACK) | IN(SUBACK) | IN(UNSUBACK) | IN(DISCONNECT)},
	[0x21] = {P_U16, IN(CONNACK)},   [0x22] = {P_U16, IN(CONNACK)},  [0x23] = {P_U16, IN(PUBLISH)},
	[0x24] = {P_BYTE, IN(CONNACK)},  [0x25] = {P_BYTE, IN(CONNACK)},
	[0x26] = {P_PAIR, IN(CONNACK) | IN(PUBLISH) | IN(PUBACK) | IN(SUBACK) | IN(UNSUBACK) | IN(DISCONNECT)},
	[0x27] = {P_U32, IN(CONNACK)},   [0x28] = {P_BYTE, IN(CONNACK)}, [0x29] = {P_BYTE, IN(CONNACK)},
	[0x2a] = {P_BYTE, IN(CONNACK)},
};

/* Read one property value of rule ru into pr; range checks of §2.2.2.2. */
static int prop_value(struct rd *r, unsigned id, const struct prop_rule *ru, struct mqtt_props *pr)
{
	uint8_t b = 0;
	uint16_t h = 0;
	uint32_t w = 0;
	struct mqtt_str s = {NULL, 0}, v;

	switch (ru->kind) {
	case P_BYTE: rd_u8(r, &b); break;
	case P_U16: rd_u16(r, &h); break;
	case P_U32: rd_u32(r, &w); break;
	case P_VBI: rd_vbi(r, &w); break;
	case P_STR: rd_str(r, &s); break;
	case P_BIN: rd_bin(r, &s); break;
	case P_PAIR: rd_str(r, &s), rd_str(r, &v); break;
	}
	if (r->why)
		return -1;
	if (ru->kind == P_BYTE && b > 1)
		return rd_fail(r, MQTT_RC_PROTOCOL, "a property byte is neither 0 nor 1");
	switch (id) {
	case 0x0b:
		if (w == 0)
			return rd_fail(r, MQTT_RC_PROTOCOL, "subscription identifier 0");
		if (pr->sub_id == 0 || w < pr->sub_id)
			pr->sub_id = w;
		break;
	case 0x08:
		if (memchr(s.p, '+', s.len) || memchr(s.p, '#', s.len))
			return rd_fail(r, MQTT_RC_PROTOCOL, "wildcard in a response topic");
		break;
	case 0x12: pr->assigned_id = s; break;
	case 0x13: pr->server_keepalive = h; break;
	case 0x1f: pr->reason = s; break;
	case 0x21:
		if (h == 0)
			return rd_fail(r, MQTT_RC_PROTOCOL, "receive maximum 0");
		pr->receive_max = h;
		break;
	case 0x23: pr->topic_alias = h; break;
	case 0x24: pr->max_qos = b; break;
	case 0x25: pr->retain_available = b; break;
	case 0x27:
		if (w == 0)
			return rd_fail(r, MQTT_RC_PROTOCOL, "maximum packet size 0");
		pr->max_packet = w;
		break;
	case 0x28: pr->wildcard_available = b; break;
	}
	return 0;
}

/* The properties of a packet of type t: Property Length, then properties
 * ending exactly there. */
static int rd_props(struct rd *r, unsigned t, struct mqtt_props *pr)
{
	uint32_t len, id;
	struct rd in;

	if (rd_vbi(r, &len) < 0)
		return -1;
	if (rd_left(r) < len)
		return rd_fail(r, MQTT_RC_MALFORMED, "properties run past the end of the packet");
	in = (struct rd){r->p, r->p + len, 0, NULL};
	r->p += len;
	while (rd_left(&in) > 0) {
		const unsigned char *start = in.p;
		if (rd_vbi(&in, &id) < 0)
			break;
		if (id >= sizeof prop_rules / sizeof *prop_rules || !(prop_rules[id].where & (1u << t))) {
			rd_fail(&in, MQTT_RC_MALFORMED, "unknown or misplaced property");
			break;
		}
		if (id != 0x26 && id != 0x0b && (pr->present & (1ull << id))) {
			rd_fail(&in, MQTT_RC_PROTOCOL, "a property appears twice");
			break;
		}
		pr->present |= 1ull << id;
		if (prop_value(&in, id, &prop_rules[id], pr) < 0)
			break;
		if (id == 0x26) {
			if (!pr->user)
				pr->user = start;
			pr->user_len = (size_t)(in.p - pr->user);
			pr->nuser++;
		}
	}
	if (in.why)
		return rd_fail(r, in.reason, in.why);
	return 0;
}

int mqtt_user_prop(const struct mqtt_props *pr, const char *name, struct mqtt_str *value)
{
	struct rd r = {pr->user, pr->user, 0, NULL};
	size_t nlen = strlen(name);
	struct mqtt_str k, v;
	uint32_t id;

	if (!pr->user)
		return 0;
	r.end = pr->user + pr->user_len;
	while (rd_left(&r) > 0) {
		if (rd_vbi(&r, &id) < 0)
			return 0;
		if (id != 0x26) {
			/* Another property between two User Properties: skip it. */
			prop_value(&r, id, &prop_rules[id], &(struct mqtt_props){0});
			continue;
		}
		if (rd_bin(&r, &k) < 0 || rd_bin(&r, &v) < 0)
			return 0;
		if (k.len == nlen && memcmp(k.p, name, nlen) == 0) {
			*value = v;
			return 1;
		}
	}
	return 0;
}

/* ---- packets ------------------------------------------------------------- */

int mqtt_packet_len(const unsigned char *buf, size_t len, size_t max, size_t *total, uint8_t *reason,
		    const char **why)
{
	uint32_t rl;
	size_t used;
	int k;

	if (len < 2)
		return 0;
	k = vbi_get(buf + 1, len - 1, &rl, &used);
	if (k == 0)
		return 0;
	if (k < 0) {
		*reason = MQTT_RC_MALFORMED;
		*why = "malformed remaining length";
		return -1;
	}
	if (1 + used + (size_t)rl > max) {
		*reason = MQTT_RC_TOO_LARGE;
		*why = "packet larger than our maximum packet size";
		return -1;
	}
	*total = 1 + used + rl;
	return 1;
}

static int parse_publish(struct rd *r, struct mqtt_packet *p)
{
	if (p->qos == 3)
		return rd_fail(r, MQTT_RC_MALFORMED, "PUBLISH with QoS 3");
	if (p->qos == 2)
		return rd_fail(r, MQTT_RC_PROTOCOL, "PUBLISH with QoS 2, which we never asked for");
	if (p->qos == 0 && p->dup)
		return rd_fail(r, MQTT_RC_MALFORMED, "PUBLISH with DUP at QoS 0");
	if (rd_str(r, &p->topic) < 0)
		return -1;
	if (p->qos && rd_u16(r, &p->id) < 0)
		return -1;
	if (p->qos && p->id == 0)
		return rd_fail(r, MQTT_RC_PROTOCOL, "PUBLISH with packet identifier 0");
	if (rd_props(r, MQTT_PUBLISH, &p->props) < 0)
		return -1;
	if (p->props.present & (1ull << 0x23))
		return rd_fail(r, MQTT_RC_ALIAS, "topic alias, which we did not allow");
	if (p->topic.len == 0)
		return rd_fail(r, MQTT_RC_PROTOCOL, "PUBLISH with an empty topic");
	if (memchr(p->topic.p, '+', p->topic.len) || memchr(p->topic.p, '#', p->topic.len))
		return rd_fail(r, MQTT_RC_PROTOCOL, "PUBLISH to a topic with a wildcard");
	p->payload = r->p;
	p->payload_len = rd_left(r);
	r->p = r->end;
	return 0;
}

/* PUBACK and DISCONNECT: an optional reason code, then optional properties. */
static int parse_ack(struct rd *r, struct mqtt_packet *p)
{
	if (p->type == MQTT_PUBACK && rd_u16(r, &p->id) < 0)
		return -1;
	if (p->type == MQTT_PUBACK && p->id == 0)
		return rd_fail(r, MQTT_RC_PROTOCOL, "PUBACK for packet identifier 0");
	if (rd_left(r) > 0 && rd_u8(r, &p->reason) < 0)
		return -1;
	if (rd_left(r) > 0 && rd_props(r, p->type, &p->props) < 0)
		return -1;
	if (p->type == MQTT_DISCONNECT && (p->props.present & (1ull << 0x11)))
		return rd_fail(r, MQTT_RC_PROTOCOL, "session expiry interval in a server's DISCONNECT");
	return 0;
}

static int parse_body(struct rd *r, struct mqtt_packet *p)
{
	static const uint8_t flags[16] = {[MQTT_PUBREL] = 2, [MQTT_SUBSCRIBE] = 2, [MQTT_UNSUBSCRIBE] = 2};
	uint8_t ack;

	if (p->type != MQTT_PUBLISH && p->flags != flags[p->type])
		return rd_fail(r, MQTT_RC_MALFORMED, "reserved fixed header flags set");
	switch (p->type) {
	case MQTT_CONNACK:
		if (rd_u8(r, &ack) < 0 || rd_u8(r, &p->reason) < 0 || rd_props(r, MQTT_CONNACK, &p->props) < 0)
			return -1;
		if (ack & 0xfe)
			return rd_fail(r, MQTT_RC_MALFORMED, "CONNACK reserved flags set");
		p->session_present = ack & 1;
		return 0;
	case MQTT_PUBLISH:
		return parse_publish(r, p);
	case MQTT_PUBACK:
	case MQTT_DISCONNECT:
		return parse_ack(r, p);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		if (rd_u16(r, &p->id) < 0 || rd_props(r, p->type, &p->props) < 0)
			return -1;
		if (p->id == 0)
			return rd_fail(r, MQTT_RC_PROTOCOL, "acknowledgement for packet identifier 0");
		if (rd_left(r) == 0)
			return rd_fail(r, MQTT_RC_PROTOCOL, "SUBACK without a reason code");
		p->codes = r->p;
		p->ncodes = rd_left(r);
		r->p = r->end;
		return 0;
	case MQTT_PINGRESP:
		return 0;
	default:
		return rd_fail(r, MQTT_RC_PROTOCOL, "a packet type a server does not send to this client");
	}
}

int mqtt_parse(const unsigned char *buf, size_t len, struct mqtt_packet *p, uint8_t *reason, const char **why)
{
	size_t total;
	struct rd r;

	memset(p, 0, sizeof *p);
	*reason = 0;
	*why = NULL;
	if (mqtt_packet_len(buf, len, (size_t)-1, &total, reason, why) <= 0 || total != len) {
		if (!*why) {
			*reason = MQTT_RC_MALFORMED;
			*why = "length does not match the remaining length";
		}
		return -1;
	}
	r = (struct rd){buf + 1, buf + len, 0, NULL};
	{
		uint32_t rl;
		rd_vbi(&r, &rl);
	}
	p->type = buf[0] >> 4;
	p->flags = buf[0] & 15;
	p->dup = (p->flags >> 3) & 1;
	p->qos = (p->flags >> 1) & 3;
	p->retain = p->flags & 1;
	if (p->type != MQTT_PUBLISH)
		p->dup = p->qos = p->retain = 0;
	if (parse_body(&r, p) == 0 && rd_left(&r) != 0)
		rd_fail(&r, MQTT_RC_MALFORMED, "bytes after the end of the packet");
	if (r.why) {
		*reason = r.reason;
		*why = r.why;
		return -1;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

static void put(struct mqtt_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *q;
		while (cap - b->len < n)
			cap *= 2;
		if (!(q = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put8(struct mqtt_buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct mqtt_buf *b, uint16_t v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(b, x, 2);
}

static void put32(struct mqtt_buf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void put_bin(struct mqtt_buf *b, struct mqtt_str s)
{
	put16(b, (uint16_t)s.len);
	put(b, s.p, s.len);
}

size_t mqtt_vbi_put(unsigned char *out, uint32_t v)
{
	size_t n = 0;

	do {
		out[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v && n < 4);
	return n;
}

static size_t vbi_len(uint32_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static void put_vbi(struct mqtt_buf *b, uint32_t v)
{
	unsigned char x[4];
	put(b, x, mqtt_vbi_put(x, v));
}

static void put_fixed(struct mqtt_buf *b, uint8_t first, size_t rl)
{
	put8(b, first);
	put_vbi(b, (uint32_t)rl);
}

static size_t user_props_len(const struct mqtt_pair *u, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += 1 + 2 + u[i].name.len + 2 + u[i].value.len;
	return len;
}

static void put_user_props(struct mqtt_buf *b, const struct mqtt_pair *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put8(b, 0x26);
		put_bin(b, u[i].name);
		put_bin(b, u[i].value);
	}
}

void mqtt_put_connect(struct mqtt_buf *b, const struct mqtt_connect *c)
{
	size_t props = (c->receive_max ? 3 : 0) + (c->max_packet ? 5 : 0);
	size_t will = c->will_topic.p ? vbi_len(0) + 2 + c->will_topic.len + 2 + c->will_payload.len : 0;
	size_t rl = 10 + vbi_len((uint32_t)props) + props + 2 + c->client_id.len + will +
		    (c->has_user ? 2 + c->user.len : 0) + (c->has_pass ? 2 + c->pass.len : 0);
	uint8_t flags = 0x02;

	if (c->has_user)
		flags |= 0x80;
	if (c->has_pass)
		flags |= 0x40;
	if (c->will_topic.p)
		flags |= 0x04 | 0x08 | (c->will_retain ? 0x20 : 0);
	put_fixed(b, MQTT_CONNECT << 4, rl);
	put(b, "\0\4MQTT\5", 7);
	put8(b, flags);
	put16(b, c->keepalive);
	put_vbi(b, (uint32_t)props);
	if (c->receive_max) {
		put8(b, 0x21);
		put16(b, c->receive_max);
	}
	if (c->max_packet) {
		put8(b, 0x27);
		put32(b, c->max_packet);
	}
	put_bin(b, c->client_id);
	if (c->will_topic.p) {
		put_vbi(b, 0);
		put_bin(b, c->will_topic);
		put_bin(b, c->will_payload);
	}
	if (c->has_user)
		put_bin(b, c->user);
	if (c->has_pass)
		put_bin(b, c->pass);
}

size_t mqtt_publish_size(size_t topic_len, int qos, const struct mqtt_pair *user, size_t nuser, size_t len)
{
	size_t props = user_props_len(user, nuser);
	size_t rl = 2 + topic_len + (qos ? 2 : 0) + vbi_len((uint32_t)props) + props + len;

	return 1 + vbi_len((uint32_t)rl) + rl;
}

void mqtt_put_publish(struct mqtt_buf *b, struct mqtt_str topic, int qos, int retain, uint16_t id,
		      const struct mqtt_pair *user, size_t nuser, const void *payload, size_t len)
{
	size_t props = user_props_len(user, nuser);
	size_t rl = 2 + topic.len + (qos ? 2 : 0) + vbi_len((uint32_t)props) + props + len;

	put_fixed(b, (uint8_t)(MQTT_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0)), rl);
	put_bin(b, topic);
	if (qos)
		put16(b, id);
	put_vbi(b, (uint32_t)props);
	put_user_props(b, user, nuser);
	put(b, payload, len);
}

void mqtt_put_puback(struct mqtt_buf *b, uint16_t id)
{
	put_fixed(b, MQTT_PUBACK << 4, 2);
	put16(b, id);
}

void mqtt_put_subscribe(struct mqtt_buf *b, uint16_t id, uint32_t sub_id, const struct mqtt_str *filters, size_t n,
			uint8_t options)
{
	size_t props = sub_id ? 1 + vbi_len(sub_id) : 0;
	size_t rl = 2 + vbi_len((uint32_t)props) + props;

	for (size_t i = 0; i < n; i++)
		rl += 2 + filters[i].len + 1;
	put_fixed(b, MQTT_SUBSCRIBE << 4 | 2, rl);
	put16(b, id);
	put_vbi(b, (uint32_t)props);
	if (sub_id) {
		put8(b, 0x0b);
		put_vbi(b, sub_id);
	}
	for (size_t i = 0; i < n; i++) {
		put_bin(b, filters[i]);
		put8(b, options);
	}
}

void mqtt_put_pingreq(struct mqtt_buf *b)
{
	put_fixed(b, MQTT_PINGREQ << 4, 0);
}

void mqtt_put_disconnect(struct mqtt_buf *b, uint8_t reason)
{
	put_fixed(b, MQTT_DISCONNECT << 4, reason ? 1 : 0);
	if (reason)
		put8(b, reason);
}

/* ---- reason codes (§2.4, Table 2-6) -------------------------------------- */

const char *mqtt_reason_text(uint8_t type, uint8_t code)
{
	static const struct {
		uint8_t code;
		const char *text;
	} t[] = {
		{0x00, "Success"}, {0x04, "Disconnect with Will Message"},
		{0x10, "No matching subscribers"}, {0x11, "No subscription existed"},
		{0x18, "Continue authentication"}, {0x19, "Re-authenticate"},
		{0x80, "Unspecified error"}, {0x81, "Malformed Packet"}, {0x82, "Protocol Error"},
		{0x83, "Implementation specific error"}, {0x84, "Unsupported Protocol Version"},
		{0x85, "Client Identifier not valid"}, {0x86, "Bad User Name or Password"},
		{0x87, "Not authorized"}, {0x88, "Server unavailable"}, {0x89, "Server busy"},
		{0x8A, "Banned"}, {0x8B, "Server shutting down"}, {0x8C, "Bad authentication method"},
		{0x8D, "Keep Alive timeout"}, {0x8E, "Session taken over"}, {0x8F, "Topic Filter invalid"},
		{0x90, "Topic Name invalid"}, {0x91, "Packet Identifier in use"},
		{0x92, "Packet Identifier not found"}, {0x93, "Receive Maximum exceeded"},
		{0x94, "Topic Alias invalid"}, {0x95, "Packet too large"}, {0x96, "Message rate too high"},
		{0x97, "Quota exceeded"}, {0x98, "Administrative action"}, {0x99, "Payload format invalid"},
		{0x9A, "Retain not supported"}, {0x9B, "QoS not supported"}, {0x9C, "Use another server"},
		{0x9D, "Server moved"}, {0x9E, "Shared Subscriptions not supported"},
		{0x9F, "Connection rate exceeded"}, {0xA0, "Maximum connect time"},
		{0xA1, "Subscription Identifiers not supported"},
		{0xA2, "Wildcard Subscriptions not supported"},
	};

	if (type == MQTT_SUBACK && code <= 2)
		return code == 0 ? "Granted QoS 0" : code == 1 ? "Granted QoS 1" : "Granted QoS 2";
	if (type == MQTT_DISCONNECT && code == 0)
		return "Normal disconnection";
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (t[i].code == code)
			return t[i].text;
	return code < 0x80 ? "unknown success code" : "unknown error code";
}
