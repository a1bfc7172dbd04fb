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

int main(void)
{
	test_sysv_name();
	test_missing();
	test_remove_posix();
	test_user_name();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
