/* SPDX-License-Identifier: MIT */
/*
 * Durations as operators type them: "500ms", "1s", "2m", "24h", or a bare
 * number of milliseconds ("250").  Integers only: a fraction such as
 * "1.5s" is rejected rather than rounded, and so is anything that would
 * overflow 64-bit nanoseconds.
 */
#ifndef XGOSSIP_UTIL_DURATION_H
#define XGOSSIP_UTIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0 or -EINVAL (empty, bad unit, garbage) / -ERANGE (overflow). */
int xg_duration_parse(const char *s, uint64_t *ns);

/* Shortest exact text form ("1s", "500ms", "0ms", "1500us"); returns out. */
char *xg_duration_format(uint64_t ns, char *out, size_t cap);

#endif /* XGOSSIP_UTIL_DURATION_H */
