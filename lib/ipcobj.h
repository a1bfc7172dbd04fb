/* ipcobj: what shm-*, sem-* and mq-* do alike to the objects a NAME (lib/ipcname.h)
 * stands for: look up a System V id, remove, and list the objects of a
 * family (the list and rm verbs are one main each, here).  The family of
 * the name picks the calls (shmget, semget or msgget; shm_unlink,
 * sem_unlink or mq_unlink; /proc/sysvipc/shm, sem or msg). */
#ifndef IPCBOX_IPCOBJ_H
#define IPCBOX_IPCOBJ_H

#include "ipcname.h"

#include <sys/stat.h>

#define IPCOBJ_MAX_QT_FILES 256

/* Is err what the kernel says of an object that is not there? */
int ipcobj_missing(int err);
/* The System V id of a name, or -1 with errno. */
int ipcobj_sysv_id(struct ipcname *n);
/* "segment", "semaphore" or "queue", for messages. */
const char *ipcobj_noun(enum ipcname_family family);
/* Remove the object; for a qt: name also Qt's key file and the POSIX object
 * of the same name (QT_POSIX_IPC), and for a segment Qt's lock semaphore and
 * its key file.  0 if anything was removed; -1 with errno otherwise. */
int ipcobj_remove(struct ipcname *n);
/* shm-rm and sem-rm: check every name first, so that a typo removes
 * nothing (a warning and EXIT_USAGE for the first invalid one), then remove
 * each, warn about those that fail, and return the exit status. */
int ipcobj_remove_all(char **names, int count, enum ipcname_family family);

/* The user name of uid, or "?": /etc/passwd, else getpwuid.  In static
 * storage, overwritten by the next call (as getpwuid's). */
const char *ipcobj_user_name(uid_t uid);
/* The name of uid in the passwd-format text at fd, into name (size bytes):
 * 1 if a plain entry (name:password:uid:gid:gecos:dir:shell, decimal ids)
 * gives it before any line that is not plain nor empty; 0 otherwise (not
 * there, or getpwuid must decide); -1 with errno if a read failed.  What
 * it finds is what glibc's parser reads from the same lines. */
int ipcobj_passwd_find(int fd, uid_t uid, char *name, size_t size);

/* A listing (shm-list, sem-list, mq-list): JSON or text, rows annotated
 * with the Qt key file whose ftok key they have (shm and sem). */
struct ipcobj_list {
	int json;
	int rows;
	struct ipcname_qtfile qt[IPCOBJ_MAX_QT_FILES];
	size_t nqt;
};
/* The Qt key file of a System V key, or NULL. */
const char *ipcobj_list_qt(const struct ipcobj_list *l, long long key);
/* A JSON row: its start {"backend":...,"name":... (after a comma but for the
 * first row), then the caller's fields, then the end: "qt_file" if qt. */
void ipcobj_json_row_begin(const struct ipcobj_list *l, const char *backend, const char *name);
void ipcobj_json_row_end(struct ipcobj_list *l, const char *qt);

/* What a family's list verb brings to ipcobj_list_main: the key of its
 * --json option, its text header, and its row printers. */
struct ipcobj_lister {
	enum ipcname_family family;
	int json_key;
	void (*header)(void);
	/* a POSIX object: its NAME ("/foo"), the directory that lists it and
	 * its entry there (a semaphore's file is sem.foo), its lstat */
	void (*posix_row)(struct ipcobj_list *l, const char *name, int dir, const char *file,
			  const struct stat *st);
	/* a line of /proc/sysvipc/shm, sem or msg after the header */
	void (*sysv_row)(struct ipcobj_list *l, const char *line);
};
/* shm-list, sem-list and mq-list: the options (--json alone), no operand;
 * then "[" and "]" around JSON rows or the text header, a row for each
 * POSIX object (in /dev/shm; queues in the mqueue file system, with a
 * warning where there is none) and each System V object.  Returns the exit
 * status. */
int ipcobj_list_main(int argc, char **argv, const struct ipcobj_lister *how);
/* shm-rm, sem-rm and mq-rm: NAME... through ipcobj_remove_all. */
int ipcobj_rm_main(int argc, char **argv, enum ipcname_family family);
/* The NAME of a System V object: "sysv:0x..." or, for key 0 (IPC_PRIVATE),
 * "sysv-id:ID". */
const char *ipcobj_sysv_name(long long key, int id, char buf[32]);

#endif
