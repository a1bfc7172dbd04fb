/* format: the -F engine that bus-listen and channel-listen share.
 *
 * A format is text with directives "%X" and escapes "\X".  The caller names
 * the directive letters it knows (%% is always a '%') and the escape letters
 * it allows (of n, t, 0 and \); format_check refuses anything else before
 * the first message, and format_print prints a message through one callback
 * per directive, so that a directive only the caller knows (bus-listen's
 * %a, the arguments) stays in the caller. */
#ifndef IPCBOX_FORMAT_H
#define IPCBOX_FORMAT_H

#include <stddef.h>
#include <stdio.h>

/* 0 if every directive and escape of fmt is known; -1 with the reason
 * ("unknown directive '%x'", "unknown escape '\x'") in why otherwise. */
int format_check(const char *fmt, const char *directives, const char *escapes, char *why,
		 size_t whylen);
/* Print a checked fmt to out: text and escapes as they are, each directive
 * through put(out, letter, arg). */
void format_print(FILE *out, const char *fmt, void (*put)(FILE *out, char directive, const void *arg),
		  const void *arg);

#endif
