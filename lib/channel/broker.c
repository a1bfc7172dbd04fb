/* chan_broker: channels over an MQTT 5 broker; see broker.h. */
#include "broker.h"
#include "../clock.h"
#include "../io.h"
#include "../parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Keep alive we ask for, in seconds. */
#define KEEPALIVE 60
/* The largest packet we accept: a channel message and room for its topic
 * and properties. */
#define MAX_PACKET (CHAN_DATA_MAX + 4 * CHAN_NAME_MAX + 1024)

/* ---- the URL ------------------------------------------------------------- */

/* Set *why and fail: every refusal of the URL parser in one line. */
static int url_refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* %-decode a user name or password s[0..len) into out (size bytes with
 * the NUL); a NUL inside is refused. */
static int pct_decode(const char *s, size_t len, char *out, size_t size, const char **why)
{
	size_t n;

	if (parse_pct_decode(s, len, out, size, &n) < 0)
		return url_refuse(why, errno == ERANGE ? "user name or password too long"
						       : "'%' not followed by two hex digits");
	if (strlen(out) != n)
		return url_refuse(why, "%00 in the user name or password");
	return 0;
}

int chan_broker_url_parse(const char *text, struct chan_broker_url *u, const char **why)
{
	const char *p, *auth_end, *at, *colon, *host, *host_end, *port = NULL;
	size_t hlen;

	memset(u, 0, sizeof *u);
	u->port = CHAN_BROKER_PORT;
	if (strncmp(text, "mqtts://", 8) == 0) {
		u->tls = 1;
		u->port = CHAN_BROKER_TLS_PORT;
		p = text + 8;
	} else if (strncmp(text, "mqtt://", 7) == 0) {
		p = text + 7;
	} else {
		return url_refuse(why, "not an mqtt:// or mqtts:// URL (mqtt[s]://[USER[:PASS]@]HOST[:PORT][/PREFIX])");
	}
	auth_end = p + strcspn(p, "/");
	at = memrchr(p, '@', (size_t)(auth_end - p));
	if (at) {
		colon = memchr(p, ':', (size_t)(at - p));
		if ((colon ? colon : at) == p)
			return url_refuse(why, "empty user name");
		if (pct_decode(p, (size_t)((colon ? colon : at) - p), u->user, sizeof u->user, why) < 0)
			return -1;
		u->has_user = 1;
		if (colon) {
			if (pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass, why) < 0)
				return -1;
			u->has_pass = 1;
		}
		p = at + 1;
	}
	host = p;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return url_refuse(why, "'[' without ']' around an IPv6 address");
		host++;
		p = host_end + 1;
	} else {
		host_end = host + strcspn(host, ":/");
		if (host_end > auth_end)
			host_end = auth_end;
		p = host_end;
	}
	hlen = (size_t)(host_end - host);
	if (hlen == 0)
		return url_refuse(why, "no host");
	if (hlen >= sizeof u->host)
		return url_refuse(why, "host name too long");
	if (memchr(host, '@', hlen) || memchr(host, '%', hlen))
		return url_refuse(why, "invalid character in the host");
	memcpy(u->host, host, hlen);
	if (*p == ':') {
		uint64_t v;
		port = ++p;
		p += parse_digits(port, (size_t)(auth_end - port), &v);
		if (p == port || p != auth_end || v == 0 || v > 65535)
			return url_refuse(why, "the port is not a number from 1 to 65535");
		u->port = (uint16_t)v;
	}
	if (p != auth_end)
		return url_refuse(why, "junk after the host");
	if (*p == '/') {
		const char *pre = p + 1, *reason;
		size_t len = strlen(pre);
		if (len == 0)
			return 0;
		if (len > CHAN_NAME_MAX)
			return url_refuse(why, "PREFIX longer than 255 bytes");
		if (*pre == '$')
			return url_refuse(why, "PREFIX starts with '$' (reserved by MQTT)");
		if (pre[len - 1] == '/')
			return url_refuse(why, "PREFIX ends with '/'");
		if ((reason = chan_broker_name_check(pre, len)))
			return url_refuse(why, reason);
		memcpy(u->prefix, pre, len + 1);
	}
	return 0;
}

