/* Unit tests for lib/dbus (validation, marshalling, messages, argument
 * text and printers).  Usage: dbus_wire [GROUP]; with no GROUP every group
 * runs.  Exit 1 if any check in the chosen groups failed, each failure
 * printed as FILE:LINE and what was expected.  Also, for the tests with
 * GLib (tests/dbus-wire-glib.py): dbus_wire encode l|B SIG WORD... writes a
 * message to stdout, dbus_wire decode prints the body of the message on
 * stdin; dbus_wire mkcorpus DIR writes the fuzz seeds; dbus_wire bench
 * FILE N times parse and build.
 *
 * Malformed messages are assembled byte by byte with the small writer
 * below (not with the library's), in both byte orders, so that each case
 * of reference/dbus.md section 5.3 can be produced exactly. */
#include "lib/dbus/dbus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* ---- a hand assembler for raw messages --------------------------------- */

struct hb {
	uint8_t b[160 * 1024];
	size_t n, body;
	int be;
};
static struct hb H; /* big: static */

static void hb_u8(struct hb *h, unsigned v) { h->b[h->n++] = (uint8_t)v; }
static void hb_pad(struct hb *h, unsigned a) { while (h->n % a) hb_u8(h, 0); }
static void hb_raw(struct hb *h, const void *p, size_t n) { memcpy(h->b + h->n, p, n); h->n += n; }

/* Store a u32 at off in the message's byte order (no padding). */
static void hb_put32(struct hb *h, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		h->b[off + i] = (uint8_t)(v >> (h->be ? 8 * (3 - i) : 8 * i));
}

static void hb_u32(struct hb *h, uint32_t v) { hb_pad(h, 4); hb_put32(h, h->n, v); h->n += 4; }

static void hb_u64(struct hb *h, uint64_t v)
{
	hb_pad(h, 8);
	for (int i = 0; i < 8; i++)
		h->b[h->n + i] = (uint8_t)(v >> (h->be ? 8 * (7 - i) : 8 * i));
	h->n += 8;
}

/* u32 length, bytes, NUL. */
static void hb_str(struct hb *h, const char *s, size_t n)
{
	hb_u32(h, (uint32_t)n);
	hb_raw(h, s, n);
	hb_u8(h, 0);
}

/* u8 length, bytes, NUL. */
static void hb_sig(struct hb *h, const char *s)
{
	hb_u8(h, (unsigned)strlen(s));
	hb_raw(h, s, strlen(s) + 1);
}

/* The 16-byte prefix; body and fields lengths are patched by hb_fields_end
 * and hb_end. */
static void hb_begin(struct hb *h, char endian, unsigned type, uint32_t serial)
{
	h->n = 0;
	h->be = endian == 'B';
	hb_u8(h, (unsigned char)endian);
	hb_u8(h, type);
	hb_u8(h, 0);
	hb_u8(h, 1);
	hb_u32(h, 0);
	hb_u32(h, serial);
	hb_u32(h, 0);
}

/* A header field holding a string-like value (type o, s or g). */
static void hb_fstr(struct hb *h, unsigned code, char type, const char *s)
{
	char sig[2] = {type, 0};
	hb_pad(h, 8);
	hb_u8(h, code);
	hb_sig(h, sig);
	if (type == 'g')
		hb_sig(h, s);
	else
		hb_str(h, s, strlen(s));
}

/* A header field holding a u32. */
static void hb_fu32(struct hb *h, unsigned code, uint32_t v)
{
	hb_pad(h, 8);
	hb_u8(h, code);
	hb_sig(h, "u");
	hb_u32(h, v);
}

static void hb_fields_end(struct hb *h)
{
	hb_put32(h, 12, (uint32_t)(h->n - 16));
	hb_pad(h, 8);
	h->body = h->n;
}

static void hb_end(struct hb *h) { hb_put32(h, 4, (uint32_t)(h->n - h->body)); }

/* A method call header with path /a, member M and body signature sig. */
static void hb_call(struct hb *h, char endian, const char *sig)
{
	hb_begin(h, endian, DBUS_METHOD_CALL, 7);
	hb_fstr(h, 1, 'o', "/a");
	hb_fstr(h, 3, 's', "M");
	if (sig)
		hb_fstr(h, 8, 'g', sig);
	hb_fields_end(h);
}

/* Parse H and expect failure with want in the message. */
static void expect_reject(const char *what, char endian, const char *want)
{
	struct dbus_msg m;
	struct dbus_err err = {""};

	if (dbus_msg_parse(&m, H.b, H.n, &err) == 0) {
		fprintf(stderr, "reject %s (%c): accepted\n", what, endian);
		failures++;
		dbus_msg_free(&m);
	} else if (!strstr(err.msg, want)) {
		fprintf(stderr, "reject %s (%c): error '%s', expected '%s'\n", what, endian, err.msg, want);
		failures++;
	}
}

/* Parse H and expect success. */
static int expect_accept(const char *what, char endian, struct dbus_msg *m)
{
	struct dbus_err err = {""};

	if (dbus_msg_parse(m, H.b, H.n, &err) < 0) {
		fprintf(stderr, "accept %s (%c): %s\n", what, endian, err.msg);
		failures++;
		return -1;
	}
	return 0;
}

/* ---- group: signatures, paths, names, UTF-8 (reference 2.5) ------------ */

static char *repeat(const char *pre, int n, const char *mid, const char *post, int m)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	b[0] = 0;
	for (int i = 0; i < n; i++)
		strcat(b, pre);
	strcat(b, mid);
	for (int i = 0; i < m; i++)
		strcat(b, post);
	return b;
}

static void test_signatures(void)
{
	const char *good[] = {"", "sss", "ai", "(i)", "a{ss}", "sssusa(uuubbba(uu)uuuu)a{u(uuuvas)}",
			      "v", "av", "a{sv}", "aa{sv}", "a(iay)", "h", "a{oa{sa{sv}}}", "(((s)))"};
	const char *bad[] = {"w", "a", "aaaaaa", "ii(ii)a", "ia", ")", "i)", "a)", "(", "(i", "(ai",
			     "()", "(())", "a()", "i()", "()i", "(a)", "a{ia}", "a{}", "a{aii}",
			     "a{(ii)i}", "a{i}", "{is}", "a{isi}", " ", ".", "123", "{ss}",
			     "(ta{ya{da{ya{yaq}}})}", "r", "e", "m", "*", "?", "@", "&", "^",
			     "a{vs}", "a{s}", "(}", "a{s)", "{"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!dbus_valid_signature(good[i], strlen(good[i])))
			fprintf(stderr, "signature '%s' refused\n", good[i]), failures++;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (dbus_valid_signature(bad[i], strlen(bad[i])))
			fprintf(stderr, "signature '%s' accepted\n", bad[i]), failures++;
	/* depth limits: 32 arrays or 32 parens are fine, 33 are not */
	CHECK(dbus_valid_signature(repeat("a", 32, "d", "", 0), 33));
	CHECK(!dbus_valid_signature(repeat("a", 33, "u", "", 0), 34));
	CHECK(dbus_valid_signature(repeat("(", 32, "s", ")", 32), 65));
	CHECK(!dbus_valid_signature(repeat("(", 33, "s", ")", 33), 67));
	CHECK(dbus_valid_signature(repeat("a{s", 32, "y", "}", 32), 129));
	CHECK(!dbus_valid_signature(repeat("a{s", 33, "y", "}", 33), 133));
	/* length: 255 bytes ok, 256 not */
	CHECK(dbus_valid_signature(repeat("y", 255, "", "", 0), 255));
	CHECK(!dbus_valid_signature(repeat("y", 256, "", "", 0), 256));
	/* embedded NUL */
	CHECK(!dbus_valid_signature("s\0s", 3));
	/* single complete type */
	CHECK(dbus_valid_single_type("a{sv}", 5));
	CHECK(dbus_valid_single_type("(ii)", 4));
	CHECK(!dbus_valid_single_type("ii", 2));
	CHECK(!dbus_valid_single_type("", 0));
	CHECK(!dbus_valid_single_type("a", 1));
}

