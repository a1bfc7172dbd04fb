/* connrate: N sequential connections to 127.0.0.1:PORT, each sending a
 * few bytes, half-closing, and reading the echo to EOF.  Prints the
 * connections per second; exits 1 if an echo came back wrong.
 * Built by bench/10-tcp.sh at bench time:  connrate PORT N */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One connection: 1 if "ping\n" came back whole. */
static int one(const struct sockaddr_in *to)
{
	char buf[64];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof *to) < 0 ||
	    write(fd, "ping\n", 5) != 5 || shutdown(fd, SHUT_WR) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((n = read(fd, buf + got, sizeof buf - got)) > 0)
		got += (size_t)n;
	close(fd);
	return got == 5 && memcmp(buf, "ping\n", 5) == 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	int n, ok = 0;

	if (argc != 3)
		return 2;
	to.sin_port = htons((unsigned short)atoi(argv[1]));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	n = atoi(argv[2]);
	double t0 = now();
	for (int i = 0; i < n; i++)
		ok += one(&to);
	double t = now() - t0;
	printf("%.1f\n", n / t);
	if (ok != n) {
		fprintf(stderr, "connrate: %d of %d echoes wrong\n", n - ok, n);
		return 1;
	}
	return 0;
}
