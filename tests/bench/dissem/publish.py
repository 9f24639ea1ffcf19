#!/usr/bin/env python3
"""Put the dissemination section into docs/BENCHMARKS.md.

  publish.py BENCHMARKS_MD SECTION_FILE

The accuracy benchmark's publish.py with this section's own markers: the
section between them is replaced, the rest of the file left alone.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accuracy"))
import publish  # noqa: E402

publish.BEGIN = "<!-- dissem:begin (written by tests/bench/dissem/run.sh) -->"
publish.END = "<!-- dissem:end -->"

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    publish.main(sys.argv)