const char *chan_broker_name_check(const char *s, size_t len)
{
	if (memchr(s, '+', len) || memchr(s, '#', len))
		return "'+' and '#' are MQTT wildcards, not allowed in a topic";
	return mqtt_utf8_check(s, len, 1);
}

/* ---- patterns and topics ------------------------------------------------- */

int chan_broker_filter(const struct chan_broker_url *u, const char *pat, char *out, size_t size, int *exact)
{
	const char *star = strchr(pat, '*'), *lvl, *q;
	size_t lit;
	int n;

	*exact = 1;
	n = snprintf(out, size, "%s%s", u->prefix, u->prefix[0] ? "/" : "");
	if (n < 0 || (size_t)n >= size)
		return -1;
	if (!star)
		return (size_t)snprintf(out + n, size - (size_t)n, "%s", pat) < size - (size_t)n ? 0 : -1;
	/* The start of the level holding the first '*'. */
	for (lvl = star; lvl > pat && lvl[-1] != '/'; lvl--)
		;
	lit = (size_t)(lvl - pat);
	if (n + lit + 1 >= size)
		return -1;
	memcpy(out + n, pat, lit);
	n += (int)lit;
	/* Whole trailing '*' levels: one '+' each, then '#'. */
	for (q = lvl; *q; q += 2)
		if (q[0] != '*' || (q[1] != '/' && q[1] != 0))
			break;
		else if (!q[1]) {
			q++;
			break;
		}
	if (*q) {
		*exact = 0;
		return (size_t)snprintf(out + n, size - (size_t)n, "+/#") < size - (size_t)n ? 0 : -1;
	}
	for (q = lvl; *q; q++)
		if (*q == '*' && n + 3 < (int)size) {
			memcpy(out + n, "+/", 2);
			n += 2;
		}
	return (size_t)snprintf(out + n, size - (size_t)n, "#") < size - (size_t)n ? 0 : -1;
}

