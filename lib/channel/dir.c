/* chan_dir: the channel namespace directory and its listeners (dir.h). */
#include "dir.h"
#include "frame.h"
#include "../io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory's path, from the environment. */
static int dir_path(char *out, size_t len)
{
	const char *env = getenv("IPCBOX_CHANNEL_DIR");
	int n;

	if (env && *env)
		n = snprintf(out, len, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		n = snprintf(out, len, "%s/ipcbox", env);
	else
		n = snprintf(out, len, "/tmp/ipcbox-%u", (unsigned)getuid());
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Is st a directory of ours, mode 0700?  NULL if so, else why not. */
static const char *dir_refusal(const struct stat *st, char *buf, size_t len)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (!S_ISDIR(st->st_mode))
		return "is not a directory";
	if (st->st_uid != getuid()) {
		snprintf(buf, len, "owned by uid %u, not by uid %u", (unsigned)st->st_uid, (unsigned)getuid());
		return buf;
	}
	if ((st->st_mode & 07777) != 0700) {
		snprintf(buf, len, "mode %04o, must be 0700", (unsigned)(st->st_mode & 07777));
		return buf;
	}
	return NULL;
}

/* Give a directory we just made mode 0700 whatever the umask, through a
 * descriptor, so that nothing put in its place is followed. */
static int fix_mode(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fchmod(fd, 0700);
	close(fd);
	return r;
}

/* Close the directory of a failed open. */
static void chan_dir_close(struct chan_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int chan_dir_open(struct chan_dir *d, char *err, size_t errlen)
{
	struct stat st, fst;
	const char *why;
	char buf[96];

	d->fd = -1;
	if (dir_path(d->path, sizeof d->path) < 0) {
		snprintf(err, errlen, "channel directory: path too long");
		return -1;
	}
	if (mkdir(d->path, 0700) == 0 && fix_mode(d->path) < 0)
		goto fail_errno;
	if (lstat(d->path, &st) < 0)
		goto fail_errno;
	if ((why = dir_refusal(&st, buf, sizeof buf))) {
		snprintf(err, errlen, "%s: refused as channel directory: %s", d->path, why);
		errno = EPERM;
		return -1;
	}
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0)
		goto fail_errno;
	if (fstat(d->fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		snprintf(err, errlen, "%s: refused as channel directory: replaced while opening it", d->path);
		chan_dir_close(d);
		errno = EPERM;
		return -1;
	}
	return 0;
fail_errno:
	snprintf(err, errlen, "%s: %s", d->path, io_strerror(errno));
	return -1;
}

int chan_dir_addr(const struct chan_dir *d, const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s", d->path, name);
	if (n < 0 || (size_t)n >= sizeof sun->sun_path)
		n = snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d/%s", d->fd, name);
	if (n < 0 || (size_t)n >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

/* '*' matches any run of bytes; everything else matches itself.  Greedy
 * with one backtrack point: linear in practice, O(n*m) at worst. */
int chan_match(const char *pat, size_t patlen, const char *s, size_t len)
{
	size_t p = 0, i = 0, star = (size_t)-1, mark = 0;

	while (i < len) {
		if (p < patlen && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (p < patlen && pat[p] == s[i]) {
			p++;
			i++;
		} else if (star != (size_t)-1) {
			p = star + 1;
			i = ++mark;
		} else {
			return 0;
		}
	}
	while (p < patlen && pat[p] == '*')
		p++;
	return p == patlen;
}

int chan_reg_matches(const struct chan_reg *r, const char *ch, size_t len)
{
	for (int i = 0; i < r->npat; i++)
		if (chan_match(chan_reg_pat(r, i), r->patlen[i], ch, len))
			return 1;
	return 0;
}

const char *chan_name_check(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return "empty";
	if (len > CHAN_NAME_MAX)
		return "longer than 255 bytes";
	if (memchr(s, '\n', len))
		return "contains a newline";
	return NULL;
}

int chan_reg_parse(struct chan_reg *r, size_t len)
{
	char *text = r->text, *p = text, *end = text + len, *nl;
	char *num_end;

	r->npat = 0;
	if (len == 0 || text[len - 1] != '\n')
		return -1;
	nl = memchr(p, '\n', (size_t)(end - p));
	*nl = '\0';
	errno = 0;
	r->pid = strtol(p, &num_end, 10);
	if (num_end == p || *num_end || errno || r->pid <= 0)
		return -1;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p || nl - p > CHAN_NAME_MAX || r->npat == CHAN_PATTERNS_MAX)
			return -1;
		*nl = '\0';
		r->patoff[r->npat] = (size_t)(p - text);
		r->patlen[r->npat++] = (size_t)(nl - p);
	}
	return r->npat > 0 ? 0 : -1;
}

/* Read and parse the registration file name ("r.ID"). */
static int reg_read(const struct chan_dir *d, const char *name, struct chan_reg *r)
{
	ssize_t n;
	int fd;

	if (strlen(name + 2) >= CHAN_ID_MAX)
		return -1;
	fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	n = read(fd, r->text, CHAN_REG_FILE_MAX + 1);
	close(fd);
	if (n <= 0 || n > CHAN_REG_FILE_MAX)
		return -1;
	strcpy(r->id, name + 2);
	return chan_reg_parse(r, (size_t)n);
}

static int is_reg_name(const char *name)
{
	return name[0] == 'r' && name[1] == '.' && name[2] && !strstr(name, ".tmp");
}

/* The ids of the s.ID entries in a directory listing, for the sweep. */
struct sock_ids {
	char (*id)[CHAN_ID_MAX];
	size_t n, cap;
};

static void sock_ids_add(struct sock_ids *s, const char *name)
{
	if (name[0] != 's' || name[1] != '.' || strlen(name + 2) >= CHAN_ID_MAX)
		return;
	if (s->n == s->cap) {
		void *more = realloc(s->id, (s->cap = s->cap ? 2 * s->cap : 8) * sizeof *s->id);
		if (!more)
			return; /* the sweep is a courtesy: what it misses stays for the next */
		s->id = more;
	}
	strcpy(s->id[s->n++], name + 2);
}

static int entry_name(char *out, size_t len, char kind, const char *id);

/* Remove the entries of listeners that died while registering: an s.ID
 * with no registration beside it whose socket refuses (nobody holds it),
 * with the r.ID.tmp it may have left.  A listener still registering holds
 * its socket, so a connect succeeds and nothing of it is touched. */
static void sweep_unregistered(const struct chan_dir *d, const struct sock_ids *s,
			       const struct chan_reg *regs, size_t n)
{
	char tmp[CHAN_ID_MAX + 8];
	size_t j;
	int fd;

	for (size_t i = 0; i < s->n; i++) {
		for (j = 0; j < n && strcmp(regs[j].id, s->id[i]); j++)
			;
		if (j < n)
			continue;
		fd = chan_dir_connect(d, s->id[i]);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ECONNREFUSED)
			continue;
		if (entry_name(tmp, sizeof tmp, 'r', s->id[i]) == 0 && strlen(tmp) + 5 <= sizeof tmp) {
			strcat(tmp, ".tmp");
			unlinkat(d->fd, tmp, 0);
		}
		chan_dir_remove(d, s->id[i]);
	}
}

int chan_dir_scan(const struct chan_dir *d, struct chan_reg **regs, size_t *n, int sweep)
{
	struct sock_ids socks = { 0 };
	struct dirent *e;
	size_t cap = 0;
	DIR *dir;
	int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*regs = NULL;
	*n = 0;
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(dir))) {
		if (sweep)
			sock_ids_add(&socks, e->d_name);
		if (!is_reg_name(e->d_name))
			continue;
		if (*n == cap) {
			struct chan_reg *more = realloc(*regs, (cap = cap ? 2 * cap : 4) * sizeof **regs);
			if (!more) {
				closedir(dir);
				free(socks.id);
				return -1;
			}
			*regs = more;
		}
		if (reg_read(d, e->d_name, &(*regs)[*n]) == 0)
			(*n)++;
	}
	closedir(dir);
	sweep_unregistered(d, &socks, *regs, *n);
	free(socks.id);
	return 0;
}

