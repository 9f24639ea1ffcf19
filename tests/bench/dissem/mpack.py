"""The little MessagePack that Serf's RPC protocol needs.

Serf's agent speaks MessagePack over TCP (127.0.0.1:7373 here): a header
map, then a body map.  The benchmark sends `event` requests the way
`serf event` does, over one connection per agent kept open for the whole
run, so that no process is started per message (python3-msgpack is not
installed, and a whole library for two maps would be more than needed).

encode() handles dict, str, bytes, bool, None and non-negative int;
decode() everything Serf answers with (maps, arrays, strings, binaries,
integers, nil, booleans).
"""
import struct


class NeedMore(Exception):
    """The buffer ends inside a value."""


def encode(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if v < 0:
            raise ValueError("negative integers are not needed here")
        if v < 0x80:
            return bytes([v])
        for tag, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16),
                              (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
            if v < lim:
                return bytes([tag]) + struct.pack(fmt, v)
        raise ValueError("integer too large")
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n < 1 << 8:
            return b"\xd9" + bytes([n]) + b
        return b"\xda" + struct.pack(">H", n) + b
    if isinstance(v, (bytes, bytearray)):
        n = len(v)
        if n < 1 << 8:
            return b"\xc4" + bytes([n]) + bytes(v)
        return b"\xc5" + struct.pack(">H", n) + bytes(v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(encode(k) + encode(x) for k, x in v.items())
    raise TypeError("cannot encode %r" % type(v))


def decode(buf, i=0):
    """(value, next index) of the value at buf[i:]; NeedMore if cut."""
    def need(k):
        if i + k > len(buf):
            raise NeedMore()

    need(1)
    t = buf[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xe0:
        return t - 0x100, i
    if 0x80 <= t <= 0x8f:
        return _map(buf, i, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return _array(buf, i, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        need(n)
        return buf[i:i + n].decode(errors="replace"), i + n
    if t == 0xc0:
        return None, i
    if t in (0xc2, 0xc3):
        return t == 0xc3, i
    sized = {0xc4: (">B", False), 0xc5: (">H", False), 0xc6: (">I", False),
             0xd9: (">B", True), 0xda: (">H", True), 0xdb: (">I", True)}
    if t in sized:
        fmt, text = sized[t]
        k = struct.calcsize(fmt)
        need(k)
        n = struct.unpack_from(fmt, buf, i)[0]
        i += k
        need(n)
        raw = bytes(buf[i:i + n])
        return (raw.decode(errors="replace") if text else raw), i + n
    nums = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
            0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
            0xca: ">f", 0xcb: ">d"}
    if t in nums:
        k = struct.calcsize(nums[t])
        need(k)
        return struct.unpack_from(nums[t], buf, i)[0], i + k
    if t in (0xdc, 0xdd, 0xde, 0xdf):
        fmt = ">H" if t in (0xdc, 0xde) else ">I"
        k = struct.calcsize(fmt)
        need(k)
        n = struct.unpack_from(fmt, buf, i)[0]
        i += k
        return (_array if t in (0xdc, 0xdd) else _map)(buf, i, n)
    raise ValueError("msgpack type 0x%02x not handled" % t)


def _map(buf, i, n):
    out = {}
    for _ in range(n):
        k, i = decode(buf, i)
        v, i = decode(buf, i)
        out[k] = v
    return out, i


def _array(buf, i, n):
    out = []
    for _ in range(n):
        v, i = decode(buf, i)
        out.append(v)
    return out, i
