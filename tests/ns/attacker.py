#!/usr/bin/env python3
"""An attacker on an xgossip network, for the security namespace tests.

Runs as root inside a namespace:  ip netns exec NS python3 attacker.py CMD ...

  spoof-ack     ACKs (type 2) that claim to come from --sender-id, for every
                seq in a range, MAC'd with a guessed (or given) probe key
  capture       record UDP payloads to/from a port from an AF_PACKET socket
                as JSON lines {"t", "src", "dst", "payload"}
  replay        send captured payloads again
  forge-gossip  a GOSSIP (type 5) with one update, sealed with random nonce,
                ciphertext and tag (what an attacker without the keyring can
                do), or --plain: the unsealed SipHash-MAC'd v1 layout
  selftest      check SipHash, the cluster id, the encoders against the
                golden packets of docs/PROTOCOL.md, and the capture parser

Every command is bounded (a count or --duration), prints one summary line
"CMD: key=value ..." on stdout and exits 1 on any error.  Byte layouts:
include/xgossip/wire.h and docs/PROTOCOL.md.  Standard library only.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

MAGIC = 0x5847
VERSION = 1
T_ACK = 2
T_GOSSIP = 5
HDR_LEN = 16
PROBE_LEN = 56
UPDATE_LEN = 48
AEAD_NONCE = 24
AEAD_TAG = 16
STATES = {"alive": 1, "suspect": 2, "dead": 3, "left": 4}
MASK64 = (1 << 64) - 1


class Usage(Exception):
    """Bad input from the user: reported without a traceback, exit 1."""


# --- SipHash-2-4 -------------------------------------------------------------

def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def _sipround(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & MASK64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & MASK64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return [v0, v1, v2, v3]


def siphash24(key, msg):
    """64-bit SipHash-2-4 of msg under a 16-byte key, as an integer."""
    if len(key) != 16:
        raise ValueError("SipHash key must be 16 bytes")
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    tail = len(msg) % 8
    for i in range(0, len(msg) - tail, 8):
        (m,) = struct.unpack_from("<Q", msg, i)
        v[3] ^= m
        v = _sipround(_sipround(v))
        v[0] ^= m
    b = ((len(msg) & 0xFF) << 56) | int.from_bytes(msg[len(msg) - tail:], "little")
    v[3] ^= b
    v = _sipround(_sipround(v))
    v[0] ^= b
    v[2] ^= 0xFF
    for _ in range(4):
        v = _sipround(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def mac(key, msg):
    """The 8 MAC bytes as they go on the wire: the hash, little-endian."""
    return struct.pack("<Q", siphash24(key, msg))


def cluster_id(name):
    """First 8 bytes of SHA-256("xgossip cluster " + name), big-endian."""
    d = hashlib.sha256(b"xgossip cluster " + name.encode()).digest()
    return int.from_bytes(d[:8], "big")


# --- encoders ----------------------------------------------------------------

def header(ptype, flags, key_id, length, cid):
    return struct.pack(">HBBBBHQ", MAGIC, VERSION, ptype, flags, key_id,
                       length, cid)


def probe(ptype, cid, key, seq, sender, target, ts, flags=0, key_id=1):
    """PING / ACK / NACK, 56 bytes, MAC over bytes 0..47."""
    body = header(ptype, flags, key_id, PROBE_LEN, cid) + struct.pack(
        ">IIQQQ", seq, 0, sender, target, ts)
    return body + mac(key, body)


def addr_bytes(ip):
    """16-byte address field: IPv6, or IPv4 in the first 4 bytes."""
    a = ipaddress.ip_address(ip)
    return (a.packed + bytes(12)) if a.version == 4 else a.packed


def update(state, node_id, from_id, incarnation, ip, port, name, meta=b""):
    fam = ipaddress.ip_address(ip).version
    if not 1 <= len(name) <= 255:
        raise Usage("name must be 1..255 bytes")
    if len(meta) > 0xFFFF:
        raise Usage("metadata too long")
    return struct.pack(">BBBBHHIIQQ", state, fam, len(name), 0, port,
                       len(meta), incarnation, 0, node_id,
                       from_id) + addr_bytes(ip) + name + meta


def gossip_plain(cid, key, sender, updates, key_id=0, flags=0):
    """The v1 SipHash layout: header | sender | count | reserved 7 |
    updates | MAC over everything before it."""
    body = struct.pack(">QB7x", sender, len(updates)) + b"".join(updates)
    total = HDR_LEN + len(body) + 8
    if total > 0xFFFF:
        raise Usage("packet over 65535 bytes")
    pkt = header(T_GOSSIP, flags, key_id, total, cid) + body
    return pkt + mac(key, pkt)


def gossip_sealed_forgery(cid, plaintext_len, key_id=1, flags=0):
    """What an attacker without the keyring can send: the real sealed
    layout (cleartext header | nonce 24 | ciphertext | tag 16, hdr.len =
    total) with random nonce, ciphertext and tag."""
    total = HDR_LEN + AEAD_NONCE + plaintext_len + AEAD_TAG
    if total > 0xFFFF:
        raise Usage("packet over 65535 bytes")
    return header(T_GOSSIP, flags, key_id, total, cid) + os.urandom(
        AEAD_NONCE + plaintext_len + AEAD_TAG)


# --- argument parsing --------------------------------------------------------

def parse_hostport(text):
    """"1.2.3.4:7946" or "[fd00::1]:7946" -> (ip string, port, family)."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
        if ":" in host:
            raise Usage("%r: write an IPv6 address as [IP]:PORT" % text)
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise Usage("%r is not IP:PORT (IPv6 as [IP]:PORT)" % text)
    try:
        a = ipaddress.ip_address(host)
    except ValueError:
        raise Usage("%r is not an IP address" % host) from None
    return (str(a), int(port),
            socket.AF_INET if a.version == 4 else socket.AF_INET6)


