/* mqtt_client: one MQTT 5.0 connection to a broker, QoS 0 and 1, clean
 * start, no session kept (Session Expiry 0), no topic aliases; over TCP, or
 * over TLS when the options carry a TLS configuration (mqtts://).
 *
 * The connection is non-blocking once open, so that an applet can poll it
 * beside its other descriptors:
 *   poll c->fd for mqtt_events(c), wake at mqtt_timer(c) at the latest;
 *   then mqtt_io(c) (reads what is there, writes what is queued, sends
 *   PINGREQ when keep alive is due) and mqtt_next(c, &p) until it returns 0.
 * Packets are queued by mqtt_publish, mqtt_subscribe, mqtt_puback.  A
 * decoded packet points into the client's input buffer and is valid until
 * the next mqtt_io.
 *
 * Over TLS the same loop holds: mqtt_events says what the TLS layer waits
 * for (a write may need the socket readable, a read writable), mqtt_io
 * reads until the TLS layer has nothing left, and mqtt_timer is "now" when
 * decrypted bytes wait inside it (poll cannot see them).
 *
 * The client keeps the flow control of §4.9: mqtt_publish refuses a QoS 1
 * message (EAGAIN) while the broker's Receive Maximum of them is unacknowl-
 * edged.  It checks packet identifiers (an acknowledgement for an id not in
 * use is a protocol error) and answers PINGRESP itself.  Any error from the
 * broker ends the connection: a DISCONNECT with the reason code is sent
 * where the protocol says so, and every function then returns -1 with the
 * reason in c->err (one line, reason codes in words) and errno set
 * (ETIMEDOUT when a deadline passed). */
#ifndef IPCBOX_MQTT_CLIENT_H
#define IPCBOX_MQTT_CLIENT_H

#include "packet.h"

#include <stdint.h>

struct tls_ctx;
struct tls;

/* How to connect. */
struct mqtt_options {
	const char *host;
	uint16_t port;
	const char *user, *pass;   /* NULL: not sent */
	const char *client_id;
	uint16_t keepalive;        /* seconds; the broker may impose its own */
	uint32_t max_packet;       /* the largest packet we accept */
	/* A Will (QoS 1, no delay) if will_topic is not NULL. */
	const char *will_topic;
	const char *will_payload;
	int will_retain;
	/* TLS (tls.h, made by the applet with tls_ctx_client): NULL speaks
	 * plain TCP.  The host is checked against the certificate. */
	struct tls_ctx *tls;
};

struct mqtt_client {
	int fd;
	/* The TLS connection over fd, or NULL; the poll events its last
	 * EAGAIN on reading and on writing waited for. */
	struct tls *tls;
	short read_wants, write_wants;
	/* Input: bytes [in_start, in_len) of in are not decoded yet. */
	unsigned char *in;
	size_t in_start, in_len, in_cap;
	/* Output: bytes [out_sent, out.len) of out are not written yet. */
	struct mqtt_buf out;
	size_t out_sent;
	/* What the broker's CONNACK allows. */
	uint32_t max_packet, our_max_packet;
	uint16_t receive_max;
	uint8_t max_qos, retain_available, wildcard_available;
	/* The highest QoS we subscribed with: a PUBLISH above it is an error. */
	uint8_t max_qos_in;
	/* QoS 1 messages we sent and the broker has not acknowledged. */
	uint16_t inflight;
	/* Keep alive, in ms; when we last wrote, when a PINGREQ went out (0: none). */
	int64_t keepalive_ms, last_write, ping_sent;
	uint16_t next_id;
	unsigned char ids[65536 / 8];
	int eof, dead;
	char err[640]; /* room for a TLS reason (TLS_ERR_MAX) and its context */
};

/* Connect, run the TLS handshake if o->tls, send CONNECT and wait for
 * CONNACK before the deadline (clock.h).  0, or -1 with c->err:
 * unreachable, a failed handshake ("connect to broker HOST port N: TLS:
 * " and the reason in words), refused (the CONNACK reason in words), or
 * timed out (errno ETIMEDOUT).  c->fd is non-blocking afterwards. */
int mqtt_open(struct mqtt_client *c, const struct mqtt_options *o, int64_t deadline);
/* Send DISCONNECT (reason 0: normal, its Will discarded), write what is
 * queued up to the deadline, end TLS with close_notify, and close.  Safe
 * after an error. */
void mqtt_close(struct mqtt_client *c, uint8_t reason, int64_t deadline);

/* poll(2) events to wait for on c->fd, and the time by which to call
 * mqtt_io whatever happens (keep alive, or now when TLS holds decrypted
 * bytes); CLOCK_NO_DEADLINE for none. */
short mqtt_events(const struct mqtt_client *c);
int64_t mqtt_timer(const struct mqtt_client *c);
/* Read what has arrived, write what is queued, keep the connection alive.
 * 0, or -1 (c->err: the broker closed the connection, stopped answering,
 * or an error). */
int mqtt_io(struct mqtt_client *c);
/* The next complete packet from the input: 1 and *p, 0 if none is complete
 * yet, -1 on a protocol violation or a DISCONNECT from the broker (c->err).
 * PUBACK and SUBACK free their ids first; PINGRESP is returned too (callers
 * that did not ask for it skip it). */
int mqtt_next(struct mqtt_client *c, struct mqtt_packet *p);
/* Wait for the next packet until the deadline: 1, 0 on timeout, -1. */
int mqtt_wait(struct mqtt_client *c, struct mqtt_packet *p, int64_t deadline);

/* Can a QoS 1 PUBLISH go out now (Receive Maximum)? */
int mqtt_can_publish(const struct mqtt_client *c);
/* Queue a PUBLISH.  For QoS 1 *id gets its packet identifier.  -1 with
 * errno EAGAIN if the window is full, EMSGSIZE if the broker's Maximum
 * Packet Size refuses it, ENOMEM. */
int mqtt_publish(struct mqtt_client *c, struct mqtt_str topic, int qos, int retain, const struct mqtt_pair *user,
		 size_t nuser, const void *payload, size_t len, uint16_t *id);
/* Queue a SUBSCRIBE of the filters with the options and a Subscription
 * Identifier (0: none); *id its packet identifier. */
int mqtt_subscribe(struct mqtt_client *c, const struct mqtt_str *filters, size_t n, uint8_t options, uint32_t sub_id,
		   uint16_t *id);
/* Queue a PUBACK (Success) for a received QoS 1 PUBLISH. */
int mqtt_puback(struct mqtt_client *c, uint16_t id);
/* Queue a PINGREQ now: a round-trip marker, its PINGRESP follows whatever
 * the broker sent before it. */
int mqtt_ping(struct mqtt_client *c);

#endif
