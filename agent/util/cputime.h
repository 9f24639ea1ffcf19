/* SPDX-License-Identifier: MIT */
/*
 * The process's CPU time.  Set against the monotonic clock it tells an
 * agent that did not run because it was busy from one that was not let
 * run (a cgroup quota, an overloaded host, SIGSTOP).
 */
#ifndef XGOSSIP_UTIL_CPUTIME_H
#define XGOSSIP_UTIL_CPUTIME_H

#include <stdint.h>

/* CLOCK_PROCESS_CPUTIME_ID in ns; 0 if it cannot be read. */
uint64_t xg_cpu_now_ns(void);

#endif /* XGOSSIP_UTIL_CPUTIME_H */
