/* diagram writers: SVG, HTML, Mermaid, the terminal ladder and the
 * statistics; see diagram.h.  They read the model and nothing else. */
#include "diagram.h"
#include "../json.h"

#include <string.h>

#define NONE DBUS_DIAG_NONE
#define ALL DBUS_DIAG_ALL

/* ---- escaping ------------------------------------------------------------ */

/* XML 1.0 has no way to write most control characters, even as a
 * reference: they are shown as \xNN.  The model's text is valid UTF-8
 * (the message parser sees to it); a byte that is not is shown as \xNN too. */
void dbus_diag_xml(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : json_utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0 || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
		    (n == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf && (unsigned char)s[i + 2] >= 0xbe)) {
			fprintf(f, "\\x%02x", c); /* U+FFFE and U+FFFF are no XML characters either */
			i++;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fwrite(s + i, 1, n, f); break;
		}
		i += n;
	}
}

static void xml(FILE *f, const char *s)
{
	if (s)
		dbus_diag_xml(f, s, strlen(s));
}

/* The code point of the UTF-8 sequence s[0..n). */
static unsigned codepoint(const unsigned char *s, size_t n)
{
	static const unsigned char lead[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	unsigned cp = s[0] & lead[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Mermaid: letters, digits, space and . _ / - stand as they are; all else
 * is an entity code #N; (decimal code point), and the e of every "end" is
 * one too, so that no text closes a block. */
void dbus_diag_mermaid_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : json_utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			fputs("#65533;", f);
			i++;
			continue;
		}
		int safe = n == 1 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				      (c >= '0' && c <= '9') || strchr(" ._/-", c));
		if ((c == 'e' || c == 'E') && len - i >= 3 && strncasecmp(s + i, "end", 3) == 0)
			safe = 0;
		if (safe && c == ' ' && (i == 0 || i + 1 == len))
			safe = 0; /* Mermaid trims the ends */
		if (safe)
			putc(c, f);
		else
			fprintf(f, "#%u;", codepoint((const unsigned char *)s + i, n));
		i += n;
	}
}

static void mm(FILE *f, const char *s)
{
	if (s)
		dbus_diag_mermaid_text(f, s, strlen(s));
}

/* ---- SVG ----------------------------------------------------------------- */

#define LEFT 78   /* the time margin */
#define HEAD 54   /* the column headers */
#define ROW 24
#define CHARW 7   /* about, for 12px sans-serif */

struct layout {
	int colw, width, height;
};

static int col_x(const struct layout *l, uint32_t c)
{
	return LEFT + (int)c * l->colw + l->colw / 2;
}

static int row_y(uint32_t e)
{
	return HEAD + 24 + (int)e * ROW;
}

static struct layout layout(const struct dbus_diag *d)
{
	struct layout l = {140, 0, 0};
	for (uint32_t i = 0; i < d->ncols; i++) {
		int w = (int)strlen(dbus_diag_column_label(&d->cols[i])) * CHARW + 24;
		if (w > l.colw)
			l.colw = w;
	}
	if (l.colw > 300)
		l.colw = 300;
	l.width = LEFT + (int)(d->ncols ? d->ncols : 1) * l.colw + 10;
	l.height = row_y(d->nev) + 10;
	return l;
}

static const char svg_style[] =
	"<style>\n"
	"text{font:12px sans-serif;text-anchor:middle;fill:#111}\n"
	".h rect{fill:#e8eef8;stroke:#4a5f85}.h .u{font-size:10px;fill:#556}\n"
	".l{stroke:#99a;stroke-dasharray:3 3}\n"
	"path{fill:none;stroke-width:1.4}\n"
	".c path{stroke:#1f3c88;marker-end:url(#a)}\n"
	".r path{stroke:#1f3c88;stroke-dasharray:6 3;marker-end:url(#a)}\n"
	".r text{fill:#1f3c88}\n"
	".e path{stroke:#c0161b;stroke-dasharray:6 3;marker-end:url(#x)}.e text{fill:#c0161b;font-weight:bold}\n"
	".s path{stroke:#1b7f2a;marker-end:url(#s)}.s text{fill:#1b7f2a}\n"
	".b path{stroke:#1b7f2a;stroke-dasharray:1 3}.b circle{fill:#1b7f2a}.b text{fill:#1b7f2a}\n"
	".n path{stroke:#d2691e;stroke-dasharray:2 2;marker-end:url(#a)}.n text{fill:#d2691e}\n"
	".x path{stroke:#555;stroke-width:2}\n"
	"svg text.t{font:10px monospace;text-anchor:start;fill:#667}\n"
	"</style>\n";

