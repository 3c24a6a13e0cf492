#!/usr/bin/env python3
"""Compares a swnetsim run with a real replay of the same scenario.

    compare.py SIM_DIR REAL_DIR [-U N] [--normalized]

Both folders hold transcript.txt and one NAME.txt per capture. Each file is normalised (values
that differ from run to run become placeholders, tcpdump timestamps become bucketed gaps, see
README.md), then the two are diffed. Prints a unified diff; exit status 0 when every file is
equal after normalisation, 1 otherwise, 2 on usage errors.
"""

import argparse
import difflib
import os
import re
import sys

# Files a simulator run may write that have no real counterpart.
SIM_ONLY = {"events.txt"}

MAC = r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}"
TOKEN = re.compile(
    r"(?P<bridgeid>\b[0-9a-f]{4}\.[0-9a-f]{12}\b)"
    r"|(?P<mac>(?<![0-9a-fA-F:])" + MAC + r"(?![0-9a-fA-F:]))"
    r"|(?P<icmpid>(?<=ICMP echo request, id )\d+|(?<=ICMP echo reply, id )\d+)"
    r"|(?P<ident>(?<=\bident[=: ])\s*\d+|(?<= code=0 id=)\d+)"
    r"|(?P<ipid>(?<=\bttl )\d+, id \d+)"
    r"|(?P<port>\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{5}\b)"
    r"|(?P<ctport>(?<=\bsport=)\d{5}\b|(?<=\bdport=)\d{5}\b|(?<=\bSPORT=)\d{5}\b|(?<=\bDPORT=)\d{5}\b)"
    r"|(?P<traceid>(?<=^PACKET: 2 )[0-9a-f]{8}\b|(?<=^ TRACE: 2 )[0-9a-f]{8}\b)"
    r"|(?P<newgen>(?<=^NEWGEN: GENID=)\d+ PID=\d+)"
)
TIMESTAMP = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}) )?(\d{2}):(\d{2}):(\d{2})\.(\d{6}|\d{9})(?= )")
PING_TIME = re.compile(r"\btime[=<]\d+(?:\.\d+)? ms\b")
PING_TOTAL = re.compile(r"(\d+% packet loss(?:, [^,]*)*?), time \d+ms")
PING_RTT = re.compile(r"^rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms")
PING_IPG = re.compile(r"ipg/ewma [\d.]+/[\d.]+ ms")
LINK_NETNS = re.compile(r"\blink-netns fid_\S+|\blink-netnsid \d+")
SYN_SEQ = re.compile(r"(Flags \[S\.?[^\]]*\], seq )(\d+)")
SYN_ACK = re.compile(r"(Flags \[(?:S\.|R\.)[^\]]*\], seq [^,]+, ack )(\d+)")


def bucket(gap):
    """The tolerance bucket of a gap between two tcpdump lines, in seconds.

    < 1 ms: `<1ms`; < 10 ms: `<10ms`; < 100 ms: `<100ms`; < 2 s: rounded to 0.1 s (`1.0s`);
    from 2 s: rounded to whole seconds (`5s`)."""
    if gap < 0.001:
        return "<1ms"
    if gap < 0.010:
        return "<10ms"
    if gap < 0.100:
        return "<100ms"
    if gap < 1.95:
        return "%.1fs" % (round(gap * 10) / 10)
    return "%ds" % round(gap)


def is_fixed_mac(mac):
    """Multicast, broadcast and all-zero addresses are the same on every run."""
    first = int(mac[:2], 16)
    return first & 1 == 1 or mac == "00:00:00:00:00:00"


