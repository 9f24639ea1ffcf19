#!/usr/bin/env python3
"""Results of the dissemination benchmark.

  summarize.py OUT CSV MD_SECTION [KEY=VALUE...]

OUT holds one directory per cluster, SYSTEM-nN/, with driver.py's
result.json and the agents' logs (logs/nI.log).  Writes

  CSV          one row per system, cluster size and measure (long format)
  MD_SECTION   the results table and the verdicts, for BENCHMARKS.md

and prints the table and the verdicts on the issue's bars.  KEY=VALUE
parameters go into the CSV header.

Definitions (the same for every system):

  start          the driver's clock just before it wrote the broadcast
                 request (driver.py)
  time to all    per message, the latest of the first receipts at the N-1
                 nodes other than the origin, minus the start.  Receipt:
                 xgossipd, the subscriber line's "received" (the agent's wall
                 clock when it delivered the message); Serf, its log line
                 "agent: Received event: user-event: NAME", written as the
                 agent takes the event to its handler, stamped on arrival
                 by stamp.py (Serf's own stamps are whole seconds).  p50 and p99 over the messages that
                 reached every node (linear interpolation).
  delivered      (node, message) pairs, origin excluded, received at least
                 once; missing = M x (N-1) - delivered; duplicates = further
                 receipts of a pair already received
  packets        frames sent by all nodes (their veths' counters, any
                 protocol) between the snapshots S1 (before the first
                 broadcast) and S2 (everything delivered + a tail), minus the
                 baseline rate (S0..S1, no broadcasts) times that time; per
                 message per node = that / (M x N)
  CPU            utime + stime of every agent process over S1..S2 minus the
                 baseline rate times that time, per 1000 broadcasts (the
                 cluster's total).  Serf's handler processes are counted
                 apart (the agents' cutime + cstime).
  dups to userspace   xgossipd: the messenger's "dups" (PUSH or
                 PULL_RESPONSE of an id already seen) plus "pull_syncs_known"
                 (PULL_SYNC of an id already seen), summed over the agents;
                 with XDP on, the kernel drops most before they reach the
                 agent ("dup_dropped")
"""
import json
import math
import os
import re
import sys

SYSTEMS = [("serf", "Serf"), ("xdp", "xgossip XDP"), ("off", "xgossip off")]
SERF_LOG = re.compile(r"^(\d+\.\d+) .*agent: Received event: user-event: m(\d+)")
DUP_FIELDS = ("dups", "pull_syncs_known")
MSG_FIELDS = ("broadcasts", "pushes_sent", "pushes_recv", "dups", "delivered", "acks_sent",
              "rounds_started", "rounds_short", "pull_syncs_sent", "pull_syncs_recv",
              "pull_syncs_known", "pull_requests_sent", "pull_responses_sent", "gaps_found",
              "pulls_failed", "tx_errors", "rx_bad")


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def nan():
    return float("nan")


def excess(r, get):
    """What the message phase added over the baseline: (S2 - S1) minus the
    S0..S1 rate times the S1..S2 time; and the phase's length."""
    s0, s1, s2 = r["s0"], r["s1"], r["s2"]
    v0, v1, v2 = get(s0), get(s1), get(s2)
    if None in (v0, v1, v2):
        return nan(), s2["t"] - s1["t"]
    base = (v1 - v0) / (s1["t"] - s0["t"])
    return (v2 - v1) - base * (s2["t"] - s1["t"]), s2["t"] - s1["t"]


def total(snap, part, field, names):
    vals = [snap[part].get(nm) for nm in names]
    if any(v is None for v in vals):
        return None
    if part == "cpu":
        pick = {"agent": (0, 1), "user": (0,), "sys": (1,), "children": (2, 3)}[field]
        return sum(v[j] for v in vals for j in pick)
    return sum(v[field] for v in vals)


def msg_counter(c, name, field):
    try:
        return c[name]["info"]["messages"][field]
    except (KeyError, TypeError):
        return None


def xdp_counter(c, name, field):
    try:
        return c[name]["xdp"]["counters"][field]
    except (KeyError, TypeError):
        return None


