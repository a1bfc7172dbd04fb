/* Unit tests for what bus.c uses from lib/ besides the wire protocol: the
 * match rule grammar (lib/dbus/match.c), the pcap writer (lib/dbus/pcap.c),
 * the introspection XML writers (lib/dbus/introspect.c), bus-serve's output
 * parser (dbus_text_parse_words), bus-monitor's text, --json and --profile
 * layouts and bus-listen's line and --json (lib/dbus/monitor.c), and
 * /proc/PID/comm (lib/proc.c).
 * Usage: bus_lib [GROUP]; exit 1 if a check failed. */
#include "lib/dbus/dbus.h"
#include "lib/dbus/introspect.h"
#include "lib/dbus/match.h"
#include "lib/dbus/pcap.h"
#include "lib/proc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static void test_match(void)
{
	static const char *const good[] = {
		"", "type='signal'", "type=signal", "sender=':1.5',path='/a/b'",
		"interface='a.b',member='C',destination='x.y'", "path_namespace='/org'",
		"eavesdrop='true'", "arg0namespace='org.x'", "arg0='x'", "arg9='x'", "arg10='x'",
		"arg63='x'", "arg0path='/x'", "arg63path='/x'", "type='a,b'",
		NULL};
	static const char *const bad[] = {
		"nokey='x'", "type", "type='x'x", "=x", ",type='x'", "type='x',,member='y'",
		"arg64='x'", "arg00='x'", "arg01='x'", "arg='x'", "arg1paths='x'", "arg100='x'",
		"Type='x'", "type='x' ,member='y'", "type='signal',", NULL};
	char longrule[DBUS_MATCH_RULE_MAX + 2];

	for (int i = 0; good[i]; i++)
		if (dbus_match_check(good[i]) != DBUS_MATCH_OK) {
			fprintf(stderr, "refused good rule: %s\n", good[i]);
			CHECK(0);
		}
	for (int i = 0; bad[i]; i++)
		if (dbus_match_check(bad[i]) != DBUS_MATCH_SYNTAX) {
			fprintf(stderr, "accepted bad rule: %s\n", bad[i]);
			CHECK(0);
		}
	CHECK(dbus_match_check("type='signal") == DBUS_MATCH_UNTERMINATED);
	CHECK(dbus_match_check("member='x',path='") == DBUS_MATCH_UNTERMINATED);
	/* the limit: DBUS_MATCH_RULE_MAX bytes pass, one more does not */
	memcpy(longrule, "member='", 8);
	memset(longrule + 8, 'x', DBUS_MATCH_RULE_MAX - 9);
	longrule[DBUS_MATCH_RULE_MAX - 1] = '\'';
	longrule[DBUS_MATCH_RULE_MAX] = 0;
	CHECK(dbus_match_check(longrule) == DBUS_MATCH_OK);
	longrule[DBUS_MATCH_RULE_MAX - 1] = 'x';
	longrule[DBUS_MATCH_RULE_MAX] = '\'';
	longrule[DBUS_MATCH_RULE_MAX + 1] = 0;
	CHECK(dbus_match_check(longrule) == DBUS_MATCH_TOO_LONG);
	CHECK(dbus_match_key_ok("arg5path", 8));
	CHECK(!dbus_match_key_ok("arg5pat", 7));
	CHECK(dbus_match_key_ok("type", 4));
	CHECK(!dbus_match_key_ok("typ", 3));
	{ /* the builder: pairs quoted, the caller's rule after; a quote refused */
		static const char *const kv[] = {"type", "signal", "arg0", "a.b", "arg1", "don't"};
		char rule[128], v[32];
		CHECK(dbus_match_build(rule, sizeof rule, kv, 2, NULL) == 0 &&
		      strcmp(rule, "type='signal',arg0='a.b'") == 0);
		CHECK(dbus_match_check(rule) == DBUS_MATCH_OK);
		CHECK(dbus_match_value(rule, "arg0", v, sizeof v) == 1 && strcmp(v, "a.b") == 0);
		CHECK(dbus_match_build(rule, sizeof rule, kv, 3, NULL) < 0);
		CHECK(dbus_match_build(rule, sizeof rule, kv, 1, "member='X'") == 0 &&
		      strcmp(rule, "type='signal',member='X'") == 0);
		CHECK(dbus_match_build(rule, sizeof rule, kv, 0, "member='X'") == 0 &&
		      strcmp(rule, "member='X'") == 0);
		CHECK(dbus_match_build(rule, sizeof rule, kv, 1, "") == 0 && strcmp(rule, "type='signal'") == 0);
		CHECK(dbus_match_build(rule, 10, kv, 1, NULL) < 0);
		{ /* size DBUS_MATCH_RULE_MAX + 1: a rule of the bus's limit fits, one byte more does not */
			char big[DBUS_MATCH_RULE_MAX + 1], extra[DBUS_MATCH_RULE_MAX];
			size_t n = DBUS_MATCH_RULE_MAX - strlen("type='signal',member=''");
			memcpy(extra, "member='", 8);
			memset(extra + 8, 'x', n);
			strcpy(extra + 8 + n, "'");
			CHECK(dbus_match_build(big, sizeof big, kv, 1, extra) == 0 && strlen(big) == DBUS_MATCH_RULE_MAX);
			strcpy(extra + 8 + n, "x'");
			CHECK(dbus_match_build(big, sizeof big, kv, 1, extra) < 0);
		}
	}
}