def parse_u64(text):
    try:
        v = int(text, 16)
    except ValueError:
        raise Usage("%r is not a hex number" % text) from None
    if not 0 <= v <= MASK64:
        raise Usage("%r does not fit 64 bits" % text)
    return v


def parse_key(text):
    if text is None:
        return os.urandom(16)  # a guess
    try:
        k = bytes.fromhex(text)
    except ValueError:
        raise Usage("--key is not hex") from None
    if len(k) != 16:
        raise Usage("--key must be 16 bytes (32 hex digits)")
    return k


def parse_byte(text, what):
    if not 0 <= text <= 255:
        raise Usage("%s must be 0..255" % what)
    return text


# --- sending -----------------------------------------------------------------

class Sender:
    """A UDP socket that paces to rate packets/s (0: as fast as possible)
    and counts what it sent and what failed."""

    def __init__(self, to, rate=0.0):
        self.ip, self.port, fam = parse_hostport(to)
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_t = time.monotonic()
        self.sent = 0
        self.errors = 0
        self.last_error = None

    def send(self, pkt):
        if self.interval:
            now = time.monotonic()
            if self.next_t > now:
                time.sleep(self.next_t - now)
            # Never bank more than one interval of credit after a stall.
            self.next_t = max(self.next_t, now - self.interval) + self.interval
        try:
            self.sock.sendto(pkt, (self.ip, self.port))
            self.sent += 1
        except OSError as e:
            self.errors += 1
            self.last_error = e

    def close(self):
        self.sock.close()

    def summary(self, cmd, start, extra=""):
        line = "%s: sent=%d errors=%d seconds=%.2f%s" % (
            cmd, self.sent, self.errors, time.monotonic() - start, extra)
        if self.last_error:
            line += " last_error=%r" % str(self.last_error)
        print(line)
        return 1 if self.errors else 0


def cmd_spoof_ack(a):
    if not 0 <= a.seq_from <= a.seq_to <= 0xFFFFFFFF:
        raise Usage("need 0 <= --seq-from <= --seq-to <= 2^32-1")
    cid = cluster_id(a.cluster)
    key = parse_key(a.key)
    sender_id, target_id = parse_u64(a.sender_id), parse_u64(a.target_id)
    key_id = parse_byte(a.key_id, "--key-id")
    flags = parse_byte(a.flags, "--flags")
    s = Sender(a.to, a.rate)
    start = time.monotonic()
    deadline = start + a.duration if a.duration else None
    passes = 0
    try:
        while True:
            for seq in range(a.seq_from, a.seq_to + 1):
                if deadline and time.monotonic() >= deadline:
                    break
                ts = a.ts if a.ts is not None else time.monotonic_ns()
                s.send(probe(T_ACK, cid, key, seq, sender_id, target_id,
                             ts & MASK64, flags, key_id))
            else:
                passes += 1
                if deadline and time.monotonic() < deadline:
                    continue
            break
    finally:
        s.close()
    return s.summary("spoof-ack", start, " passes=%d" % passes)


