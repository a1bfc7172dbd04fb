/* diagram: the model of a D-Bus capture as a sequence diagram; see
 * diagram.h.
 *
 * Every string the model keeps (names, members, interfaces, paths) is
 * interned once and named by an id; per id the model knows its column (if
 * it has one), its owner (a well-known name's unique name, as far as the
 * capture told), and the well-known names it owned.  Pending calls and the
 * statistics rows are found through one hash map on a pair of 64-bit
 * keys. */
#include "diagram.h"
#include "match.h"

#include <stdlib.h>
#include <string.h>

#define NONE DBUS_DIAG_NONE

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* a - b and a + b, held at INT64_MIN or INT64_MAX where they would
 * overflow: a capture's times are untrusted (a hand-made one may jump by
 * centuries), and the statistics add them up. */
static int64_t sat_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Grow *arr (of *cap elements of size each) to hold at least need. */
static void grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	if (need <= *cap)
		return;
	uint32_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	*arr = xrealloc(*arr, (size_t)c * size);
	*cap = c;
}

/* ---- a hash map: (a, b) -> value ---------------------------------------- */

struct slot {
	uint64_t a, b;
	uint32_t val; /* NONE: empty */
};

struct map {
	struct slot *s;
	uint32_t n, cap; /* cap: a power of two */
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15u ^ (b + 0x632be59bd9b4e019u + (a << 6));
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	return h ^ (h >> 32);
}

static uint32_t *map_find(struct map *m, uint64_t a, uint64_t b, int add)
{
	if (add && (m->n + 1) * 2 > m->cap) {
		struct map bigger = {0, 0, m->cap ? m->cap * 2 : 64};
		bigger.s = xrealloc(NULL, bigger.cap * sizeof *bigger.s);
		for (uint32_t i = 0; i < bigger.cap; i++)
			bigger.s[i].val = NONE;
		for (uint32_t i = 0; i < m->cap; i++)
			if (m->s[i].val != NONE)
				*map_find(&bigger, m->s[i].a, m->s[i].b, 1) = m->s[i].val;
		free(m->s);
		*m = bigger;
		m->n = 0;
		for (uint32_t i = 0; i < m->cap; i++)
			m->n += m->s[i].val != NONE;
	}
	if (!m->cap)
		return NULL;
	for (uint32_t i = (uint32_t)mix(a, b) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct slot *s = &m->s[i];
		if (s->val == NONE) {
			if (!add)
				return NULL;
			s->a = a;
			s->b = b;
			m->n++;
			return &s->val;
		}
		if (s->a == a && s->b == b)
			return &s->val;
	}
}

/* ---- interned strings ---------------------------------------------------- */

struct name {
	char *s;
	uint32_t col;     /* its column, or NONE */
	uint32_t owner;   /* a well-known name: the id of its owner, or NONE */
	uint32_t *owned;  /* a unique name: ids of the well-known names it owned */
	uint32_t nowned, cap_owned;
	uint8_t monitor;  /* a monitor's connection: its traffic is not drawn */
	uint8_t busy;     /* a unique name that sent more than its Hello */
	uint8_t sent;     /* it sent anything at all */
	uint8_t heard;    /* it was sent something by another than the driver */
};

struct pending {
	int64_t t_ns;
	uint32_t event; /* its event, or NONE */
	uint32_t stat;  /* its statistics row, or NONE (not kept) */
	uint32_t dest;  /* the id it was sent to */
	uint8_t answered;
};

struct dbus_diag_names {
	struct name *v;
	uint32_t n, cap;
	struct map ids;    /* (hash, len) -> first id with that hash; chains below */
	uint32_t *next;    /* next id with the same (hash, len) */
	uint32_t cap_next;
	struct pending *calls;
	uint32_t ncalls, cap_calls;
	struct map call_map; /* (caller id, serial) -> calls index */
	struct map stat_map; /* (kind << 32 | dest, iface << 32 | member) -> stats index */
	FILE *text;          /* bus-monitor's layout is printed here */
	char *text_buf;
	size_t text_len;
};

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211u;
	return h;
}

