/* Unit test of lib/mqtt/packet: encode -> decode round trips, the bytes of
 * packets the reference shows, and the reject list of reference/mqtt.md §8
 * (every one must fail with the right reason code). */
#include "lib/channel/broker.h"
#include "lib/mqtt/packet.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) ((struct mqtt_str){lit, sizeof lit - 1})

static int parse(const void *b, size_t n, struct mqtt_packet *p, uint8_t *reason)
{
	const char *why;
	return mqtt_parse(b, n, p, reason, &why);
}

/* A packet from the hex-free byte list must be refused with reason code rc. */
static void reject(const char *name, const unsigned char *b, size_t n, uint8_t rc)
{
	struct mqtt_packet p;
	uint8_t reason = 0;

	if (parse(b, n, &p, &reason) == 0 || reason != rc) {
		fprintf(stderr, "reject %s: got reason 0x%02x, want 0x%02x\n", name, reason, rc);
		failures++;
	}
}
#define REJECT(name, rc, ...)                                                                  \
	do {                                                                                   \
		static const unsigned char b_[] = {__VA_ARGS__};                               \
		reject(name, b_, sizeof b_, rc);                                               \
	} while (0)

static void test_vbi(void)
{
	unsigned char out[4];
	size_t total;
	uint8_t reason;
	const char *why;
	static const uint32_t vals[] = {0, 127, 128, 16383, 16384, 2097151, 2097152, MQTT_VBI_MAX};

	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		unsigned char pkt[5] = {0xd0};
		size_t n = mqtt_vbi_put(out, vals[i]);
		memcpy(pkt + 1, out, n);
		CHECK(mqtt_packet_len(pkt, 1 + n, (size_t)-1, &total, &reason, &why) == 1);
		CHECK(total == 1 + n + vals[i]);
		CHECK(n == (vals[i] < 128 ? 1u : vals[i] < 16384 ? 2u : vals[i] < 2097152 ? 3u : 4u));
	}
	/* Incomplete: more bytes needed. */
	CHECK(mqtt_packet_len((const unsigned char *)"\xd0\x80", 2, 1000, &total, &reason, &why) == 0);
	/* Five bytes, non-minimal forms. */
	CHECK(mqtt_packet_len((const unsigned char *)"\xd0\x80\x80\x80\x80\x01", 6, (size_t)-1, &total, &reason, &why) < 0);
	CHECK(mqtt_packet_len((const unsigned char *)"\xd0\x80\x00", 3, 1000, &total, &reason, &why) < 0);
	CHECK(reason == MQTT_RC_MALFORMED);
	/* Bounded by our maximum packet size, before the body is read. */
	CHECK(mqtt_packet_len((const unsigned char *)"\x30\xff\x7f", 3, 1000, &total, &reason, &why) < 0);
	CHECK(reason == MQTT_RC_TOO_LARGE);
	CHECK(mqtt_packet_len((const unsigned char *)"\x30\x7f", 2, 129, &total, &reason, &why) == 1);
	CHECK(mqtt_packet_len((const unsigned char *)"\x30\x7f", 2, 128, &total, &reason, &why) < 0);
}

static void test_utf8(void)
{
	CHECK(mqtt_utf8_check("QPE/System", 10, 1) == NULL);
	CHECK(mqtt_utf8_check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 1) == NULL);
	CHECK(mqtt_utf8_check("a\0b", 3, 0) != NULL);
	CHECK(mqtt_utf8_check("\xc0\x80", 2, 0) != NULL);         /* overlong NUL */
	CHECK(mqtt_utf8_check("\xe0\x80\xaf", 3, 0) != NULL);     /* overlong */
	CHECK(mqtt_utf8_check("\xed\xa0\x80", 3, 0) != NULL);     /* surrogate */
	CHECK(mqtt_utf8_check("\xf4\x90\x80\x80", 4, 0) != NULL); /* > U+10FFFF */
	CHECK(mqtt_utf8_check("\xf5\x80\x80\x80", 4, 0) != NULL);
	CHECK(mqtt_utf8_check("\xc3", 1, 0) != NULL);             /* truncated */
	CHECK(mqtt_utf8_check("\xc3\x28", 2, 0) != NULL);         /* bad continuation */
	CHECK(mqtt_utf8_check("\x80", 1, 0) != NULL);
	CHECK(mqtt_utf8_check("a\tb", 3, 0) == NULL);
	CHECK(mqtt_utf8_check("a\tb", 3, 1) != NULL);
	CHECK(mqtt_utf8_check("\xef\xbf\xbf", 3, 1) != NULL);     /* U+FFFF */
	CHECK(mqtt_utf8_check("\xef\xbb\xbf", 3, 1) == NULL);     /* U+FEFF kept */
}