def cmd_forge_gossip(a):
    cid = cluster_id(a.cluster)
    ip, port, _ = parse_hostport(a.addr)
    node_id = parse_u64(a.node_id)
    sender = parse_u64(a.sender_id) if a.sender_id else int.from_bytes(
        os.urandom(8), "big")
    state = STATES[a.state]
    if a.from_id:
        from_id = parse_u64(a.from_id)
    else:
        from_id = node_id if state in (1, 4) else sender
    if not 0 <= a.incarnation <= 0xFFFFFFFF:
        raise Usage("--incarnation must fit 32 bits")
    key_id = parse_byte(a.key_id, "--key-id")
    if a.times < 1:
        raise Usage("--times must be >= 1")
    key = parse_key(a.key)
    upd = update(state, node_id, from_id, a.incarnation, ip, port,
                 a.name.encode(), a.meta.encode())
    s = Sender(a.to, a.rate)
    start = time.monotonic()
    try:
        for _ in range(a.times):
            if a.plain:
                pkt = gossip_plain(cid, key, sender, [upd], key_id)
            else:
                # The sealed plaintext is the GOSSIP body without the MAC:
                # sender 8 | count 1 | reserved 7 | updates.
                pkt = gossip_sealed_forgery(cid, 16 + len(upd), key_id)
            s.send(pkt)
    finally:
        s.close()
    return s.summary("forge-gossip", start, " bytes=%d mode=%s" % (
        len(pkt), "plain" if a.plain else "sealed"))


def read_capture(path, ptype):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                p = bytes.fromhex(json.loads(line)["payload"])
            except (ValueError, KeyError, TypeError):
                raise Usage("%s:%d: not a capture line" % (path, n)) from None
            if ptype is None or (len(p) >= 4 and p[3] == ptype):
                out.append(p)
    return out


def cmd_replay(a):
    if a.times < 1:
        raise Usage("--times must be >= 1")
    payloads = read_capture(a.inp, a.type)
    s = Sender(a.to, a.rate)
    start = time.monotonic()
    try:
        for _ in range(a.times):
            for p in payloads:
                s.send(p)
    finally:
        s.close()
    rc = s.summary("replay", start, " distinct=%d" % len(payloads))
    if not payloads:
        print("replay: nothing to send in %s" % a.inp, file=sys.stderr)
        return 1
    return rc


# --- capture -----------------------------------------------------------------

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8)
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
IPV6_EXT = (0, 43, 60)  # hop-by-hop, routing, destination options


def _endpoint(ip, port, v6):
    return ("[%s]:%d" if v6 else "%s:%d") % (ip, port)


def _udp(frame, off, end, src, dst, v6, port):
    if end - off < 8:
        return None
    sport, dport, ulen = struct.unpack_from(">HHH", frame, off)
    if port not in (sport, dport) or ulen < 8 or off + ulen > end:
        return None
    return (_endpoint(src, sport, v6), _endpoint(dst, dport, v6),
            bytes(frame[off + 8:off + ulen]))