static const char svg_defs[] =
	"<defs>"
	"<marker id=\"a\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
	"<path d=\"M0 0L10 5L0 10z\" style=\"fill:#1f3c88;stroke:none\"/></marker>"
	"<marker id=\"s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
	"<path d=\"M0 0L10 5L0 10\" stroke=\"#1b7f2a\"/></marker>"
	"<marker id=\"x\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto\">"
	"<path d=\"M1 1L9 9M9 1L1 9\" stroke=\"#c0161b\" stroke-width=\"2\"/></marker>"
	"</defs>\n";

static void svg_header(FILE *f, const struct dbus_diag *d, const struct layout *l, uint32_t c)
{
	const struct dbus_diag_column *col = &d->cols[c];
	int x = col_x(l, c), w = l->colw - 12;
	const char *label = dbus_diag_column_label(col);
	size_t fit = (size_t)(w / CHARW);

	fprintf(f, "<g class=\"h\"><title>");
	xml(f, col->name);
	for (uint32_t i = 0; i < col->nlabels; i++) {
		fputc('\n', f);
		xml(f, col->labels[i]);
	}
	fprintf(f, "</title><rect x=\"%d\" y=\"8\" width=\"%d\" height=\"38\" rx=\"4\"/><text x=\"%d\" y=\"%d\">",
		x - w / 2, w, x, col->nlabels ? 24 : 31);
	if (strlen(label) > fit && fit > 1) {
		dbus_diag_xml(f, label, fit - 1);
		fputs("\xe2\x80\xa6", f);
	} else {
		xml(f, label);
	}
	fputs("</text>", f);
	if (col->nlabels) {
		fprintf(f, "<text class=\"u\" x=\"%d\" y=\"39\">", x);
		xml(f, col->name);
		if (col->nlabels > 1)
			fprintf(f, " +%u", col->nlabels - 1);
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
	int end = col->end == NONE ? l->height - 6 : row_y(col->end);
	fprintf(f, "<path class=\"l\" d=\"M%d 46V%d\"/>\n", x, end);
}

static void svg_label(FILE *f, int x, int y, const char *text, const char *suffix)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\">", x, y - 4);
	xml(f, text);
	if (suffix)
		fputs(suffix, f);
	fputs("</text>", f);
}

static void svg_event(FILE *f, const struct dbus_diag *d, const struct layout *l, uint32_t e)
{
	const struct dbus_diag_event *ev = &d->ev[e];
	int y = row_y(e), xa = col_x(l, ev->from), xb = ev->to == ALL ? 0 : col_x(l, ev->to);
	const char *cls = "c", *label = ev->label, *suffix = NULL;
	char el[32];

	if (ev->kind == DBUS_DIAG_LEAVE) {
		fprintf(f, "<g class=\"x\"><title>");
		xml(f, d->cols[ev->from].name);
		fprintf(f, " left the bus</title><path d=\"M%d %dl12 12m0-12l-12 12\"/></g>\n", xa - 6, y - 6);
		return;
	}
	switch (ev->kind) {
	case DBUS_METHOD_CALL:
		if (dbus_diag_unanswered(d, e)) {
			cls = "n";
			suffix = " (no reply)";
		}
		break;
	case DBUS_METHOD_RETURN:
		cls = "r";
		label = dbus_diag_elapsed(el, sizeof el, ev->elapsed_ns);
		break;
	case DBUS_ERROR: cls = "e"; break;
	case DBUS_SIGNAL: cls = ev->to == ALL ? "b" : "s"; break;
	}
	fprintf(f, "<g class=\"%s\"><title>", cls);
	xml(f, ev->detail);
	fprintf(f, "</title><text class=\"t\" x=\"4\" y=\"%d\">%.6f</text>", y + 4, (double)ev->t_ns / 1e9);
	if (ev->to == ALL) {
		int x1 = col_x(l, 0), x2 = col_x(l, d->ncols - 1);
		fprintf(f, "<path d=\"M%d %dH%d\"/><circle cx=\"%d\" cy=\"%d\" r=\"4\"/>", x1 - 20, y,
			x2 + 20, xa, y);
		svg_label(f, xa + (xa == x2 ? -l->colw / 4 : l->colw / 2), y, label, NULL);
	} else if (xa == xb) {
		fprintf(f, "<path d=\"M%d %dh24v10h-22\"/>", xa, y - 6);
		fprintf(f, "<text x=\"%d\" y=\"%d\" style=\"text-anchor:start\">", xa + 28, y + 4);
		xml(f, label);
		if (suffix)
			fputs(suffix, f);
		fputs("</text>", f);
	} else {
		fprintf(f, "<path d=\"M%d %dH%d\"/>", xa, y, xb);
		svg_label(f, (xa + xb) / 2, y, label, suffix);
	}
	fputs("</g>\n", f);
}