static void test_paths(void)
{
	const char *good[] = {"/", "/foo", "/foo/bar", "/org/freedesktop/DBus", "/a_b/C9/_"};
	const char *bad[] = {"", "bar", "/foo/", "//", "boo//blah", "/foo//bar", "/foo/aaaäöä",
			     "foo bar", "/foo bar", "/a-b", "/a.b", "/a/"};
	static char big[DBUS_MAX_PATH + 2];
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!dbus_valid_path(good[i], strlen(good[i])))
			fprintf(stderr, "path '%s' refused\n", good[i]), failures++;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (dbus_valid_path(bad[i], strlen(bad[i])))
			fprintf(stderr, "path '%s' accepted\n", bad[i]), failures++;
	/* the 64 KiB cap: exactly the cap is fine, one more byte is not */
	memset(big, 'a', sizeof big);
	big[0] = '/';
	CHECK(dbus_valid_path(big, DBUS_MAX_PATH));
	CHECK(!dbus_valid_path(big, DBUS_MAX_PATH + 1));
	CHECK(!dbus_valid_path("/a\0b", 4));
}

static void test_names(void)
{
	const char *iface_good[] = {"a.b", "org.freedesktop.DBus", "_a._b", "A9.b_c.D"};
	const char *iface_bad[] = {"Foo", ".Foo.Bar", "Foo.Bar.", "foo..bar", "9foo.bar",
				   "foo.Bar!!", ":1.2", "", "a.9b", "a-b.c", "a.b-c"};
	const char *bus_good[] = {":1.42", ":1.0", "org.freedesktop.DBus", "a.b", "a-b.c-d", "_x.y",
				  ":a.b", ":1.2.3", ":-.-"};
	const char *bus_bad[] = {"", ":", ":1", ":0", ":a", "a", ".a.b", "a.b.", "a..b", "1a.b",
				 "a.1b", "a b.c", "a.b!", ":1..2", "::1.2", ":.1"};
	const char *member_good[] = {"Hello", "_x", "a9", "GetNameOwner"};
	const char *member_bad[] = {"", "9a", "Get.Id", "a-b", "a b", "ä"};
	static char big[300];

	for (size_t i = 0; i < sizeof iface_good / sizeof *iface_good; i++)
		if (!dbus_valid_interface(iface_good[i], strlen(iface_good[i])))
			fprintf(stderr, "interface '%s' refused\n", iface_good[i]), failures++;
	for (size_t i = 0; i < sizeof iface_bad / sizeof *iface_bad; i++)
		if (dbus_valid_interface(iface_bad[i], strlen(iface_bad[i])))
			fprintf(stderr, "interface '%s' accepted\n", iface_bad[i]), failures++;
	for (size_t i = 0; i < sizeof bus_good / sizeof *bus_good; i++)
		if (!dbus_valid_bus_name(bus_good[i], strlen(bus_good[i])))
			fprintf(stderr, "bus name '%s' refused\n", bus_good[i]), failures++;
	for (size_t i = 0; i < sizeof bus_bad / sizeof *bus_bad; i++)
		if (dbus_valid_bus_name(bus_bad[i], strlen(bus_bad[i])))
			fprintf(stderr, "bus name '%s' accepted\n", bus_bad[i]), failures++;
	for (size_t i = 0; i < sizeof member_good / sizeof *member_good; i++)
		if (!dbus_valid_member(member_good[i], strlen(member_good[i])))
			fprintf(stderr, "member '%s' refused\n", member_good[i]), failures++;
	for (size_t i = 0; i < sizeof member_bad / sizeof *member_bad; i++)
		if (dbus_valid_member(member_bad[i], strlen(member_bad[i])))
			fprintf(stderr, "member '%s' accepted\n", member_bad[i]), failures++;
	/* 255 bytes is the limit for every kind of name */
	memset(big, 'a', sizeof big);
	big[1] = '.';
	CHECK(dbus_valid_interface(big, 255));
	CHECK(!dbus_valid_interface(big, 256));
	CHECK(dbus_valid_bus_name(big, 255));
	CHECK(!dbus_valid_bus_name(big, 256));
	memset(big, 'a', sizeof big);
	CHECK(dbus_valid_member(big, 255));
	CHECK(!dbus_valid_member(big, 256));
}

static void test_utf8(void)
{
	CHECK(dbus_valid_utf8("", 0));
	CHECK(dbus_valid_utf8("plain", 5));
	CHECK(dbus_valid_utf8("\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80", 9)); /* ä € 😀 */
	CHECK(dbus_valid_utf8("\xef\xbf\xbf", 3));                         /* noncharacter U+FFFF */
	CHECK(dbus_valid_utf8("\xf4\x8f\xbf\xbf", 4));                     /* U+10FFFF */
	CHECK(!dbus_valid_utf8("\xc0\x80", 2));                            /* overlong NUL */
	CHECK(!dbus_valid_utf8("\xe0\x80\xaf", 3));                        /* overlong / */
	CHECK(!dbus_valid_utf8("\xed\xa0\x80", 3));                        /* surrogate */
	CHECK(!dbus_valid_utf8("\xf4\x90\x80\x80", 4));                    /* > U+10FFFF */
	CHECK(!dbus_valid_utf8("\xe2\x82", 2));                            /* truncated */
	CHECK(!dbus_valid_utf8("\x80", 1));                                /* lone continuation */
	CHECK(!dbus_valid_utf8("\xff", 1));
	CHECK(!dbus_valid_utf8("a\0b", 3)); /* NUL */
}

/* ---- group: the minimal message and wire vectors (reference 2.3, 2.4) -- */

/* Build m's body from text and return the body bytes' offset in *out. */
static size_t build_text(char endian, const char *sig, int argc, char **argv, uint8_t **out,
			 size_t *len, struct dbus_arena *a)
{
	struct dbus_msg m = {.endian = endian, .type = DBUS_METHOD_CALL, .serial = 1,
			     .path = "/", .member = "M", .signature = sig};
	struct dbus_err err = {""};
	struct dbus_msg p;
	size_t body;

	if (dbus_text_parse(a, sig, argc, argv, &m.body, &m.nbody, &err) < 0 ||
	    dbus_msg_build(&m, out, len, &err) < 0) {
		fprintf(stderr, "build '%s': %s\n", sig, err.msg);
		failures++;
		return 0;
	}
	if (dbus_msg_parse(&p, *out, *len, &err) < 0) {
		fprintf(stderr, "reparse '%s': %s\n", sig, err.msg);
		failures++;
		return 0;
	}
	dbus_msg_free(&p);
	body = *len;
	/* the body length is at offset 4 */
	for (int i = 0; i < 4; i++)
		body -= (size_t)(*out)[4 + (endian == 'B' ? 3 - i : i)] << (8 * i);
	return body;
}