def parse_frame(frame, port):
    """An Ethernet frame -> (src, dst, UDP payload) if it is UDP to or from
    port over IPv4 or IPv6 (after any 802.1Q / 802.1ad tags), else None.
    Fragments are skipped: xgossip never sends a fragmented datagram."""
    if len(frame) < 14:
        return None
    off = 12
    (etype,) = struct.unpack_from(">H", frame, off)
    while etype in VLAN_TPIDS and len(frame) >= off + 6:
        off += 4
        (etype,) = struct.unpack_from(">H", frame, off)
    off += 2
    if etype == ETH_P_IP:
        if len(frame) < off + 20 or frame[off] >> 4 != 4:
            return None
        ihl = (frame[off] & 0xF) * 4
        total, frag = struct.unpack_from(">H2xH", frame, off + 2)
        if frame[off + 9] != 17 or frag & 0x3FFF or ihl < 20:
            return None
        end = min(len(frame), off + total)
        src = socket.inet_ntop(socket.AF_INET, bytes(frame[off + 12:off + 16]))
        dst = socket.inet_ntop(socket.AF_INET, bytes(frame[off + 16:off + 20]))
        return _udp(frame, off + ihl, end, src, dst, False, port)
    if etype == ETH_P_IPV6:
        if len(frame) < off + 40 or frame[off] >> 4 != 6:
            return None
        (plen,) = struct.unpack_from(">H", frame, off + 4)
        nxt = frame[off + 6]
        src = socket.inet_ntop(socket.AF_INET6, bytes(frame[off + 8:off + 24]))
        dst = socket.inet_ntop(socket.AF_INET6, bytes(frame[off + 24:off + 40]))
        end = min(len(frame), off + 40 + plen)
        off += 40
        while nxt in IPV6_EXT and off + 8 <= end:
            nxt, hlen = frame[off], (frame[off + 1] + 1) * 8
            off += hlen
        if nxt != 17:
            return None  # fragment header (44), ESP, anything else
        return _udp(frame, off, end, src, dst, True, port)
    return None


def cmd_capture(a):
    if a.duration <= 0:
        raise Usage("--duration must be > 0")
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                         socket.htons(ETH_P_ALL))
    captured = 0
    start = time.monotonic()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((a.iface, ETH_P_ALL))
        # On loopback every packet shows up twice, leaving and arriving.
        skip_outgoing = a.iface == "lo"
        deadline = start + a.duration
        # The output file appears only once the socket listens, so a test
        # can wait for it before it starts sending.
        with open(a.out, "w") as out:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or (a.count and captured >= a.count):
                    break
                r, _, _ = select.select([sock], [], [], left)
                if not r:
                    continue
                frame, info = sock.recvfrom(65600)
                if skip_outgoing and info[2] == PACKET_OUTGOING:
                    continue
                got = parse_frame(frame, a.port)
                if got is None:
                    continue
                src, dst, payload = got
                if a.type is not None and (len(payload) < 4 or
                                           payload[3] != a.type):
                    continue
                out.write(json.dumps({"t": round(time.time(), 6),
                                      "src": src, "dst": dst,
                                      "payload": payload.hex()}) + "\n")
                out.flush()
                captured += 1
        _, drops = struct.unpack("II", sock.getsockopt(
            SOL_PACKET, PACKET_STATISTICS, 8))
    finally:
        sock.close()
    print("capture: captured=%d drops=%d seconds=%.2f iface=%s port=%d" % (
        captured, drops, time.monotonic() - start, a.iface, a.port))
    return 0


# --- selftest ----------------------------------------------------------------

def _golden(text):
    """Hex bytes out of a PROTOCOL.md dump: the first 8 pairs of each line."""
    out = b""
    for line in text.strip().splitlines():
        out += bytes.fromhex("".join(line.split()[:8]))
    return out


# docs/PROTOCOL.md, section 4.1 (PING) and section 5 (GOSSIP).
PING_GOLDEN = _golden("""
58 47 01 01 02 01 00 38
01 02 03 04 05 06 07 08
0a 0b 0c 0d 00 00 00 00
11 12 13 14 15 16 17 18
21 22 23 24 25 26 27 28
31 32 33 34 35 36 37 38
ad b6 d0 df cd 75 79 dc
""")
GOSSIP_GOLDEN = _golden("""
58 47 01 05 00 00 00 5d
01 02 03 04 05 06 07 08
11 12 13 14 15 16 17 18
01 00 00 00 00 00 00 00
02 04 02 00 1f 0a 00 03
00 00 00 07 00 00 00 00
a1 a2 a3 a4 a5 a6 a7 a8
b1 b2 b3 b4 b5 b6 b7 b8
c6 12 00 01 00 00 00 00
00 00 00 00 00 00 00 00
6e 31 61 62 63
38 79 db 0d ad be 9e 56
""")


