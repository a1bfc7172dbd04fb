/* tlsrelay: relay_run (relay.h) over a TLS connection (tls.h).
 *
 * Two directions in one poll loop, with 1 MiB buffers: stdin is read and
 * handed to SSL_write; SSL_read fills the other buffer until the socket has
 * no more or it is full, which is then written to stdout.  OpenSSL may want
 * to read while writing and the other way round: each direction remembers
 * what its last EAGAIN waited for, and any readiness of the socket retries
 * both.  The ends:
 *  - stdin EOF: close_notify goes out (our direction ends), reading goes on;
 *  - the peer's close_notify: the incoming direction ends, as a FIN does;
 *  - the peer's TCP close without close_notify: what arrived is written,
 *    then the relay ends with RELAY_ERROR and msg saying the data may be
 *    cut short (OpenSSL's connection is unusable after it; a truncation
 *    attack looks the same), so the applet prints one line and exits 1. */
#ifndef IPCBOX_TLSRELAY_H
#define IPCBOX_TLSRELAY_H

#include "relay.h"
#include "tls.h"

/* tls_relay_run's flags. */
enum {
	/* out is a socket to a command run for the connection (in == out):
	 * at the peer's close_notify shut down its writing side, so the
	 * command reads EOF; end once the command has let go of it entirely. */
	TLS_RELAY_TO_COMMAND = 1,
};

/* Relay in -> t and t -> out until both directions are done, as relay_run
 * does (idle_ms -1 for no limit, sigfd from sigev_open or -1). */
void tls_relay_run(int in, int out, struct tls *t, int64_t idle_ms, int sigfd, int flags,
		   struct relay_result *r);

#endif