static void test_vectors(void)
{
	static const uint8_t minimal[] = {0x6c, 0x02, 0x00, 0x01, 0, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0,
					  0x05, 0x01, 0x75, 0x00, 1, 0, 0, 0};
	static const uint8_t at5[] = {0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
	static const uint8_t vt5[] = {1, 't', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
	static const uint8_t sss[] = {3, 0, 0, 0, 'f', 'o', 'o', 0, 1, 0, 0, 0, '+', 0, 0, 0,
				      3, 0, 0, 0, 'b', 'a', 'r', 0};
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_err err = {""};
	struct dbus_msg m;
	uint8_t *out = NULL;
	size_t len = 0, body;

	CHECK(dbus_msg_length(minimal, &err) == sizeof minimal);
	if (dbus_msg_parse(&m, minimal, sizeof minimal, &err) == 0) {
		CHECK(m.endian == 'l' && m.type == DBUS_METHOD_RETURN && m.serial == 2);
		CHECK(m.reply_serial == 1 && m.nbody == 0 && !strcmp(m.signature, ""));
		CHECK(!m.path && !m.sender && !m.destination);
		CHECK(dbus_msg_build(&m, &out, &len, &err) == 0);
		CHECK(len == sizeof minimal && !memcmp(out, minimal, len));
		free(out);
		dbus_msg_free(&m);
	} else {
		fprintf(stderr, "minimal message refused: %s\n", err.msg);
		failures++;
	}
	body = build_text('B', "at", 2, (char *[]){"1", "5"}, &out, &len, a);
	CHECK(body && len - body == sizeof at5 && !memcmp(out + body, at5, sizeof at5));
	free(out);
	body = build_text('B', "v", 2, (char *[]){"t", "5"}, &out, &len, a);
	CHECK(body && len - body == sizeof vt5 && !memcmp(out + body, vt5, sizeof vt5));
	free(out);
	body = build_text('l', "sss", 3, (char *[]){"foo", "+", "bar"}, &out, &len, a);
	CHECK(body && len - body == sizeof sss && !memcmp(out + body, sss, sizeof sss));
	free(out);
	dbus_arena_free(a);
}

/* ---- group: the reject list (reference 5.3 items 1-18) ----------------- */

/* Items 1-5: framing, prefix, serials, sizes, padding. */
static void reject_framing(char e)
{
	hb_call(&H, e, NULL);
	hb_end(&H);
	size_t full = H.n;
	H.n = 15;
	expect_reject("fewer than 16 bytes", e, "truncated");
	H.n = full - 3;
	expect_reject("truncated header fields", e, "where the header says");
	hb_call(&H, e, "u");
	hb_u32(&H, 5);
	hb_end(&H);
	H.n -= 2;
	expect_reject("truncated body", e, "where the header says");

	hb_call(&H, e, NULL);
	hb_end(&H);
	H.b[0] = 'x';
	expect_reject("endianness x", e, "byte order");
	H.b[0] = (uint8_t)e, H.b[3] = 2;
	expect_reject("version 2", e, "version");
	H.b[3] = 1, H.b[1] = 0;
	expect_reject("type 0", e, "type 0");
	H.b[1] = 1;
	hb_put32(&H, 8, 0);
	expect_reject("serial 0", e, "serial is 0");

	hb_begin(&H, e, DBUS_METHOD_RETURN, 3);
	hb_fu32(&H, 5, 0);
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("reply serial 0", e, "REPLY_SERIAL is 0");

	hb_call(&H, e, NULL);
	hb_end(&H);
	hb_put32(&H, 12, 0xfffffff0);
	expect_reject("fields length 0xfffffff0", e, "exceed 64 MiB");
	hb_put32(&H, 12, DBUS_MAX_ARRAY + 1);
	expect_reject("fields length 64 MiB + 1", e, "exceed 64 MiB");
	hb_call(&H, e, NULL);
	hb_put32(&H, 4, 0x7fffffff);
	expect_reject("body length 0x7fffffff", e, "exceeds 128 MiB");
	hb_put32(&H, 4, 0xffffffff);
	expect_reject("body length 0xffffffff", e, "exceeds 128 MiB");
	hb_put32(&H, 4, DBUS_MAX_MESSAGE - (uint32_t)H.n + 1);
	expect_reject("total 128 MiB + 1", e, "exceeds 128 MiB");
	CHECK(dbus_msg_length(H.b, NULL) == 0);
	hb_put32(&H, 4, DBUS_MAX_MESSAGE - (uint32_t)H.n);
	CHECK(dbus_msg_length(H.b, NULL) == DBUS_MAX_MESSAGE);

	hb_call(&H, e, NULL);
	hb_end(&H);
	H.b[H.n - 1] = 1; /* the fields end at 42; 43..47 are header padding */
	expect_reject("non-zero header padding", e, "non-zero padding");
	hb_begin(&H, e, DBUS_METHOD_CALL, 7);
	hb_fstr(&H, 1, 'o', "/a");
	H.b[H.n] = 0; /* between the two fields: 8-alignment padding */
	hb_pad(&H, 8);
	H.b[H.n - 1] = 7;
	hb_fstr(&H, 3, 's', "M");
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("non-zero padding between fields", e, "non-zero padding");
	hb_call(&H, e, "yu");
	hb_u8(&H, 1);
	hb_u8(&H, 0);
	hb_u8(&H, 9); /* padding before the u32 */
	hb_u8(&H, 0);
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("non-zero body padding", e, "non-zero padding");
}

/* Items 6-7: field codes, types, duplicates and field signatures. */
static void reject_fields(char e)
{
	hb_call(&H, e, NULL);
	hb_pad(&H, 8);
	hb_u8(&H, 0);
	hb_sig(&H, "u");
	hb_u32(&H, 1);
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("field code 0", e, "code 0");
	hb_call(&H, e, NULL);
	hb_fu32(&H, 2, 5);
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("INTERFACE as u", e, "has type 'u'");
	hb_call(&H, e, NULL);
	hb_fstr(&H, 1, 'o', "/b");
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("duplicate PATH", e, "twice");

	static const struct { const char *sig; const char *what, *want; } sigs[] = {
		{"", "empty field signature", "not one type"},
		{"ii", "two types in a field", "not one type"},
		{"(i", "mis-nested field signature", "invalid signature"},
	};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		hb_call(&H, e, NULL);
		hb_pad(&H, 8);
		hb_u8(&H, 20);
		hb_sig(&H, sigs[i].sig);
		hb_u32(&H, 1);
		hb_u32(&H, 1);
		hb_fields_end(&H);
		hb_end(&H);
		expect_reject(sigs[i].what, e, sigs[i].want);
	}
	hb_call(&H, e, NULL);
	hb_pad(&H, 8);
	hb_u8(&H, 20);
	hb_u8(&H, 0xff); /* signature length 255, longer than the data */
	hb_raw(&H, "u\0\0\0\1\0\0\0", 8);
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("field signature longer than the data", e, "runs past the end");
	hb_call(&H, e, NULL);
	hb_pad(&H, 8);
	hb_u8(&H, 20);
	hb_raw(&H, "\1uu", 3); /* no NUL after the signature */
	hb_pad(&H, 4);
	hb_u32(&H, 1);
	hb_fields_end(&H);
	hb_end(&H);
	expect_reject("field signature without NUL", e, "not NUL-terminated");
	/* an unknown field code with a well-formed value is skipped */
	struct dbus_msg m;
	hb_call(&H, e, NULL);
	hb_pad(&H, 8);
	hb_u8(&H, 200);
	hb_sig(&H, "a{sv}");
	hb_u32(&H, 0);
	hb_pad(&H, 8);
	hb_fields_end(&H);
	hb_end(&H);
	if (expect_accept("unknown field code", e, &m) == 0)
		dbus_msg_free(&m);
}

/* One message of type type with the given header fields (string fields as
 * code=type:value in fields, NULL-terminated), empty body. */
static void hb_fields(char e, unsigned type, const char *const *fields, uint32_t reply)
{
	hb_begin(&H, e, type, 9);
	for (; *fields; fields++)
		hb_fstr(&H, (unsigned)((*fields)[0] - '0'), (*fields)[1], *fields + 2);
	if (reply)
		hb_fu32(&H, 5, reply);
	hb_fields_end(&H);
	hb_end(&H);
}

/* Items 8-10: required fields, the Local path and interface, name syntax. */
static void reject_header(char e)
{
	static char longname[300], longpath[DBUS_MAX_PATH + 4];
	struct dbus_msg m;

	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"3sM", NULL}, 0);
	expect_reject("call without PATH", e, "without PATH");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", NULL}, 0);
	expect_reject("call without MEMBER", e, "without MEMBER");
	hb_fields(e, DBUS_SIGNAL, (const char *[]){"1o/a", "3sM", NULL}, 0);
	expect_reject("signal without INTERFACE", e, "without INTERFACE");
	hb_fields(e, DBUS_ERROR, (const char *[]){NULL}, 3);
	expect_reject("error without ERROR_NAME", e, "without ERROR_NAME");
	hb_fields(e, DBUS_ERROR, (const char *[]){"4sa.Failed", NULL}, 0);
	expect_reject("error without REPLY_SERIAL", e, "without REPLY_SERIAL");
	hb_fields(e, DBUS_METHOD_RETURN, (const char *[]){NULL}, 0);
	expect_reject("return without REPLY_SERIAL", e, "without REPLY_SERIAL");
	hb_fields(e, DBUS_SIGNAL, (const char *[]){"1o/a", "2sa.b", "3sM", NULL}, 0);
	if (expect_accept("complete signal", e, &m) == 0)
		dbus_msg_free(&m);
	hb_fields(e, 9, (const char *[]){NULL}, 0);
	if (expect_accept("unknown message type", e, &m) == 0)
		dbus_msg_free(&m);

	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/org/freedesktop/DBus/Local", "3sM", NULL}, 0);
	expect_reject("Local path", e, "reserved");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "2sorg.freedesktop.DBus.Local", "3sM", NULL}, 0);
	expect_reject("Local interface", e, "reserved");

	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/bad//path", "3sM", NULL}, 0);
	expect_reject("invalid PATH", e, "invalid object path");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "2snodot", "3sM", NULL}, 0);
	expect_reject("invalid INTERFACE", e, "invalid interface");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "3sGet.Id", NULL}, 0);
	expect_reject("invalid MEMBER", e, "invalid member");
	hb_fields(e, DBUS_ERROR, (const char *[]){"4sFailed", NULL}, 1);
	expect_reject("invalid ERROR_NAME", e, "invalid error name");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "3sM", "6s:1", NULL}, 0);
	expect_reject("invalid DESTINATION", e, "invalid destination");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "3sM", "7s1.2", NULL}, 0);
	expect_reject("invalid SENDER", e, "invalid sender");
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", "3sM", "6s:1.42", "7sorg.x", NULL}, 0);
	if (expect_accept("unique and well-known names", e, &m) == 0) {
		CHECK(!strcmp(m.destination, ":1.42") && !strcmp(m.sender, "org.x"));
		dbus_msg_free(&m);
	}
	memset(longname, 'a', sizeof longname - 1);
	longname[0] = '2', longname[1] = 's', longname[3] = '.';
	longname[258] = 0; /* a 256-byte interface name */
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){"1o/a", longname, "3sM", NULL}, 0);
	expect_reject("interface of 256 bytes", e, "invalid interface");
	memset(longpath, 'p', sizeof longpath - 1);
	memcpy(longpath, "1o/", 3);
	longpath[DBUS_MAX_PATH + 1 + 2] = 0; /* 64 KiB + 1 */
	hb_fields(e, DBUS_METHOD_CALL, (const char *[]){longpath, "3sM", NULL}, 0);
	expect_reject("path over 64 KiB", e, "invalid object path");
}

