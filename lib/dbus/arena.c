/* dbus arena: one allocation pool per message or argument parse, freed at
 * once, and the error helper; see dbus.h. */
#include "dbus.h"
#include "wire.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16
/* The first chunk lives in the arena's own allocation, small enough for
 * malloc's per-thread cache: a message parse (one arena per message, and a
 * bus-listen flood parses a hundred thousand) usually fits in it, so that
 * most messages cost one cached malloc and no zeroed 4 KiB. */
#define ARENA_FIRST 896

/* A chunk of the arena: a header followed by its bytes. */
struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct dbus_arena {
	struct chunk *head;  /* chunk being filled; large blocks go after it */
	size_t total;        /* bytes handed out, for the parser's memory budget */
	struct chunk *first; /* inside this allocation, behind the struct */
};

int dbus_err_set(struct dbus_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* malloc that never returns NULL: running out of memory ends the program. */
static void *xmalloc(size_t size)
{
	void *p = malloc(size);
	if (!p) {
		fputs("ipcbox: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* The arena's header rounded up to the chunk's alignment. */
#define ARENA_HEAD ((sizeof(struct dbus_arena) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct dbus_arena *dbus_arena_new(void)
{
	unsigned char *p = xmalloc(ARENA_HEAD + sizeof(struct chunk) + ARENA_FIRST);
	struct dbus_arena *a = (struct dbus_arena *)p;

	a->first = (struct chunk *)(p + ARENA_HEAD);
	a->first->next = NULL;
	a->first->size = ARENA_FIRST;
	a->first->used = 0;
	a->head = a->first;
	a->total = 0;
	return a;
}

/* A new chunk with room for size bytes. */
static struct chunk *chunk_new(size_t size)
{
	struct chunk *c;

	if (size > SIZE_MAX - sizeof *c) {
		fputs("ipcbox: out of memory\n", stderr);
		abort();
	}
	c = xmalloc(sizeof *c + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

/* size bytes from the arena, not zeroed. */
static void *arena_take(struct dbus_arena *a, size_t size)
{
	struct chunk *c = a->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (need < size)
		need = SIZE_MAX; /* overflow: let chunk_new abort */
	a->total += need;
	if (need > ARENA_CHUNK / 4) {
		/* Large block: its own chunk, linked behind the current one. */
		struct chunk *big = chunk_new(need);
		if (c) {
			big->next = c->next;
			c->next = big;
		} else {
			a->head = big;
		}
		big->used = need;
		return big->data;
	}
	if (!c || c->size - c->used < need) {
		c = chunk_new(ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	c->used += need;
	return c->data + c->used - need;
}

void *dbus_arena_alloc(struct dbus_arena *a, size_t size)
{
	return memset(arena_take(a, size), 0, size);
}

char *dbus_arena_strndup(struct dbus_arena *a, const char *s, size_t len)
{
	char *p = arena_take(a, len + 1);
	if (len)
		memcpy(p, s, len);
	p[len] = 0;
	return p;
}

size_t dbus_arena_used(const struct dbus_arena *a)
{
	return a->total;
}

void dbus_arena_free(struct dbus_arena *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		if (c != a->first)
			free(c);
	}
	free(a);
}
