/* Unit tests for lib/ipcobj: the NAME of a listed System V object, what
 * counts as "no such object", removal of POSIX objects by NAME, and the
 * user name of a uid. */
#include "lib/ipcobj.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

static void test_sysv_name(void)
{
	char buf[32];

	CHECK(strcmp(ipcobj_sysv_name(0, 32769, buf), "sysv-id:32769") == 0);
	CHECK(strcmp(ipcobj_sysv_name(0x51002bd4, 7, buf), "sysv:0x51002bd4") == 0);
}

static void test_missing(void)
{
	CHECK(ipcobj_missing(ENOENT) && ipcobj_missing(EINVAL) && ipcobj_missing(EIDRM));
	CHECK(!ipcobj_missing(EACCES) && !ipcobj_missing(EPERM));
	CHECK(strcmp(ipcobj_noun(IPCNAME_SHM), "segment") == 0);
	CHECK(strcmp(ipcobj_noun(IPCNAME_SEM), "semaphore") == 0);
}

/* Remove a POSIX object of each family, then find it gone. */
static void test_remove_posix(void)
{
	char text[64];
	struct ipcname n;
	const char *why;
	int fd;
	sem_t *s;

	snprintf(text, sizeof text, "ipcbox-test-unit-ipcobj-%d", (int)getpid());
	CHECK(ipcname_parse(&n, text, IPCNAME_SHM, &why) == 0);
	fd = shm_open(n.posix, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(ipcobj_remove(&n) == 0);
	CHECK(ipcobj_remove(&n) < 0 && errno == ENOENT);

	CHECK(ipcname_parse(&n, text, IPCNAME_SEM, &why) == 0);
	s = sem_open(n.posix, O_CREAT | O_EXCL, 0600, 0);
	CHECK(s != SEM_FAILED);
	if (s != SEM_FAILED)
		sem_close(s);
	CHECK(ipcobj_remove(&n) == 0);
	CHECK(ipcobj_remove(&n) < 0 && errno == ENOENT);
}

/* /etc/passwd's answer is getpwuid's for the uids it holds (root, our
 * own where the file lists it); an unknown uid still gets an answer. */
static void test_user_name(void)
{
	uid_t uids[] = {0, getuid()};
	for (size_t i = 0; i < sizeof uids / sizeof *uids; i++) {
		struct passwd *pw = getpwuid(uids[i]);
		CHECK(strcmp(ipcobj_user_name(uids[i]), pw ? pw->pw_name : "?") == 0);
	}
	const char *none = ipcobj_user_name(4000000000u);
	CHECK(none && *none);
}

/* ipcobj_passwd_find on text given through a memfd. */
static int find(const char *text, size_t len, uid_t uid, char *name)
{
	int fd = memfd_create("passwd", 0);
	CHECK(fd >= 0 && write(fd, text, len) == (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	int r = ipcobj_passwd_find(fd, uid, name, 32);
	close(fd);
	return r;
}
#define FIND(text, uid, name) find(text, sizeof text - 1, uid, name)

/* Plain entries are read; a line glibc might read otherwise, before the
 * entry, leaves the answer to getpwuid (0). */
static void test_passwd_find(void)
{
	char name[32];

	CHECK(FIND("root:x:0:0:root:/root:/bin/sh\nal:x:1001:1001::/home/al:/bin/sh\n", 1001,
		   name) == 1 && strcmp(name, "al") == 0);
	CHECK(FIND("\n\nal:x:0001001:5:a:b:c:d:e", 1001, name) == 1 && strcmp(name, "al") == 0);
	CHECK(FIND("root:x:0:0:root:/root:/bin/sh\n", 1001, name) == 0);
	const char *unsure[] = {
		"#al:x:1001:1:::\nbo:x:1001:1:::\n",	 /* a comment */
		"+al:x:1001:1:::\nbo:x:1001:1:::\n",	 /* NIS compat */
		" al:x:1001:1:::\nbo:x:1001:1:::\n",	 /* a leading blank */
		"\val:x:1001:1:::\nbo:x:1001:1:::\n",	 /* leading white space */
		"al:x:0x3e9:1:::\nbo:x:1001:1:::\n",	 /* not decimal */
		"al:x: 1001:1:::\nbo:x:1001:1:::\n",	 /* a blank in the uid */
		"al:x:1001:1::\nbo:x:1001:1:::\n",	 /* five colons */
		"al:x:1001::::\nbo:x:1001:1:::\n",	 /* an empty gid */
		"al:x:99999999999:1:::\nbo:x:1001:1:::\n", /* too large */
		":x:1001:1:::\nbo:x:1001:1:::\n",	 /* no name */
	};
	for (size_t i = 0; i < sizeof unsure / sizeof *unsure; i++)
		CHECK(find(unsure[i], strlen(unsure[i]), 1001, name) == 0);
	CHECK(FIND("al:x:10\0001:1:::\nbo:x:1001:1:::\n", 1001, name) == 0); /* a NUL */
	CHECK(FIND("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:x:1001:1:::\n", 1001, name) == 0);
	CHECK(FIND("al:x:4294967295:1:::\n", 4294967295u, name) == 1);
	CHECK(ipcobj_passwd_find(-1, 0, name, sizeof name) == -1);
	/* a plain line too long for the reader's buffer, before the entry */
	static char big[20000];
	int n = snprintf(big, sizeof big, "al:x:1001:1::/home/al:/bin/");
	memset(big + n, 's', sizeof big - (size_t)n - 64);
	strcpy(big + sizeof big - 64, "\nbo:x:1001:1:::\n");
	CHECK(find(big, strlen(big), 1001, name) == 0);
	CHECK(find(big + sizeof big - 63, strlen(big + sizeof big - 63), 1001, name) == 1 &&
	      strcmp(name, "bo") == 0);
}

int main(void)
{
	test_sysv_name();
	test_missing();
	test_remove_posix();
	test_user_name();
	test_passwd_find();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
