/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <errno.h>
#include <inttypes.h>

#include <json-c/json.h>

#include "core/addr.h"

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double per_second(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void report_text(FILE *out, const struct xg_probe_args *a,
		 const struct probe_result *r)
{
	char target[XG_ADDR_STRLEN];

	xg_addr_format(&a->target, target, sizeof(target));
	if (a->flood)
		fprintf(out, "target %s id %016" PRIx64 ", flood, window %u, %.1f s\n",
			target, a->target_id, a->window, (double)r->send_ns / 1e9);
	else
		fprintf(out, "target %s id %016" PRIx64 ", %" PRIu64 " pps, %.1f s\n",
			target, a->target_id, a->rate_pps, (double)r->send_ns / 1e9);
	fprintf(out, "sent          %" PRIu64 "\n", r->sent);
	fprintf(out, "answered      %" PRIu64 " (%.3f%%)\n", r->answered,
		pct(r->answered, r->sent));
	fprintf(out, "loss          %" PRIu64 " (%.3f%%)\n", r->lost,
		pct(r->lost, r->sent));
	fprintf(out, "answered pps  %.1f\n", per_second(r->answered, r->send_ns));
	if (r->hung)
		fprintf(out, "hung          %" PRIu64 " (NACKed: the agent is hung)\n",
			r->hung);
	if (r->rtt.count)
		fprintf(out, "rtt us        p50 %.1f  p99 %.1f  p99.9 %.1f  "
			"min %.1f  max %.1f  mean %.1f\n",
			us(xg_hist_percentile(&r->rtt, 50)),
			us(xg_hist_percentile(&r->rtt, 99)),
			us(xg_hist_percentile(&r->rtt, 99.9)),
			us(r->rtt.min), us(r->rtt.max), xg_hist_mean(&r->rtt) / 1000.0);
	if (r->late || r->duplicate || r->bad || r->send_errors ||
	    r->icmp_errors || r->clock_skew)
		fprintf(out, "late %" PRIu64 "  duplicate %" PRIu64 "  bad %" PRIu64
			"  send errors %" PRIu64 "  icmp errors %" PRIu64
			"  clock skew %" PRIu64 "\n",
			r->late, r->duplicate, r->bad, r->send_errors,
			r->icmp_errors, r->clock_skew);
}

static int add(json_object *o, const char *k, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, k, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int report_json(FILE *out, const struct xg_probe_args *a,
		const struct probe_result *r)
{
	json_object *o = json_object_new_object(), *rtt = json_object_new_object();
	char target[XG_ADDR_STRLEN], id[17];
	int err = 0;

	if (!o || !rtt) {
		json_object_put(o);
		json_object_put(rtt);
		return -ENOMEM;
	}
	xg_addr_format(&a->target, target, sizeof(target));
	snprintf(id, sizeof(id), "%016" PRIx64, a->target_id);
	err |= add(o, "target", json_object_new_string(target));
	err |= add(o, "target_id", json_object_new_string(id));
	snprintf(id, sizeof(id), "%016" PRIx64, r->sender_id);
	err |= add(o, "sender_id", json_object_new_string(id));
	err |= add(o, "mode", json_object_new_string(a->flood ? "flood" : "rate"));
	err |= add(o, "rate_pps", json_object_new_int64((int64_t)a->rate_pps));
	err |= add(o, "window", json_object_new_int64(a->flood ? a->window : 0));
	err |= add(o, "duration_s", json_object_new_double((double)r->send_ns / 1e9));
	err |= add(o, "sent", json_object_new_int64((int64_t)r->sent));
	err |= add(o, "answered", json_object_new_int64((int64_t)r->answered));
	err |= add(o, "lost", json_object_new_int64((int64_t)r->lost));
	err |= add(o, "loss_pct", json_object_new_double(pct(r->lost, r->sent)));
	err |= add(o, "answered_pps",
		   json_object_new_double(per_second(r->answered, r->send_ns)));
	err |= add(o, "late", json_object_new_int64((int64_t)r->late));
	err |= add(o, "duplicate", json_object_new_int64((int64_t)r->duplicate));
	err |= add(o, "bad", json_object_new_int64((int64_t)r->bad));
	err |= add(o, "hung", json_object_new_int64((int64_t)r->hung));
	err |= add(o, "send_errors", json_object_new_int64((int64_t)r->send_errors));
	err |= add(o, "icmp_errors", json_object_new_int64((int64_t)r->icmp_errors));
	err |= add(o, "clock_skew", json_object_new_int64((int64_t)r->clock_skew));
	err |= add(rtt, "p50", json_object_new_double(us(xg_hist_percentile(&r->rtt, 50))));
	err |= add(rtt, "p99", json_object_new_double(us(xg_hist_percentile(&r->rtt, 99))));
	err |= add(rtt, "p999", json_object_new_double(us(xg_hist_percentile(&r->rtt, 99.9))));
	err |= add(rtt, "min", json_object_new_double(r->rtt.count ? us(r->rtt.min) : 0));
	err |= add(rtt, "max", json_object_new_double(us(r->rtt.max)));
	err |= add(rtt, "mean", json_object_new_double(xg_hist_mean(&r->rtt) / 1000.0));
	if (err) {
		json_object_put(rtt);
		json_object_put(o);
		return -ENOMEM;
	}
	if (add(o, "rtt_us", rtt)) {
		json_object_put(o);
		return -ENOMEM;
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}