def counter_delta(r, names, fn, field):
    vals = [(fn(r["counters0"], nm, field), fn(r["counters1"], nm, field)) for nm in names]
    if not vals or any(a is None or b is None for a, b in vals):
        return nan()
    return float(sum(b - a for a, b in vals))


def analyse_cluster(d):
    with open(os.path.join(d, "result.json")) as f:
        r = json.load(f)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    names = [nd["name"] for nd in cfg["nodes"]]
    n, m = r["n"], r["messages"]
    out = {}
    sends = r["sends"]
    # (node, message) -> receipts, origin excluded; and the first time.
    count, first = {}, {}
    for node, k, t, t_read, hops in r["receipts"]:
        if not 0 <= k < m or sends[k] is None or node == sends[k]["origin"]:
            continue
        key = (node, k)
        count[key] = count.get(key, 0) + 1
        if t is not None and (key not in first or t < first[key]):
            first[key] = t
    if r["system"] == "serf":
        # The handler's lines say what was delivered, Serf's log line,
        # stamped on arrival by stamp.py, when: the agent writes it as it
        # takes the event to its handlers.
        first = serf_log_times(d, names, sends, m)
    tta, tta_sent, per_node, rtt = [], [], [], []
    for k, s in enumerate(sends):
        if s is None:
            continue
        if s.get("t1") is not None:
            rtt.append(s["t1"] - s["t0"])
        ts = [first.get((nm, k)) for nm in names if nm != s["origin"]]
        per_node.extend(t - s["t0"] for t in ts if t is not None)
        if None in ts:
            continue
        tta.append(max(ts) - s["t0"])
        sent = sent_epoch(s["sent"]) if s.get("sent") else None
        if sent is not None:
            tta_sent.append(max(ts) - sent)
    out["messages"] = m
    out["pairs_expected"] = m * (n - 1)
    out["delivered"] = len(count)
    out["missing"] = m * (n - 1) - len(count)
    out["duplicate_deliveries"] = sum(c - 1 for c in count.values())
    out["messages_complete"] = len(tta)
    for p in (50, 99):
        out["tta_p%d_s" % p] = pct(tta, p)
        out["tta_sent_p%d_s" % p] = pct(tta_sent, p)
        out["to_node_p%d_s" % p] = pct(per_node, p)
    out["tta_max_s"] = max(tta) if tta else nan()
    out["tta_under_250ms_share"] = sum(1 for x in tta if x < 0.25) / len(tta) if tta else nan()
    out["request_p50_s"] = pct(rtt, 50)
    for what, fld in (("pkts", "sent_pkts"), ("bytes", "sent_bytes")):
        x, dt = excess(r, lambda s: total(s, "links", fld, names))
        out["%s_per_msg_node" % what] = x / (m * n)
        x0 = total(r["s0"], "links", fld, names)
        x1 = total(r["s1"], "links", fld, names)
        if x0 is not None and x1 is not None:
            out["baseline_%s_per_s_node" % what] = (x1 - x0) / (r["s1"]["t"] - r["s0"]["t"]) / n
    tck = float(r["clk_tck"])
    x, dt = excess(r, lambda s: total(s, "cpu", "agent", names))
    out["cpu_s_per_1000"] = x / tck / m * 1000
    for part in ("user", "sys"):
        y, _ = excess(r, lambda s: total(s, "cpu", part, names))
        out["cpu_%s_s_per_1000" % part] = y / tck / m * 1000
    out["phase_s"] = dt
    if r["system"] == "serf":
        x, _ = excess(r, lambda s: total(s, "cpu", "children", names))
        out["handler_cpu_s_per_1000"] = x / tck / m * 1000
    else:
        dups = sum(counter_delta(r, names, msg_counter, fld) for fld in DUP_FIELDS)
        out["dups_user"] = dups
        out["dups_user_per_msg_node"] = dups / (m * n)
        kd = counter_delta(r, names, xdp_counter, "dup_dropped")
        out["dups_kernel"] = kd
        out["dups_kernel_per_msg_node"] = kd / (m * n)
        for fld in MSG_FIELDS:
            out["msg_" + fld] = counter_delta(r, names, msg_counter, fld)
        out["udp_tx_per_msg_node"] = counter_delta(r, names, info_stat, "udp_tx_packets") / (m * n)
    out["errors"] = len(r["errors"])
    out["complete"] = 1 if r["complete"] else 0
    return out, r["errors"]


