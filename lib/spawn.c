/* spawn: commands run for connections; see spawn.h. */
#include "spawn.h"

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

pid_t spawn_cmd(const char *cmd, int fd, char *const vars[])
{
	return spawn_cmd_io(cmd, fd, fd, vars);
}

pid_t spawn_cmd_io(const char *cmd, int in, int out, char *const vars[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	char **env = child_env(vars);
	pid_t pid = -1;
	int err;

	if (!env)
		return -1;
	/* The command reads and writes with ordinary blocking calls. */
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
	if (out >= 0 && out != in)
		fcntl(out, F_SETFL, fcntl(out, F_GETFL) & ~O_NONBLOCK);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);

	err = ENOENT;
	if (plain_words(cmd)) {
		char copy[4096], *argv[MAX_WORDS];
		if (strlen(cmd) < sizeof copy) {
			strcpy(copy, cmd);
			split_words(copy, argv);
			err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, env);
		}
	}
	if (err == ENOENT || err == EACCES) {
		char *argv[] = {"sh", "-c", (char *)cmd, NULL};
		err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

int spawn_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int spawn_reap(void)
{
	int n = 0, st;

	while (waitpid(-1, &st, WNOHANG) > 0)
		n++;
	return n;
}
