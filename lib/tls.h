/* tls: TLS through OpenSSL 3, opened with dlopen the first time an applet
 * asks for it, so that no other applet pays for libssl's relocations and
 * ipcbox runs where libssl is absent.
 *
 * For applets (tcp-connect, tcp-listen, channel-* over mqtts://):
 *  - tls_option takes the options they share (--cacert, --pin, ...);
 *  - tls_ctx_client / tls_ctx_server load the library and build the
 *    configuration (trust, certificate, versions, ALPN); a server without
 *    --cert gets an ephemeral P-256 certificate whose pin tls_ctx_pin gives;
 *  - tls_open wraps a connected socket, tls_handshake runs the handshake
 *    against a deadline and puts the reason for a failure in words;
 *  - tls_read / tls_write / tls_shutdown move data on a non-blocking socket,
 *    tls_events says what to poll for;
 *  - tlsrelay.h's tls_relay_run is relay_run for a TLS socket (the EOF
 *    rules below).
 * Nothing here writes what OpenSSL does: handshakes, verification, name
 * checks and SNI are its own.
 *
 * Ends of a connection (tls_relay_run):
 *  - our stdin's EOF sends close_notify and keeps reading (half-close);
 *  - the peer's close_notify ends the incoming direction, like a FIN;
 *  - a TCP close without close_notify ends it too, after everything that
 *    arrived is written, but the data may have been cut short (a truncation
 *    attack looks the same): the relay ends with an error that says so, and
 *    the applet exits 1.
 *
 * Built with IPCBOX_NO_TLS (the static musl binary), every entry point that
 * would load the library fails with "this build has no TLS". */
#ifndef IPCBOX_TLS_H
#define IPCBOX_TLS_H

#include "cli.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The library and the Debian package a TLS option needs. */
#define TLS_LIBRARY "libssl.so.3"
#define TLS_PACKAGE "libssl3"

#define TLS_PINS_MAX 8
#define TLS_PIN_LEN 32          /* SHA-256 */
#define TLS_PIN_TEXT 52         /* "sha256//" + 44 base64 characters */
#define TLS_ERR_MAX 512         /* room for a one-line reason */
#define TLS_HANDSHAKE_MS 10000  /* a listener's handshake deadline without -i */

/* The options' keys: well above the applets' own long-only keys. */
enum {
	TLS_OPT_TLS = OPT_LONG_ONLY + 100,
	TLS_OPT_CACERT,
	TLS_OPT_CAPATH,
	TLS_OPT_CERT,
	TLS_OPT_KEY,
	TLS_OPT_SERVERNAME,
	TLS_OPT_INSECURE,
	TLS_OPT_PIN,
	TLS_OPT_TLS_MIN,
	TLS_OPT_ALPN,
	TLS_OPT_CLIENT_CA,
};

/* Option table entries (struct opt, cli.h) for an applet's table. */
#define TLS_OPT_ENTRY_TLS {TLS_OPT_TLS, "tls", NULL, "speak TLS (OpenSSL 3, loaded only now)", NULL}
#define TLS_OPT_ENTRIES_VERIFY                                                                      \
	{TLS_OPT_CACERT, "cacert", "FILE", "TLS: trust only the CA certificates in FILE", "file"},  \
	{TLS_OPT_CAPATH, "capath", "DIR", "TLS: trust the CA certificates in DIR (c_rehash)", "dir"}, \
	{TLS_OPT_SERVERNAME, "servername", "NAME", "TLS: send and check NAME, not HOST", "host"},   \
	{TLS_OPT_INSECURE, "insecure", NULL, "TLS: do not verify the peer at all", NULL},           \
	{TLS_OPT_PIN, "pin", "sha256//BASE64", "TLS: accept only this public key (repeatable)", NULL}
#define TLS_OPT_ENTRIES_CERT                                                                     \
	{TLS_OPT_CERT, "cert", "FILE", "TLS: our certificate chain (PEM)", "file"},              \
	{TLS_OPT_KEY, "key", "FILE", "TLS: the private key of --cert (PEM)", "file"}
#define TLS_OPT_ENTRIES_PROTO                                                                  \
	{TLS_OPT_TLS_MIN, "tls-min", "VERSION", "TLS: the lowest version, 1.2 or 1.3", NULL}, \
	{TLS_OPT_ALPN, "alpn", "LIST", "TLS: ALPN protocols, comma-separated", NULL}
#define TLS_OPT_ENTRY_CLIENT_CA                                                                 \
	{TLS_OPT_CLIENT_CA, "client-ca", "FILE", "TLS: require a client certificate signed by a CA in FILE", \
	 "file"}

