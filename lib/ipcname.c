/* ipcname: parse and resolve shm/sem/mq NAMEs; see ipcname.h. */
#include "ipcname.h"
#include "ipcmq.h"
#include "parse.h"
#include "sha1.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <unistd.h>

/* Every refusal of a parser here: the reason in *why, -1. */
static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* Longest POSIX name: the file name in /dev/shm must fit NAME_MAX, and
 * glibc puts "sem." in front of a semaphore's name. */
static size_t posix_name_max(enum ipcname_family family)
{
	return family == IPCNAME_SEM ? NAME_MAX - 4 : NAME_MAX;
}

static int parse_posix(struct ipcname *n, const char *s, const char **why)
{
	while (*s == '/')
		s++;
	if (!*s)
		return refuse(why, "empty name");
	if (strchr(s, '/'))
		return refuse(why, "names cannot contain '/' after the first character");
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return refuse(why, "'.' and '..' are not names");
	if (strlen(s) > posix_name_max(n->family))
		return refuse(why, n->family == IPCNAME_SEM ? "name longer than 251 bytes" : "name longer than 255 bytes");
	n->type = IPCNAME_POSIX;
	snprintf(n->posix, sizeof n->posix, "/%s", s);
	return 0;
}

/* Decode the percent-escapes of a QNativeIpcKey string up to '?' (the query,
 * e.g. ?legacyKey=..., is informational) into out, with parse's decoder: a
 * name is text, so an escaped NUL is refused. */
static int percent_decode(const char *s, char *out, size_t len, const char **why)
{
	size_t n;

	if (parse_pct_decode(s, strcspn(s, "?"), out, len, &n) < 0)
		return refuse(why, errno == ERANGE ? "path too long" : "bad %-escape");
	if (memchr(out, 0, n))
		return refuse(why, "NUL in name");
	if (n == 0)
		return refuse(why, "empty path");
	return 0;
}

static int parse_sysv_id(struct ipcname *n, const char *s, const char **why);
static int parse_sysv_number(struct ipcname *n, const char *s, const char **why);

/* "sysv:PATH:PROJ": the last ':' ends PATH; PROJ is 1..255 (decimal or 0x
 * hex) or one character other than a digit ('Q' is 81). */
static int parse_sysv_ftok(struct ipcname *n, const char *s, const char *colon, const char **why)
{
	const char *p = colon + 1;
	size_t len = (size_t)(colon - s);
	uint64_t proj;

	if (len == 0)
		return refuse(why, "empty path in sysv:PATH:PROJ");
	if (len >= sizeof n->path)
		return refuse(why, "path too long");
	if (p[0] && !p[1] && !(p[0] >= '0' && p[0] <= '9'))
		proj = (unsigned char)p[0];
	else if (parse_uint(p, 255, &proj) < 0 || proj == 0)
		return refuse(why, "project id must be 1..255 or one character");
	memcpy(n->path, s, len);
	n->path[len] = 0;
	n->type = IPCNAME_SYSV_FILE;
	n->proj = (int)proj;
	return 0;
}

/* After "sysv:": KEY, id=ID or PATH:PROJ. */
static int parse_sysv_key(struct ipcname *n, const char *s, const char **why)
{
	const char *colon = strrchr(s, ':');

	if (strncmp(s, "id=", 3) == 0)
		return parse_sysv_id(n, s + 3, why);
	if (colon)
		return parse_sysv_ftok(n, s, colon, why);
	return parse_sysv_number(n, s, why);
}

static int parse_sysv_number(struct ipcname *n, const char *s, const char **why)
{
	uint64_t v;

	if (parse_uint(s, 0xffffffffULL, &v) < 0)
		return refuse(why, "key must be a number, 0x hex or decimal, up to 0xffffffff");
	if (v == 0)
		return refuse(why, "key 0 is IPC_PRIVATE; name such an object by sysv-id:ID");
	n->type = IPCNAME_SYSV_KEY;
	n->key = (key_t)(uint32_t)v;
	return 0;
}

static int parse_sysv_id(struct ipcname *n, const char *s, const char **why)
{
	uint64_t v;

	if (parse_uint(s, INT_MAX, &v) < 0)
		return refuse(why, "id must be a decimal number");
	n->type = IPCNAME_SYSV_ID;
	n->id = (int)v;
	return 0;
}

