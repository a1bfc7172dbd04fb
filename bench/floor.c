/* floor: the least work one TCP loopback transfer can take, as the bound
 * that bench/10-tcp.sh measures each cell against.  No poll loop, no
 * options, no half-close dance beyond the one shutdown: the sender reads
 * stdin into one 1 MiB buffer and writes it to a blocking socket; the
 * receiver moves the socket into its stdout without a copy to user space
 * (splice(2) straight into a stdout pipe enlarged to 1 MiB, or through a
 * private 1 MiB pipe into /dev/null), except into a regular file, where
 * read/write with the 1 MiB buffer measured less work than splice.
 *
 *   floor listen PORT_FILE send|recv    bind 127.0.0.1:0, write the port
 *   floor connect PORT send|recv
 *
 * It is a yardstick, not a tool: any error ends it with status 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF (1 << 20)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void send_all(int s)
{
	char *buf = malloc(BUF);
	ssize_t n;

	if (!buf)
		die("malloc");
	while ((n = read(0, buf, BUF)) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(s, buf + off, (size_t)(n - off));
			if (w < 0)
				die("write");
			off += w;
		}
	if (n < 0)
		die("read");
	shutdown(s, SHUT_WR);
	while ((n = read(s, buf, BUF)) > 0) /* the peer's EOF */
		;
}

/* Move len bytes from the pipe end p to fd. */
static void drain(int p, int fd, ssize_t len)
{
	while (len > 0) {
		ssize_t k = splice(p, NULL, fd, NULL, (size_t)len, SPLICE_F_MOVE);
		if (k <= 0)
			die("splice out");
		len -= k;
	}
}

static void recv_all(int s)
{
	struct stat st;
	int p[2] = {-1, -1}, to = 1;
	ssize_t n;

	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode)) {
		char *buf = malloc(BUF);
		if (!buf)
			die("malloc");
		while ((n = read(s, buf, BUF)) > 0)
			for (ssize_t off = 0, w; off < n; off += w)
				if ((w = write(1, buf + off, (size_t)(n - off))) < 0)
					die("write");
		if (n < 0)
			die("read");
		return;
	}
	if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode)) {
		fcntl(1, F_SETPIPE_SZ, BUF);
	} else {
		if (pipe(p) < 0)
			die("pipe");
		fcntl(p[1], F_SETPIPE_SZ, BUF);
		to = p[1];
	}
	while ((n = splice(s, NULL, to, NULL, BUF, SPLICE_F_MOVE)) > 0)
		if (p[0] >= 0)
			drain(p[0], 1, n);
	if (n < 0)
		die("splice in");
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	int s, fd, sending;
	FILE *f;

	if (argc != 4)
		return 2;
	sending = strcmp(argv[3], "send") == 0;
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (strcmp(argv[1], "listen") == 0) {
		if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0 ||
		    getsockname(s, (struct sockaddr *)&a, &alen) < 0)
			die("listen");
		if (!(f = fopen(argv[2], "w")) || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 ||
		    fclose(f) != 0)
			die(argv[2]);
		if ((fd = accept(s, NULL, NULL)) < 0)
			die("accept");
		close(s);
	} else {
		a.sin_port = htons((unsigned short)atoi(argv[2]));
		if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
			die("connect");
		fd = s;
	}
	if (sending)
		send_all(fd);
	else
		recv_all(fd);
	return 0;
}
