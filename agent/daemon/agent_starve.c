/* SPDX-License-Identifier: MIT */
/*
 * An agent the host does not let run: how it finds out (its timers run
 * late while it used little CPU; its cgroup's CPU limit is too low) and
 * what it does about it (sheds push/pull, sets XG_UF_STARVED in its own
 * state).  docs/OPERATIONS.md, "A starved agent sheds".
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/agent_int.h"
#include "util/cgroup_cpu.h"
#include "util/cputime.h"
#include "util/duration.h"
#include "util/log.h"

/* Tell the members whether this node is starved (XG_UF_STARVED), so that
 * they suspect it with the longest suspicion timeout (docs/OPERATIONS.md). */
static void set_starved(struct xg_agent *a, bool starved, uint64_t now)
{
	int err = xg_core_set_starved(a->core, starved, now);

	if (err && err != -ESHUTDOWN) {
		xg_warn("cannot %s the starved flag: %s",
			starved ? "set" : "clear", strerror(-err));
		return;
	}
	a->starved = starved;
	if (!err)
		xg_info(starved ? "starved of CPU: asking members for the "
			"longest suspicion timeout" :
			"starved flag cleared: running on time and not "
			"CPU-limited");
}

/* Either reason is enough to shed and to carry the flag; the flag goes
 * only when neither holds, so a limit lifted while the timers are still
 * late does not make it flap. */
static void update_starved(struct xg_agent *a, uint64_t now)
{
	bool late_shed = now < a->shed_until_ns;
	bool want;

	if (!late_shed)
		a->late_starved = false;
	a->pp.shed = late_shed || a->cpu_limited;
	want = a->late_starved || a->cpu_limited;
	if (want != a->starved)
		set_starved(a, want, now);
}

/* A timer that fires long after its deadline, while the agent used little
 * CPU since it was armed, means the agent did not get the CPU (a cgroup
 * quota, an overloaded host, SIGSTOP).  For a while after that the agent
 * sheds the one expensive thing it can put off: TLS push/pull exchanges,
 * its own and other members' (a full handshake costs about half a
 * millisecond of CPU on each side).  Probes, gossip and refutations go on:
 * they are what keeps it a member.  Anti-entropy resumes once the agent
 * has run on time for XG_SHED_HOLD_NS.  An agent that was late because it
 * was busy (hashing and moving a 16 MiB message, say) is not starved:
 * shedding would only turn away unicasts and fetches.
 *
 * A second late timer within that time is starvation that goes on, not a
 * hiccup (a host busy starting thirty agents): then the members are told
 * too, until the agent has run on time for XG_SHED_HOLD_NS. */
void xg_agent_note_lateness(struct xg_agent *a, uint64_t now)
{
	uint64_t wall = now > a->armed_at_ns ? now - a->armed_at_ns : 0;
	uint64_t cpu = xg_cpu_now_ns() - a->armed_cpu_ns;
	bool late = a->armed_ns != UINT64_MAX && now > a->armed_due_ns &&
		    now - a->armed_due_ns > XG_SHED_LATE_NS &&
		    cpu < wall / XG_SHED_BUSY_DIV;

	if (late) {
		xg_debug("agent ran %" PRIu64 " ms late%s",
			 (now - a->armed_due_ns) / 1000000,
			 a->pp.shed ? "" : ": shedding push/pull");
		if (now < a->shed_until_ns)
			a->late_starved = true;
		a->shed_until_ns = now + XG_SHED_HOLD_NS;
	}
	update_starved(a, now);
	/* Being moved into a tight cgroup looks like this first: look at
	 * the limit now rather than up to XG_CPU_CHECK_NS later.  Once the
	 * limit is known, late timers are what it predicts. */
	if (late && !a->cpu_limited)
		xg_agent_cpu_limit_check(a, now, true);
}

/* The log line for a read that failed, once per kind of failure: an
 * agent outside any CPU hierarchy (-ENOENT) is normal, the rest is not. */
static void note_read_error(struct xg_agent *a, int err)
{
	if (err == a->cpu_limit_err)
		return;
	a->cpu_limit_err = err;
	if (err == -ENOENT)
		xg_debug("no cgroup CPU controller found: going by late timers "
			 "alone");
	else if (err)
		xg_warn("cannot read the cgroup CPU limit: %s; going by late "
			"timers alone", strerror(-err));
}

/* The limit is known in advance of its effect: under 1 ms/s the first TLS
 * push/pull (2-4 ms of CPU) makes CFS hold the agent for seconds, before
 * any timer can be seen late, and members would declare it failed in that
 * time.  So an agent below --starved-cpu-limit is starved from the moment
 * it reads the limit, for as long as the limit stays. */
void xg_agent_cpu_limit_check(struct xg_agent *a, uint64_t now, bool force)
{
	uint64_t threshold = a->cfg->starved_cpu_limit_ns;
	struct xg_cgroup_cpu cg;
	char lim[32], thr[32];
	bool limited;
	int err;

	if (!threshold || (!force && now < a->cpu_check_ns))
		return;
	a->cpu_check_ns = now + XG_CPU_CHECK_NS;
	err = xg_cgroup_cpu_read(NULL, a->cfg->cgroup_root, &cg);
	note_read_error(a, err);
	if (err)
		cg.limit_us = 0;
	/* Both per second: limit_us * 1000 < threshold, without overflow. */
	limited = cg.limit_us && cg.limit_us < (threshold + 999) / 1000;
	a->cpu_limit_us = cg.limit_us;
	if (limited == a->cpu_limited)
		return;
	a->cpu_limited = limited;
	xg_duration_format(cg.limit_us < UINT64_MAX / 1000 ?
			   cg.limit_us * 1000 : UINT64_MAX, lim, sizeof(lim));
	xg_duration_format(threshold, thr, sizeof(thr));
	if (limited)
		xg_info("CPU-limited: cgroup v%u allows %s of CPU per second, "
			"below --starved-cpu-limit %s: shedding push/pull",
			cg.version, lim, thr);
	else if (cg.limit_us)
		xg_info("no longer CPU-limited: cgroup v%u allows %s of CPU "
			"per second", cg.version, lim);
	else
		xg_info("no longer CPU-limited: no cgroup CPU limit");
	update_starved(a, now);
}

uint64_t xg_agent_cpu_limit_deadline(const struct xg_agent *a)
{
	return a->cfg->starved_cpu_limit_ns ? a->cpu_check_ns : UINT64_MAX;
}
