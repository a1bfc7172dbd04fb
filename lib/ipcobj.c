/* ipcobj: look up, remove and list shm, sem and mq objects by NAME (ipcobj.h). */
#include "ipcobj.h"
#include "cli.h"
#include "io.h"
#include "ipcmq.h"
#include "ipcsem.h"
#include "json.h"
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

int ipcobj_missing(int err)
{
	return err == ENOENT || err == EINVAL || err == EIDRM;
}

int ipcobj_sysv_id(struct ipcname *n)
{
	if (n->type == IPCNAME_SYSV_ID)
		return n->id;
	if (ipcname_key(n) < 0)
		return -1;
	switch (n->family) {
	case IPCNAME_SHM: return shmget(n->key, 0, 0);
	case IPCNAME_SEM: return semget(n->key, 0, 0);
	default: return msgget(n->key, 0);
	}
}

const char *ipcobj_noun(enum ipcname_family family)
{
	return family == IPCNAME_SHM ? "segment" : family == IPCNAME_SEM ? "semaphore" : "queue";
}

/* --- removal --- */

static int unlink_posix(const struct ipcname *n)
{
	switch (n->family) {
	case IPCNAME_SHM: return shm_unlink(n->posix);
	case IPCNAME_SEM: return ipcsem_unlink(n->posix);
	default: return mq_unlink(n->posix);
	}
}

static int remove_sysv(struct ipcname *n)
{
	int id = ipcobj_sysv_id(n);

	if (id < 0)
		return -1;
	switch (n->family) {
	case IPCNAME_SHM: return shmctl(id, IPC_RMID, NULL);
	case IPCNAME_SEM: return semctl(id, 0, IPC_RMID);
	default: return msgctl(id, IPC_RMID, NULL);
	}
}

/* A qt: name's key file and its POSIX twin; how many of them existed. */
static int remove_qt_files(const struct ipcname *n)
{
	struct ipcname p;

	ipcname_qt_posix_name(n, &p);
	return (unlink(n->path) == 0) + (unlink_posix(&p) == 0);
}

/* What Qt leaves besides the System V object: the key files, the POSIX
 * twins, and a segment's lock semaphore.  How many of them existed. */
static int remove_qt_leftovers(const struct ipcname *n)
{
	struct ipcname lock;
	int found = remove_qt_files(n);

	if (n->family != IPCNAME_SHM)
		return found;
	ipcname_qt_lock(n, &lock);
	found += remove_sysv(&lock) == 0;
	return found + remove_qt_files(&lock);
}

int ipcobj_remove(struct ipcname *n)
{
	int err = 0, extra = 0;

	if (n->type == IPCNAME_POSIX)
		return unlink_posix(n);
	if (remove_sysv(n) < 0)
		err = errno;
	if (n->type == IPCNAME_QT)
		extra = remove_qt_leftovers(n);
	if (!err || extra)
		return 0;
	errno = err;
	return -1;
}

/* Remove one valid name, or warn why not. */
static int remove_one(const char *text, enum ipcname_family family)
{
	struct ipcname n;
	const char *why;

	ipcname_parse(&n, text, family, &why);
	if (ipcobj_remove(&n) == 0)
		return 0;
	if (ipcobj_missing(errno))
		cli_warn("%s: no such %s", text, ipcobj_noun(family));
	else
		cli_warn_errno(errno, "remove %s", text);
	return -1;
}

int ipcobj_remove_all(char **names, int count, enum ipcname_family family)
{
	int status = EXIT_OK;
	struct ipcname n;
	const char *why;

	for (int i = 0; i < count; i++)
		if (ipcname_parse(&n, names[i], family, &why) < 0) {
			cli_warn("invalid name '%s': %s", names[i], why);
			return EXIT_USAGE;
		}
	for (int i = 0; i < count; i++)
		if (remove_one(names[i], family) < 0)
			status = EXIT_FAIL;
	return status;
}