class Normalizer:
    """Per-file state: first-seen placeholders and the previous timestamp."""

    def __init__(self):
        self.maps = {}
        self.prev = None

    def placeholder(self, kind, value):
        table = self.maps.setdefault(kind, {})
        if value not in table:
            table[value] = "%s%d" % (kind, len(table) + 1)
        return table[value]

    def token(self, m):
        kind = m.lastgroup
        text = m.group(0)
        if kind == "mac":
            mac = text.lower()
            return mac if is_fixed_mac(mac) else self.placeholder("mac", mac)
        if kind == "bridgeid":
            # The bridge id's address is the lowest port MAC: which random MAC is lowest
            # differs from run to run, so only the priority is compared.
            return text[:4] + ".<id>"
        if kind in ("icmpid", "ident"):
            lead = text[: len(text) - len(text.lstrip())]
            return lead + self.placeholder("id", text.strip())
        if kind == "ipid":
            return text.split(",")[0] + ", id <ipid>"
        if kind == "port":
            # ADDR.PORT as tcpdump prints it; ports from ip_local_port_range (32768-60999)
            # are ephemeral and differ from run to run.
            addr, port = text.rsplit(".", 1)
            return addr + "." + self.placeholder("port", port) if 32768 <= int(port) <= 60999 else text
        if kind == "ctport":
            # conntrack's sport=/dport=, xtables-monitor's SPORT=/DPORT=: the same ephemeral ports.
            return self.placeholder("port", text) if 32768 <= int(text) <= 60999 else text
        if kind == "traceid":
            # nf_tables' trace id: a siphash of the sk_buff with a key drawn at boot.
            return self.placeholder("trace", text)
        if kind == "newgen":
            # NEWGEN: the generation is compared, the committing process's pid is not.
            return text.split(" ")[0] + " PID=<pid>"
        return text

    def timestamp(self, m):
        y, mo, d, hh, mm, ss, frac = m.groups()
        t = int(hh) * 3600 + int(mm) * 60 + int(ss) + int(frac) / (10 ** len(frac))
        if y:
            t += (int(y) * 372 + int(mo) * 31 + int(d)) * 86400  # monotonic, good enough for gaps
        if self.prev is None:
            out = "<start>"
        else:
            gap = t - self.prev
            if gap < 0 and not y:
                gap += 86400
            out = "+" + bucket(gap)
        self.prev = t
        return out

    def syn_ack(self, m):
        # A SYN-ACK acknowledges the peer's initial sequence number plus one.
        isn = self.maps.get("isn", {}).get(str(int(m.group(2)) - 1))
        return m.group(1) + (isn + "+1" if isn else "<isn>+1")

    def line(self, line):
        line = TIMESTAMP.sub(self.timestamp, line)
        # xtables-monitor prints MACs as ether_ntoa() does (no leading zeros): pad them, so
        # that the MAC placeholders below apply, shared with other tools' spelling.
        line = NTOA_MAC.sub(lambda m: m.group(1) + ":".join(b.rjust(2, "0") for b in m.group(2).split(":")), line)
        if line.startswith("PACKET: "):
            line = TRACE_IPID.sub(" ID=<ipid> ", line)
        line = SYN_ACK.sub(self.syn_ack, line)
        line = SYN_SEQ.sub(lambda m: m.group(1) + self.placeholder("isn", m.group(2)), line)
        line = TUNNEL_SPORT.sub(r"\1.<tunnel-sport>\2", line)
        line = TSO_MAX.sub("tso_max_size <n>", line)
        line = TOKEN.sub(self.token, line)
        line = PING_TIME.sub(lambda m: m.group(0)[:5] + "<t> ms", line)
        line = PING_TOTAL.sub(lambda m: m.group(1) + ", time <T>ms", line)
        line = PING_RTT.sub("rtt min/avg/max/mdev = <rtt> ms", line)
        line = PING_IPG.sub("ipg/ewma <ipg> ms", line)
        # TCP timestamps start at a random offset per connection.
        line = TCP_TS.sub(lambda m: "TS val " + self.placeholder("tsval", m.group(1)) + " ecr " + self.placeholder("tsval", m.group(2)) if m.group(2) != "0" else "TS val " + self.placeholder("tsval", m.group(1)) + " ecr 0", line)
        # The simulator's machine is the unnamed root namespace; the replay's is fid_<machine>.
        line = LINK_NETNS.sub("link-netns <machine>", line)
        line = IPT_PROT.sub(ipt_prot, line)
        return line


