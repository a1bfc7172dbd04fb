/* sigev: the one signal model of ipcbox: signals become events in the
 * caller's poll loop, through a self-pipe.
 *
 * sigev_open installs handlers for SIGINT, SIGTERM and SIGHUP (the stop
 * signals), and SIGCHLD when asked, that do no work: each writes the signal
 * number into the pipe and notes the last stop signal; SIGPIPE is ignored.
 * The loop polls the pipe's read end and calls sigev_take.  The handlers
 * are installed without SA_RESTART, so a blocking call (a semaphore wait,
 * a write to a full stdout) returns EINTR, and its caller can look at
 * sigev_stop_flag() to tell a stop from a SIGCHLD. */
#ifndef IPCBOX_SIGEV_H
#define IPCBOX_SIGEV_H

#include <signal.h>

/* sigev_open's flags. */
#define SIGEV_CHILD 1 /* SIGCHLD too (a process with children to reap) */

/* Install the handlers (once per process; flags from the first call) and
 * return the pipe's read end (non-blocking, close-on-exec), or -1 with
 * errno. */
int sigev_open(int flags);

/* In a child forked from a process that opened the pipe: a pipe of its
 * own, so that neither reads the other's signals.  The new read end, or -1
 * with errno. */
int sigev_renew(void);

/* Read the pending signal numbers from the pipe; the first stop signal
 * (INT, TERM, HUP), else 0.  *child is set to 1 if a SIGCHLD came. */
int sigev_take(int fd, int *child);

/* Block the stop signals: a process on its way out after one is not cut
 * short by a second (timeout(1) sends one to the child and one to its
 * group) while it flushes and cleans up. */
void sigev_hold(void);

/* The last stop signal caught, 0 if none; set by the handler only. */
volatile sig_atomic_t *sigev_stop_flag(void);

#endif