/* What passwd_text_matches looks for, and the name it found. */
struct passwd_want {
	uid_t uid;
	char *name;
	size_t size;
};

/* A uid or gid field of a plain line: 1 to 10 decimal digits, at most
 * UINT32_MAX (glibc reads the same value from these; parse_uint alone
 * would also take 0x hex, which glibc refuses). */
static int passwd_id(const char *s, size_t len, uint64_t *v)
{
	char num[11];

	if (len == 0 || len >= sizeof num)
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	return strspn(num, "0123456789") == len ? parse_uint(num, UINT32_MAX, v) : -1;
}

/* One line of /etc/passwd: 1 it is a plain entry for w->uid (its name
 * copied), 0 a plain entry for another uid or an empty line, -1 anything
 * else.  Plain: name:password:uid:gid:gecos:dir:shell, at least six
 * colons, the name neither empty nor starting with white space (which
 * glibc strips), '#', '+' or '-' (comments and NIS compat entries), uid
 * and gid decimal. */
static int passwd_line(const char *line, size_t len, struct passwd_want *w)
{
	const char *f[4], *end = line + len;
	uint64_t uid, gid;
	int colons = 0;

	if (len == 0)
		return 0;
	for (const char *p = line; p < end && colons < 6; p++)
		if (*p == ':' && ++colons <= 4)
			f[colons - 1] = p;
	if (colons < 6 || f[0] == line || strchr(" \t\v\f\r#+-", *line) || memchr(line, '\0', len) ||
	    passwd_id(f[1] + 1, (size_t)(f[2] - f[1] - 1), &uid) < 0 ||
	    passwd_id(f[2] + 1, (size_t)(f[3] - f[2] - 1), &gid) < 0)
		return -1;
	if (uid != (uint64_t)w->uid)
		return 0;
	size_t nlen = (size_t)(f[0] - line);
	if (nlen >= w->size)
		return -1;
	memcpy(w->name, line, nlen);
	w->name[nlen] = '\0';
	return 1;
}

/* io_scan_lines' fn: 1 found, 2 a line not plain (or too long) came
 * first (getpwuid must decide: glibc may read it otherwise), 0 not in
 * this block. */
static int passwd_text_matches(char *text, size_t len, void *ctx)
{
	if (!text) /* a line too long to read here */
		return 2;
	for (const char *line = text, *stop = text + len; line < stop;) {
		const char *eol = memchr(line, '\n', (size_t)(stop - line));
		if (!eol)
			eol = stop;
		int r = passwd_line(line, (size_t)(eol - line), ctx);
		if (r != 0)
			return r > 0 ? 1 : 2;
		line = eol + 1;
	}
	return 0;
}

int ipcobj_passwd_find(int fd, uid_t uid, char *name, size_t size)
{
	char buf[16384];
	struct passwd_want w = {uid, name, size};
	int r = io_scan_lines(fd, buf, sizeof buf, passwd_text_matches, &w);

	return r < 0 ? -1 : r == 1;
}

/* /etc/passwd first, as NSS's "files" source (first in Debian's
 * nsswitch.conf) reads it; getpwuid for a uid not there, or behind a line
 * we do not read as glibc would.  glibc's first getpwuid sets up NSS
 * (nsswitch.conf, two tries at nscd): 0.35 ms here, a third of what
 * shm-info took beyond /bin/true's start-up. */
const char *ipcobj_user_name(uid_t uid)
{
	static char name[256];
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		int found = ipcobj_passwd_find(fd, uid, name, sizeof name);
		close(fd);
		if (found > 0)
			return name;
	}
	struct passwd *pw = getpwuid(uid);
	return pw ? pw->pw_name : "?";
}

/* --- listing --- */

const char *ipcobj_list_qt(const struct ipcobj_list *l, long long key)
{
	return key ? ipcname_qt_file_of((key_t)key, l->qt, l->nqt) : NULL;
}

