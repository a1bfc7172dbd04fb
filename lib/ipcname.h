/* ipcname: the NAME syntax shared by the shm, sem and mq applets (DESIGN 3).
 *
 *   foo, /foo, posix:/foo          POSIX object /foo
 *   sysv:0x51002bd4, sysv:1234     System V object by key
 *   sysv-id:32769, sysv:id=32769   System V object by id
 *   sysv:PATH:PROJ                 ftok(PATH, PROJ): PROJ 1..255 or one
 *                                  character ('Q'), as ipcmk and sysv_ipc's
 *                                  ftok take it (PATH may hold ':'; the
 *                                  last one ends it)
 *   systemv:/path, systemv-N:/path ftok(path, 'Q') or ftok(path, N): the
 *                                  strings Qt >= 6.6 QNativeIpcKey::toString()
 *                                  prints (percent-encoded, ?query ignored)
 *   qt:KEY                         Qt's legacy key: the file
 *                                  $TMPDIR/PREFIX + letters(KEY) + sha1(KEY),
 *                                  ftok(file, 'Q'), System V
 *
 * qt: is refused for message queues (Qt has none).
 *
 * Parsing only checks the syntax; the System V key of a file-based name is
 * computed by ipcname_key(), which needs the file to exist. */
#ifndef IPCBOX_IPCNAME_H
#define IPCBOX_IPCNAME_H

#include <limits.h>
#include <sys/types.h>

enum ipcname_family { IPCNAME_SHM, IPCNAME_SEM, IPCNAME_MQ };
enum ipcname_type { IPCNAME_POSIX, IPCNAME_SYSV_KEY, IPCNAME_SYSV_ID, IPCNAME_SYSV_FILE, IPCNAME_QT };

/* Qt's prefixes: QSharedMemory and QSystemSemaphore (and QSharedMemory's lock). */
#define IPCNAME_QT_SHM_PREFIX "qipc_sharedmemory_"
#define IPCNAME_QT_SEM_PREFIX "qipc_systemsem_"

struct ipcname {
	const char *text;        /* the name as the user wrote it */
	enum ipcname_family family;
	enum ipcname_type type;
	char posix[NAME_MAX + 2]; /* POSIX: "/foo" */
	key_t key;               /* SYSV_KEY; FILE and QT once ipcname_key() succeeded */
	int id;                  /* SYSV_ID */
	int proj;                /* FILE and QT: the ftok project id */
	char path[PATH_MAX];     /* FILE and QT: the ftok file */
	const char *qtkey;       /* QT: the Qt key (points into text) */
};

/* Parse text as a NAME of the family.  0 on success; -1 with *why set to a
 * short reason ("names cannot contain '/'") on invalid syntax. */
int ipcname_parse(struct ipcname *n, const char *text, enum ipcname_family family,
		  const char **why);
/* Compute n->key from the ftok file (FILE, QT); a no-op for other types.
 * 0, or -1 with errno (ENOENT: no such file). */
int ipcname_key(struct ipcname *n);
/* Create a Qt key file as Qt does (O_CREAT|O_EXCL, 0640).  1 if created,
 * 0 if it existed, -1 with errno. */
int ipcname_make_keyfile(const struct ipcname *n);
/* The name of the semaphore that locks a qt: segment (QSharedMemory::lock):
 * QT type, the same Qt key, the semaphore prefix. */
void ipcname_qt_lock(const struct ipcname *shm, struct ipcname *lock);
/* A Qt built with QT_POSIX_IPC names the same objects POSIX-style: "/" and
 * the key file's name.  Sets posix to that POSIX name (same family) and
 * returns 1 if such an object exists in /dev/shm and the System V key file
 * does not; 0 otherwise. */
int ipcname_qt_posix(const struct ipcname *qt, struct ipcname *posix);
/* The same conversion without looking at the file system. */
void ipcname_qt_posix_name(const struct ipcname *qt, struct ipcname *posix);
/* Qt's QDir::tempPath(): $TMPDIR or /tmp, symlinks resolved. */
void ipcname_qt_tempdir(char *out, size_t len);
/* Print candidate names for the shell completions: POSIX names from
 * /dev/shm (queues: from the mqueue file system when it can be read) and
 * sysv:0x... keys from /proc/sysvipc, one a line. */
void ipcname_complete(enum ipcname_family family);
/* Qt's key files in QDir::tempPath() (qipc_sharedmemory_* or
 * qipc_systemsem_*, by family) and their ftok keys, for annotating lists:
 * a System V key with a Qt file belongs to a Qt application. */
struct ipcname_qtfile {
	key_t key;
	char name[NAME_MAX + 1];
};
/* Fill up to max entries; returns how many. */
size_t ipcname_qt_files(enum ipcname_family family, struct ipcname_qtfile *out, size_t max);
/* The Qt file name of key among files[0..n), or NULL. */
const char *ipcname_qt_file_of(key_t key, const struct ipcname_qtfile *files, size_t n);

/* The System V key as ipcs prints it: "0x%08x". */
const char *ipcname_keystr(key_t key, char buf[12]);

#endif
