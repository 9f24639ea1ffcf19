/* SPDX-License-Identifier: MIT */
#include "util/duration.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *suffix;
	uint64_t    ns;
} units[] = {
	{ "ns", 1ULL },
	{ "us", 1000ULL },
	{ "ms", 1000000ULL },
	{ "s",  1000000000ULL },
	{ "m",  60ULL * 1000000000ULL },
	{ "h",  3600ULL * 1000000000ULL },
};

int xg_duration_parse(const char *s, uint64_t *ns)
{
	uint64_t v = 0, mult = 1000000ULL; /* bare number: milliseconds */
	size_t i = 0, u;

	if (!s)
		return -EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (i == 0)
		return -EINVAL;
	if (s[i] != '\0') {
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (strcmp(s + i, units[u].suffix) == 0)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		mult = units[u].ns;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*ns = v * mult;
	return 0;
}

char *xg_duration_format(uint64_t ns, char *out, size_t cap)
{
	size_t u = sizeof(units) / sizeof(units[0]);

	if (ns == 0) {
		snprintf(out, cap, "0ms");
		return out;
	}
	while (u-- > 1)
		if (ns % units[u].ns == 0)
			break;
	snprintf(out, cap, "%llu%s", (unsigned long long)(ns / units[u].ns),
		 units[u].suffix);
	return out;
}