static int entry_name(char *out, size_t len, char kind, const char *id)
{
	int n = snprintf(out, len, "%c.%s", kind, id);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int chan_dir_connect(const struct chan_dir *d, const char *id)
{
	struct sockaddr_un sun;
	socklen_t len;
	char name[CHAN_ID_MAX + 2];
	int fd, err;

	if (entry_name(name, sizeof name, 's', id) < 0 || chan_dir_addr(d, name, &sun, &len) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int chan_dir_alive(const struct chan_dir *d, const char *id)
{
	int fd = chan_dir_connect(d, id);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

void chan_dir_remove(const struct chan_dir *d, const char *id)
{
	char name[CHAN_ID_MAX + 2];

	if (entry_name(name, sizeof name, 'r', id) == 0)
		unlinkat(d->fd, name, 0);
	if (entry_name(name, sizeof name, 's', id) == 0)
		unlinkat(d->fd, name, 0);
}

/* Bind a datagram socket at s.ID, credentials on, receive buffer raised. */
static int bind_socket(const struct chan_dir *d, const char *id)
{
	struct sockaddr_un sun;
	socklen_t len;
	char name[CHAN_ID_MAX + 2];
	int fd, one = 1, rcv = 2 * CHAN_FRAME_MAX, err;

	if (entry_name(name, sizeof name, 's', id) < 0 || chan_dir_addr(d, name, &sun, &len) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, len) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	return fd;
}

/* Write r.ID.tmp with the pid and patterns, then rename it to r.ID. */
static int publish(const struct chan_dir *d, const char *id, char *const *pats, int npat)
{
	char tmp[CHAN_ID_MAX + 8], name[CHAN_ID_MAX + 2], text[CHAN_REG_FILE_MAX];
	size_t len;
	int fd, ok;

	len = (size_t)snprintf(text, sizeof text, "%ld\n", (long)getpid());
	for (int i = 0; i < npat; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", pats[i]);
	snprintf(tmp, sizeof tmp, "r.%s.tmp", id);
	entry_name(name, sizeof name, 'r', id);
	fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, text, len) == (ssize_t)len;
	close(fd);
	if (!ok || renameat(d->fd, tmp, d->fd, name) < 0) {
		unlinkat(d->fd, tmp, 0);
		if (!ok)
			errno = EIO;
		return -1;
	}
	return 0;
}

int chan_dir_register(const struct chan_dir *d, char *const *pats, int npat, char id[CHAN_ID_MAX])
{
	unsigned rnd = 0;
	int fd, err;

	if (npat < 1 || npat > CHAN_PATTERNS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
		rnd ^= (unsigned)getpid() * 2654435761u;
	snprintf(id, CHAN_ID_MAX, "%ld-%08x", (long)getpid(), rnd);
	fd = bind_socket(d, id);
	if (fd < 0)
		return -1;
	if (publish(d, id, pats, npat) < 0) {
		err = errno;
		chan_dir_remove(d, id);
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
