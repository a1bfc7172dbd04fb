/* startup: the start-up time of commands, measured interleaved.
 *
 *   startup RUNS CMD [ARG]... [-- CMD [ARG]...]...
 *
 * Runs every command once per round, RUNS rounds, the order rotating from
 * round to round, each by fork and execvp with stdin and stdout on
 * /dev/null, and prints one line per command: the median wall time of one
 * run in seconds.  Interleaving matters on the project's VM kind, where
 * the start-up of /bin/true drifted from 2.4 ms to 3.6 ms between two
 * sequential hyperfine runs a minute apart: a ratio taken across a drift
 * is not a measurement.  A command that fails ends it with status 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCMDS 16

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One run of argv; its wall time in seconds. */
static double run_once(char **argv)
{
	int st;
	double t0 = now();
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "startup: %s failed (status %d)\n", argv[0], st);
		exit(1);
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	char **cmd[MAXCMDS];
	int ncmd = 0, runs = argc > 1 ? atoi(argv[1]) : 0;

	if (runs <= 0 || argc < 3) {
		fprintf(stderr, "usage: startup RUNS CMD [ARG]... [-- CMD [ARG]...]...\n");
		return 2;
	}
	cmd[ncmd++] = &argv[2];
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			if (ncmd == MAXCMDS || i + 1 == argc)
				return 2;
			cmd[ncmd++] = &argv[i + 1];
		}
	double *t = calloc((size_t)(ncmd * runs), sizeof *t);
	if (!t)
		return 1;
	for (int c = 0; c < ncmd; c++) /* warm-up: each once */
		run_once(cmd[c]);
	for (int r = 0; r < runs; r++)
		for (int k = 0; k < ncmd; k++) {
			int c = (k + r) % ncmd;
			t[c * runs + r] = run_once(cmd[c]);
		}
	for (int c = 0; c < ncmd; c++) {
		double *v = t + c * runs;
		qsort(v, (size_t)runs, sizeof *v, cmp_double);
		printf("%.6f\n", runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2);
	}
	free(t);
	return 0;
}
