/* Fuzz target: the match rule grammar (lib/dbus/match.c).  The input is a
 * rule; the checker must not read past it, and its verdict must agree with
 * the key checker on the first key. */
#include "lib/dbus/match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *rule = malloc(size + 1);
	enum dbus_match_fault f;

	memcpy(rule, data, size);
	rule[size] = 0;
	f = dbus_match_check(rule);
	if (f == DBUS_MATCH_OK && *rule) {
		/* an accepted rule starts with a known key and '=' */
		size_t k = strcspn(rule, "=,");
		if (rule[k] != '=' || !dbus_match_key_ok(rule, k))
			abort();
	}
	if (f == DBUS_MATCH_TOO_LONG && strlen(rule) <= DBUS_MATCH_RULE_MAX)
		abort();
	free(rule);
	return 0;
}
