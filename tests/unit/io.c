/* Unit tests for lib/io's io_scan_lines: blocks of whole lines whatever
 * the read sizes, overlong lines skipped whole, a last line without its
 * newline, and fn's stop value passed back; io_put_u64/io_put_i64
 * against printf at the extremes; io_buffer_alloc's alignment. */
#include "lib/io.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* Collect every block into a growing string, each followed by '|'. */
struct collect {
	char out[4096];
	int blocks;
	int skipped; /* calls for an overlong line */
	const char *stop_at; /* a line that makes fn return 7 */
};

static int collect(char *text, size_t len, void *ctx)
{
	struct collect *c = ctx;

	if (!text) {
		CHECK(len == 0);
		c->skipped++;
		return 0;
	}
	CHECK(strlen(text) == len);
	c->blocks++;
	strncat(c->out, text, sizeof c->out - strlen(c->out) - 2);
	strcat(c->out, "|");
	return c->stop_at && strstr(text, c->stop_at) ? 7 : 0;
}

/* Scan text through a temporary file with a buffer of size bytes. */
static int scan(const char *text, size_t size, struct collect *c)
{
	char path[] = "/tmp/ipcbox-unit-io.XXXXXX";
	int fd = mkstemp(path);
	char *buf = malloc(size);

	CHECK(fd >= 0 && buf);
	unlink(path);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	lseek(fd, 0, SEEK_SET);
	int r = io_scan_lines(fd, buf, size, collect, c);
	close(fd);
	free(buf);
	return r;
}

/* With any buffer, the blocks joined give back the whole lines in order. */
static void test_whole_lines(void)
{
	const char *text = "one\ntwo two\nthree three three\nfour\n";
	for (size_t size = 20; size <= 64; size++) {
		struct collect c = {0};
		CHECK(scan(text, size, &c) == 0);
		char joined[4096];
		size_t n = 0;
		/* each block is its lines without the last newline, then '|' */
		for (const char *p = c.out; *p && n < sizeof joined - 1; p++)
			joined[n++] = *p != '|' ? *p : '\n';
		joined[n] = '\0';
		CHECK(strcmp(joined, "one\ntwo two\nthree three three\nfour\n") == 0);
	}
}

/* A line longer than the buffer is dropped to its end; the rest arrive. */
static void test_overlong(void)
{
	for (size_t size = 8; size <= 24; size++) {
		struct collect c = {0};
		CHECK(scan("ok\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:0:\nafter\n", size, &c) == 0);
		CHECK(strstr(c.out, "ok") && strstr(c.out, "after"));
		CHECK(!strchr(c.out, 'x') && !strchr(c.out, ':'));
		CHECK(c.skipped == 1);
	}
}

static void test_last_line_and_stop(void)
{
	struct collect c = {0};
	CHECK(scan("a\nb", 64, &c) == 0);
	CHECK(strstr(c.out, "a") && strstr(c.out, "b|"));

	struct collect s = {.stop_at = "stop"};
	CHECK(scan("x\nstop\ny\n", 6, &s) == 7);
	CHECK(!strstr(s.out, "y"));

	struct collect e = {0};
	CHECK(scan("", 8, &e) == 0 && e.blocks == 0 && e.skipped == 0);
	CHECK(io_scan_lines(-1, e.out, sizeof e.out, collect, &e) == -1);
}

/* What io_put_u64(v, width) and io_put_i64(i) print, as one string. */
static void put_both(uint64_t v, int width, int64_t i, char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");

	CHECK(f != NULL);
	io_put_u64(f, v, width);
	putc('|', f);
	io_put_i64(f, i);
	CHECK(fclose(f) == 0);
}

static void test_put_numbers(void)
{
	static const uint64_t us[] = {0, 1, 9, 10, 999999, 1000000, 4294967295u, UINT64_MAX};
	static const int64_t is[] = {0, -1, 1, -9, INT32_MIN, INT64_MAX, INT64_MIN};
	static const int widths[] = {0, 1, 6, 20, 24};

	for (size_t a = 0; a < sizeof us / sizeof *us; a++)
		for (size_t b = 0; b < sizeof is / sizeof *is; b++)
			for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
				char got[64] = "", want[64];
				put_both(us[a], widths[w], is[b], got, sizeof got);
				snprintf(want, sizeof want, "%0*llu|%lld", widths[w],
					 (unsigned long long)us[a], (long long)is[b]);
				CHECK(strcmp(got, want) == 0);
			}
}

/* Page-aligned, whatever the size asked for; an impossible size is ENOMEM. */
static void test_buffer_alloc(void)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 1024 * 1024, 1024 * 1024 + 16};
	size_t page = (size_t)getpagesize();

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		unsigned char *b = io_buffer_alloc(sizes[i]);
		CHECK(b != NULL && (uintptr_t)b % page == 0);
		if (b && sizes[i])
			memset(b, 0xa5, sizes[i]); /* the whole length is ours (ASan checks) */
		free(b);
	}
	errno = 0;
	CHECK(io_buffer_alloc(SIZE_MAX) == NULL && errno == ENOMEM);
}

int main(int argc, char **argv)
{
	static const struct check_group groups[] = {
		{"whole-lines", test_whole_lines},
		{"overlong", test_overlong},
		{"last-line-and-stop", test_last_line_and_stop},
		{"put-numbers", test_put_numbers},
		{"buffer-alloc", test_buffer_alloc},
	};
	return check_run_groups("io", groups, sizeof groups / sizeof *groups, argc, argv);
}
