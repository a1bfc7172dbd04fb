/* Unit tests for lib/dbus/address.c and lib/dbus/introspect.c: the address
 * forms a client accepts, the ones it refuses (listen-only keys,
 * autolaunch:, bad escapes), the default addresses, and the introspection
 * XML reader on good and hostile documents. */
#include "lib/dbus/client.h"
#include "lib/dbus/introspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"

static struct dbus_addr addrs[DBUS_MAX_ADDRS];

static int parse(const char *text, struct dbus_err *err)
{
	return dbus_address_parse(text, addrs, DBUS_MAX_ADDRS, err);
}

static void test_good_addresses(void)
{
	struct dbus_err err;

	CHECK(parse("unix:path=/run/user/1000/bus", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_UNIX && strcmp(addrs[0].path, "/run/user/1000/bus") == 0);
	CHECK(parse("unix:abstract=/tmp/dbus-XYZ,guid=0123456789abcdef0123456789ABCDEF", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_ABSTRACT && addrs[0].pathlen == 13);
	CHECK(parse("unix:path=/tmp/a%20b%2c%3B", &err) == 1);
	CHECK(strcmp(addrs[0].path, "/tmp/a b,;") == 0);
	CHECK(parse("tcp:host=127.0.0.1,port=5555,family=ipv4", &err) == 1);
	CHECK(addrs[0].kind == DBUS_ADDR_TCP && strcmp(addrs[0].host, "127.0.0.1") == 0 &&
	      strcmp(addrs[0].port, "5555") == 0 && addrs[0].family == AF_INET);
	CHECK(parse("tcp:host=%3a%3a1,port=1,family=ipv6", &err) == 1 && addrs[0].family == AF_INET6 &&
	      strcmp(addrs[0].host, "::1") == 0);
	CHECK(parse("tcp:host=::1,port=1", &err) < 0 && strstr(err.msg, "character ':' must be written %3A"));
	/* fallbacks in order; unusable entries skipped when another is usable */
	CHECK(parse("unix:path=/a;unix:abstract=b;tcp:host=h,port=9", &err) == 3);
	CHECK(addrs[1].kind == DBUS_ADDR_ABSTRACT && addrs[2].kind == DBUS_ADDR_TCP);
	CHECK(parse("autolaunch:;unix:path=/x", &err) == 1 && strcmp(addrs[0].path, "/x") == 0);
	CHECK(parse("unix:path=/x;", &err) == 1);
}

static void refused(const char *text, const char *why)
{
	struct dbus_err err = {{0}};

	if (parse(text, &err) >= 0) {
		fprintf(stderr, "address '%s' accepted\n", text);
		failures++;
	} else if (!strstr(err.msg, why)) {
		fprintf(stderr, "address '%s': message '%s' lacks '%s'\n", text, err.msg, why);
		failures++;
	}
}

static void test_bad_addresses(void)
{
	refused("", "empty address");
	refused("unix:dir=/tmp", "for servers that listen");
	refused("unix:tmpdir=/tmp", "for servers that listen");
	refused("unix:runtime=yes", "for servers that listen");
	refused("tcp:host=h,port=1,bind=*", "for servers that listen");
	refused("autolaunch:", "autolaunch: is not supported");
	refused("nonce-tcp:host=h,port=1,noncefile=/n", "not supported");
	refused("frob:x=1", "unknown transport 'frob:'");
	refused("/run/user/0/bus", "has no transport");
	refused("unix:path=/a b", "must be written %20");
	refused("unix:path=/a%zz", "two hex digits");
	refused("unix:path=/a%2", "two hex digits");
	refused("unix:path=/a%", "two hex digits");
	refused("unix:path=/a%00b", "NUL");
	refused("unix:path=", "empty socket name");
	refused("unix:path=/a,abstract=b", "exactly one");
	refused("unix:", "exactly one");
	refused("unix:path=/a,path=/b", "given twice");
	refused("unix:path=/a,frob=1", "unknown key 'frob'");
	refused("unix:path=/a,guid=123", "32 hex digits");
	refused("unix:path", "expected KEY=VALUE");
	refused("unix:path=/a,", "trailing ','");
	refused("tcp:host=h", "needs port=");
	refused("tcp:host=h,port=0", "bad tcp port");
	refused("tcp:host=h,port=65536", "bad tcp port");
	refused("tcp:host=h,port=-1", "bad tcp port");
	refused("tcp:host=h,port=1,family=ipx", "family must be");
	refused("unix:dir=/a;autolaunch:", "for servers that listen");
	/* a syntax error anywhere in the list spoils the whole list */
	refused("unix:path=/ok;unix:path=/a%zz", "two hex digits");
	{
		char longpath[200] = "unix:path=/";
		memset(longpath + 11, 'a', 150);
		longpath[161] = 0;
		refused(longpath, "longer than");
	}
}

static void test_defaults(void)
{
	struct dbus_err err;

	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/s", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/s") == 0);
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/run/user/1000/bus") == 0);
	setenv("XDG_RUNTIME_DIR", "/run/a b", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SESSION, &err), "unix:path=/run/a%20b/bus") == 0);
	unsetenv("XDG_RUNTIME_DIR");
	CHECK(dbus_default_address(DBUS_BUS_SESSION, &err) == NULL && strstr(err.msg, "no session bus"));
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SYSTEM, &err),
		     "unix:path=/run/dbus/system_bus_socket") == 0);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/y", 1);
	CHECK(strcmp(dbus_default_address(DBUS_BUS_SYSTEM, &err), "unix:path=/y") == 0);
}