def serf_log_times(d, names, sends, m):
    """(node, message) -> the stamp of the node's first "Received event"
    line for it."""
    first = {}
    for node in names:
        try:
            f = open(os.path.join(d, "logs", node + ".log"), errors="replace")
        except FileNotFoundError:
            continue
        with f:
            for line in f:
                mm = SERF_LOG.match(line)
                if mm:
                    k = int(mm.group(2))
                    if 0 <= k < m and sends[k] and node != sends[k]["origin"]:
                        first.setdefault((node, k), float(mm.group(1)))
    return first


def info_stat(c, name, field):
    try:
        return c[name]["info"]["stats"][field]
    except (KeyError, TypeError):
        return None


def sent_epoch(s):
    import datetime
    try:
        ts = datetime.datetime.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None
    return ts.replace(tzinfo=datetime.timezone.utc).timestamp()


def fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if nd == 0:
        return "%d" % round(v)
    return "%.*f" % (nd, v)


def analyse(out):
    res, notes = {}, []
    for e in sorted(os.listdir(out)):
        mm = re.match(r"^(serf|xdp|off)-n(\d+)$", e)
        if not mm or not os.path.exists(os.path.join(out, e, "result.json")):
            continue
        s, n = mm.group(1), int(mm.group(2))
        res[s, n], errs = analyse_cluster(os.path.join(out, e))
        for x in errs[:3]:
            notes.append("%s N=%d: %s" % (s, n, x))
        if len(errs) > 3:
            notes.append("%s N=%d: %d more errors" % (s, n, len(errs) - 3))
    return res, notes


def columns(res):
    sizes = sorted({n for _, n in res})
    return [(s, n, "%s N=%d" % (lab, n)) for n in sizes for s, lab in SYSTEMS if (s, n) in res]


def table_rows(res):
    cols = columns(res)

    def row(label, f):
        return (label, [f(res[s, n], s) for s, n, _ in cols])

    rows = [
        row("time to all nodes p50 / p99 (s)",
            lambda r, s: "%s / %s" % (fmt(r["tta_p50_s"], 3), fmt(r["tta_p99_s"], 3))),
        row("messages at all nodes within 250 ms", lambda r, s: "%s %%" % fmt(100 * r["tta_under_250ms_share"], 0)),
        row("time to one node p50 (s)", lambda r, s: fmt(r["to_node_p50_s"], 3)),
        row("delivered / missing / duplicate",
            lambda r, s: "%d / %d / %d" % (r["delivered"], r["missing"], r["duplicate_deliveries"])),
        row("packets sent per message per node", lambda r, s: fmt(r["pkts_per_msg_node"], 2)),
        row("bytes sent per message per node", lambda r, s: fmt(r["bytes_per_msg_node"], 0)),
        row("agent CPU per 1000 broadcasts, user + sys (s)",
            lambda r, s: "%s + %s" % (fmt(r["cpu_user_s_per_1000"], 1), fmt(r["cpu_sys_s_per_1000"], 1))),
        row("dups to userspace per message per node",
            lambda r, s: "-" if s == "serf" else fmt(r["dups_user_per_msg_node"], 2)),
        row("dups dropped by XDP per message per node",
            lambda r, s: "-" if s != "xdp" else fmt(r["dups_kernel_per_msg_node"], 2)),
    ]
    return cols, rows


