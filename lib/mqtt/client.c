/* mqtt_client: one connection to an MQTT 5 broker; see client.h. */
#include "client.h"
#include "../clock.h"
#include "../io.h"
#include "../net.h"
#include "../tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a PINGREQ may go unanswered before the broker counts as gone. */
#define PING_GRACE_MS 10000

/* Record the first error; the connection is unusable afterwards. */
static int fail(struct mqtt_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (!c->dead) {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof c->err, fmt, ap);
		va_end(ap);
		c->dead = 1;
	}
	errno = err;
	return -1;
}

/* ---- the byte stream: TCP, or TLS over it -------------------------------- */

/* Send what the connection takes of buf now: bytes taken, or -1 and errno
 * (EAGAIN: poll for c->write_wants). */
static ssize_t stream_send(struct mqtt_client *c, const void *buf, size_t len)
{
	ssize_t n;
	int err;

	if (!c->tls)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	n = tls_write(c->tls, buf, len);
	err = errno;
	c->write_wants = n < 0 && err == EAGAIN ? tls_events(c->tls) : POLLOUT;
	errno = err;
	return n;
}

/* Read what the connection has now: bytes, 0 at its end (over TLS also a
 * TCP close without close_notify: MQTT's own framing shows a packet cut
 * short), or -1 and errno (EAGAIN: poll for c->read_wants). */
static ssize_t stream_recv(struct mqtt_client *c, void *buf, size_t len)
{
	ssize_t n;
	int err;

	if (!c->tls)
		return read(c->fd, buf, len);
	n = tls_read(c->tls, buf, len);
	err = errno;
	c->read_wants = n < 0 && err == EAGAIN ? tls_events(c->tls) : POLLIN;
	if (n < 0 && err == EPIPE)
		return 0;
	errno = err;
	return n;
}

/* Why the stream failed with errno err: TLS's words when it has some. */
static const char *stream_error(const struct mqtt_client *c, int err)
{
	const char *why = c->tls ? tls_error(c->tls) : NULL;

	return why && *why ? why : io_strerror(err);
}

/* A protocol violation by the broker: tell it why (§4.13.1), then fail. */
static int violation(struct mqtt_client *c, uint8_t reason, const char *why)
{
	if (!c->dead) {
		mqtt_put_disconnect(&c->out, reason);
		if (c->fd >= 0 && c->out.len > c->out_sent)
			(void)!stream_send(c, c->out.p + c->out_sent, c->out.len - c->out_sent);
		c->out_sent = c->out.len;
	}
	return fail(c, EPROTO, "broker sent a bad packet: %s", why);
}

static int id_used(const struct mqtt_client *c, uint16_t id)
{
	return c->ids[id / 8] >> (id % 8) & 1;
}

static void id_set(struct mqtt_client *c, uint16_t id, int used)
{
	if (used)
		c->ids[id / 8] |= (unsigned char)(1u << (id % 8));
	else
		c->ids[id / 8] &= (unsigned char)~(1u << (id % 8));
}

/* A free packet identifier, marked used; 0 if all 65,535 are taken. */
static uint16_t id_take(struct mqtt_client *c)
{
	for (unsigned i = 0; i < 65535; i++) {
		uint16_t id = c->next_id;
		c->next_id = c->next_id == 65535 ? 1 : (uint16_t)(c->next_id + 1);
		if (!id_used(c, id)) {
			id_set(c, id, 1);
			return id;
		}
	}
	return 0;
}

static int queued(struct mqtt_client *c)
{
	if (c->out.oom)
		return fail(c, ENOMEM, "out of memory");
	return 0;
}

/* Reading always waits for POLLIN; TLS may want POLLOUT for a read, and
 * POLLIN instead of POLLOUT for a write. */
short mqtt_events(const struct mqtt_client *c)
{
	short ev = POLLIN;

	if (c->out.len > c->out_sent)
		ev |= c->tls ? c->write_wants : POLLOUT;
	if (c->tls)
		ev |= c->read_wants;
	return ev;
}

