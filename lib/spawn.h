/* spawn: the one way ipcbox runs a command and collects its exit status.
 *
 * A request names what to run and what its fd 0, 1 and 2 are:
 *  - cmd: a /bin/sh command line.  One made only of plain words (letters,
 *    digits and _ . / , : + @ % -, separated by blanks) is run directly
 *    through PATH, as the shell would run it, saving the shell's start-up;
 *    if its first word is not found, the shell runs it after all (builtins).
 *  - or argv: run argv[0] (or file, when set) through PATH with argv as is,
 *    as execvp does.  If it cannot be run, spawn_start fails with errno and
 *    the caller reports it; spawn_exec_status gives the status sh would
 *    (127 not found, 126 found but not runnable).
 *  - in, out, err: SPAWN_INHERIT keeps ours; SPAWN_PIPE makes a pipe and
 *    spawn_start puts our end (the write end for in, the read end for out
 *    and err) in the field, close-on-exec; any other value is a descriptor
 *    dup'd onto 0, 1 or 2 and made blocking (the command expects blocking
 *    stdio).  The same descriptor may serve as in and out (a socket).
 *  - vars: "NAME=value" strings, NULL-terminated, added to our environment
 *    (replacing variables of the same name).
 * The command starts with an empty signal mask and SIGPIPE at its default;
 * signals we catch are at their default in it, as exec makes them.
 *
 * Users: tcp/unix -e (socket on 0 and 1, UCSPI vars), bus-serve (argv,
 * pipes), channel-listen -e and bus-listen -e (cmd, a stdin pipe, vars), sem-run (argv, stdio
 * inherited), D-Bus unixexec: (file + argv, a socketpair end on 0 and 1). */
#ifndef IPCBOX_SPAWN_H
#define IPCBOX_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_INHERIT (-1)
#define SPAWN_PIPE (-2)

struct spawn_req {
	const char *cmd;     /* a shell command line, or NULL and: */
	char *const *argv;   /* argv for execvp */
	const char *file;    /* run this instead of argv[0] (argv[0] stays) */
	int in, out, err;    /* SPAWN_INHERIT, SPAWN_PIPE or a descriptor */
	char *const *vars;   /* NULL or "NAME=value"..., NULL */
};
#define SPAWN_REQ_INIT {.in = SPAWN_INHERIT, .out = SPAWN_INHERIT, .err = SPAWN_INHERIT}

/* Start the command r describes (SPAWN_PIPE fields get our pipe ends).
 * Returns the pid, or -1 with errno (no pipe is left open then). */
pid_t spawn_start(struct spawn_req *r);

/* Become argv[0] (found through PATH, as execvp does) in this process,
 * with the signal state spawn_start gives a command: an empty mask and
 * SIGPIPE at its default (caught signals go to their defaults by exec).
 * Returns only if it failed, -1 with errno. */
int spawn_exec(char *const *argv);

/* A listener's -e slot: run the shell command cmd with vars added to its
 * environment and data[0..len) on its standard input (a pipe, closed after
 * the data; a command that does not read it is no error), stdout and stderr
 * ours, and wait for it.  Its status as spawn_wait gives it, or -1 with
 * errno if it could not start or be waited for.  *write_err: the errno of
 * a failed write of the data other than EPIPE, or 0. */
int spawn_feed(const char *cmd, char *const *vars, const void *data, size_t len, int *write_err);

/* Wait for pid while passing on to it every stop signal (INT, TERM, HUP)
 * that arrives on sigfd, the read end of the sigev pipe: a command run in
 * the foreground (sem-run's on a POSIX name, tcp-listen -e's one
 * connection) is stopped as its runner would be.  Its status as spawn_wait
 * gives it, or -1 with errno. */
int spawn_wait_forward(pid_t pid, int sigfd);

/* Wait for pid, resuming after EINTR; its exit status, or 128+N if signal
 * N killed it, or -1 with errno. */
int spawn_wait(pid_t pid);

/* Without blocking: has pid (-1: any child) finished?  Its pid, with its
 * status as spawn_wait's in *status; 0 if it still runs; -1 with errno
 * (ECHILD: no such child). */
pid_t spawn_try_wait(pid_t pid, int *status);

/* Reap every child that has finished, without blocking; how many. */
int spawn_reap(void);

/* The status sh gives a command it could not run for errno err: 127 if it
 * was not found, 126 otherwise. */
int spawn_exec_status(int err);

#endif
