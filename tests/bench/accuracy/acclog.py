#!/usr/bin/env python3
"""Membership events from Serf and xgossipd logs, and waits on them.

One vocabulary for both systems, so every count in the accuracy benchmark
is made the same way:

  alive    the observer saw the target join or come back
  suspect  xgossipd: the observer marked the target suspect (its own probe
           or gossip); Serf: the observer's own probe failed and it
           accused the target ("Suspect X has failed, no acks received";
           Serf logs no suspicion it only hears of)
  fail     the observer declared the target failed (xgossipd "member
           fail", Serf "EventMemberFailed")

xgossipd stamps its own lines (UTC, microseconds).  Serf stamps to the
second only; its lines go through stamp.py, which prefixes the epoch time
it read them at, and that is the time used here.

The waits are for the benchmark driver: they look at the logs every
POLL seconds (no CLI polling: on 2 CPUs a busy harness causes the very
false suspicions being measured), print what they waited for and exit 0,
or exit 1 at the deadline.

  acclog.py converged SYS N TIMEOUT NAME=LOG...
      every observer saw N-1 others alive
  acclog.py fail SYS VICTIM SINCE TIMEOUT NAME=LOG...
      every observer declared VICTIM failed after SINCE; prints the first
      and the last time
  acclog.py stable SYS N QUIET TIMEOUT NAME=LOG...
      every observer sees the N-1 others alive, and no suspicion or
      failure was logged in the last QUIET seconds; prints the time the
      last of them came back alive
"""
import calendar
import datetime
import re
import sys
import time

POLL = 0.5

XG = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z\s+\S+\s+member (\w+) name=(\S+)")
XG_KIND = {"join": "alive", "alive": "alive", "suspect": "suspect", "fail": "fail",
           "leave": "leave"}
SERF = re.compile(r"^(\d+\.\d+) .*?(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[\w+\] (.*)$")
SERF_EV = [
    (re.compile(r"^memberlist: Suspect (\S+) has failed, no acks received"), "suspect"),
    (re.compile(r"^serf: EventMemberFailed: (\S+)"), "fail"),
    (re.compile(r"^serf: EventMemberJoin: (\S+)"), "alive"),
    (re.compile(r"^serf: EventMemberLeave: (\S+)"), "leave"),
]


def xg_time(s):
    ts = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f")
    return ts.replace(tzinfo=datetime.timezone.utc).timestamp()


def events(system, path, stamp_check=None):
    """(time, kind, target) for each membership line of one log.

    stamp_check, a list, gets the difference between the receipt stamp
    and Serf's own (whole second, local time) stamp of every Serf line."""
    try:
        f = open(path, errors="replace")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            if system == "serf":
                m = SERF.match(line)
                if not m:
                    continue
                t = float(m.group(1))
                for rx, kind in SERF_EV:
                    e = rx.match(m.group(3))
                    if e:
                        if stamp_check is not None:
                            own = time.mktime(time.strptime(m.group(2), "%Y/%m/%d %H:%M:%S"))
                            stamp_check.append(t - own)
                        yield t, kind, e.group(1)
                        break
            else:
                m = XG.match(line)
                if m and m.group(2) in XG_KIND:
                    yield xg_time(m.group(1)), XG_KIND[m.group(2)], m.group(3)


def parse_logs(args):
    logs = []
    for a in args:
        name, _, path = a.partition("=")
        logs.append((name, path))
    return logs


def views(system, logs, since=0.0):
    """Per observer: {target: (last kind, time)} and the time of the latest
    suspect/fail line anywhere (after since)."""
    out, last_bad = {}, 0.0
    for name, path in logs:
        v = {}
        for t, kind, target in events(system, path):
            if target == name:
                continue
            # A suspect is still a member (Serf lists it as alive, and
            # an xgossipd suspect that refutes logs "alive" anyway); only
            # alive, fail and leave change the view.
            if kind != "suspect":
                v[target] = (kind, t)
            if kind in ("suspect", "fail") and t >= since:
                last_bad = max(last_bad, t)
        out[name] = v
    return out, last_bad


def n_alive(view):
    return sum(1 for k, _ in view.values() if k == "alive")


def wait(deadline, check):
    while True:
        r = check()
        if r is not None:
            return r
        if time.time() >= deadline:
            return None
        time.sleep(POLL)


def cmd_converged(system, n, timeout, logs):
    def check():
        v, _ = views(system, logs)
        if all(n_alive(v[o]) >= n - 1 for o, _ in logs):
            return "converged"
        return None
    r = wait(time.time() + timeout, check)
    if r is None:
        v, _ = views(system, logs)
        short = ["%s:%d" % (o, n_alive(v[o])) for o, _ in logs if n_alive(v[o]) < n - 1]
        sys.exit("no convergence after %gs: %s" % (timeout, " ".join(short)))
    print(r)


def cmd_fail(system, victim, since, timeout, logs):
    def check():
        times = []
        for name, path in logs:
            t = [t for t, k, x in events(system, path) if k == "fail" and x == victim and t >= since]
            if not t:
                return None
            times.append(min(t))
        return times
    r = wait(time.time() + timeout, check)
    if r is None:
        sys.exit("%s not declared failed by every observer within %gs" % (victim, timeout))
    print("%.6f %.6f" % (min(r), max(r)))


def cmd_stable(system, n, quiet, timeout, logs):
    since = time.time()

    def check():
        v, last_bad = views(system, logs)
        if not all(n_alive(v[o]) >= n - 1 for o, _ in logs):
            return None
        if time.time() - last_bad < quiet:
            return None
        back = max((t for o in v.values() for k, t in o.values() if k == "alive"), default=0.0)
        return back
    r = wait(since + timeout, check)
    if r is None:
        v, _ = views(system, logs)
        bad = ["%s:%d" % (o, n_alive(v[o])) for o, _ in logs if n_alive(v[o]) < n - 1]
        sys.exit("not stable after %gs (alive counts: %s)" % (timeout, " ".join(bad) or "all"))
    print("%.6f" % r)


def main(a):
    if len(a) < 3:
        sys.exit(__doc__)
    cmd, system = a[1], a[2]
    if cmd == "converged":
        cmd_converged(system, int(a[3]), float(a[4]), parse_logs(a[5:]))
    elif cmd == "fail":
        cmd_fail(system, a[3], float(a[4]), float(a[5]), parse_logs(a[6:]))
    elif cmd == "stable":
        cmd_stable(system, int(a[3]), float(a[4]), float(a[5]), parse_logs(a[6:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
