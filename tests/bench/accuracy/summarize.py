#!/usr/bin/env python3
"""Results of the failure-detector accuracy benchmark.

  summarize.py OUT CSV DAT MD_SECTION [PARAMS...]

OUT is run.sh's raw directory: runlog.tsv (what was done, when) and
logs/SYSTEM-nN[-TAG]/nI.log (every agent's log).  Everything is counted
here, after the run, from the agents' logs (acclog.py's vocabulary), over
the time windows in the runlog.  Writes

  CSV          one row per system, measure and parameter (long format)
  DAT          the same numbers laid out for accuracy.gp
  MD_SECTION   the "Failure-detector accuracy" section of BENCHMARKS.md

and prints the table and the verdicts on the issue's bars.  PARAMS
(KEY=VALUE) are copied into the CSV header and the section.

Definitions (the same for every system):

  detection      from the SIGKILL (harness clock, just before kill(2)) to
                 the last surviving node's first "declared failed" line
                 about the victim; p50 and p99 over the kills (linear
                 interpolation between order statistics: with 5 kills p99
                 is nearly the maximum)
  declared failed  failure declarations about one target, grouped into one
                 episode while they come less than FAIL_GAP s apart; a
                 target declared failed by 15 nodes at once counts once
  suspicions     suspicion lines about one target grouped the same way,
                 SUSP_GAP s; the episode's first line names who raised it
                 (Serf logs only its own accusations; xgossipd logs every
                 suspicion it learns of, the raiser's first)
  heal           from the partition's end until every node sees all N
                 alive again (its last "alive"/"join" line)
  bytes/s        eth0 rx+tx bytes per node per second of steady state
"""
import collections
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acclog  # noqa: E402

FAIL_GAP = 10.0
SUSP_GAP = 2.0
LIVENESS_S = 2.0  # xgossipd --liveness-window in the benchmark (params: liveness_window)
SYSTEMS = [("serf", "Serf 0.9.4"), ("xdp", "xgossip XDP native"), ("off", "xgossip XDP off")]


def pct(xs, p):
    xs = sorted(x for x in xs if not math.isnan(x))
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def read_runlog(path):
    rows = []
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 8:
                continue
            rows.append({"sys": c[0], "n": int(c[1]), "tag": c[2], "phase": c[3],
                         "param": c[4], "t0": float(c[5]), "t1": float(c[6]),
                         "nodes": c[7], "vals": c[8:]})
    return rows


class Cluster:
    """All events of one cluster's logs: (time, observer, kind, target)."""

    def __init__(self, system, logdir):
        self.ev = []
        self.stamp = []
        for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            if not fn.endswith(".log"):
                continue
            obs = fn[:-4]
            for t, kind, target in acclog.events(system, os.path.join(logdir, fn), self.stamp):
                if target != obs:
                    self.ev.append((t, obs, kind, target))
        self.ev.sort()

    def window(self, t0, t1, kind):
        return [e for e in self.ev if t0 <= e[0] <= t1 and e[2] == kind]


def episodes(events, gap):
    """Group (t, observer, kind, target) by target into runs whose lines
    are less than gap s apart; yields (target, first observer, count)."""
    by = collections.defaultdict(list)
    for e in events:
        by[e[3]].append(e)
    for target, es in by.items():
        last = None
        for e in es:
            if last is None or e[0] - last > gap:
                yield target, e[1], e[0]
            last = e[0]


def names(nodes):
    return set("n" + x for x in nodes.split(",") if x and x != "-")


def logdir(out, r):
    tag = "" if r["tag"] == "-" else "-" + r["tag"]
    return os.path.join(out, "logs", "%s-n%d%s" % (r["sys"], r["n"], tag))


