/* Unit tests for lib/ipcname: the NAME syntax of DESIGN section 3 and Qt's
 * legacy key file names. */
#include "lib/ipcname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int parse(struct ipcname *n, const char *text, enum ipcname_family f)
{
	const char *why;
	return ipcname_parse(n, text, f, &why);
}

/* Refused, with reason (compared whole). */
static int refused(const char *text, enum ipcname_family f, const char *reason)
{
	struct ipcname n;
	const char *why = NULL;
	return ipcname_parse(&n, text, f, &why) == -1 && why && strcmp(why, reason) == 0;
}

static void test_posix(void)
{
	struct ipcname n;
	CHECK(parse(&n, "foo", IPCNAME_SHM) == 0 && n.type == IPCNAME_POSIX &&
	      strcmp(n.posix, "/foo") == 0);
	CHECK(parse(&n, "/foo", IPCNAME_SHM) == 0 && strcmp(n.posix, "/foo") == 0);
	CHECK(parse(&n, "posix:/foo", IPCNAME_SEM) == 0 && strcmp(n.posix, "/foo") == 0);
	CHECK(parse(&n, "posix:/a%3Ab", IPCNAME_SHM) == 0 && strcmp(n.posix, "/a:b") == 0);
	CHECK(parse(&n, "/a:b", IPCNAME_SHM) == 0);
	CHECK(parse(&n, "a:b", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "a/b", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "/", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "..", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "posix:foo", IPCNAME_SHM) < 0);

	char name[300];
	memset(name, 'x', sizeof name);
	name[255] = 0;
	CHECK(parse(&n, name, IPCNAME_SHM) == 0);
	CHECK(parse(&n, name, IPCNAME_SEM) < 0); /* "sem." + 255 > NAME_MAX */
	name[251] = 0;
	CHECK(parse(&n, name, IPCNAME_SEM) == 0);
	name[251] = 'x';
	name[255] = 'x';
	name[256] = 0;
	CHECK(parse(&n, name, IPCNAME_SHM) < 0);
}

static void test_sysv(void)
{
	struct ipcname n;
	CHECK(parse(&n, "sysv:0x51002bd4", IPCNAME_SHM) == 0 && n.type == IPCNAME_SYSV_KEY &&
	      (unsigned)n.key == 0x51002bd4u);
	CHECK(parse(&n, "sysv:1234", IPCNAME_SHM) == 0 && n.key == 1234);
	CHECK(parse(&n, "sysv:0xffffffff", IPCNAME_SHM) == 0 && n.key == -1);
	CHECK(parse(&n, "sysv:0x100000000", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "sysv:0", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "sysv:", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "sysv:-1", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "sysv-id:32769", IPCNAME_SEM) == 0 && n.type == IPCNAME_SYSV_ID &&
	      n.id == 32769);
	CHECK(parse(&n, "sysv-id:2147483648", IPCNAME_SEM) < 0);
	CHECK(parse(&n, "systemv:/run/user/1000/demo", IPCNAME_SHM) == 0 &&
	      n.type == IPCNAME_SYSV_FILE && n.proj == 'Q' &&
	      strcmp(n.path, "/run/user/1000/demo") == 0);
	CHECK(parse(&n, "systemv:/tmp/a%20b?legacyKey=demo", IPCNAME_SHM) == 0 &&
	      strcmp(n.path, "/tmp/a b") == 0);
	CHECK(parse(&n, "systemv-7:/tmp/x", IPCNAME_SHM) == 0 && n.proj == 7);
	CHECK(parse(&n, "systemv-0:/tmp/x", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "systemv-256:/tmp/x", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "systemv-:/tmp/x", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "systemv:", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "systemv:/tmp/%zz", IPCNAME_SHM) < 0);
	CHECK(parse(&n, "systemv:/tmp/%00", IPCNAME_SHM) < 0);
	/* the %-decoding (parse_pct_decode) and its reasons */
	CHECK(refused("systemv:/tmp/%zz", IPCNAME_SHM, "bad %-escape"));
	CHECK(refused("systemv:/tmp/%2", IPCNAME_SHM, "bad %-escape"));
	CHECK(refused("systemv:/tmp/%2?x=%41", IPCNAME_SHM, "bad %-escape"));
	CHECK(refused("systemv:/tmp/%00", IPCNAME_SHM, "NUL in name"));
	CHECK(refused("systemv:?legacyKey=x", IPCNAME_SHM, "empty path"));
	CHECK(refused("posix:", IPCNAME_SHM, "empty path"));
	CHECK(refused("posix:a", IPCNAME_SHM, "posix: names start with '/'"));
	CHECK(refused("posix:/", IPCNAME_SHM, "empty name"));
	CHECK(refused("posix:/a%2Fb", IPCNAME_SHM, "names cannot contain '/' after the first character"));
	CHECK(parse(&n, "posix:/%41%62?", IPCNAME_SEM) == 0 && strcmp(n.posix, "/Ab") == 0);
	char longpath[5000] = "systemv:/";
	memset(longpath + 9, 'a', sizeof longpath - 10);
	CHECK(refused(longpath, IPCNAME_SHM, "path too long"));
	CHECK(refused("sysv::1", IPCNAME_SHM, "empty path in sysv:PATH:PROJ"));
	CHECK(refused("sysv:0", IPCNAME_SHM, "key 0 is IPC_PRIVATE; name such an object by sysv-id:ID"));
	CHECK(refused("a:b", IPCNAME_SHM, "unknown name type (use posix:/NAME for a POSIX name with ':')"));
	CHECK(refused("qt:x", IPCNAME_MQ, "Qt has no message queues (qt: names a segment or a semaphore)"));
}

