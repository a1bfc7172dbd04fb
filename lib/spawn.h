/* spawn: run a command for a connection, with the socket as its stdin and
 * stdout, and collect its exit status.
 *
 * CMD is a /bin/sh command line.  One made only of plain words (letters,
 * digits and _ . / , : + @ % -, separated by blanks) is run directly
 * through PATH, as the shell would run it, saving the shell's start-up; if
 * its first word is not found, the shell runs it after all (for builtins). */
#ifndef IPCBOX_SPAWN_H
#define IPCBOX_SPAWN_H

#include <sys/types.h>

/* Start CMD with fd on 0 and 1, the environment plus vars ("NAME=value",
 * NULL-terminated, replacing variables of the same name).  The child starts
 * with an empty signal mask and SIGPIPE at its default; fd is made
 * blocking.  Returns the pid, or
 * -1 with errno. */
pid_t spawn_cmd(const char *cmd, int fd, char *const vars[]);

/* The same with in on 0 and out on 1 (out < 0: the caller's stdout), for a
 * command that gets its input from a pipe and writes where we write. */
pid_t spawn_cmd_io(const char *cmd, int in, int out, char *const vars[]);

/* Wait for pid; its exit status, or 128+N if signal N killed it, or -1 with
 * errno. */
int spawn_wait(pid_t pid);

/* Reap every child that has finished, without blocking; how many. */
int spawn_reap(void);

#endif
