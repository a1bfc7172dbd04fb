/* match: the grammar of D-Bus match rules (specification, "Match Rules"),
 * as bus-monitor and bus-listen check them before sending them to the bus.
 *
 * A rule is comma-separated key=value or key='value' pairs; "" matches
 * everything.  Keys: type sender interface member path path_namespace
 * destination eavesdrop arg0namespace argN argNpath (N < 64).  The bus
 * checks the values; this refuses what is not a rule at all.
 * Prefix: dbus_match_. */
#ifndef IPCBOX_DBUS_MATCH_H
#define IPCBOX_DBUS_MATCH_H

#include <stddef.h>

#define DBUS_MATCH_RULE_MAX 1024 /* bytes, as dbus-daemon's limit */

/* What is wrong with a rule. */
enum dbus_match_fault {
	DBUS_MATCH_OK,
	DBUS_MATCH_TOO_LONG,     /* longer than DBUS_MATCH_RULE_MAX */
	DBUS_MATCH_SYNTAX,       /* an unknown key, a missing '=' or ',' */
	DBUS_MATCH_UNTERMINATED, /* a quote without its end */
};

/* 1 if k[0..n) is a match rule key. */
int dbus_match_key_ok(const char *k, size_t n);

/* Check the NUL-terminated rule. */
enum dbus_match_fault dbus_match_check(const char *rule);

/* The value of key in a rule dbus_match_check accepted, unquoted, into
 * out[size] (cut to fit): 1, or 0 if the rule has no such key. */
int dbus_match_value(const char *rule, const char *key, char *out, size_t size);

/* Build a rule into out[size]: the pairs kv[0]='kv[1]', kv[2]='kv[3]', ...
 * (npairs of them), then extra (a rule of the caller's; NULL or "" for
 * none), joined by ','.  0, or -1 if the rule would not fit out (size
 * DBUS_MATCH_RULE_MAX + 1 keeps to the bus's limit) or a value holds a
 * quote (the names,
 * paths and members built into rules never do, and this checker reads
 * only one quoted span a value). */
int dbus_match_build(char *out, size_t size, const char *const *kv, size_t npairs, const char *extra);

/* Does message m match the rule (dbus_match_check accepted it), as the bus
 * would decide?  sender= and destination= go through same_name(want, have,
 * ctx), which knows who owns a well-known name (NULL: plain comparison);
 * eavesdrop= is ignored. */
struct dbus_msg;
int dbus_match_msg(const char *rule, const struct dbus_msg *m,
		   int (*same_name)(const char *want, const char *have, void *ctx), void *ctx);

#endif