static int intro(const char *xml, struct dbus_intro *in)
{
	struct dbus_err err;
	return dbus_intro_parse(in, xml, strlen(xml), &err);
}

static void test_introspect(void)
{
	static const char *const bad[] = {
		"", "<node>", "<node></nod>", "<node/><node/>", "text<node/>", "<node a=b/>",
		"<node a='1' a='2'/>", "<node><interface/></node>",
		"<node><interface name='a.b'><method/></interface></node>",
		"<node><interface name='a.b'><property name='p' type='zz'/></interface></node>",
		"<node><interface name='a.b'><property name='p' type='s' access='all'/></interface></node>",
		"<!DOCTYPE node [<!ENTITY x 'y'>]><node/>", "<node name='&bogus;'/>",
		"<node name='&#0;'/>", "<node><!-- unterminated </node>", "<node a='<'/>",
		"<node><node></node></node>",
	};
	struct dbus_intro in;
	char deep[4 * DBUS_INTRO_MAX_DEPTH + 64] = "";

	CHECK(intro("<?xml version='1.0'?><!DOCTYPE node PUBLIC \"x\" \"y\">\n<!-- c -->"
		    "<node name=\"/a\"><interface name=\"org.x.Y\">"
		    "<method name=\"M\"><arg type=\"s\" direction=\"in\"/><arg type=\"a{sv}\" direction=\"out\"/>"
		    "<annotation name=\"org.freedesktop.DBus.Deprecated\" value=\"true\"/></method>"
		    "<signal name=\"S\"><arg type=\"i\"/><arg type=\"(ii)\"/></signal>"
		    "<property name=\"P\" type=\"as\" access=\"readwrite\"/>"
		    "<doc:doc><doc:summary>ignored &amp; skipped</doc:summary></doc:doc>"
		    "</interface><node name=\"child\"/><node name=\"x&amp;y&#x41;\"></node></node>",
		    &in) == 0);
	CHECK(in.nifaces == 1 && strcmp(in.ifaces[0], "org.x.Y") == 0);
	CHECK(in.nmembers == 3);
	CHECK(in.members[0].kind == DBUS_INTRO_METHOD && strcmp(in.members[0].in, "s") == 0 &&
	      strcmp(in.members[0].out, "a{sv}") == 0 && (in.members[0].flags & DBUS_INTRO_DEPRECATED));
	CHECK(in.members[1].kind == DBUS_INTRO_SIGNAL && strcmp(in.members[1].in, "i(ii)") == 0);
	CHECK(in.members[2].kind == DBUS_INTRO_PROPERTY && (in.members[2].flags & DBUS_INTRO_WRITABLE) &&
	      (in.members[2].flags & DBUS_INTRO_EMITS_CHANGE));
	CHECK(in.nchildren == 2 && strcmp(in.children[1], "x&yA") == 0);
	dbus_intro_free(&in);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (intro(bad[i], &in) == 0) {
			fprintf(stderr, "introspection '%s' accepted\n", bad[i]);
			failures++;
			dbus_intro_free(&in);
		}
	for (int i = 0; i <= DBUS_INTRO_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	CHECK(intro(deep, &in) < 0);
}

int main(void)
{
	test_good_addresses();
	test_bad_addresses();
	test_defaults();
	test_introspect();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