def _eth(etype, payload, vlan=None):
    head = bytes(6) + bytes.fromhex("020000000001")
    if vlan is not None:
        head += struct.pack(">HH", 0x8100, vlan)
    return head + struct.pack(">H", etype) + payload


def _ipv4_udp(src, dst, sport, dport, data, frag=0):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, frag, 64,
                     17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp


def _ipv6_udp(src, dst, sport, dport, data, nxt=17, ext=b""):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data
    ip = struct.pack(">IHBB16s16s", 6 << 28, len(ext) + len(udp), nxt, 64,
                     socket.inet_pton(socket.AF_INET6, src),
                     socket.inet_pton(socket.AF_INET6, dst))
    return ip + ext + udp


def selftest_checks():
    """(name, ok) for every check."""
    k16 = bytes(range(16))
    c = []
    c.append(("siphash reference vector",
              siphash24(k16, bytes(range(15))) == 0xA129CA6149BE45E5))
    c.append(("siphash empty message",
              siphash24(k16, b"") == 0x726FDB47DD0E0E31))
    # printf 'xgossip cluster default' | sha256sum -> 2269f7d72ea58883...
    c.append(("cluster id of 'default'",
              cluster_id("default") == 0x2269F7D72EA58883))
    ping = probe(1, 0x0102030405060708, k16, 0x0A0B0C0D, 0x1112131415161718,
                 0x2122232425262728, 0x3132333435363738, flags=2, key_id=1)
    c.append(("PING golden bytes (PROTOCOL.md 4.1)", ping == PING_GOLDEN))
    ack = probe(T_ACK, cluster_id("default"), k16, 1, 2, 3, 4)
    c.append(("ACK is 56 bytes, type 2, len 56",
              len(ack) == 56 and ack[3] == 2 and ack[6:8] == b"\x00\x38"))
    upd = update(2, 0xA1A2A3A4A5A6A7A8, 0xB1B2B3B4B5B6B7B8, 7, "198.18.0.1",
                 7946, b"n1", b"abc")
    g = gossip_plain(0x0102030405060708, k16, 0x1112131415161718, [upd])
    c.append(("GOSSIP golden bytes (PROTOCOL.md 5)", g == GOSSIP_GOLDEN))
    sealed = gossip_sealed_forgery(1, 16 + len(upd), key_id=3)
    c.append(("sealed GOSSIP length and header",
              len(sealed) == 16 + 24 + 16 + len(upd) + 16 and
              struct.unpack_from(">H", sealed, 6)[0] == len(sealed) and
              sealed[3] == 5 and sealed[5] == 3))
    c.append(("IPv6 update address", addr_bytes("fd00:198:18::1") ==
              bytes.fromhex("fd000198001800000000000000000001")))
    c.append(("parse IP:PORT", parse_hostport("198.18.0.1:7946") ==
              ("198.18.0.1", 7946, socket.AF_INET) and
              parse_hostport("[fd00:198:18::1]:7") ==
              ("fd00:198:18::1", 7, socket.AF_INET6)))
    try:
        parse_hostport("fd00::1:7946")
        bad_rejected = False
    except Usage:
        bad_rejected = True
    c.append(("bare IPv6 without brackets rejected", bad_rejected))

    data = b"XG\x01\x02payload"
    f4 = _eth(ETH_P_IP, _ipv4_udp("198.18.200.1", "198.18.200.2", 5555, 7946,
                                  data) + bytes(6))  # Ethernet padding
    c.append(("capture: IPv4", parse_frame(f4, 7946) ==
              ("198.18.200.1:5555", "198.18.200.2:7946", data)))
    c.append(("capture: other port ignored", parse_frame(f4, 7947) is None))
    c.append(("capture: reply direction (source port)",
              parse_frame(f4, 5555) is not None))
    fr = _eth(ETH_P_IP, _ipv4_udp("198.18.200.1", "198.18.200.2", 5555, 7946,
                                  data, frag=0x2000))
    c.append(("capture: IPv4 fragment skipped", parse_frame(fr, 7946) is None))
    f6 = _eth(ETH_P_IPV6, _ipv6_udp("fd00:198:18::1", "fd00:198:18::2", 7946,
                                    40000, data), vlan=42)
    c.append(("capture: 802.1Q + IPv6", parse_frame(f6, 7946) ==
              ("[fd00:198:18::1]:7946", "[fd00:198:18::2]:40000", data)))
    hbh = bytes([17, 0]) + bytes(6)  # hop-by-hop header, next = UDP
    f6e = _eth(ETH_P_IPV6, _ipv6_udp("fd00:198:18::1", "fd00:198:18::2", 1,
                                     7946, data, nxt=0, ext=hbh))
    c.append(("capture: IPv6 extension header", parse_frame(f6e, 7946) ==
              ("[fd00:198:18::1]:1", "[fd00:198:18::2]:7946", data)))
    c.append(("capture: truncated frame", parse_frame(f4[:40], 7946) is None))
    c.append(("capture: ARP ignored",
              parse_frame(_eth(0x0806, bytes(28)), 7946) is None))
    return c


