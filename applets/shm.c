/* shm applets: create, write, read, inspect, list and remove shared memory
 * segments, POSIX (shm_open, /dev/shm) and System V (shmget), named as in
 * lib/ipcname.h, including the segments of Qt's QSharedMemory ("qt:KEY").
 *
 * Copies take the path bench/20-shm.sh measured fastest (DESIGN 4, shm): a
 * POSIX segment is a file in a tmpfs, so data moves through its descriptor
 * (copy_file_range from a regular file, splice from a pipe, pread/pwrite
 * with a 1 MiB buffer otherwise); only System V segments, which have no
 * descriptor, are mapped (shmat), and reached through /proc/self/map_files
 * where we may open it, else through process_vm_readv/writev (seg_move).
 * Under a lock (Qt's, by default for qt: names) the copy goes through a
 * private buffer instead, so the lock is never held while waiting on a pipe. */
#include "applets.h"
#include "../lib/hexdump.h"
#include "../lib/io.h"
#include "../lib/ipcname.h"
#include "../lib/ipcobj.h"
#include "../lib/ipcsem.h"
#include "../lib/json.h"
#include "../lib/parse.h"
#include "../lib/proc.h"
#include "../lib/relay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_LOCK_TIMEOUT_MS 5000
/* Largest single read(2)/write(2) request; Linux caps one call near 2 GiB. */
#define IO_CHUNK (1UL << 30)

enum {
	OPT_EXIST_OK = OPT_LONG_ONLY,
	OPT_LOCK,
	OPT_NO_LOCK,
};

/* A process that maps the segment (shm-info). */
struct mapper {
	int pid;
	char comm[32];
};

static struct {
	struct ipcname name;
	/* options */
	uint64_t size;
	int have_size;
	unsigned mode;
	int exist_ok;
	uint64_t offset;
	uint64_t length;
	int have_length;
	int hex;
	int lock; /* -1: the default (on for qt: names), 0 off, 1 on */
	int64_t timeout_ms;
	int json;
	/* the open segment */
	int fd;
	int shmid;
	size_t bytes;
	unsigned char *addr;
	int vm_refused; /* process_vm_readv/writev refused: memcpy the mapping */
	/* the lock, while held: a System V id or a POSIX semaphore */
	int lock_semid;
	struct ipcsem *lock_sem;
	char lock_posix[NAME_MAX + 2]; /* the POSIX lock's name, for messages */
	/* a qt: name served by Qt's POSIX backend (QT_POSIX_IPC): the Qt name */
	int qt_posix;
	struct ipcname qtname;
	/* shm-info: the processes that map it, and how many /proc entries
	 * could not be read */
	struct mapper *maps;
	size_t nmaps, capmaps;
	int unreadable;
} S; /* zero-initialised (bss): its defaults are set by state_defaults() */

/* The option defaults, set at the start of every applet (kept out of the
 * static initialiser so the large tables stay in bss, not in the binary). */
static void state_defaults(void)
{
	S.mode = 0600;
	S.lock = -1;
	S.timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
	S.fd = -1;
	S.shmid = -1;
	S.lock_semid = -1;
}

/* Parse one NAME operand into n, exit 2 if it is not valid. */
static void parse_name(struct ipcname *n, const char *text)
{
	const char *why;

	if (ipcname_parse(n, text, IPCNAME_SHM, &why) < 0)
		cli_usage_error("invalid name '%s': %s", text, why);
}

/* Compute the key of a file-based name (systemv:, qt:), exit 1 if the file
 * is missing. */
