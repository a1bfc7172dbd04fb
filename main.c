/* ipcbox: the multicall entry point.
 *
 * Dispatch on the basename of argv[0] (a link named after an applet), then on
 * argv[1] ("ipcbox APPLET ..."), then on argv[1] argv[2] joined with '-'
 * ("ipcbox shm create ..." runs shm-create).  A family name alone lists its
 * verbs.  The applet tables live in applets/FAMILY.c, one per family. */
#include "applets/applets.h"
#include "lib/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IPCBOX_VERSION
#define IPCBOX_VERSION "0.1.0"
#endif

static const struct family {
	const char *name;
	const char *summary;
	const struct applet *applets;
} families[] = {
	{"tcp", "TCP sockets: a netcat with correct EOF handling", tcp_applets},
	{"unix", "Unix domain stream sockets", unix_applets},
	{"shm", "shared memory segments: POSIX, System V, Qt", shm_applets},
	{"sem", "system semaphores: POSIX, System V, Qt", sem_applets},
	{"bus", "D-Bus, spoken natively", bus_applets},
	{"channel", "named channels: QCOP-style messages between local processes", channel_applets},
	{"mq", "message queues: POSIX and System V", mq_applets},
};
#define NFAMILIES (sizeof families / sizeof families[0])

static const struct applet *find_applet(const char *name)
{
	for (size_t f = 0; f < NFAMILIES; f++)
		for (const struct applet *a = families[f].applets; a->name; a++)
			if (strcmp(a->name, name) == 0)
				return a;
	return NULL;
}

static const struct family *find_family(const char *name)
{
	for (size_t f = 0; f < NFAMILIES; f++)
		if (strcmp(families[f].name, name) == 0)
			return &families[f];
	return NULL;
}

static int run(const struct applet *a, int argc, char **argv)
{
	cli_applet = a;
	return a->main(argc, argv);
}

static void list_applets(void)
{
	for (size_t f = 0; f < NFAMILIES; f++)
		for (const struct applet *a = families[f].applets; a->name; a++)
			puts(a->name);
}

static void usage(void)
{
	printf("Usage: ipcbox APPLET [ARG]...\n"
	       "   or: ipcbox FAMILY VERB [ARG]...\n"
	       "   or: APPLET [ARG]...          (through a link named after the applet)\n"
	       "   or: ipcbox --list | --install [-s] DIR | --help | --version\n\n"
	       "Inter-process communication from the shell: sockets, shared memory,\n"
	       "semaphores, message queues, D-Bus and named channels.  Run 'ipcbox APPLET --help' for an applet's options.\n\n");
	for (size_t f = 0; f < NFAMILIES; f++) {
		const struct family *fam = &families[f];
		if (!fam->applets->name)
			continue;
		printf("%s: %s\n ", fam->name, fam->summary);
		for (const struct applet *a = fam->applets; a->name; a++)
			printf(" %s", a->name);
		printf("\n");
	}
}

static int family_usage(const struct family *fam)
{
	printf("ipcbox %s: %s\n\n", fam->name, fam->summary);
	for (const struct applet *a = fam->applets; a->name; a++)
		printf("  %-*s %s\n", 16, a->name + strlen(fam->name) + 1, a->summary);
	printf("\nRun 'ipcbox %s VERB --help' for a verb's options.\n", fam->name);
	return 0;
}

/* --install [-s] DIR: a hard link (symlink with -s) to this binary for every
 * applet.  Existing files are left alone and reported. */
static int install_links(int argc, char **argv)
{
	char self[PATH_MAX];
	int symbolic = 0, status = 0;
	const char *dir;
	ssize_t n;

	if (argc > 2 && strcmp(argv[2], "-s") == 0) {
		symbolic = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "ipcbox: usage: ipcbox --install [-s] DIR\n");
		return EXIT_USAGE;
	}
	dir = argv[2];
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		fprintf(stderr, "ipcbox: --install: /proc/self/exe: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	self[n] = 0;
	for (size_t f = 0; f < NFAMILIES; f++) {
		for (const struct applet *a = families[f].applets; a->name; a++) {
			char path[PATH_MAX];
			int r;
			if (snprintf(path, sizeof path, "%s/%s", dir, a->name) >= (int)sizeof path) {
				fprintf(stderr, "ipcbox: --install: %s: path too long\n", dir);
				return EXIT_FAIL;
			}
			r = symbolic ? symlink(self, path) : link(self, path);
			if (r < 0) {
				fprintf(stderr, "ipcbox: --install: %s: %s\n", path, strerror(errno));
				status = EXIT_FAIL;
			}
		}
	}
	return status;
}

/* Hidden helpers for the shell completions: --options APPLET prints the
 * option table, --complete APPLET prints candidate operands. */
static int completion_query(int argc, char **argv)
{
	const struct applet *a = argc == 3 ? find_applet(argv[2]) : NULL;

	if (!a)
		return EXIT_USAGE;
	cli_applet = a;
	if (strcmp(argv[1], "--options") == 0)
		cli_print_options(a);
	else if (a->complete)
		a->complete();
	return 0;
}

static int multicall(int argc, char **argv)
{
	const struct applet *a;
	const struct family *fam;

	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ipcbox %s\n", IPCBOX_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--list") == 0) {
		list_applets();
		return 0;
	}
	if (strcmp(argv[1], "--install") == 0)
		return install_links(argc, argv);
	if (strcmp(argv[1], "--options") == 0 || strcmp(argv[1], "--complete") == 0)
		return completion_query(argc, argv);
	a = find_applet(argv[1]);
	if (a)
		return run(a, argc - 1, argv + 1);
	fam = find_family(argv[1]);
	if (fam && fam->applets->name) {
		char joined[64];
		if (argc < 3)
			return family_usage(fam);
		snprintf(joined, sizeof joined, "%s-%s", fam->name, argv[2]);
		a = find_applet(joined);
		if (a) {
			argv[2] = (char *)a->name;
			return run(a, argc - 2, argv + 2);
		}
		fprintf(stderr, "ipcbox: unknown %s verb '%s'; try 'ipcbox %s'\n", fam->name, argv[2],
			fam->name);
		return EXIT_USAGE;
	}
	fprintf(stderr, "ipcbox: unknown applet '%s'; try 'ipcbox --list'\n", argv[1]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	const struct applet *a;

	base = base ? base + 1 : (argc > 0 && argv[0] ? argv[0] : "ipcbox");
	a = find_applet(base);
	if (a)
		return run(a, argc, argv);
	return multicall(argc, argv);
}