def get(res, s, n, k):
    v = res.get((s, n), {}).get(k)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def verdicts(res):
    out = []
    for n in sorted({n for _, n in res}):
        ref = get(res, "serf", n, "tta_p50_s")
        for s, lab in SYSTEMS[1:]:
            x = get(res, s, n, "tta_p50_s")
            if x is not None and ref is not None:
                out.append(("%s N=%d: median time to all nodes <= half of Serf's" % (lab, n),
                            x <= ref / 2, "%.3f s vs %.3f s (%.1f%%)" % (x, ref, 100 * x / ref)))
        x, ref = get(res, "xdp", n, "dups_user"), get(res, "off", n, "dups_user")
        if x is not None and ref is not None:
            out.append(("N=%d: duplicates reaching userspace with XDP on <= 1/10 of XDP off" % n,
                        x <= ref / 10, "%d vs %d (%.1f%%)" % (x, ref, 100 * x / ref if ref else 0)))
        for s, lab in SYSTEMS:
            x = get(res, s, n, "missing")
            y = get(res, s, n, "duplicate_deliveries")
            if x is not None:
                out.append(("%s N=%d: every node got every message exactly once" % (lab, n),
                            x == 0 and y == 0, "%d missing, %d duplicate deliveries" % (x, y)))
    return out


def ratios(res):
    """Context lines: CPU XDP/off, Serf's handler CPU, request times."""
    lines = []
    for n in sorted({n for _, n in res}):
        x, y = get(res, "xdp", n, "cpu_s_per_1000"), get(res, "off", n, "cpu_s_per_1000")
        if x is not None and y:
            lines.append("N=%d: agent CPU per 1000 broadcasts, XDP on / off = %.2f s / %.2f s = %.2f"
                         % (n, x, y, x / y))
        h = get(res, "serf", n, "handler_cpu_s_per_1000")
        if h is not None:
            lines.append("N=%d: Serf's handler processes took %.2f s of CPU per 1000 broadcasts on top"
                         " of the agents" % (n, h))
        for s, lab in SYSTEMS:
            q = get(res, s, n, "request_p50_s")
            if q is not None:
                lines.append("N=%d: %s, broadcast request answered after %.1f ms (p50)" % (n, lab, q * 1000))
    return lines


def render_table(cols, rows):
    heads = ["measure"] + [c[2] for c in cols]
    body = [[lab] + cells for lab, cells in rows]
    w = [max(len(r[i]) for r in [heads] + body) for i in range(len(heads))]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(heads)).rstrip()]
    lines.append("  ".join("-" * x for x in w))
    for r in body:
        lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def render_md_table(cols, rows):
    heads = ["measure"] + [c[2] for c in cols]
    lines = ["| " + " | ".join(heads) + " |", "|---|" + "---:|" * len(cols)]
    for lab, cells in rows:
        lines.append("| " + " | ".join([lab] + cells) + " |")
    return "\n".join(lines)


def write_csv(path, res, params):
    with open(path, "w") as f:
        f.write("# xgossip dissemination benchmark (tests/bench/dissem)\n")
        for k, v in params.items():
            f.write("# %s=%s\n" % (k, v))
        f.write("system,n,measure,value\n")
        for (s, n) in sorted(res, key=lambda x: (x[1], [a for a, _ in SYSTEMS].index(x[0]))):
            for k, v in sorted(res[s, n].items()):
                f.write("%s,%d,%s,%s\n" % (s, n, k, "nan" if isinstance(v, float) and math.isnan(v)
                                           else "%.6g" % v))


def main(a):
    if len(a) < 4:
        sys.exit(__doc__)
    out, csv, md = a[1:4]
    params = dict(p.split("=", 1) for p in a[4:] if "=" in p)
    res, notes = analyse(out)
    if not res:
        sys.exit("no results in %s" % out)
    cols, rows = table_rows(res)
    vs = verdicts(res)
    ctx = ratios(res)
    write_csv(csv, res, params)
    print(render_table(cols, rows))
    print()
    for bar, ok, detail in vs:
        print("%-4s %s: %s" % ("PASS" if ok else "MISS", bar, detail))
    for line in ctx:
        print("     " + line)
    for x in notes:
        print("note: " + x)
    with open(md, "w") as f:
        f.write(render_md_table(cols, rows) + "\n\n")
        for bar, ok, detail in vs:
            f.write("- %s %s: %s\n" % ("**met**" if ok else "**missed**", bar, detail))
        for line in ctx:
            f.write("- %s\n" % line)
        for x in notes:
            f.write("- note: %s\n" % x)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
