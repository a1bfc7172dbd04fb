/* shmfloor: the least work the shm cells of bench/20-shm.sh can take, as
 * the bound a losing cell is measured against (as floor.c is for tcp).
 * No options, no checks beyond the system calls' results, no lock.
 *
 *   shmfloor write SHMID OFFSET        stdin into a System V segment
 *   shmfloor read SHMID OFFSET LENGTH  a System V segment to stdout
 *   shmfloor zero LENGTH               LENGTH zero bytes to stdout: the
 *                                      least any writer into a pipe does
 *   shmfloor kwrite SEG OFFSET         stdin into SEG by the kernel's own
 *   shmfloor kread SEG LENGTH          copy: copy_file_range, sendfile where
 *                                      it refuses two mounts.  SEG is a
 *                                      POSIX segment's path, or sysv:SHMID
 *                                      (root: /proc/self/map_files).  One
 *                                      copy in the kernel, no user buffer:
 *                                      the least any tool does between a
 *                                      tmpfs file and a segment.
 *
 * The other ways between a tmpfs file and a segment, each at its least
 * (bench/20-shm.sh's path table weighs them against the kernel's copy):
 *   shmfloor bwrite SEG OFFSET SIZE    read(2) stdin and pwrite(2) into SEG,
 *   shmfloor bread SEG LENGTH SIZE     or pread(2) SEG and write(2) stdout,
 *                                      through a page-aligned buffer of SIZE
 *                                      bytes (dd's two copies)
 *   shmfloor mwrite SEG OFFSET         read(2) stdin straight into SEG's
 *   shmfloor mread SEG LENGTH          mapping, or write(2) stdout from it,
 *                                      1 MiB a call, the range prefaulted
 *                                      (MADV_POPULATE_*): one copy, no bounce
 *                                      buffer, no descriptor needed
 *
 * A stdout pipe is enlarged to 1 MiB first, as shm-read does.
 *   shmfloor scan                      read every /proc/PID/maps once, as
 *                                      shm-info's scan must: its floor
 *
 * System V, as an ordinary user (no /proc/self/map_files): the pages are
 * reachable only through a shmat mapping.  Measured on the project's VM
 * kind, 1 GiB as nobody: read(2) from a tmpfs file straight into the
 * mapping 4.8-5.1 s; read(2) into a 1 MiB buffer then process_vm_writev
 * 0.24-0.33 s (256 KiB to 16 MiB chunks alike); out, process_vm_readv and
 * write(2) 0.25-0.41 s to a file, vmsplice(2) and splice(2) 0.18 s.  So
 * write: read + process_vm_writev; read: vmsplice + splice to a file or a
 * character device, process_vm_readv + write otherwise.
 *
 * It is a yardstick, not a tool: any error ends it with status 1. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define BUF (1 << 20)

static char buf[BUF] __attribute__((aligned(4096))); /* see bufcopy */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, p, n);
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static char *attach(const char *id)
{
	char *seg = shmat(atoi(id), NULL, 0);
	if (seg == (void *)-1)
		die("shmat");
	return seg;
}

static void seg_write(char *at)
{
	ssize_t n;

	while ((n = read(0, buf, BUF)) > 0) {
		struct iovec l = {buf, (size_t)n}, r = {at, (size_t)n};
		if (process_vm_writev(getpid(), &l, 1, &r, 1, 0) != n)
			die("process_vm_writev");
		at += n;
	}
	if (n < 0)
		die("read");
}

static void seg_read(char *at, size_t len)
{
	struct stat st;
	int p[2];

	if (fstat(1, &st) == 0 && (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		if (pipe(p) < 0)
			die("pipe");
		fcntl(p[1], F_SETPIPE_SZ, BUF);
		while (len > 0) {
			struct iovec v = {at, len < BUF ? len : BUF};
			ssize_t in = vmsplice(p[1], &v, 1, 0);
			if (in <= 0)
				die("vmsplice");
			for (ssize_t out = 0, k; out < in; out += k)
				if ((k = splice(p[0], NULL, 1, NULL, (size_t)(in - out), 0)) <= 0)
					die("splice");
			at += in;
			len -= (size_t)in;
		}
		return;
	}
	while (len > 0) {
		size_t n = len < BUF ? len : BUF;
		struct iovec l = {buf, n}, r = {at, n};
		if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)n)
			die("process_vm_readv");
		write_all(buf, n);
		at += n;
		len -= n;
	}
}

/* A descriptor for SEG: a path, or sysv:SHMID through the mapping's
 * /proc/self/map_files entry (root only). */
static int seg_fd(const char *seg, int flags)
{
	char path[64];
	struct shmid_ds ds;

	if (strncmp(seg, "sysv:", 5) != 0)
		return open(seg, flags);
	char *at = attach(seg + 5);
	if (shmctl(atoi(seg + 5), IPC_STAT, &ds) < 0)
		die("shmctl");
	snprintf(path, sizeof path, "/proc/self/map_files/%lx-%lx", (unsigned long)at,
		 (unsigned long)at + ((ds.shm_segsz + 4095) & ~4095UL));
	return open(path, flags);
}

/* Copy len bytes (to the end of in when len is 0) from in to out, at
 * out's file position. */