static void test_publish_round_trip(void)
{
	struct mqtt_buf b = {0};
	struct mqtt_packet p;
	struct mqtt_pair u[2] = {{S("qcop-message"), S("setVolume(int)")}, {S("qcop-origin"), S("b1")}};
	struct mqtt_str v;
	uint8_t reason;
	static const unsigned char want[] = {0x32, 0x34, 0x00, 0x0e, 'i', 'p', 'c', '/', 'Q', 'P', 'E', '/', 'S',
					     'y', 's', 't', 'e', 'm', 0x00, 0x01, 0x1f, 0x26, 0x00, 0x0c, 'q', 'c',
					     'o', 'p', '-', 'm', 'e', 's', 's', 'a', 'g', 'e', 0x00, 0x0e, 's', 'e',
					     't', 'V', 'o', 'l', 'u', 'm', 'e', '(', 'i', 'n', 't', ')', 0x00, 0x05};

	/* The observed packet of reference/mqtt.md §3, byte for byte. */
	mqtt_put_publish(&b, S("ipc/QPE/System"), 1, 0, 1, u, 1, "\0\5", 2);
	CHECK(b.len == sizeof want && memcmp(b.p, want, sizeof want) == 0);
	CHECK(mqtt_publish_size(14, 1, u, 1, 2) == b.len);
	CHECK(parse(b.p, b.len, &p, &reason) == 0);
	CHECK(p.type == MQTT_PUBLISH && p.qos == 1 && p.id == 1 && !p.retain);
	CHECK(p.topic.len == 14 && memcmp(p.topic.p, "ipc/QPE/System", 14) == 0);
	CHECK(p.payload_len == 2 && memcmp(p.payload, "\0\5", 2) == 0);
	CHECK(mqtt_user_prop(&p.props, "qcop-message", &v) && v.len == 14);
	CHECK(!mqtt_user_prop(&p.props, "qcop-origin", &v));

	/* Two properties, QoS 0, retained, a payload larger than 2 MiB. */
	size_t big = 3u << 20;
	char *data = malloc(big);
	memset(data, 'x', big);
	b.len = 0;
	mqtt_put_publish(&b, S("t"), 0, 1, 0, u, 2, data, big);
	CHECK(!b.oom && mqtt_publish_size(1, 0, u, 2, big) == b.len);
	CHECK(parse(b.p, b.len, &p, &reason) == 0);
	CHECK(p.qos == 0 && p.retain && p.id == 0 && p.payload_len == big);
	CHECK(mqtt_user_prop(&p.props, "qcop-origin", &v) && v.len == 2 && memcmp(v.p, "b1", 2) == 0);
	CHECK(p.props.nuser == 2);
	free(data);

	/* An empty payload is a message. */
	b.len = 0;
	mqtt_put_publish(&b, S("t"), 1, 0, 65535, NULL, 0, "", 0);
	CHECK(parse(b.p, b.len, &p, &reason) == 0 && p.payload_len == 0 && p.id == 65535);
	free(b.p);
}

