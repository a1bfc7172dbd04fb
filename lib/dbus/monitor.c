/* dbus monitor: bus-monitor's layouts.  dbus-monitor's text layout and its
 * --profile lines, so that output people already read (and scripts already
 * parse) comes out the same; and one JSON object a line for --json.
 *
 * Facts from reference/dbus.md section 1.6: 3 spaces of indent per depth,
 * top-level arguments at depth 1; strings printed without escaping; arrays,
 * dict entries and structs open on their line and close at the parent's
 * indent; a variant's value follows "variant " with its own (deeper)
 * indent; an array of bytes prints as a string when every byte is
 * printable ASCII (a trailing NUL shown as " + \0"), else as hex rows. */
#include "dbus.h"
#include "lib/io.h"
#include "lib/json.h"

#include <string.h>

#define INDENT 3

static void indent(FILE *f, int depth)
{
	for (int i = 0; i < depth * INDENT; i++)
		putc(' ', f);
}

/* Printable ASCII, ignoring one trailing NUL. */
static int printable_bytes(const struct dbus_value *a)
{
	for (uint32_t i = 0; i < a->n; i++) {
		uint64_t b = a->v.items[i].v.u;
		if ((b < 32 || b > 126) && !(i == a->n - 1 && b == 0))
			return 0;
	}
	return a->n > 0;
}

static void print_bytes(FILE *f, const struct dbus_value *a, int depth)
{
	int columns = (80 - (depth + 1) * INDENT) / 3;

	if (printable_bytes(a)) {
		int nul = a->v.items[a->n - 1].v.u == 0;
		fputs("array of bytes \"", f);
		for (uint32_t i = 0; i < a->n - (uint32_t)nul; i++)
			putc((int)a->v.items[i].v.u, f);
		fprintf(f, "\"%s\n", nul ? " + \\0" : "");
		return;
	}
	if (columns < 8)
		columns = 8;
	fputs("array of bytes [\n", f);
	indent(f, depth + 1);
	for (uint32_t i = 0; i < a->n; i++) {
		fprintf(f, "%02x", (unsigned)a->v.items[i].v.u);
		if (i + 1 == a->n)
			break;
		if (i % (uint32_t)columns == (uint32_t)columns - 1) {
			putc('\n', f);
			indent(f, depth + 1);
		} else {
			putc(' ', f);
		}
	}
	putc('\n', f);
	indent(f, depth);
	fputs("]\n", f);
}

static void print_value(FILE *f, const struct dbus_value *v, int depth);

/* Children one a line at depth + 1, then the closing text at depth. */
static void print_children(FILE *f, const struct dbus_value *v, int depth, const char *open,
			   const char *close)
{
	fputs(open, f);
	for (uint32_t i = 0; i < v->n; i++)
		print_value(f, &v->v.items[i], depth + 1);
	indent(f, depth);
	fputs(close, f);
}

/* "word value\n" for a number, without printf (see io_put_u64). */
static void print_number(FILE *f, const char *word, const struct dbus_value *v)
{
	fputs_unlocked(word, f);
	switch (v->type) {
	case 'n': case 'i': io_put_i64(f, (int)v->v.i); break;
	case 'x': io_put_i64(f, v->v.i); break;
	case 'q': case 'u': io_put_u64(f, (unsigned)v->v.u, 0); break;
	default: io_put_u64(f, v->v.u, 0); break; /* y t */
	}
	putc_unlocked('\n', f);
}

/* "word \"text\"\n" */
static void print_quoted(FILE *f, const char *word, const char *text)
{
	fputs_unlocked(word, f);
	fputs_unlocked(text, f);
	fputs_unlocked("\"\n", f);
}

