/* check.h: the one assertion the unit tests share.  CHECK(cond) reports a
 * failed condition with its file and line and counts it in `failures`;
 * each test program returns failures != 0 from main. */
#ifndef IPCBOX_UNIT_CHECK_H
#define IPCBOX_UNIT_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
			failures++;                                                            \
		}                                                                              \
	} while (0)

#endif