/* Items 11-12: body against signature, fd indexes. */
static void reject_body_size(char e)
{
	hb_call(&H, e, NULL);
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("body without SIGNATURE", e, "without a SIGNATURE");
	hb_call(&H, e, "uu");
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("body shorter than the signature", e, "ends early");
	hb_call(&H, e, "u");
	hb_u32(&H, 1);
	hb_u32(&H, 2);
	hb_end(&H);
	expect_reject("trailing body data", e, "beyond signature");
	hb_call(&H, e, "");
	hb_u8(&H, 0);
	hb_end(&H);
	expect_reject("body with an empty SIGNATURE", e, "beyond signature");

	hb_begin(&H, e, DBUS_METHOD_CALL, 7);
	hb_fstr(&H, 1, 'o', "/a");
	hb_fstr(&H, 3, 's', "M");
	hb_fstr(&H, 8, 'g', "h");
	hb_fu32(&H, 9, 1);
	hb_fields_end(&H);
	size_t at = H.n;
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("fd index equal to UNIX_FDS", e, "file descriptor index");
	hb_put32(&H, at, 0);
	struct dbus_msg m;
	if (expect_accept("fd index below UNIX_FDS", e, &m) == 0) {
		CHECK(m.unix_fds == 1 && m.body[0].type == 'h' && m.body[0].v.u == 0);
		dbus_msg_free(&m);
	}
	hb_call(&H, e, "h");
	hb_u32(&H, 0);
	hb_end(&H);
	expect_reject("fd without UNIX_FDS", e, "file descriptor index");
}

/* Items 13-14: booleans and strings. */
static void reject_strings(char e)
{
	static const struct { const char *bytes; size_t n; const char *what, *want; } strs[] = {
		{"a\0b", 3, "interior NUL", "contains a NUL"},
		{"\xc0\x80", 2, "overlong C0 80", "UTF-8"},
		{"\xed\xa0\x80", 3, "surrogate", "UTF-8"},
		{"\xf4\x90\x80\x80", 4, "above U+10FFFF", "UTF-8"},
		{"x\xe2\x82", 3, "truncated sequence", "UTF-8"},
	};

	hb_call(&H, e, "b");
	hb_u32(&H, 2);
	hb_end(&H);
	expect_reject("boolean 2", e, "not 0 or 1");
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		hb_call(&H, e, "s");
		hb_str(&H, strs[i].bytes, strs[i].n);
		hb_end(&H);
		expect_reject(strs[i].what, e, strs[i].want);
	}
	hb_call(&H, e, "s");
	hb_u32(&H, 100);
	hb_raw(&H, "abc", 4);
	hb_end(&H);
	expect_reject("string past the end", e, "runs past the end");
	hb_call(&H, e, "s");
	hb_u32(&H, 3);
	hb_raw(&H, "abcd", 4);
	hb_end(&H);
	expect_reject("string without NUL", e, "not NUL-terminated");
	hb_call(&H, e, "o");
	hb_str(&H, "/a/", 3);
	hb_end(&H);
	expect_reject("invalid object path value", e, "invalid object path");
	hb_call(&H, e, "g");
	hb_sig(&H, "a{vs}");
	hb_end(&H);
	expect_reject("invalid signature value", e, "invalid signature");
	hb_call(&H, e, "g");
	hb_u8(&H, 5);
	hb_raw(&H, "ab", 3);
	hb_end(&H);
	expect_reject("signature value past the end", e, "runs past the end");
}

/* Item 15: arrays. */
static void reject_arrays(char e)
{
	hb_call(&H, e, "ay");
	hb_u32(&H, DBUS_MAX_ARRAY + 1);
	hb_end(&H);
	expect_reject("array over 64 MiB", e, "64 MiB");
	hb_call(&H, e, "ai");
	hb_u32(&H, 6);
	hb_u32(&H, 1);
	hb_u32(&H, 2);
	hb_end(&H);
	expect_reject("ai of 6 bytes", e, "not a multiple");
	hb_call(&H, e, "at");
	hb_u32(&H, 12);
	hb_u64(&H, 1);
	hb_u64(&H, 2);
	hb_end(&H);
	expect_reject("at of 12 bytes", e, "not a multiple");
	hb_call(&H, e, "as");
	hb_u32(&H, 9); /* one string takes 8 bytes, the second would start at 8 */
	hb_str(&H, "abc", 3);
	hb_str(&H, "de", 2);
	hb_end(&H);
	expect_reject("elements not ending at the length", e, "ends early");
	hb_call(&H, e, "asu");
	hb_u32(&H, 6); /* cuts "abcdef" short */
	hb_str(&H, "abcdef", 6);
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("element running past the length", e, "runs past the end");
	hb_call(&H, e, "ai");
	hb_u32(&H, 8);
	hb_u32(&H, 1);
	hb_end(&H);
	expect_reject("array past the end", e, "runs past the end");
	hb_call(&H, e, "at");
	hb_u32(&H, 0); /* the body is at an 8-aligned offset: 4 padding bytes follow */
	hb_end(&H);
	expect_reject("empty at without padding", e, "ends early");
	hb_u32(&H, 0);
	hb_end(&H);
	struct dbus_msg m;
	if (expect_accept("empty at with padding", e, &m) == 0) {
		CHECK(m.nbody == 1 && m.body[0].n == 0);
		dbus_msg_free(&m);
	}
	H.b[H.n - 1] = 1;
	expect_reject("empty at with non-zero padding", e, "non-zero padding");
}

