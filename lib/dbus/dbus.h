/* dbus: the D-Bus wire protocol, written from the specification.
 *
 * Files: values in arenas and the error helper (arena.c), marshalling and
 * validation (marshal.c, validate.c, wire.h), messages (message.c),
 * busctl's argument syntax and the terse and JSON printers (text.c),
 * bus-monitor's layouts (monitor.c), and the connection: addresses, SASL
 * EXTERNAL, Hello, send/receive, replies (address.c, auth.c, conn.c).
 * This header is what applets use; client.h holds the steps underneath
 * (address records, the SASL client, raw writes) for lib/dbus and its
 * tests.  Beside them, with their own headers: the introspection XML reader and
 * writer (introspect.c), match rules (match.c), pcap captures (pcap.c).
 * Everything received is validated before use: lengths, alignment,
 * padding, signatures, names, UTF-8, nesting depth.
 *
 * Prefix: dbus_.  Functions that can fail return 0 on success and -1 on
 * failure with a one-line reason in *err (no "ipcbox APPLET:" prefix; the
 * applet adds that). */
#ifndef IPCBOX_DBUS_H
#define IPCBOX_DBUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Protocol limits (spec "Message Protocol", reference/dbus.md section 0). */
#define DBUS_MAX_MESSAGE (128u * 1024 * 1024)
#define DBUS_MAX_ARRAY (64u * 1024 * 1024)
#define DBUS_MAX_SIGNATURE 255
#define DBUS_MAX_NAME 255
#define DBUS_MAX_PATH (64u * 1024) /* our cap, as sd-bus after CVE-2019-6454 */
#define DBUS_MAX_ARRAY_DEPTH 32
#define DBUS_MAX_STRUCT_DEPTH 32
#define DBUS_MAX_TOTAL_DEPTH 64

struct dbus_err {
	char msg[256];
};
/* What functions with a deadline return when it passed (with *err set);
 * other failures are -1. */
#define DBUS_TIMED_OUT (-2)
/* What the dbus_conn_open functions return (with *err set) when the address
 * is malformed or names nothing this client can connect to: an applet's
 * exit 2, told apart from a bus that cannot be reached. */
