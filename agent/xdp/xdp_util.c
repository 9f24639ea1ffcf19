/* SPDX-License-Identifier: MIT */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "util/log.h"

static const struct {
	const char      *name;
	enum xg_xdp_mode mode;
} mode_names[] = {
	{ "off", XG_XDP_OFF },         { "auto", XG_XDP_AUTO },
	{ "native", XG_XDP_NATIVE },   { "generic", XG_XDP_GENERIC },
	{ "drv", XG_XDP_NATIVE },      { "skb", XG_XDP_GENERIC },
};

int xg_xdp_mode_parse(const char *s, enum xg_xdp_mode *out)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcasecmp(s, mode_names[i].name) == 0) {
			*out = mode_names[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xg_xdp_mode_str(enum xg_xdp_mode m)
{
	switch (m) {
	case XG_XDP_OFF:     return "off";
	case XG_XDP_AUTO:    return "auto";
	case XG_XDP_NATIVE:  return "native";
	case XG_XDP_GENERIC: return "generic";
	}
	return "?";
}

int xg_xdp_errf(char *buf, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!buf || len == 0)
		return err;
	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (err < 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ": %s", strerror(-err));
	return err;
}

static void bridge(const char *who, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (xg_log_get_level() > XG_LOG_DEBUG)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n)
		xg_debug("%s: %s", who, line);
}

static int libbpf_bridge(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	bridge("libbpf", fmt, ap);
	return 0;
}

static int libxdp_bridge(enum libxdp_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	bridge("libxdp", fmt, ap);
	return 0;
}

void xg_xdp_log_bridge(void)
{
	libbpf_set_print(libbpf_bridge);
	libxdp_set_print(libxdp_bridge);
}

const char *const xg_xdp_stat_names[] = {
	"rx",
	"not_ours",
	"ip_unsupported",
	"bad_header",
	"other_cluster",
	"ping_malformed",
	"ping_other_target",
	"ping_not_unicast",
	"ping_no_key",
	"bad_mac",
	"ping_no_socket",
	"ping_stale_heartbeat",
	"ping_answered",
	"dup_dropped",
	"msg_unknown",
	"msg_malformed",
	"other_type",
	"passed",
	"dropped",
	"tx",
	"mac_secondary",
	NULL,
};

_Static_assert(sizeof(xg_xdp_stat_names) / sizeof(xg_xdp_stat_names[0]) - 1 ==
		       sizeof(struct xg_bpf_stats) / sizeof(__u64),
	       "xg_xdp_stat_names must name every counter");

uint64_t xg_xdp_stat_get(const struct xg_bpf_stats *s, size_t n)
{
	const __u64 *v = (const __u64 *)s;

	if (n >= sizeof(*s) / sizeof(*v))
		return 0;
	return v[n];
}
