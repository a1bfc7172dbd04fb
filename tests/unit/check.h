/* check.h: the one assertion the unit tests share.  CHECK(cond) reports a
 * failed condition with its file and line and counts it in `failures`;
 * each test program returns failures != 0 from main. */
#ifndef IPCBOX_UNIT_CHECK_H
#define IPCBOX_UNIT_CHECK_H

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
			failures++;                                                            \
		}                                                                              \
	} while (0)

/* A test program made of named groups: run the one named by argv[1], or
 * all; returns main's exit status (2 for an unknown group). */
struct check_group {
	const char *name;
	void (*fn)(void);
};

static inline int check_run_groups(const char *prog, const struct check_group *g, size_t n, int argc,
				   char **argv)
{
	int ran = 0;

	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], g[i].name))
			continue;
		g[i].fn();
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "%s: no group '%s'\n", prog, argc > 1 ? argv[1] : "");
		return 2;
	}
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}

#endif