static void test_pcap(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const uint8_t msg[5] = {'l', 1, 0, 1, 0};
	uint32_t h[6], r[4];
	uint16_t v[2];

	CHECK(dbus_pcap_header(f) == 0);
	CHECK(dbus_pcap_record(f, msg, sizeof msg, 1700000000, 123456) == 0);
	CHECK(fclose(f) == 0);
	CHECK(len == 24 + 16 + sizeof msg);
	if (len != 24 + 16 + sizeof msg)
		return;
	memcpy(h, buf, sizeof h);
	memcpy(v, buf + 4, sizeof v);
	CHECK(h[0] == 0xa1b2c3d4);
	CHECK(v[0] == 2 && v[1] == 4);
	CHECK(h[2] == 0 && h[3] == 0);
	CHECK(h[4] == DBUS_PCAP_SNAPLEN);
	CHECK(h[5] == 231);
	memcpy(r, buf + 24, sizeof r);
	CHECK(r[0] == 1700000000 && r[1] == 123456 && r[2] == sizeof msg && r[3] == sizeof msg);
	CHECK(memcmp(buf + 40, msg, sizeof msg) == 0);
	free(buf);
}

/* The writer's document parses back with the reader into what went in. */
static void test_xml(void)
{
	char *xml = dbus_intro_xml_method("org.x.Y", "Do", "sa{sv}(ii)", "as");
	struct dbus_intro in;
	struct dbus_err err;
	int found = 0;

	CHECK(xml != NULL);
	if (!xml)
		return;
	CHECK(strstr(xml, "<arg type=\"s\" direction=\"in\"/>\n   <arg type=\"a{sv}\" direction=\"in\"/>\n"
			  "   <arg type=\"(ii)\" direction=\"in\"/>\n   <arg type=\"as\" direction=\"out\"/>\n") != NULL);
	CHECK(dbus_intro_parse(&in, xml, strlen(xml), &err) == 0);
	for (int i = 0; i < in.nmembers; i++)
		if (!strcmp(in.members[i].iface, "org.x.Y") && !strcmp(in.members[i].name, "Do")) {
			found = 1;
			CHECK(!strcmp(in.members[i].in, "sa{sv}(ii)"));
			CHECK(!strcmp(in.members[i].out, "as"));
		}
	CHECK(found);
	CHECK(in.nifaces == 3);
	dbus_intro_free(&in);
	free(xml);
	xml = dbus_intro_xml_method("org.x.Y", "Do", "", "");
	CHECK(xml && !strstr(xml, "direction=\"in\"") && strstr(xml, "<method name=\"Do\">"));
	free(xml);
	CHECK(dbus_intro_xml_method("org.x.Y", "Do", "a", "") == NULL);
	CHECK(dbus_intro_xml_method("org.x.Y", "Do", "", "(i") == NULL);
}