static void test_small_packets(void)
{
	struct mqtt_buf b = {0};
	struct mqtt_packet p;
	uint8_t reason;
	struct mqtt_str f[2] = {S("ipc/QPE/+/#"), S("ipc/x")};
	static const unsigned char connect_want[] = {0x10, 0x0f, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02,
						     0x00, 0x3c, 0x00, 0x00, 0x02, 'c', '1'};
	static const unsigned char sub_want[] = {0x82, 0x19, 0x00, 0x07, 0x00, 0x00, 0x0b, 'i', 'p', 'c', '/',
						 'Q', 'P', 'E', '/', '+', '/', '#', 0x21, 0x00, 0x05, 'i', 'p', 'c',
						 '/', 'x', 0x21};
	struct mqtt_connect c = {.client_id = S("c1"), .keepalive = 60};

	/* The observed CONNECT of reference/mqtt.md §2. */
	mqtt_put_connect(&b, &c);
	CHECK(b.len == sizeof connect_want && memcmp(b.p, connect_want, b.len) == 0);
	/* With every field: the lengths add up (the packet length agrees). */
	b.len = 0;
	c = (struct mqtt_connect){.client_id = S("ipcbox-1"), .keepalive = 30, .receive_max = 100,
				  .max_packet = 1 << 21, .has_user = 1, .user = S("u"), .has_pass = 1,
				  .pass = S("p:w"), .will_topic = S("ipc.presence/x"), .will_payload = S(""),
				  .will_retain = 1};
	mqtt_put_connect(&b, &c);
	{
		size_t total;
		const char *why;
		CHECK(mqtt_packet_len(b.p, b.len, b.len, &total, &reason, &why) == 1 && total == b.len);
		CHECK(b.p[9] == (0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02));
	}

	b.len = 0;
	mqtt_put_subscribe(&b, 7, 0, f, 2, MQTT_SUB_QOS1 | MQTT_SUB_RETAIN_NEVER);
	CHECK(b.len == sizeof sub_want && memcmp(b.p, sub_want, b.len) == 0);
	/* With a Subscription Identifier of 200 (two VBI bytes). */
	b.len = 0;
	mqtt_put_subscribe(&b, 7, 200, f, 1, MQTT_SUB_QOS1);
	CHECK(b.len == 2 + 2 + 1 + 3 + 2 + 11 + 1 && b.p[1] == b.len - 2 && b.p[4] == 3 && b.p[5] == 0x0b);
	CHECK(b.p[6] == 0xc8 && b.p[7] == 0x01);

	b.len = 0;
	mqtt_put_puback(&b, 0x1234);
	CHECK(parse(b.p, b.len, &p, &reason) == 0 && p.type == MQTT_PUBACK && p.id == 0x1234 && p.reason == 0);
	b.len = 0;
	mqtt_put_disconnect(&b, 0);
	CHECK(b.len == 2 && parse(b.p, b.len, &p, &reason) == 0 && p.type == MQTT_DISCONNECT && p.reason == 0);
	b.len = 0;
	mqtt_put_disconnect(&b, 0x04);
	CHECK(b.len == 3 && parse(b.p, b.len, &p, &reason) == 0 && p.reason == 0x04);
	b.len = 0;
	mqtt_put_pingreq(&b);
	CHECK(b.len == 2 && b.p[0] == 0xc0 && b.p[1] == 0);
	free(b.p);

	/* mosquitto's CONNACK as observed. */
	static const unsigned char connack[] = {0x20, 0x09, 0x00, 0x00, 0x06, 0x22, 0x00, 0x0a, 0x21, 0x00, 0x14};
	CHECK(parse(connack, sizeof connack, &p, &reason) == 0);
	CHECK(p.type == MQTT_CONNACK && p.reason == 0 && p.props.receive_max == 20);
	static const unsigned char refused[] = {0x20, 0x03, 0x00, 0x87, 0x00};
	CHECK(parse(refused, sizeof refused, &p, &reason) == 0 && p.reason == 0x87);
	static const unsigned char puback3[] = {0x40, 0x03, 0x00, 0x05, 0x10};
	CHECK(parse(puback3, sizeof puback3, &p, &reason) == 0 && p.id == 5 && p.reason == 0x10);
	static const unsigned char suback[] = {0x90, 0x05, 0x00, 0x07, 0x00, 0x01, 0x80};
	CHECK(parse(suback, sizeof suback, &p, &reason) == 0 && p.ncodes == 2 && p.codes[1] == 0x80);
	static const unsigned char pingresp[] = {0xd0, 0x00};
	CHECK(parse(pingresp, 2, &p, &reason) == 0 && p.type == MQTT_PINGRESP);

	CHECK(strcmp(mqtt_reason_text(MQTT_CONNACK, 0x87), "Not authorized") == 0);
	CHECK(strcmp(mqtt_reason_text(MQTT_CONNACK, 0x86), "Bad User Name or Password") == 0);
	CHECK(strcmp(mqtt_reason_text(MQTT_SUBACK, 0x01), "Granted QoS 1") == 0);
}

