/* Fuzz target: the TLS option values ipcbox parses itself (lib/tls.c):
 * --pin (curl's sha256//BASE64), --alpn (a comma-separated list into the
 * wire form) and --tls-min.  The first byte picks the parser, the rest is
 * the text (cut at its first NUL).  Each is checked against what it must
 * do: a pin is accepted exactly when it is canonical (formatting the bytes
 * gives the text back); an ALPN list exactly when every name is 1-255
 * bytes and the wire form fits in 255 bytes, and the wire form read back
 * gives the list; a version is "1.2" or "1.3". */
#include "lib/tls.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *s)
{
	fprintf(stderr, "%s: '%s'\n", what, s);
	abort();
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static void check_pin(const char *s)
{
	unsigned char pin[TLS_PIN_LEN];
	char back[TLS_PIN_TEXT + 1];
	const char *why = NULL;
	int ok = tls_pin_parse(s, pin, &why) == 0;
	int shape = strlen(s) == TLS_PIN_TEXT && strncmp(s, "sha256//", 8) == 0 && s[TLS_PIN_TEXT - 1] == '=';

	for (int i = 8; shape && i < TLS_PIN_TEXT - 1; i++)
		shape = b64_char(s[i]);
	if (ok) {
		tls_pin_format(pin, back);
		if (strcmp(back, s) != 0)
			fail("pin accepted but not canonical", s);
	} else {
		if (!why || !*why)
			fail("pin refused without a reason", s);
		/* Refused only for its shape or for non-zero padding bits. */
		if (shape && strchr("AEIMQUYcgkosw048", s[TLS_PIN_TEXT - 2]))
			fail("canonical pin refused", s);
	}
	if (ok && !shape)
		fail("pin of the wrong shape accepted", s);
}

static void check_alpn(const char *s)
{
	unsigned char wire[256];
	unsigned len = 0;
	const char *why = NULL;
	int ok = tls_alpn_parse(s, wire, &len, &why) == 0;
	size_t total = 0, n;
	int valid = 1;

	for (const char *p = s;; p += n + 1) {
		n = strcspn(p, ",");
		if (n == 0 || n > 255)
			valid = 0;
		total += 1 + n;
		if (!p[n])
			break;
	}
	if (total > 255)
		valid = 0;
	if (ok != valid)
		fail(ok ? "invalid ALPN list accepted" : "valid ALPN list refused", s);
	if (!ok)
		return;
	if (len != total)
		fail("ALPN wire length", s);
	/* Read the wire form back into the text. */
	char text[512];
	size_t t = 0;
	for (unsigned i = 0; i < len; i += 1u + wire[i]) {
		if (i)
			text[t++] = ',';
		memcpy(text + t, wire + i + 1, wire[i]);
		t += wire[i];
	}
	text[t] = '\0';
	if (strcmp(text, s) != 0)
		fail("ALPN wire form does not read back", s);
}

static void check_version(const char *s)
{
	int v = 0;
	const char *why = NULL;
	int ok = tls_version_parse(s, &v, &why) == 0;

	if (ok != (strcmp(s, "1.2") == 0 || strcmp(s, "1.3") == 0))
		fail("version", s);
	if (ok && v != (s[2] == '2' ? 12 : 13))
		fail("version value", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[1024];

	if (size < 1)
		return 0;
	size_t n = size - 1 < sizeof s - 1 ? size - 1 : sizeof s - 1;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 3) {
	case 0: check_pin(s); break;
	case 1: check_alpn(s); break;
	default: check_version(s); break;
	}
	return 0;
}
