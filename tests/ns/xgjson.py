#!/usr/bin/env python3
"""Questions about an `xgossipctl members -o json` document on stdin.

  xgjson.py count STATUS|all     how many members have that status
  xgjson.py field NAME FIELD     a member's field (objects printed as JSON)
  xgjson.py tag NAME KEY         one of a member's tags ('' if absent)
  xgjson.py names STATUS|all     member names, one per line
  xgjson.py get A.B.C            a value by path in any reply (`info`, `keys`)

Exit 1 with a message when the document is not a successful reply or the
member is absent, so a broken CLI fails the test instead of reading as 0.
"""
import json
import sys


def die(msg):
    print("xgjson: " + msg, file=sys.stderr)
    sys.exit(1)


def tags_of(m):
    # Accept {"k": "v"} and ["k=v", ...]: the CLI's contract names the
    # field, the test should not break on its spelling.
    t = m.get("tags") or {}
    if isinstance(t, list):
        return dict(x.split("=", 1) if "=" in x else (x, "") for x in t)
    return t


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    raw = sys.stdin.read()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        die("not JSON (%s): %r" % (e, raw[:200]))
    if not isinstance(doc, dict) or doc.get("ok") is not True:
        die("not an ok reply: %r" % raw[:200])
    if argv[1] == "get" and len(argv) > 2:
        v = doc
        for k in argv[2].split("."):
            if isinstance(v, list) and k.isdigit() and int(k) < len(v):
                v = v[int(k)]
            elif isinstance(v, dict) and k in v:
                v = v[k]
            else:
                die("no %s in the reply" % argv[2])
        print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
        return
    members = doc.get("members")
    if not isinstance(members, list):
        die("no members list")
    cmd = argv[1]
    if cmd in ("count", "names"):
        st = argv[2] if len(argv) > 2 else "all"
        sel = [m for m in members if st == "all" or m.get("status") == st]
        if cmd == "count":
            print(len(sel))
        else:
            for m in sel:
                print(m.get("name"))
        return
    byname = {m.get("name"): m for m in members}
    if len(argv) < 4:
        die(__doc__)
    m = byname.get(argv[2])
    if m is None:
        die("no member %s" % argv[2])
    if cmd == "field":
        v = m.get(argv[3])
        # JSON spelling for booleans too ("true", not Python's "True").
        print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)
    elif cmd == "tag":
        print(tags_of(m).get(argv[3], ""))
    else:
        die("unknown query " + cmd)


if __name__ == "__main__":
    main(sys.argv)