static void html_stats(FILE *f, const struct dbus_diag *d);

void dbus_diag_svg(FILE *f, const struct dbus_diag *d, int html)
{
	struct layout l = layout(d);

	if (html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<title>D-Bus sequence diagram</title><style>"
		      "body{font:14px sans-serif;margin:16px}"
		      "table{border-collapse:collapse;margin-top:16px}"
		      "th,td{border:1px solid #bbb;padding:2px 8px}td.n{text-align:right}"
		      "</style></head><body>\n<h1>D-Bus sequence diagram</h1>\n", f);
	} else {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		l.width, l.height, l.width, l.height);
	fputs(svg_style, f);
	fputs(svg_defs, f);
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
	fprintf(f, "<text class=\"t\" x=\"4\" y=\"%d\">seconds</text>\n", HEAD + 6);
	for (uint32_t c = 0; c < d->ncols; c++)
		svg_header(f, d, &l, c);
	for (uint32_t e = 0; e < d->nev; e++)
		svg_event(f, d, &l, e);
	fputs("</svg>\n", f);
	if (html) {
		html_stats(f, d);
		fputs("</body></html>\n", f);
	}
}

/* ---- statistics ---------------------------------------------------------- */

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static double mean_ms(const struct dbus_diag_stat *s)
{
	return s->answered ? ms(s->total_ns) / (double)s->answered : 0;
}

static void html_stats(FILE *f, const struct dbus_diag *d)
{
	fputs("<table><caption>Method calls</caption>\n<tr><th>destination</th><th>interface</th>"
	      "<th>member</th><th>calls</th><th>errors</th><th>total ms</th><th>mean ms</th>"
	      "<th>max ms</th></tr>\n", f);
	for (uint32_t i = 0; i < d->nstats; i++) {
		const struct dbus_diag_stat *s = &d->stats[i];
		if (s->signal)
			continue;
		fputs("<tr><td>", f);
		xml(f, s->dest);
		fputs("</td><td>", f);
		xml(f, s->iface);
		fputs("</td><td>", f);
		xml(f, s->member);
		fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%.3f</td>"
			"<td class=\"n\">%.3f</td><td class=\"n\">%.3f</td></tr>\n",
			(unsigned long long)s->count, (unsigned long long)s->errors, ms(s->total_ns),
			mean_ms(s), ms(s->max_ns));
	}
	fputs("</table>\n<table><caption>Signals</caption>\n<tr><th>destination</th><th>interface</th>"
	      "<th>member</th><th>signals</th></tr>\n", f);
	for (uint32_t i = 0; i < d->nstats; i++) {
		const struct dbus_diag_stat *s = &d->stats[i];
		if (!s->signal)
			continue;
		fputs("<tr><td>", f);
		xml(f, s->dest ? s->dest : "(broadcast)");
		fputs("</td><td>", f);
		xml(f, s->iface);
		fputs("</td><td>", f);
		xml(f, s->member);
		fprintf(f, "</td><td class=\"n\">%llu</td></tr>\n", (unsigned long long)s->count);
	}
	fputs("</table>\n", f);
}

static const char *dash(const char *s)
{
	return s ? s : "-";
}

static void json_or_null(FILE *f, const char *s)
{
	if (s)
		json_cstring(f, s);
	else
		fputs("null", f);
}

