#!/usr/bin/env python3
"""The measured part of one dissemination-benchmark cluster.

  driver.py CONFIG.json

cluster.sh starts the agents and writes CONFIG; this process then does,
alone, everything whose timing matters (one process, no shell in between):

  1. connects to every agent: xgossipd's control socket (a Unix socket, so
     reachable from here whatever the network namespace), two connections
     per agent, one for commands and one subscribed to the benchmark's
     topic; Serf's RPC port (127.0.0.1:7373 inside each namespace: the
     socket is made after setns(2) into it), one connection per agent;
  2. xgossipd: `info` and `xdp` of every agent (counters before);
  3. snapshot S0 (veth counters of every node, CPU times of every agent),
     BASELINE_S seconds of nothing, snapshot S1;
  4. MESSAGES broadcasts, RATE per second on a fixed schedule, each from an
     origin drawn at random (seeded, so every system gets the same list),
     each with the same PAYLOAD-byte body;
  5. until every other node has every message (xgossipd: the subscriber
     lines; Serf: the names its event handler appended to a file per node;
     the times come from Serf's log, summarize.py), DRAIN_S at most
     after the last broadcast, then TAIL_S more (retransmissions and
     pull-sync rounds still under way belong to the messages), snapshot S2;
  6. xgossipd: `info` and `xdp` again; writes OUT/result.json.

A broadcast's start time is this process's clock (CLOCK_REALTIME, as the
agents' stamps) just before it writes the request: for xgossipd the
`broadcast` line on the open control connection, for Serf the `event`
request on the open RPC connection, which is what `serf event
-coalesce=false NAME PAYLOAD` sends after its handshake.  With SEND=cli the
commands themselves are run instead (a process per message) and the start
is just before the process is started.
"""
import base64
import ctypes
import datetime
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpack  # noqa: E402

CLONE_NEWNET = 0x40000000
TOPIC = "dissem"
SERF_RPC = ("127.0.0.1", 7373)


def iso_epoch(s):
    """'2026-11-22T08:57:00.123456Z' -> seconds since the epoch."""
    ts = datetime.datetime.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    return ts.replace(tzinfo=datetime.timezone.utc).timestamp()


def payload_of(idx, size, rng):
    """The body of message idx: its number, then printable filler (Serf
    passes it on a command line in cli mode, so text)."""
    head = b"%06d " % idx
    fill = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(max(0, size - len(head))))
    return (head + fill)[:max(size, len(head))]


def idx_of_payload(raw):
    try:
        return int(raw[:6])
    except ValueError:
        return None


# --- snapshots -------------------------------------------------------------------
def snapshot(cfg):
    """Veth counters and agent CPU times, taken back to back."""
    t = time.time()
    out = subprocess.run(["ip", "-n", cfg["hub"], "-s", "-j", "link", "show", "type", "veth"],
                         capture_output=True, text=True, timeout=20)
    links = {}
    if out.returncode == 0:
        for link in json.loads(out.stdout):
            n = link.get("ifname", "")
            if n.startswith("p") and n[1:].isdigit():
                s = link["stats64"]
                # The bridge side p<i> receives what n<i>'s eth0 sends.
                links["n" + n[1:]] = {"sent_pkts": s["rx"]["packets"], "sent_bytes": s["rx"]["bytes"],
                                      "recv_pkts": s["tx"]["packets"], "recv_bytes": s["tx"]["bytes"]}
    cpu = {}
    for nd in cfg["nodes"]:
        try:
            with open("/proc/%d/stat" % nd["pid"]) as f:
                st = f.read()
            # Fields after the command name, which is in parentheses.
            rest = st[st.rindex(")") + 2:].split()
            # utime stime cutime cstime: fields 14-17, i.e. rest[11:15].
            cpu[nd["name"]] = [int(x) for x in rest[11:15]]
        except (OSError, ValueError):
            cpu[nd["name"]] = None
    return {"t": t, "t_end": time.time(), "links": links, "cpu": cpu}


