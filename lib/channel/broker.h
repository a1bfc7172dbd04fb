/* chan_broker: channels carried by an MQTT 5 broker (--broker URL).
 *
 * URL      mqtt://[USER[:PASS]@]HOST[:PORT][/PREFIX]   (USER, PASS %-decoded)
 *          mqtts://... the same over TLS (port 8883 by default): the
 *          applet makes the TLS configuration (tls_ctx_client) and hands
 *          it to chan_broker_open; HOST is what the certificate must name.
 * Topic    PREFIX/CHANNEL, or CHANNEL when the URL has no PREFIX.
 * Message  the name in User Property "qcop-message" (absent: empty name),
 *          the data as the payload, byte for byte.  QoS 1.
 * Pattern  a QCOP pattern ('*' any run of bytes, '/' included) becomes an
 *          MQTT filter (chan_broker_filter): exact where '*' stands for
 *          whole trailing levels ("a/" then a lone star -> "a/+/#"), otherwise the filter is
 *          wider and every message is matched against the pattern here.
 *          Several patterns subscribe with one Subscription Identifier each,
 *          so that a message matching two filters is delivered once.
 * Presence a listener keeps a retained message on PREFIX.presence/CLIENTID
 *          (ipcbox.presence/CLIENTID without PREFIX) listing its patterns,
 *          cleared by its Will when it goes, however it goes;
 *          channel-registered reads them.
 * Origin   channel-bridge marks what it publishes with User Property
 *          "qcop-origin" = its client id and drops what carries its own. */
#ifndef IPCBOX_CHAN_BROKER_H
#define IPCBOX_CHAN_BROKER_H

#include "dir.h"
#include "frame.h"
#include "../mqtt/client.h"

#include <stdint.h>

#define CHAN_BROKER_PORT 1883
#define CHAN_BROKER_TLS_PORT 8883
#define CHAN_TOPIC_MAX (2 * CHAN_NAME_MAX + 32)

struct chan_broker_url {
	int tls;                   /* mqtts:// */
	char host[256];
	uint16_t port;
	int has_user, has_pass;
	char user[256], pass[256];
	char prefix[CHAN_NAME_MAX + 1];
};

/* Parse an mqtt:// or mqtts:// URL strictly.  0, or -1 and *why. */
int chan_broker_url_parse(const char *text, struct chan_broker_url *u, const char **why);

/* Can this channel or pattern name travel as (part of) a topic?  NULL if
 * so, else why not ('+', '#', what is not UTF-8 or what mosquitto refuses). */
const char *chan_broker_name_check(const char *s, size_t len);

/* The MQTT filter for a QCOP pattern into out; *exact is 1 when the filter
 * matches exactly the channels the pattern does.  -1 if it does not fit. */
int chan_broker_filter(const struct chan_broker_url *u, const char *pat, char *out, size_t size, int *exact);

struct chan_broker {
	struct mqtt_client mc;
	const struct chan_broker_url *url;
	char id[24];
	char presence[CHAN_TOPIC_MAX];
	/* Subscriptions: the patterns, their filters, SUBACKs still awaited. */
	char *const *pats;
	int npat;
	char filter[CHAN_PATTERNS_MAX][CHAN_TOPIC_MAX];
	int nsubacks;
	/* The id of the presence PUBLISH until it is acknowledged. */
	uint16_t presence_id;
	int announced, presence_will;
};

/* Connect as a new client (a random id), over TLS with tls (NULL for an
 * mqtt:// URL); presence: with the Will that clears this listener's
 * presence.  0, or -1 with b->mc.err. */
int chan_broker_open(struct chan_broker *b, const struct chan_broker_url *u, struct tls_ctx *tls, int presence,
		     int64_t deadline);
/* Queue the subscriptions for the patterns; options: MQTT_SUB_NO_LOCAL
 * for a bridge.  The SUBACKs go through chan_broker_suback. */
int chan_broker_subscribe(struct chan_broker *b, char *const *pats, int npat, uint8_t options);
/* A SUBACK: -1 if a subscription was refused (b->mc.err says which and
 * why); 1 once every SUBACK is in (then, if presence, the presence message
 * is queued); 0 while more are awaited. */
int chan_broker_suback(struct chan_broker *b, const struct mqtt_packet *p, int presence);
/* A PUBACK: 1 if it acknowledges the presence message (the listener is now
 * registered), else 0. */
int chan_broker_puback(struct chan_broker *b, const struct mqtt_packet *p);

/* A listener going away: clear its presence (an empty retained message,
 * acknowledged before the deadline, so that a channel-registered that
 * starts afterwards no longer sees it), then DISCONNECT.  Should that fail,
 * the DISCONNECT asks for the Will, which clears it as well. */
void chan_broker_leave(struct chan_broker *b, int64_t deadline);

/* A received PUBLISH as a channel message: 1 and *m (pointing into the
 * packet) if it is for one of the patterns; 0 if it is to be dropped
 * (another topic, a copy from a second matching filter, a name that is no
 * channel name; *why then says why when it is worth a warning).  origin, if
 * not NULL, gets the qcop-origin property (len 0 if none). */
int chan_broker_message(const struct chan_broker *b, const struct mqtt_packet *p, struct chan_msg *m,
			struct mqtt_str *origin, const char **why);
/* Queue m as a QoS 1 PUBLISH (origin: a qcop-origin property, or NULL);
 * *id its packet identifier.  -1 with errno (EAGAIN: window full). */
int chan_broker_publish(struct chan_broker *b, const struct chan_msg *m, const char *origin, uint16_t *id);

/* channel-registered: does a live listener's presence list a pattern that
 * matches channel?  1 yes, 0 no, -1 error (b->mc.err; ETIMEDOUT). */
int chan_broker_registered(struct chan_broker *b, const char *channel, int64_t deadline);

#endif
