/* sem applets: create, post, wait on, read, run a command under, list and
 * remove system semaphores, POSIX (glibc's format, /dev/shm/sem.NAME: lib/ipcsem.h) and
 * System V (semget, semaphore 0 of the set), named as in lib/ipcname.h,
 * including Qt's QSystemSemaphore ("qt:KEY").
 *
 * Posts never use SEM_UNDO: a post must outlive the process that made it.
 * sem-run's System V wait does, and sem-run then becomes the command
 * (execve keeps the undo), so the count comes back exactly when the command
 * ends, however it ends.  POSIX has no undo: sem-run runs the command as a
 * child and posts when it ends, passing SIGINT/SIGTERM/SIGHUP on to it. */
#include "applets.h"
#include "../lib/ipcname.h"
#include "../lib/ipcobj.h"
#include "../lib/ipcsem.h"
#include "../lib/json.h"
#include "../lib/parse.h"
#include "../lib/sigev.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

/* Linux's SEMVMX: the largest value of a System V semaphore. */
#define SYSV_VALUE_MAX 32767

enum {
	OPT_EXIST_OK = OPT_LONG_ONLY,
	OPT_TRY,
};

/* semctl's fourth argument, which the caller must define. */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static struct {
	struct ipcname name;
	/* options */
	uint64_t value;
	unsigned mode;
	int exist_ok;
	uint64_t count;
	int64_t timeout_ms;
	int try;
	int json;
	/* the open semaphore: POSIX or a System V id */
	struct ipcsem *sem;
	int semid;
	/* sem-run: the signal pipe */
	int sigfd;
} S; /* zero-initialised (bss): its defaults are set by state_defaults() */

/* The option defaults, set at the start of every applet (kept out of the
 * static initialiser so the large tables stay in bss, not in the binary). */
static void state_defaults(void)
{
	S.mode = 0600;
	S.count = 1;
	S.timeout_ms = IPCSEM_FOREVER;
	S.semid = -1;
}

static void parse_name(struct ipcname *n, const char *text)
{
	const char *why;

	if (ipcname_parse(n, text, IPCNAME_SEM, &why) < 0)
		cli_usage_error("invalid name '%s': %s", text, why);
}

static void die_open(const struct ipcname *n, int err)
{
	if (err == ENOENT && n->type == IPCNAME_QT)
		cli_die(EXIT_FAIL, "%s: no such semaphore (no Qt key file %s)", n->text, n->path);
	if (err == EBADMSG) /* lib/ipcsem.c refused the file */
		cli_die(EXIT_FAIL, "%s: /dev/shm/sem.%s is not a semaphore (not glibc's sem_t)",
			n->text, n->posix + 1);
	if (ipcobj_missing(err))
		cli_die(EXIT_FAIL, "%s: no such semaphore", n->text);
	cli_die_errno(EXIT_FAIL, err, "%s", n->text);
}

/* Open the semaphore S.name (never creating it). */
static void sem_open_existing(void)
{
	struct ipcname p;

	if (ipcname_qt_posix(&S.name, &p)) /* a Qt built with QT_POSIX_IPC */
		S.name = p;
	if (S.name.type == IPCNAME_POSIX) {
		S.sem = ipcsem_open(S.name.posix, 0, 0, 0);
		if (!S.sem)
			die_open(&S.name, errno);
		return;
	}
	S.semid = ipcobj_sysv_id(&S.name);
	if (S.semid < 0)
		die_open(&S.name, errno);
}

static uint64_t value_max(void)
{
	return S.name.type == IPCNAME_POSIX ? IPCSEM_VALUE_MAX : SYSV_VALUE_MAX;
}

static const char *value_max_name(void)
{
	return S.name.type == IPCNAME_POSIX ? "SEM_VALUE_MAX (2147483647)"
					    : "the System V maximum (32767)";
}

/* Read NAME, the only operand, after the options. */
static void one_name(struct cli *c, int argc, char **argv)
{
	cli_operands(c, 1, 1);
	(void)argc;
	parse_name(&S.name, argv[c->ind]);
}

/* --- sem-create --- */

