/* match: the grammar of D-Bus match rules; see match.h. */
#include "match.h"

#include <string.h>

int dbus_match_key_ok(const char *k, size_t n)
{
	static const char *const keys[] = {"type", "sender", "interface", "member", "path",
		"path_namespace", "destination", "eavesdrop", "arg0namespace", NULL};
	size_t d = 3;
	unsigned num = 0;

	for (int i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return 1;
	if (n < 4 || memcmp(k, "arg", 3) != 0)
		return 0;
	while (d < n && d < 5 && k[d] >= '0' && k[d] <= '9')
		num = num * 10 + (unsigned)(k[d++] - '0');
	if (d == 3 || num > 63 || (k[3] == '0' && d > 4))
		return 0;
	return d == n || (n - d == 4 && memcmp(k + d, "path", 4) == 0);
}

enum dbus_match_fault dbus_match_check(const char *rule)
{
	const char *p = rule;

	if (strlen(rule) > DBUS_MATCH_RULE_MAX)
		return DBUS_MATCH_TOO_LONG;
	while (*p) {
		const char *k = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p != '=' || !dbus_match_key_ok(k, (size_t)(p - k)))
			return DBUS_MATCH_SYNTAX;
		p++;
		if (*p == '\'') {
			p = strchr(p + 1, '\'');
			if (!p)
				return DBUS_MATCH_UNTERMINATED;
			p++;
		} else {
			while (*p && *p != ',')
				p++;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return DBUS_MATCH_SYNTAX;
	}
	return DBUS_MATCH_OK;
}
