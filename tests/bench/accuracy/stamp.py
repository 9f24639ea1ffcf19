#!/usr/bin/env python3
"""Time-stamp the log lines of many agents, in one process.

  stamp.py READY FIFO LOG [FIFO LOG]...

Each FIFO is created if missing (an agent writes its log to it), and every
line read from it is appended to its LOG as

  <epoch seconds, 6 decimals> <the line>

Serf stamps its log lines to the second only, too coarse for detection
times of a few seconds; the time a line arrives here is within a few ms of
when Serf wrote it (one unbuffered write per line).  One process for all
agents, not one per agent: on 2 CPUs every extra process is noise.

Each FIFO is also held open for writing by this process, so a writer that
exits (SIGKILL) never makes the FIFO read as end-of-file, which select()
would report as readable forever.  Ends on SIGTERM or SIGINT.
"""
import os
import select
import signal
import sys
import time


def main(argv):
    if len(argv) < 4 or len(argv) % 2:
        sys.exit(__doc__)
    ready_file, pairs = argv[1], argv[2:]
    readers = {}
    keep = []
    for fifo, log in zip(pairs[0::2], pairs[1::2]):
        if not os.path.exists(fifo):
            os.mkfifo(fifo, 0o600)
        r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        keep.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        out = open(log, "ab", buffering=0)
        readers[r] = [out, b""]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    # Tell the starter we are ready: a writer may open the FIFOs now
    # without blocking.
    open(ready_file, "w").close()
    while not stop:
        try:
            ready, _, _ = select.select(list(readers), [], [], 1.0)
        except InterruptedError:
            continue
        now = time.time()
        for r in ready:
            try:
                data = os.read(r, 65536)
            except BlockingIOError:
                continue
            out, buf = readers[r]
            buf += data
            *lines, buf = buf.split(b"\n")
            readers[r][1] = buf
            if lines:
                stamp = b"%.6f " % now
                out.write(b"".join(stamp + ln + b"\n" for ln in lines))


if __name__ == "__main__":
    main(sys.argv)
