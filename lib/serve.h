/* serve: what tcp-listen and unix-listen do with a listening socket.
 *
 *  - one connection (no -k): accept one admitted client, stop listening,
 *    relay it to stdin/stdout, or run CMD for it and exit with its status;
 *  - -k -e CMD: one child per connection, socket on its fd 0 and 1, the
 *    UCSPI variables in its environment, at most max at once (the rest wait
 *    in the backlog, because the listener is not polled while at the cap);
 *    children are reaped as SIGCHLD arrives;
 *  - -k alone: every client served at once in this process, each client's
 *    data written to stdout in whole read chunks, stdin sent to every client.
 * SIGINT, SIGTERM and SIGHUP end a listener with status 0. */
#ifndef IPCBOX_SERVE_H
#define IPCBOX_SERVE_H

#include <stdint.h>

#include "relay.h"

struct serve {
	int lfd;          /* listening, non-blocking, close-on-exec */
	int keep;         /* -k */
	unsigned max;     /* -m: most connections at once, 0 for the default */
	const char *cmd;  /* -e, or NULL */
	int64_t idle_ms;  /* -i, -1 for none */
	int sigfd;        /* from relay_signals() */
	int verbose;      /* -v */
	/* Decide about a new connection (log it with -v); 0 to refuse it. */
	int (*admit)(int fd, void *ctx);
	/* One-connection mode: the listener has just been closed. */
	void (*stopped)(void *ctx);
	void *ctx;
};

/* Serve until done or signalled; returns the exit status. */
int serve_run(const struct serve *s);

/* Turn a relay's end into an exit status, printing the diagnostic if any.
 * A signal ends a listener with 0, a connecting applet with 128+N. */
int serve_relay_status(const struct relay_result *r, int listener, const char *idle_text);

#endif