/* The id of s (NULL: NONE), interning it if new. */
static uint32_t intern(struct dbus_diag_names *n, const char *s)
{
	if (!s)
		return NONE;
	size_t len = strlen(s);
	uint64_t h = str_hash(s, len);
	uint32_t *head = map_find(&n->ids, h, len, 1);
	for (uint32_t i = *head; i != NONE; i = n->next[i])
		if (strcmp(n->v[i].s, s) == 0)
			return i;
	grow((void **)&n->v, &n->cap, n->n + 1, sizeof *n->v);
	grow((void **)&n->next, &n->cap_next, n->n + 1, sizeof *n->next);
	struct name *nm = &n->v[n->n];
	memset(nm, 0, sizeof *nm);
	nm->s = strdup(s);
	if (!nm->s)
		abort();
	nm->col = nm->owner = NONE;
	n->next[n->n] = *head;
	*head = n->n;
	return n->n++;
}

static const char *str(const struct dbus_diag *d, uint32_t id)
{
	return id == NONE ? NULL : d->n->v[id].s;
}

static int is_unique(const char *s)
{
	return s && s[0] == ':';
}

/* ---- names and columns ----------------------------------------------------- */

/* Unique name u owns well-known name w: remember it, and label u's column. */
static void owns(struct dbus_diag *d, uint32_t u, uint32_t w)
{
	struct name *un = &d->n->v[u];
	d->n->v[w].owner = u;
	for (uint32_t i = 0; i < un->nowned; i++)
		if (un->owned[i] == w)
			return;
	grow((void **)&un->owned, &un->cap_owned, un->nowned + 1, sizeof *un->owned);
	un->owned[un->nowned++] = w;
	if (un->col != NONE) {
		struct dbus_diag_column *c = &d->cols[un->col];
		c->labels = xrealloc(c->labels, (c->nlabels + 1) * sizeof *c->labels);
		c->labels[c->nlabels++] = d->n->v[w].s;
	}
}

/* The column of id, made on first use. */
static uint32_t column(struct dbus_diag *d, uint32_t id)
{
	struct name *nm = &d->n->v[id];
	if (nm->col != NONE)
		return nm->col;
	d->cols = xrealloc(d->cols, (d->ncols + 1) * sizeof *d->cols);
	struct dbus_diag_column *c = &d->cols[d->ncols];
	memset(c, 0, sizeof *c);
	c->name = nm->s;
	c->first = d->nev;
	c->end = NONE;
	c->id = id;
	if (nm->nowned) {
		c->labels = xrealloc(NULL, nm->nowned * sizeof *c->labels);
		for (uint32_t i = 0; i < nm->nowned; i++)
			c->labels[i] = d->n->v[nm->owned[i]].s;
		c->nlabels = nm->nowned;
	}
	nm->col = d->ncols;
	return d->ncols++;
}

const char *dbus_diag_column_label(const struct dbus_diag_column *c)
{
	return c->nlabels ? c->labels[0] : c->name;
}

/* Where a message to dest goes: a well-known name's owner when known. */
static uint32_t resolve(struct dbus_diag *d, uint32_t dest)
{
	if (dest == NONE)
		return NONE;
	uint32_t o = d->n->v[dest].owner;
	return o != NONE ? o : dest;
}

static uint32_t new_event(struct dbus_diag *d)
{
	grow((void **)&d->ev, &d->cap_ev, d->nev + 1, sizeof *d->ev);
	memset(&d->ev[d->nev], 0, sizeof *d->ev);
	d->ev[d->nev].peer = NONE;
	d->ev[d->nev].elapsed_ns = -1;
	d->ev[d->nev].subject = NONE;
	return d->nev++;
}

/* A unique name left the bus: its column ends here. */
static void leaves(struct dbus_diag *d, uint32_t u, int64_t t)
{
	struct name *un = &d->n->v[u];
	for (uint32_t i = 0; i < un->nowned; i++)
		if (d->n->v[un->owned[i]].owner == u)
			d->n->v[un->owned[i]].owner = NONE;
	if (un->col == NONE || d->cols[un->col].end != NONE)
		return;
	uint32_t e = new_event(d);
	d->ev[e].kind = DBUS_DIAG_LEAVE;
	d->ev[e].t_ns = t;
	d->ev[e].from = d->ev[e].to = un->col;
	d->cols[un->col].end = e;
	/* the name may come back (a new connection never reuses it, but a
	 * hand-made capture may): it gets a new column then */
	un->col = NONE;
	if (d->opt.on_event)
		d->opt.on_event(d, e, d->opt.ctx);
}

static const char *arg_str(const struct dbus_msg *m, uint32_t i)
{
	if (i >= m->nbody || !strchr("sog", m->body[i].type))
		return NULL;
	return m->body[i].v.str;
}

