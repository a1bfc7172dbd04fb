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

/* Relay in -> t and t -> out until both directions are done, as relay_run
 * does (idle_ms -1 for no limit, sigfd from sigev_open or -1). */
void tls_relay_run(int in, int out, struct tls *t, int64_t idle_ms, int sigfd, struct relay_result *r);

/* Asked when the plaintext side's data has ended, before close_notify
 * says on its behalf that it stopped there (peer_done: the peer's data has
 * ended too). */
enum tls_end {
	TLS_END_CLEAN,	 /* it ended well: send close_notify */
	TLS_END_CUT,	 /* it did not (a command killed by a signal, a listener that
			  * dropped the connection): the relay ends without
			  * close_notify, with *why as its message */
	TLS_END_UNKNOWN, /* not known yet: asked again after the next signal,
			  * such as SIGCHLD */
};
typedef enum tls_end tls_clean_end_fn(void *ctx, int peer_done, const char **why);

/* The relay for a process on the other end of sock, a socketpair (a -e
 * command, or a -k hub's client end), in both directions: at the peer's
 * close_notify, sock's writing side is shut down, so that the process
 * reads EOF; at sock's EOF, clean_end decides about close_notify; the
 * relay ends once that is out and the peer is done, or once the process
 * has let go of sock entirely (nothing more can reach it). */
void tls_relay_process(int sock, struct tls *t, int sigfd, tls_clean_end_fn *clean_end, void *ctx,
		       struct relay_result *r);

#endif
