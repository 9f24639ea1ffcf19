/* SPDX-License-Identifier: MIT */
/*
 * Giving back the code pages that only starting up needed.
 *
 * An agent runs on every node, so its resident memory counts once per node.
 * Much of what a freshly started xgossipd has mapped is code it ran once:
 * the dynamic linker's symbol tables, ELF and BTF parsing for the BPF load,
 * certificate parsing, option handling.  Those pages stay mapped (and
 * counted in RSS) although they are never touched again, and the kernel's
 * fault-around maps 64 KiB neighbourhoods of every page that was touched.
 *
 * xg_trim_code_pages() unmaps the process's executable file mappings
 * (MADV_DONTNEED: the pages stay in the page cache, shared with every other
 * process using the same files) and marks them MADV_RANDOM, so that from
 * then on only the pages the agent really executes are mapped back in, one
 * page per fault.  Executable mappings are never written, so dropping them
 * loses nothing; writable and read-only data mappings are left alone (a
 * private read-only mapping may hold relocated copy-on-write pages).
 */
#ifndef XGOSSIP_UTIL_MEMTRIM_H
#define XGOSSIP_UTIL_MEMTRIM_H

#include <stddef.h>

/* Bytes of address range advised, or -errno (reading /proc/self/maps). */
long xg_trim_code_pages(void);
/* The same for the code mappings whose file path contains `part` only
 * (e.g. "libssl"): code a rare task ran, without the cost of faulting the
 * hot path back in afterwards. */
long xg_trim_code_pages_of(const char *part);

#endif /* XGOSSIP_UTIL_MEMTRIM_H */