/* Items 16-18: signatures in the SIGNATURE field, variants, depth, dicts. */
static void reject_types(char e)
{
	const char *sigs[] = {"r", "e", "m", "*", "?", "@", "&", "^", "()", "a", "a{}", "{ss}",
			      "a{vs}", "a{sss}", "a{s}", repeat("a", 33, "y", "", 0),
			      repeat("(", 33, "y", ")", 33)};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		hb_call(&H, e, sigs[i]);
		hb_end(&H);
		expect_reject(sigs[i], e, "invalid signature");
	}
	hb_call(&H, e, "v");
	hb_sig(&H, "ii");
	hb_u32(&H, 1);
	hb_u32(&H, 2);
	hb_end(&H);
	expect_reject("variant with two types", e, "not one complete type");
	hb_call(&H, e, "v");
	hb_sig(&H, "");
	hb_end(&H);
	expect_reject("variant with empty signature", e, "not one complete type");
	hb_call(&H, e, "v");
	hb_sig(&H, "a{vs}");
	hb_u32(&H, 0);
	hb_pad(&H, 8);
	hb_end(&H);
	expect_reject("variant with invalid signature", e, "invalid signature");
	/* variants inside variants: 64 levels are fine, 65 are not */
	for (int depth = 64; depth <= 66; depth++) {
		struct dbus_msg m;
		hb_call(&H, e, "v");
		for (int i = 1; i < depth; i++)
			hb_sig(&H, "v");
		hb_sig(&H, "y");
		hb_u8(&H, 42);
		hb_end(&H);
		if (depth == 64) {
			if (expect_accept("64 nested variants", e, &m) == 0)
				dbus_msg_free(&m);
		} else {
			expect_reject("65+ nested variants", e, "nested more than 64");
		}
	}
	/* a long av chain fills the whole message: stack-safe rejection */
	static size_t lens[5000];
	hb_call(&H, e, "av");
	for (int i = 0; i < 5000; i++) {
		hb_u32(&H, 0);
		lens[i] = H.n;
		hb_sig(&H, "av");
	}
	for (int i = 0; i < 5000; i++) /* each array holds the rest of the message */
		hb_put32(&H, lens[i] - 4, (uint32_t)(H.n - lens[i]));
	hb_end(&H);
	expect_reject("deep av chain", e, "nested more than 64");
	/* duplicate dict keys are accepted */
	struct dbus_msg m;
	hb_call(&H, e, "a{su}");
	size_t at = H.n;
	hb_u32(&H, 0);
	hb_pad(&H, 8);
	size_t start = H.n;
	for (int i = 0; i < 2; i++) {
		hb_pad(&H, 8);
		hb_str(&H, "k", 1);
		hb_u32(&H, (uint32_t)i);
	}
	hb_put32(&H, at, (uint32_t)(H.n - start));
	hb_end(&H);
	if (expect_accept("duplicate dict keys", e, &m) == 0) {
		CHECK(m.body[0].n == 2 && m.body[0].v.items[1].v.items[1].v.u == 1);
		dbus_msg_free(&m);
	}
}

static void test_reject(void)
{
	for (int k = 0; k < 2; k++) {
		char e = k ? 'B' : 'l';
		reject_framing(e);
		reject_fields(e);
		reject_header(e);
		reject_body_size(e);
		reject_strings(e);
		reject_arrays(e);
		reject_types(e);
	}
}

/* ---- group: round trips (both byte orders) ------------------------------ */

/* Deep comparison of two values. */
static int value_eq(const struct dbus_value *a, const struct dbus_value *b)
{
	if (a->type != b->type || strcmp(a->sig, b->sig) || a->n != b->n)
		return 0;
	switch (a->type) {
	case 's': case 'o': case 'g': return !memcmp(a->v.str, b->v.str, a->n + 1);
	case 'd': return !memcmp(&a->v.d, &b->v.d, sizeof a->v.d);
	case 'a': case '(': case '{': case 'v':
		for (uint32_t i = 0; i < a->n; i++)
			if (!value_eq(&a->v.items[i], &b->v.items[i]))
				return 0;
		return 1;
	default: return a->v.u == b->v.u;
	}
}

/* Parse words as sig, build in order e, parse back and compare values. */
static void round_trip(const char *sig, const char *text, char e)
{
	char buf[4096], *words[512];
	int n = 0;
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_msg m = {.endian = e, .type = DBUS_SIGNAL, .serial = 3, .path = "/p",
			     .interface = "a.b", .member = "S", .signature = sig}, p;
	struct dbus_err err = {""};
	uint8_t *out;
	size_t len;

	snprintf(buf, sizeof buf, "%s", text);
	for (char *w = strtok(buf, " "); w && n < 512; w = strtok(NULL, " "))
		words[n++] = strcmp(w, "<>") ? w : (char *)""; /* <> is an empty word */
	if (dbus_text_parse(a, sig, n, words, &m.body, &m.nbody, &err) < 0 ||
	    dbus_msg_build(&m, &out, &len, &err) < 0) {
		fprintf(stderr, "round trip '%s' %s (%c): %s\n", sig, text, e, err.msg);
		failures++;
		dbus_arena_free(a);
		return;
	}
	if (dbus_msg_parse(&p, out, len, &err) < 0) {
		fprintf(stderr, "round trip '%s' (%c): reparse: %s\n", sig, e, err.msg);
		failures++;
	} else {
		int same = p.nbody == m.nbody && p.endian == e && !strcmp(p.signature, sig);
		for (uint32_t i = 0; same && i < m.nbody; i++)
			same = value_eq(&m.body[i], &p.body[i]);
		if (!same)
			fprintf(stderr, "round trip '%s' %s (%c): values differ\n", sig, text, e), failures++;
		dbus_msg_free(&p);
	}
	free(out);
	dbus_arena_free(a);
}

static void test_roundtrip(void)
{
	static const char *const cases[][2] = {
		{"y", "255"}, {"y", "0"}, {"b", "true"}, {"b", "off"},
		{"n", "-32768"}, {"n", "32767"}, {"q", "65535"},
		{"i", "-2147483648"}, {"i", "2147483647"}, {"u", "4294967295"},
		{"x", "-9223372036854775808"}, {"x", "9223372036854775807"},
		{"t", "18446744073709551615"}, {"t", "0"},
		{"d", "3.141592653589793"}, {"d", "-0"}, {"d", "1e308"}, {"d", "4.9e-324"},
		{"d", "inf"}, {"d", "-inf"}, {"d", "nan"},
		{"s", "<>"}, {"s", "with\"quotes'and\\back"}, {"s", "multi\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80"},
		{"s", "line1\nline2\ttab"}, {"o", "/"}, {"o", "/org/example/Obj_1"},
		{"g", "<>"}, {"g", "a{sv}(iay)"},
		{"a{sv}", "3 One s Eins Two u 2 Yes b true"},
		{"aa{sv}", "2 1 k v v s deep 0"},
		{"a(iay)", "2 1 3 97 98 99 -5 0"},
		{"av", "3 v v v i 7 as 2 a b v ay 0"},
		{"as", "0"}, {"a{ss}", "0"}, {"aay", "2 3 1 2 3 0"},
		{"a{sa{sv}}", "1 outer 1 inner v s deep"},
		{"(isb)", "5 foo yes"}, {"a(ii)", "2 1 2 3 4"},
		{"ybnqiuxtdsog", "1 0 -1 2 -3 4 -5 6 0.5 s /o g"},
		{"a{ix}", "2 -1 -9223372036854775808 1 9223372036854775807"},
		{"a{tv}", "1 18446744073709551615 v t 18446744073709551615"},
		{"a{oas}", "1 /a 2 x y"}, {"a{bd}", "2 true 1.5 false -2.25"},
		{"(y(n(q(i(u(x(t(d))))))))", "1 2 3 4 5 6 7 0.125"},
		{"vvv", "y 1 s x g ag"}, {"ad", "3 0.1 1e-300 -1e300"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		round_trip(cases[i][0], cases[i][1], 'l');
		round_trip(cases[i][0], cases[i][1], 'B');
	}
}

/* ---- group: depth limits at and one beyond ------------------------------ */

/* A text like "v v v ... y 1" with n variants. */
static void variant_chain(char *buf, size_t size, int n)
{
	buf[0] = 0;
	for (int i = 1; i < n; i++)
		strncat(buf, "v ", size - strlen(buf) - 1);
	strncat(buf, "y 1", size - strlen(buf) - 1);
}

static void test_depth(void)
{
	char text[512], *words[300];
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *vals;
	uint32_t n;
	struct dbus_err err = {""};

	/* 64 variants (the top-level v and 63 inside): ok; 65: refused */
	variant_chain(text, sizeof text, 64);
	round_trip("v", text, 'l');
	round_trip("v", text, 'B');
	variant_chain(text, sizeof text, 65);
	int nw = 0;
	for (char *w = strtok(text, " "); w; w = strtok(NULL, " "))
		words[nw++] = w;
	CHECK(dbus_text_parse(a, "v", nw, words, &vals, &n, &err) < 0 && strstr(err.msg, "nested"));
	/* 32 arrays and 32 structs, each with one element: depth 64, ok */
	char sig[128];
	const char *structs = repeat("(", 32, "y", ")", 32);
	snprintf(sig, sizeof sig, "%s%s", repeat("a", 32, "", "", 0), structs);
	text[0] = 0;
	for (int i = 0; i < 32; i++)
		strcat(text, "1 ");
	strcat(text, "9");
	round_trip(sig, text, 'l');
	round_trip(sig, text, 'B');
	/* the same in a variant is 65 deep: refused by the text parser... */
	nw = 0;
	words[nw++] = sig;
	for (int i = 0; i < 32; i++)
		words[nw++] = "1";
	words[nw++] = "9";
	CHECK(dbus_text_parse(a, "v", nw, words, &vals, &n, &err) < 0 && strstr(err.msg, "nested"));
	/* ...and by the builder, given values made by hand */
	if (dbus_text_parse(a, sig, nw - 1, words + 1, &vals, &n, &err) == 0) {
		struct dbus_value v = {.type = 'v', .sig = "v", .n = 1, .v.items = vals};
		struct dbus_msg m = {.type = DBUS_METHOD_CALL, .serial = 1, .path = "/", .member = "M",
				     .signature = "v", .body = &v, .nbody = 1};
		uint8_t *out = NULL;
		size_t len;
		CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "nested"));
		free(out);
	} else {
		fprintf(stderr, "depth 64 text: %s\n", err.msg), failures++;
	}
	dbus_arena_free(a);
}

