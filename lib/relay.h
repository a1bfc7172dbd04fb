/* relay: copy stdin to a socket and the socket to stdout, with netcat's EOF
 * rules done right.
 *
 * Two pumps run in one poll loop: stdin -> socket and socket -> stdout.
 *  - stdin EOF: shutdown(SHUT_WR) on the socket (a half-close), then keep
 *    copying the socket to stdout until the peer closes.
 *  - socket EOF (the peer half-closed): keep sending stdin until its EOF;
 *    nothing stdin still holds is dropped.
 *  - the relay ends when both pumps are done.
 * Each pump moves data by the path the bench matrix measured fastest
 * (relay_choose in relay.c): read/write through a 1 MiB buffer from stdin;
 * splice(2) from the socket into a stdout pipe enlarged to 1 MiB, or through
 * a private 1 MiB pipe into any other stdout.  A kernel that refuses the
 * fast call (EINVAL and friends) gets read/write from then on, without
 * losing what was in flight.  Only the socket is made non-blocking: stdin
 * and stdout may be shared with other processes.
 *
 * Signals reach the loop through sigev's self-pipe, so no work happens in
 * a handler; the first stop signal ends the relay and holds later ones. */
#ifndef IPCBOX_RELAY_H
#define IPCBOX_RELAY_H

#include <stdint.h>

#define RELAY_BUF (1024 * 1024)

/* IPCBOX_COPY=plain in the environment: every copy (relay, shm-read,
 * shm-write) uses read/write with a RELAY_BUF buffer, no splice, sendfile or
 * copy_file_range.  The bench compares the chosen paths against it; the
 * tests use it to force the fallback. */
#define RELAY_COPY_ENV "IPCBOX_COPY"
int relay_copy_plain(void);

/* Make the pipe fd at least RELAY_BUF bytes (F_SETPIPE_SZ); 1 if it is,
 * 0 if the kernel refused (an unprivileged user past pipe-user-pages-soft
 * or fs.pipe-max-size) or fd is not a pipe (then nothing is changed). */
int relay_pipe_enlarge(int fd);

/* Can fd be used at all?  A closed stdin reads as empty: the relays treat
 * it as one at its end. */
int relay_fd_open(int fd);

/* How a relay ended. */
enum relay_end {
	RELAY_DONE,   /* both directions finished */
	RELAY_IDLE,   /* no byte moved for idle_ms */
	RELAY_SIGNAL, /* SIGINT or SIGTERM arrived (signo in relay_result) */
	RELAY_ERROR,  /* a read or write failed: what, err */
	RELAY_STDOUT_CLOSED, /* the reader of stdout went away (EPIPE) */
};

/* relay_run_flags: end (RELAY_DONE, peer_first set) as soon as the
 * socket's peer has closed and all it sent is written, even though stdin
 * is still open.  A stdio bridge needs
 * it: its client waits for replies, not for its own stdin to end. */
enum { RELAY_END_ON_PEER_EOF = 1 };

struct relay_result {
	enum relay_end end;
	int err;
	int signo;
	const char *what; /* "send", "receive", "read stdin", "write stdout" */
	int peer_first;   /* RELAY_END_ON_PEER_EOF ended it */
	const char *msg;  /* RELAY_ERROR: the whole line to print, if not NULL */
};

/* Relay in (stdin) <-> sock <-> out (stdout) until both directions are done.
 * idle_ms: end with RELAY_IDLE after that long without a byte moved in
 * either direction; -1 for no limit.  sigfd from sigev_open or -1. */
void relay_run(int in, int out, int sock, int64_t idle_ms, int sigfd, struct relay_result *r);
void relay_run_flags(int in, int out, int sock, int64_t idle_ms, int sigfd, int flags,
		     struct relay_result *r);

#endif
