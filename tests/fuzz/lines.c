/* Fuzz target: the readers of line files from outside: lib/io's
 * io_scan_lines, and on top of it /etc/passwd (lib/ipcobj) and
 * /proc/PID/maps (lib/proc), each against an oracle written here.
 *
 * Input: byte 0 picks io_scan_lines' buffer (2 to 65 bytes), bytes 1-4 a
 * uid and an inode, byte 5 the device and System V or POSIX; the rest is
 * the file, through a memfd.
 *   io_scan_lines  the lines it hands over, in order, are the file's lines
 *                  (the last may lack its newline), those of size - 1
 *                  bytes or more replaced by one skip call each;
 *   passwd         a name it finds is the one glibc's own parser
 *                  (fgetpwent_r on the same bytes) gives first to the uid;
 *   maps           found exactly when a line has, as sscanf reads it, the
 *                  inode and the device, or for System V the inode and a
 *                  path starting /SYSV. */
#include "lib/io.h"
#include "lib/ipcobj.h"
#include "lib/proc.h"

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "lines: %s\n", what);
	abort();
}

/* The file in a memfd, at offset 0. */
static int file_of(const uint8_t *text, size_t len)
{
	int fd = memfd_create("lines", 0);
	if (fd < 0 || (len > 0 && write(fd, text, len) != (ssize_t)len))
		fail("memfd");
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* What io_scan_lines handed over: each line then '\n', a skip as "\x01\n". */
struct got {
	char *out;
	size_t len, cap;
};

static void put(struct got *g, const char *s, size_t n)
{
	if (g->len + n + 1 > g->cap) {
		g->cap = (g->len + n + 1) * 2;
		if (!(g->out = realloc(g->out, g->cap)))
			fail("memory");
	}
	memcpy(g->out + g->len, s, n);
	g->len += n;
}

static int collect(char *text, size_t len, void *ctx)
{
	if (!text) {
		if (len != 0)
			fail("a skip with a length");
		put(ctx, "\x01\n", 2);
		return 0;
	}
	if (text[len] != '\0')
		fail("a block without its NUL");
	put(ctx, text, len);
	put(ctx, "\n", 1);
	return 0;
}

static void check_scan(const uint8_t *text, size_t len, size_t bufsize)
{
	struct got got = {0}, want = {0};
	char *buf = malloc(bufsize);
	int fd = file_of(text, len);

	if (!buf || io_scan_lines(fd, buf, bufsize, collect, &got) != 0)
		fail("io_scan_lines failed");
	close(fd);
	for (size_t at = 0; at < len;) {
		const uint8_t *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		if (n >= bufsize - 1)
			put(&want, "\x01\n", 2);
		else {
			put(&want, (const char *)text + at, n);
			put(&want, "\n", 1);
		}
		at += n + 1;
	}
	if (got.len != want.len || (got.len && memcmp(got.out, want.out, got.len) != 0))
		fail("the lines handed over are not the file's");
	free(got.out);
	free(want.out);
	free(buf);
}

static void check_passwd(const uint8_t *text, size_t len, uid_t uid)
{
	char name[256];
	int fd = file_of(text, len);
	int r = ipcobj_passwd_find(fd, uid, name, sizeof name);

	close(fd);
	if (r < 0)
		fail("passwd: read failed");
	if (r == 0)
		return; /* getpwuid decides: nothing to compare */
	FILE *f = fmemopen((void *)text, len, "r");
	static char gbuf[1 << 17];
	struct passwd pw, *p;
	if (!f)
		fail("fmemopen");
	while (fgetpwent_r(f, &pw, gbuf, sizeof gbuf, &p) == 0)
		if (p->pw_uid == uid)
			break;
	fclose(f);
	if (p == NULL || strcmp(p->pw_name, name) != 0) {
		fprintf(stderr, "passwd: uid %u: ipcbox '%s', glibc '%s'\n", (unsigned)uid, name,
			p ? p->pw_name : "(none)");
		fail("passwd: another name than glibc's");
	}
}

/* A dev field as the kernel writes it: 1 to 7 lowercase hex digits, ':',
 * 1 to 7 more; its value in *v (major << 32 | minor). */
static int oracle_dev(const char *s, size_t n, uint64_t *v)
{
	uint64_t part[2] = {0, 0};
	int k = 0, digits = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ':' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else if (((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) && digits < 7) {
			part[k] = part[k] * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
			digits++;
		} else
			return -1;
	}
	if (k != 1 || digits == 0)
		return -1;
	*v = part[0] << 32 | part[1];
	return 0;
}

/* One line of maps, n bytes: fields split on spaces and tabs; the fifth
 * is the inode in decimal, after a space; POSIX: the fourth is the device;
 * System V: what follows the fifth starts with /SYSV. */
static int oracle_maps_line(const char *l, size_t n, const struct proc_maps_want *w)
{
	size_t at[6], len[6], i = 0;
	int f = 0;
	char digits[24];

	while (f < 5) {
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i == n)
			return 0;
		at[f] = i;
		while (i < n && l[i] != ' ' && l[i] != '\t')
			i++;
		len[f] = i - at[f];
		f++;
	}
	snprintf(digits, sizeof digits, "%llu", w->ino);
	if (l[at[4] - 1] != ' ' || len[4] != strlen(digits) || memcmp(l + at[4], digits, len[4]) != 0)
		return 0;
	if (w->sysv) {
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		return n - i >= 5 && memcmp(l + i, "/SYSV", 5) == 0;
	}
	uint64_t dev;
	return oracle_dev(l + at[3], len[3], &dev) == 0 &&
	       dev == ((uint64_t)w->dev_major << 32 | w->dev_minor);
}

static void check_maps(const uint8_t *text, size_t len, const struct proc_maps_want *w)
{
	int fd = file_of(text, len);
	int r = proc_maps_find(fd, w), want = 0;

	close(fd);
	if (r < 0)
		fail("maps: read failed");
	for (size_t at = 0; at < len && !want;) {
		const uint8_t *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		/* lines of 64 KiB or more, and lines with a NUL, are not read */
		if (n < 65535 && !memchr(text + at, '\0', n))
			want = oracle_maps_line((const char *)text + at, n, w);
		at += n + 1;
	}
	if (r != want) {
		fprintf(stderr, "maps: ipcbox %d, oracle %d\n", r, want);
		fail("maps: another answer than the oracle's");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	uint32_t v = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
		     (uint32_t)data[4] << 24;
	check_scan(data + 6, size - 6, 2 + data[0] % 64);
	check_passwd(data + 6, size - 6, (uid_t)(v % 2 ? v : v % 4096));
	struct proc_maps_want w = {data[5] & 1, v % 2 ? v : v % 100000, (data[5] >> 1) & 7,
				   (unsigned)data[5] >> 4};
	check_maps(data + 6, size - 6, &w);
	return 0;
}