static size_t topic_of(const struct chan_broker_url *u, const char *ch, size_t len, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s%.*s", u->prefix, u->prefix[0] ? "/" : "", (int)len, ch);

	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* ---- the session --------------------------------------------------------- */

int chan_broker_open(struct chan_broker *b, const struct chan_broker_url *u, struct tls_ctx *tls, int presence,
		     int64_t deadline)
{
	unsigned char r[8];
	struct mqtt_options o = {
		.host = u->host, .port = u->port,
		.user = u->has_user ? u->user : NULL, .pass = u->has_pass ? u->pass : NULL,
		.keepalive = KEEPALIVE, .max_packet = MAX_PACKET,
		.tls = tls,
	};

	memset(b, 0, sizeof *b);
	b->url = u;
	if (getrandom(r, sizeof r, 0) != sizeof r)
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(getpid() >> (i % 4 * 8) ^ clock_now_ms() >> i);
	snprintf(b->id, sizeof b->id, "ipcbox%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
		 r[6], r[7]);
	snprintf(b->presence, sizeof b->presence, "%s.presence/%s", u->prefix[0] ? u->prefix : "ipcbox", b->id);
	o.client_id = b->id;
	if (presence) {
		o.will_topic = b->presence;
		o.will_payload = "";
		o.will_retain = 1;
		b->presence_will = 1;
	}
	return mqtt_open(&b->mc, &o, deadline);
}


/* Set *why and drop the message (0): a broker's message that no listener
 * here can take, said once by the caller. */
static int skip_message(const char **why, const char *reason)
{
	*why = reason;
	return 0;
}

/* One SUBSCRIBE per filter, each with its own Subscription Identifier
 * (its index + 1), so that a message matching two filters, which mosquitto
 * sends once per filter, is kept from one of them only. */
int chan_broker_subscribe(struct chan_broker *b, char *const *pats, int npat, uint8_t options)
{
	struct mqtt_str f;
	uint16_t id;
	int exact;

	b->pats = pats;
	b->npat = npat;
	for (int i = 0; i < npat; i++) {
		if (chan_broker_filter(b->url, pats[i], b->filter[i], sizeof b->filter[i], &exact) < 0) {
			snprintf(b->mc.err, sizeof b->mc.err, "pattern '%s': topic filter too long", pats[i]);
			errno = ENAMETOOLONG;
			return -1;
		}
		f = (struct mqtt_str){b->filter[i], strlen(b->filter[i])};
		if (mqtt_subscribe(&b->mc, &f, 1, options | MQTT_SUB_QOS1 | MQTT_SUB_RETAIN_NEVER,
				   npat > 1 ? (uint32_t)i + 1 : 0, &id) < 0)
			return -1;
		b->nsubacks++;
	}
	return 0;
}

int chan_broker_suback(struct chan_broker *b, const struct mqtt_packet *p, int presence)
{
	char text[CHAN_PATTERNS_MAX * (CHAN_NAME_MAX + 1)];
	size_t len = 0;

	for (size_t i = 0; i < p->ncodes; i++)
		if (p->codes[i] >= 0x80) {
			snprintf(b->mc.err, sizeof b->mc.err, "the broker refused a subscription: %s",
				 mqtt_reason_text(MQTT_SUBACK, p->codes[i]));
			return -1;
		}
	if (--b->nsubacks > 0)
		return 0;
	if (!presence)
		return 1;
	for (int i = 0; i < b->npat; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", b->pats[i]);
	if (mqtt_publish(&b->mc, (struct mqtt_str){b->presence, strlen(b->presence)}, 1, 1, NULL, 0, text, len,
			 &b->presence_id) < 0) {
		snprintf(b->mc.err, sizeof b->mc.err, "publish presence: %s", io_strerror(errno));
		return -1;
	}
	return 1;
}

int chan_broker_puback(struct chan_broker *b, const struct mqtt_packet *p)
{
	if (!b->presence_id || p->id != b->presence_id)
		return 0;
	b->presence_id = 0;
	b->announced = 1;
	return 1;
}

void chan_broker_leave(struct chan_broker *b, int64_t deadline)
{
	struct mqtt_packet p;
	uint16_t id;
	int k = -1;

	if (b->announced && !b->mc.dead &&
	    mqtt_publish(&b->mc, (struct mqtt_str){b->presence, strlen(b->presence)}, 1, 1, NULL, 0, "", 0, &id) == 0)
		while ((k = mqtt_wait(&b->mc, &p, deadline)) > 0 && !(p.type == MQTT_PUBACK && p.id == id))
			;
	mqtt_close(&b->mc, k > 0 || !b->presence_will ? 0 : 0x04, deadline);
}

int chan_broker_message(const struct chan_broker *b, const struct mqtt_packet *p, struct chan_msg *m,
			struct mqtt_str *origin, const char **why)
{
	size_t plen = strlen(b->url->prefix);
	const char *ch = p->topic.p;
	size_t len = p->topic.len;
	struct mqtt_str name = {"", 0};
	int first = -1;

	*why = NULL;
	if (plen) {
		if (len <= plen || memcmp(ch, b->url->prefix, plen) != 0 || ch[plen] != '/')
			return 0;
		ch += plen + 1;
		len -= plen + 1;
	} else if (len >= 16 && memcmp(ch, "ipcbox.presence/", 16) == 0) {
		return 0;
	}
	/* Deliver from the first filter that matches the topic only. */
	for (int i = 0; i < b->npat && first < 0; i++)
		if (mqtt_filter_match(b->filter[i], strlen(b->filter[i]), p->topic.p, p->topic.len))
			first = i;
	if (b->npat > 1 && p->props.sub_id && (int)p->props.sub_id != first + 1)
		return 0;
	if (len == 0 || len > CHAN_NAME_MAX || memchr(ch, '\n', len))
		return skip_message(why, "topic is no channel name (empty, too long or with a newline)");
	for (int i = 0; i < b->npat; i++)
		if (chan_match(b->pats[i], strlen(b->pats[i]), ch, len))
			goto matched;
	return 0;
matched:
	mqtt_user_prop(&p->props, "qcop-message", &name);
	if (name.len > CHAN_MESSAGE_MAX)
		return skip_message(why, "qcop-message longer than 255 bytes");
	if (p->payload_len > CHAN_DATA_MAX)
		return skip_message(why, "payload larger than the 1 MiB message limit");
	if (origin && !mqtt_user_prop(&p->props, "qcop-origin", origin))
		*origin = (struct mqtt_str){"", 0};
	*m = (struct chan_msg){ch, len, name.p, name.len, (const char *)p->payload, p->payload_len};
	return 1;
}

int chan_broker_publish(struct chan_broker *b, const struct chan_msg *m, const char *origin, uint16_t *id)
{
	char topic[CHAN_TOPIC_MAX];
	size_t tlen = topic_of(b->url, m->channel, m->channel_len, topic, sizeof topic);
	struct mqtt_pair props[2] = {
		{{"qcop-message", 12}, {m->message, m->message_len}},
		{{"qcop-origin", 11}, {origin, origin ? strlen(origin) : 0}},
	};

	if (!tlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mqtt_publish(&b->mc, (struct mqtt_str){topic, tlen}, 1, 0, props, origin ? 2 : 1, m->data, m->data_len,
			    id);
}

/* Does one line of a presence list match the channel? */
static int presence_matches(const struct mqtt_packet *p, const char *channel)
{
	const char *s = (const char *)p->payload, *end = s + p->payload_len, *nl;

	for (; s < end; s = nl + 1) {
		if (!(nl = memchr(s, '\n', (size_t)(end - s))))
			nl = end;
		if (nl > s && chan_match(s, (size_t)(nl - s), channel, strlen(channel)))
			return 1;
	}
	return 0;
}

/* Subscribe to every presence (QoS 0, retained messages sent), then PING:
 * mosquitto sends the retained burst of a QoS 0 subscription before it
 * answers a PINGREQ queued behind the SUBSCRIBE. */
int chan_broker_registered(struct chan_broker *b, const char *channel, int64_t deadline)
{
	char filter[CHAN_TOPIC_MAX];
	struct mqtt_packet p;
	struct mqtt_str f;
	uint16_t id;
	int found = 0, k;

	snprintf(filter, sizeof filter, "%s.presence/+", b->url->prefix[0] ? b->url->prefix : "ipcbox");
	f = (struct mqtt_str){filter, strlen(filter)};
	if (mqtt_subscribe(&b->mc, &f, 1, 0, 0, &id) < 0 || mqtt_ping(&b->mc) < 0)
		return -1;
	while ((k = mqtt_wait(&b->mc, &p, deadline)) > 0) {
		if (p.type == MQTT_SUBACK && p.ncodes == 1 && p.codes[0] >= 0x80) {
			snprintf(b->mc.err, sizeof b->mc.err, "the broker refused the presence subscription: %s",
				 mqtt_reason_text(MQTT_SUBACK, p.codes[0]));
			return -1;
		}
		if (p.type == MQTT_PUBLISH && p.retain && p.payload_len > 0 && presence_matches(&p, channel))
			found = 1;
		if (p.type == MQTT_PINGRESP)
			return found;
	}
	if (k == 0) {
		snprintf(b->mc.err, sizeof b->mc.err, "timed out waiting for the broker");
		errno = ETIMEDOUT;
	}
	return -1;
}