static int create_posix(void)
{
	/* the mode asked for, exactly: ipcsem_open does not apply the umask */
	struct ipcsem *s = ipcsem_open(S.name.posix, O_CREAT | O_EXCL, S.mode, (unsigned)S.value);

	if (!s && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (!s)
		cli_die_errno(EXIT_FAIL, errno, "create %s", S.name.text);
	ipcsem_close(s);
	return EXIT_OK;
}

static int create_sysv(void)
{
	int made_file = 0, id;
	union semun arg = {.val = (int)S.value};

	if (S.name.type == IPCNAME_SYSV_ID)
		cli_usage_error("cannot create by id: '%s'; use sysv:KEY", S.name.text);
	if (S.name.type == IPCNAME_QT && (made_file = ipcname_make_keyfile(&S.name)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: Qt key file %s", S.name.text, S.name.path);
	if (ipcname_key(&S.name) < 0)
		cli_die_errno(EXIT_FAIL, errno, "%s: key file %s", S.name.text, S.name.path);
	id = semget(S.name.key, 1, IPC_CREAT | IPC_EXCL | (int)S.mode);
	if (id < 0 && errno == EEXIST && S.exist_ok)
		return EXIT_OK;
	if (id < 0) {
		int err = errno;
		if (made_file)
			unlink(S.name.path);
		cli_die_errno(EXIT_FAIL, err, "create %s", S.name.text);
	}
	if (semctl(id, 0, SETVAL, arg) < 0) {
		int err = errno;
		semctl(id, 0, IPC_RMID);
		cli_die_errno(EXIT_FAIL, err, "set the value of %s", S.name.text);
	}
	return EXIT_OK;
}

static int sem_create_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg, *value_text = NULL;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		switch (key) {
		case 'v':
			value_text = arg;
			break;
		case 'm':
			S.mode = cli_mode(arg);
			break;
		case OPT_EXIST_OK:
			S.exist_ok = 1;
			break;
		}
	}
	one_name(&c, argc, argv);
	if (S.mode & ~0777u)
		cli_usage_error("invalid mode '%o': only permission bits 0777 apply", S.mode);
	if (value_text)
		S.value = cli_uint(value_text, "value", 0, value_max());
	return S.name.type == IPCNAME_POSIX ? create_posix() : create_sysv();
}

/* --- sem-post --- */

static void post_posix(void)
{
	unsigned v = ipcsem_value(S.sem);

	if ((uint64_t)v + S.count > IPCSEM_VALUE_MAX)
		cli_die(EXIT_FAIL, "post %s: value %u + %llu would exceed %s", S.name.text, v,
			(unsigned long long)S.count, value_max_name());
	for (uint64_t i = 0; i < S.count; i++)
		if (ipcsem_post(S.sem) < 0)
			cli_die_errno(EXIT_FAIL, errno, "post %s (after %llu posts)", S.name.text,
				      (unsigned long long)i);
}

static void post_sysv(void)
{
	if (ipcsem_sysv_op(S.semid, (int)S.count, 0, IPCSEM_FOREVER, NULL) == 0)
		return;
	if (errno == ERANGE)
		cli_die(EXIT_FAIL, "post %s: value + %llu would exceed %s", S.name.text,
			(unsigned long long)S.count, value_max_name());
	die_open(&S.name, errno);
}

static int sem_post_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg, *count_text = NULL;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == 'c')
			count_text = arg;
	one_name(&c, argc, argv);
	if (count_text)
		S.count = cli_uint(count_text, "count", 1, value_max());
	sem_open_existing();
	if (S.sem)
		post_posix();
	else
		post_sysv();
	return EXIT_OK;
}

/* --- sem-wait and sem-run: the wait --- */

/* Decrement the semaphore within the timeout.  System V uses SEM_UNDO
 * only when undo is set (sem-run): a plain sem-wait's decrement must stay. */
static void wait_one(int undo)
{
	int64_t tmo = S.try ? 0 : S.timeout_ms;
	volatile sig_atomic_t *stop = sigev_stop_flag(); /* sem-run's stop signals */
	int r = S.sem ? ipcsem_posix_wait(S.sem, tmo, stop)
		      : ipcsem_sysv_op(S.semid, -1, undo ? SEM_UNDO : 0, tmo, stop);

	if (r == 0)
		return;
	if (errno == EAGAIN && S.try)
		cli_die(EXIT_FAIL, "%s: would block (value 0)", S.name.text);
	if (errno == EAGAIN)
		cli_die(EXIT_TIMEOUT, "%s: timed out waiting", S.name.text);
	if (errno == EINTR)
		exit(128 + *stop);
	die_open(&S.name, errno);
}

static int sem_wait_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1) {
		if (key == 't')
			S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF);
		else if (key == OPT_TRY)
			S.try = 1;
	}
	one_name(&c, argc, argv);
	sem_open_existing();
	wait_one(0);
	return EXIT_OK;
}

/* --- sem-run --- */