void dbus_diag_stats(FILE *f, const struct dbus_diag *d, int json)
{
	int w[3] = {11, 9, 6};

	if (json) {
		putc('[', f);
		for (uint32_t i = 0; i < d->nstats; i++) {
			const struct dbus_diag_stat *s = &d->stats[i];
			fputs(i ? ",\n{\"destination\":" : "\n{\"destination\":", f);
			json_or_null(f, s->dest);
			fputs(",\"interface\":", f);
			json_or_null(f, s->iface);
			fputs(",\"member\":", f);
			json_or_null(f, s->member);
			if (s->signal)
				fprintf(f, ",\"signals\":%llu}", (unsigned long long)s->count);
			else
				fprintf(f, ",\"calls\":%llu,\"errors\":%llu,\"total_ms\":%.3f,\"mean_ms\":%.3f,\"max_ms\":%.3f}",
					(unsigned long long)s->count, (unsigned long long)s->errors,
					ms(s->total_ns), mean_ms(s), ms(s->max_ns));
		}
		fputs(d->nstats ? "\n]\n" : "]\n", f);
		return;
	}
	for (uint32_t i = 0; i < d->nstats; i++) {
		const char *v[3] = {d->stats[i].dest ? d->stats[i].dest : "(broadcast)", dash(d->stats[i].iface),
				    dash(d->stats[i].member)};
		for (int k = 0; k < 3; k++)
			if ((int)strlen(v[k]) > w[k])
				w[k] = (int)strlen(v[k]);
	}
	fprintf(f, "%-*s  %-*s  %-*s  %7s %7s %10s %9s %9s\n", w[0], "DESTINATION", w[1], "INTERFACE",
		w[2], "MEMBER", "CALLS", "ERRORS", "TOTAL_MS", "MEAN_MS", "MAX_MS");
	for (uint32_t i = 0; i < d->nstats; i++) {
		const struct dbus_diag_stat *s = &d->stats[i];
		if (!s->signal)
			fprintf(f, "%-*s  %-*s  %-*s  %7llu %7llu %10.3f %9.3f %9.3f\n", w[0], s->dest,
				w[1], dash(s->iface), w[2], dash(s->member), (unsigned long long)s->count,
				(unsigned long long)s->errors, ms(s->total_ns), mean_ms(s), ms(s->max_ns));
	}
	fprintf(f, "\n%-*s  %-*s  %-*s  %7s\n", w[0], "DESTINATION", w[1], "INTERFACE", w[2], "SIGNAL",
		"SIGNALS");
	for (uint32_t i = 0; i < d->nstats; i++) {
		const struct dbus_diag_stat *s = &d->stats[i];
		if (s->signal)
			fprintf(f, "%-*s  %-*s  %-*s  %7llu\n", w[0], s->dest ? s->dest : "(broadcast)",
				w[1], dash(s->iface), w[2], dash(s->member), (unsigned long long)s->count);
	}
}

/* ---- Mermaid ------------------------------------------------------------- */

void dbus_diag_mermaid(FILE *f, const struct dbus_diag *d)
{
	char el[32];

	fputs("sequenceDiagram\n", f);
	for (uint32_t c = 0; c < d->ncols; c++) {
		const struct dbus_diag_column *col = &d->cols[c];
		fprintf(f, "    participant P%u as ", c);
		mm(f, dbus_diag_column_label(col));
		if (col->nlabels) {
			fputs(" #40;", f);
			mm(f, col->name);
			fputs("#41;", f);
		}
		putc('\n', f);
	}
	for (uint32_t e = 0; e < d->nev; e++) {
		const struct dbus_diag_event *ev = &d->ev[e];
		switch (ev->kind) {
		case DBUS_DIAG_LEAVE:
			fprintf(f, "    Note over P%u: left the bus\n", ev->from);
			continue;
		case DBUS_METHOD_CALL:
			fprintf(f, "    P%u->>P%u: ", ev->from, ev->to);
			mm(f, ev->label);
			if (dbus_diag_unanswered(d, e))
				fputs(" #40;no reply#41;", f);
			break;
		case DBUS_METHOD_RETURN:
			fprintf(f, "    P%u-->>P%u: ", ev->from, ev->to);
			mm(f, dbus_diag_elapsed(el, sizeof el, ev->elapsed_ns));
			break;
		case DBUS_ERROR:
			fprintf(f, "    P%u--xP%u: ", ev->from, ev->to);
			mm(f, ev->label);
			break;
		case DBUS_SIGNAL:
			if (ev->to == ALL) {
				if (d->ncols > 1)
					fprintf(f, "    Note over P0,P%u: ", d->ncols - 1);
				else
					fputs("    Note over P0: ", f);
				fputs("signal ", f);
				mm(f, ev->label);
				fputs(" from ", f);
				mm(f, dbus_diag_column_label(&d->cols[ev->from]));
			} else {
				fprintf(f, "    P%u-)P%u: signal ", ev->from, ev->to);
				mm(f, ev->label);
			}
			break;
		}
		putc('\n', f);
	}
}

