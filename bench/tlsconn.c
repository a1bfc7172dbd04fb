/* tlsconn: the TLS yardsticks of bench/15-tls.sh.  Linked against libssl
 * and libcrypto (a bench program may be; ipcbox itself opens them with
 * dlopen).  Built at bench time:
 *   cc -O2 -o tlsconn bench/tlsconn.c -lssl -lcrypto
 *
 *   tlsconn rate PORT CAFILE N [PAR]
 *       N handshakes to 127.0.0.1:PORT, PAR of them at a time (default 1,
 *       sequential), each a fresh full handshake (no session resumption),
 *       verifying the server against CAFILE and the address 127.0.0.1,
 *       then "ping\n", close_notify, and the echo read to the server's
 *       end.  Prints the connections per second; exits 1 if an echo came
 *       back wrong.  The client's work is the same whichever server it
 *       meets, so a difference in the rate is the server's.  The socket
 *       has TCP_NODELAY: a small write of the driver's own never waits
 *       for a delayed ACK (a 40 ms stall a connection, once seen, that
 *       would be the client's, not the server's).
 *   tlsconn gcm BYTES
 *       AES-256-GCM (TLS 1.3's cipher here) over BYTES in 16 KiB records,
 *       sealed then opened, on one core: prints the seconds each took.
 *   tlsconn listen PORT_FILE CERT KEY | tlsconn send PORT CAFILE
 *       the floor of a bulk transfer: the sender reads stdin in 1 MiB and
 *       SSL_writes it, the receiver SSL_reads 1 MiB at a time into its
 *       stdout; blocking sockets, no poll loop, close_notify at the end.
 *
 * It is a yardstick, not a tool: any error ends it with status 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The transfer buffers are page-aligned: here, the kernel's copy from a
 * tmpfs file into a malloc'd buffer (16 bytes past a page boundary) ran
 * at 0.4-0.6 GB/s, into a page-aligned one at 2.5-3 GB/s. */
#define BUF (1 << 20)
#define RECORD 16384

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tlsconn: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* A TCP connection to 127.0.0.1:port. */
static int dial(int port)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	to.sin_port = htons((unsigned short)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&to, sizeof to) < 0)
		die("connect");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)) < 0)
		die("TCP_NODELAY");
	return fd;
}

/* A client context that verifies the server against cafile and the
 * address 127.0.0.1, and keeps no sessions (every handshake is full). */
static SSL_CTX *client_ctx(const char *cafile)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		die("client context");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
	return ctx;
}

/* A verified TLS connection over a new socket; *fd gets the socket. */
static SSL *tls_dial(SSL_CTX *ctx, int port, int *fd)
{
	SSL *ssl = SSL_new(ctx);

	*fd = dial(port);
	if (!ssl || SSL_set_fd(ssl, *fd) != 1 || SSL_connect(ssl) != 1)
		die("handshake");
	return ssl;
}

/* One connection of the rate test: 1 if "ping\n" came back whole. */
static int one(SSL_CTX *ctx, int port)
{
	char buf[64];
	size_t got = 0, n;
	int fd;
	SSL *ssl = tls_dial(ctx, port, &fd);

	if (SSL_write_ex(ssl, "ping\n", 5, &n) != 1 || SSL_shutdown(ssl) < 0)
		die("write");
	while (got < sizeof buf && SSL_read_ex(ssl, buf + got, sizeof buf - got, &n) == 1)
		got += n;
	SSL_free(ssl);
	close(fd);
	return got == 5 && memcmp(buf, "ping\n", 5) == 0;
}

/* n connections in this process; the number whose echo was right. */
static int rate_worker(const char *cafile, int port, int n)
{
	SSL_CTX *ctx = client_ctx(cafile);
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += one(ctx, port);
	SSL_CTX_free(ctx);
	return ok;
}

