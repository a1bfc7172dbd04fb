/* format: see format.h. */
#include "format.h"

#include <string.h>

int format_check(const char *fmt, const char *directives, const char *escapes, char *why,
		 size_t whylen)
{
	for (const char *p = fmt; *p; p++) {
		if (*p == '%' && (!p[1] || (p[1] != '%' && !strchr(directives, p[1])))) {
			snprintf(why, whylen, "unknown directive '%%%.1s'", p + 1);
			return -1;
		}
		if (*p == '\\' && (!p[1] || !strchr(escapes, p[1]))) {
			snprintf(why, whylen, "unknown escape '\\%.1s'", p + 1);
			return -1;
		}
		if (*p == '%' || *p == '\\')
			p++;
	}
	return 0;
}

void format_print(FILE *out, const char *fmt, void (*put)(FILE *out, char directive, const void *arg),
		  const void *arg)
{
	for (const char *f = fmt; *f; f++) {
		if (*f == '\\' && f[1]) {
			f++;
			putc(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f == '0' ? '\0' : '\\', out);
		} else if (*f == '%' && f[1]) {
			f++;
			if (*f == '%')
				putc('%', out);
			else
				put(out, *f, arg);
		} else {
			putc(*f, out);
		}
	}
}