static int from_driver(const struct dbus_msg *m)
{
	return m->sender && strcmp(m->sender, DBUS_DIAG_DRIVER) == 0;
}

/* What every message teaches about names, kept or not. */
static void learn_names(struct dbus_diag *d, const struct dbus_msg *m, int64_t t)
{
	if (m->type == DBUS_SIGNAL && from_driver(m) && m->member && m->interface &&
	    strcmp(m->interface, DBUS_DIAG_DRIVER) == 0 && strcmp(m->member, "NameOwnerChanged") == 0 &&
	    m->signature && strcmp(m->signature, "sss") == 0) {
		const char *name = arg_str(m, 0), *old = arg_str(m, 1), *new = arg_str(m, 2);
		uint32_t w = intern(d->n, name);
		if (is_unique(name)) {
			if (!*new)
				leaves(d, w, t);
			return;
		}
		uint32_t o = *old ? intern(d->n, old) : NONE; /* before indexing: intern moves v */
		if (o != NONE && d->n->v[w].owner == o)
			d->n->v[w].owner = NONE;
		if (*new)
			owns(d, intern(d->n, new), w);
		return;
	}
	if (m->type == DBUS_METHOD_CALL && m->member && strcmp(m->member, "BecomeMonitor") == 0 &&
	    m->destination && strcmp(m->destination, DBUS_DIAG_DRIVER) == 0 && m->sender) {
		uint32_t id = intern(d->n, m->sender);
		d->n->v[id].monitor = 1;
	}
}

/* ---- filters ------------------------------------------------------------- */

/* Does column-to-be id answer to any of names[0..n)? Its own name, a
 * well-known name it owned, or (before the owner is known) the name used. */
static int named(const struct dbus_diag *d, uint32_t id, const char *const *names, int n)
{
	if (id == NONE)
		return 0;
	const struct name *nm = &d->n->v[id];
	for (int k = 0; k < n; k++) {
		if (strcmp(nm->s, names[k]) == 0)
			return 1;
		for (uint32_t i = 0; i < nm->nowned; i++)
			if (strcmp(d->n->v[nm->owned[i]].s, names[k]) == 0)
				return 1;
	}
	return 0;
}

/* The match rule's sender= and destination= may be a well-known name. */
static int match_name(const char *want, const char *have, void *ctx)
{
	struct dbus_diag *d = ctx;
	if (strcmp(want, have) == 0)
		return 1;
	if (is_unique(want))
		return 0;
	uint32_t w = intern(d->n, want), h = intern(d->n, have); /* both before indexing */
	return d->n->v[w].owner == h;
}

/* Messages to or from a monitor, the driver with --hide-driver, a --hide name. */
static int hidden(struct dbus_diag *d, uint32_t from, uint32_t to)
{
	const struct dbus_diag_opts *o = &d->opt;
	const char *const driver[] = {DBUS_DIAG_DRIVER};

	if (d->n->v[from].monitor || (to != NONE && d->n->v[to].monitor))
		return 1;
	if (o->hide_driver && (named(d, from, driver, 1) || named(d, to, driver, 1)))
		return 1;
	return o->nhide && (named(d, from, o->hide, o->nhide) || named(d, to, o->hide, o->nhide));
}

static int keep(struct dbus_diag *d, const struct dbus_msg *m, uint32_t from, uint32_t to, int64_t t)
{
	const struct dbus_diag_opts *o = &d->opt;

	if (hidden(d, from, to))
		return 0;
	if (o->nonly && !named(d, from, o->only, o->nonly) && !named(d, to, o->only, o->nonly))
		return 0;
	if ((o->since_ns >= 0 && t < o->since_ns) || (o->until_ns >= 0 && t > o->until_ns))
		return 0;
	return !o->match || dbus_match_msg(o->match, m, match_name, d);
}

/* ---- statistics ---------------------------------------------------------- */

static uint32_t stat_row(struct dbus_diag *d, int signal, uint32_t dest, uint32_t iface,
			 uint32_t member)
{
	uint32_t *v = map_find(&d->n->stat_map, (uint64_t)signal << 32 | dest,
			       (uint64_t)iface << 32 | member, 1);
	if (*v != NONE)
		return *v;
	grow((void **)&d->stats, &d->cap_stats, d->nstats + 1, sizeof *d->stats);
	struct dbus_diag_stat *s = &d->stats[d->nstats];
	memset(s, 0, sizeof *s);
	s->dest = str(d, dest);
	if (!signal && dest != NONE && d->n->v[dest].nowned) /* a unique name: by its well-known one */
		s->dest = str(d, d->n->v[dest].owned[0]);
	s->iface = str(d, iface);
	s->member = str(d, member);
	s->signal = signal;
	return *v = d->nstats++;
}

