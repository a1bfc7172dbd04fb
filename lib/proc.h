/* proc: facts about other processes from /proc. */
#ifndef IPCBOX_PROC_H
#define IPCBOX_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The command name of pid (/proc/PID/comm, without its newline) in
 * buf[0..size); buf, or NULL (buf then empty) if pid is 0, gone, or not
 * ours to read. */
char *proc_comm(pid_t pid, char *buf, size_t size);

#endif
