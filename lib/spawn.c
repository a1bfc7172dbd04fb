/* spawn: the one spawn and reap of ipcbox; see spawn.h. */
#include "spawn.h"
#include "io.h"
#include "sigev.h"

#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_WORDS 32

/* Is cmd a list of plain words the shell would pass through unchanged? */
static int plain_words(const char *cmd)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_./,:+@%- \t";
	int words = 0;

	if (cmd[strspn(cmd, ok)] != 0)
		return 0;
	for (const char *p = cmd; *p;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		words++;
		p += strcspn(p, " \t");
	}
	return words > 0 && words < MAX_WORDS;
}

/* Split a plain-words command in place into argv (copy is modified). */
static void split_words(char *copy, char **argv)
{
	int n = 0;

	for (char *w = strtok(copy, " \t"); w && n < MAX_WORDS - 1; w = strtok(NULL, " \t"))
		argv[n++] = w;
	argv[n] = NULL;
}

/* The environment for the child: vars first, then environ without the
 * names vars sets.  Freed by the caller (the strings are borrowed). */
static char **child_env(char *const vars[])
{
	size_t nv = 0, ne = 0, k = 0;

	while (vars && vars[nv])
		nv++;
	while (environ[ne])
		ne++;
	char **env = malloc((nv + ne + 1) * sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < nv; i++)
		env[k++] = vars[i];
	for (size_t i = 0; i < ne; i++) {
		size_t len = strcspn(environ[i], "=");
		int replaced = 0;
		for (size_t j = 0; j < nv && !replaced; j++)
			replaced = strncmp(vars[j], environ[i], len) == 0 && vars[j][len] == '=';
		if (!replaced)
			env[k++] = environ[i];
	}
	env[k] = NULL;
	return env;
}

/* One of the child's descriptors 0, 1, 2: *fd as the request has it.
 * SPAWN_PIPE: a new pipe, whose child end goes in pipes[0] and our end in
 * *fd.  The dup2 goes into fa.  -1 with errno if the pipe cannot be made. */
static int child_fd(posix_spawn_file_actions_t *fa, int *fd, int target, int pipes[2])
{
	if (*fd == SPAWN_INHERIT)
		return 0;
	if (*fd == SPAWN_PIPE) {
		if (pipe2(pipes, O_CLOEXEC) < 0)
			return -1;
		/* stdin: the child reads pipes[0]; stdout, stderr: it writes pipes[1] */
		if (target != 0) {
			int t = pipes[0];
			pipes[0] = pipes[1];
			pipes[1] = t;
		}
		posix_spawn_file_actions_adddup2(fa, pipes[0], target);
		return 0;
	}
	/* The command reads and writes with ordinary blocking calls. */
	int fl = fcntl(*fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK);
	posix_spawn_file_actions_adddup2(fa, *fd, target);
	return 0;
}

/* Run r's command (argv or cmd) with the prepared actions; 0 or an errno. */
static int spawn_run(pid_t *pid, const struct spawn_req *r, posix_spawn_file_actions_t *fa,
		     posix_spawnattr_t *attr, char **env)
{
	int err = ENOENT;

	if (r->argv)
		return posix_spawnp(pid, r->file ? r->file : r->argv[0], fa, attr, r->argv, env);
	if (plain_words(r->cmd)) {
		char copy[4096], *argv[MAX_WORDS];
		if (strlen(r->cmd) < sizeof copy) {
			strcpy(copy, r->cmd);
			split_words(copy, argv);
			err = posix_spawnp(pid, argv[0], fa, attr, argv, env);
		}
	}
	if (err == ENOENT || err == EACCES) {
		char *argv[] = {"sh", "-c", (char *)r->cmd, NULL};
		err = posix_spawn(pid, "/bin/sh", fa, attr, argv, env);
	}
	return err;
}

pid_t spawn_start(struct spawn_req *r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	int *fds[3] = {&r->in, &r->out, &r->err};
	int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	char **env = child_env(r->vars);
	pid_t pid = -1;
	int err = 0;

	if (!env)
		return -1;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3 && !err; i++)
		if (child_fd(&fa, fds[i], i, pipes[i]) < 0)
			err = errno;
	if (!err)
		err = spawn_run(&pid, r, &fa, &attr, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	for (int i = 0; i < 3; i++) {
		if (pipes[i][0] < 0)
			continue;
		close(pipes[i][0]);
		if (err)
			close(pipes[i][1]);
		else
			*fds[i] = pipes[i][1];
	}
	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

int spawn_exec(char *const *argv)
{
	sigset_t none;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	return -1;
}

/* A waitpid status as the shell reports it. */
static int decode_status(int st)
{
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int spawn_feed(const char *cmd, char *const *vars, const void *data, size_t len, int *write_err)
{
	struct spawn_req req = {.cmd = cmd, .in = SPAWN_PIPE, .out = SPAWN_INHERIT, .err = SPAWN_INHERIT,
				.vars = vars};
	pid_t pid = spawn_start(&req);

	*write_err = 0;
	if (pid < 0)
		return -1;
	if (io_write_all(req.in, data, len) < 0 && errno != EPIPE)
		*write_err = errno;
	close(req.in);
	return spawn_wait(pid);
}

int spawn_wait_forward(pid_t pid, int sigfd)
{
	int status, child, sig;
	pid_t got;

	while ((got = spawn_try_wait(pid, &status)) == 0) {
		struct pollfd pf = {.fd = sigfd, .events = POLLIN};
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return -1;
		if ((sig = sigev_take(sigfd, &child)) != 0)
			kill(pid, sig);
	}
	return got == pid ? status : -1;
}

int spawn_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return decode_status(st);
}

pid_t spawn_try_wait(pid_t pid, int *status)
{
	int st;
	pid_t got;

	while ((got = waitpid(pid, &st, WNOHANG)) < 0)
		if (errno != EINTR)
			return -1;
	if (got > 0)
		*status = decode_status(st);
	return got;
}

int spawn_reap(void)
{
	int n = 0, st;

	while (spawn_try_wait(-1, &st) > 0)
		n++;
	return n;
}

int spawn_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}