/* reference/mqtt.md §8, one line each. */
static void test_reject_list(void)
{
	REJECT("RL over 4 bytes", MQTT_RC_MALFORMED, 0xd0, 0x80, 0x80, 0x80, 0x80, 0x00);
	REJECT("RL non-minimal", MQTT_RC_MALFORMED, 0xd0, 0x80, 0x00);
	REJECT("RL past the bytes", MQTT_RC_MALFORMED, 0x40, 0x03, 0x00, 0x01);
	REJECT("PUBACK short", MQTT_RC_MALFORMED, 0x40, 0x01, 0x00);
	REJECT("CONNACK short", MQTT_RC_MALFORMED, 0x20, 0x01, 0x00);
	REJECT("SUBACK short", MQTT_RC_MALFORMED, 0x90, 0x02, 0x00, 0x01);
	REJECT("PINGRESP with a body", MQTT_RC_MALFORMED, 0xd0, 0x01, 0x00);
	REJECT("property past its container", MQTT_RC_MALFORMED, 0x20, 0x04, 0x00, 0x00, 0x05, 0x21);
	REJECT("property length past the packet", MQTT_RC_MALFORMED, 0x20, 0x03, 0x00, 0x00, 0x09);
	REJECT("unknown property", MQTT_RC_MALFORMED, 0x20, 0x05, 0x00, 0x00, 0x02, 0x7f, 0x00);
	REJECT("misplaced property", MQTT_RC_MALFORMED, 0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x21, 0x00, 0x05);
	REJECT("repeated property", MQTT_RC_PROTOCOL, 0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x05, 0x21, 0x00,
	       0x05);
	REJECT("receive maximum 0", MQTT_RC_PROTOCOL, 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00);
	REJECT("maximum packet size 0", MQTT_RC_PROTOCOL, 0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0);
	REJECT("property byte 2", MQTT_RC_PROTOCOL, 0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02);
	REJECT("U+0000 in topic", MQTT_RC_MALFORMED, 0x30, 0x05, 0x00, 0x02, 'a', 0x00, 0x00);
	REJECT("overlong in topic", MQTT_RC_MALFORMED, 0x30, 0x05, 0x00, 0x02, 0xc0, 0xaf, 0x00);
	REJECT("surrogate in topic", MQTT_RC_MALFORMED, 0x30, 0x06, 0x00, 0x03, 0xed, 0xa0, 0x80, 0x00);
	REJECT("bad UTF-8 in user property", MQTT_RC_MALFORMED, 0x30, 0x0c, 0x00, 0x01, 't', 0x07, 0x26, 0x00,
	       0x01, 0xff, 0x00, 0x01, 'v', 0x00);
	REJECT("PUBACK flags", MQTT_RC_MALFORMED, 0x42, 0x02, 0x00, 0x01);
	REJECT("CONNACK reserved bits", MQTT_RC_MALFORMED, 0x20, 0x03, 0x02, 0x00, 0x00);
	REJECT("QoS 3", MQTT_RC_MALFORMED, 0x36, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00);
	REJECT("DUP at QoS 0", MQTT_RC_MALFORMED, 0x38, 0x04, 0x00, 0x01, 't', 0x00);
	REJECT("QoS 2", MQTT_RC_PROTOCOL, 0x34, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00);
	REJECT("packet id 0 at QoS 1", MQTT_RC_PROTOCOL, 0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x00, 0x00);
	REJECT("PUBACK id 0", MQTT_RC_PROTOCOL, 0x40, 0x02, 0x00, 0x00);
	REJECT("wildcard topic +", MQTT_RC_PROTOCOL, 0x30, 0x05, 0x00, 0x02, 'a', '+', 0x00);
	REJECT("wildcard topic #", MQTT_RC_PROTOCOL, 0x30, 0x04, 0x00, 0x01, '#', 0x00);
	REJECT("empty topic", MQTT_RC_PROTOCOL, 0x30, 0x03, 0x00, 0x00, 0x00);
	REJECT("topic alias", MQTT_RC_ALIAS, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x01);
	REJECT("PUBREC", MQTT_RC_PROTOCOL, 0x50, 0x02, 0x00, 0x01);
	REJECT("PUBREL", MQTT_RC_PROTOCOL, 0x62, 0x02, 0x00, 0x01);
	REJECT("type 0", MQTT_RC_PROTOCOL, 0x00, 0x00);
	REJECT("CONNECT", MQTT_RC_PROTOCOL, 0x10, 0x00);
	REJECT("SUBSCRIBE", MQTT_RC_PROTOCOL, 0x82, 0x00);
	REJECT("PINGREQ", MQTT_RC_PROTOCOL, 0xc0, 0x00);
	REJECT("AUTH", MQTT_RC_PROTOCOL, 0xf0, 0x00);
	REJECT("session expiry in DISCONNECT", MQTT_RC_PROTOCOL, 0xe0, 0x07, 0x00, 0x05, 0x11, 0, 0, 0, 0);
	REJECT("bytes after the end", MQTT_RC_MALFORMED, 0xd0, 0x00, 0x00);
	REJECT("subscription identifier 0", MQTT_RC_PROTOCOL, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0b, 0x00);
}

