/* wire: internals shared by the dbus marshaller, message code and text
 * parser (not for applets; they use dbus.h).
 *
 * A signature is compiled into a tree of struct dbus_type once; the writer
 * and the reader walk that tree beside the values.  Recursion in both is
 * bounded by an explicit depth counter (containers and variants, at most
 * DBUS_MAX_TOTAL_DEPTH), never by the input alone. */
#ifndef IPCBOX_DBUS_WIRE_H
#define IPCBOX_DBUS_WIRE_H

#include "dbus.h"

/* One complete type: code is its first character; sig its whole text
 * (NUL-terminated); kids: the element type of an array (n = 1) or the
 * fields of a struct or dict entry. */
struct dbus_type {
	char code;
	uint8_t align;  /* 1, 2, 4 or 8 */
	uint8_t fixed;  /* size if a fixed-size basic type, else 0 */
	uint32_t n;
	const char *sig;
	struct dbus_type *kids;
};

/* Keep a parse from turning a 128 MiB message into gigabytes of values
 * (each value takes 32 bytes: an `ay` of over 32 MiB is refused). */
#define DBUS_PARSE_MEMORY_MAX ((size_t)1 << 30)

/* Bytes handed out by an arena so far (the parser's memory budget). */
size_t dbus_arena_used(const struct dbus_arena *a);

/* Length of the complete type at the start of sig[0..len), or 0 if it does
 * not start with one valid complete type. */
size_t dbus_sig_next(const char *sig, size_t len);
/* 1 if c is a basic type code (y b n q i u x t d h s o g). */
int dbus_is_basic(char c);
/* Alignment of a type code, and the size of a fixed-size basic type (else 0). */
unsigned dbus_type_align(char c);
unsigned dbus_type_fixed(char c);

/* Compile a valid signature sig[0..len) into *n types in arena a (an
 * array allocated there).  Returns -1 if the signature is invalid. */
int dbus_type_compile(struct dbus_arena *a, const char *sig, size_t len,
		      struct dbus_type **types, uint32_t *n);

/* ---- writer: a growable buffer; offsets count from the message start --- */
struct dbus_wbuf {
	uint8_t *b;
	size_t len, cap;
	int be; /* big-endian */
};
void dbus_w_pad(struct dbus_wbuf *w, unsigned align);
void dbus_w_u8(struct dbus_wbuf *w, uint8_t v);
void dbus_w_u32(struct dbus_wbuf *w, uint32_t v);
/* Store v at an offset already written (a length placeholder). */
void dbus_w_put_u32(struct dbus_wbuf *w, size_t off, uint32_t v);
/* Write value v of type t (validating it: UTF-8, paths, signatures,
 * booleans, array sizes, depth). */
int dbus_w_value(struct dbus_wbuf *w, struct dbus_arena *a, const struct dbus_type *t,
		 const struct dbus_value *v, unsigned depth, struct dbus_err *err);

/* ---- reader: b[0..len) is the whole message; pos an absolute offset ---- */
struct dbus_rbuf {
	const uint8_t *b;
	size_t len, pos;
	int be;
	uint32_t unix_fds; /* 'h' values must be below this */
	struct dbus_arena *a;
};
int dbus_r_pad(struct dbus_rbuf *r, unsigned align, struct dbus_err *err);
int dbus_r_u8(struct dbus_rbuf *r, uint8_t *v, struct dbus_err *err);
int dbus_r_u32(struct dbus_rbuf *r, uint32_t *v, struct dbus_err *err);
/* Read and validate a signature ('g' wire form) into the arena. */
int dbus_r_sig(struct dbus_rbuf *r, const char **sig, uint32_t *len, struct dbus_err *err);
/* Read and validate one value of type t into *v. */
int dbus_r_value(struct dbus_rbuf *r, const struct dbus_type *t, struct dbus_value *v,
		 unsigned depth, struct dbus_err *err);

#endif