def analyse(out, rows):
    """{system: {(measure, param): value}} and notes."""
    res = collections.defaultdict(dict)
    notes = []
    clusters = {}

    lag = collections.defaultdict(list)

    def cluster(r):
        d = logdir(out, r)
        if d not in clusters:
            clusters[d] = Cluster(r["sys"], d)
        return clusters[d]

    det = collections.defaultdict(list)
    hang = collections.defaultdict(list)
    detfirst = collections.defaultdict(list)
    steady = collections.defaultdict(list)
    for r in rows:
        s, ph = r["sys"], r["phase"]
        m = res[s]
        if ph == "hang":
            first, last = (float(v) for v in r["vals"][:2])
            hang[s, r["n"]].append(last - r["t0"])
            if math.isnan(last):
                notes.append("%s N=%d: hung n%s was not declared failed by every node within the bound"
                             % (s, r["n"], r["nodes"]))
        elif ph == "detect":
            # Serf's receipt stamps against its own whole seconds, where
            # they matter: no node is throttled or stopped here (a
            # throttled Serf formats a line, then waits for CPU to write
            # it, and shows lags of many seconds).
            lag[s].extend(cluster(r).stamp)
            cluster(r).stamp.clear()
            tk = r["t0"]
            first, last = (float(v) for v in r["vals"][:2])
            det[s, r["n"]].append(last - tk)
            detfirst[s, r["n"]].append(first - tk)
            if math.isnan(last):
                notes.append("%s N=%d: n%s was not declared failed by every node within the bound"
                             % (s, r["n"], r["nodes"]))
        elif ph == "steady":
            dt = r["t1"] - r["t0"]
            v = [int(x) for x in r["vals"]] + [0, 0]
            steady[s].append((v[0] / dt, v[1] / 1024.0, v[2] / 1024.0, v[3] / 1024.0))
        elif ph in ("stop", "throttle"):
            c = cluster(r)
            slow = names(r["nodes"])
            key = "stop_%ss" % r["param"] if ph == "stop" else "throttle_%gms" % (int(r["param"]) / 1000)
            fails = c.window(r["t0"], r["t1"], "fail")
            susp = c.window(r["t0"], r["t1"], "suspect")
            fe = list(episodes(fails, FAIL_GAP))
            se = list(episodes(susp, SUSP_GAP))
            m[key + "_failed", ""] = len(fe)
            m[key + "_fail_lines", ""] = len(fails)
            m[key + "_susp_slow", ""] = sum(1 for t, o, _ in se if t in slow)
            m[key + "_susp_healthy", ""] = sum(1 for t, o, _ in se if t not in slow)
            m[key + "_susp_healthy_by_slow", ""] = sum(1 for t, o, _ in se if t not in slow and o in slow)
            m[key + "_susp_lines", ""] = len(susp)
            m[key + "_window_s", ""] = r["t1"] - r["t0"]
        elif ph == "partition":
            c = cluster(r)
            th, back = float(r["vals"][0]), float(r["vals"][1])
            split_fail = c.window(r["t0"], th, "fail")
            m["partition_fail_lines", ""] = len(split_fail)
            # (observer, target) pairs across the split declared failed by
            # the time it healed: what the heal had to undo.
            half = int(r["nodes"])
            m["partition_pairs_failed", ""] = len({(o, x) for _, o, _, x in split_fail
                                                   if (int(o[1:]) <= half) != (int(x[1:]) <= half)})
            m["partition_pairs", ""] = 2 * half * (r["n"] - half)
            if math.isnan(back):
                m["partition_heal_s", ""] = float("nan")
                notes.append("%s: the partition did not heal within the bound" % s)
            else:
                m["partition_heal_s", ""] = max(0.0, back - th)
        elif ph == "unsettled":
            notes.append("%s N=%d: the cluster was not quiet after a phase (at %.0f)"
                         % (s, r["n"], r["t0"]))
    for (s, n), xs in hang.items():
        res[s]["hang_p50_s", n] = pct(xs, 50)
        res[s]["hang_p99_s", n] = pct(xs, 99)
    for (s, n), xs in det.items():
        res[s]["detect_p50_s", n] = pct(xs, 50)
        res[s]["detect_p99_s", n] = pct(xs, 99)
        res[s]["detect_first_p50_s", n] = pct(detfirst[s, n], 50)
        res[s]["detect_kills", n] = len(xs)
    for s, xs in steady.items():
        res[s]["bytes_per_s_node", ""] = sum(x[0] for x in xs) / len(xs)
        res[s]["rss_mib", ""] = sum(x[1] for x in xs) / len(xs)
        res[s]["rss_mib_max", ""] = max(x[1] for x in xs)
        if any(x[2] for x in xs):
            res[s]["rss_anon_mib", ""] = sum(x[2] for x in xs) / len(xs)
            res[s]["pss_mib", ""] = sum(x[3] for x in xs) / len(xs)
    for s, xs in lag.items():
        if xs:
            res[s]["stamp_lag_min_s", ""] = min(xs)
            res[s]["stamp_lag_max_s", ""] = max(xs)
    return res, notes


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if nd == 0:
        return "%d" % round(v)
    return "%.*f" % (nd, v)


