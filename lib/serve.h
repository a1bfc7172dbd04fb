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
 * SIGINT, SIGTERM and SIGHUP end a listener with status 0.
 *
 * Over TLS (struct serve's tls set), the handshake of each connection runs
 * before its data, within -i or TLS_HANDSHAKE_MS: in this process without
 * -k (a failure ends the listener with status 1); in a child forked for
 * the connection with -k, so that a handshake never holds up the accept
 * loop.  That child relays between TLS and the plaintext end of a
 * socketpair: the command's fd 0 and 1 with -e, a hub client without it.
 * -m counts those children. */
#ifndef IPCBOX_SERVE_H
#define IPCBOX_SERVE_H

#include <stdint.h>

struct tls;
struct tls_ctx;

/* The options tcp-* and unix-* share (each applet's table holds those it
 * takes). */
struct serve_opts {
	int64_t wait_ms;  /* -w, -1 for none */
	const char *wait_text; /* -w as typed, for the message */
	int64_t idle_ms;  /* -i, -1 for none */
	const char *idle_text; /* -i as typed, for the message */
	int zero;         /* -z */
	int keep;         /* -k */
	unsigned max;     /* -m: most connections at once, 0 for the default */
	const char *cmd;  /* -e, or NULL */
	int verbose;      /* -v */
};
#define SERVE_OPTS_INIT {.wait_ms = -1, .idle_ms = -1}

/* Take key into o if it is a shared option (-w -i -z -k -m -e -v); 0 if it
 * is not one.  A bad value exits 2, as the cli_ converters do. */
int serve_option(struct serve_opts *o, int key, const char *arg);
/* The first conflict among the shared options, as a usage message
 * ("-z and -e cannot be used together"), or NULL. */
const char *serve_conflict(const struct serve_opts *o);

struct serve {
	struct serve_opts opt;
	int lfd;          /* listening, non-blocking, close-on-exec */
	int sigfd;        /* from sigev_open(SIGEV_CHILD) */
	/* Decide about a new connection (log it with -v); 0 to refuse it. */
	int (*admit)(int fd, void *ctx);
	/* One-connection mode: the listener has just been closed. */
	void (*stopped)(void *ctx);
	void *ctx;
	struct tls_ctx *tls; /* NULL: plain */
};

/* Serve until done or signalled; returns the exit status. */
int serve_run(const struct serve *s);

/* A connecting applet's work once connected: nothing with -z, run -e CMD
 * with the connection on fd 0 and 1 and return its status, or relay stdin
 * and stdout over it.  t: the connection's TLS after its handshake, or
 * NULL (-z then sends close_notify; -e gets plaintext through a socketpair
 * and the TLS_ variables).  Returns the exit status; fd and t are closed. */
int serve_connected(int fd, struct tls *t, const struct serve_opts *o);

#endif
