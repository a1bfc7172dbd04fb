/* Unit tests for lib/format: the -F engine of bus-listen and channel-listen. */
#include "lib/format.h"

#include <stdlib.h>

#include "check.h"

/* The directives of the test: %a prints "A", %b the argument's text. */
static void put(FILE *out, char d, const void *arg)
{
	if (d == 'a')
		fputs("A", out);
	else if (d == 'b')
		fputs(arg, out);
}

/* fmt printed with the test's directives, into a malloc'd string (NULs
 * kept: *len is its length). */
static char *printed(const char *fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	format_print(f, fmt, put, "arg");
	fclose(f);
	return buf;
}

static int check(const char *fmt, const char *why_part)
{
	char why[64] = "";
	int r = format_check(fmt, "ab", "nt\\", why, sizeof why);

	return why_part ? r < 0 && strstr(why, why_part) != NULL : r == 0 && why[0] == 0;
}

static void test_check(void)
{
	CHECK(check("", NULL));
	CHECK(check("plain text", NULL));
	CHECK(check("%a %b %% \\n\\t\\\\", NULL));
	CHECK(check("%c", "unknown directive '%c'"));
	CHECK(check("x %", "unknown directive '%'"));
	CHECK(check("\\0", "unknown escape '\\0'"));
	CHECK(check("x\\", "unknown escape '\\'"));
	/* the escapes are the caller's: \0 where it says so */
	CHECK(format_check("\\0", "", "nt0\\", (char[64]){0}, 64) == 0);
}

static void test_print(void)
{
	size_t len;
	char *s;

	s = printed("[%a|%b|%%]\\n\\t\\\\", &len);
	CHECK(len == 12 && memcmp(s, "[A|arg|%]\n\t\\", 12) == 0);
	free(s);
	s = printed("a\\0b", &len);
	CHECK(len == 3 && memcmp(s, "a\0b", 3) == 0);
	free(s);
	s = printed("", &len);
	CHECK(len == 0);
	free(s);
}

int main(int argc, char **argv)
{
	static const struct check_group groups[] = {{"check", test_check}, {"print", test_print}};

	return check_run_groups("format", groups, sizeof groups / sizeof groups[0], argc, argv);
}