static int fm(const char *f, const char *t)
{
	return mqtt_filter_match(f, strlen(f), t, strlen(t));
}

/* Topic filters as reference/mqtt.md §4 observed them on mosquitto. */
static void test_filter_match(void)
{
	CHECK(fm("m/+/#", "m/") && fm("m/+/#", "m/x") && fm("m/+/#", "m/x/y") && fm("m/+/#", "m//"));
	CHECK(!fm("m/+/#", "m") && !fm("m/+/#", "mm/x"));
	CHECK(fm("a/#", "a") && fm("a/#", "a/b/c") && fm("#", "a/b") && fm("#", "/"));
	CHECK(fm("a/+", "a/") && !fm("a/+", "a") && !fm("a/+", "a/b/c"));
	CHECK(fm("+/+", "/x") && fm("/+", "/x") && !fm("+", "/x"));
	CHECK(fm("ipc/QPE/System", "ipc/QPE/System") && !fm("ipc/QPE/System", "ipc/QPE/Systen"));
	CHECK(!fm("ipc/QPE/System", "ipc/QPE/System/x") && !fm("ipc/QPE/System/x", "ipc/QPE/System"));
	CHECK(!fm("#", "$SYS/x") && !fm("+/x", "$SYS/x") && fm("$SYS/#", "$SYS/x"));
}

static void url_ok(const char *text, const char *host, unsigned port, const char *user, const char *pass,
		   const char *prefix)
{
	struct chan_broker_url u;
	const char *why = NULL;

	if (chan_broker_url_parse(text, &u, &why) < 0 || strcmp(u.host, host) || u.port != port ||
	    (user ? !u.has_user || strcmp(u.user, user) : u.has_user) ||
	    (pass ? !u.has_pass || strcmp(u.pass, pass) : u.has_pass) || strcmp(u.prefix, prefix) ||
	    u.tls != (strncmp(text, "mqtts:", 6) == 0)) {
		fprintf(stderr, "url %s: not parsed as expected (%s)\n", text, why ? why : "fields differ");
		failures++;
	}
}

static void url_bad(const char *text)
{
	struct chan_broker_url u;
	const char *why = NULL;

	if (chan_broker_url_parse(text, &u, &why) == 0 || !why) {
		fprintf(stderr, "url %s: accepted\n", text);
		failures++;
	}
}

