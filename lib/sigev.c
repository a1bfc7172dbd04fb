/* sigev: signals as poll events through a self-pipe; see sigev.h. */
#include "sigev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* What the handler needs: the pipe's write end and the flag it sets, at
 * file scope because a handler has no other way in. */
static int pipe_write = -1, pipe_read = -1;
static volatile sig_atomic_t last_stop;

static void on_signal(int signo)
{
	unsigned char b = (unsigned char)signo;
	int saved = errno;

	if (signo != SIGCHLD)
		last_stop = signo;
	if (write(pipe_write, &b, 1) < 0) {
		/* A full pipe already holds a wake-up. */
	}
	errno = saved;
}

int sigev_open(int flags)
{
	static const int stops[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	int p[2];

	if (pipe_read >= 0)
		return pipe_read;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	pipe_write = p[1];
	pipe_read = p[0];
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a blocking call returns to the loop. */
	for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
		sigaction(stops[i], &sa, NULL);
	if (flags & SIGEV_CHILD)
		sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return pipe_read;
}

int sigev_renew(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (pipe_read >= 0) {
		close(pipe_read);
		close(pipe_write);
	}
	pipe_write = p[1];
	pipe_read = p[0];
	return pipe_read;
}

int sigev_take(int fd, int *child)
{
	unsigned char b[64];
	int stop = 0;
	ssize_t n;

	while ((n = read(fd, b, sizeof b)) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (b[i] == SIGCHLD)
				*child = 1;
			else if (!stop)
				stop = b[i];
		}
	return stop;
}

void sigev_hold(void)
{
	sigset_t stops;

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, NULL);
}

volatile sig_atomic_t *sigev_stop_flag(void)
{
	return &last_stop;
}