/* "systemv:/path" (proj 'Q') or "systemv-N:/path" (proj N, 1..255). */
static int parse_systemv(struct ipcname *n, const char *s, const char **why)
{
	const char *colon = strchr(s, ':');
	uint64_t proj = 'Q';

	if (s[7] == '-') {
		char num[8];
		size_t len = (size_t)(colon - (s + 8));
		if (len == 0 || len >= sizeof num)
			return refuse(why, "bad project id in systemv-N:");
		memcpy(num, s + 8, len);
		num[len] = 0;
		if (parse_uint(num, 255, &proj) < 0 || proj == 0)
			return refuse(why, "project id must be 1..255");
	}
	n->type = IPCNAME_SYSV_FILE;
	n->proj = (int)proj;
	return percent_decode(colon + 1, n->path, sizeof n->path, why);
}

void ipcname_qt_tempdir(char *out, size_t len)
{
	const char *t = getenv("TMPDIR");
	char *real;

	if (!t || !*t)
		t = "/tmp";
	real = realpath(t, NULL);
	snprintf(out, len, "%s", real ? real : t);
	free(real);
	/* cleanPath: no trailing slash except for "/" itself */
	size_t l = strlen(out);
	while (l > 1 && out[l - 1] == '/')
		out[--l] = 0;
}

/* Qt's legacy mapping: PREFIX + the key's ASCII letters + sha1(key) hex, in
 * QDir::tempPath(). */