int64_t mqtt_timer(const struct mqtt_client *c)
{
	/* Decrypted bytes that did not fit the input buffer: poll cannot see
	 * them, so do not wait. */
	if (c->tls && !c->dead && !c->eof && tls_pending(c->tls) > 0)
		return clock_now_ms();
	if (c->keepalive_ms <= 0)
		return CLOCK_NO_DEADLINE;
	if (c->ping_sent)
		return c->ping_sent + PING_GRACE_MS;
	return c->last_write + c->keepalive_ms * 3 / 4;
}

static int read_some(struct mqtt_client *c);

/* A write failed with err.  Over TLS, a broker that refuses us after the
 * handshake (TLS 1.3 checks a client certificate then) said why in an
 * alert before it closed: read it, so that the reason is that. */
static int write_failed(struct mqtt_client *c, int err)
{
	if (c->tls && !c->eof && read_some(c) < 0)
		return -1;
	return fail(c, err, "write to broker: %s", stream_error(c, err));
}

/* Write what is queued without blocking. */
static int write_some(struct mqtt_client *c)
{
	while (c->out.len > c->out_sent) {
		ssize_t n = stream_send(c, c->out.p + c->out_sent, c->out.len - c->out_sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return write_failed(c, errno);
		c->out_sent += (size_t)n;
		c->last_write = clock_now_ms();
	}
	if (c->out_sent == c->out.len)
		c->out.len = c->out_sent = 0;
	return 0;
}

/* Read what has arrived without blocking; the buffer grows up to one
 * packet of our maximum size past what is undecoded.  Over TLS, read until
 * it has nothing more, so that no byte stays decrypted inside it unseen
 * by poll (unless the buffer is full: mqtt_timer says so then). */
static int read_some(struct mqtt_client *c)
{
	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
	for (;;) {
		ssize_t n;
		if (c->in_cap - c->in_len < 65536 && c->in_cap < (size_t)c->our_max_packet + 65536) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 65536 * 2;
			unsigned char *p = realloc(c->in, cap);
			if (!p)
				return fail(c, ENOMEM, "out of memory");
			c->in = p;
			c->in_cap = cap;
		}
		if (c->in_len == c->in_cap)
			return 0;
		n = stream_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		/* A reset (the broker died with our packets unread) is a close too. */
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			c->eof = 1;
			return 0;
		}
		if (n < 0)
			return fail(c, errno, "read from broker: %s", stream_error(c, errno));
		c->in_len += (size_t)n;
		if (c->in_len < c->in_cap && !c->tls)
			return 0;
	}
}

int mqtt_io(struct mqtt_client *c)
{
	int64_t now = clock_now_ms();

	if (c->dead)
		return -1;
	if (c->ping_sent && now >= c->ping_sent + PING_GRACE_MS)
		return fail(c, ETIMEDOUT, "the broker stopped answering (no PINGRESP)");
	if (c->keepalive_ms > 0 && !c->ping_sent && now >= c->last_write + c->keepalive_ms * 3 / 4) {
		mqtt_put_pingreq(&c->out);
		c->ping_sent = now;
		if (queued(c) < 0)
			return -1;
	}
	if (!c->eof && read_some(c) < 0)
		return -1;
	/* After the broker's close, what it sent before is still decoded. */
	if (!c->eof && write_some(c) < 0)
		return -1;
	return 0;
}

/* Bookkeeping for an acknowledgement of one of our packets. */
static int take_ack(struct mqtt_client *c, const struct mqtt_packet *p)
{
	if (!id_used(c, p->id))
		return violation(c, MQTT_RC_PROTOCOL, "acknowledgement for a packet identifier not in use");
	id_set(c, p->id, 0);
	if (p->type == MQTT_PUBACK && c->inflight > 0)
		c->inflight--;
	return 0;
}