/* ---- messages ------------------------------------------------------------ */

static char *detail(struct dbus_diag *d, const struct dbus_msg *m)
{
	struct dbus_diag_names *n = d->n;

	rewind(n->text);
	dbus_print_monitor_untimed(n->text, m);
	fflush(n->text);
	size_t cut = (size_t)ftello(n->text);
	int more = cut > DBUS_DIAG_DETAIL_MAX;
	while (cut > 0 && (n->text_buf[cut - 1] == '\n'))
		cut--;
	if (more) {
		cut = DBUS_DIAG_DETAIL_MAX;
		while (cut > 0 && ((uint8_t)n->text_buf[cut] & 0xc0) == 0x80)
			cut--; /* not inside a UTF-8 sequence */
	}
	char *s = xrealloc(NULL, cut + 4);
	memcpy(s, n->text_buf, cut);
	strcpy(s + cut, more ? "\xe2\x80\xa6" : "");
	return s;
}

/* The event for a kept message, unless max events are out already. */
static uint32_t add_event(struct dbus_diag *d, const struct dbus_msg *m, int64_t t,
			  uint32_t from, uint32_t to)
{
	if (d->opt.max && d->kept - d->left_out > d->opt.max) {
		d->left_out++;
		return NONE;
	}
	uint32_t fc = column(d, from);
	uint32_t tc = to == NONE ? DBUS_DIAG_ALL : column(d, to);
	uint32_t e = new_event(d);
	struct dbus_diag_event *ev = &d->ev[e];
	ev->t_ns = t;
	ev->kind = m->type;
	ev->no_reply = m->flags & DBUS_FLAG_NO_REPLY_EXPECTED;
	ev->from = fc;
	ev->to = tc;
	ev->label = str(d, intern(d->n, m->type == DBUS_ERROR ? m->error_name : m->member));
	ev->iface = str(d, intern(d->n, m->interface));
	ev->path = str(d, intern(d->n, m->path));
	ev->detail = detail(d, m);
	ev->subject = NONE;
	if (m->type == DBUS_SIGNAL && from_driver(m) && arg_str(m, 0) && is_unique(arg_str(m, 0)))
		ev->subject = intern(d->n, arg_str(m, 0)); /* NameOwnerChanged, NameLost, ... */
	return e;
}

static void add_call(struct dbus_diag *d, const struct dbus_msg *m, int64_t t,
		     uint32_t from, uint32_t dest)
{
	uint32_t to = resolve(d, dest), e = NONE, stat = NONE;
	int kept = keep(d, m, from, to, t);

	if (kept) {
		d->kept++;
		stat = stat_row(d, 0, dest, intern(d->n, m->interface), intern(d->n, m->member));
		d->stats[stat].count++;
		e = add_event(d, m, t, from, to);
	}
	if (m->flags & DBUS_FLAG_NO_REPLY_EXPECTED)
		return;
	grow((void **)&d->n->calls, &d->n->cap_calls, d->n->ncalls + 1, sizeof *d->n->calls);
	struct pending *p = &d->n->calls[d->n->ncalls];
	*p = (struct pending){t, e, stat, dest, 0};
	*map_find(&d->n->call_map, from, m->serial, 1) = d->n->ncalls++;
	if (e != NONE && d->opt.on_event)
		d->opt.on_event(d, e, d->opt.ctx);
}