# --- connections ---------------------------------------------------------------
class Line:
    """A JSON-lines connection to an xgossipd control socket."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def request(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())
        return self.read_line()

    def read_line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("control socket closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def lines(self):
        """Every complete line readable now (non-blocking socket)."""
        try:
            while True:
                d = self.s.recv(1 << 20)
                if not d:
                    raise ConnectionError("control socket closed")
                self.buf += d
        except BlockingIOError:
            pass
        *done, self.buf = self.buf.split(b"\n")
        return [json.loads(x) for x in done if x.strip()]


class SerfRPC:
    """One Serf RPC connection, made inside a network namespace."""

    def __init__(self, netns):
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        there = os.open("/run/netns/" + netns, os.O_RDONLY)
        try:
            if libc.setns(there, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + netns)
            try:
                self.s = socket.create_connection(SERF_RPC, timeout=10)
            finally:
                if libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(there)
            os.close(home)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.seq = 0
        self.call("handshake", {"Version": 1})

    def send(self, command, body):
        """Write one request; its sequence number."""
        seq = self.seq
        self.seq += 1
        msg = mpack.encode({"Command": command, "Seq": seq})
        if body is not None:
            msg += mpack.encode(body)
        self.s.sendall(msg)
        return seq

    def headers(self):
        """Response headers complete in the buffer (no command used here
        answers with a body)."""
        out = []
        while self.buf:
            try:
                h, i = mpack.decode(self.buf)
            except mpack.NeedMore:
                break
            self.buf = self.buf[i:]
            out.append(h)
        return out

    def call(self, command, body):
        seq = self.send(command, body)
        while True:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("serf rpc closed")
            self.buf += d
            for h in self.headers():
                if h.get("Seq") == seq:
                    if h.get("Error"):
                        raise RuntimeError("serf %s: %s" % (command, h["Error"]))
                    return h

    def read(self):
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    raise ConnectionError("serf rpc closed")
                self.buf += d
        except BlockingIOError:
            pass
        return self.headers()


# --- the run -------------------------------------------------------------------
class Run:
    def __init__(self, cfg):
        self.cfg = cfg
        self.sysname = cfg["system"]
        self.serf = self.sysname == "serf"
        self.nodes = cfg["nodes"]
        self.n = len(self.nodes)
        self.m = cfg["messages"]
        self.mode = cfg.get("send", "rpc")
        self.errors = []
        self.sends = [None] * self.m
        self.receipts = []          # [node, idx, t_received, t_read, hops]
        self.got = set()            # (node, idx) delivered at least once
        self.sel = selectors.DefaultSelector()
        self.cmd = {}               # node -> Line or SerfRPC
        self.sub = {}               # node -> Line (xgossipd)
        self.pending = {}           # node -> [(key, idx)] awaiting replies
        self.recv_pos = {}          # node -> bytes of its handler file read
        rng = random.Random(cfg["seed"])
        self.plan = [(rng.randrange(self.n), payload_of(k, cfg["payload"], rng)) for k in range(self.m)]

    def connect(self):
        for nd in self.nodes:
            name = nd["name"]
            self.pending[name] = []
            if self.serf:
                c = SerfRPC(nd["ns"])
                self.cmd[name] = c
                self.recv_pos[name] = 0
            else:
                self.cmd[name] = Line(nd["sock"])
                s = Line(nd["sock"])
                r = s.request({"cmd": "subscribe", "topics": [TOPIC]})
                if not r.get("ok"):
                    raise RuntimeError("%s: subscribe: %s" % (name, r.get("error")))
                self.sub[name] = s
        for name, c in self.cmd.items():
            c.s.setblocking(False)
            self.sel.register(c.s, selectors.EVENT_READ, ("cmd", name))
        for name, s in self.sub.items():
            s.s.setblocking(False)
            self.sel.register(s.s, selectors.EVENT_READ, ("sub", name))

    def counters(self):
        """info and xdp of every xgossipd (blocking, outside the timed
        windows)."""
        out = {}
        if self.serf:
            return out
        for name, c in self.cmd.items():
            c.s.setblocking(True)
            c.s.settimeout(10)
            try:
                out[name] = {"info": c.request({"cmd": "info"}), "xdp": c.request({"cmd": "xdp"})}
            except (OSError, ValueError, ConnectionError) as e:
                out[name] = {"error": str(e)}
            c.s.setblocking(False)
        return out

    # -- sending --
    def send(self, k):
        origin, body = self.plan[k]
        nd = self.nodes[origin]
        name = nd["name"]
        ev = "m%06d" % k
        rec = {"idx": k, "origin": name}
        if self.mode == "cli":
            if self.serf:
                argv = ["ip", "netns", "exec", nd["ns"], "serf", "event", "-rpc-addr=%s:%d" % SERF_RPC,
                        "-coalesce=false", ev, body.decode()]
            else:
                argv = ["ip", "netns", "exec", nd["ns"], self.cfg["xgossipctl"], "--socket", nd["sock"],
                        "-o", "json", "broadcast", TOPIC, "-"]
            rec["t0"] = time.time()
            p = subprocess.run(argv, input=None if self.serf else body, capture_output=True, timeout=20)
            rec["t1"] = time.time()
            if p.returncode != 0:
                self.errors.append("message %d from %s: %s" % (k, name, (p.stderr or p.stdout).decode(
                    errors="replace").strip()[:200]))
            elif not self.serf:
                try:
                    r = json.loads(p.stdout.decode().strip().splitlines()[-1])
                    rec["id"], rec["sent"] = r.get("id"), r.get("sent")
                except (ValueError, IndexError):
                    pass
            self.sends[k] = rec
            return
        c = self.cmd[name]
        if self.serf:
            rec["t0"] = time.time()
            seq = c.send("event", {"Name": ev, "Payload": body, "Coalesce": False})
            self.pending[name].append((seq, k))
        else:
            req = {"cmd": "broadcast", "topic": TOPIC, "payload": base64.b64encode(body).decode()}
            line = (json.dumps(req) + "\n").encode()
            rec["t0"] = time.time()
            c.s.setblocking(True)
            c.s.sendall(line)
            c.s.setblocking(False)
            self.pending[name].append((None, k))
        self.sends[k] = rec

    # -- receiving --
    def on_readable(self, kind, name):
        now = time.time()
        if kind == "cmd":
            c = self.cmd[name]
            replies = c.read() if self.serf else c.lines()
            for r in replies:
                if not self.pending[name]:
                    self.errors.append("%s: unexpected reply %r" % (name, r))
                    continue
                _, k = self.pending[name].pop(0)
                rec = self.sends[k]
                rec["t1"] = now
                if self.serf:
                    if r.get("Error"):
                        self.errors.append("message %d from %s: %s" % (k, name, r["Error"]))
                elif not r.get("ok"):
                    self.errors.append("message %d from %s: %s" % (k, name, r.get("error")))
                else:
                    rec["id"], rec["sent"] = r.get("id"), r.get("sent")
            return
        for ev in self.sub[name].lines():
            if ev.get("event") != "message":
                continue
            try:
                k = idx_of_payload(base64.b64decode(ev.get("payload", "")))
            except ValueError:
                k = None
            if k is None or not 0 <= k < self.m:
                self.errors.append("%s: a message not from this run: %r" % (name, ev)[:300])
                continue
            self.receipts.append([name, k, iso_epoch(ev["received"]), now, ev.get("hops")])
            self.got.add((name, k))

    def poll_handlers(self):
        """Serf: the lines the event handlers appended since the last look."""
        for nd in self.nodes:
            name = nd["name"]
            try:
                with open(nd["recv"], "rb") as f:
                    f.seek(self.recv_pos[name])
                    data = f.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1
            self.recv_pos[name] += end
            now = time.time()
            for line in data[:end].splitlines():
                # The handler's line is the event's name, "m<number>"; the
                # time comes from Serf's log (summarize.py).
                try:
                    k = int(line.strip()[1:])
                except ValueError:
                    continue
                self.receipts.append([name, k, None, now, None])
                self.got.add((name, k))

    def pump(self, until):
        """Handle whatever arrives until the given time."""
        while True:
            left = until - time.time()
            if left <= 0:
                break
            for key, _ in self.sel.select(min(left, 0.2)):
                self.on_readable(*key.data)
            if self.serf:
                self.poll_handlers()

    def complete(self):
        # A broadcast is not delivered back to its origin (xgossipd), nor
        # is that counted for Serf (whose origin does run its handler).
        have = sum(1 for (name, k) in self.got if name != self.nodes[self.plan[k][0]]["name"])
        return have >= self.m * (self.n - 1)

    def run(self):
        cfg = self.cfg
        self.connect()
        res = {"system": self.sysname, "n": self.n, "messages": self.m, "rate": cfg["rate"],
               "payload": cfg["payload"], "send": self.mode, "clk_tck": os.sysconf("SC_CLK_TCK")}
        res["counters0"] = self.counters()
        res["s0"] = snapshot(cfg)
        self.pump(time.time() + cfg["baseline_s"])
        res["s1"] = snapshot(cfg)
        start = time.time() + 0.05
        for k in range(self.m):
            self.pump(start + k / cfg["rate"])
            self.send(k)
        last = time.time()
        res["last_send"] = last
        deadline = last + cfg["drain_s"]
        while not self.complete() and time.time() < deadline:
            self.pump(min(deadline, time.time() + 0.25))
        res["complete"] = self.complete()
        res["complete_at"] = time.time()
        self.pump(time.time() + cfg["tail_s"])
        res["s2"] = snapshot(cfg)
        self.pump(time.time() + 0.3)
        res["counters1"] = self.counters()
        res["sends"] = self.sends
        res["receipts"] = self.receipts
        res["errors"] = self.errors
        return res


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        cfg = json.load(f)
    run = Run(cfg)
    try:
        res = run.run()
    except (OSError, RuntimeError, ConnectionError, ValueError) as e:
        sys.exit("driver: %s" % e)
    tmp = os.path.join(cfg["out"], "result.json.tmp")
    with open(tmp, "w") as f:
        json.dump(res, f)
    os.replace(tmp, os.path.join(cfg["out"], "result.json"))
    miss = (run.n - 1) * run.m - len({(a, k) for a, k, *_ in run.receipts
                                       if a != run.nodes[run.plan[k][0]]["name"]})
    print("%s N=%d: %d messages sent, %s, %d deliveries missing, %d errors"
          % (run.sysname, run.n, run.m, "all delivered" if res["complete"] else "NOT all delivered",
             miss, len(run.errors)))
    for e in run.errors[:5]:
        print("  error: " + e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
