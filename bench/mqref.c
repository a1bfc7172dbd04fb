/* mqref: the C reference of bench/50-mq.sh: what mq-send -l and mq-recv do,
 * with nothing around it.
 *
 *   mqref send /NAME          one mq_send per line of stdin (no newline)
 *   mqref recv /NAME COUNT    COUNT mq_receives, each message and a newline
 *                             to stdout (stdio, fully buffered)
 *   mqref sysv-send KEY       the same with msgsnd, type 1
 *   mqref sysv-recv KEY COUNT the same with msgrcv
 * Exit 0, or 1 with the failing call on stderr. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

struct msg {
	long type;
	char data[65536];
};

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	static struct msg m;
	static char out[1 << 16];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int sysv = argc > 2 && strncmp(argv[1], "sysv-", 5) == 0;
	const char *verb = sysv ? argv[1] + 5 : argv[1];
	mqd_t q = (mqd_t)-1;
	int id = -1;

	if (argc < 3)
		return fprintf(stderr, "usage: mqref send|recv|sysv-send|sysv-recv NAME [COUNT]\n"), 2;
	if (sysv && (id = msgget((key_t)strtoul(argv[2], NULL, 0), 0)) < 0)
		return fail("msgget");
	if (!sysv && (q = mq_open(argv[2], strcmp(verb, "send") == 0 ? O_WRONLY : O_RDONLY)) == (mqd_t)-1)
		return fail("mq_open");
	if (strcmp(verb, "send") == 0) {
		while ((n = getline(&line, &cap, stdin)) > 0) {
			if (line[n - 1] == '\n')
				n--;
			if (sysv) {
				m.type = 1;
				memcpy(m.data, line, (size_t)n);
				if (msgsnd(id, &m, (size_t)n, 0) < 0)
					return fail("msgsnd");
			} else if (mq_send(q, line, (size_t)n, 0) < 0) {
				return fail("mq_send");
			}
		}
		return 0;
	}
	setvbuf(stdout, out, _IOFBF, sizeof out);
	for (long i = 0, count = argc > 3 ? atol(argv[3]) : 0; i < count; i++) {
		n = sysv ? msgrcv(id, &m, sizeof m.data, 0, 0) : mq_receive(q, m.data, sizeof m.data, NULL);
		if (n < 0)
			return fail("receive");
		fwrite(m.data, 1, (size_t)n, stdout);
		putchar('\n');
	}
	return fflush(stdout) == 0 ? 0 : fail("write");
}