#define DBUS_BAD_ADDRESS (-4)
/* Format a reason into e (if not NULL) and return -1. */
int dbus_err_set(struct dbus_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- values ------------------------------------------------------------ */

/* One D-Bus value.  type is the type code: y b n q i u x t d h s o g, or
 * 'a' (array), '(' (struct), '{' (dict entry), 'v' (variant).
 * sig: the complete signature of this value ("a{sv}", "(is)", "v", "s").
 * Scalars: y b q u t h in u (b is 0 or 1), n i x in i, d in d.
 * Strings (s o g): str, len bytes, NUL-terminated.
 * Containers: n children in items.  An array's children are its elements
 * (each of the element signature); a struct's or dict entry's children are
 * its fields; a variant has exactly one child, whose sig is the contained
 * signature. */
struct dbus_value {
	char type;
	const char *sig;
	uint32_t n; /* children, or string length */
	union {
		uint64_t u;
		int64_t i;
		double d;
		char *str;
		struct dbus_value *items;
	} v;
};

/* All values of one message (or one parse of arguments) live in one arena,
 * freed at once. */
struct dbus_arena;
struct dbus_arena *dbus_arena_new(void);
void *dbus_arena_alloc(struct dbus_arena *a, size_t size); /* zeroed; aborts on OOM */
char *dbus_arena_strndup(struct dbus_arena *a, const char *s, size_t len);
void dbus_arena_free(struct dbus_arena *a);

/* ---- validation -------------------------------------------------------- */

/* Each returns 1 if valid, 0 if not. */
int dbus_valid_signature(const char *sig, size_t len);  /* 0..n complete types */
int dbus_valid_single_type(const char *sig, size_t len); /* exactly one */
int dbus_valid_path(const char *s, size_t len);
int dbus_valid_interface(const char *s, size_t len); /* also error names */
int dbus_valid_member(const char *s, size_t len);
int dbus_valid_bus_name(const char *s, size_t len); /* unique or well-known */
int dbus_valid_utf8(const char *s, size_t len);     /* strict, no NUL */

/* ---- messages ---------------------------------------------------------- */

enum {
	DBUS_METHOD_CALL = 1,
	DBUS_METHOD_RETURN = 2,
	DBUS_ERROR = 3,
	DBUS_SIGNAL = 4,
};
enum {
	DBUS_FLAG_NO_REPLY_EXPECTED = 0x1,
	DBUS_FLAG_NO_AUTO_START = 0x2,
	DBUS_FLAG_ALLOW_INTERACTIVE_AUTH = 0x4,
};

/* A message, parsed or to be built.  Absent header fields are NULL / 0.
 * signature is "" for an empty body.  body holds nbody top-level values. */
struct dbus_msg {
	char endian; /* 'l' or 'B' */
	uint8_t type, flags, version;
	uint32_t serial, reply_serial, unix_fds;
	const char *path, *interface, *member, *error_name;
	const char *destination, *sender, *signature;
	struct dbus_value *body;
	uint32_t nbody;
	struct dbus_arena *arena; /* owns everything above after a parse */
};

/* From the first 16 bytes of a message: its total length (header, padding
 * and body), or 0 with *err if the prefix is invalid or the total exceeds
 * DBUS_MAX_MESSAGE.  Computed in 64 bits; call before allocating. */
size_t dbus_msg_length(const uint8_t *prefix16, struct dbus_err *err);

/* Parse and validate one whole message buf[0..len), either byte order.
 * On success m is filled and owns a new arena (free with dbus_msg_free). */
int dbus_msg_parse(struct dbus_msg *m, const uint8_t *buf, size_t len, struct dbus_err *err);
void dbus_msg_free(struct dbus_msg *m);

/* Marshal m (header fields from m, body values per m->signature) in byte
 * order m->endian ('l' if 0).  *out is malloc'd; the caller frees it. */
int dbus_msg_build(const struct dbus_msg *m, uint8_t **out, size_t *len, struct dbus_err *err);

/* ---- argument text and printers (busctl syntax) ------------------------ */

/* Parse argv[0..argc) as values of signature sig in busctl's syntax: one
 * word per value, arrays as a count then elements, variants as a signature
 * then the value, structs and dict entries inline; booleans true/false/yes/
 * no/on/off/1/0; numbers strict with range checks.  All words must be used.
 * Values are allocated in arena a. */
int dbus_text_parse(struct dbus_arena *a, const char *sig, int argc, char **argv,
		    struct dbus_value **vals, uint32_t *n, struct dbus_err *err);

/* Split text (NUL-terminated; modified) at spaces, tabs and newlines into
 * words and parse them as dbus_text_parse does: how bus-serve turns its
 * command's output into a reply.  More than DBUS_TEXT_MAX_WORDS words is an
 * error ("too many words"). */
#define DBUS_TEXT_MAX_WORDS 65536
int dbus_text_parse_words(struct dbus_arena *a, const char *sig, char *text, struct dbus_value **vals,
			  uint32_t *n, struct dbus_err *err);

/* busctl's terse output: the signature, then each value in the same syntax
 * as the input, strings C-escaped and quoted: 'su "hello" 5'.  No newline. */
void dbus_print_terse(FILE *f, const char *sig, const struct dbus_value *vals, uint32_t n);
/* The values as busctl's input words (what dbus_text_parse takes back),
 * each ended by a NUL byte: strings as they are (no quotes, no escapes),
 * arrays as their count then the elements, variants as their signature
 * then the value.  For a command's argv (bus-serve --argv). */
void dbus_print_words(FILE *f, const struct dbus_value *vals, uint32_t n);
/* busctl --json=short's shape, lossless: {"type":SIG,"data":[...]}.  Dicts
 * with string keys are JSON objects; dicts with other keys are arrays of
 * [key, value] pairs.  64-bit integers are printed exactly. No newline. */
void dbus_print_json(FILE *f, const char *sig, const struct dbus_value *vals, uint32_t n);
/* One value in JSON (as an element of "data" above). */
void dbus_print_json_value(FILE *f, const struct dbus_value *v);

/* dbus-monitor's layout (its tools/dbus-print-message.c): the header line
 * ("method call time=S.U sender=A -> destination=B serial=N path=P;
 * interface=I; member=M"), then one line per argument, 3 spaces of indent
 * per depth.  sec/usec: the receive time. */
void dbus_print_monitor(FILE *f, const struct dbus_msg *m, long long sec, long usec);
/* The same without " time=S.U" (bus-diagram's tooltips: the time is in the
 * drawing's margin). */
void dbus_print_monitor_untimed(FILE *f, const struct dbus_msg *m);
/* bus-monitor --json: one object a line, {"time","type","sender",
 * "destination","serial","reply_serial","path","interface","member",
 * "error_name","signature","body"}; absent header fields are null, body is
 * dbus_print_json's object.  sec/usec: the receive time. */
void dbus_print_monitor_json(FILE *f, const struct dbus_msg *m, long long sec, long usec);
/* dbus-monitor --profile's layout (reference/field.md 2.3): the two-line
 * header, which goes once before the first message; then per message its
 * kind (mc, mr, err, sig), time, serial, sender and destination, and either
 * path, interface and member (calls, signals) or the reply serial
 * (returns, errors: dbus-monitor prints no error name); "<none>" for an
 * absent field, "tun" and the time alone for an unknown message type. */
void dbus_print_monitor_profile_header(FILE *f);
void dbus_print_monitor_profile(FILE *f, const struct dbus_msg *m, long long sec, long usec);
/* bus-listen's line, "SENDER PATH INTERFACE.MEMBER ARGS" (the arguments in
 * dbus_print_terse's format, absent when there are none; an absent sender
 * is empty); verbose puts "S.UUUUUU SERIAL " in front. */
void dbus_print_listen_line(FILE *f, const struct dbus_msg *m, int verbose, long long sec,
			    long usec);
/* bus-listen --json: {"time","sender","path","interface","member","serial",
 * "signature","data"}, data the array bus-call --json prints under "data";
 * absent fields null (the signature ""). */
void dbus_print_listen_json(FILE *f, const struct dbus_msg *m, long long sec, long usec);

/* ---- connection -------------------------------------------------------- */

struct dbus_conn {
	int fd;
	uint32_t next_serial;
	char *unique_name; /* from Hello */
	uint8_t *rbuf;     /* received bytes; rbuf[rpos..rlen) not yet consumed */
	size_t rpos, rlen, rcap;
	char guid[33];     /* the server's, from authentication */
	pid_t child;       /* unixexec: the command, until reaped (else 0) */
	int child_status;  /* its status once reaped (as spawn_wait), else -1 */
};

enum { DBUS_BUS_SESSION, DBUS_BUS_SYSTEM };
/* The address to use: explicit, else the bus's default (DESIGN: session from
 * $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus; system from
 * $DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket). */
const char *dbus_default_address(int bus, struct dbus_err *err);
/* Connect to the first address of a ';'-list that works, authenticate with
 * SASL EXTERNAL and send Hello, all before the monotonic deadline_ms
 * (CLOCK_NO_DEADLINE: none).  A unixexec:
 * address starts a command, which dbus_conn_close (or the end of the
 * connection) reaps. */
int dbus_conn_open(struct dbus_conn *c, const char *address, int64_t deadline_ms,
		   struct dbus_err *err);
/* dbus_conn_open, and first (a method call) sent in the same write as the
 * authentication and Hello, with serial 2, when it is at most 64 KiB (a
 * bigger one goes once the bus has said OK): its reply costs no round trip
 * of its own.  Wait for it with dbus_conn_await. */
int dbus_conn_open_call(struct dbus_conn *c, const char *address, struct dbus_msg *first,
			int64_t deadline_ms, struct dbus_err *err);
/* The same without Hello: the connection is authenticated and nothing
 * more, for a bridge that carries another client's messages (that client
 * says Hello itself).  c->guid is the bus's. */
int dbus_conn_open_unregistered(struct dbus_conn *c, const char *address, int64_t deadline_ms,
				struct dbus_err *err);
/* The bytes the connection has read but not parsed yet (rbuf[rpos..rlen)):
 * what a bridge passes on as they are after authenticating. */
const uint8_t *dbus_conn_unread(const struct dbus_conn *c, size_t *len);
/* Close the connection; a unixexec command gets a moment to end on its
 * own, then SIGTERM, and is reaped. */
void dbus_conn_close(struct dbus_conn *c);
/* Assign the next serial to m and send it. */
int dbus_conn_send(struct dbus_conn *c, struct dbus_msg *m, struct dbus_err *err);
/* Receive the next message before the monotonic deadline (ms since an
 * arbitrary epoch, from lib/clock.h; < 0: none).  Returns 0, -1 on error,
 * DBUS_TIMED_OUT. */
int dbus_conn_recv(struct dbus_conn *c, struct dbus_msg *m, int64_t deadline_ms,
		   struct dbus_err *err);
/* The same, and also *raw: a malloc'd copy of the message's bytes as
 * received (*rawlen of them), for captures; the caller frees it. */
int dbus_conn_recv_raw(struct dbus_conn *c, struct dbus_msg *m, uint8_t **raw, size_t *rawlen,
		       int64_t deadline_ms, struct dbus_err *err);
/* Send a method call and wait for its reply (METHOD_RETURN or ERROR, matched
 * by REPLY_SERIAL), skipping other traffic.  Returns as dbus_conn_recv. */
int dbus_conn_call(struct dbus_conn *c, struct dbus_msg *call, struct dbus_msg *reply,
		   int64_t deadline_ms, struct dbus_err *err);
/* Wait for the reply to call, already sent (dbus_conn_open_call,
 * dbus_conn_send), as dbus_conn_call does after sending. */
int dbus_conn_await(struct dbus_conn *c, const struct dbus_msg *call, struct dbus_msg *reply,
		    int64_t deadline_ms, struct dbus_err *err);

/* ---- replies ----------------------------------------------------------- */

/* Each sends before the monotonic deadline (CLOCK_NO_DEADLINE: none) and
 * returns 0, -1 with *err, or DBUS_TIMED_OUT; a call flagged
 * NO_REPLY_EXPECTED gets nothing sent (0). */

/* Send r (its type, error name, signature and body) as the reply to call:
 * REPLY_SERIAL and DESTINATION are set from call. */
int dbus_conn_reply(struct dbus_conn *c, const struct dbus_msg *call, struct dbus_msg *r,
		    int64_t deadline_ms, struct dbus_err *err);
/* A METHOD_RETURN whose body is the string s. */
int dbus_conn_reply_string(struct dbus_conn *c, const struct dbus_msg *call, const char *s,
			   int64_t deadline_ms, struct dbus_err *err);
/* An ERROR named name whose body is the string text. */
int dbus_conn_reply_error(struct dbus_conn *c, const struct dbus_msg *call, const char *name,
			  const char *text, int64_t deadline_ms, struct dbus_err *err);
/* org.freedesktop.DBus.Peer, which every connection answers: Ping with an
 * empty reply, GetMachineId with the machine's id (/etc/machine-id, else
 * /var/lib/dbus/machine-id; the error FileNotFound if neither holds one).
 * 1 if call was one of the two (answered), 0 if not (nothing sent), -1
 * with *err, DBUS_TIMED_OUT. */
int dbus_conn_answer_peer(struct dbus_conn *c, const struct dbus_msg *call, int64_t deadline_ms,
			  struct dbus_err *err);
/* Answer a method call that reached this client while it waited for
 * something else: the Peer methods as dbus_conn_answer_peer, anything else
 * the error UnknownMethod; other messages are left alone.  0, -1 with
 * *err, DBUS_TIMED_OUT. */
int dbus_conn_answer(struct dbus_conn *c, const struct dbus_msg *call, int64_t deadline_ms,
		     struct dbus_err *err);

/* ---- addresses and bridges --------------------------------------------- */

/* The address busctl -H builds, for ipcbox: run "ipcbox bus-bridge" on
 * [USER@]HOST through "ssh -xT", with --system if system is set:
 *     unixexec:path=ssh,argv1=-xT,argv2=HOST,argv3=ipcbox,argv4=bus-bridge
 * HOST is %-escaped.  A host ssh would take for an option (a leading '-'),
 * an empty one, or one with blanks or control bytes is refused: -1 with
 * *err. */
int dbus_address_for_host(char *out, size_t size, const char *host, int system,
			  struct dbus_err *err);

/* A bridge's side of SASL with its client (bus-bridge: the server side),
 * the whole exchange with a client reading from in and writing to out:
 * the NUL byte first, then lines until BEGIN.  Bytes after BEGIN (the
 * client's first messages) go into extra (extra_cap of room, at least
 * DBUS_AUTH_LINE_MAX) and are counted in *nextra.  0, -1 with *err,
 * DBUS_TIMED_OUT on timeout. */
#define DBUS_AUTH_LINE_MAX 16384
int dbus_auth_serve(int in, int out, const char *guid, int64_t deadline_ms, uint8_t *extra,
		    size_t extra_cap, size_t *nextra, struct dbus_err *err);

#endif