/* ---- group: text parsing ------------------------------------------------ */

/* Parse text (space-separated words) as sig; expect failure with want in
 * the message if want is not NULL, else success. */
static void text_case(const char *sig, const char *text, const char *want)
{
	char buf[1024], *words[256];
	int n = 0;
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *vals;
	uint32_t nv;
	struct dbus_err err = {""};
	int rc;

	snprintf(buf, sizeof buf, "%s", text);
	for (char *w = strtok(buf, " "); w && n < 256; w = strtok(NULL, " "))
		words[n++] = w;
	rc = dbus_text_parse(a, sig, n, words, &vals, &nv, &err);
	if (want && rc == 0)
		fprintf(stderr, "text '%s' %s: accepted\n", sig, text), failures++;
	else if (want && strcmp(err.msg, want) && !strstr(err.msg, want))
		fprintf(stderr, "text '%s' %s: '%s', expected '%s'\n", sig, text, err.msg, want), failures++;
	else if (!want && rc < 0)
		fprintf(stderr, "text '%s' %s: %s\n", sig, text, err.msg), failures++;
	dbus_arena_free(a);
}

static void test_text(void)
{
	text_case("ybnqiuxtd", "255 yes -32768 65535 -2147483648 4294967295 -9223372036854775808 "
			       "18446744073709551615 -1.5e10", NULL);
	text_case("bbbbbbbb", "true yes on 1 false no off 0", NULL);
	text_case("sog", "hello /a/b a{sv}", NULL);
	text_case("as", "3 hello world foobar", NULL);
	text_case("v", "ai 3 1 2 3", NULL);
	text_case("a{sv}", "3 One s Eins Two u 2 Yes b true", NULL);
	text_case("(isb)", "5 foo yes", NULL);
	text_case("a(ii)", "2 1 2 3 4", NULL);
	text_case("a{sa{sv}}", "1 outer 1 inner v s deep", NULL);
	text_case("aay", "2 3 1 2 3 0", NULL);
	text_case("i", "0x10", NULL);
	text_case("", "", NULL);

	text_case("i", "99999999999", "invalid int32 '99999999999': out of range");
	text_case("y", "256", "invalid byte '256': out of range");
	text_case("y", "-1", "invalid byte '-1'");
	text_case("n", "32768", "invalid int16 '32768': out of range");
	text_case("n", "-32769", "invalid int16 '-32769': out of range");
	text_case("q", "65536", "invalid uint16 '65536': out of range");
	text_case("u", "-1", "invalid uint32 '-1'");
	text_case("u", "4294967296", "invalid uint32 '4294967296': out of range");
	text_case("x", "9223372036854775808", "invalid int64 '9223372036854775808': out of range");
	text_case("t", "18446744073709551616", "invalid uint64 '18446744073709551616': out of range");
	text_case("i", "abc", "invalid int32 'abc'");
	text_case("i", "12abc", "invalid int32 '12abc'");
	text_case("i", "1.0", "invalid int32 '1.0'");
	text_case("d", "1e999", "invalid double '1e999': out of range");
	text_case("d", "1.5x", "invalid double '1.5x'");
	text_case("b", "maybe", "invalid boolean 'maybe'");
	text_case("b", "TRUE", "invalid boolean 'TRUE'");
	text_case("b", "2", "invalid boolean '2'");
	text_case("o", "a/b", "invalid object path 'a/b'");
	text_case("o", "/a/", "invalid object path '/a/'");
	text_case("g", "a{vs}", "invalid signature 'a{vs}'");
	text_case("s", "\xc0\x80", "not valid UTF-8");

	text_case("ss", "one", "too few values for signature 'ss'");
	text_case("ss", "", "too few values for signature 'ss'");
	text_case("s", "a b", "too many values for signature 's'");
	text_case("", "x", "too many values");
	text_case("as", "3 a b", "too few values for signature 'as'");
	text_case("as", "4000000000 a", "too few values for signature 'as'");
	text_case("as", "x", "invalid array count 'x'");
	text_case("as", "-1", "invalid array count '-1'");
	text_case("a{sv}", "1 k", "too few values");
	text_case("(is)", "1", "too few values");

	text_case("a{vs}", "0", "invalid signature 'a{vs}'");
	text_case("(", "", "invalid signature '('");
	text_case("a", "0", "invalid signature 'a'");
	text_case("w", "1", "invalid signature 'w'");
	text_case("v", "ii 1 2", "invalid variant signature 'ii'");
	text_case("v", "a{vs} 0", "invalid variant signature 'a{vs}'");
	text_case("h", "0", "type 'h'");
	text_case("v", "h 0", "type 'h'");
	text_case("av", "1 ah 0", "type 'h'");
}

/* ---- group: printers ------------------------------------------------------ */

/* Print text parsed as sig with the printer selected by json; compare. */
static void print_case(const char *sig, int argc, char **argv, int json, const char *want)
{
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *vals;
	uint32_t n;
	struct dbus_err err = {""};
	char *got = NULL;
	size_t len = 0;
	FILE *f;

	if (dbus_text_parse(a, sig, argc, argv, &vals, &n, &err) < 0) {
		fprintf(stderr, "print '%s': %s\n", sig, err.msg), failures++;
		dbus_arena_free(a);
		return;
	}
	f = open_memstream(&got, &len);
	if (json)
		dbus_print_json(f, sig, vals, n);
	else
		dbus_print_terse(f, sig, vals, n);
	fclose(f);
	if (strcmp(got, want))
		fprintf(stderr, "print '%s': got   %s\n              want  %s\n", sig, got, want),
			failures++;
	free(got);
	dbus_arena_free(a);
}

#define W(...) (int)(sizeof (char *[]){__VA_ARGS__} / sizeof(char *)), (char *[]){__VA_ARGS__}

static void test_terse(void)
{
	print_case("s", W("hello"), 0, "s \"hello\"");
	print_case("su", W("hello", "5"), 0, "su \"hello\" 5");
	print_case("s", W("with space \"and quotes\" \\ and\nnewline\ttab\x01\x7f"), 0,
		   "s \"with space \\\"and quotes\\\" \\\\ and\\nnewline\\ttab\\001\\177\"");
	print_case("s", W("gr\xc3\xbc\xc3\x9f \xe2\x82\xac"), 0, "s \"gr\xc3\xbc\xc3\x9f \xe2\x82\xac\"");
	print_case("as", W("3", "a", "b", "c"), 0, "as 3 \"a\" \"b\" \"c\"");
	print_case("as", W("0"), 0, "as 0");
	print_case("a{sv}", W("2", "One", "s", "Eins", "Two", "u", "2"), 0,
		   "a{sv} 2 \"One\" s \"Eins\" \"Two\" u 2");
	print_case("(isb)", W("5", "foo", "yes"), 0, "(isb) 5 \"foo\" true");
	print_case("aay", W("2", "3", "1", "2", "3", "0"), 0, "aay 2 3 1 2 3 0");
	print_case("v", W("v", "ai", "2", "1", "2"), 0, "v v ai 2 1 2");
	print_case("ybnqiuxt", W("255", "0", "-32768", "65535", "-2147483648", "4294967295",
				 "-9223372036854775808", "18446744073709551615"), 0,
		   "ybnqiuxt 255 false -32768 65535 -2147483648 4294967295 -9223372036854775808 "
		   "18446744073709551615");
	print_case("dddddd", W("0.1", "1.5", "-0", "1e300", "inf", "3.141592653589793"), 0,
		   "dddddd 0.1 1.5 -0 1e+300 inf 3.141592653589793");
	print_case("og", W("/a/b", "a{sv}"), 0, "og \"/a/b\" \"a{sv}\"");
	print_case("s", W("it's"), 0, "s \"it\\'s\"");
	print_case("dddd", W("100000", "1234567", "0.5", "1e-05"), 0, "dddd 100000 1234567 0.5 1e-05");
	print_case("", 0, NULL, 0, "");
}