static void print_basic(FILE *f, const struct dbus_value *v)
{
	switch (v->type) {
	case 's': print_quoted(f, "string \"", v->v.str); break;
	case 'o': print_quoted(f, "object path \"", v->v.str); break;
	case 'g': print_quoted(f, "signature \"", v->v.str); break;
	case 'y': print_number(f, "byte ", v); break;
	case 'b': fputs_unlocked(v->v.u ? "boolean true\n" : "boolean false\n", f); break;
	case 'n': print_number(f, "int16 ", v); break;
	case 'q': print_number(f, "uint16 ", v); break;
	case 'i': print_number(f, "int32 ", v); break;
	case 'u': print_number(f, "uint32 ", v); break;
	case 'x': print_number(f, "int64 ", v); break;
	case 't': print_number(f, "uint64 ", v); break;
	case 'd': fprintf(f, "double %g\n", v->v.d); break;
	case 'h': fputs("file descriptor\n", f); break;
	default: fputs("(unknown type)\n", f); break;
	}
}

static void print_value(FILE *f, const struct dbus_value *v, int depth)
{
	indent(f, depth);
	switch (v->type) {
	case 'a':
		if (v->sig[1] == 'y' && v->n > 0)
			print_bytes(f, v, depth);
		else
			print_children(f, v, depth, "array [\n", "]\n");
		break;
	case '(': print_children(f, v, depth, "struct {\n", "}\n"); break;
	case '{': print_children(f, v, depth, "dict entry(\n", ")\n"); break;
	case 'v':
		fputs("variant ", f);
		print_value(f, &v->v.items[0], depth + 1);
		break;
	default: print_basic(f, v); break;
	}
}

static const char *type_name(int type)
{
	switch (type) {
	case DBUS_METHOD_CALL: return "method call";
	case DBUS_METHOD_RETURN: return "method return";
	case DBUS_ERROR: return "error";
	case DBUS_SIGNAL: return "signal";
	}
	return "(unknown message type)";
}

/* printf's "%s" of a NULL pointer in glibc, which dbus-monitor relies on. */
static const char *or_null(const char *s)
{
	return s ? s : "(null)";
}

/* " key=" and the serial. */
static void print_serial(FILE *f, const char *key, uint32_t serial)
{
	fputs_unlocked(key, f);
	io_put_u64(f, serial, 0);
}

/* The first line, as dbus-monitor prints it with printf (hence or_null's
 * "(null)" where a field is missing), built without printf: a flood of
 * small signals spends most of its printing time here. */
static void print_monitor(FILE *f, const struct dbus_msg *m, int timed, long long sec, long usec)
{
	fputs_unlocked(type_name(m->type), f);
	if (timed) {
		fputs_unlocked(" time=", f);
		io_put_time(f, sec, usec);
	}
	fputs_unlocked(" sender=", f);
	fputs_unlocked(m->sender ? m->sender : "(null sender)", f);
	fputs_unlocked(" -> destination=", f);
	fputs_unlocked(m->destination ? m->destination : "(null destination)", f);
	switch (m->type) {
	case DBUS_METHOD_CALL:
	case DBUS_SIGNAL:
		print_serial(f, " serial=", m->serial);
		fputs_unlocked(" path=", f);
		fputs_unlocked(or_null(m->path), f);
		fputs_unlocked("; interface=", f);
		fputs_unlocked(or_null(m->interface), f);
		fputs_unlocked("; member=", f);
		fputs_unlocked(or_null(m->member), f);
		putc_unlocked('\n', f);
		break;
	case DBUS_METHOD_RETURN:
		print_serial(f, " serial=", m->serial);
		print_serial(f, " reply_serial=", m->reply_serial);
		putc_unlocked('\n', f);
		break;
	case DBUS_ERROR:
		fputs_unlocked(" error_name=", f);
		fputs_unlocked(or_null(m->error_name), f);
		print_serial(f, " reply_serial=", m->reply_serial);
		putc_unlocked('\n', f);
		break;
	default: putc('\n', f); break;
	}
	for (uint32_t i = 0; i < m->nbody; i++)
		print_value(f, &m->body[i], 1);
}

void dbus_print_monitor(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	print_monitor(f, m, 1, sec, usec);
}

void dbus_print_monitor_untimed(FILE *f, const struct dbus_msg *m)
{
	print_monitor(f, m, 0, 0, 0);
}

/* ---- --json: one object a line ------------------------------------------- */

static const char *kind_json(int type)
{
	switch (type) {
	case DBUS_METHOD_CALL: return "method_call";
	case DBUS_METHOD_RETURN: return "method_return";
	case DBUS_ERROR: return "error";
	case DBUS_SIGNAL: return "signal";
	}
	return "unknown";
}