static void kcopy(int in, int out, size_t len)
{
	int cfr = 1;

	for (size_t done = 0; len == 0 || done < len;) {
		size_t want = len == 0 || len - done > BUF ? BUF : len - done;
		ssize_t n = cfr ? copy_file_range(in, NULL, out, NULL, want, 0) : -1;
		if (n < 0 && cfr) {
			cfr = 0;
			continue;
		}
		if (n < 0 && (n = sendfile(out, in, NULL, want)) < 0)
			die("sendfile");
		if (n == 0)
			break;
		done += (size_t)n;
	}
}

/* bwrite/bread: len bytes (to the end of in when len is 0) from in at
 * *inoff (its file position if NULL) to out at *outoff (likewise), size
 * bytes a call.  The buffer is page-aligned: one 16 bytes past a page
 * boundary (malloc's) made the same copy 2.4 times slower on the project's
 * VM kind. */
static void bufcopy(int in, off_t *inoff, int out, off_t *outoff, size_t len, size_t size)
{
	char *b;

	if (size == 0 || posix_memalign((void **)&b, 4096, size) != 0)
		die("buffer");
	for (size_t done = 0; len == 0 || done < len;) {
		size_t want = len == 0 || len - done > size ? size : len - done;
		ssize_t n = inoff ? pread(in, b, want, *inoff) : read(in, b, want);
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		for (ssize_t w = 0, k; w < n; w += k)
			if ((k = outoff ? pwrite(out, b + w, (size_t)(n - w), *outoff + w)
					: write(out, b + w, (size_t)(n - w))) <= 0)
				die("write");
		if (inoff)
			*inoff += n;
		if (outoff)
			*outoff += n;
		done += (size_t)n;
	}
	free(b);
}

/* SEG mapped whole (a path or sysv:SHMID); its size in *size. */
static char *seg_map(const char *seg, int writable, size_t *size)
{
	struct stat st;
	struct shmid_ds ds;

	if (strncmp(seg, "sysv:", 5) == 0) {
		if (shmctl(atoi(seg + 5), IPC_STAT, &ds) < 0)
			die("shmctl");
		*size = ds.shm_segsz;
		return attach(seg + 5);
	}
	int fd = open(seg, writable ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(seg);
	*size = (size_t)st.st_size;
	char *p = mmap(NULL, *size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* mwrite/mread: stdin into the mapping from off to the end of stdin, or
 * len bytes of it to stdout, 1 MiB a call. */
static void mapcopy(const char *seg, size_t off, size_t len, int in)
{
	size_t size;
	char *at = seg_map(seg, in, &size);

	if (off > size)
		die("offset");
	if (in)
		len = size - off;
	madvise(at, size, in ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
	for (size_t done = 0; done < len;) {
		size_t want = len - done > BUF ? BUF : len - done;
		ssize_t n = in ? read(0, at + off + done, want) : write(1, at + off + done, want);
		if (n < 0)
			die(in ? "read" : "write");
		if (n == 0)
			break;
		done += (size_t)n;
	}
}

static void scan(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/maps", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while (read(fd, buf, BUF) > 0)
			;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	fcntl(1, F_SETPIPE_SZ, BUF); /* a stdout pipe: 1 MiB, as ipcbox does (else refused) */
	if (argc == 4 && strcmp(argv[1], "write") == 0)
		seg_write(attach(argv[2]) + strtoull(argv[3], NULL, 10));
	else if (argc == 5 && strcmp(argv[1], "read") == 0)
		seg_read(attach(argv[2]) + strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	else if (argc == 3 && strcmp(argv[1], "zero") == 0)
		for (size_t len = strtoull(argv[2], NULL, 10), n; len > 0; len -= n)
			write_all(buf, n = len < BUF ? len : BUF);
	else if (argc == 4 && strcmp(argv[1], "kwrite") == 0) {
		int fd = seg_fd(argv[2], O_WRONLY);
		if (fd < 0 || lseek(fd, strtoll(argv[3], NULL, 10), SEEK_SET) < 0)
			die(argv[2]);
		kcopy(0, fd, 0);
	} else if (argc == 4 && strcmp(argv[1], "kread") == 0) {
		int fd = seg_fd(argv[2], O_RDONLY);
		if (fd < 0)
			die(argv[2]);
		kcopy(fd, 1, strtoull(argv[3], NULL, 10));
	} else if (argc == 5 && strcmp(argv[1], "bwrite") == 0) {
		int fd = seg_fd(argv[2], O_WRONLY);
		off_t off = strtoll(argv[3], NULL, 10);
		if (fd < 0)
			die(argv[2]);
		bufcopy(0, NULL, fd, &off, 0, strtoull(argv[4], NULL, 10));
	} else if (argc == 5 && strcmp(argv[1], "bread") == 0) {
		int fd = seg_fd(argv[2], O_RDONLY);
		off_t off = 0;
		if (fd < 0)
			die(argv[2]);
		bufcopy(fd, &off, 1, NULL, strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	} else if (argc == 4 && strcmp(argv[1], "mwrite") == 0)
		mapcopy(argv[2], strtoull(argv[3], NULL, 10), 0, 1);
	else if (argc == 4 && strcmp(argv[1], "mread") == 0)
		mapcopy(argv[2], 0, strtoull(argv[3], NULL, 10), 0);
	else if (argc == 2 && strcmp(argv[1], "scan") == 0)
		scan();
	else
		return 2;
	return 0;
}
