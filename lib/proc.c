/* proc: facts about other processes from /proc; see proc.h. */
#include "proc.h"
#include "io.h"
#include "parse.h"

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

/* A maps dev field, MAJOR:MINOR in hex (as "fd:01"). */
static int maps_dev(const char *s, unsigned *major, unsigned *minor)
{
	unsigned v[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		size_t n = strspn(s, "0123456789abcdef");
		if (n == 0 || n > 7)
			return -1;
		for (size_t k = 0; k < n; k++)
			v[i] = v[i] * 16 + (unsigned)parse_hexdigit(s[k]);
		s += n;
		if (*s != (i == 0 ? ':' : '\0'))
			return -1;
		s++;
	}
	*major = v[0];
	*minor = v[1];
	return 0;
}

/* Does one line of maps (address perms offset dev inode [path]) map the
 * segment?  digits: the inode in decimal, as the kernel writes it, after a
 * space. */
static int maps_line_matches(const char *line, const struct proc_maps_want *w,
			     const char *digits)
{
	char dev[24], inode[24];
	unsigned major, minor;

	for (int i = 0; i < 3 && line; i++)
		line = parse_field(line, NULL, 0);
	if (!line || !(line = parse_field(line, w->sysv ? NULL : dev, sizeof dev)))
		return 0;
	line += strspn(line, " \t");
	if (line[-1] != ' ' || !(line = parse_field(line, inode, sizeof inode)) ||
	    strcmp(inode, digits) != 0)
		return 0;
	if (w->sysv)
		return strncmp(line + strspn(line, " \t"), "/SYSV", 5) == 0;
	return maps_dev(dev, &major, &minor) == 0 && major == w->dev_major &&
	       minor == w->dev_minor;
}

/* What maps_text_matches looks for: the segment, and its inode as text. */
struct maps_scan {
	const struct proc_maps_want *want;
	char needle[24];
};

/* Is there a line in text (a block of whole lines from io_scan_lines) that
 * maps the segment?  Only the lines that hold the inode's digits are
 * parsed. */
static int maps_text_matches(char *text, size_t len, void *ctx)
{
	const struct maps_scan *m = ctx;

	if (!text) /* a line of 64 KiB: no mapping of a path */
		return 0;
	char *stop = text + len;
	for (char *hit = text; (hit = memmem(hit, (size_t)(stop - hit), m->needle,
					     strlen(m->needle))) != NULL;) {
		char *start = hit, *end = memchr(hit, '\n', (size_t)(stop - hit));
		while (start > text && start[-1] != '\n')
			start--;
		if (end)
			*end = '\0';
		int found = !memchr(start, '\0', (size_t)((end ? end : stop) - start)) &&
			    maps_line_matches(start, m->want, m->needle + 1);
		if (end)
			*end = '\n';
		if (found || !end)
			return found;
		hit = end + 1;
	}
	return 0;
}

int proc_maps_find(int fd, const struct proc_maps_want *want)
{
	char buf[65536]; /* one read(2) holds a typical process's maps */
	struct maps_scan m = {want, ""};

	/* the inode's digits and the space before them: a line without them
	 * cannot match, and is not parsed */
	snprintf(m.needle, sizeof m.needle, " %llu", want->ino);
	return io_scan_lines(fd, buf, sizeof buf, maps_text_matches, &m);
}
