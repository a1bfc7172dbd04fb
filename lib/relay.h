/* relay: copy stdin to a socket and the socket to stdout, with netcat's EOF
 * rules done right.
 *
 * Two pumps run in one poll loop: stdin -> socket and socket -> stdout.
 *  - stdin EOF: shutdown(SHUT_WR) on the socket (a half-close), then keep
 *    copying the socket to stdout until the peer closes.
 *  - socket EOF (the peer half-closed): keep sending stdin until its EOF;
 *    nothing stdin still holds is dropped.
 *  - the relay ends when both pumps are done.
 * Each pump moves data with splice(2) when one end is a pipe, sendfile(2)
 * when stdin is a regular file, splice(2) through a private pipe from the
 * socket to any other stdout (a file, /dev/null), and read/write through a
 * 1 MiB buffer otherwise; a kernel that refuses the fast call (EINVAL and
 * friends) gets read/write from then on, without losing what was in flight.  Only the socket is made non-blocking: stdin and
 * stdout may be shared with other processes.
 *
 * Signals reach the loop through sigev's self-pipe, so no work happens in
 * a handler; the first stop signal ends the relay and holds later ones. */
#ifndef IPCBOX_RELAY_H
#define IPCBOX_RELAY_H

#include <stdint.h>

#define RELAY_BUF (1024 * 1024)

/* How a relay ended. */
enum relay_end {
	RELAY_DONE,   /* both directions finished */
	RELAY_IDLE,   /* no byte moved for idle_ms */
	RELAY_SIGNAL, /* SIGINT or SIGTERM arrived (signo in relay_result) */
	RELAY_ERROR,  /* a read or write failed: what, err */
	RELAY_STDOUT_CLOSED, /* the reader of stdout went away (EPIPE) */
};

struct relay_result {
	enum relay_end end;
	int err;
	int signo;
	const char *what; /* "send", "receive", "read stdin", "write stdout" */
};

/* Relay in (stdin) <-> sock <-> out (stdout) until both directions are done.
 * idle_ms: end with RELAY_IDLE after that long without a byte moved in
 * either direction; -1 for no limit.  sigfd from sigev_open or -1. */
void relay_run(int in, int out, int sock, int64_t idle_ms, int sigfd, struct relay_result *r);

#endif