TCP_TS = re.compile(r"TS val (\d+) ecr (\d+)")
# xtables-monitor's PACKET lines: MACSRC=/MACDST= in ether_ntoa() form, the IP id.
NTOA_MAC = re.compile(r"\b(MAC(?:SRC|DST)=)([0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5})(?= )")
TRACE_IPID = re.compile(r" ID=\d+ ")
# The outer UDP source port of VXLAN (4789) and flannel's VXLAN (8472, printed as OTV) is a
# hash of the inner flow keyed per boot: the replay's machines share one kernel (one key, the
# same port both ways), the simulator's machines have one each.
TUNNEL_SPORT = re.compile(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,5}( > \d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\.(?:4789|8472): )")
# A vxlan device inherits tso_max_size from its lower device: a NIC in the simulator (65536),
# a veth in the replay's underlay (524280).
TSO_MAX = re.compile(r"\btso_max_size \d+")
# iptables 1.8.9 (Debian 12) prints the prot column of -n listings as a number; 1.8.8 and
# 1.8.10+ print the name, as the simulator does. A rule line of a listing: a rule number and
# counters (each optional), a target, then the prot column before "--" or an option column.
IPT_PROT = re.compile(r"^((?:\s*\d+[KMGT]?\s+){0,3}\S+\s+)(\d+)(\s+(?:--|!\S*|-f)\s)")
PROT_NAMES = {"0": "all", "1": "icmp", "6": "tcp", "17": "udp"}


def ipt_prot(m):
    name = PROT_NAMES.get(m.group(2))
    if name is None:
        return m.group(0)
    # The column is 5 wide ("%-5s"): keep the rest of the line where it was.
    width = len(m.group(2)) + len(m.group(3)) - len(m.group(3).lstrip())
    pad = max(1, width - len(name))
    return m.group(1) + name + " " * pad + m.group(3).lstrip()


def normalize(text):
    n = Normalizer()
    return [n.line(l) for l in text.splitlines()]


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def text_files(d):
    return {f for f in os.listdir(d) if f.endswith(".txt") and f not in SIM_ONLY and not f.startswith(".")}


def order(names):
    return sorted(names, key=lambda f: (f != "transcript.txt", f))


def main():
    ap = argparse.ArgumentParser(description="Diff a swnetsim output folder against a real replay, after normalisation.")
    ap.add_argument("sim_dir")
    ap.add_argument("real_dir")
    ap.add_argument("-U", "--context", type=int, default=3, help="lines of context (default 3)")
    ap.add_argument("--normalized", action="store_true", help="print the normalised files instead of a diff")
    args = ap.parse_args()
    for d in (args.sim_dir, args.real_dir):
        if not os.path.isdir(d):
            sys.stderr.write("compare: %s is not a folder\n" % d)
            return 2
    sim, real = text_files(args.sim_dir), text_files(args.real_dir)
    if not sim and not real:
        sys.stderr.write("compare: no .txt files in either folder\n")
        return 2
    differ = False
    for name in order(sim | real):
        a = normalize(read(os.path.join(args.sim_dir, name))) if name in sim else []
        b = normalize(read(os.path.join(args.real_dir, name))) if name in real else []
        if args.normalized:
            for side, lines, present in (("sim", a, name in sim), ("real", b, name in real)):
                print("==> %s/%s%s" % (side, name, "" if present else " (missing)"))
                print("\n".join(lines))
            differ |= a != b or (name in sim) != (name in real)
            continue
        if name not in sim or name not in real:
            differ = True
            print("only in %s: %s" % ("sim" if name in sim else "real", name))
        diff = list(difflib.unified_diff(a, b, "sim/" + name, "real/" + name, n=args.context, lineterm=""))
        if diff:
            differ = True
            print("\n".join(diff))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
