#!/usr/bin/env python3
"""Run transcript specs on the real tools inside ct_* namespaces and emit JSON results.
Must run inside a private mount namespace with a tmpfs on /run/netns (see record.sh).
Spec format:
  === testName            starts a test
  # text                  comment
  [?] [NS>] command       '?' = check output; 'NS>' = run via `ip netns exec NS`
Top-level commands (no NS) may only be `ip netns ...` (never touch the root namespace)."""
import json, shlex, subprocess, sys

def run(argv):
    p = subprocess.run(["timeout", "10"] + argv, capture_output=True, text=True)
    return p.stdout, p.stderr, p.returncode

def main(spec_path):
    tests = []
    created = set()
    cur = None
    for raw in open(spec_path):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("==="):
            for n in sorted(created):
                run(["ip", "netns", "del", n])
            created.clear()
            cur = {"name": line[3:].strip(), "items": []}
            tests.append(cur)
            continue
        if line.startswith("##"):
            cur.setdefault("doc", []).append(line[2:].strip())
            continue
        if line.startswith("#"):
            cur["items"].append({"comment": line[1:].strip()})
            continue
        if line.startswith("!known"):
            cur["known"] = line[len("!known"):].strip()
            continue
        if line.startswith("!mac"):
            _, mns, mdev = line.split()
            o = run(["ip", "netns", "exec", mns, "cat", f"/sys/class/net/{mdev}/address"])
            cur.setdefault("macs", []).append((o[0].strip(), f"<mac:{mdev}>"))
            cur["items"].append({"mac": [mns, mdev]})
            continue
        check = line.startswith("?")
        body = line[1:].strip() if check else line.strip()
        ns = None
        if ">" in body.split(" ")[0]:
            ns, cmd = body.split(">", 1)
            cmd = cmd.strip()
        else:
            cmd = body
        argv = shlex.split(cmd)
        if ns is None and argv[0] == "sleep":
            full = argv
        elif ns is None:
            assert argv == ["ip", "netns"] or argv[:2] == ["ip", "netns"] and argv[2] in ("add", "del", "delete", "list", "ls", "list-id", "exec"), f"refusing top-level command {cmd}"
            assert argv[2:3] == ["list-id"] or len(argv) < 4 or argv[3].startswith("ct_"), cmd
            full = argv
        else:
            assert ns.startswith("ct_"), ns
            full = ["ip", "netns", "exec", ns] + argv
        out, err, rc = run(full)
        for real, ph in cur.get("macs", []):
            out = out.replace(real, ph); err = err.replace(real, ph)
        if ns is None and argv[:3] == ["ip", "netns", "add"] and rc == 0:
            created.add(argv[3])
            o2 = run(["ip", "netns", "exec", argv[3], "sysctl", "-qw",
                      "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
            assert o2[2] == 0, o2
        if ns is None and argv[:3] in (["ip", "netns", "del"], ["ip", "netns", "delete"]) and rc == 0:
            created.discard(argv[3])
        item = {"ns": ns, "cmd": cmd, "check": check, "out": out, "err": err, "rc": rc}
        if cur.get("known"):
            item["known"] = cur.pop("known")
        cur["items"].append(item)
    for n in sorted(created):
        run(["ip", "netns", "del", n])
    json.dump(tests, sys.stdout, indent=1)

try:
    main(sys.argv[1])
finally:
    for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n"):
        n = n.split(" ")[0]
        if n.startswith("ct_"):
            run(["ip", "netns", "del", n])