static int parse_words(const char *sig, const char *text, struct dbus_value **v, uint32_t *n,
		       struct dbus_err *err, struct dbus_arena *a)
{
	char *copy = strdup(text);
	int r = dbus_text_parse_words(a, sig, copy, v, n, err);

	free(copy);
	return r;
}

static void test_words(void)
{
	struct dbus_arena *a = dbus_arena_new();
	struct dbus_value *v;
	struct dbus_err err;
	uint32_t n;
	char *many;

	CHECK(parse_words("si", "  hello\t\n42\n", &v, &n, &err, a) == 0 && n == 2 &&
	      !strcmp(v[0].v.str, "hello") && v[1].v.i == 42);
	CHECK(parse_words("", "", &v, &n, &err, a) == 0 && n == 0);
	CHECK(parse_words("", " \n\t ", &v, &n, &err, a) == 0 && n == 0);
	CHECK(parse_words("as", "3 a b c", &v, &n, &err, a) == 0 && n == 1 && v[0].n == 3);
	CHECK(parse_words("i", "x", &v, &n, &err, a) < 0);
	CHECK(parse_words("i", "", &v, &n, &err, a) < 0);
	CHECK(parse_words("i", "1 2", &v, &n, &err, a) < 0);
	/* DBUS_TEXT_MAX_WORDS words are taken; one more is refused */
	many = malloc(2 * (DBUS_TEXT_MAX_WORDS + 2) + 16);
	size_t k = (size_t)sprintf(many, "%d", DBUS_TEXT_MAX_WORDS - 1);
	for (int i = 0; i < DBUS_TEXT_MAX_WORDS - 1; i++) {
		many[k++] = ' ';
		many[k++] = 'y';
	}
	many[k] = 0;
	CHECK(parse_words("as", many, &v, &n, &err, a) == 0 && v[0].n == DBUS_TEXT_MAX_WORDS - 1);
	strcpy(many + k, " y");
	CHECK(parse_words("as", many, &v, &n, &err, a) < 0 && strstr(err.msg, "too many words"));
	free(many);
	dbus_arena_free(a);
}

/* The ancestors' document names the next node down on the way to the
 * path, and reads back as that one child; a path that is not below the
 * ancestor gets none. */
static void test_ancestor(void)
{
	static const char *const way[][3] = {
		{"/", "/a/b", "a"}, {"/a", "/a/b/c", "b"}, {"/a/b", "/a/b/c", "c"}, {"/", "/x_1", "x_1"},
	};
	static const char *const not_below[][2] = {
		{"/a/b", "/a/b"}, {"/", "/"}, {"/a", "/ab"}, {"/b", "/a/b"}, {"/a/b/c", "/a/b"},
	};
	struct dbus_err err;
	struct dbus_intro in;
	char *xml = dbus_intro_xml_ancestor("/", "/org/x");

	CHECK(xml && strcmp(xml, "<node>\n <node name=\"org\"/>\n</node>\n") == 0);
	free(xml);
	for (size_t i = 0; i < sizeof way / sizeof way[0]; i++) {
		xml = dbus_intro_xml_ancestor(way[i][0], way[i][1]);
		CHECK(xml && dbus_intro_parse(&in, xml, strlen(xml), &err) == 0);
		if (!xml)
			continue;
		CHECK(in.nchildren == 1 && in.nifaces == 0 && strcmp(in.children[0], way[i][2]) == 0);
		dbus_intro_free(&in);
		free(xml);
	}
	for (size_t i = 0; i < sizeof not_below / sizeof not_below[0]; i++) {
		errno = 0;
		xml = dbus_intro_xml_ancestor(not_below[i][0], not_below[i][1]);
		if (xml || errno != ENOENT) {
			fprintf(stderr, "ancestor '%s' of '%s': %s\n", not_below[i][0], not_below[i][1],
				xml ? xml : strerror(errno));
			failures++;
		}
		free(xml);
	}
}