static void release_one(void)
{
	int r = S.sem ? ipcsem_post(S.sem) : ipcsem_sysv_op(S.semid, 1, SEM_UNDO, IPCSEM_FOREVER, NULL);
	if (r < 0)
		cli_warn_errno(errno, "post %s after the command", S.name.text);
}

/* Run the command and wait for it, passing INT/TERM/HUP on to it; its exit
 * status, 128+N for signal N, 127 or 126 if it could not be run (as sh). */
static int run_command(char **cmd)
{
	struct spawn_req req = SPAWN_REQ_INIT;
	int status;
	pid_t pid;

	if (*sigev_stop_flag()) /* asked to stop while we waited: do not start the command */
		return 128 + *sigev_stop_flag();
	req.argv = cmd;
	if ((pid = spawn_start(&req)) < 0) {
		int err = errno;
		cli_warn_errno(err, "run %s", cmd[0]);
		return spawn_exec_status(err);
	}
	if ((status = spawn_wait_forward(pid, S.sigfd)) < 0) {
		cli_warn_errno(errno, "wait for %s", cmd[0]);
		return EXIT_FAIL;
	}
	return status;
}

/* System V: become the command.  The count was taken with SEM_UNDO, which
 * execve keeps and the kernel gives back when this process ends, however it
 * ends: no command can outlive its lock, as a child could outlive a
 * sem-run killed by SIGKILL.  Returns only if the command cannot be run
 * (127 or 126, as sh; the exit gives the count back). */
static int exec_holding(char **cmd)
{
	int err;

	if (*sigev_stop_flag()) /* asked to stop while we waited: do not start the command */
		return 128 + *sigev_stop_flag();
	spawn_exec(cmd);
	err = errno;
	cli_warn_errno(err, "run %s", cmd[0]);
	return spawn_exec_status(err);
}

static int sem_run_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key, status;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == 't')
			S.timeout_ms = cli_duration(arg, "timeout", CLI_ALLOW_ZERO | CLI_ALLOW_INF);
	cli_operands(&c, 2, -1);
	parse_name(&S.name, argv[c.ind]);
	if ((S.sigfd = sigev_open(SIGEV_CHILD)) < 0)
		cli_die_errno(EXIT_FAIL, errno, "signal pipe");
	sem_open_existing();
	wait_one(1);
	if (!S.sem)
		return exec_holding(argv + c.ind + 1);
	status = run_command(argv + c.ind + 1);
	release_one();
	return status;
}

/* --- sem-value --- */

static int sem_value_main(int argc, char **argv)
{
	state_defaults();
	struct cli c;
	char *arg;
	int key, value, ncount = -1, zcount = -1, pid = -1;

	cli_begin(&c, argc, argv);
	while ((key = cli_next(&c, &arg)) != -1)
		if (key == 'j')
			S.json = 1;
	one_name(&c, argc, argv);
	sem_open_existing();
	if (S.sem) {
		value = (int)ipcsem_value(S.sem);
	} else {
		if ((value = semctl(S.semid, 0, GETVAL)) < 0)
			die_open(&S.name, errno);
		ncount = semctl(S.semid, 0, GETNCNT);
		zcount = semctl(S.semid, 0, GETZCNT);
		pid = semctl(S.semid, 0, GETPID);
	}
	if (!S.json) {
		printf("%d\n", value);
		return EXIT_OK;
	}
	printf("{\"name\":");
	json_cstring(stdout, S.name.text);
	printf(",\"backend\":\"%s\",\"value\":%d", S.sem ? "posix" : "sysv", value);
	if (!S.sem)
		printf(",\"id\":%d,\"waiters\":%d,\"zero_waiters\":%d,\"last_pid\":%d", S.semid,
		       ncount, zcount, pid);
	printf("}\n");
	return EXIT_OK;
}

/* --- sem-list --- */

/* value < 0: unknown (the semaphore could not be opened); qt: the Qt key
 * file whose ftok key this is, or NULL. */
static void list_row(struct ipcobj_list *l, const char *backend, const char *name, long value,
		     int nsems, unsigned mode, unsigned uid, const char *qt)
{
	if (l->json) {
		ipcobj_json_row_begin(l, backend, name);
		if (value >= 0)
			printf(",\"value\":%ld", value);
		else
			printf(",\"value\":null");
		if (nsems > 0)
			printf(",\"nsems\":%d", nsems);
		printf(",\"mode\":\"%04o\",\"uid\":%u", mode, uid);
		ipcobj_json_row_end(l, qt);
	} else {
		char v[24] = "?";
		if (value >= 0)
			snprintf(v, sizeof v, "%ld", value);
		printf("%-6s %-32s %10s %5d %04o %-10s %s\n", backend, name, v,
		       nsems > 0 ? nsems : 1, mode, ipcobj_user_name(uid), qt ? qt : "");
	}
}

