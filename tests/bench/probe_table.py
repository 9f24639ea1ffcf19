#!/usr/bin/env python3
"""Summarise the XDP probe benchmark (tests/bench/probe.sh): read the raw
results it left in --res, print one table with ratios against the
--xdp=off row, and write the CSV and the text table.

Raw files, per mode M:
  M.status                 "ok" or "unavailable: why"
  M.calib.K.cpuC           bench-spin output of idle calibration K on CPU C
  M.flood.R.cpuC           bench-spin output during flood repetition R
  M.flood.R.json           xgossip-probe -o json of that repetition
  M.{idle,stop,longstop,busy}.json   the latency runs
  M.{stop,longstop}.param  "stop_ms period_ms"

Two CPU shares per repetition and CPU:
  lost    1 - spin rate during it / mean of the idle calibrations just
          before and just after it, clamped to [0, 1] (the issue's method);
  booked  (CPU time of the watched processes + softirq time the spinner
          absorbed) / wall time; other processes' CPU use does not enter it.
CPU per answer = share / answered per second.  Medians over repetitions,
each column on its own.  "Other load" is the share of the responder's CPU
that the idle spinner did not get during the calibrations.
"""
import argparse
import json
import os
import re
import statistics
import sys

LAT = ("idle", "stop", "longstop", "busy")


def spin(path):
    """One bench-spin line as a dict: spins, ns, rate, exec, watch (sum)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for k in ("spins", "ns", "rate", "exec"):
        m = re.search(r"\b%s=([0-9.]+)" % k, text)
        if not m:
            return None
        out[k] = float(m.group(1))
    m = re.search(r"\bwatch=(\S+)", text)
    out["watch"] = sum(float(x.split(":")[1]) for x in m.group(1).split(",")) if m else 0.0
    return out


def booked(test, before, after):
    """Share of the CPU booked to the path: the watched processes' CPU time
    plus the softirq time the spinner absorbed (CPU time it was booked
    but did not spin in, at its undisturbed spins per CPU ns)."""
    cal = [c["spins"] / c["exec"] for c in (before, after) if c and c["exec"]]
    if not test or not cal or not test["ns"]:
        return None
    per_ns = sum(cal) / len(cal)
    absorbed = max(0.0, test["exec"] - test["spins"] / per_ns)
    return min(1.0, (test["watch"] + absorbed) / test["ns"])


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def share(test, before, after):
    cal = [c for c in (before, after) if c]
    if test is None or not cal:
        return None
    return min(1.0, max(0.0, 1.0 - test / (sum(cal) / len(cal))))


def flood(res, mode, cpus):
    """Medians of one mode's flood repetitions, and the other load."""
    reps = []
    r = 1
    while os.path.exists(os.path.join(res, "%s.flood.%d.json" % (mode, r))) or \
            os.path.exists(os.path.join(res, "%s.flood.%d.cpu%d" % (mode, r, cpus[0]))):
        reps.append(r)
        r += 1
    out = {"reps": len(reps)}
    cols = {k: [] for k in ("pps", "resp_cpu", "gen_cpu", "cpu_us",
                            "resp_booked", "gen_booked", "booked_us")}
    calib = []
    for k in range(len(reps) + 1):
        calib.append({c: spin(os.path.join(res, "%s.calib.%d.cpu%d" % (mode, k, c)))
                      for c in cpus})

    def per_answer(sh, p):
        return sh * 1e6 / p if p and sh is not None else None

    for r in reps:
        j = load_json(os.path.join(res, "%s.flood.%d.json" % (mode, r)))
        p = j["answered_pps"] if j else None
        lost, booked_share = {}, {}
        for c in cpus:
            t = spin(os.path.join(res, "%s.flood.%d.cpu%d" % (mode, r, c)))
            b, a = calib[r - 1][c], calib[r][c]
            lost[c] = share(t and t["rate"], b and b["rate"], a and a["rate"])
            booked_share[c] = booked(t, b, a)
        cols["pps"].append(p)
        cols["resp_cpu"].append(lost[cpus[1]])
        cols["gen_cpu"].append(lost[cpus[0]])
        cols["cpu_us"].append(per_answer(lost[cpus[1]], p))
        cols["resp_booked"].append(booked_share[cpus[1]])
        cols["gen_booked"].append(booked_share[cpus[0]])
        cols["booked_us"].append(per_answer(booked_share[cpus[1]], p))
    for k, v in cols.items():
        out[k] = median(v)
    out["pps_all"] = cols["pps"]
    # Other tenants' load: what an idle spinner could not get during the
    # calibrations, where nothing of ours ran.
    out["others"] = median([1.0 - c[cpus[1]]["exec"] / c[cpus[1]]["ns"]
                            for c in calib if c[cpus[1]] and c[cpus[1]]["ns"]])
    return out