/* What one printer wrote for m at 1700000000.000042, NUL-terminated. */
static char *printed(void (*print)(FILE *, const struct dbus_msg *, long long, long),
		    const struct dbus_msg *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	print(f, m, 1700000000, 42);
	fclose(f);
	return buf;
}

/* Expect printer's text for m to be want; say what it was if not. */
static void expect_printed(void (*print)(FILE *, const struct dbus_msg *, long long, long),
			   const struct dbus_msg *m, const char *want)
{
	char *got = printed(print, m);

	if (strcmp(got, want) != 0) {
		fprintf(stderr, "printed:\n%s\nwanted:\n%s\n", got, want);
		failures++;
	}
	free(got);
}

static void listen_plain(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	dbus_print_listen_line(f, m, 0, sec, usec);
}

static void listen_verbose(FILE *f, const struct dbus_msg *m, long long sec, long usec)
{
	dbus_print_listen_line(f, m, 1, sec, usec);
}

/* bus-monitor --json and --profile, one message of each type, absent
 * header fields, strings that JSON must escape, an unknown type. */
static void test_monitor(void)
{
	struct dbus_value body[2] = {
		{.type = 's', .sig = "s", .n = 6, .v.str = "a\"b\\\n\001"},
		{.type = 'u', .sig = "u", .v.u = 7},
	};
	struct dbus_msg call = {.type = DBUS_METHOD_CALL, .serial = 5, .sender = ":1.7",
				.destination = "org.x.Y", .path = "/a", .interface = "org.x.Y",
				.member = "M", .signature = "su", .body = body, .nbody = 2};
	struct dbus_msg ret = {.type = DBUS_METHOD_RETURN, .serial = 9, .reply_serial = 5,
			       .sender = ":1.8", .destination = ":1.7", .signature = ""};
	struct dbus_msg error = {.type = DBUS_ERROR, .serial = 10, .reply_serial = 5,
				 .sender = ":1.8", .error_name = "org.x.Error.Bad", .signature = "s",
				 .body = body, .nbody = 1};
	struct dbus_msg sig = {.type = DBUS_SIGNAL, .serial = 3, .sender = ":1.8", .path = "/a",
			       .interface = "org.x.Y", .member = "S", .signature = ""};
	struct dbus_msg odd = {.type = 9, .serial = 4, .signature = ""}; /* as parsed: never NULL */
	char *head = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&head, &len);

	expect_printed(dbus_print_monitor_json, &call,
		       "{\"time\":1700000000.000042,\"type\":\"method_call\",\"sender\":\":1.7\","
		       "\"destination\":\"org.x.Y\",\"serial\":5,\"reply_serial\":null,\"path\":\"/a\","
		       "\"interface\":\"org.x.Y\",\"member\":\"M\",\"error_name\":null,"
		       "\"signature\":\"su\",\"body\":{\"type\":\"su\",\"data\":[\"a\\\"b\\\\\\n\\u0001\",7]}}\n");
	expect_printed(dbus_print_monitor_json, &ret,
		       "{\"time\":1700000000.000042,\"type\":\"method_return\",\"sender\":\":1.8\","
		       "\"destination\":\":1.7\",\"serial\":9,\"reply_serial\":5,\"path\":null,"
		       "\"interface\":null,\"member\":null,\"error_name\":null,\"signature\":\"\","
		       "\"body\":{\"type\":\"\",\"data\":[]}}\n");
	expect_printed(dbus_print_monitor_json, &odd,
		       "{\"time\":1700000000.000042,\"type\":\"unknown\",\"sender\":null,"
		       "\"destination\":null,\"serial\":4,\"reply_serial\":null,\"path\":null,"
		       "\"interface\":null,\"member\":null,\"error_name\":null,\"signature\":\"\","
		       "\"body\":{\"type\":\"\",\"data\":[]}}\n");
	dbus_print_monitor_profile_header(f);
	fclose(f);
	CHECK(strcmp(head, "#type\ttimestamp\tserial\tsender\tdestination\tpath\tinterface\tmember\n"
			   "#\t\t\t\t\tin_reply_to\n") == 0);
	free(head);
	expect_printed(dbus_print_monitor_profile, &call,
		       "mc\t1700000000.000042\t5\t:1.7\torg.x.Y\t/a\torg.x.Y\tM\n");
	expect_printed(dbus_print_monitor_profile, &ret, "mr\t1700000000.000042\t9\t:1.8\t:1.7\t5\n");
	expect_printed(dbus_print_monitor_profile, &error,
		       "err\t1700000000.000042\t10\t:1.8\t<none>\t5\n");
	expect_printed(dbus_print_monitor_profile, &sig,
		       "sig\t1700000000.000042\t3\t:1.8\t<none>\t/a\torg.x.Y\tS\n");
	expect_printed(dbus_print_monitor_profile, &odd, "tun\t1700000000.000042\n");
	/* dbus-monitor's first lines, printf's "(null)" included */
	expect_printed(dbus_print_monitor, &call,
		       "method call time=1700000000.000042 sender=:1.7 -> destination=org.x.Y serial=5 "
		       "path=/a; interface=org.x.Y; member=M\n   string \"a\"b\\\n\001\"\n   uint32 7\n");
	expect_printed(dbus_print_monitor, &ret,
		       "method return time=1700000000.000042 sender=:1.8 -> destination=:1.7 serial=9 "
		       "reply_serial=5\n");
	expect_printed(dbus_print_monitor, &error,
		       "error time=1700000000.000042 sender=:1.8 -> destination=(null destination) "
		       "error_name=org.x.Error.Bad reply_serial=5\n   string \"a\"b\\\n\001\"\n");
	expect_printed(dbus_print_monitor, &odd,
		       "(unknown message type) time=1700000000.000042 sender=(null sender) -> "
		       "destination=(null destination)\n");
	/* bus-listen's line, -v's and --json */
	expect_printed(listen_plain, &call, ":1.7 /a org.x.Y.M su \"a\\\"b\\\\\\n\\001\" 7\n");
	expect_printed(listen_verbose, &sig, "1700000000.000042 3 :1.8 /a org.x.Y.S\n");
	expect_printed(dbus_print_listen_json, &call,
		       "{\"time\":1700000000.000042,\"sender\":\":1.7\",\"path\":\"/a\","
		       "\"interface\":\"org.x.Y\",\"member\":\"M\",\"serial\":5,\"signature\":\"su\","
		       "\"data\":[\"a\\\"b\\\\\\n\\u0001\",7]}\n");
}

static void test_comm(void)
{
	char want[64] = "", got[64];
	FILE *f = fopen("/proc/self/comm", "r");

	CHECK(f && fgets(want, sizeof want, f));
	if (f)
		fclose(f);
	want[strcspn(want, "\n")] = 0;
	CHECK(proc_comm(getpid(), got, sizeof got) == got && !strcmp(got, want));
	CHECK(proc_comm(0, got, sizeof got) == NULL && got[0] == 0);
	CHECK(proc_comm(-1, got, sizeof got) == NULL && got[0] == 0);
	CHECK(proc_comm(getpid(), got, 4) == got && strlen(got) == 3 && !strncmp(got, want, 3));
}

static const struct check_group groups[] = {
	{"match", test_match}, {"pcap", test_pcap}, {"xml", test_xml}, {"ancestor", test_ancestor},
	{"words", test_words}, {"monitor", test_monitor}, {"comm", test_comm},
};

int main(int argc, char **argv)
{
	return check_run_groups("bus_lib", groups, sizeof groups / sizeof *groups, argc, argv);
}
