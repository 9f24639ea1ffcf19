#!/usr/bin/env python3
"""Put the accuracy section into docs/BENCHMARKS.md.

  publish.py BENCHMARKS_MD SECTION_FILE

The section sits between two marker comments; a run replaces what is
between them and leaves the rest of the file (other benchmarks'
sections) alone.  Without markers the section is appended; without the
file, the file is created with a title.  Written to a temporary file and
renamed, so a failed run never leaves half a document.
"""
import os
import sys

BEGIN = "<!-- accuracy:begin (written by tests/bench/accuracy/run.sh) -->"
END = "<!-- accuracy:end -->"


def main(a):
    if len(a) != 3:
        sys.exit(__doc__)
    md, sec = a[1], a[2]
    with open(sec) as f:
        body = BEGIN + "\n" + f.read().rstrip("\n") + "\n" + END + "\n"
    try:
        with open(md) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = "# Benchmarks\n"
    i, j = doc.find(BEGIN), doc.find(END)
    if i >= 0 and j > i:
        rest = doc[j + len(END):].lstrip("\n")
        doc = doc[:i] + body + ("\n" + rest if rest else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + body
    tmp = md + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, md)


if __name__ == "__main__":
    main(sys.argv)
