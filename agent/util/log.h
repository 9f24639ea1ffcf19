/* SPDX-License-Identifier: MIT */
/*
 * The agent's log: one line per record on stderr,
 *
 *   2026-11-22T03:40:01.123456Z INFO  message key=value key=value
 *
 * in UTC with microseconds and the level padded to five columns.  Test
 * harnesses and operators grep these lines, so the shape is a contract
 * (docs/OPERATIONS.md).  Values that come from the network (member names)
 * go through xg_log_quote() so a hostile name cannot forge a line.
 */
#ifndef XGOSSIP_UTIL_LOG_H
#define XGOSSIP_UTIL_LOG_H

#include <stddef.h>
#include <stdint.h>

enum xg_log_level {
	XG_LOG_DEBUG = 0,
	XG_LOG_INFO  = 1,
	XG_LOG_WARN  = 2,
	XG_LOG_ERROR = 3,
};

/* "debug", "info", "warn" (or "warning"), "error" -> level; 0 or -EINVAL. */
int  xg_log_level_parse(const char *s, enum xg_log_level *out);
const char *xg_log_level_name(enum xg_log_level l); /* "DEBUG" ... */

void xg_log_set_level(enum xg_log_level l);
enum xg_log_level xg_log_get_level(void);
/* Where records go (default 2, stderr); tests point it at a pipe. */
void xg_log_set_fd(int fd);

void xg_log(enum xg_log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define xg_debug(...) xg_log(XG_LOG_DEBUG, __VA_ARGS__)
#define xg_info(...)  xg_log(XG_LOG_INFO, __VA_ARGS__)
#define xg_warn(...)  xg_log(XG_LOG_WARN, __VA_ARGS__)
#define xg_error(...) xg_log(XG_LOG_ERROR, __VA_ARGS__)

/* Formats the record prefix "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" for a
 * CLOCK_REALTIME time in ns into out (at least 28 bytes). */
void xg_log_timestamp(uint64_t real_ns, char *out, size_t cap);

/* A value safe to put after "key=": returned unchanged when it is plain
 * printable ASCII without spaces, quotes, '=' or backslashes; otherwise
 * "double-quoted" with \" \\ and \xNN escapes.  Truncated to cap - 1. */
char *xg_log_quote(const char *s, size_t len, char *out, size_t cap);

#endif /* XGOSSIP_UTIL_LOG_H */
