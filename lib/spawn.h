/* spawn: run a command for a connection, with the socket as its stdin and
 * stdout, and collect its exit status.
 *
 * CMD is a /bin/sh command line.  One made only of plain words (letters,
 * digits and _ . / , : + @ % -, separated by blanks) is run directly
 * through PATH, as the shell would run it, saving the shell's start-up; if
 * its first word is not found, the shell runs it after all (for builtins). */
#ifndef IPCBOX_SPAWN_H
#define IPCBOX_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* Start CMD with fd on 0 and 1, the environment plus vars ("NAME=value",
 * NULL-terminated, replacing variables of the same name).  The child starts
 * with an empty signal mask and SIGPIPE at its default; fd is made
 * blocking.  Returns the pid, or
 * -1 with errno. */
pid_t spawn_cmd(const char *cmd, int fd, char *const vars[]);

/* Start file with argv (execvp's rules: PATH is searched unless file holds
 * a '/'), fd on 0 and 1, stderr and the environment inherited, an empty
 * signal mask and SIGINT, SIGTERM, SIGHUP, SIGPIPE and SIGCHLD at their
 * defaults.  Returns the pid, or -1 with errno (ENOENT: no such program). */
pid_t spawn_argv(const char *file, char *const argv[], int fd);

/* If pid has ended: reap it and return its status (as spawn_wait).  If it
 * still runs: SPAWN_RUNNING.  -1 with errno otherwise (ECHILD: someone
 * else reaped it). */
#define SPAWN_RUNNING (-2)
int spawn_poll(pid_t pid);

/* End a child whose input is closed: give it grace_ms to exit on its own,
 * then SIGTERM it, and reap it.  Its status as spawn_wait, or -1. */
int spawn_end(pid_t pid, int grace_ms);

/* Wait for pid; its exit status, or 128+N if signal N killed it, or -1 with
 * errno. */
int spawn_wait(pid_t pid);

/* Reap every child that has finished, without blocking; how many. */
int spawn_reap(void);

#endif
