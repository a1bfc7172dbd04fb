/* proc: facts about other processes from /proc; see proc.h. */
#include "proc.h"

#include <stdio.h>
#include <string.h>

char *proc_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	char *got = NULL;

	if (size == 0)
		return NULL;
	buf[0] = 0;
	if (pid <= 0)
		return NULL;
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "re"))) {
		if (size > 1 && fgets(buf, (int)(size > 4096 ? 4096 : size), f))
			got = buf;
		fclose(f);
	}
	if (!got) {
		buf[0] = 0;
		return NULL;
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}
