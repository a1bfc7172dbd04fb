/* Unit tests for lib/channel: the version 1 frame (round trip, every length
 * check), pattern matching, and the registration file parser. */
#include "lib/channel/dir.h"
#include "lib/channel/frame.h"

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                         \
		}                                                           \
	} while (0)

static unsigned char buf[CHAN_FRAME_MAX + 16];

/* Build a whole frame in buf; its length. */
static size_t build(const char *ch, const char *msg, const char *data, size_t dlen)
{
	struct chan_msg m = {ch, strlen(ch), msg, strlen(msg), data, dlen};
	size_t n = chan_frame_prefix(buf, &m);

	if (n)
		memcpy(buf + n, data, dlen);
	return n ? n + dlen : 0;
}

static void test_round_trip(void)
{
	struct chan_msg m;
	const char *why;
	size_t n = build("QPE/System", "setVolume(int,int)", "\0\1\2", 3);

	CHECK(n == 16 + 10 + 18 + 3);
	CHECK(memcmp(buf, "IPCh\1\0\12\0\22\0\0\0\3\0\0\0", 16) == 0);
	CHECK(chan_frame_parse(buf, n, &m, &why) == 0);
	CHECK(m.channel_len == 10 && memcmp(m.channel, "QPE/System", 10) == 0);
	CHECK(m.message_len == 18 && memcmp(m.message, "setVolume(int,int)", 18) == 0);
	CHECK(m.data_len == 3 && memcmp(m.data, "\0\1\2", 3) == 0);
	chan_frame_set_data_len(buf, 2);
	CHECK(chan_frame_parse(buf, n - 1, &m, &why) == 0 && m.data_len == 2);
}

static void test_refusals(void)
{
	struct chan_msg m;
	const char *why;
	size_t n = build("ch", "", "", 0);
	static char big[CHAN_DATA_MAX + 1];

	CHECK(n == 18 && chan_frame_parse(buf, n, &m, &why) == 0 && m.message_len == 0);
	CHECK(chan_frame_parse(buf, n + 1, &m, &why) < 0 && strstr(why, "add up"));
	CHECK(chan_frame_parse(buf, n - 1, &m, &why) < 0);
	CHECK(chan_frame_parse(buf, 15, &m, &why) < 0 && strstr(why, "header"));
	buf[0] = 'X';
	CHECK(chan_frame_parse(buf, n, &m, &why) < 0 && strstr(why, "magic"));
	buf[0] = 'I';
	buf[4] = 2;
	CHECK(chan_frame_parse(buf, n, &m, &why) < 0 && strstr(why, "version"));
	buf[4] = 1;
	buf[5] = 1;
	CHECK(chan_frame_parse(buf, n, &m, &why) < 0 && strstr(why, "flags"));
	buf[5] = 0;
	buf[6] = 0;
	CHECK(chan_frame_parse(buf, n, &m, &why) < 0 && strstr(why, "channel length"));
	buf[6] = 2;
	buf[15] = 0x80;
	CHECK(chan_frame_parse(buf, n, &m, &why) < 0 && strstr(why, "data length"));
	CHECK(build("", "m", "", 0) == 0);
	CHECK(build("c", "m", big, sizeof big) == 0);
	CHECK(build("c", "m", big, sizeof big - 1) == CHAN_PREFIX_MAX - 508 + CHAN_DATA_MAX);
	CHECK(chan_frame_parse(buf, 18 + CHAN_DATA_MAX, &m, &why) == 0 && m.data_len == CHAN_DATA_MAX);
}

static void test_match(void)
{
	struct {
		const char *pat, *s;
		int want;
	} v[] = {
		{"a", "a", 1},       {"a", "ab", 0},        {"*", "", 1},         {"*", "QPE/System", 1},
		{"QPE/*", "QPE/", 1}, {"QPE/*", "QPE", 0},  {"QPE/*", "QPE/Card", 1}, {"a*b*c", "axxbyyc", 1},
		{"a*b*c", "acb", 0}, {"*c", "abcbc", 1},    {"a**", "a", 1},      {"*a*a*a*b", "aaaaaaaaaaaaaaa", 0},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (chan_match(v[i].pat, strlen(v[i].pat), v[i].s, strlen(v[i].s)) != v[i].want) {
			fprintf(stderr, "match '%s' '%s' != %d\n", v[i].pat, v[i].s, v[i].want);
			failures++;
		}
}

static int parse_text(struct chan_reg *r, const char *text)
{
	strcpy(r->text, text);
	return chan_reg_parse(r, strlen(text));
}

static void test_reg_parse(void)
{
	static struct chan_reg r;

	CHECK(parse_text(&r, "123\nQPE/*\nch\n") == 0 && r.pid == 123 && r.npat == 2);
	CHECK(r.patlen[0] == 5 && memcmp(chan_reg_pat(&r, 0), "QPE/*", 5) == 0 && chan_reg_matches(&r, "ch", 2));
	CHECK(!chan_reg_matches(&r, "c", 1));
	CHECK(parse_text(&r, "123\n") < 0);
	CHECK(parse_text(&r, "1\na") < 0);
	CHECK(parse_text(&r, "x\na\n") < 0);
	CHECK(parse_text(&r, "1\n\n") < 0);
	CHECK(parse_text(&r, "-1\na\n") < 0);
	CHECK(chan_name_check("") && chan_name_check("a\nb") && !chan_name_check("QPE/System"));
}

int main(void)
{
	test_round_trip();
	test_refusals();
	test_match();
	test_reg_parse();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