void ipcobj_json_row_begin(const struct ipcobj_list *l, const char *backend, const char *name)
{
	printf("%s{\"backend\":\"%s\",\"name\":", l->rows ? "," : "", backend);
	json_cstring(stdout, name);
}

void ipcobj_json_row_end(struct ipcobj_list *l, const char *qt)
{
	if (qt) {
		printf(",\"qt_file\":");
		json_cstring(stdout, qt);
	}
	printf("}");
	l->rows++;
}

/* Is this directory entry an object of the family?  Its name without the
 * "sem." of a semaphore's file in /dev/shm, or NULL.  Queues have the
 * mqueue file system to themselves. */
static const char *posix_entry(enum ipcname_family family, const char *file)
{
	int is_sem = strncmp(file, "sem.", 4) == 0;

	if (family == IPCNAME_SEM)
		return is_sem && file[4] ? file + 4 : NULL;
	return file[0] == '.' || (is_sem && family == IPCNAME_SHM) ? NULL : file;
}

/* The directory that lists the family's POSIX objects, or -1 (a queue's:
 * with a warning). */
static int posix_dir(enum ipcname_family family)
{
	const char *where;
	int fd;

	if (family != IPCNAME_MQ)
		return open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((fd = ipcmq_fs_open(&where)) < 0)
		cli_warn("POSIX queues not listed: no mqueue file system at %s (as root: mount -t "
			 "mqueue none /dev/mqueue)", where);
	return fd;
}

static void posix_each(struct ipcobj_list *l, const struct ipcobj_lister *how)
{
	int fd = posix_dir(how->family);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct stat st;
	char name[NAME_MAX + 2];
	const char *base;

	if (!d && fd >= 0)
		close(fd);
	while (d && (e = readdir(d))) {
		if (!(base = posix_entry(how->family, e->d_name)))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(name, sizeof name, "/%s", base);
		how->posix_row(l, name, dirfd(d), e->d_name, &st);
	}
	if (d)
		closedir(d);
}

static void sysv_each(struct ipcobj_list *l, const struct ipcobj_lister *how)
{
	static const char *const files[] = {
		[IPCNAME_SHM] = "/proc/sysvipc/shm",
		[IPCNAME_SEM] = "/proc/sysvipc/sem",
		[IPCNAME_MQ] = "/proc/sysvipc/msg",
	};
	FILE *f = fopen(files[how->family], "re");
	char line[512];

	if (!f)
		return;
	if (fgets(line, sizeof line, f)) /* the header */
		while (fgets(line, sizeof line, f))
			how->sysv_row(l, line);
	fclose(f);
}

int ipcobj_list_main(int argc, char **argv, const struct ipcobj_lister *how)
{
	struct ipcobj_list *l;
	struct cli c;
	char *arg;
	int key, json = 0;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == how->json_key)
			json = 1;
	cli_operands(&c, 0, 0);
	if (!(l = calloc(1, sizeof *l)))
		cli_die_errno(EXIT_FAIL, errno, "memory");
	l->json = json;
	if (l->json)
		printf("[");
	else
		how->header();
	if (how->family != IPCNAME_MQ)
		l->nqt = ipcname_qt_files(how->family, l->qt, IPCOBJ_MAX_QT_FILES);
	posix_each(l, how);
	sysv_each(l, how);
	if (l->json)
		printf("]\n");
	free(l);
	return EXIT_OK;
}

int ipcobj_rm_main(int argc, char **argv, enum ipcname_family family)
{
	struct cli c;
	char *arg;

	cli_begin(&c, argc, argv);
	while (cli_next(&c, &arg) != -1)
		;
	cli_operands(&c, 1, -1);
	return ipcobj_remove_all(argv + c.ind, argc - c.ind, family);
}

const char *ipcobj_sysv_name(long long key, int id, char buf[32])
{
	char keybuf[12];

	if (key == 0)
		snprintf(buf, 32, "sysv-id:%d", id);
	else
		snprintf(buf, 32, "sysv:%s", ipcname_keystr((key_t)key, keybuf));
	return buf;
}
