#!/usr/bin/env python3
"""Drive user broadcasts through live agents' control sockets and check
that every other node delivers every message exactly once.

    msgdrive.py --count M --rate R --timeout T [--size B] [--topic T]
                [--seed S] [--json OUT] SOCK1 SOCK2 ...

Subscribes on every socket (one connection each), then broadcasts M
messages from random nodes at R per second (another connection per
socket), and reads deliveries until every (node, message) pair other than
the origin's own has arrived or T seconds passed since the last broadcast.

Prints one summary line and, with --json, writes the details (per message
send time and the time the last node got it).  Exit 0 when every pair was
delivered exactly once and no node got its own message back; 1 otherwise;
2 on a usage or connection error.  Every wait is bounded.
"""
import argparse
import base64
import json
import os
import random
import selectors
import socket
import sys
import time
from datetime import datetime, timezone


def iso_to_epoch(s):
    # "2026-11-22T03:40:01.123456Z"
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


class Conn:
    def __init__(self, path, timeout):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, obj):
        self.s.sendall(json.dumps(obj).encode() + b"\n")

    def lines(self):
        """Whatever complete lines are readable now (non-blocking)."""
        try:
            data = self.s.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return []
        if not data:
            raise EOFError("agent closed the connection")
        self.buf += data
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                out.append(json.loads(line))
        return out

    def request(self, obj):
        self.send(obj)
        while b"\n" not in self.buf:
            data = self.s.recv(1 << 16)
            if not data:
                raise EOFError("agent closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--topic", default="test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("socks", nargs="+")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    n = len(a.socks)

    try:
        subs = [Conn(p, 10) for p in a.socks]
        reqs = [Conn(p, 10) for p in a.socks]
        for c in subs:
            r = c.request({"cmd": "subscribe", "topics": [a.topic]})
            if not r.get("ok"):
                print("subscribe refused: %s" % r, file=sys.stderr)
                return 2
    except (OSError, EOFError, ValueError) as e:
        print("msgdrive: %s" % e, file=sys.stderr)
        return 2

    sel = selectors.DefaultSelector()
    for i, c in enumerate(subs):
        c.s.setblocking(False)
        sel.register(c.s, selectors.EVENT_READ, i)

    sent = {}        # id -> (origin index, send time)
    got = {}         # id -> {node: count}
    last_rx = {}     # id -> latest receipt time over nodes (agent clock)
    self_rx = 0
    errors = 0

    def pump(wait):
        nonlocal self_rx, errors
        for key, _ in sel.select(wait):
            i = key.data
            try:
                lines = subs[i].lines()
            except (EOFError, ValueError) as e:
                print("msgdrive: n%d: %s" % (i + 1, e), file=sys.stderr)
                errors += 1
                sel.unregister(key.fileobj)
                continue
            for m in lines:
                if m.get("event") != "message":
                    continue
                mid = m["id"]
                d = got.setdefault(mid, {})
                d[i] = d.get(i, 0) + 1
                t = iso_to_epoch(m["received"])
                if t > last_rx.get(mid, 0):
                    last_rx[mid] = t
                if mid in sent and sent[mid][0] == i:
                    self_rx += 1

    payload_pad = os.urandom(max(0, a.size - 16))
    t0 = time.time()
    for k in range(a.count):
        due = t0 + k / a.rate
        while True:
            now = time.time()
            if now >= due:
                break
            pump(due - now)
        o = rnd.randrange(n)
        body = b"%015d " % k + payload_pad
        body = body[:max(a.size, 1)]
        ts = time.time()
        r = reqs[o].request({"cmd": "broadcast", "topic": a.topic,
                             "payload": base64.b64encode(body).decode()})
        if not r.get("ok"):
            print("msgdrive: broadcast %d from n%d refused: %s"
                  % (k, o + 1, r.get("error")), file=sys.stderr)
            errors += 1
            continue
        sent[r["id"]] = (o, ts)

    def complete():
        for mid, (o, _) in sent.items():
            d = got.get(mid, {})
            if len(d) < n - 1 or any(j not in d for j in range(n) if j != o):
                return False
        return True

    end = time.time() + a.timeout
    while time.time() < end and not complete():
        pump(0.2)
    pump(0.5)  # late duplicates would show here

    missing = dup = 0
    tta = []
    for mid, (o, ts) in sent.items():
        d = got.get(mid, {})
        for j in range(n):
            if j == o:
                continue
            c = d.get(j, 0)
            if c == 0:
                missing += 1
            elif c > 1:
                dup += c - 1
        if len(d) >= n - 1 and mid in last_rx:
            tta.append(last_rx[mid] - ts)
    pairs = len(sent) * (n - 1)
    res = {
        "nodes": n, "messages": len(sent), "pairs": pairs,
        "missing": missing, "duplicates": dup, "self_deliveries": self_rx,
        "errors": errors,
        "time_to_all_p50": pct(tta, 50), "time_to_all_p99": pct(tta, 99),
        "time_to_all_max": max(tta) if tta else float("nan"),
        "send_seconds": time.time() - t0,
    }
    print("msgdrive: %d messages x %d nodes: missing %d of %d, duplicate "
          "deliveries %d, own messages back %d, errors %d; time to all "
          "p50 %.1f ms p99 %.1f ms max %.1f ms"
          % (len(sent), n, missing, pairs, dup, self_rx, errors,
             res["time_to_all_p50"] * 1e3, res["time_to_all_p99"] * 1e3,
             res["time_to_all_max"] * 1e3))
    if a.json:
        res["per_message"] = [
            {"id": mid, "origin": o + 1, "sent": ts,
             "last": last_rx.get(mid)} for mid, (o, ts) in sent.items()]
        with open(a.json, "w") as f:
            json.dump(res, f)
    ok = (missing == 0 and dup == 0 and self_rx == 0 and errors == 0 and
          len(sent) == a.count)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
