/* A POSIX message queue peer for tests/mq.bats: glibc's mq_open, mq_send
 * and mq_receive, nothing of ipcbox's.
 *
 *   mq_peer create NAME MAXMSG MSGSIZE     O_CREAT|O_EXCL, mode 0600
 *   mq_peer send NAME PRIO DATA...         one message per DATA, priority PRIO
 *   mq_peer recv NAME COUNT                take COUNT messages (blocking);
 *                                          print "PRIO LEN " then the bytes
 *                                          and a newline for each
 *   mq_peer attr NAME                      "MAXMSG MSGSIZE CURMSGS"
 *   mq_peer notify NAME READY              register for SIGUSR1 on the first
 *                                          message (mq_notify), create READY,
 *                                          then sleep until killed
 * Exit 0, or 1 with the failing call on stderr. */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	struct mq_attr a;
	mqd_t q;

	if (argc >= 5 && strcmp(argv[1], "create") == 0) {
		memset(&a, 0, sizeof a);
		a.mq_maxmsg = atol(argv[3]);
		a.mq_msgsize = atol(argv[4]);
		q = mq_open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600, &a);
		return q == (mqd_t)-1 ? fail("mq_open") : 0;
	}
	if (argc >= 4 && strcmp(argv[1], "send") == 0) {
		if ((q = mq_open(argv[2], O_WRONLY)) == (mqd_t)-1)
			return fail("mq_open");
		for (int i = 4; i < argc; i++)
			if (mq_send(q, argv[i], strlen(argv[i]), (unsigned)atoi(argv[3])) < 0)
				return fail("mq_send");
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "recv") == 0) {
		char *buf;
		unsigned prio;
		ssize_t n;
		if ((q = mq_open(argv[2], O_RDONLY)) == (mqd_t)-1 || mq_getattr(q, &a) < 0)
			return fail("mq_open");
		if (!(buf = malloc((size_t)a.mq_msgsize)))
			return fail("malloc");
		for (long i = 0; i < atol(argv[3]); i++) {
			if ((n = mq_receive(q, buf, (size_t)a.mq_msgsize, &prio)) < 0)
				return fail("mq_receive");
			printf("%u %zd ", prio, n);
			fwrite(buf, 1, (size_t)n, stdout);
			putchar('\n');
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "attr") == 0) {
		if ((q = mq_open(argv[2], O_RDONLY)) == (mqd_t)-1 || mq_getattr(q, &a) < 0)
			return fail("mq_open");
		printf("%ld %ld %ld\n", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "notify") == 0) {
		struct sigevent ev;
		FILE *f;
		memset(&ev, 0, sizeof ev);
		ev.sigev_notify = SIGEV_SIGNAL;
		ev.sigev_signo = SIGUSR1;
		signal(SIGUSR1, SIG_IGN);
		if ((q = mq_open(argv[2], O_RDONLY)) == (mqd_t)-1 || mq_notify(q, &ev) < 0)
			return fail("mq_notify");
		if (!(f = fopen(argv[3], "w")) || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
			return fail(argv[3]);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: mq_peer create|send|recv|attr|notify NAME ...\n");
	return 2;
}
