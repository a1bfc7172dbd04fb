/* Fuzz target: the capture reader (lib/capture.c), the diagram model
 * (lib/dbus/diagram.c) and its writers' escaping (diagram_out.c).
 *
 * The input is read as a pcap or pcapng file, fed in two pieces (the
 * first byte says where to split it), as a pipe delivers it; each record
 * goes into the model, which is then drawn in every output.  Checks: the
 * reader never claims a record outside the bytes given; the XML escaper's
 * output has no markup character but in an entity; the Mermaid escaper's
 * output is letters, digits, space, . _ / - and #N; entities, with no
 * "end" in it. */
#include "lib/capture.h"
#include "lib/dbus/diagram.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_xml(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	dbus_diag_xml(f, (const char *)data, size);
	fclose(f);
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '<' || out[i] == '>' || out[i] == '"')
			abort();
		if (out[i] == '&' && strncmp(out + i, "&amp;", 5) && strncmp(out + i, "&lt;", 4) &&
		    strncmp(out + i, "&gt;", 4) && strncmp(out + i, "&quot;", 6))
			abort();
		if ((unsigned char)out[i] < 0x20 && out[i] != '\n' && out[i] != '\t')
			abort();
	}
	free(out);
}

static void check_mermaid(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	dbus_diag_mermaid_text(f, (const char *)data, size);
	fclose(f);
	for (size_t i = 0; i < len; i++) {
		char c = out[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(" ._/-#;", c)))
			abort();
		if (i + 3 <= len && strncasecmp(out + i, "end", 3) == 0)
			abort();
	}
	if (len && (out[0] == ' ' || out[len - 1] == ' '))
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbus_diag_opts o = {.since_ns = -1, .until_ns = -1, .max = 1000};
	struct dbus_diag *d = dbus_diag_new(&o);
	struct capture c;
	size_t split = size ? data[0] % (size + 1) : 0, pos = 0, used;

	FILE *null = fopen("/dev/null", "w");

	check_xml(data, size);
	check_mermaid(data, size);
	memset(&c, 0, sizeof c);
	size_t end = split;
	int eof = 0;
	for (;;) {
		struct capture_record r;
		enum capture_result res = capture_next(&c, data + pos, end - pos, eof, &used, &r);
		if (used > end - pos)
			abort();
		if (res == CAPTURE_RECORD && (r.data < data + pos || r.data + r.len > data + end))
			abort();
		pos += used;
		if (res == CAPTURE_RECORD) {
			dbus_diag_add(d, r.data, r.len, r.ts_ns, NULL);
			continue;
		}
		if (res != CAPTURE_MORE)
			break;
		if (used)
			continue;
		if (eof)
			abort(); /* more wanted at the end, nothing consumed: it would loop */
		end = size; /* the rest of the bytes arrive, and the end */
		eof = 1;
	}
	struct dbus_diag_text t;
	dbus_diag_text_init(&t, 60, 1);
	for (uint32_t e = 0; e < d->nev; e++)
		dbus_diag_text_event(null, &t, d, e);
	dbus_diag_text_end(null, &t, d);
	dbus_diag_finish(d);
	dbus_diag_svg(null, d, 1);
	dbus_diag_mermaid(null, d);
	dbus_diag_stats(null, d, 1);
	dbus_diag_stats(null, d, 0);
	dbus_diag_free(d);
	fclose(null);
	return 0;
}