/* ,"key":"value", or ,"key":null for an absent header field. */
static void json_field(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	if (value)
		json_cstring(f, value);
	else
		fputs("null", f);
}

void dbus_print_monitor_json(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	fputs("{\"time\":", f);
	io_put_time(f, sec, usec);
	fprintf(f, ",\"type\":\"%s\"", kind_json(m->type));
	json_field(f, "sender", m->sender);
	json_field(f, "destination", m->destination);
	fprintf(f, ",\"serial\":%u", m->serial);
	if (m->reply_serial)
		fprintf(f, ",\"reply_serial\":%u", m->reply_serial);
	else
		fputs(",\"reply_serial\":null", f);
	json_field(f, "path", m->path);
	json_field(f, "interface", m->interface);
	json_field(f, "member", m->member);
	json_field(f, "error_name", m->error_name);
	json_field(f, "signature", m->signature);
	fputs(",\"body\":", f);
	dbus_print_json(f, m->signature, m->body, m->nbody);
	fputs("}\n", f);
}

/* ---- bus-listen's layouts -------------------------------------------------- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void dbus_print_listen_line(FILE *f, const struct dbus_msg *m, int verbose, long long sec,
			    long usec)
{
	if (verbose) {
		io_put_time(f, sec, usec);
		putc_unlocked(' ', f);
		io_put_u64(f, m->serial, 0);
		putc_unlocked(' ', f);
	}
	fputs_unlocked(or_empty(m->sender), f);
	putc_unlocked(' ', f);
	fputs_unlocked(or_null(m->path), f);
	putc_unlocked(' ', f);
	fputs_unlocked(or_null(m->interface), f);
	putc_unlocked('.', f);
	fputs_unlocked(or_null(m->member), f);
	if (m->nbody > 0) {
		putc_unlocked(' ', f);
		dbus_print_terse(f, m->signature, m->body, m->nbody);
	}
	putc_unlocked('\n', f);
}

void dbus_print_listen_json(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	fputs_unlocked("{\"time\":", f);
	io_put_time(f, sec, usec);
	json_field(f, "sender", m->sender);
	json_field(f, "path", m->path);
	json_field(f, "interface", m->interface);
	json_field(f, "member", m->member);
	fputs_unlocked(",\"serial\":", f);
	io_put_u64(f, m->serial, 0);
	json_field(f, "signature", or_empty(m->signature));
	fputs_unlocked(",\"data\":[", f);
	for (uint32_t i = 0; i < m->nbody; i++) {
		if (i)
			putc_unlocked(',', f);
		dbus_print_json_value(f, &m->body[i]);
	}
	fputs_unlocked("]}\n", f);
}

/* ---- --profile: dbus-monitor's tab-separated lines ------------------------ */

void dbus_print_monitor_profile_header(FILE *f)
{
	fputs("#type\ttimestamp\tserial\tsender\tdestination\tpath\tinterface\tmember\n"
	      "#\t\t\t\t\tin_reply_to\n", f);
}

static const char *or_none(const char *s)
{
	return s ? s : "<none>";
}

void dbus_print_monitor_profile(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	static const char *const kind[] = {[DBUS_METHOD_CALL] = "mc", [DBUS_METHOD_RETURN] = "mr",
					   [DBUS_ERROR] = "err", [DBUS_SIGNAL] = "sig"};

	int known = m->type >= DBUS_METHOD_CALL && m->type <= DBUS_SIGNAL;

	fprintf(f, "%s\t", known ? kind[m->type] : "tun");
	io_put_time(f, sec, usec);
	if (!known) {
		putc('\n', f);
		return;
	}
	fprintf(f, "\t%u\t%s\t%s", m->serial, or_none(m->sender), or_none(m->destination));
	if (m->type == DBUS_METHOD_CALL || m->type == DBUS_SIGNAL)
		fprintf(f, "\t%s\t%s\t%s\n", or_none(m->path), or_none(m->interface), or_none(m->member));
	else
		fprintf(f, "\t%u\n", m->reply_serial);
}