static void resolve_key(struct ipcname *n)
{
	if (ipcname_key(n) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: key file %s", n->text, n->path);
}

static void die_open(const struct ipcname *n, int err)
{
	if (err == ENOENT && n->type == IPCNAME_QT)
		cli_die(EXIT_FAIL, "%s: no such segment (no Qt key file %s)", n->text, n->path);
	if (ipcobj_missing(err))
		cli_die(EXIT_FAIL, "%s: no such segment", n->text);
	cli_die_errno(EXIT_FAIL, err, "%s", n->text);
}

/* Open the segment named S.name and learn its size. */
static void seg_open(int writable)
{
	struct stat st;
	struct shmid_ds ds;
	struct ipcname p;

	if (ipcname_qt_posix(&S.name, &p)) {
		S.qtname = S.name;
		S.qt_posix = 1;
		S.name = p;
	}
	if (S.name.type == IPCNAME_POSIX) {
		S.fd = shm_open(S.name.posix, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
		if (S.fd < 0 || fstat(S.fd, &st) < 0)
			die_open(&S.name, errno);
		S.bytes = (size_t)st.st_size;
		return;
	}
	S.shmid = ipcobj_sysv_id(&S.name);
	if (S.shmid < 0 || shmctl(S.shmid, IPC_STAT, &ds) < 0)
		die_open(&S.name, errno);
	S.bytes = ds.shm_segsz;
}

/* Map the open segment (nothing to map if it is empty). */
static void seg_map(int writable)
{
	void *p;

	if (S.bytes == 0)
		return;
	if (S.name.type == IPCNAME_POSIX)
		p = mmap(NULL, S.bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
			 S.fd, 0);
	else
		p = shmat(S.shmid, NULL, writable ? 0 : SHM_RDONLY);
	if (p == MAP_FAILED)
		cli_die_errno(EXIT_FAIL, errno, "%s: map", S.name.text);
	S.addr = p;
}

/* A descriptor for a mapped System V segment: its shmem file, opened through
 * /proc/self/map_files, so its copies go through the kernel as a POSIX
 * segment's do.  On the project's VM kind the first touch of each page of a
 * mapping from user space costs about 55 us (256 MiB: 3.6 s touching one
 * byte a page after MADV_POPULATE_WRITE, 0.1 s for the next memset), while
 * pwrite to the descriptor moved 256 MiB in 0.5 s.  The kernel allows the
 * open with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE only: without them (or
 * under IPCBOX_COPY=plain) S.fd stays -1 and the copy uses the mapping. */
static void seg_sysv_fd(int writable)
{
	uintptr_t start = (uintptr_t)S.addr;
	size_t page = (size_t)getpagesize();
	char path[64];

	if (!S.addr || relay_copy_plain())
		return;
	snprintf(path, sizeof path, "/proc/self/map_files/%lx-%lx", (unsigned long)start,
		 (unsigned long)(start + (S.bytes + page - 1) / page * page));
	S.fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
}

/* Fault in the mapping's pages for [off, off+len) with one call
 * (MADV_POPULATE_*, Linux 5.14), so the copy that follows does not take a
 * page fault per 4 KiB.  On an older kernel the call fails and the copy
 * simply takes the faults. */
#ifndef MADV_POPULATE_READ /* Linux 5.14's values; musl 1.2.3 lacks them */
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static void seg_prefault(size_t off, size_t len, int writable)
{
	size_t page = (size_t)getpagesize();
	size_t start = off - off % page;

	if (len == 0)
		return;
	(void)madvise(S.addr + start, len + (off - start),
		      writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

/* Move n bytes between buf and the mapping at off: into the mapping if in.
 * Without a descriptor (an ordinary user cannot open map_files) this is
 * how a System V copy reaches the segment.  process_vm_readv/writev on our
 * own pid let the kernel pin the segment's pages and copy through its own
 * mapping of them.  On the project's VM kind each first touch of a page
 * through a fresh user mapping traps (about 8 us a page, even after
 * MADV_POPULATE_WRITE), so memcpy into a shmat mapping moved 1 GiB in 2.7 s
 * and process_vm_writev in 0.33 to 0.51 s (process_vm_readv out: 0.16 s
 * against 4.0 s).  Where the kernel refuses the call (no such system call,
 * a seccomp filter), memcpy through the prefaulted mapping; so does
 * IPCBOX_COPY=plain, the bench's yardstick. */
static void seg_move(unsigned char *buf, size_t off, size_t n, int in)
{
	size_t done = 0;

	if (!S.vm_refused && !relay_copy_plain()) {
		struct iovec local = {buf, n}, remote = {S.addr + off, n};
		ssize_t r = in ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
			       : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (r == (ssize_t)n)
			return;
		if (r < 0)
			S.vm_refused = 1;
		else
			done = (size_t)r;
	}
	seg_prefault(off + done, n - done, in);
	if (in)
		memcpy(S.addr + off + done, buf + done, n - done);
	else
		memcpy(buf + done, S.addr + off + done, n - done);
}

/* Check --offset and --length against the segment, exit 2 if outside. */
static size_t check_range(void)
{
	if (S.offset > S.bytes)
		cli_usage_error("offset %llu is past the end of '%s' (%zu bytes)",
				(unsigned long long)S.offset, S.name.text, S.bytes);
	if (!S.have_length)
		return S.bytes - (size_t)S.offset;
	if (S.length > S.bytes - S.offset)
		cli_usage_error("length %llu from offset %llu is beyond the end of '%s' (%zu bytes)",
				(unsigned long long)S.length, (unsigned long long)S.offset,
				S.name.text, S.bytes);
	return (size_t)S.length;
}

/* The options shm-write and shm-read share: --offset and the lock's. */
static void copy_option(int key, const char *arg)
{
	switch (key) {
	case 'o':
		S.offset = cli_size(arg, "offset");
		break;
	case 't':
		S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_INF);
		break;
	case OPT_LOCK:
		S.lock = 1;
		break;
	case OPT_NO_LOCK:
		S.lock = 0;
		break;
	}
}

/* A private buffer of len bytes (a RELAY_BUF copy buffer, or a snapshot
 * under the lock), page-aligned (io_buffer_alloc says why); exit 1 if none. */
static unsigned char *copy_buffer(size_t len)
{
	unsigned char *buf = io_buffer_alloc(len);

	if (!buf)
		cli_die_errno(EXIT_FAIL, errno, "buffer of %zu bytes", len);
	return buf;
}

/* --- the lock: Qt's QSharedMemory::lock(), or the same-named semaphore --- */

static int lock_wanted(void)
{
	return S.lock < 0 ? S.name.type == IPCNAME_QT || S.qt_posix : S.lock;
}

/* Open the lock semaphore without creating it: creating Qt's lock behind
 * its back would make Qt treat a stranger's semaphore as its own. */
static void lock_open(void)
{
	struct ipcname lock;

	if (S.name.type == IPCNAME_POSIX) {
		lock = S.name;
		if (S.qt_posix) { /* Qt's POSIX backend: /qipc_systemsem_... */
			struct ipcname qtlock;
			ipcname_qt_lock(&S.qtname, &qtlock);
			ipcname_qt_posix_name(&qtlock, &lock);
		}
		strcpy(S.lock_posix, lock.posix);
		S.lock_sem = ipcsem_open(lock.posix, 0, 0, 0);
		if (!S.lock_sem)
			cli_die_errno(EXIT_FAIL, errno, "%s: lock semaphore %s", S.name.text,
				      lock.posix);
		return;
	}
	if (S.name.type == IPCNAME_SYSV_ID)
		cli_usage_error("--lock needs a key, not an id: '%s'", S.name.text);
	if (S.name.type == IPCNAME_QT)
		ipcname_qt_lock(&S.name, &lock);
	else
		lock = S.name;
	if (ipcname_key(&lock) < 0 || (S.lock_semid = semget(lock.key, 0, 0)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: lock semaphore %s%s", S.name.text,
			      lock.type == IPCNAME_QT ? lock.path : "of the same key",
			      errno == ENOENT ? " (use --no-lock to read without it)" : "");
}

/* Take the lock within --timeout (exit 124 when it expires).  System V uses
 * SEM_UNDO, as Qt does, so the lock comes back if this process dies. */
static void lock_take(void)
{
	int r;

	lock_open();
	if (S.lock_sem)
		r = ipcsem_posix_wait(S.lock_sem, S.timeout_ms, NULL);
	else
		r = ipcsem_sysv_op(S.lock_semid, -1, SEM_UNDO, S.timeout_ms, NULL);
	/* A POSIX lock has no undo: a holder killed by SIGKILL keeps it taken
	 * for good, so the message names the repair. */
	if (r < 0 && errno == EAGAIN && S.lock_sem)
		cli_die(EXIT_TIMEOUT, "%s: lock still held by another process after the timeout "
				      "(if its holder was killed, sem-post %s gives it back)",
			S.name.text, S.lock_posix);
	if (r < 0 && errno == EAGAIN)
		cli_die(EXIT_TIMEOUT, "%s: lock still held by another process after the timeout",
			S.name.text);
	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: take the lock", S.name.text);
}

static void lock_release(void)
{
	int r = S.lock_sem ? ipcsem_post(S.lock_sem)
			   : ipcsem_sysv_op(S.lock_semid, 1, SEM_UNDO, IPCSEM_FOREVER, NULL);
	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: release the lock", S.name.text);
}

/* --- shm-create --- */

static void create_qt_lock(void)
{
	struct ipcname lock;
	int id;

	ipcname_qt_lock(&S.name, &lock);
	if (ipcname_make_keyfile(&lock) < 0 || ipcname_key(&lock) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: Qt lock key file %s", S.name.text, lock.path);
	id = semget(lock.key, 1, 0600 | IPC_CREAT);
	/* Qt's create() forces the lock to 1: it may be a crashed owner's. */
	if (id < 0 || semctl(id, 0, SETVAL, 1) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: Qt lock semaphore", S.name.text);
}

static int create_posix(void)
{
	int fd = shm_open(S.name.posix, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, S.mode);
	int err;

	if (fd < 0 && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (fd < 0)
		cli_die_errno(EXIT_FAIL, errno, "create %s", S.name.text);
	/* the umask must not change the mode asked for */
	err = fchmod(fd, S.mode) < 0 ? errno : posix_fallocate(fd, 0, (off_t)S.size);
	if (err) {
		shm_unlink(S.name.posix);
		cli_die_errno(EXIT_FAIL, err, "allocate %llu bytes for %s",
			      (unsigned long long)S.size, S.name.text);
	}
	close(fd);
	return EXIT_OK;
}

static int create_sysv(void)
{
	int made_file = 0, id;

	if (S.name.type == IPCNAME_SYSV_ID)
		cli_usage_error("cannot create by id: '%s'; use sysv:KEY", S.name.text);
	if (S.name.type == IPCNAME_QT &&
	    (made_file = ipcname_make_keyfile(&S.name)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: Qt key file %s", S.name.text, S.name.path);
	resolve_key(&S.name);
	id = shmget(S.name.key, S.size, IPC_CREAT | IPC_EXCL | (int)S.mode);
	if (id < 0 && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (id < 0) {
		int err = errno;
		if (made_file)
			unlink(S.name.path);
		if (err == EINVAL)
			cli_die(EXIT_FAIL, "create %s: size %llu outside the kernel's limits "
				"(kernel.shmmax, kernel.shmall)", S.name.text,
				(unsigned long long)S.size);
		cli_die_errno(EXIT_FAIL, err, "create %s", S.name.text);
	}
	if (S.name.type == IPCNAME_QT)
		create_qt_lock();
	return EXIT_OK;
}

static int shm_create_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 's':
			S.size = cli_size(arg, "size");
			S.have_size = 1;
			if (S.size > (uint64_t)INT64_MAX)
				cli_usage_error("invalid size '%s': too large", arg);
			break;
		case 'm':
			S.mode = cli_mode(arg);
			break;
		case OPT_EXIST_OK:
			S.exist_ok = 1;
			break;
		}
	}
	cli_operands(&c, 1, 1);
	parse_name(&S.name, argv[c.ind]);
	if (!S.have_size)
		cli_usage_error("missing --size; usage: ipcbox shm-create %s", cli_applet->synopsis);
	if (S.size == 0)
		cli_usage_error("invalid size '0': a segment holds at least one byte");
	if (S.mode & ~0777u)
		cli_usage_error("invalid mode '%o': only permission bits 0777 apply", S.mode);
	return S.name.type == IPCNAME_POSIX ? create_posix() : create_sysv();
}

/* --- shm-write --- */

/* How many bytes the input will bring, if it can tell (a regular file). */
static int64_t input_size(int in)
{
	struct stat st;
	off_t pos;

	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	pos = lseek(in, 0, SEEK_CUR);
	return pos < 0 || pos > st.st_size ? -1 : (int64_t)(st.st_size - pos);
}

/* Read up to room bytes from in into dst; exit 1 on a read error. */
static size_t read_into(int in, unsigned char *dst, size_t room)
{
	size_t got = 0;

	while (got < room) {
		size_t want = room - got < IO_CHUNK ? room - got : IO_CHUNK;
		ssize_t n = read(in, dst + got, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, "read input");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* After the segment is full, is there more input?  Then it did not fit. */
static void refuse_leftover(int in, size_t room, size_t written)
{
	char probe;
	ssize_t n;

	do
		n = read(in, &probe, 1);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		cli_die(EXIT_FAIL, "input larger than the %zu bytes from offset %llu to the end "
			"of %s (%zu bytes were written)", room, (unsigned long long)S.offset,
			S.name.text, written);
}

/* Without a lock, System V without a descriptor: read(2) 1 MiB at a time
 * into a private buffer, then seg_move it into the segment.  One read(2)
 * straight into the shmat mapping was 8 to 10 times slower on the project's
 * VM kind (256 MiB from a tmpfs file: 3.7 s against 0.43 s), for the page
 * touches seg_move explains. */
static void write_sysv(int in, size_t room, int64_t known)
{
	unsigned char *buf = copy_buffer(RELAY_BUF);
	size_t got = 0;

	while (got < room) {
		size_t n = read_into(in, buf, room - got < RELAY_BUF ? room - got : RELAY_BUF);
		if (n == 0)
			break;
		seg_move(buf, S.offset + got, n, 1);
		got += n;
	}
	free(buf);
	if (got == room && known < 0)
		refuse_leftover(in, room, got);
}

/* Write len bytes of buf into the POSIX segment at off; exit 1 on error. */
static void pwrite_all(const unsigned char *buf, size_t len, size_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(S.fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, "write %s", S.name.text);
		buf += n;
		len -= (size_t)n;
		off += (size_t)n;
	}
}

/* Under the lock: gather the input first, so the lock is held only for
 * the copy into the segment, never while a pipe is slow to deliver. */
static void write_locked(int in, size_t room)
{
	unsigned char *buf = copy_buffer(room);
	size_t got = read_into(in, buf, room);

	if (got == room)
		refuse_leftover(in, room, 0);
	lock_take();
	if (S.fd >= 0)
		pwrite_all(buf, got, (size_t)S.offset);
	else if (got > 0)
		seg_move(buf, S.offset, got, 1);
	lock_release();
	free(buf);
}

/* How a copy between a descriptor and a POSIX segment moves its bytes. */
enum copy_path { COPY_PLAIN, COPY_RANGE, COPY_SPLICE, COPY_SENDFILE };

/* A fast call the kernel refuses for these descriptors: read/write then. */
static int copy_unsupported(int err)
{
	return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EXDEV ||
	       err == ESPIPE || err == EBADF;
}

/* The path for the other end of a copy, as bench/20-shm.sh measured on the
 * project's VM kind (Linux 6.18; figures in the commit that chose them):
 * copy_file_range for a regular file (sendfile where it refuses two
 * mounts), splice for a pipe on the way in,
 * sendfile to a character device such as /dev/null on the way out, pread/
 * pwrite through a 1 MiB buffer for everything else and under
 * IPCBOX_COPY=plain.  Nothing splices the segment's pages into a pipe or a
 * socket on the way out: the reader would see changes made after shm-read
 * returned.
 * Issue 21 weighed the regular-file cells again (bench/20-shm.sh's path
 * table: 1 GiB, the file and the segment filled before the rounds, 7
 * rounds interleaved, load 0.8-1.2): the kernel's one copy
 * (copy_file_range; sendfile for System V) ran at 1.23-1.30x dd bs=1M
 * conv=notrunc both ways, POSIX and System V (shm-write and shm-read
 * themselves: 1.18-1.24x); read/pwrite through a page-aligned buffer of
 * 256 KiB, 1 MiB or 2 MiB at 0.98-1.06x; read(2)/write(2) straight
 * between the file and the mapping (one copy, no buffer) at 0.58-0.96x,
 * for the page touches seg_move describes.  How much one copy_file_range
 * call asks for (64 KiB to 1 GiB) made no difference. */
static enum copy_path copy_path_for(int fd, int into_segment)
{
	struct stat st;

	if (relay_copy_plain() || fstat(fd, &st) < 0)
		return COPY_PLAIN;
	if (S_ISREG(st.st_mode))
		return COPY_RANGE;
	if (S_ISFIFO(st.st_mode) && into_segment)
		return COPY_SPLICE;
	if (S_ISCHR(st.st_mode) && !into_segment)
		return COPY_SENDFILE;
	return COPY_PLAIN;
}

/* One step of a POSIX copy: up to want bytes between fd and the segment at
 * *off (into the segment if in), by path; the bytes moved, 0 at the end of
 * the input, -1 with errno.  buf is a RELAY_BUF buffer for COPY_PLAIN. */
static ssize_t copy_step(enum copy_path path, int fd, int in, off_t *off, size_t want,
			 unsigned char *buf)
{
	ssize_t n;

	switch (path) {
	case COPY_RANGE:
		return in ? copy_file_range(fd, NULL, S.fd, off, want, 0)
			  : copy_file_range(S.fd, off, fd, NULL, want, 0);
	case COPY_SPLICE:
		return splice(fd, NULL, S.fd, off, want, SPLICE_F_MOVE);
	case COPY_SENDFILE:
		if (!in)
			return sendfile(fd, S.fd, off, want);
		/* into the segment, which sendfile writes at its file position */
		if (lseek(S.fd, *off, SEEK_SET) < 0)
			return -1;
		if ((n = sendfile(S.fd, fd, NULL, want)) > 0)
			*off += n;
		return n;
	case COPY_PLAIN:
		break;
	}
	if (want > RELAY_BUF)
		want = RELAY_BUF;
	if (in) {
		if ((n = read(fd, buf, want)) > 0)
			pwrite_all(buf, (size_t)n, (size_t)*off);
	} else if ((n = pread(S.fd, buf, want, *off)) > 0 && io_write_all(fd, buf, (size_t)n) < 0)
		return -1;
	if (n > 0)
		*off += n;
	return n;
}

/* Copy up to len bytes between fd and the POSIX segment at off, into the
 * segment if in; returns the bytes copied, fewer only at the end of the
 * input.  A fast path the kernel refuses, or one that reports the end,
 * hands over to read/write, which has the last word on the end. */
static size_t copy_posix(int fd, int in, size_t off, size_t len)
{
	enum copy_path path = copy_path_for(fd, in);
	unsigned char *buf = NULL;
	off_t pos = (off_t)off;
	size_t done = 0;

	while (done < len) {
		size_t want = len - done < IO_CHUNK ? len - done : IO_CHUNK;
		if (path == COPY_PLAIN && !buf)
			buf = copy_buffer(RELAY_BUF);
		ssize_t n = copy_step(path, fd, in, &pos, want, buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (path != COPY_PLAIN && (n == 0 || (n < 0 && copy_unsupported(errno)))) {
			/* copy_file_range refuses two mounts (EXDEV: a System V
			 * segment's file, a file outside /dev/shm): sendfile
			 * still copies in the kernel, in 0.17 s a GiB against
			 * 0.22 s by read and write */
			path = path == COPY_RANGE && n < 0 ? COPY_SENDFILE : COPY_PLAIN;
			continue;
		}
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, in ? "copy into %s" : "write output",
				      S.name.text);
		if (n == 0)
			break;
		done += (size_t)n;
	}
	free(buf);
	return done;
}

static int shm_write_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key, in = 0;
	size_t room;
	int64_t known;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		copy_option(key, arg);
	cli_operands(&c, 1, 2);
	parse_name(&S.name, argv[c.ind]);
	if (c.ind + 1 < argc && strcmp(argv[c.ind + 1], "-") != 0 &&
	    (in = open(argv[c.ind + 1], O_RDONLY | O_CLOEXEC)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "open %s", argv[c.ind + 1]);
	seg_open(1);
	room = check_range();
	known = input_size(in);
	if (known > (int64_t)room)
		cli_die(EXIT_FAIL, "input of %lld bytes does not fit in the %zu bytes from offset "
			"%llu to the end of %s; nothing written", (long long)known, room,
			(unsigned long long)S.offset, S.name.text);
	if (S.name.type != IPCNAME_POSIX) {
		seg_map(1);
		seg_sysv_fd(1);
	}
	/* A stdin pipe enlarged to 1 MiB (best effort; a no-op on anything
	 * else): its writer fills it in fewer wake-ups, whichever path the
	 * copy takes (cat 1 GiB | shm-write as nobody: 0.8 s against 1.0-1.3 s). */
	if (!relay_copy_plain())
		relay_pipe_enlarge(in);
	if (lock_wanted())
		write_locked(in, room);
	else if (S.fd < 0)
		write_sysv(in, room, known);
	else if (copy_posix(in, 1, (size_t)S.offset, room) == room && known < 0)
		refuse_leftover(in, room, room);
	return EXIT_OK;
}

/* --- shm-read --- */

/* Write len bytes of the segment from data (a snapshot or the mapping). */
static void read_out(const unsigned char *data, size_t len)
{
	int r = S.hex ? hexdump_write(stdout, S.offset, data, len) : io_write_all(1, data, len);

	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "write output");
}

/* System V to a character device such as /dev/null or a regular file:
 * vmsplice(2) the mapping's pages into a private pipe and splice(2) them on
 * at once, so no byte passes through user space (1 GiB on the project's VM
 * kind, as nobody: to /dev/null 0.09 s, to a tmpfs file 0.18 s, against
 * 0.25 to 0.41 s for process_vm_readv and write(2); dd from a POSIX
 * segment to the file: 0.20 s).  The pipe is emptied before the next
 * chunk, so no page is still referenced when shm-read returns: never to a
 * pipe or a socket, which would keep the pages past our exit.  Returns the
 * bytes moved; fewer than len when the kernel refuses (a device without
 * splice, output open for append, no vmsplice), after writing whatever was
 * already in the pipe: the caller goes on with seg_move. */
static size_t read_sysv_vmsplice(size_t len)
{
	struct stat st;
	int p[2];
	size_t done = 0;

	if (relay_copy_plain() || fstat(1, &st) < 0 ||
	    !(S_ISCHR(st.st_mode) || S_ISREG(st.st_mode)) || pipe2(p, O_CLOEXEC) < 0)
		return 0;
	relay_pipe_enlarge(p[1]);
	while (done < len) {
		struct iovec v = {S.addr + S.offset + done,
				  len - done < RELAY_BUF ? len - done : RELAY_BUF};
		ssize_t in = vmsplice(p[1], &v, 1, 0), out = 0;
		if (in <= 0)
			break;
		while (out < in) {
			ssize_t n = splice(p[0], NULL, 1, NULL, (size_t)(in - out), 0);
			if (n <= 0)
				break;
			out += n;
		}
		if (out < in) { /* refused: pass on what the pipe holds by hand */
			unsigned char *buf = copy_buffer((size_t)(in - out));
			read_out(buf, read_into(p[0], buf, (size_t)(in - out)));
			free(buf);
		}
		done += (size_t)in;
		if (out < in)
			break;
	}
	close(p[0]);
	close(p[1]);
	return done;
}

/* System V without a lock or a descriptor: to a character device or a
 * file by read_sysv_vmsplice, else out through a private 1 MiB buffer
 * (seg_move, then write(2)), for the reason write_sysv gives; --hex dumps
 * the mapping. */
static void read_sysv(size_t len)
{
	if (S.hex) {
		seg_prefault(S.offset, len, 0);
		read_out(S.addr + S.offset, len);
		return;
	}
	size_t done = read_sysv_vmsplice(len);
	unsigned char *buf = copy_buffer(RELAY_BUF);
	while (done < len) {
		size_t n = len - done < RELAY_BUF ? len - done : RELAY_BUF;
		seg_move(buf, S.offset + done, n, 0);
		read_out(buf, n);
		done += n;
	}
	free(buf);
}

/* A snapshot of the range taken under the lock, written out after the lock
 * is released. */
static void read_locked(size_t len)
{
	unsigned char *data = copy_buffer(len);
	size_t got = 0;

	lock_take();
	if (S.fd >= 0) {
		while (got < len) {
			ssize_t n = pread(S.fd, data + got, len - got < IO_CHUNK ? len - got : IO_CHUNK,
					  (off_t)(S.offset + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	} else if (len > 0) {
		seg_move(data, S.offset, len, 0);
		got = len;
	}
	lock_release();
	if (got < len)
		cli_die(EXIT_FAIL, "%s: read %zu of %zu bytes: the segment shrank", S.name.text,
			got, len);
	read_out(data, len);
	free(data);
}

/* --hex through the descriptor: 1 MiB at a time (a
 * multiple of 16, so the lines fall as in one dump). */
static void read_posix_hex(size_t len)
{
	unsigned char *buf = copy_buffer(RELAY_BUF);
	size_t done = 0;

	while (done < len) {
		size_t want = len - done < RELAY_BUF ? len - done : RELAY_BUF;
		ssize_t n = pread(S.fd, buf, want, (off_t)(S.offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die_errno(EXIT_FAIL, errno, "read %s", S.name.text);
		if ((size_t)n < want)
			cli_die(EXIT_FAIL, "%s: read %zu of %zu bytes: the segment shrank",
				S.name.text, done + (size_t)n, len);
		if (hexdump_write(stdout, S.offset + done, buf, want) < 0)
			cli_die_errno(EXIT_FAIL, errno, "write output");
		done += want;
	}
	free(buf);
}

static int shm_read_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key;
	size_t len, got;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'l':
			S.length = cli_size(arg, "length");
			S.have_length = 1;
			break;
		case 'x':
			S.hex = 1;
			break;
		default:
			copy_option(key, arg);
		}
	}
	cli_operands(&c, 1, 1);
	parse_name(&S.name, argv[c.ind]);
	seg_open(0);
	len = check_range();
	if (S.name.type != IPCNAME_POSIX) {
		seg_map(0);
		seg_sysv_fd(0);
	}
	/* A stdout pipe holds 64 KiB; enlarged to 1 MiB (best effort; a no-op
	 * on anything else) its reader wakes a sixteenth as often: 1 GiB into
	 * `| dd bs=128K` took 0.29 s against 0.44 s (dd bs=1M: 0.48 s). */
	if (!S.hex && !relay_copy_plain())
		relay_pipe_enlarge(1);
	if (lock_wanted())
		read_locked(len);
	else if (S.fd < 0)
		read_sysv(len);
	else if (S.hex)
		read_posix_hex(len);
	else if ((got = copy_posix(1, 0, (size_t)S.offset, len)) < len)
		cli_die(EXIT_FAIL, "%s: read %zu of %zu bytes: the segment shrank", S.name.text, got,
			len);
	return EXIT_OK;
}

/* --- shm-info --- */

static void add_mapper(int pid)
{
	if (S.nmaps == S.capmaps) {
		S.capmaps = S.capmaps ? S.capmaps * 2 : 16;
		S.maps = realloc(S.maps, S.capmaps * sizeof *S.maps);
		if (!S.maps)
			cli_die_errno(EXIT_FAIL, errno, "memory");
	}
	struct mapper *m = &S.maps[S.nmaps++];
	m->pid = pid;
	proc_comm(pid, m->comm, sizeof m->comm);
}

/* Fill S.maps with the processes whose /proc/PID/maps map the segment
 * (lib/proc.h says how it is told apart).  Entries we may not read are
 * counted in S.unreadable. */
static void scan_mappers(const struct proc_maps_want *want)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char file[64];

	while (d && (e = readdir(d))) {
		int pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(file, sizeof file, "/proc/%d/maps", pid);
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				S.unreadable++;
			continue;
		}
		int r = proc_maps_find(fd, want);
		if (r > 0)
			add_mapper(pid);
		else if (r < 0 && errno != ESRCH)
			S.unreadable++;
		close(fd);
	}
	if (d)
		closedir(d);
}

struct seginfo {
	const char *backend;
	char path[PATH_MAX + 16];
	char key[12];
	int id;
	size_t size;
	unsigned mode;
	uid_t uid;
	long nattch; /* -1: POSIX has no kernel count */
	int cpid, lpid;
};

static void info_text(const struct seginfo *in)
{
	printf("name      %s\nbackend   %s\n", S.name.text, in->backend);
	if (in->id >= 0)
		printf("key       %s\nid        %d\n", in->key, in->id);
	if (in->path[0])
		printf("%-9s %s\n", in->id >= 0 ? "keyfile" : "path", in->path);
	printf("size      %zu\nmode      %04o\nowner     %s (%u)\n", in->size, in->mode,
	       ipcobj_user_name(in->uid), (unsigned)in->uid);
	printf("attached  %ld\n", in->nattch >= 0 ? in->nattch : (long)S.nmaps);
	if (in->id >= 0)
		printf("creator   %d\nlast op   %d\n", in->cpid, in->lpid);
	for (size_t i = 0; i < S.nmaps; i++)
		printf("mapped by %d %s\n", S.maps[i].pid, S.maps[i].comm);
	if (S.unreadable)
		printf("note      %d processes could not be inspected; mappings by them are "
		       "not shown\n", S.unreadable);
}

static void info_json(const struct seginfo *in)
{
	printf("{\"name\":");
	json_cstring(stdout, S.name.text);
	printf(",\"backend\":\"%s\"", in->backend);
	if (in->id >= 0)
		printf(",\"key\":\"%s\",\"id\":%d", in->key, in->id);
	if (in->path[0]) {
		printf(in->id >= 0 ? ",\"keyfile\":" : ",\"path\":");
		json_cstring(stdout, in->path);
	}
	printf(",\"size\":%zu,\"mode\":\"%04o\",\"uid\":%u,\"owner\":", in->size, in->mode,
	       (unsigned)in->uid);
	json_cstring(stdout, ipcobj_user_name(in->uid));
	printf(",\"attached\":%ld", in->nattch >= 0 ? in->nattch : (long)S.nmaps);
	if (in->id >= 0)
		printf(",\"creator_pid\":%d,\"last_pid\":%d", in->cpid, in->lpid);
	printf(",\"processes\":[");
	for (size_t i = 0; i < S.nmaps; i++) {
		printf("%s{\"pid\":%d,\"command\":", i ? "," : "", S.maps[i].pid);
		json_cstring(stdout, S.maps[i].comm);
		printf("}");
	}
	printf("],\"unreadable_processes\":%d}\n", S.unreadable);
}

static void info_gather(struct seginfo *in)
{
	struct stat st;
	struct shmid_ds ds;

	memset(in, 0, sizeof *in);
	in->id = -1;
	in->nattch = -1;
	seg_open(0);
	if (S.name.type == IPCNAME_POSIX) {
		in->backend = "posix";
		snprintf(in->path, sizeof in->path, "/dev/shm%s", S.name.posix);
		if (fstat(S.fd, &st) < 0)
			die_open(&S.name, errno);
		in->size = (size_t)st.st_size;
		in->mode = st.st_mode & 07777;
		in->uid = st.st_uid;
		struct proc_maps_want want = {0, (unsigned long long)st.st_ino, major(st.st_dev),
					      minor(st.st_dev)};
		scan_mappers(&want);
		return;
	}
	if (shmctl(S.shmid, IPC_STAT, &ds) < 0)
		die_open(&S.name, errno);
	in->backend = "sysv";
	in->id = S.shmid;
	ipcname_keystr(ds.shm_perm.__key, in->key);
	if (S.name.type == IPCNAME_QT || S.name.type == IPCNAME_SYSV_FILE)
		snprintf(in->path, sizeof in->path, "%s", S.name.path);
	in->size = ds.shm_segsz;
	in->mode = ds.shm_perm.mode & 0777;
	in->uid = ds.shm_perm.uid;
	in->nattch = (long)ds.shm_nattch;
	in->cpid = ds.shm_cpid;
	in->lpid = ds.shm_lpid;
	if (ds.shm_nattch > 0) {
		struct proc_maps_want want = {1, (unsigned long long)S.shmid, 0, 0};
		scan_mappers(&want);
	}
}

static int shm_info_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key;
	struct seginfo in;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == 'j')
			S.json = 1;
	cli_operands(&c, 1, 1);
	parse_name(&S.name, argv[c.ind]);
	info_gather(&in);
	if (S.json)
		info_json(&in);
	else
		info_text(&in);
	return EXIT_OK;
}

/* --- shm-list --- */

/* One row; qt: the Qt key file whose ftok key this is, or NULL. */
static void list_row(struct ipcobj_list *l, const char *backend, const char *name,
		     unsigned long long size, unsigned mode, unsigned uid, long nattch,
		     const char *qt)
{
	if (l->json) {
		ipcobj_json_row_begin(l, backend, name);
		printf(",\"size\":%llu,\"mode\":\"%04o\",\"uid\":%u", size, mode, uid);
		if (nattch >= 0)
			printf(",\"attached\":%ld", nattch);
		ipcobj_json_row_end(l, qt);
	} else {
		char att[24] = "-";
		if (nattch >= 0)
			snprintf(att, sizeof att, "%ld", nattch);
		printf("%-6s %-32s %12llu %04o %-10s %-8s %s\n", backend, name, size, mode,
		       ipcobj_user_name(uid), att, qt ? qt : "");
	}
}

static void list_header(void)
{
	printf("%-6s %-32s %12s %-4s %-10s %-8s %s\n", "TYPE", "NAME", "SIZE", "MODE", "OWNER",
	       "ATTACHED", "QT KEY FILE");
}

static void list_posix(struct ipcobj_list *l, const char *name, int dir, const char *file,
		       const struct stat *st)
{
	(void)dir;
	(void)file;
	list_row(l, "posix", name, (unsigned long long)st->st_size, st->st_mode & 07777,
		 st->st_uid, -1, NULL);
}

/* /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid ... */
static void list_sysv(struct ipcobj_list *l, const char *line)
{
	enum { KEY, ID, PERMS, SIZE, CPID, LPID, NATTCH, UID, NFIELDS };
	char name[32];
	int64_t f[NFIELDS];

	if (!parse_int_fields(line, f, NFIELDS, 1u << PERMS) || f[ID] < 0 || f[ID] > INT_MAX ||
	    f[SIZE] < 0 || f[NATTCH] < 0 || f[UID] < 0 || f[UID] > UINT32_MAX)
		return;
	list_row(l, "sysv", ipcobj_sysv_name(f[KEY], (int)f[ID], name),
		 (unsigned long long)f[SIZE], (unsigned)f[PERMS] & 0777, (unsigned)f[UID],
		 (long)f[NATTCH], ipcobj_list_qt(l, f[KEY]));
}

static int shm_list_main(int argc, char **argv)
{
	static const struct ipcobj_lister lister = {IPCNAME_SHM, 'j', list_header, list_posix,
						    list_sysv};
	return ipcobj_list_main(argc, argv, &lister);
}

/* --- shm-rm --- */

static int shm_rm_main(int argc, char **argv)
{
	return ipcobj_rm_main(argc, argv, IPCNAME_SHM);
}

static void shm_complete(void)
{
	ipcname_complete(IPCNAME_SHM);
}

static const struct opt create_opts[] = {
	{'s', "size", "SIZE", "size in bytes (4096, 64K, 1M, 1G)", NULL},
	{'m', "mode", "MODE", "permission bits, octal (default 0600)", NULL},
	{OPT_EXIST_OK, "exist-ok", NULL, "succeed if the segment exists already", NULL},
	{0},
};
static const struct opt write_opts[] = {
	{'o', "offset", "N", "start writing N bytes into the segment", NULL},
	{'t', "timeout", "DURATION", "wait at most this long for the lock (default 5s)", NULL},
	{OPT_LOCK, "lock", NULL, "take the lock semaphore (default for qt: names)", NULL},
	{OPT_NO_LOCK, "no-lock", NULL, "do not take Qt's lock", NULL},
	{0},
};
static const struct opt read_opts[] = {
	{'o', "offset", "N", "start reading N bytes into the segment", NULL},
	{'l', "length", "N", "read N bytes (default: to the end)", NULL},
	{'x', "hex", NULL, "print an xxd-style hex dump", NULL},
	{'t', "timeout", "DURATION", "wait at most this long for the lock (default 5s)", NULL},
	{OPT_LOCK, "lock", NULL, "take the lock semaphore (default for qt: names)", NULL},
	{OPT_NO_LOCK, "no-lock", NULL, "do not take Qt's lock", NULL},
	{0},
};
static const struct opt json_opts[] = {
	{'j', "json", NULL, "print JSON", NULL},
	{0},
};
static const struct opt no_opts[] = {{0}};

const struct applet shm_applets[] = {
	{"shm-create", shm_create_main, "NAME --size SIZE [--mode MODE] [--exist-ok]",
	 "create a shared memory segment, allocated and zeroed", create_opts, shm_complete},
	{"shm-write", shm_write_main, "NAME [--offset N] [FILE]",
	 "copy FILE (default stdin) into a segment", write_opts, shm_complete},
	{"shm-read", shm_read_main, "NAME [--offset N] [--length N] [--hex] [--lock|--no-lock]",
	 "copy a segment's bytes to stdout", read_opts, shm_complete},
	{"shm-info", shm_info_main, "NAME [--json]",
	 "show a segment: backend, key, size, mode, owner and who maps it", json_opts,
	 shm_complete},
	{"shm-list", shm_list_main, "[--json]", "list POSIX and System V segments", json_opts,
	 NULL},
	{"shm-rm", shm_rm_main, "NAME...", "remove segments (qt: also Qt's key files and lock)",
	 no_opts, shm_complete},
	{0},
};