static void test_json(void)
{
	print_case("s", W("hello"), 1, "{\"type\":\"s\",\"data\":[\"hello\"]}");
	print_case("a{sv}(iay)vd", W("1", "k", "x", "7", "3", "2", "97", "98", "ai", "2", "1", "2", "1.5"), 1,
		   "{\"type\":\"a{sv}(iay)vd\",\"data\":[{\"k\":{\"type\":\"x\",\"data\":7}},[3,[97,98]],"
		   "{\"type\":\"ai\",\"data\":[1,2]},1.5]}");
	print_case("tx", W("18446744073709551615", "-9223372036854775808"), 1,
		   "{\"type\":\"tx\",\"data\":[18446744073709551615,-9223372036854775808]}");
	print_case("ddddd", W("nan", "inf", "-inf", "0.1", "-0"), 1,
		   "{\"type\":\"ddddd\",\"data\":[null,null,null,0.1,-0]}");
	print_case("a{ix}", W("2", "-1", "5", "2", "6"), 1,
		   "{\"type\":\"a{ix}\",\"data\":[[[-1,5],[2,6]]]}");
	print_case("a{ob}a{gy}", W("1", "/a", "true", "1", "s", "1"), 1,
		   "{\"type\":\"a{ob}a{gy}\",\"data\":[{\"/a\":true},{\"s\":1}]}");
	print_case("a{sv}as", W("0", "0"), 1, "{\"type\":\"a{sv}as\",\"data\":[{},[]]}");
	print_case("s", W("q\"\\\n\x01 \xc3\xa4"), 1,
		   "{\"type\":\"s\",\"data\":[\"q\\\"\\\\\\n\\u0001 \xc3\xa4\"]}");
	print_case("v", W("v", "s", "x"), 1,
		   "{\"type\":\"v\",\"data\":[{\"type\":\"v\",\"data\":{\"type\":\"s\",\"data\":\"x\"}}]}");
	print_case("ybnq", W("1", "no", "-2", "3"), 1, "{\"type\":\"ybnq\",\"data\":[1,false,-2,3]}");
	print_case("", 0, NULL, 1, "{\"type\":\"\",\"data\":[]}");
	/* non-UTF-8 bytes cannot come from text or the wire, but a value
	 * built by hand is printed losslessly as \udcXX */
	struct dbus_value v = {.type = 's', .sig = "s", .n = 2, .v.str = "\xff" "a"};
	char *got = NULL;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	dbus_print_json_value(f, &v);
	fclose(f);
	CHECK(!strcmp(got, "\"\\udcffa\""));
	free(got);
}

/* ---- group: build refuses invalid values --------------------------------- */

static void test_build(void)
{
	struct dbus_value s = {.type = 's', .sig = "s", .n = 3, .v.str = "a\0b"};
	struct dbus_value b = {.type = 'b', .sig = "b", .v.u = 2};
	struct dbus_value y = {.type = 'y', .sig = "y", .v.u = 256};
	struct dbus_value o = {.type = 'o', .sig = "o", .n = 2, .v.str = "a/"};
	struct dbus_value wrong = {.type = 'u', .sig = "u"};
	struct {
		const char *sig;
		struct dbus_value *v;
		const char *want;
	} cases[] = {
		{"s", &s, "UTF-8 or contains NUL"}, {"b", &b, "out of range"},
		{"y", &y, "out of range"}, {"o", &o, "invalid object path"},
		{"s", &wrong, "value of type 'u'"},
	};
	struct dbus_err err = {""};
	uint8_t *out = NULL;
	size_t len;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct dbus_msg m = {.type = DBUS_METHOD_CALL, .serial = 1, .path = "/", .member = "M",
				     .signature = cases[i].sig, .body = cases[i].v, .nbody = 1};
		if (dbus_msg_build(&m, &out, &len, &err) == 0 || !strstr(err.msg, cases[i].want))
			fprintf(stderr, "build case %zu: '%s'\n", i, err.msg), failures++;
	}
	struct dbus_msg m = {.type = DBUS_METHOD_CALL, .serial = 1, .path = "/", .member = "M"};
	m.serial = 0;
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0);
	m.serial = 1, m.path = NULL;
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "without PATH"));
	m.path = "/org/freedesktop/DBus/Local";
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "reserved"));
	m.path = "/", m.destination = "nodot";
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "destination"));
	m.destination = NULL, m.signature = "s";
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "0 values"));
	m.signature = "a{vs}";
	CHECK(dbus_msg_build(&m, &out, &len, &err) < 0 && strstr(err.msg, "invalid signature"));
}

/* ---- group: size limits at and one beyond -------------------------------- */

/* An array value of n uint64 elements (type at), in one calloc. */
static struct dbus_value at_array(uint32_t n)
{
	struct dbus_value v = {.type = 'a', .sig = "at", .n = n};
	v.v.items = calloc(n ? n : 1, sizeof *v.v.items);
	for (uint32_t i = 0; i < n; i++)
		v.v.items[i] = (struct dbus_value){.type = 't', .sig = "t", .v.u = i};
	return v;
}

/* Build a call with body at,at of n1 and n2 elements; 0 or -1 with err. */
static int build_atat(uint32_t n1, uint32_t n2, uint8_t **out, size_t *len, struct dbus_err *err)
{
	struct dbus_value body[2] = {at_array(n1), at_array(n2)};
	struct dbus_msg m = {.type = DBUS_METHOD_CALL, .serial = 1, .path = "/", .member = "M",
			     .signature = "atat", .body = body, .nbody = 2};
	int rc = dbus_msg_build(&m, out, len, err);
	free(body[0].v.items);
	free(body[1].v.items);
	return rc;
}

static void test_limits(void)
{
	const uint32_t full = DBUS_MAX_ARRAY / 8; /* elements in a 64 MiB at */
	struct dbus_err err = {""};
	struct dbus_msg m;
	uint8_t *out = NULL;
	size_t len, base;

	/* an array of exactly 64 MiB is fine; 8 bytes more are not */
	CHECK(build_atat(full + 1, 0, &out, &len, &err) < 0 && strstr(err.msg, "64 MiB"));
	if (build_atat(full, 0, &out, &len, &err) < 0) {
		fprintf(stderr, "64 MiB array: %s\n", err.msg), failures++;
		return;
	}
	base = len;
	CHECK(dbus_msg_parse(&m, out, len, &err) == 0 && m.body[0].n == full &&
	      m.body[0].v.items[full - 1].v.u == full - 1);
	dbus_msg_free(&m);
	free(out);
	/* a message of exactly 128 MiB is fine; 8 bytes more are not */
	uint32_t n2 = (uint32_t)((DBUS_MAX_MESSAGE - base) / 8);
	if (build_atat(full, n2, &out, &len, &err) == 0) {
		CHECK(len == DBUS_MAX_MESSAGE);
		CHECK(dbus_msg_length(out, &err) == DBUS_MAX_MESSAGE);
		CHECK(dbus_msg_parse(&m, out, len, &err) == 0 && m.body[1].n == n2);
		dbus_msg_free(&m);
		free(out);
	} else {
		fprintf(stderr, "128 MiB message: %s\n", err.msg), failures++;
	}
	CHECK(build_atat(full, n2 + 1, &out, &len, &err) < 0 && strstr(err.msg, "128 MiB"));
	/* an ay of 40 MiB would take 1.25 GiB as values: refused before allocating */
	size_t big = 40u << 20;
	hb_call(&H, 'l', "ay");
	hb_u32(&H, (uint32_t)big);
	hb_put32(&H, 4, (uint32_t)(4 + big)); /* body: the length and the bytes */
	uint8_t *msg = calloc(1, H.n + big);
	memcpy(msg, H.b, H.n);
	CHECK(dbus_msg_parse(&m, msg, H.n + big, &err) < 0 && strstr(err.msg, "too large to unpack"));
	free(msg);
}

