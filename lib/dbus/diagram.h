/* diagram: a D-Bus capture as a sequence diagram (bus-diagram).
 *
 * The model (diagram.c): messages go in one at a time, in capture order,
 * as the raw bytes of a record and its time.  Every message, filtered or
 * not, teaches the model who owns which name (NameOwnerChanged, and a
 * reply from the unique name behind a call to a well-known one); the
 * messages the filters keep become events between columns, one column per
 * unique name (the bus driver is one too), in order of first appearance.
 * A call is paired with its reply by (caller, REPLY_SERIAL).  Statistics
 * count every kept message; only the first `max` become events to draw, the
 * rest are counted in `left_out`.
 *
 * The writers (diagram_out.c) draw the model: SVG, HTML (the SVG and the
 * statistics), Mermaid, a terminal ladder one event at a time, and the
 * statistics as a table or JSON.  All text from the capture is escaped for
 * the output it goes to.  Prefix: dbus_diag_. */
#ifndef IPCBOX_DBUS_DIAGRAM_H
#define IPCBOX_DBUS_DIAGRAM_H

#include "dbus.h"

#include <stdint.h>
#include <stdio.h>

#define DBUS_DIAG_NONE UINT32_MAX
#define DBUS_DIAG_ALL (UINT32_MAX - 1) /* a signal's destination: every column */
#define DBUS_DIAG_LEAVE 5              /* an event kind beside the message types */
#define DBUS_DIAG_DETAIL_MAX 1024      /* bytes of a message's tooltip text */
#define DBUS_DIAG_DRIVER "org.freedesktop.DBus"

struct dbus_diag_column {
	const char *name;          /* its unique name (or the name messages used) */
	const char **labels;       /* well-known names it owned, in order */
	uint32_t nlabels;
	uint32_t first;            /* its first event */
	uint32_t end;              /* its DBUS_DIAG_LEAVE event, or DBUS_DIAG_NONE */
	uint32_t id;               /* internal: the name's id */
};

struct dbus_diag_event {
	int64_t t_ns;         /* since the capture's first record */
	uint8_t kind;         /* DBUS_METHOD_CALL .. DBUS_SIGNAL, DBUS_DIAG_LEAVE */
	uint8_t no_reply;     /* a call: flagged NO_REPLY_EXPECTED */
	uint32_t from, to;    /* columns; to is DBUS_DIAG_ALL for a broadcast signal */
	uint32_t peer;        /* a call: its reply's event; a reply: its call's; or NONE */
	int64_t elapsed_ns;   /* a reply: time since its call, -1 if the call is not seen */
	const char *label;    /* member, error name; NULL for a return */
	const char *iface, *path;
	char *detail;         /* the message in bus-monitor's layout */
	uint32_t subject;     /* internal: the name a driver signal is about */
};

struct dbus_diag_stat {
	const char *dest, *iface, *member; /* dest NULL: a broadcast signal */
	int signal;
	uint64_t count, errors, answered;
	int64_t total_ns, max_ns;
};

struct dbus_diag;

struct dbus_diag_opts {
	const char *const *only; /* keep messages to or from these names */
	int nonly;
	const char *const *hide; /* drop messages to or from these names */
	int nhide;
	int hide_driver;
	const char *match;       /* a match rule dbus_match_check accepted, or NULL */
	int64_t since_ns, until_ns; /* from the first record; -1: no bound */
	uint64_t max;            /* events to keep; 0: no limit */
	/* Called for each event as it is made (the live --text ladder). */
	void (*on_event)(const struct dbus_diag *d, uint32_t ev, void *ctx);
	void *ctx;
};

struct dbus_diag_names; /* internal: interned strings, owners, pending calls */

struct dbus_diag {
	struct dbus_diag_opts opt;
	struct dbus_diag_column *cols;
	uint32_t ncols;
	struct dbus_diag_event *ev;
	uint32_t nev, cap_ev;
	struct dbus_diag_stat *stats;
	uint32_t nstats, cap_stats;
	uint64_t messages;  /* parsed messages seen */
	uint64_t kept;      /* messages the filters kept */
	uint64_t left_out;  /* kept, but beyond max */
	int64_t t0_ns;      /* the first record's time */
	int started;
	struct dbus_diag_names *n;
};

/* A new model; opt is copied (its arrays are not: keep them alive). */
struct dbus_diag *dbus_diag_new(const struct dbus_diag_opts *opt);
void dbus_diag_free(struct dbus_diag *d);

/* One record: data[0..len) a whole message, ts_ns its capture time.  0, or
 * -1 with *err if it is not a valid message (the model is unchanged but
 * for the time origin). */
int dbus_diag_add(struct dbus_diag *d, const uint8_t *data, size_t len, int64_t ts_ns,
		  struct dbus_err *err);

/* After the last record, before drawing a whole diagram: leave out the
 * connections that said nothing but Hello and left (a monitor's own
 * connection, the capturing tool's included: becoming a monitor ends its
 * name), with the driver's messages to and about them. */
void dbus_diag_finish(struct dbus_diag *d);

/* The column label: its first well-known name, else its name. */
const char *dbus_diag_column_label(const struct dbus_diag_column *c);
/* Elapsed time as text into buf: "0.42 ms", "12.3 ms", "1.25 s". */
const char *dbus_diag_elapsed(char *buf, size_t size, int64_t ns);
/* 1 if call event e got no reply in the capture (and expected one). */
int dbus_diag_unanswered(const struct dbus_diag *d, uint32_t e);

/* ---- writers (diagram_out.c) -------------------------------------------- */

/* A standalone SVG document; html: the SVG inside an HTML page with the
 * statistics table under it. */
void dbus_diag_svg(FILE *f, const struct dbus_diag *d, int html);
/* A Mermaid sequenceDiagram. */
void dbus_diag_mermaid(FILE *f, const struct dbus_diag *d);
/* The statistics: a table, or a JSON array. */
void dbus_diag_stats(FILE *f, const struct dbus_diag *d, int json);

/* The terminal ladder, printed one event at a time. */
struct dbus_diag_text {
	int width;          /* columns of the terminal */
	int utf8;           /* box-drawing characters */
	uint32_t shown;     /* columns that fit */
	int colw;           /* characters per column */
	uint64_t header;    /* a hash of the last header printed */
	uint32_t elided;    /* columns seen beyond the width (legend printed) */
};
void dbus_diag_text_init(struct dbus_diag_text *t, int width, int utf8);
void dbus_diag_text_event(FILE *f, struct dbus_diag_text *t, const struct dbus_diag *d, uint32_t e);
/* After the last event: the calls that got no reply. */
void dbus_diag_text_end(FILE *f, struct dbus_diag_text *t, const struct dbus_diag *d);

/* Escapers (also for the fuzz target): s[0..len) as XML text, and as
 * Mermaid text (entity codes for all but letters, digits and a few safe
 * marks; "end" never appears as a word). */
void dbus_diag_xml(FILE *f, const char *s, size_t len);
void dbus_diag_mermaid_text(FILE *f, const char *s, size_t len);

#endif