/* rate PORT CAFILE N [PAR]: PAR processes share the N connections. */
static int rate(int argc, char **argv)
{
	int port, n, par, bad = 0;
	double t0;

	if (argc < 5)
		return 2;
	port = atoi(argv[2]);
	n = atoi(argv[4]);
	par = argc > 5 ? atoi(argv[5]) : 1;
	if (n < 1 || par < 1 || par > 64)
		return 2;
	t0 = now();
	if (par == 1) {
		bad = n - rate_worker(argv[3], port, n);
	} else {
		for (int w = 0; w < par; w++) {
			int k = n / par + (w < n % par);
			pid_t p = fork();
			if (p < 0)
				die("fork");
			if (p == 0)
				_exit(rate_worker(argv[3], port, k) == k ? 0 : 1);
		}
		for (int st, w = 0; w < par; w++)
			if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
	}
	printf("%.1f\n", n / (now() - t0));
	if (bad) {
		fprintf(stderr, "tlsconn: %d %s with a wrong echo\n", bad, par == 1 ? "connections" : "workers");
		return 1;
	}
	return 0;
}

/* Seal or open (enc 1 or 0) total bytes in RECORD-sized records with
 * AES-256-GCM, as a TLS 1.3 record layer does; the seconds it took. */
static double gcm_pass(int enc, unsigned char *buf, size_t total)
{
	static const unsigned char key[32], iv0[12];
	unsigned char iv[12], tag[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	double t0 = now();
	int len;

	if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv0, enc) != 1)
		die("gcm init");
	memcpy(iv, iv0, sizeof iv);
	for (size_t off = 0; off < total; off += RECORD) {
		iv[11]++; /* a fresh nonce per record, as the sequence number gives */
		if (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) != 1 ||
		    EVP_CipherUpdate(c, buf, &len, buf, RECORD) != 1)
			die("gcm");
		if (enc) {
			EVP_CipherFinal_ex(c, tag, &len);
		} else {
			/* no true tag: opening's cost is the same, its check fails */
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, sizeof tag, tag);
			EVP_CipherFinal_ex(c, tag, &len);
		}
	}
	EVP_CIPHER_CTX_free(c);
	return now() - t0;
}

/* gcm BYTES: one core's sealing and opening time for BYTES. */
static int gcm(int argc, char **argv)
{
	size_t total;
	unsigned char *buf = calloc(1, RECORD);

	if (argc < 3 || !buf)
		return 2;
	total = strtoull(argv[2], NULL, 10) / RECORD * RECORD;
	gcm_pass(1, buf, RECORD * 64); /* warm up */
	printf("%.6f %.6f\n", gcm_pass(1, buf, total), gcm_pass(0, buf, total));
	return 0;
}

/* listen PORT_FILE CERT KEY: one connection's data to stdout. */
static int floor_listen(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char *buf = aligned_alloc(4096, BUF);
	size_t n;
	FILE *pf;
	SSL *ssl;
	int s, fd;

	if (argc < 5 || !ctx || !buf)
		return 2;
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1)
		die("certificate");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	pf = fopen(argv[2], "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf) != 0)
		die("port file");
	fd = accept(s, NULL, NULL);
	ssl = SSL_new(ctx);
	if (fd < 0 || !ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		die("accept");
	while (SSL_read_ex(ssl, buf, BUF, &n) == 1)
		for (size_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, n - off);
			if (w < 0)
				die("write");
			off += (size_t)w;
		}
	if (SSL_get_error(ssl, 0) != SSL_ERROR_ZERO_RETURN)
		die("no close_notify");
	SSL_shutdown(ssl);
	return 0;
}

/* send PORT CAFILE: stdin to the listener, then close_notify. */
static int floor_send(int argc, char **argv)
{
	char *buf = aligned_alloc(4096, BUF);
	SSL_CTX *ctx;
	ssize_t r;
	size_t n;
	SSL *ssl;
	int fd;

	if (argc < 4 || !buf)
		return 2;
	ctx = client_ctx(argv[3]);
	ssl = tls_dial(ctx, atoi(argv[2]), &fd);
	while ((r = read(0, buf, BUF)) > 0)
		if (SSL_write_ex(ssl, buf, (size_t)r, &n) != 1)
			die("SSL_write");
	if (r < 0)
		die("read");
	if (SSL_shutdown(ssl) < 0)
		die("shutdown");
	while (SSL_read_ex(ssl, buf, BUF, &n) == 1) /* the listener's end */
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "rate") == 0)
		return rate(argc, argv);
	if (strcmp(argv[1], "gcm") == 0)
		return gcm(argc, argv);
	if (strcmp(argv[1], "listen") == 0)
		return floor_listen(argc, argv);
	if (strcmp(argv[1], "send") == 0)
		return floor_send(argc, argv);
	return 2;
}
