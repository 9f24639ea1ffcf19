/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum xg_log_level log_level = XG_LOG_INFO;
static int log_fd = 2;

int xg_log_level_parse(const char *s, enum xg_log_level *out)
{
	static const struct { const char *name; enum xg_log_level l; } t[] = {
		{ "debug", XG_LOG_DEBUG }, { "info", XG_LOG_INFO },
		{ "warn", XG_LOG_WARN },   { "warning", XG_LOG_WARN },
		{ "error", XG_LOG_ERROR },
	};
	size_t i;

	for (i = 0; s && i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcasecmp(s, t[i].name) == 0) {
			*out = t[i].l;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xg_log_level_name(enum xg_log_level l)
{
	switch (l) {
	case XG_LOG_DEBUG: return "DEBUG";
	case XG_LOG_INFO:  return "INFO";
	case XG_LOG_WARN:  return "WARN";
	case XG_LOG_ERROR: return "ERROR";
	}
	return "?";
}

void xg_log_set_level(enum xg_log_level l)
{
	log_level = l;
}

enum xg_log_level xg_log_get_level(void)
{
	return log_level;
}

void xg_log_set_fd(int fd)
{
	log_fd = fd;
}

void xg_log_timestamp(uint64_t real_ns, char *out, size_t cap)
{
	time_t secs = (time_t)(real_ns / 1000000000ULL);
	unsigned usec = (unsigned)(real_ns % 1000000000ULL / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(out, cap, "0000-00-00T00:00:00.000000Z");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
}

static bool plain_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

char *xg_log_quote(const char *s, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	bool plain = len > 0;

	if (cap == 0)
		return out;
	for (i = 0; i < len && plain; i++)
		plain = plain_char((unsigned char)s[i]);
	if (plain) {
		if (len >= cap)
			len = cap - 1;
		memcpy(out, s, len);
		out[len] = '\0';
		return out;
	}
	/* Room for the escape (at most 4), the closing quote and the NUL is
	 * checked before each character so the result is always closed. */
	if (cap < 3) {
		out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 4 + 2 > cap)
			break;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void xg_log(enum xg_log_level l, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	va_list ap;
	size_t n;
	int m;

	if (l < log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	xg_log_timestamp((uint64_t)ts.tv_sec * 1000000000ULL +
			 (uint64_t)ts.tv_nsec, line, sizeof(line));
	n = strlen(line);
	m = snprintf(line + n, sizeof(line) - n, " %-5s ",
		     xg_log_level_name(l));
	n += (size_t)(m > 0 ? m : 0);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated record, still one line */
	line[n++] = '\n';
	/* One write per record: lines from a restarted agent or a shell
	 * redirect shared with other processes never interleave mid-line.
	 * A log that cannot be written has nowhere to report that. */
	if (write(log_fd, line, n) < 0)
		return;
}
