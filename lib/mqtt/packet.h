/* mqtt_packet: the MQTT 5.0 wire format, as much of it as a QoS 0/1
 * publish/subscribe client needs (OASIS MQTT Version 5.0, 7 March 2019).
 *
 * Encoding appends whole packets to a growable buffer.  Decoding takes the
 * bytes of one packet and checks every one of them: the Remaining Length
 * (a Variable Byte Integer of at most 4 bytes, in its shortest form,
 * bounded by our Maximum Packet Size before anything is read), the fixed
 * header flags, every length inside the packet against its container,
 * each property against the packets it may appear in and the values it
 * may take, and every string for well-formed UTF-8 without U+0000.  A
 * decoded packet points into the caller's bytes.
 *
 * Errors carry the reason code the client sends in its DISCONNECT:
 * 0x81 Malformed Packet, 0x82 Protocol Error, 0x94 Topic Alias invalid,
 * 0x95 Packet too large. */
#ifndef IPCBOX_MQTT_PACKET_H
#define IPCBOX_MQTT_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
	MQTT_AUTH = 15,
};

enum {
	MQTT_RC_MALFORMED = 0x81,
	MQTT_RC_PROTOCOL = 0x82,
	MQTT_RC_RECEIVE_MAX = 0x93,
	MQTT_RC_ALIAS = 0x94,
	MQTT_RC_TOO_LARGE = 0x95,
};

/* Largest Remaining Length a Variable Byte Integer can hold. */
#define MQTT_VBI_MAX 268435455u
/* Fixed header (1) + Remaining Length (at most 4). */
#define MQTT_FIXED_MAX 5

/* Subscription options (§3.8.3.1). */
enum {
	MQTT_SUB_QOS1 = 0x01,
	MQTT_SUB_NO_LOCAL = 0x04,
	MQTT_SUB_RETAIN_AS_PUBLISHED = 0x08,
	MQTT_SUB_RETAIN_NEVER = 0x20,
};

/* A byte string that is not NUL-terminated. */
struct mqtt_str {
	const char *p;
	size_t len;
};

/* One User Property to send. */
struct mqtt_pair {
	struct mqtt_str name, value;
};

/* The properties of a received packet that the client acts on.  present
 * has bit (1 << id) for each property seen (ids are below 64). */
struct mqtt_props {
	uint64_t present;
	uint32_t max_packet;
	uint16_t receive_max, server_keepalive, topic_alias;
	uint8_t max_qos, retain_available, wildcard_available;
	struct mqtt_str reason, assigned_id;
	/* The smallest Subscription Identifier a PUBLISH carries (0: none). */
	uint32_t sub_id;
	/* Every User Property, in order: the raw property bytes, already checked;
	 * mqtt_user_prop() finds one by name. */
	const unsigned char *user;
	size_t user_len;
	size_t nuser;
};

/* One decoded packet.  Fields not used by its type are zero. */
struct mqtt_packet {
	uint8_t type, flags;
	uint8_t qos, retain, dup;
	uint8_t session_present;
	uint8_t reason;
	uint16_t id;
	struct mqtt_str topic;
	const unsigned char *payload;
	size_t payload_len;
	/* SUBACK, UNSUBACK: one reason code per filter. */
	const unsigned char *codes;
	size_t ncodes;
	struct mqtt_props props;
};

/* A growable output buffer; after a failed allocation oom is set and
 * nothing more is appended. */
struct mqtt_buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

/* What a client puts in its CONNECT. */
struct mqtt_connect {
	struct mqtt_str client_id;
	uint16_t keepalive;
	uint16_t receive_max;   /* 0: omit (65,535) */
	uint32_t max_packet;    /* 0: omit (no limit) */
	int has_user, has_pass;
	struct mqtt_str user, pass;
	/* The Will, if will_topic.p is not NULL: QoS 1, no delay. */
	struct mqtt_str will_topic;
	struct mqtt_str will_payload;
	int will_retain;
};

/* The length of a packet whose first len bytes are at buf: 1 and *total set
 * once the fixed header is complete; 0 if more bytes are needed; -1 if the
 * Remaining Length is malformed or the packet would exceed max bytes
 * (*reason MQTT_RC_MALFORMED or MQTT_RC_TOO_LARGE, *why in words). */
int mqtt_packet_len(const unsigned char *buf, size_t len, size_t max, size_t *total, uint8_t *reason,
		    const char **why);

/* Decode the whole packet buf[0..len) (len as mqtt_packet_len gave it), one
 * a server may send a client (CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK,
 * PINGRESP, DISCONNECT).  0, or -1 with *reason and *why. */
int mqtt_parse(const unsigned char *buf, size_t len, struct mqtt_packet *p, uint8_t *reason, const char **why);

/* Find User Property name in p; its value and 1, or 0 if it has none. */
int mqtt_user_prop(const struct mqtt_props *p, const char *name, struct mqtt_str *value);

/* Does the topic filter (with '+' and '#', §4.7) match the topic name?
 * Byte comparison; leading wildcards never match a topic starting '$'. */
int mqtt_filter_match(const char *filter, size_t flen, const char *topic, size_t tlen);

/* Is s well-formed UTF-8 without U+0000?  NULL if so, else why not.
 * strict: also refuse what mosquitto refuses (U+0001..U+001F, U+007F..U+009F
 * and noncharacters), for names we are about to send. */
const char *mqtt_utf8_check(const char *s, size_t len, int strict);

/* Encoders: each appends one packet to b. */
void mqtt_put_connect(struct mqtt_buf *b, const struct mqtt_connect *c);
/* PUBLISH; id is used (and must be non-zero) only for qos 1. */
void mqtt_put_publish(struct mqtt_buf *b, struct mqtt_str topic, int qos, int retain, uint16_t id,
		      const struct mqtt_pair *user, size_t nuser, const void *payload, size_t len);
/* The size mqtt_put_publish would append. */
size_t mqtt_publish_size(size_t topic_len, int qos, const struct mqtt_pair *user, size_t nuser, size_t len);
void mqtt_put_puback(struct mqtt_buf *b, uint16_t id);
/* SUBSCRIBE; sub_id: a Subscription Identifier, 0 for none. */
void mqtt_put_subscribe(struct mqtt_buf *b, uint16_t id, uint32_t sub_id, const struct mqtt_str *filters, size_t n,
			uint8_t options);
void mqtt_put_pingreq(struct mqtt_buf *b);
void mqtt_put_disconnect(struct mqtt_buf *b, uint8_t reason);
/* Encode a Variable Byte Integer (v <= MQTT_VBI_MAX) into out[4]; its length. */
size_t mqtt_vbi_put(unsigned char *out, uint32_t v);

/* A reason code in words ("Not authorized"); type selects among the
 * tables where one code means different things (SUBACK 0x00..0x02 grant
 * QoS, elsewhere 0x00 is Success). */
const char *mqtt_reason_text(uint8_t type, uint8_t code);

#endif