def cmd_selftest(_a):
    checks = selftest_checks()
    failed = [n for n, ok in checks if not ok]
    for n in failed:
        print("selftest: FAIL %s" % n, file=sys.stderr)
    print("selftest: passed=%d failed=%d" % (len(checks) - len(failed),
                                             len(failed)))
    return 1 if failed else 0


# --- command line ------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("spoof-ack", help="forged ACKs for a range of seqs")
    s.add_argument("--to", required=True, help="IP:PORT or [IPv6]:PORT")
    s.add_argument("--sender-id", required=True, help="claimed sender (hex)")
    s.add_argument("--target-id", required=True, help="the prober (hex)")
    s.add_argument("--seq-from", type=int, required=True)
    s.add_argument("--seq-to", type=int, required=True)
    s.add_argument("--cluster", default="default")
    s.add_argument("--key-id", type=int, default=1)
    s.add_argument("--key", help="probe key, 32 hex digits (default: random)")
    s.add_argument("--flags", type=int, default=0, help="1 = INDIRECT")
    s.add_argument("--ts", type=int, help="ts_ns to echo (default: now)")
    s.add_argument("--rate", type=float, default=0.0, help="packets/s")
    s.add_argument("--duration", type=float, default=0.0,
                   help="repeat the range until S seconds (default: once)")
    s.set_defaults(fn=cmd_spoof_ack)

    s = sub.add_parser("capture", help="record UDP payloads to JSON lines")
    s.add_argument("--iface", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--duration", type=float, required=True)
    s.add_argument("--type", type=int, help="only this xgossip type")
    s.add_argument("--count", type=int, default=0, help="stop after N")
    s.set_defaults(fn=cmd_capture)

    s = sub.add_parser("replay", help="send captured payloads again")
    s.add_argument("--in", dest="inp", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--type", type=int)
    s.add_argument("--times", type=int, default=1)
    s.add_argument("--rate", type=float, default=0.0)
    s.set_defaults(fn=cmd_replay)

    s = sub.add_parser("forge-gossip", help="a GOSSIP with one forged update")
    s.add_argument("--to", required=True)
    s.add_argument("--cluster", default="default")
    s.add_argument("--state", required=True, choices=sorted(STATES))
    s.add_argument("--node-id", required=True, help="member concerned (hex)")
    s.add_argument("--name", required=True)
    s.add_argument("--addr", required=True, help="member's IP:PORT")
    s.add_argument("--incarnation", type=int, required=True)
    s.add_argument("--key-id", type=int, default=1)
    s.add_argument("--sender-id", help="hex (default: random)")
    s.add_argument("--from-id", help="who raised it (default: sender for "
                   "suspect/dead, node for alive/left)")
    s.add_argument("--meta", default="", help="metadata bytes (text)")
    s.add_argument("--plain", action="store_true",
                   help="unsealed v1 layout with a SipHash MAC")
    s.add_argument("--key", help="--plain MAC key, 32 hex (default: random)")
    s.add_argument("--times", type=int, default=1)
    s.add_argument("--rate", type=float, default=0.0)
    s.set_defaults(fn=cmd_forge_gossip)

    s = sub.add_parser("selftest", help="check the encoders and parser")
    s.set_defaults(fn=cmd_selftest)
    return p


def main(argv):
    a = build_parser().parse_args(argv)
    try:
        return a.fn(a)
    except Usage as e:
        print("%s: %s" % (a.cmd, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("%s: %s" % (a.cmd, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