static void test_qt(void)
{
	struct ipcname n, lock;
	setenv("TMPDIR", "/tmp", 1);
	CHECK(parse(&n, "qt:demo", IPCNAME_SHM) == 0 && n.type == IPCNAME_QT && n.proj == 'Q' &&
	      strcmp(n.path, "/tmp/qipc_sharedmemory_demo89e495e7941cf9e40e6980d14a16bf023ccd4c91") == 0);
	CHECK(parse(&n, "qt:demo-sem", IPCNAME_SEM) == 0 &&
	      strcmp(n.path, "/tmp/qipc_systemsem_demosem5800ae9ff37d6db346d15df7b4eedf9cbee7a0e8") == 0);
	CHECK(parse(&n, "qt:demo", IPCNAME_SHM) == 0);
	ipcname_qt_lock(&n, &lock);
	CHECK(strcmp(lock.path, "/tmp/qipc_systemsem_demo89e495e7941cf9e40e6980d14a16bf023ccd4c91") == 0);
	/* non-ASCII letters, digits, spaces are dropped from the name, not the hash */
	CHECK(parse(&n, "qt:Gr\xc3\xbc\xc3\x9f" "e 1", IPCNAME_SHM) == 0 &&
	      strncmp(n.path, "/tmp/qipc_sharedmemory_Gre", 26) == 0 && strlen(n.path) == 26 + 40);
	unsetenv("TMPDIR");
	CHECK(parse(&n, "qt:demo", IPCNAME_SHM) == 0 &&
	      strncmp(n.path, "/tmp/qipc_sharedmemory_demo", 27) == 0);
	setenv("TMPDIR", "/tmp///", 1);
	CHECK(parse(&n, "qt:demo", IPCNAME_SHM) == 0 &&
	      strncmp(n.path, "/tmp/qipc_sharedmemory_demo", 27) == 0);
	CHECK(parse(&n, "qt:", IPCNAME_SHM) < 0);

	char key[300] = "qt:";
	memset(key + 3, 'k', 197);
	key[200] = 0; /* 18 + 197 + 40 = 255 */
	CHECK(parse(&n, key, IPCNAME_SHM) == 0);
	key[200] = 'k';
	key[201] = 0;
	CHECK(parse(&n, key, IPCNAME_SHM) < 0);
}

int main(void)
{
	test_posix();
	test_sysv();
	test_qt();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