struct tls_opts {
	int on;                    /* --tls, or an mqtts:// URL */
	const char *cacert, *capath, *cert, *key, *servername, *client_ca;
	int insecure;
	unsigned char pins[TLS_PINS_MAX][TLS_PIN_LEN];
	unsigned npins;
	int min_version;           /* 12 or 13 */
	unsigned char alpn[256];   /* wire form: length-prefixed names */
	unsigned alpn_len;
	int verbose;               /* -v: protocol, cipher, peer, pin on stderr */
	const char *first;         /* the first TLS option other than --tls given, or NULL */
};
#define TLS_OPTS_INIT {.min_version = 12}

/* Take key into o if it is a TLS option; 0 if it is not one.  A bad value
 * exits 2 with one line, as the cli_ converters do. */
int tls_option(struct tls_opts *o, int key, const char *arg);
/* The first conflict among the TLS options ("--insecure and --pin cannot be
 * used together", "--key needs --cert"), or NULL. */
const char *tls_conflict(const struct tls_opts *o);

/* Parsers of outside text (fuzzed): 0, or -1 and *why. */
int tls_pin_parse(const char *text, unsigned char pin[TLS_PIN_LEN], const char **why);
int tls_alpn_parse(const char *text, unsigned char *wire, unsigned *len, const char **why);
int tls_version_parse(const char *text, int *version, const char **why);
/* "sha256//" + base64 of pin, NUL-terminated, into out[TLS_PIN_TEXT + 1]. */
void tls_pin_format(const unsigned char pin[TLS_PIN_LEN], char *out);

/* Load the library now: 0, or -1 with the one-line reason in err
 * ("libssl.so.3 not found: install the Debian package libssl3"). */
int tls_load(char *err, size_t size);

struct tls_ctx;
struct tls;

/* A client's or a server's configuration from o (loads the library).
 * NULL with the reason in err: the library is missing (tls_ctx_status 1),
 * a file cannot be read or a key does not match its certificate (1), ... */
struct tls_ctx *tls_ctx_client(const struct tls_opts *o, char *err, size_t size);
struct tls_ctx *tls_ctx_server(const struct tls_opts *o, char *err, size_t size);
/* The pin of the server's own certificate (the ephemeral one's, printed so
 * that the other side can use --pin). */
const char *tls_ctx_pin(const struct tls_ctx *c);
void tls_ctx_free(struct tls_ctx *c);

/* One connection over the connected socket fd (made non-blocking; the
 * caller still owns and closes fd).  host: a client's HOST operand (a name
 * or an IP address; --servername replaces it), NULL on a server.  NULL and
 * err on failure. */
struct tls *tls_open(struct tls_ctx *c, int fd, const char *host, char *err, size_t size);
/* Run the handshake until deadline (clock.h, -1: none), then check a pin.
 * 0, or -1 with the reason in words in err: a verify error with a hint, the
 * names a certificate holds when the name does not match, the pin seen, a
 * version refused.  errno ETIMEDOUT when the deadline passed. */
int tls_handshake(struct tls *t, int64_t deadline, char *err, size_t size);
/* After the handshake: -v lines on stderr (protocol, cipher, peer subject,
 * peer pin). */
void tls_report(struct tls *t);

/* Move data.  tls_read: > 0 bytes, 0 at the peer's close_notify, -1 with
 * errno EAGAIN (poll for tls_events), EPIPE (TCP closed without
 * close_notify: possibly truncated), or EPROTO/another errno with the reason
 * in tls_error.  tls_write: bytes taken (> 0), or -1 and errno as read's.
 * tls_pending: decrypted bytes ready without a read of the socket. */
ssize_t tls_read(struct tls *t, void *buf, size_t len);
ssize_t tls_write(struct tls *t, const void *buf, size_t len);
size_t tls_pending(struct tls *t);
/* Send close_notify (our direction ends): 0 once sent, -1 with errno
 * EAGAIN to be called again when tls_events says. */
int tls_shutdown(struct tls *t);
/* The poll events the last EAGAIN was waiting for (POLLIN or POLLOUT). */
short tls_events(const struct tls *t);
const char *tls_error(const struct tls *t);
int tls_fd(const struct tls *t); /* the socket given to tls_open */
void tls_close(struct tls *t); /* frees; does not close the socket */

/* What a command run for the connection (-e) learns, "NAME=value" strings:
 * TLS_PROTOCOL, TLS_CIPHER, TLS_SNI (when the client sent one),
 * TLS_PEER_SUBJECT (RFC 2253, one line) and TLS_PEER_PIN (when the peer
 * showed a certificate).  NULL-terminated. */
#define TLS_ENV_MAX 6
struct tls_env {
	char *env[TLS_ENV_MAX];
	char buf[TLS_ENV_MAX][320];
};
void tls_env(struct tls *t, struct tls_env *e);

#endif
