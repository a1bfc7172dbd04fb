/* Fuzz target: lib/channel/broker's URL parser (--broker, $IPCBOX_BROKER:
 * mqtt:// and mqtts://).  No input may crash; a refusal must say why; an
 * accepted URL must hold what the parser promises (a host, a port from 1,
 * the scheme's TLS flag, a PREFIX MQTT can carry) and, written back out
 * with its user and password %-encoded, must parse to the same fields. */
#include "lib/channel/broker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s %-encoded into out (3 bytes a byte at most). */
static size_t pct_encode(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = 0;
	return n;
}

/* The URL of u, every field explicit: mqtt[s]://USER:PASS@[HOST]:PORT/PREFIX. */
static void url_write(const struct chan_broker_url *u, char *out, size_t size)
{
	char user[3 * sizeof u->user], pass[3 * sizeof u->pass];
	int bracket = strchr(u->host, ':') || u->host[0] == '[';

	pct_encode(u->user, user);
	pct_encode(u->pass, pass);
	snprintf(out, size, "%s://%s%s%s%s%s%s%s:%u%s%s", u->tls ? "mqtts" : "mqtt", u->has_user ? user : "",
		 u->has_pass ? ":" : "", u->has_pass ? pass : "", u->has_user ? "@" : "", bracket ? "[" : "", u->host,
		 bracket ? "]" : "", u->port, u->prefix[0] ? "/" : "", u->prefix);
}

/* What an accepted URL must hold. */
static void check_fields(const char *text, const struct chan_broker_url *u)
{
	size_t plen = strlen(u->prefix);

	if (!u->host[0] || u->port == 0 || u->tls != (strncmp(text, "mqtts://", 8) == 0))
		abort();
	if (u->has_pass && !u->has_user)
		abort();
	if (plen && (u->prefix[0] == '$' || u->prefix[plen - 1] == '/' || strpbrk(u->prefix, "+#")))
		abort();
	if (memchr(u->host, '@', strlen(u->host)) || memchr(u->host, '/', strlen(u->host)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_broker_url u, again;
	char *text, *out;
	const char *why = NULL;
	size_t outsize = 4 * size + 64;

	if (!(text = malloc(size + 1)) || !(out = malloc(outsize))) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = 0;
	if (chan_broker_url_parse(text, &u, &why) < 0) {
		if (!why || !*why)
			abort();
	} else {
		check_fields(text, &u);
		url_write(&u, out, outsize);
		if (chan_broker_url_parse(out, &again, &why) < 0 || memcmp(&u, &again, sizeof u) != 0)
			abort();
	}
	free(out);
	free(text);
	return 0;
}