/* ---- the terminal ladder --------------------------------------------------- */

#define TIMEW 10 /* "%9.3f " */
#define MAXW 1024

struct cells {
	const char *c[MAXW]; /* each a string one column wide */
	int n;
};

static void put(struct cells *l, int x, const char *s)
{
	if (x >= 0 && x < l->n)
		l->c[x] = s;
}

/* ASCII text into cells, one byte a cell (D-Bus names, members and the
 * times are ASCII; anything else shows as '?'). */
static int put_text(struct cells *l, int x, int room, const char *s)
{
	static char chars[95][2]; /* each printable ASCII character as a string */
	if (!chars[0][0])
		for (int c = 0; c < 95; c++)
			chars[c][0] = (char)(c + 0x20);
	int k = 0;
	size_t len = strlen(s);
	for (; k < room && (size_t)k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		int trunc = (size_t)k + 1 < len && k + 1 == room;
		if (trunc)
			c = '~'; /* cut here */
		put(l, x + k, c >= 0x20 && c < 0x7f ? chars[c - 0x20] : "?");
	}
	return k;
}

static void flush_cells(FILE *f, struct cells *l)
{
	int n = l->n;
	while (n > 0 && strcmp(l->c[n - 1], " ") == 0)
		n--;
	for (int i = 0; i < n; i++)
		fputs(l->c[i], f);
	putc('\n', f);
}

void dbus_diag_text_init(struct dbus_diag_text *t, int width, int utf8)
{
	memset(t, 0, sizeof *t);
	if (width > MAXW)
		width = MAXW;
	t->width = width;
	t->utf8 = utf8;
	int avail = width - TIMEW;
	t->colw = 22;
	if (avail < 2 * t->colw)
		t->colw = avail / 2 < 6 ? 6 : avail / 2;
	t->shown = avail < t->colw ? 1 : (uint32_t)(avail / t->colw);
}

static int text_x(const struct dbus_diag_text *t, uint32_t c)
{
	return c < t->shown ? TIMEW + (int)c * t->colw + t->colw / 2 : t->width - 1;
}

static void blank(struct cells *l, const struct dbus_diag_text *t)
{
	l->n = t->width;
	for (int i = 0; i < l->n; i++)
		l->c[i] = " ";
}

/* The header, again whenever the shown columns or their labels change. */
static void text_header(FILE *f, struct dbus_diag_text *t, const struct dbus_diag *d)
{
	uint64_t h = 1469598103934665603u;
	struct cells l;

	for (uint32_t c = 0; c < d->ncols && c < t->shown; c++) {
		const char *s = dbus_diag_column_label(&d->cols[c]);
		for (; *s; s++)
			h = (h ^ (uint8_t)*s) * 1099511628211u;
		h = (h ^ 0xff) * 1099511628211u;
	}
	for (uint32_t c = t->shown + t->elided; c < d->ncols; c++, t->elided++) {
		blank(&l, t);
		int x = put_text(&l, 0, t->width, "  > ");
		if (t->utf8)
			l.c[2] = "\xc2\xbb";
		x += put_text(&l, x, t->width - x, dbus_diag_column_label(&d->cols[c]));
		put_text(&l, x, t->width - x, ": off the right edge");
		flush_cells(f, &l);
	}
	if (h == t->header)
		return;
	t->header = h;
	blank(&l, t);
	for (uint32_t c = 0; c < d->ncols && c < t->shown; c++) {
		const char *s = dbus_diag_column_label(&d->cols[c]);
		int len = (int)strlen(s), room = t->colw - 1;
		int x = text_x(t, c) - (len < room ? len : room) / 2;
		put_text(&l, x, room, s);
	}
	flush_cells(f, &l);
}

struct pen {
	const char *line, *left, *right;
};

static struct pen pen_for(const struct dbus_diag_text *t, const struct dbus_diag_event *ev)
{
	int u = t->utf8;
	switch (ev->kind) {
	case DBUS_METHOD_RETURN:
		return (struct pen){u ? "\xe2\x94\x84" : ".", u ? "\xe2\x97\x80" : "<", u ? "\xe2\x96\xb6" : ">"};
	case DBUS_ERROR:
		return (struct pen){u ? "\xe2\x95\x90" : "=", u ? "\xe2\x9c\x97" : "x", u ? "\xe2\x9c\x97" : "x"};
	case DBUS_SIGNAL:
		return (struct pen){"~", u ? "\xe2\x97\x81" : "<", u ? "\xe2\x96\xb7" : ">"};
	}
	return (struct pen){u ? "\xe2\x94\x80" : "-", u ? "\xe2\x97\x80" : "<", u ? "\xe2\x96\xb6" : ">"};
}