/* ---- fuzz seeds: dbus_wire mkcorpus DIR ---------------------------------- */

/* Build a message whose body is text in sig and write it to DIR/name. */
static void seed(const char *dir, const char *name, struct dbus_msg *m, int argc, char **argv)
{
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_err err = {""};
	char path[512];
	uint8_t *out;
	size_t len;
	FILE *f;

	if (dbus_text_parse(a, m->signature ? m->signature : "", argc, argv, &m->body, &m->nbody,
			    &err) < 0 || dbus_msg_build(m, &out, &len, &err) < 0) {
		fprintf(stderr, "seed %s: %s\n", name, err.msg), failures++;
		dbus_arena_free(a);
		return;
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(out, 1, len, f) != len || fclose(f))
		perror(path), failures++;
	free(out);
	dbus_arena_free(a);
}

/* The hand-picked seeds of tests/fuzz/corpus/dbus_msg. */
static int mkcorpus(const char *dir)
{
	struct dbus_msg hello = {.type = DBUS_METHOD_CALL, .serial = 1, .path = "/org/freedesktop/DBus",
				 .interface = "org.freedesktop.DBus", .member = "Hello",
				 .destination = "org.freedesktop.DBus"};
	struct dbus_msg reply = {.type = DBUS_METHOD_RETURN, .serial = 1, .reply_serial = 1,
				 .sender = "org.freedesktop.DBus", .destination = ":1.42", .signature = "s"};
	struct dbus_msg acquired = {.type = DBUS_SIGNAL, .serial = 2, .path = "/org/freedesktop/DBus",
				    .interface = "org.freedesktop.DBus", .member = "NameAcquired",
				    .sender = "org.freedesktop.DBus", .destination = ":1.42",
				    .signature = "s"};
	struct dbus_msg error = {.type = DBUS_ERROR, .serial = 3, .reply_serial = 2,
				 .error_name = "org.freedesktop.DBus.Error.ServiceUnknown",
				 .sender = "org.freedesktop.DBus", .destination = ":1.42", .signature = "s"};
	struct dbus_msg nested = {.endian = 'B', .type = DBUS_METHOD_CALL, .serial = 9,
				  .flags = DBUS_FLAG_NO_AUTO_START, .path = "/org/example/Echo",
				  .interface = "org.example.Echo", .member = "Echo",
				  .destination = "org.example.Echo", .signature = "a{sv}aa{sv}a(iay)avdgo"};
	struct dbus_msg fds = {.type = DBUS_METHOD_CALL, .serial = 4, .path = "/a", .member = "F",
			       .unix_fds = 2, .signature = "hah"};

	seed(dir, "hello", &hello, 0, NULL);
	hello.endian = 'B';
	seed(dir, "hello-be", &hello, 0, NULL);
	seed(dir, "hello-reply", &reply, W(":1.42"));
	seed(dir, "name-acquired", &acquired, W(":1.42"));
	seed(dir, "error", &error, W("The name org.x was not provided by any .service files"));
	seed(dir, "nested-be", &nested,
	     W("2", "k", "v", "v", "s", "x", "n", "at", "1", "18446744073709551615",
	       "1", "1", "a", "ay", "2", "0", "255", "1", "-7", "3", "1", "2", "3",
	       "2", "v", "v", "i", "1", "(sb)", "q\"\n\xc3\xa4", "yes", "0.1", "a{sv}", "/a/b"));
	nested.endian = 'l';
	seed(dir, "nested", &nested,
	     W("0", "0", "0", "0", "-1e300", "", "/"));
	/* 'h' cannot come from text: values by hand */
	struct dbus_value h0 = {.type = 'h', .sig = "h", .v.u = 0};
	struct dbus_value hv[2] = {{.type = 'h', .sig = "h", .v.u = 1},
				   {.type = 'a', .sig = "ah", .n = 1, .v.items = &h0}};
	uint8_t *out;
	size_t len;
	struct dbus_err err;
	char path[512];
	FILE *f;
	fds.body = hv, fds.nbody = 2;
	snprintf(path, sizeof path, "%s/fds", dir);
	if (dbus_msg_build(&fds, &out, &len, &err) < 0 || !(f = fopen(path, "wb")))
		return 1;
	fwrite(out, 1, len, f);
	fclose(f);
	free(out);
	return failures ? 1 : 0;
}

/* ---- peers for tests/dbus-wire-glib.py ----------------------------------- */

/* dbus_wire encode l|B SIG WORD...: a method call with that body on stdout. */
static int encode(char endian, const char *sig, int argc, char **argv)
{
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_msg m = {.endian = endian, .type = DBUS_METHOD_CALL, .serial = 1, .path = "/a",
			     .member = "M", .signature = sig};
	struct dbus_err err;
	uint8_t *out;
	size_t len;

	if (dbus_text_parse(a, sig, argc, argv, &m.body, &m.nbody, &err) < 0 ||
	    dbus_msg_build(&m, &out, &len, &err) < 0) {
		fprintf(stderr, "encode: %s\n", err.msg);
		return 1;
	}
	fwrite(out, 1, len, stdout);
	free(out);
	dbus_arena_free(a);
	return 0;
}

/* dbus_wire decode: parse the message on stdin; print its body tersely and
 * as JSON, one line each. */
static int decode(void)
{
	static uint8_t buf[1 << 20];
	size_t len = fread(buf, 1, sizeof buf, stdin);
	struct dbus_msg m;
	struct dbus_err err;

	if (dbus_msg_parse(&m, buf, len, &err) < 0) {
		fprintf(stderr, "decode: %s\n", err.msg);
		return 1;
	}
	dbus_print_terse(stdout, m.signature, m.body, m.nbody);
	putchar('\n');
	dbus_print_json(stdout, m.signature, m.body, m.nbody);
	putchar('\n');
	dbus_msg_free(&m);
	return 0;
}

/* dbus_wire bench FILE N: time N parses and N builds of the message in
 * FILE (a seed of tests/fuzz/corpus/dbus_msg); print microseconds each. */
static int bench(const char *file, long n)
{
	static uint8_t buf[1 << 16];
	struct timespec t0, t1, t2;
	struct dbus_err err;
	struct dbus_msg m;
	uint8_t *out;
	size_t len, got;
	FILE *f = fopen(file, "rb");

	if (!f || n <= 0)
		return 2;
	got = fread(buf, 1, sizeof buf, f);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		if (dbus_msg_parse(&m, buf, got, &err) < 0)
			return fprintf(stderr, "bench: %s\n", err.msg), 1;
		dbus_msg_free(&m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dbus_msg_parse(&m, buf, got, &err);
	for (long i = 0; i < n; i++) {
		if (dbus_msg_build(&m, &out, &len, &err) < 0)
			return fprintf(stderr, "bench: %s\n", err.msg), 1;
		free(out);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	dbus_msg_free(&m);
	printf("%s (%zu bytes): parse %.2f us, build %.2f us\n", file, got,
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n / 1e3,
	       ((double)(t2.tv_sec - t1.tv_sec) * 1e9 + (double)(t2.tv_nsec - t1.tv_nsec)) / (double)n / 1e3);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{"signatures", test_signatures}, {"paths", test_paths}, {"names", test_names},
	{"utf8", test_utf8}, {"vectors", test_vectors}, {"reject", test_reject},
	{"roundtrip", test_roundtrip}, {"depth", test_depth}, {"text", test_text},
	{"terse", test_terse}, {"json", test_json}, {"build", test_build},
	{"limits", test_limits},
};

int main(int argc, char **argv)
{
	int ran = 0;

	if (argc == 3 && !strcmp(argv[1], "mkcorpus"))
		return mkcorpus(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "encode"))
		return encode(argv[2][0], argv[3], argc - 4, argv + 4);
	if (argc == 2 && !strcmp(argv[1], "decode"))
		return decode();
	if (argc == 4 && !strcmp(argv[1], "bench"))
		return bench(argv[2], atol(argv[3]));
	for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
		if (argc > 1 && strcmp(argv[1], groups[i].name))
			continue;
		groups[i].fn();
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "dbus_wire: no group '%s'\n", argc > 1 ? argv[1] : "");
		return 2;
	}
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
