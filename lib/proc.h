/* proc: facts about other processes from /proc. */
#ifndef IPCBOX_PROC_H
#define IPCBOX_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The command name of pid (/proc/PID/comm, without its newline) in
 * buf[0..size); buf, or NULL (buf then empty) if pid is 0, gone, or not
 * ours to read. */
char *proc_comm(pid_t pid, char *buf, size_t size);

/* A shared memory segment as /proc/PID/maps shows its mappings: a POSIX
 * segment by the device and inode of its file, whatever path the process
 * sees it under, and never an older file of the same name deleted since
 * ("(deleted)"); a System V segment by its shmid, the inode of its /SYSV
 * mapping. */
struct proc_maps_want {
	int sysv;
	unsigned long long ino; /* the file's inode, or the shmid */
	unsigned dev_major, dev_minor; /* POSIX only */
};

/* Does the maps text at fd (/proc/PID/maps) map the segment?  1 yes, 0 no,
 * -1 with errno if a read failed.  A line of 64 KiB or more is skipped (a
 * path is at most 4 KiB). */
int proc_maps_find(int fd, const struct proc_maps_want *want);

#endif