void dbus_diag_text_event(FILE *f, struct dbus_diag_text *t, const struct dbus_diag *d, uint32_t e)
{
	const struct dbus_diag_event *ev = &d->ev[e];
	const char *vbar = t->utf8 ? "\xe2\x94\x82" : "|";
	struct pen p = pen_for(t, ev);
	struct cells l;
	char tm[32], el[32], named[600];
	const char *label = ev->label ? ev->label : "";

	text_header(f, t, d);
	blank(&l, t);
	snprintf(tm, sizeof tm, "%9.3f", (double)ev->t_ns / 1e9);
	put_text(&l, 0, TIMEW - 1, tm);
	for (uint32_t c = 0; c < d->ncols && c < t->shown; c++)
		if (d->cols[c].first <= e && (d->cols[c].end == NONE || d->cols[c].end >= e))
			put(&l, text_x(t, c), vbar);
	int xa = text_x(t, ev->from);
	if (ev->kind == DBUS_DIAG_LEAVE) {
		put(&l, xa, t->utf8 ? "\xe2\x94\xb4" : "x");
		put_text(&l, xa + 2, t->width - xa - 2, "left the bus");
		flush_cells(f, &l);
		return;
	}
	if (ev->kind == DBUS_METHOD_RETURN)
		label = dbus_diag_elapsed(el, sizeof el, ev->elapsed_ns);
	if (ev->to != ALL && (ev->to >= t->shown || ev->from >= t->shown)) { /* name the one beyond */
		snprintf(named, sizeof named, "%s (%s)", label,
			 dbus_diag_column_label(&d->cols[ev->to >= t->shown ? ev->to : ev->from]));
		label = named;
	}
	if (ev->to == ALL) { /* a broadcast: across every shown column */
		int x1 = text_x(t, 0) - 1, x2 = text_x(t, (d->ncols < t->shown ? d->ncols : t->shown) - 1) + 1;
		for (int x = x1; x <= x2; x++)
			put(&l, x, "~");
		put(&l, xa, "*");
		int x0 = xa + 2 > x2 - 4 ? x1 + 1 : xa + 2;
		x0 += put_text(&l, x0, t->width - x0, " ");
		put_text(&l, x0, t->width - x0, label);
		flush_cells(f, &l);
		return;
	}
	int xb = text_x(t, ev->to);
	if (xa == xb) { /* to itself */
		put(&l, xa + 1, p.line);
		put(&l, xa + 2, p.left);
		put_text(&l, xa + 4, t->width - xa - 4, label);
		flush_cells(f, &l);
		return;
	}
	int lo = xa < xb ? xa : xb, hi = xa < xb ? xb : xa;
	for (int x = lo + 1; x < hi; x++)
		put(&l, x, p.line);
	put(&l, xb < xa ? xb + 1 : xb - 1, xb < xa ? p.left : p.right);
	int room = hi - lo - 5;
	if (room > 0) {
		int x = lo + 2;
		put(&l, x++, " ");
		x += put_text(&l, x, room - 1, label);
		put(&l, x, " ");
	}
	if (ev->to >= t->shown || ev->from >= t->shown) { /* an end beyond the width: the edge mark */
		int x = hi;
		put(&l, x, t->utf8 ? "\xc2\xbb" : ">");
	}
	flush_cells(f, &l);
}

void dbus_diag_text_end(FILE *f, struct dbus_diag_text *t, const struct dbus_diag *d)
{
	char line[MAXW + 1];

	for (uint32_t e = 0; e < d->nev; e++) {
		const struct dbus_diag_event *ev = &d->ev[e];
		if (!dbus_diag_unanswered(d, e))
			continue;
		int n = snprintf(line, sizeof line, "no reply: %s -> %s %s.%s at %.3f",
				 dbus_diag_column_label(&d->cols[ev->from]), dbus_diag_column_label(&d->cols[ev->to]),
				 ev->iface ? ev->iface : "-", dash(ev->label), (double)ev->t_ns / 1e9);
		if (n > t->width) { /* within the width, as every line */
			n = t->width;
			line[n - 1] = '~';
		}
		fprintf(f, "%.*s\n", n, line);
	}
}