def table_rows(res, bursts, quotas, sizes):
    """(label, {system: text}) in display order."""
    rows = []

    def get(s, k, p=""):
        return res.get(s, {}).get((k, p))

    for n in sizes:
        rows.append(("SIGKILL detection N=%d, p50 / p99 (s)" % n,
                     {s: "%s / %s" % (fmt(get(s, "detect_p50_s", n), 2), fmt(get(s, "detect_p99_s", n), 2))
                      for s, _ in SYSTEMS}))
    for n in sorted({k[1] for s, _ in SYSTEMS for k in res.get(s, {}) if k[0] == "hang_p50_s"}):
        rows.append(("SIGSTOP (hung agent) detection N=%d, p50 / p99 (s)" % n,
                     {s: "%s / %s" % (fmt(get(s, "hang_p50_s", n), 2), fmt(get(s, "hang_p99_s", n), 2))
                      for s, _ in SYSTEMS}))
    for b in bursts:
        k = "stop_%ss" % b
        rows.append(("SIGSTOP %ss bursts: failed / susp. stalled / susp. healthy" % b,
                     {s: "%s / %s / %s" % (fmt(get(s, k + "_failed"), 0), fmt(get(s, k + "_susp_slow"), 0),
                                           fmt(get(s, k + "_susp_healthy"), 0)) for s, _ in SYSTEMS}))
    for q in quotas:
        k = "throttle_%gms" % (int(q) / 1000)
        rows.append(("CPU %gms/1s: failed / susp. throttled / susp. healthy (by throttled)" % (int(q) / 1000),
                     {s: "%s / %s / %s (%s)" % (fmt(get(s, k + "_failed"), 0), fmt(get(s, k + "_susp_slow"), 0),
                                                fmt(get(s, k + "_susp_healthy"), 0),
                                                fmt(get(s, k + "_susp_healthy_by_slow"), 0)) for s, _ in SYSTEMS}))
    rows.append(("Partition 8/8: pairs declared failed at heal / heal time (s)",
                 {s: "%s of %s / %s" % (fmt(get(s, "partition_pairs_failed"), 0), fmt(get(s, "partition_pairs"), 0),
                                        fmt(get(s, "partition_heal_s"), 1)) for s, _ in SYSTEMS}))
    rows.append(("Steady state: bytes/s per node", {s: fmt(get(s, "bytes_per_s_node"), 0) for s, _ in SYSTEMS}))
    rows.append(("Steady state: RSS per agent (MiB)", {s: fmt(get(s, "rss_mib"), 1) for s, _ in SYSTEMS}))
    if any(get(s, "rss_anon_mib") is not None for s, _ in SYSTEMS):
        rows.append(("Steady state: private RSS (RssAnon) / PSS (MiB)",
                     {s: "%s / %s" % (fmt(get(s, "rss_anon_mib"), 1), fmt(get(s, "pss_mib"), 1))
                      for s, _ in SYSTEMS}))
    return rows


