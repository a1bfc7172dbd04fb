/* chan_dir: the channel namespace, a private directory of listeners.
 *
 * The directory is $IPCBOX_CHANNEL_DIR, else $XDG_RUNTIME_DIR/ipcbox, else
 * /tmp/ipcbox-UID.  It is created mode 0700 and refused unless it is a real
 * directory (checked with lstat: a symlink is never followed), owned by the
 * user and mode 0700, as QCOP refused its own.
 *
 * Each listener owns two entries, named after its id ("PID-RANDOM"):
 *   s.ID  its datagram socket, bound before anything else;
 *   r.ID  its registration, written to r.ID.tmp and renamed into place, so a
 *         reader sees it whole: a line with the pid, then one pattern a line.
 * A listener is registered once r.ID exists; its socket exists by then.
 * Patterns are channel names in which '*' matches any run of bytes. */
#ifndef IPCBOX_CHAN_DIR_H
#define IPCBOX_CHAN_DIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define CHAN_PATTERNS_MAX 64
#define CHAN_ID_MAX 40
#define CHAN_REG_FILE_MAX (CHAN_PATTERNS_MAX * 256 + 64)

struct chan_dir {
	int fd;
	char path[PATH_MAX];
};

/* One registered listener, as read from its r.ID file. */
struct chan_reg {
	char id[CHAN_ID_MAX];
	long pid;
	int npat;
	size_t patoff[CHAN_PATTERNS_MAX];
	size_t patlen[CHAN_PATTERNS_MAX];
	char text[CHAN_REG_FILE_MAX + 1];
};

/* Pattern i of a registration (offsets, so that an array of them can move). */
static inline const char *chan_reg_pat(const struct chan_reg *r, int i)
{
	return r->text + r->patoff[i];
}

/* Find, create if missing and check the directory.  0 on success; -1 with a
 * one-line reason in err (the path and what is wrong with it). */
int chan_dir_open(struct chan_dir *d, char *err, size_t errlen);
/* The address of entry name in the directory (through /proc/self/fd when
 * the full path does not fit in sun_path).  -1 (ENAMETOOLONG) if neither. */
int chan_dir_addr(const struct chan_dir *d, const char *name, struct sockaddr_un *sun, socklen_t *len);

/* Does the pattern match the channel name? */
int chan_match(const char *pat, size_t patlen, const char *s, size_t len);
/* Does any pattern of the registration match the channel name? */
int chan_reg_matches(const struct chan_reg *r, const char *ch, size_t len);
/* Parse the text of a registration file, r->text[0..len).  0, or -1 if it
 * is malformed. */
int chan_reg_parse(struct chan_reg *r, size_t len);
/* Is a pattern or channel name acceptable (1..CHAN_NAME_MAX bytes, no
 * newline)?  NULL if so, else why not. */
const char *chan_name_check(const char *s);

/* Read every registration in the directory into a malloc'd array.
 * Malformed or vanished files are skipped.  With sweep (senders), also
 * remove what a listener killed while registering left: an s.ID whose
 * socket refuses and that has no r.ID, with its r.ID.tmp.  Looking alone
 * (sweep 0) changes nothing.  0, or -1 with errno. */
int chan_dir_scan(const struct chan_dir *d, struct chan_reg **regs, size_t *n, int sweep);
/* Connect a non-blocking datagram socket to listener id.  Returns the fd,
 * or -1 with errno (ECONNREFUSED or ENOENT: the listener is gone). */
int chan_dir_connect(const struct chan_dir *d, const char *id);
/* Is listener id alive (a connect succeeds)? */
int chan_dir_alive(const struct chan_dir *d, const char *id);
/* Remove the entries of listener id (registration first, then socket). */
void chan_dir_remove(const struct chan_dir *d, const char *id);

/* Register a listener for the patterns: bind its socket (SO_PASSCRED, a
 * receive buffer for the largest frame), then publish r.ID.  Returns the
 * socket, or -1 with errno; id receives the listener's id. */
int chan_dir_register(const struct chan_dir *d, char *const *pats, int npat, char id[CHAN_ID_MAX]);

#endif