static void add_reply(struct dbus_diag *d, const struct dbus_msg *m, int64_t t,
		      uint32_t from, uint32_t to)
{
	uint32_t *pi = to == NONE ? NULL : map_find(&d->n->call_map, to, m->reply_serial, 0);
	struct pending *p = pi ? &d->n->calls[*pi] : NULL;
	uint32_t e = NONE;
	int kept;

	if (p && p->answered)
		p = NULL; /* a second reply: drawn on its own */
	if (p) {
		p->answered = 1;
		/* the unique name behind a well-known one, if the capture did not say */
		if (p->dest != from && !is_unique(d->n->v[p->dest].s) && d->n->v[p->dest].owner == NONE &&
		    strcmp(d->n->v[p->dest].s, DBUS_DIAG_DRIVER) != 0) {
			struct name *w = &d->n->v[p->dest];
			if (w->col != NONE && d->n->v[from].col == NONE) {
				d->n->v[from].col = w->col; /* its column is the unique name's now */
				d->cols[w->col].name = d->n->v[from].s;
				d->cols[w->col].id = from;
				w->col = NONE;
			}
			owns(d, from, p->dest);
		}
		/* with its call if the call was kept, else on its own (--match type=method_return) */
		if (p->stat != NONE) /* --only and --match let it through with its call */
			kept = !hidden(d, from, to) && (d->opt.until_ns < 0 || t <= d->opt.until_ns);
		else
			kept = keep(d, m, from, to, t);
	} else {
		kept = keep(d, m, from, to, t);
	}
	if (!kept)
		return;
	d->kept++;
	if (p && p->stat != NONE) {
		struct dbus_diag_stat *s = &d->stats[p->stat];
		int64_t el = sat_sub(t, p->t_ns);
		s->answered++;
		s->errors += m->type == DBUS_ERROR;
		s->total_ns = sat_add(s->total_ns, el);
		if (el > s->max_ns)
			s->max_ns = el;
	}
	e = add_event(d, m, t, from, to);
	if (e == NONE)
		return;
	if (p) /* timed even when its call is not drawn */
		d->ev[e].elapsed_ns = sat_sub(t, p->t_ns);
	if (p && p->event != NONE) {
		d->ev[e].peer = p->event;
		d->ev[p->event].peer = e;
	}
	if (d->opt.on_event)
		d->opt.on_event(d, e, d->opt.ctx);
}

static void add_signal(struct dbus_diag *d, const struct dbus_msg *m, int64_t t,
		       uint32_t from, uint32_t dest)
{
	uint32_t to = resolve(d, dest), e;

	if (!keep(d, m, from, to, t))
		return;
	d->kept++;
	uint32_t row = stat_row(d, 1, dest, intern(d->n, m->interface), intern(d->n, m->member));
	d->stats[row].count++; /* after stat_row: it may move d->stats */
	e = add_event(d, m, t, from, to);
	if (e != NONE && d->opt.on_event)
		d->opt.on_event(d, e, d->opt.ctx);
}

int dbus_diag_add(struct dbus_diag *d, const uint8_t *data, size_t len, int64_t ts_ns,
		  struct dbus_err *err)
{
	struct dbus_msg m;
	int64_t t;

	if (!d->started) {
		d->started = 1;
		d->t0_ns = ts_ns;
	}
	if (dbus_msg_parse(&m, data, len, err) < 0)
		return -1;
	d->messages++;
	t = sat_sub(ts_ns, d->t0_ns);
	if (is_unique(m.sender) && !(m.type == DBUS_METHOD_CALL && m.member && strcmp(m.member, "Hello") == 0)) {
		uint32_t id = intern(d->n, m.sender);
		d->n->v[id].busy = 1;
	}
	learn_names(d, &m, t);
	uint32_t from = intern(d->n, m.sender ? m.sender : "(no sender)");
	uint32_t dest = intern(d->n, m.destination);
	d->n->v[from].sent = 1;
	if (dest != NONE && !from_driver(&m))
		d->n->v[dest].heard = 1;
	switch (m.type) {
	case DBUS_METHOD_CALL:
		add_call(d, &m, t, from, dest == NONE ? intern(d->n, "(no destination)") : dest);
		break;
	case DBUS_METHOD_RETURN:
	case DBUS_ERROR: add_reply(d, &m, t, from, dest); break;
	case DBUS_SIGNAL: add_signal(d, &m, t, from, dest); break;
	}
	dbus_msg_free(&m);
	return 0;
}

/* A column to leave out: a monitor; or a unique name that nobody but the
 * driver spoke to and that said nothing but Hello, then left, or said
 * nothing at all (a monitor that became one before the capture saw its
 * BecomeMonitor: the driver's NameAcquired and NameLost are all of it). */
static int quiet(const struct dbus_diag *d, uint32_t c)
{
	const struct name *nm = &d->n->v[d->cols[c].id];
	if (!is_unique(nm->s))
		return 0;
	return nm->monitor || (!nm->busy && !nm->heard && (d->cols[c].end != NONE || !nm->sent));
}

