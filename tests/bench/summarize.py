#!/usr/bin/env python3
"""Print the convergence benchmark's table (p50 and max per cluster size)
from its CSV (convergence.sh writes it; '#' lines are comments)."""
import csv
import statistics
import sys


def main(path):
    rows = []
    with open(path) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    if not rows:
        sys.exit("no measurements in " + path)
    sizes = sorted({int(r["nodes"]) for r in rows})
    cols = [("start_s", "start (launch all)"),
            ("join_s", "join (all see N alive)"),
            ("detect_first_s", "detect (first)"),
            ("detect_all_s", "detect (all others)")]
    head = "%5s %4s" % ("nodes", "reps")
    for _, title in cols:
        head += "  %-24s" % title
    head += "  false fails"
    print(head)
    print("%5s %4s" % ("", "") + "  %-24s" % "p50 s / max s" * len(cols))
    for n in sizes:
        sel = [r for r in rows if int(r["nodes"]) == n]
        line = "%5d %4d" % (n, len(sel))
        for key, _ in cols:
            v = [float(r[key]) for r in sel]
            line += "  %-24s" % ("%7.2f / %7.2f" % (statistics.median(v), max(v)))
        line += "  %d" % sum(int(r["false_fails"]) for r in sel)
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