static void test_url(void)
{
	url_ok("mqtt://localhost", "localhost", 1883, NULL, NULL, "");
	url_ok("mqtt://127.0.0.1:18830", "127.0.0.1", 18830, NULL, NULL, "");
	url_ok("mqtt://127.0.0.1:18830/", "127.0.0.1", 18830, NULL, NULL, "");
	url_ok("mqtt://u@h/ipc", "h", 1883, "u", NULL, "ipc");
	url_ok("mqtt://u:p@h:1/a/b", "h", 1, "u", "p", "a/b");
	url_ok("mqtt://us%40er:p%3Aw%2f@h", "h", 1883, "us@er", "p:w/", "");
	url_ok("mqtt://u:p@ss@h", "h", 1883, "u", "p@ss", "");
	url_ok("mqtt://u:@h", "h", 1883, "u", "", "");
	url_ok("mqtt://[::1]:1884/x", "::1", 1884, NULL, NULL, "x");
	url_ok("mqtts://h", "h", 8883, NULL, NULL, "");
	url_ok("mqtts://u:p@h:1/p", "h", 1, "u", "p", "p");
	url_bad("tcp://h");
	url_bad("MQTT://h");
	url_bad("mqtt://");
	url_bad("mqtt:///ipc");
	url_bad("mqtt://h:");
	url_bad("mqtt://h:0");
	url_bad("mqtt://h:65536");
	url_bad("mqtt://h:12x");
	url_bad("mqtt://@h");
	url_bad("mqtt://:p@h");
	url_bad("mqtt://u%4@h");
	url_bad("mqtt://u%zz@h");
	url_bad("mqtt://u%00@h");
	url_bad("mqtt://[::1");
	url_bad("mqtt://[::1]x");
	url_bad("mqtt://h/$SYS");
	url_bad("mqtt://h/a/");
	url_bad("mqtt://h/a+b");
	url_bad("mqtt://h/a#");
	url_bad("mqtt://h/a\tb");
}

static void filter_is(const char *prefix, const char *pat, const char *want, int want_exact)
{
	struct chan_broker_url u = {.port = 1883};
	char out[CHAN_TOPIC_MAX];
	int exact = -1;

	strcpy(u.prefix, prefix);
	if (chan_broker_filter(&u, pat, out, sizeof out, &exact) < 0 || strcmp(out, want) || exact != want_exact) {
		fprintf(stderr, "filter %s %s: got %s exact %d, want %s exact %d\n", prefix, pat, out, exact, want,
			want_exact);
		failures++;
	}
}

/* The table of reference/mqtt.md §4 and the man page. */
static void test_pattern_filter(void)
{
	filter_is("ipc", "QPE/System", "ipc/QPE/System", 1);
	filter_is("ipc", "QPE/*", "ipc/QPE/+/#", 1);
	filter_is("ipc", "*", "ipc/+/#", 1);
	filter_is("ipc", "QPE/*/*", "ipc/QPE/+/+/#", 1);
	filter_is("ipc", "QPE/Sys*", "ipc/QPE/+/#", 0);
	filter_is("ipc", "QPE/*/Volume", "ipc/QPE/+/#", 0);
	filter_is("ipc", "QPE*", "ipc/+/#", 0);
	filter_is("ipc", "*/System", "ipc/+/#", 0);
	filter_is("", "ch", "ch", 1);
	filter_is("", "*", "+/#", 1);
	filter_is("", "a/*", "a/+/#", 1);
	filter_is("", "a*b", "+/#", 0);
	CHECK(chan_broker_name_check("QPE/System", 10) == NULL);
	CHECK(chan_broker_name_check("a+b", 3) != NULL);
	CHECK(chan_broker_name_check("a#", 2) != NULL);
	CHECK(chan_broker_name_check("a\tb", 3) != NULL);
}

int main(void)
{
	test_url();
	test_pattern_filter();
	test_filter_match();
	test_vbi();
	test_utf8();
	test_publish_round_trip();
	test_small_packets();
	test_reject_list();
	return failures != 0;
}