def verdicts(res, bursts, quotas, sizes):
    """(bar, ok or None when not measured, detail)."""
    out = []

    def get(s, k, p=""):
        v = res.get(s, {}).get((k, p))
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    short = [b for b in bursts if float(b) < 2]
    vals = [get("xdp", "stop_%ss_susp_slow" % b) for b in short] + \
        [get("xdp", "stop_%ss_susp_healthy" % b) for b in short]
    if vals and None not in vals:
        out.append(("XDP on: no suspicion for bursts < 2 s (%s s)" % ",".join(short), sum(vals) == 0,
                    "%d suspicions" % sum(vals)))
    for s, label in (("xdp", "XDP on"), ("off", "XDP off")):
        vals = [get(s, "stop_%ss_failed" % b) for b in bursts]
        if vals and None not in vals:
            out.append(("%s: no node declared failed in any burst run" % label, sum(vals) == 0,
                        "%d declared failed" % sum(vals)))
        for q in quotas:
            k = "throttle_%gms" % (int(q) / 1000)
            f, h = get(s, k + "_failed"), get(s, k + "_susp_healthy")
            if f is not None and h is not None:
                out.append(("%s, CPU %gms/1s: no failure, no suspicion of a healthy node"
                            % (label, int(q) / 1000), f == 0 and h == 0,
                            "%d declared failed, %d suspicions of healthy nodes" % (f, h)))
        for n in sizes:
            x, ref = get(s, "detect_p50_s", n), get("serf", "detect_p50_s", n)
            if x is not None and ref is not None:
                out.append(("%s: SIGKILL detection N=%d median <= Serf's" % (label, n), x <= ref,
                            "%.2f s vs %.2f s" % (x, ref)))
        for n in sorted({k[1] for k in res.get(s, {}) if k[0] == "hang_p50_s"}):
            x, ref = get(s, "hang_p50_s", n), get("serf", "detect_p50_s", n)
            win = LIVENESS_S if s == "xdp" else 0.0
            if x is not None and ref is not None:
                out.append(("%s: hung agent N=%d declared failed within %sSerf's SIGKILL median"
                            % (label, n, "the liveness window + " if win else ""), x <= ref + win,
                            "%.2f s vs %.2f s" % (x, ref + win)))
        x, ref = get(s, "bytes_per_s_node"), get("serf", "bytes_per_s_node")
        if x is not None and ref is not None:
            out.append(("%s: bytes/s per node <= Serf's" % label, x <= ref, "%.0f vs %.0f" % (x, ref)))
        x, ref = get(s, "rss_mib"), get("serf", "rss_mib")
        if x is not None and ref is not None:
            out.append(("%s: RSS < 1/4 of Serf's" % label, x < ref / 4, "%.1f MiB vs %.1f MiB" % (x, ref)))
    return out


def render_table(rows):
    heads = ["measure"] + [label for _, label in SYSTEMS]
    body = [[lab] + [cells.get(s, "-") for s, _ in SYSTEMS] for lab, cells in rows]
    w = [max(len(r[i]) for r in [heads] + body) for i in range(len(heads))]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(heads)).rstrip()]
    lines.append("  ".join("-" * x for x in w))
    for r in body:
        lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def render_md_table(rows):
    heads = ["measure"] + [label for _, label in SYSTEMS]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for lab, cells in rows:
        lines.append("| " + " | ".join([lab] + [cells.get(s, "-") for s, _ in SYSTEMS]) + " |")
    return "\n".join(lines)