void dbus_diag_finish(struct dbus_diag *d)
{
	uint32_t *cmap = xrealloc(NULL, (d->ncols + 1) * sizeof *cmap);
	uint32_t *emap = xrealloc(NULL, (d->nev + 1) * sizeof *emap);
	uint32_t nc = 0, ne = 0;

	for (uint32_t c = 0; c < d->ncols; c++)
		cmap[c] = quiet(d, c) ? NONE : nc++;
	for (uint32_t e = 0; e < d->nev; e++) {
		struct dbus_diag_event *ev = &d->ev[e];
		uint32_t sc = ev->subject == NONE ? NONE : d->n->v[ev->subject].col;
		int drop = cmap[ev->from] == NONE || (ev->to != DBUS_DIAG_ALL && cmap[ev->to] == NONE);
		if (ev->subject != NONE) { /* its column may have ended: find it by name */
			for (uint32_t c = 0; c < d->ncols && sc == NONE; c++)
				if (d->cols[c].id == ev->subject)
					sc = c;
			drop |= sc != NONE && cmap[sc] == NONE;
		}
		emap[e] = drop ? NONE : ne++;
	}
	if (nc == d->ncols && ne == d->nev)
		goto done;
	for (uint32_t e = 0, k = 0; e < d->nev; e++) {
		struct dbus_diag_event ev = d->ev[e];
		if (emap[e] == NONE) {
			free(ev.detail);
			continue;
		}
		ev.from = cmap[ev.from];
		ev.to = ev.to == DBUS_DIAG_ALL ? ev.to : cmap[ev.to];
		ev.peer = ev.peer == NONE ? NONE : emap[ev.peer];
		d->ev[k++] = ev;
	}
	for (uint32_t c = 0, k = 0; c < d->ncols; c++) {
		struct dbus_diag_column col = d->cols[c];
		if (cmap[c] == NONE) {
			free(col.labels);
			d->n->v[col.id].col = NONE;
			continue;
		}
		col.end = col.end == NONE ? NONE : emap[col.end];
		if (d->n->v[col.id].col == c)
			d->n->v[col.id].col = k;
		d->cols[k++] = col;
	}
	d->ncols = nc;
	d->nev = ne;
	for (uint32_t c = 0; c < nc; c++) /* where each column starts now */
		d->cols[c].first = NONE;
	for (uint32_t e = 0; e < ne; e++) {
		struct dbus_diag_event *ev = &d->ev[e];
		if (d->cols[ev->from].first == NONE)
			d->cols[ev->from].first = e;
		if (ev->to != DBUS_DIAG_ALL && d->cols[ev->to].first == NONE)
			d->cols[ev->to].first = e;
	}
done:
	free(cmap);
	free(emap);
}

int dbus_diag_unanswered(const struct dbus_diag *d, uint32_t e)
{
	const struct dbus_diag_event *ev = &d->ev[e];
	return ev->kind == DBUS_METHOD_CALL && !ev->no_reply && ev->peer == NONE;
}

const char *dbus_diag_elapsed(char *buf, size_t size, int64_t ns)
{
	double ms = (double)ns / 1e6;
	if (ns < 0)
		snprintf(buf, size, "?");
	else if (ms < 10)
		snprintf(buf, size, "%.2f ms", ms);
	else if (ms < 1000)
		snprintf(buf, size, "%.1f ms", ms);
	else
		snprintf(buf, size, "%.2f s", ms / 1000);
	return buf;
}

struct dbus_diag *dbus_diag_new(const struct dbus_diag_opts *opt)
{
	struct dbus_diag *d = xrealloc(NULL, sizeof *d);
	memset(d, 0, sizeof *d);
	d->opt = *opt;
	d->n = xrealloc(NULL, sizeof *d->n);
	memset(d->n, 0, sizeof *d->n);
	d->n->text = open_memstream(&d->n->text_buf, &d->n->text_len);
	if (!d->n->text)
		abort();
	return d;
}

void dbus_diag_free(struct dbus_diag *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->nev; i++)
		free(d->ev[i].detail);
	for (uint32_t i = 0; i < d->ncols; i++)
		free(d->cols[i].labels);
	for (uint32_t i = 0; i < d->n->n; i++) {
		free(d->n->v[i].s);
		free(d->n->v[i].owned);
	}
	fclose(d->n->text);
	free(d->n->text_buf);
	free(d->n->v);
	free(d->n->next);
	free(d->n->calls);
	free(d->n->ids.s);
	free(d->n->call_map.s);
	free(d->n->stat_map.s);
	free(d->n);
	free(d->ev);
	free(d->cols);
	free(d->stats);
	free(d);
}