def latency(res, mode, kind):
    j = load_json(os.path.join(res, "%s.%s.json" % (mode, kind)))
    if not j:
        return None
    rtt = j.get("rtt_us", {})
    return {"p50": rtt.get("p50"), "p99": rtt.get("p99"), "p999": rtt.get("p999"),
            "max": rtt.get("max"), "sent": j.get("sent"),
            "answered": j.get("answered"), "missed": j.get("lost")}


def fmt(v, spec, none="-"):
    return none if v is None else spec % v


def pct(v):
    return fmt(v if v is None else v * 100, "%.1f")


def ratio(a, b):
    return a / b if a is not None and b else None


def param(res, mode, kind):
    try:
        with open(os.path.join(res, "%s.%s.param" % (mode, kind))) as f:
            return f.read().split()
    except OSError:
        return None


def bars(rows, base, steer):
    """The issue's bar, judged on this run: one line per criterion."""
    out = ["bar (this run):"]
    by = {r["mode"]: r for r in rows if r["status"] == "ok"}

    def line(ok, what):
        out.append("  %-8s %s" % ("n/a" if ok is None else "met" if ok else "NOT met", what))

    nat = by.get("native")
    if nat and base:
        pr = ratio(nat["pps"], base["pps"])
        cr = ratio(nat["cpu_us"], base["cpu_us"])
        br = ratio(nat["booked_us"], base["booked_us"])
        line(pr is not None and pr >= 1.5,
             "flood: native answers >= 1.5x the probes/s of off (%s)" % fmt(pr, "%.2fx"))
        what = ("flood: native responder CPU per answer <= 0.5x off (lost %s, booked %s)"
                % (fmt(cr, "%.2fx"), fmt(br, "%.2fx")))
        if steer != "napi":
            # veth then runs the responder's XDP on the generator's CPU.
            line(None, what + "; not comparable with steer=" + steer)
        else:
            line(cr is not None and br is not None and cr <= 0.5 and br <= 0.5, what)
    else:
        line(None, "flood ratios: need both native and off")
    starved = ("stop", "longstop", "busy")
    for m in ("native", "generic"):
        r = by.get(m)
        if not r:
            line(None, "starved: %s p99 < 1 ms (mode not run)" % m)
            continue
        p99 = [r[k]["p99"] for k in starved if r.get(k)]
        worst = max(p99) if p99 else None
        line(worst is not None and worst < 1000,
             "starved: %s p99 RTT < 1 ms in every starved test (worst %s us)"
             % (m, fmt(worst, "%.0f")))
    if base:
        miss = sum((base[k] or {}).get("missed") or 0 for k in starved)
        line(miss > 0, "starved: off misses probe timeouts (%d missed)" % miss)
        line(base["pps"] is not None and base["pps"] >= 50000,
             "userspace (off) answers >= 50000 probes/s on one core (%s)"
             % fmt(base["pps"], "%.0f"))
    else:
        line(None, "off row missing")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--res", required=True)
    ap.add_argument("--modes", required=True)
    ap.add_argument("--steer", default="napi")
    ap.add_argument("--resp-cpu", type=int, default=1)
    ap.add_argument("--gen-cpu", type=int, default=0)
    ap.add_argument("--header")
    ap.add_argument("--csv")
    ap.add_argument("--txt")
    a = ap.parse_args()
    cpus = (a.gen_cpu, a.resp_cpu)

    rows = []
    for mode in a.modes.split():
        try:
            with open(os.path.join(a.res, mode + ".status")) as f:
                status = f.read().strip()
        except OSError:
            status = "not run"
        row = {"mode": mode, "status": status}
        if status == "ok":
            row.update(flood(a.res, mode, cpus))
            for k in LAT:
                row[k] = latency(a.res, mode, k)
        rows.append(row)
    base = next((r for r in rows if r["mode"] == "off" and r["status"] == "ok"), None)

    lines = []
    say = lines.append
    reps = max([r["reps"] for r in rows if r.get("reps")] or [0])
    say("flood, median of %d repetitions.  Responder = CPU %d (agent, its veth's receive"
        " work), gen = CPU %d." % (reps, a.resp_cpu, a.gen_cpu))
    say("  lost: share a SCHED_IDLE spinner lost against idle calibrations;"
        " booked: CPU time the")
    say("  scheduler booked to the path (agent, NAPI threads, ksoftirqd, softirq"
        " the spinner absorbed).")
    say("  other load: share of the responder CPU other processes took during the idle"
        " calibrations;")
    say("  above a few percent, both CPU figures are disturbed (docs/BENCHMARKS.md).")
    say("%-8s %10s %6s | %7s %9s %6s | %7s %9s %6s | %7s %7s %6s" %
        ("", "answered", "", "lost", "us CPU", "", "booked", "us CPU", "",
         "gen", "gen", "other"))
    say("%-8s %10s %6s | %7s %9s %6s | %7s %9s %6s | %7s %7s %6s" %
        ("mode", "per s", "x off", "CPU", "/answer", "x off", "CPU", "/answer",
         "x off", "lost", "booked", "load"))
    for r in rows:
        if r["status"] != "ok":
            say("%-8s %s" % (r["mode"], r["status"]))
            continue
        say("%-8s %10s %6s | %6s%% %9s %6s | %6s%% %9s %6s | %6s%% %6s%% %5s%%" % (
            r["mode"], fmt(r["pps"], "%.0f"),
            fmt(ratio(r["pps"], base and base["pps"]), "%.2f"),
            pct(r["resp_cpu"]), fmt(r["cpu_us"], "%.2f"),
            fmt(ratio(r["cpu_us"], base and base["cpu_us"]), "%.2f"),
            pct(r["resp_booked"]), fmt(r["booked_us"], "%.2f"),
            fmt(ratio(r["booked_us"], base and base["booked_us"]), "%.2f"),
            pct(r["gen_cpu"]), pct(r["gen_booked"]), pct(r["others"])))
    say("")
    say("latency at a steady rate, RTT us p50 / p99 / p99.9, missed = no ACK within"
        " the probe timeout:")
    hdr = {"idle": "idle", "busy": "busy loop on its CPU"}
    for k in ("stop", "longstop"):
        p = next((param(a.res, r["mode"], k) for r in rows
                  if param(a.res, r["mode"], k)), None)
        hdr[k] = "SIGSTOP %s of %s ms" % (p[0], p[1]) if p else k
    say("%-8s" % "mode" + "".join("  %-28s" % hdr[k] for k in LAT))
    for r in rows:
        if r["status"] != "ok":
            continue
        cells = ""
        for k in LAT:
            l = r.get(k)
            if not l:
                cells += "  %-28s" % "-"
                continue
            cells += "  %-28s" % ("%s/%s/%s miss %s" % (
                fmt(l["p50"], "%.0f"), fmt(l["p99"], "%.0f"),
                fmt(l["p999"], "%.0f"), fmt(l["missed"], "%d")))
        say("%-8s" % r["mode"] + cells)
    say("")
    lines.extend(bars(rows, base, a.steer))
    text = "\n".join(lines)
    print(text)

    if a.txt:
        with open(a.txt, "w") as f:
            if a.header:
                with open(a.header) as h:
                    f.write(h.read())
            f.write(text + "\n")
    if a.csv:
        cols = ["mode", "status", "steer", "reps", "answered_pps", "pps_ratio",
                "resp_cpu_pct", "resp_cpu_us_per_answer", "cpu_ratio",
                "resp_booked_pct", "resp_booked_us_per_answer", "booked_ratio",
                "gen_cpu_pct", "gen_booked_pct", "other_load_pct"]
        for k in LAT:
            cols += ["%s_%s" % (k, f) for f in
                     ("p50_us", "p99_us", "p999_us", "max_us", "sent", "missed")]
        with open(a.csv, "w") as f:
            if a.header:
                with open(a.header) as h:
                    f.write(h.read())
            f.write(",".join(cols) + "\n")
            for r in rows:
                ok = r["status"] == "ok"
                v = {"mode": r["mode"], "status": r["status"].split(":")[0],
                     "steer": a.steer}
                if ok:
                    v.update({
                        "reps": r["reps"],
                        "answered_pps": fmt(r["pps"], "%.0f", ""),
                        "pps_ratio": fmt(ratio(r["pps"], base and base["pps"]), "%.3f", ""),
                        "resp_cpu_pct": fmt(r["resp_cpu"] and r["resp_cpu"] * 100, "%.2f", ""),
                        "resp_cpu_us_per_answer": fmt(r["cpu_us"], "%.3f", ""),
                        "cpu_ratio": fmt(ratio(r["cpu_us"], base and base["cpu_us"]), "%.3f", ""),
                        "resp_booked_pct": fmt(r["resp_booked"] and r["resp_booked"] * 100,
                                               "%.2f", ""),
                        "resp_booked_us_per_answer": fmt(r["booked_us"], "%.3f", ""),
                        "booked_ratio": fmt(ratio(r["booked_us"], base and base["booked_us"]),
                                            "%.3f", ""),
                        "gen_cpu_pct": fmt(r["gen_cpu"] and r["gen_cpu"] * 100, "%.2f", ""),
                        "gen_booked_pct": fmt(r["gen_booked"] and r["gen_booked"] * 100,
                                              "%.2f", ""),
                        "other_load_pct": fmt(r["others"] and r["others"] * 100, "%.2f", ""),
                    })
                    for k in LAT:
                        l = r.get(k) or {}
                        v["%s_p50_us" % k] = fmt(l.get("p50"), "%.1f", "")
                        v["%s_p99_us" % k] = fmt(l.get("p99"), "%.1f", "")
                        v["%s_p999_us" % k] = fmt(l.get("p999"), "%.1f", "")
                        v["%s_max_us" % k] = fmt(l.get("max"), "%.1f", "")
                        v["%s_sent" % k] = fmt(l.get("sent"), "%d", "")
                        v["%s_missed" % k] = fmt(l.get("missed"), "%d", "")
                f.write(",".join(str(v.get(c, "")) for c in cols) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