static int qt_path(struct ipcname *n, const char *prefix, const char **why)
{
	char dir[PATH_MAX], file[NAME_MAX + 1], hex[41];
	size_t at = 0;

	if (!*n->qtkey)
		return refuse(why, "empty Qt key");
	at = (size_t)snprintf(file, sizeof file, "%s", prefix);
	for (const char *p = n->qtkey; *p; p++) {
		if (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
			if (at + 40 >= sizeof file - 1)
				return refuse(why, "Qt key has too many letters (the file name would exceed 255 bytes)");
			file[at++] = *p;
		}
	}
	sha1_hex(n->qtkey, strlen(n->qtkey), hex);
	memcpy(file + at, hex, 41);
	ipcname_qt_tempdir(dir, sizeof dir);
	size_t dl = strlen(dir), fl = strlen(file);
	if (dl + 1 + fl >= sizeof n->path)
		return refuse(why, "Qt key file path too long");
	memcpy(n->path, dir, dl);
	n->path[dl] = '/';
	memcpy(n->path + dl + 1, file, fl + 1);
	n->type = IPCNAME_QT;
	n->proj = 'Q';
	return 0;
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int ipcname_parse(struct ipcname *n, const char *text, enum ipcname_family family,
		  const char **why)
{
	memset(n, 0, sizeof *n);
	n->text = text;
	n->family = family;
	*why = NULL;
	if (text[0] == '/')
		return parse_posix(n, text, why);
	if (has_prefix(text, "posix:")) {
		char dec[NAME_MAX * 3 + 2];
		if (percent_decode(text + 6, dec, sizeof dec, why) < 0)
			return -1;
		if (dec[0] != '/')
			return refuse(why, "posix: names start with '/'");
		return parse_posix(n, dec, why);
	}
	if (has_prefix(text, "sysv:"))
		return parse_sysv_key(n, text + 5, why);
	if (has_prefix(text, "sysv-id:"))
		return parse_sysv_id(n, text + 8, why);
	if (has_prefix(text, "systemv:") || (has_prefix(text, "systemv-") && strchr(text, ':')))
		return parse_systemv(n, text, why);
	if (has_prefix(text, "qt:")) {
		if (family == IPCNAME_MQ)
			return refuse(why, "Qt has no message queues (qt: names a segment or a semaphore)");
		n->qtkey = text + 3;
		return qt_path(n, family == IPCNAME_SEM ? IPCNAME_QT_SEM_PREFIX : IPCNAME_QT_SHM_PREFIX,
			       why);
	}
	if (strchr(text, ':'))
		return refuse(why, "unknown name type (use posix:/NAME for a POSIX name with ':')");
	return parse_posix(n, text, why);
}

int ipcname_key(struct ipcname *n)
{
	if (n->type != IPCNAME_SYSV_FILE && n->type != IPCNAME_QT)
		return 0;
	n->key = ftok(n->path, n->proj);
	return n->key == -1 ? -1 : 0;
}

int ipcname_make_keyfile(const struct ipcname *n)
{
	int fd = open(n->path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 1;
}

void ipcname_qt_lock(const struct ipcname *shm, struct ipcname *lock)
{
	const char *why;

	memset(lock, 0, sizeof *lock);
	lock->text = shm->text;
	lock->family = IPCNAME_SEM;
	lock->qtkey = shm->qtkey;
	/* Cannot fail: the semaphore prefix is shorter than the shm prefix. */
	qt_path(lock, IPCNAME_QT_SEM_PREFIX, &why);
}

void ipcname_qt_posix_name(const struct ipcname *qt, struct ipcname *posix)
{
	const char *base = strrchr(qt->path, '/');

	*posix = *qt;
	posix->type = IPCNAME_POSIX;
	snprintf(posix->posix, sizeof posix->posix, "%s", base ? base : "/");
}

int ipcname_qt_posix(const struct ipcname *qt, struct ipcname *posix)
{
	char file[NAME_MAX + 16];

	if (qt->type != IPCNAME_QT || access(qt->path, F_OK) == 0)
		return 0;
	ipcname_qt_posix_name(qt, posix);
	snprintf(file, sizeof file, "/dev/shm/%s%s", qt->family == IPCNAME_SEM ? "sem." : "",
		 posix->posix + 1);
	return access(file, F_OK) == 0;
}

const char *ipcname_keystr(key_t key, char buf[12])
{
	snprintf(buf, 12, "0x%08x", (unsigned)key);
	return buf;
}

static void complete_sysv(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512], buf[12];
	int64_t key;

	if (!f)
		return;
	if (fgets(line, sizeof line, f)) /* the header */
		while (fgets(line, sizeof line, f))
			if (parse_int_fields(line, &key, 1, 0) && key != 0)
				printf("sysv:%s\n", ipcname_keystr((key_t)key, buf));
	fclose(f);
}

static void complete_mq(void);

void ipcname_complete(enum ipcname_family family)
{
	if (family == IPCNAME_MQ) {
		complete_mq();
		return;
	}
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		int is_sem = strncmp(e->d_name, "sem.", 4) == 0;
		if (e->d_name[0] == '.')
			continue;
		if (family == IPCNAME_SEM && is_sem)
			printf("%s\n", e->d_name + 4);
		else if (family == IPCNAME_SHM && !is_sem)
			printf("%s\n", e->d_name);
	}
	if (d)
		closedir(d);
	complete_sysv(family == IPCNAME_SEM ? "/proc/sysvipc/sem" : "/proc/sysvipc/shm");
}

/* Queues: the mqueue file system's entries, and the System V keys. */
static void complete_mq(void)
{
	const char *where;
	int fd = ipcmq_fs_open(&where);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			printf("%s\n", e->d_name);
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	complete_sysv("/proc/sysvipc/msg");
}

size_t ipcname_qt_files(enum ipcname_family family, struct ipcname_qtfile *out, size_t max)
{
	const char *prefix = family == IPCNAME_SEM ? IPCNAME_QT_SEM_PREFIX : IPCNAME_QT_SHM_PREFIX;
	char dir[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	ipcname_qt_tempdir(dir, sizeof dir);
	if (!(d = opendir(dir)))
		return 0;
	while (n < max && (e = readdir(d))) {
		struct ipcname q = {.proj = 'Q'};
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    (size_t)snprintf(q.path, sizeof q.path, "%s/%s", dir, e->d_name) >= sizeof q.path)
			continue;
		q.type = IPCNAME_SYSV_FILE;
		if (ipcname_key(&q) < 0)
			continue;
		out[n].key = q.key;
		snprintf(out[n].name, sizeof out[n].name, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

const char *ipcname_qt_file_of(key_t key, const struct ipcname_qtfile *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (files[i].key == key)
			return files[i].name;
	return NULL;
}