static void list_header(void)
{
	printf("%-6s %-32s %10s %5s %-4s %-10s %s\n", "TYPE", "NAME", "VALUE", "NSEMS", "MODE",
	       "OWNER", "QT KEY FILE");
}

static void list_posix(struct ipcobj_list *l, const char *name, int dir, const char *file,
		       const struct stat *st)
{
	long value = -1;
	struct ipcsem *s = ipcsem_open(name, 0, 0, 0);

	(void)dir;
	(void)file;
	if (s) {
		value = (long)ipcsem_value(s);
		ipcsem_close(s);
	}
	list_row(l, "posix", name, value, 0, st->st_mode & 07777, st->st_uid, NULL);
}

/* /proc/sysvipc/sem: key semid perms nsems uid ... */
static void list_sysv(struct ipcobj_list *l, const char *line)
{
	enum { KEY, ID, PERMS, NSEMS, UID, NFIELDS };
	char name[32];
	int64_t f[NFIELDS];

	if (!parse_int_fields(line, f, NFIELDS, 1u << PERMS) || f[ID] < 0 || f[ID] > INT_MAX ||
	    f[NSEMS] < 0 || f[NSEMS] > INT_MAX || f[UID] < 0 || f[UID] > UINT32_MAX)
		return;
	list_row(l, "sysv", ipcobj_sysv_name(f[KEY], (int)f[ID], name),
		 semctl((int)f[ID], 0, GETVAL), (int)f[NSEMS], (unsigned)f[PERMS] & 0777,
		 (unsigned)f[UID], ipcobj_list_qt(l, f[KEY]));
}

static int sem_list_main(int argc, char **argv)
{
	static const struct ipcobj_lister lister = {IPCNAME_SEM, 'j', list_header, list_posix,
						    list_sysv};
	return ipcobj_list_main(argc, argv, &lister);
}

/* --- sem-rm --- */

static int sem_rm_main(int argc, char **argv)
{
	return ipcobj_rm_main(argc, argv, IPCNAME_SEM);
}

static void sem_complete(void)
{
	ipcname_complete(IPCNAME_SEM);
}

static const struct opt create_opts[] = {
	{'v', "value", "N", "initial value (default 0)", NULL},
	{'m', "mode", "MODE", "permission bits, octal (default 0600)", NULL},
	{OPT_EXIST_OK, "exist-ok", NULL, "succeed if the semaphore exists already", NULL},
	{0},
};
static const struct opt post_opts[] = {
	{'c', "count", "N", "add N (default 1)", NULL},
	{0},
};
static const struct opt wait_opts[] = {
	{'t', "timeout", "DURATION", "give up after DURATION, exit 124 (default inf)", NULL},
	{OPT_TRY, "try", NULL, "never block: exit 1 if the value is 0", NULL},
	{0},
};
static const struct opt run_opts[] = {
	{'t', "timeout", "DURATION", "give up waiting after DURATION, exit 124 (default inf)", NULL},
	{0},
};
static const struct opt json_opts[] = {
	{'j', "json", NULL, "print JSON", NULL},
	{0},
};
static const struct opt no_opts[] = {{0}};

const struct applet sem_applets[] = {
	{"sem-create", sem_create_main, "NAME [--value N] [--mode MODE] [--exist-ok]",
	 "create a semaphore", create_opts, sem_complete},
	{"sem-post", sem_post_main, "NAME [--count N]", "add to a semaphore's value (V, release)",
	 post_opts, sem_complete},
	{"sem-wait", sem_wait_main, "NAME [--timeout D] [--try]",
	 "wait until the value is positive and decrement it (P, acquire)", wait_opts,
	 sem_complete},
	{"sem-value", sem_value_main, "NAME [--json]", "print a semaphore's value", json_opts,
	 sem_complete},
	{"sem-run", sem_run_main, "NAME [--timeout D] -- CMD [ARG]...",
	 "wait, run CMD, post; exit with CMD's status", run_opts, sem_complete},
	{"sem-list", sem_list_main, "[--json]", "list POSIX and System V semaphores", json_opts,
	 NULL},
	{"sem-rm", sem_rm_main, "NAME...", "remove semaphores (qt: also Qt's key file)", no_opts,
	 sem_complete},
	{0},
};
