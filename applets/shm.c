/* shm applets: create, write, read, inspect, list and remove shared memory
 * segments, POSIX (shm_open, /dev/shm) and System V (shmget), named as in
 * lib/ipcname.h, including the segments of Qt's QSharedMemory ("qt:KEY").
 *
 * Data moves in one copy between a file descriptor and the mapping: read(2)
 * straight into the segment, write(2) straight out of it.  Under a lock
 * (Qt's, by default for qt: names) the copy goes through a private buffer
 * instead, so the lock is never held while waiting on a pipe. */
#include "applets.h"
#include "../lib/hexdump.h"
#include "../lib/io.h"
#include "../lib/ipcname.h"
#include "../lib/ipcobj.h"
#include "../lib/ipcsem.h"
#include "../lib/json.h"
#include "../lib/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
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
	/* the lock, while held: a System V id or a POSIX semaphore */
	int lock_semid;
	sem_t *lock_sem;
	/* a qt: name served by Qt's POSIX backend (QT_POSIX_IPC): the Qt name */
	int qt_posix;
	struct ipcname qtname;
	/* shm-info: the processes that map it, and how many /proc entries
	 * could not be read */
	struct mapper *maps;
	size_t nmaps, capmaps;
	int unreadable;
	/* shm-list */
	struct ipcobj_list list;
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

/* Fault in the mapping's pages for [off, off+len) with one call
 * (MADV_POPULATE_*, Linux 5.14), so the copy that follows does not take a
 * page fault per 4 KiB.  On an older kernel the call fails and the copy
 * simply takes the faults. */
static void seg_prefault(size_t off, size_t len, int writable)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t start = off - off % page;

	if (len == 0)
		return;
	(void)madvise(S.addr + start, len + (off - start),
		      writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
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

/* A private buffer of len bytes for a copy under the lock; exit 1 if none. */
static unsigned char *lock_buffer(size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);

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
		S.lock_sem = sem_open(lock.posix, 0);
		if (S.lock_sem == SEM_FAILED)
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
	if (r < 0 && errno == EAGAIN)
		cli_die(EXIT_TIMEOUT, "%s: lock still held by another process after the timeout",
			S.name.text);
	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: take the lock", S.name.text);
}

static void lock_release(void)
{
	int r = S.lock_sem ? sem_post(S.lock_sem)
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

/* Without a lock: read(2) straight into the mapping, one copy. */
static void write_direct(int in, size_t room, int64_t known)
{
	size_t got = read_into(in, S.addr + S.offset, room);

	if (got == room && known < 0)
		refuse_leftover(in, room, got);
}

/* Under the lock: gather the input first, so the lock is held only for
 * the copy into the segment, never while a pipe is slow to deliver. */
static void write_locked(int in, size_t room)
{
	unsigned char *buf = lock_buffer(room);
	size_t got = read_into(in, buf, room);

	if (got == room)
		refuse_leftover(in, room, 0);
	lock_take();
	memcpy(S.addr + S.offset, buf, got);
	lock_release();
	free(buf);
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
	seg_map(1);
	if (known > 0)
		seg_prefault(S.offset, (size_t)known, 1);
	if (lock_wanted())
		write_locked(in, room);
	else
		write_direct(in, room, known);
	return EXIT_OK;
}

/* --- shm-read --- */

static int shm_read_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key, r;
	size_t len;
	unsigned char *data;

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
	seg_map(0);
	seg_prefault(S.offset, len, 0);
	data = S.addr + S.offset;
	if (lock_wanted()) {
		/* a snapshot under the lock, written out after releasing it */
		data = lock_buffer(len);
		lock_take();
		memcpy(data, S.addr + S.offset, len);
		lock_release();
	}
	if (S.hex)
		r = hexdump_write(stdout, S.offset, data, len);
	else
		r = io_write_all(1, data, len);
	if (r < 0)
		cli_die_errno(EXIT_FAIL, errno, "write output");
	if (data != S.addr + S.offset)
		free(data);
	return EXIT_OK;
}

