#!/usr/bin/env python3
"""Event times from xgossipd logs, for the benchmarks.

  logtimes.py converge N LOG...   when the last node had logged a join for
                                  N-1 distinct other members (epoch seconds)
  logtimes.py fail NAME LOG...    first and last time a node logged
                                  `member fail name=NAME` (one time per log:
                                  its first such line), and how many logs did
  logtimes.py falsefail NAME LOG... how many `member fail` lines name anyone
                                  other than NAME

Times are the agents' own log stamps (UTC, microseconds), so the harness's
scheduling does not enter the measurement.  Exit 1 when a log lacks the
event: the caller asked about something that did not happen.
"""
import datetime
import re
import sys

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z\s+\S+\s+member (\w+) name=(\S+)")


def events(path):
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
            yield ts.replace(tzinfo=datetime.timezone.utc).timestamp(), m.group(2), m.group(3)


def self_name(path):
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r" starting name=(\S+)", line)
            if m:
                return m.group(1)
    return None


def converge(n, logs):
    last = 0.0
    for p in logs:
        me, first = self_name(p), {}
        for ts, ev, name in events(p):
            if ev in ("join", "alive") and name != me and name not in first:
                first[name] = ts
        if len(first) < n - 1:
            sys.exit("%s: joins of %d members, expected %d" % (p, len(first), n - 1))
        last = max(last, max(first.values()) if first else 0.0)
    print("%.6f" % last)


def fail(victim, logs):
    times = []
    for p in logs:
        t = [ts for ts, ev, name in events(p) if ev == "fail" and name == victim]
        if t:
            times.append(min(t))
    if len(times) < len(logs):
        sys.exit("only %d of %d logs have a fail for %s" % (len(times), len(logs), victim))
    print("%.6f %.6f %d" % (min(times), max(times), len(times)))


def falsefail(victim, logs):
    print(sum(1 for p in logs for _, ev, name in events(p)
              if ev == "fail" and name != victim))


def main(a):
    if len(a) < 4:
        sys.exit(__doc__)
    if a[1] == "converge":
        converge(int(a[2]), a[3:])
    elif a[1] == "fail":
        fail(a[2], a[3:])
    elif a[1] == "falsefail":
        falsefail(a[2], a[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