def write_csv(path, res, params):
    with open(path, "w") as f:
        f.write("# xgossip failure-detector accuracy benchmark (tests/bench/accuracy)\n")
        for k, v in params.items():
            f.write("# %s=%s\n" % (k, v))
        f.write("system,measure,param,value\n")
        for s, _ in SYSTEMS:
            for (k, p), v in sorted(res.get(s, {}).items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
                f.write("%s,%s,%s,%s\n" % (s, k, p, "nan" if isinstance(v, float) and math.isnan(v)
                                           else ("%.6g" % v)))


def write_dat(path, res, bursts, quotas, sizes):
    """Blocks for accuracy.gp, separated by two blank lines (gnuplot
    'index'): 0 times (detection, heal), 1 suspicions and failures under
    stress, 2 steady-state cost.  Columns: case serf xdp off."""
    def get(s, k, p=""):
        v = res.get(s, {}).get((k, p))
        return "NaN" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.6g" % v

    def row(f, label, vals):
        f.write('"%s" %s\n' % (label, " ".join(vals)))

    with open(path, "w") as f:
        f.write("# case serf xdp off (seconds)\n")
        for n in sizes:
            row(f, "N=%d p50" % n, [get(s, "detect_p50_s", n) for s, _ in SYSTEMS])
            row(f, "N=%d p99" % n, [get(s, "detect_p99_s", n) for s, _ in SYSTEMS])
        row(f, "heal", [get(s, "partition_heal_s") for s, _ in SYSTEMS])
        f.write("\n\n# case serf xdp off (suspicions + failures declared)\n")
        for b in bursts:
            k = "stop_%ss" % b
            row(f, "stop %ss" % b, [_sum(get(s, k + "_susp_slow"), get(s, k + "_susp_healthy"),
                                          get(s, k + "_failed")) for s, _ in SYSTEMS])
        for q in quotas:
            k = "throttle_%gms" % (int(q) / 1000)
            row(f, "cpu %gms" % (int(q) / 1000), [_sum(get(s, k + "_susp_slow"), get(s, k + "_susp_healthy"),
                                                       get(s, k + "_failed")) for s, _ in SYSTEMS])
        f.write("\n\n# case serf xdp off\n")
        row(f, "bytes/s per node / 100", [_scale(get(s, "bytes_per_s_node"), 0.01) for s, _ in SYSTEMS])
        row(f, "RSS MiB", [get(s, "rss_mib") for s, _ in SYSTEMS])
        row(f, "private MiB", [get(s, "rss_anon_mib") for s, _ in SYSTEMS])


def _sum(*xs):
    if "NaN" in xs:
        return "NaN"
    return "%g" % sum(float(x) for x in xs)


def _scale(x, k):
    return x if x == "NaN" else "%.6g" % (float(x) * k)


def main(a):
    if len(a) < 5:
        sys.exit(__doc__)
    out, csv, dat, md = a[1:5]
    params = dict(p.split("=", 1) for p in a[5:] if "=" in p)
    rows = read_runlog(os.path.join(out, "runlog.tsv"))
    if not rows:
        sys.exit("no results in %s" % out)
    res, notes = analyse(out, rows)
    bursts = params.get("bursts_s", "1 2 3").split()
    quotas = params.get("quotas_us", "1000 2000").split()
    sizes = sorted({r["n"] for r in rows if r["phase"] == "detect"})
    trows = table_rows(res, bursts, quotas, sizes)
    vs = verdicts(res, bursts, quotas, sizes)
    write_csv(csv, res, params)
    write_dat(dat, res, bursts, quotas, sizes)
    print(render_table(trows))
    print()
    for bar, ok, detail in vs:
        print("%-4s %s: %s" % ("PASS" if ok else "MISS", bar, detail))
    for n in notes:
        print("note: " + n)
    lag = [(s, res[s].get(("stamp_lag_min_s", "")), res[s].get(("stamp_lag_max_s", ""))) for s in res]
    for s, lo, hi in lag:
        if lo is not None:
            print("note: in the SIGKILL runs, %s log lines were stamped %.3f to %.3f s after their"
                  " own whole-second stamp" % (s, lo, hi))
    with open(md, "w") as f:
        f.write(render_md_table(trows) + "\n\n")
        for bar, ok, detail in vs:
            f.write("- %s %s: %s\n" % ("**met**" if ok else "**missed**", bar, detail))
        for n in notes:
            f.write("- note: %s\n" % n)


if __name__ == "__main__":
    main(sys.argv)