/* --- shm-info --- */

/* Does one line of /proc/PID/maps map our segment? */
static int maps_line_matches(const char *line, const char *posix_path, int shmid)
{
	unsigned long inode;
	int at = 0;

	if (sscanf(line, "%*s %*s %*s %*s %lu %n", &inode, &at) != 1 || at == 0)
		return 0;
	const char *path = line + at;
	size_t plen = strcspn(path, "\n");
	if (posix_path) {
		size_t l = strlen(posix_path);
		return strncmp(path, posix_path, l) == 0 &&
		       (plen == l || strncmp(path + l, " (deleted)", 10) == 0);
	}
	return strncmp(path, "/SYSV", 5) == 0 && inode == (unsigned long)shmid;
}

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

/* Find the processes that map the segment, from /proc/PID/maps. */
static void scan_mappers(const char *posix_path, int shmid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char file[64], line[4096 + 256];

	while (d && (e = readdir(d))) {
		int pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(file, sizeof file, "/proc/%d/maps", pid);
		FILE *f = fopen(file, "r");
		if (!f) {
			if (errno != ENOENT)
				S.unreadable++;
			continue;
		}
		while (fgets(line, sizeof line, f)) {
			if (maps_line_matches(line, posix_path, shmid)) {
				add_mapper(pid);
				break;
			}
		}
		if (ferror(f))
			S.unreadable++;
		fclose(f);
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
		scan_mappers(in->path, -1);
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
	if (ds.shm_nattch > 0)
		scan_mappers(NULL, S.shmid);
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
static void list_row(const char *backend, const char *name, unsigned long long size,
		     unsigned mode, unsigned uid, long nattch, const char *qt)
{
	if (S.list.json) {
		ipcobj_json_row_begin(&S.list, backend, name);
		printf(",\"size\":%llu,\"mode\":\"%04o\",\"uid\":%u", size, mode, uid);
		if (nattch >= 0)
			printf(",\"attached\":%ld", nattch);
		ipcobj_json_row_end(&S.list, qt);
	} else {
		char att[24] = "-";
		if (nattch >= 0)
			snprintf(att, sizeof att, "%ld", nattch);
		printf("%-6s %-32s %12llu %04o %-10s %-8s %s\n", backend, name, size, mode,
		       ipcobj_user_name(uid), att, qt ? qt : "");
	}
}

static void list_posix(const char *name, const struct stat *st)
{
	list_row("posix", name, (unsigned long long)st->st_size, st->st_mode & 07777,
		 st->st_uid, -1, NULL);
}

/* /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid ... */
static void list_sysv(const char *line)
{
	char name[32];
	long long key, size;
	int id, cpid, lpid;
	unsigned perms, uid;
	long nattch;

	if (sscanf(line, "%lld %d %o %lld %d %d %ld %u", &key, &id, &perms, &size, &cpid,
		   &lpid, &nattch, &uid) != 8)
		return;
	list_row("sysv", ipcobj_sysv_name(key, id, name), (unsigned long long)size,
		 perms & 0777, uid, nattch, ipcobj_list_qt(&S.list, key));
}

static int shm_list_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == 'j')
			S.list.json = 1;
	cli_operands(&c, 0, 0);
	if (!S.list.json)
		printf("%-6s %-32s %12s %-4s %-10s %-8s %s\n", "TYPE", "NAME", "SIZE", "MODE",
		       "OWNER", "ATTACHED", "QT KEY FILE");
	ipcobj_list(&S.list, IPCNAME_SHM, list_posix, list_sysv);
	return EXIT_OK;
}

/* --- shm-rm --- */

static int shm_rm_main(int argc, char **argv)
{
	struct cli c;
	char *arg;

	cli_begin(&c, argc, argv);
	while (cli_next(&c, &arg) != -1)
		;
	cli_operands(&c, 1, -1);
	return ipcobj_remove_all(argv + c.ind, argc - c.ind, IPCNAME_SHM);
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