int mqtt_next(struct mqtt_client *c, struct mqtt_packet *p)
{
	size_t total, avail = c->in_len - c->in_start;
	const unsigned char *b = c->in + c->in_start;
	const char *why;
	uint8_t reason;
	int k;

	if (c->dead)
		return -1;
	k = mqtt_packet_len(b, avail, c->our_max_packet, &total, &reason, &why);
	if (k < 0)
		return violation(c, reason, why);
	if (k == 0 || total > avail)
		return c->eof ? fail(c, ECONNRESET, "the broker closed the connection") : 0;
	if (mqtt_parse(b, total, p, &reason, &why) < 0)
		return violation(c, reason, why);
	c->in_start += total;
	switch (p->type) {
	case MQTT_CONNACK:
		return violation(c, MQTT_RC_PROTOCOL, "a second CONNACK");
	case MQTT_PUBACK:
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return take_ack(c, p) < 0 ? -1 : 1;
	case MQTT_PINGRESP:
		c->ping_sent = 0;
		return 1;
	case MQTT_DISCONNECT:
		if (p->props.reason.len)
			return fail(c, ECONNRESET, "the broker disconnected: %s (%.*s)",
				    mqtt_reason_text(MQTT_DISCONNECT, p->reason), (int)p->props.reason.len,
				    p->props.reason.p);
		return fail(c, ECONNRESET, "the broker disconnected: %s", mqtt_reason_text(MQTT_DISCONNECT, p->reason));
	case MQTT_PUBLISH:
		if (p->qos > c->max_qos_in)
			return violation(c, MQTT_RC_PROTOCOL, "PUBLISH above the QoS we subscribed with");
		return 1;
	}
	return 1;
}

int mqtt_wait(struct mqtt_client *c, struct mqtt_packet *p, int64_t deadline)
{
	for (;;) {
		int k = mqtt_next(c, p);
		int64_t until = mqtt_timer(c);
		if (k != 0)
			return k;
		if (c->dead)
			return -1;
		if (deadline >= 0 && (until < 0 || deadline < until))
			until = deadline;
		k = io_wait_fd(c->fd, mqtt_events(c), until);
		if (k < 0)
			return fail(c, errno, "poll: %s", io_strerror(errno));
		if (k == 0 && clock_expired(deadline))
			return 0;
		if (mqtt_io(c) < 0)
			return -1;
	}
}

/* Write everything queued before the deadline: 0, or -1 (ETIMEDOUT).
 * Over TLS a write may wait for the broker's bytes: they are read too. */
static int mqtt_flush(struct mqtt_client *c, int64_t deadline)
{
	while (!c->dead && c->out.len > c->out_sent) {
		int k = io_wait_fd(c->fd, c->tls ? mqtt_events(c) : POLLOUT, deadline);
		if (k < 0)
			return fail(c, errno, "poll: %s", io_strerror(errno));
		if (k == 0)
			return fail(c, ETIMEDOUT, "timed out writing to the broker");
		if (c->tls && !c->eof && read_some(c) < 0)
			return -1;
		if (write_some(c) < 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

int mqtt_can_publish(const struct mqtt_client *c)
{
	return c->inflight < c->receive_max;
}

int mqtt_publish(struct mqtt_client *c, struct mqtt_str topic, int qos, int retain, const struct mqtt_pair *user,
		 size_t nuser, const void *payload, size_t len, uint16_t *id)
{
	uint16_t pid = 0;

	if (c->dead)
		return -1;
	if (qos && !mqtt_can_publish(c)) {
		errno = EAGAIN;
		return -1;
	}
	if (len > MQTT_VBI_MAX / 2 || mqtt_publish_size(topic.len, qos, user, nuser, len) > c->max_packet) {
		errno = EMSGSIZE;
		return -1;
	}
	if (qos) {
		if (!(pid = id_take(c))) {
			errno = EAGAIN;
			return -1;
		}
		c->inflight++;
		*id = pid;
	}
	mqtt_put_publish(&c->out, topic, qos, retain, pid, user, nuser, payload, len);
	return queued(c);
}

int mqtt_subscribe(struct mqtt_client *c, const struct mqtt_str *filters, size_t n, uint8_t options, uint32_t sub_id,
		   uint16_t *id)
{
	if (c->dead)
		return -1;
	if (!(*id = id_take(c))) {
		errno = EAGAIN;
		return -1;
	}
	if ((options & 3) > c->max_qos_in)
		c->max_qos_in = options & 3;
	mqtt_put_subscribe(&c->out, *id, sub_id, filters, n, options);
	return queued(c);
}

int mqtt_puback(struct mqtt_client *c, uint16_t id)
{
	if (c->dead)
		return -1;
	mqtt_put_puback(&c->out, id);
	return queued(c);
}

int mqtt_ping(struct mqtt_client *c)
{
	if (c->dead)
		return -1;
	mqtt_put_pingreq(&c->out);
	if (!c->ping_sent)
		c->ping_sent = clock_now_ms();
	return queued(c);
}

/* ---- connecting ---------------------------------------------------------- */

static int tcp_connect(struct mqtt_client *c, const struct mqtt_options *o, int64_t deadline)
{
	struct addrinfo *res, *ai;
	int gai = net_resolve(o->host, o->port, AF_UNSPEC, 0, &res), err = 0, one = 1;

	if (gai)
		return fail(c, EHOSTUNREACH, "resolve %s: %s", o->host, gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next) {
		c->fd = net_connect(ai->ai_addr, ai->ai_addrlen, NULL, deadline);
		if (c->fd >= 0)
			break;
		err = errno;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return fail(c, err, "connect to broker %s port %u: %s", o->host, o->port, io_strerror(err));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* Over TLS: wrap the connected socket and run the handshake, which checks
 * the broker's certificate against o->host (or --servername, or a pin). */
static int tls_begin(struct mqtt_client *c, const struct mqtt_options *o, int64_t deadline)
{
	char why[TLS_ERR_MAX];
	int err;

	why[0] = 0;
	errno = 0;
	if (!(c->tls = tls_open(o->tls, c->fd, o->host, why, sizeof why)) ||
	    tls_handshake(c->tls, deadline, why, sizeof why) < 0) {
		err = errno ? errno : EPROTO;
		if (!why[0])
			snprintf(why, sizeof why, "%s", io_strerror(err));
		return fail(c, err, "connect to broker %s port %u: %s%s", o->host, o->port,
			    strstr(why, "TLS") ? "" : "TLS: ", why);
	}
	return 0;
}

/* Adopt what the CONNACK says (§3.2.2.3). */
static void take_connack(struct mqtt_client *c, const struct mqtt_packet *p)
{
	const struct mqtt_props *pr = &p->props;

	c->receive_max = pr->present & (1ull << 0x21) ? pr->receive_max : 65535;
	c->max_packet = pr->present & (1ull << 0x27) ? pr->max_packet : MQTT_VBI_MAX + 5;
	c->max_qos = pr->present & (1ull << 0x24) ? pr->max_qos : 2;
	c->retain_available = pr->present & (1ull << 0x25) ? pr->retain_available : 1;
	c->wildcard_available = pr->present & (1ull << 0x28) ? pr->wildcard_available : 1;
	if (pr->present & (1ull << 0x13))
		c->keepalive_ms = (int64_t)pr->server_keepalive * 1000;
}

static int await_connack(struct mqtt_client *c, int64_t deadline)
{
	struct mqtt_packet p;
	size_t total;
	const char *why;
	uint8_t reason;
	int k;

	for (;;) {
		k = mqtt_packet_len(c->in, c->in_len, c->our_max_packet, &total, &reason, &why);
		if (k < 0)
			return violation(c, reason, why);
		if (k > 0 && total <= c->in_len)
			break;
		if (c->eof)
			return fail(c, ECONNRESET, "the broker closed the connection before CONNACK");
		k = io_wait_fd(c->fd, mqtt_events(c), deadline);
		if (k == 0)
			return fail(c, ETIMEDOUT, "timed out waiting for the broker's CONNACK");
		if (k < 0)
			return fail(c, errno, "poll: %s", io_strerror(errno));
		if (mqtt_io(c) < 0)
			return -1;
	}
	if (mqtt_parse(c->in, total, &p, &reason, &why) < 0)
		return violation(c, reason, why);
	if (p.type != MQTT_CONNACK)
		return violation(c, MQTT_RC_PROTOCOL, "first packet is not CONNACK");
	if (p.reason >= 0x80) {
		if (p.props.reason.len)
			return fail(c, ECONNREFUSED, "the broker refused the connection: %s (%.*s)",
				    mqtt_reason_text(MQTT_CONNACK, p.reason), (int)p.props.reason.len, p.props.reason.p);
		return fail(c, ECONNREFUSED, "the broker refused the connection: %s",
			    mqtt_reason_text(MQTT_CONNACK, p.reason));
	}
	if (p.session_present)
		return violation(c, MQTT_RC_PROTOCOL, "session present after a clean start");
	take_connack(c, &p);
	c->in_start = total;
	return 0;
}

int mqtt_open(struct mqtt_client *c, const struct mqtt_options *o, int64_t deadline)
{
	struct mqtt_connect cc = {
		.client_id = {o->client_id, strlen(o->client_id)},
		.keepalive = o->keepalive,
		.max_packet = o->max_packet,
	};

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->read_wants = POLLIN;
	c->write_wants = POLLOUT;
	c->next_id = 1;
	c->our_max_packet = o->max_packet ? o->max_packet : MQTT_VBI_MAX + 5;
	c->keepalive_ms = (int64_t)o->keepalive * 1000;
	if (o->user) {
		cc.has_user = 1;
		cc.user = (struct mqtt_str){o->user, strlen(o->user)};
	}
	if (o->pass) {
		cc.has_pass = 1;
		cc.pass = (struct mqtt_str){o->pass, strlen(o->pass)};
	}
	if (o->will_topic) {
		cc.will_topic = (struct mqtt_str){o->will_topic, strlen(o->will_topic)};
		cc.will_payload = (struct mqtt_str){o->will_payload, strlen(o->will_payload)};
		cc.will_retain = o->will_retain;
	}
	if (tcp_connect(c, o, deadline) < 0 || (o->tls && tls_begin(c, o, deadline) < 0))
		return -1;
	mqtt_put_connect(&c->out, &cc);
	if (queued(c) < 0 || write_some(c) < 0)
		return -1;
	c->last_write = clock_now_ms();
	return await_connack(c, deadline);
}

/* End TLS: close_notify, waited for no longer than the deadline (best
 * effort: the DISCONNECT before it already said goodbye), then what the
 * broker sent meanwhile is read off, so that closing does not answer it
 * with a reset. */
static void tls_end(struct mqtt_client *c, int64_t deadline)
{
	char scrap[4096];

	if (!c->eof && !c->dead)
		while (tls_shutdown(c->tls) < 0 && errno == EAGAIN)
			if (io_wait_fd(c->fd, tls_events(c->tls), deadline) <= 0)
				break;
	while (recv(c->fd, scrap, sizeof scrap, MSG_DONTWAIT) > 0)
		;
	tls_close(c->tls);
	c->tls = NULL;
}

void mqtt_close(struct mqtt_client *c, uint8_t reason, int64_t deadline)
{
	if (c->fd >= 0 && !c->dead) {
		mqtt_put_disconnect(&c->out, reason);
		if (queued(c) == 0)
			mqtt_flush(c, deadline);
	}
	if (c->tls)
		tls_end(c, deadline);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out.p);
	c->in = NULL;
	c->out = (struct mqtt_buf){0};
}
