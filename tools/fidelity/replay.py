#!/usr/bin/env python3
"""Replays a swnetsim scenario on the real kernel of this machine, inside network namespaces.

Each machine of the scenario becomes a namespace `fid_<machine>`; every step runs inside it
(`ip netns exec fid_host ...`), so the root namespace's interfaces, routes, sysctls and
firewall are never touched. Each underlay network (`networks:`) becomes a namespace
`fid_net_<network>` holding a bridge, with one veth per attached machine: its end in the
machine is the attachment's device, configured as the simulator boots it. Output: DIR/transcript.txt in the simulator's shape, and for each
capture DIR/NAME.txt (`tcpdump -r NAME.pcap -n`) and DIR/NAME.pcap.

Safety (see /work/shared/FIDELITY.md and README.md beside this file):
  - refuses to start if any namespace it would create already exists;
  - refuses steps that could reach outside its own namespaces (unknown programs, numeric or
    path `netns` targets, `ip -all netns`, `ip -batch`, `ip netns attach`, non-`net.` sysctls,
    namespaces the scenario did not create);
  - disables IPv6 in every namespace it creates;
  - bounds every foreground command (60 s), stops background ones by process group id, and
    deletes every namespace it created, also on errors, Ctrl-C and SIGTERM.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("replay.py: PyYAML is missing for %s (apt-get install python3-yaml)" % sys.executable)

NETNS_DIR = "/run/netns"
FOREGROUND_TIMEOUT = 60.0
CAPTURE_START_TIMEOUT = 5.0
STOP_GRACE = 5.0
NS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # never `-all`

# Programs a step may run. Everything here acts on the network namespace it runs in, or only
# on files and processes the harness controls. Anything else is refused.
ALLOWED = {
    "ip", "bridge", "brctl", "ping", "tcpdump", "sleep", "echo", "true", "false", "sysctl",
    "iptables", "iptables-save", "iptables-nft", "iptables-legacy", "ip6tables", "nft", "tc",
    "conntrack", "nc", "ncat", "arping", "traceroute", "tracepath", "arp", "route", "ifconfig",
    "ss", "netstat", "ethtool", "telnet", "printf", "xtables-monitor",
}

# Programs that may feed a pipe (they only print their arguments).
PIPE_SOURCES = {"echo", "printf"}

IPV6_OFF = ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
# The simulator models a stock host's tcp_rmem (window scale 7); kernels on big machines use
# a 32 MiB maximum (window scale 10). Every namespace of a replay gets the stock value.
TCP_RMEM = ["sysctl", "-qw", "net.ipv4.tcp_rmem=4096 131072 6291456"]

VERBOSE_LINE = "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"


class Refused(Exception):
    """The scenario (or one step) would break a safety rule; nothing is run for it."""


def warn(msg):
    sys.stderr.write("replay: %s\n" % msg)
    sys.stderr.flush()


# MARK: - Scenario


class Step:
    def __init__(self, index, text, machine, background, capture, status, typed=None):
        self.typed = typed
        self.pipe = []
        self.index = index
        self.text = text
        self.machine = machine
        self.background = background
        self.capture = capture
        self.status = status
        self.argv = []

    def where(self):
        return "step %d `%s`" % (self.index, self.text)


def scalar_text(v):
    # PyYAML turns `true`/`yes`/`5` into Python values; the simulator keeps the text.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def load_scenario(path):
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise Refused("%s: a scenario is a mapping with a `steps:` list" % path)
    machines = [scalar_text(m) for m in (data.get("machines") or ["host"])]
    steps = []
    for i, item in enumerate(data["steps"], 1):
        if isinstance(item, dict):
            text = scalar_text(item.get("run", ""))
            # YAML 1.1 (PyYAML) reads the key `on:` as the boolean true; the simulator's YAML
            # reader keeps it as the word "on".
            machine = item.get("machine", item.get("on", item.get(True)))
            machine = scalar_text(machine) if machine is not None else machines[0]
            if machine not in machines:
                raise Refused("%s: step %d: unknown machine `%s`" % (path, i, machine))
            bg = item.get("background", False)
            bg = bg if isinstance(bg, bool) else str(bg) in ("true", "yes", "on")
            capture = item.get("capture")
            status = int(item.get("status", 0))
            typed = item.get("input")
            typed = str(typed).split("\n") if typed is not None else None
            if typed and typed[-1] == "":
                typed.pop()
        else:
            text, machine, bg, capture, status, typed = scalar_text(item), machines[0], False, None, 0, None
        text = text.strip()
        if not text:
            raise Refused("%s: step %d has no command" % (path, i))
        steps.append(Step(i, text, machine, bg, scalar_text(capture) if capture is not None else None, status, typed))
    return data.get("name") or os.path.basename(path), machines, steps


DEV_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


class Attachment:
    def __init__(self, machine, device, address, gateway):
        self.machine = machine
        self.device = device
        self.address = address  # "A.B.C.D/LEN" or None
        self.gateway = gateway


def valid_ipv4(text):
    m = IPV4.match(text)
    return bool(m) and all(int(g) <= 255 for g in m.groups())


def parse_attachment(item, machines, where):
    """One `attach:` entry as the simulator's ScenarioLoader.parseAttachment reads it: the line
    "MACHINE DEVICE [ADDRESS/LEN] [via GATEWAY]" or a mapping {machine, device, address, gateway}."""
    if isinstance(item, dict):
        machine = scalar_text(item.get("machine", ""))
        device = scalar_text(item.get("device", "eth0"))
        address = scalar_text(item["address"]) if item.get("address") is not None else None
        gateway = scalar_text(item["gateway"]) if item.get("gateway") is not None else None
    else:
        w = scalar_text(item).split()
        if len(w) < 2:
            raise Refused("%s: an attachment reads MACHINE DEVICE [ADDRESS/LEN] [via GATEWAY]" % where)
        machine, device, address, gateway = w[0], w[1], None, None
        i = 2
        if i < len(w) and w[i] != "via":
            address = w[i]
            i += 1
        if i + 1 < len(w) and w[i] == "via":
            gateway = w[i + 1]
            i += 2
        if i != len(w):
            raise Refused("%s: unexpected `%s` in an attachment" % (where, w[i]))
    if machine not in machines:
        raise Refused("%s: unknown machine `%s`" % (where, machine))
    if not DEV_NAME.match(device):
        raise Refused("%s: device name `%s` is refused" % (where, device))
    if address is not None:
        addr, _, plen = address.partition("/")
        if not valid_ipv4(addr) or not plen.isdigit() or int(plen) > 32:
            raise Refused("%s: `%s` is not an address with a prefix length" % (where, address))
    if gateway is not None and not valid_ipv4(gateway):
        raise Refused("%s: `%s` is not an IPv4 address" % (where, gateway))
    return Attachment(machine, device, address, gateway)


def load_networks(path, machines):
    """The underlay networks of a scenario: [(name, [Attachment])] in declaration order."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    nets = []
    for i, n in enumerate(data.get("networks") or [], 1):
        if not isinstance(n, dict) or not n.get("name"):
            raise Refused("%s: network %d needs a name and attach" % (path, i))
        name = scalar_text(n["name"])
        if not NS_NAME.match(name) or len("fid_net_" + name) > 255:
            raise Refused("%s: network name `%s` cannot be part of a namespace name" % (path, name))
        where = "%s: network %s" % (path, name)
        attach = [parse_attachment(a, machines, where) for a in (n.get("attach") or [])]
        devices = [(a.machine, a.device) for a in attach]
        if len(set(devices)) != len(devices):
            raise Refused("%s: a machine's device is attached twice" % where)
        nets.append((name, attach))
    return nets


def shell_words(line):
    """Words of one step as the simulator's ShellWords reads them: quotes, backslashes, a
    comment at an unquoted `#` that starts a word, `|` between commands and a trailing `&`.
    Returns (argv, bg, pipe) where pipe lists the commands that feed argv's input."""
    words, cur, in_word, quote, i, bg = [], "", False, None, 0, False
    pipe = []
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = None
            elif quote == '"' and c == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`':
                i += 1
                cur += line[i]
            else:
                cur += c
            i += 1
            continue
        if c in " \t":
            if in_word:
                words.append(cur)
            cur, in_word = "", False
        elif c in "'\"":
            quote, in_word = c, True
        elif c == "\\":
            if i + 1 >= len(line):
                raise Refused("trailing backslash")
            i += 1
            cur += line[i]
            in_word = True
        elif c == "#" and not in_word:
            break
        elif c == "&":
            rest = line[i + 1:].strip()
            if rest and not rest.startswith("#"):
                raise Refused("only a trailing `&' is supported")
            bg = True
            break
        elif c == "|":
            if in_word:
                words.append(cur)
            cur, in_word = "", False
            if not words:
                raise Refused("syntax error near unexpected token `|'")
            pipe.append(words)
            words = []
        elif c in ";<>()":
            raise Refused("shell syntax `%s' is not supported (one command per step)" % c)
        else:
            cur += c
            in_word = True
        i += 1
    if quote:
        raise Refused("unexpected EOF while looking for matching `%s'" % quote)
    if in_word:
        words.append(cur)
    return words, bg, pipe


# MARK: - Reading commands the way the tools do


def strip_sudo(argv):
    while argv and argv[0] == "sudo":
        argv = argv[1:]
        while argv and argv[0].startswith("-"):
            argv = argv[1:]
    return argv


def prog_name(argv):
    return os.path.basename(argv[0]) if argv else ""


def is_prefix(word, full, minimum=1):
    return len(word) >= minimum and full.startswith(word)


class IpCommand:
    """The parts of an `ip` command line that matter for safety (iproute2's ip.c/ipnetns.c)."""

    NETNS_SUBS = ["list", "show", "lst", "list-id", "help", "add", "set", "delete", "identify",
                  "pids", "exec", "monitor", "attach"]

    def __init__(self, argv):
        self.netns_opt = None
        self.all = False
        self.batch = False
        self.obj = None
        self.sub = None
        self.rest = []
        i = 1
        while i < len(argv) and argv[i].startswith("-") and len(argv[i]) > 1:
            o = argv[i]
            if o.startswith("--"):
                o = o[1:]
            if is_prefix(o, "-loops", 2) or is_prefix(o, "-family", 2) or is_prefix(o, "-rcvbuf", 3):
                i += 1
            elif is_prefix(o, "-batch", 2):
                self.batch = True
                i += 1
            elif is_prefix(o, "-netns", 2):
                self.netns_opt = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            elif is_prefix(o, "-all", 2):
                self.all = True
            i += 1
        if i < len(argv):
            self.obj = argv[i]
            self.rest = argv[i + 1:]
        if self.is_netns() and self.rest:
            for s in self.NETNS_SUBS:
                if is_prefix(self.rest[0], s):
                    self.sub = {"show": "list", "lst": "list"}.get(s, s)
                    break
            self.rest = self.rest[1:]
        elif self.is_netns():
            self.sub = "list"

    def is_netns(self):
        return self.obj is not None and is_prefix(self.obj, "netns", 3)


def unwrap(argv):
    """Peels `sudo` and `ip netns exec NS` off a command: (namespaces entered, inner argv)."""
    chain = []
    argv = strip_sudo(argv)
    while prog_name(argv) == "ip":
        ip = IpCommand(argv)
        if not (ip.is_netns() and ip.sub == "exec" and not ip.all and ip.netns_opt is None and ip.rest):
            break
        chain.append(ip.rest[0])
        argv = strip_sudo(ip.rest[1:])
    return chain, argv


TCPDUMP_ARG_OPTS = set("bBcCEFGiMmrsTVwWyzZjQ")
TCPDUMP_LONG_ARG = {"--time-stamp-type", "--time-stamp-precision", "--direction", "--count",
                    "--interface", "--snapshot-length", "--buffer-size"}


class TcpdumpCommand:
    """tcpdump's options as getopt reads them (clusters, attached or separate arguments)."""

    def __init__(self, argv):
        self.argv = list(argv)
        self.opts = []  # (letter, value, index of the word holding the value, value attached?)
        self.verbose = 0
        self.link_header = False
        i = 1
        while i < len(argv):
            w = argv[i]
            if w == "--":
                break
            if w.startswith("--"):
                name = w.split("=", 1)[0]
                if name in TCPDUMP_LONG_ARG and "=" not in w:
                    i += 1
                if name == "--interface" and i < len(argv):
                    self.opts.append(("i", w.split("=", 1)[1] if "=" in w else argv[i], i, "=" in w))
                i += 1
                continue
            if w.startswith("-") and len(w) > 1:
                j = 1
                while j < len(w):
                    c = w[j]
                    if c in TCPDUMP_ARG_OPTS:
                        if j + 1 < len(w):
                            self.opts.append((c, w[j + 1:], i, True))
                        elif i + 1 < len(argv):
                            i += 1
                            self.opts.append((c, argv[i], i, False))
                        else:
                            self.opts.append((c, "", i, True))
                        break
                    if c == "v":
                        self.verbose += 1
                    elif c == "e":
                        self.link_header = True
                    else:
                        self.opts.append((c, None, i, False))
                    j += 1
            i += 1

    def value(self, letter):
        vals = [o[1] for o in self.opts if o[0] == letter]
        return vals[-1] if vals else None

    def has(self, letter):
        return any(o[0] == letter for o in self.opts)

    def is_live(self):
        return not any(o[0] in "rDhV" for o in self.opts) and not any(
            w in ("--version", "--help", "--list-time-stamp-types") for w in self.argv)

    def with_write_file(self, path):
        """The same command, writing every packet to `path` (a -w the user gave is redirected)."""
        out = list(self.argv)
        ws = [o for o in self.opts if o[0] == "w"]
        if not ws:
            return [out[0], "-w", path] + out[1:]
        for (_, value, idx, attached) in ws:
            out[idx] = out[idx][: len(out[idx]) - len(value)] + path if attached else path
        return out


def capture_stem(path):
    f = os.path.basename(path)
    for ext in (".pcap", ".pcapng", ".cap"):
        if f.endswith(ext):
            return f[: -len(ext)]
    return f


# MARK: - Safety checks


def netns_refs(argv):
    """Every namespace name an (unwrapped) command refers to, and why a command is refused."""
    prog = prog_name(argv)
    refs = []
    if prog not in ALLOWED:
        raise Refused("`%s` is not a program the harness runs (allowed: %s)" % (argv[0] if argv else "", " ".join(sorted(ALLOWED))))
    if prog == "ip":
        ip = IpCommand(argv)
        if ip.batch:
            raise Refused("`ip -batch` is refused: its commands cannot be checked")
        if ip.netns_opt is not None:
            refs.append(ip.netns_opt)
        if ip.is_netns():
            if ip.all:
                raise Refused("`ip -all netns` is refused: it acts on every namespace of the machine")
            if "-all" in ip.rest:
                raise Refused("`ip netns ... -all` is refused: it acts on every namespace of the machine")
            if ip.sub == "attach":
                raise Refused("`ip netns attach` is refused: it names another process's namespace")
            if ip.sub in ("add", "delete", "set", "exec", "pids") and ip.rest:
                refs.append(ip.rest[0])
        words = [] if ip.is_netns() else ip.rest
        for k, w in enumerate(words[:-1]):
            if w == "netns":
                target = words[k + 1]
                if target.isdigit() or "/" in target:
                    raise Refused("`netns %s` is refused: only namespaces the scenario created by name" % target)
                refs.append(target)
    elif prog == "sysctl":
        for w in argv[1:]:
            if w in ("-p", "--load", "--system", "-f") or w.startswith("--load=") or w.startswith("-p"):
                raise Refused("`sysctl %s` is refused: it loads settings from files" % w)
            if "=" in w and not w.startswith("-"):
                key = w.split("=", 1)[0].replace("/", ".")
                if not key.startswith("net."):
                    raise Refused("`sysctl %s` is refused: only per-namespace net.* keys may be written" % w)
    elif prog == "tcpdump":
        td = TcpdumpCommand(argv)
        if td.has("z"):
            raise Refused("`tcpdump -z` is refused: it runs a command on each saved file")
    return refs


def step_refs(argv):
    """(namespaces entered, inner command, every namespace the step names), checked."""
    chain, inner = unwrap(argv)
    refs = list(chain) + netns_refs(inner)
    for r in refs:
        if not NS_NAME.match(r):
            raise Refused("namespace name `%s` is refused" % r)
    return chain, inner, refs


def ns_exists(name):
    return os.path.exists(os.path.join(NETNS_DIR, name))


def prescan(machines, steps, networks=()):
    """Parses every step and checks the whole scenario before anything is created."""
    planned = {m: set() for m in machines}  # namespaces each machine's steps create
    owner = {}
    for m in machines:
        if not NS_NAME.match(m):
            raise Refused("machine name `%s` cannot be a namespace name" % m)
    for st in steps:
        try:
            argv, bg, pipe = shell_words(st.text)
        except Refused as e:
            raise Refused("%s: %s" % (st.where(), e))
        for cmd in pipe:
            if prog_name(strip_sudo(cmd)) not in PIPE_SOURCES:
                raise Refused("%s: only %s may feed a pipe" % (st.where(), ", ".join(sorted(PIPE_SOURCES))))
        st.argv = argv
        st.pipe = pipe
        st.background = st.background or bg
        if not strip_sudo(argv):
            continue
        try:
            chain, inner, refs = step_refs(argv)
        except Refused as e:
            raise Refused("%s: %s" % (st.where(), e))
        if prog_name(inner) == "ip":
            ip = IpCommand(inner)
            if ip.is_netns() and ip.sub == "add" and ip.rest:
                name = ip.rest[0]
                if name.startswith("fid_"):
                    raise Refused("%s: `fid_` names are the harness's own" % st.where())
                if owner.get(name, st.machine) != st.machine:
                    raise Refused("%s: namespace `%s` is created on two machines; namespace names are global on one kernel" % (st.where(), name))
                owner[name] = st.machine
                planned[st.machine].add(name)
        for r in refs:
            if r in owner and owner[r] != st.machine:
                raise Refused("%s: namespace `%s` belongs to machine %s" % (st.where(), r, owner[r]))
    will_create = ["fid_" + m for m in machines] + ["fid_net_" + n for n, _ in networks] + sorted(owner)
    existing = [n for n in will_create if ns_exists(n)]
    if existing:
        raise Refused("namespace(s) already exist: %s (left over from an earlier run? check `ip netns list`; "
                      "delete them only if they are yours)" % ", ".join(existing))
    return planned


# MARK: - Running


class Background:
    def __init__(self, step, proc, log_path, capture=None):
        self.step = step
        self.proc = proc
        self.log_path = log_path
        self.read_pos = 0
        self.capture = capture  # dict for tcpdump captures

    def new_output(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.read_pos)
                data = f.read()
        except OSError:
            return ""
        # Only whole lines, except once the process has ended.
        if self.proc.poll() is None and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            data = data[:cut]
        self.read_pos += len(data)
        return data.decode("utf-8", "replace")


def stdbuf_env():
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    for lib in ("/usr/libexec/coreutils/libstdbuf.so", "/usr/lib/coreutils/libstdbuf.so"):
        if os.path.exists(lib):
            # Line-buffered stdout, as on a terminal, so stdout and stderr interleave as typed.
            env["LD_PRELOAD"] = (lib + " " + env.get("LD_PRELOAD", "")).strip()
            env["_STDBUF_O"] = "L"
            env["_STDBUF_E"] = "0"
            break
    return env


def parse_seconds(word):
    m = re.match(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$", word)
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def stop(proc, first=signal.SIGINT):
    """Stops one process we started, by its process group id: Ctrl-C first, then SIGKILL."""
    if proc.poll() is not None:
        return
    kill_group(proc, first)
    try:
        proc.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        kill_group(proc, signal.SIGKILL)
        proc.wait()


class Replay:
    def __init__(self, scenario_path, out_dir, pause=0.0):
        self.path = scenario_path
        self.pause = pause
        self.out_dir = out_dir
        self.name, self.machines, self.steps = load_scenario(scenario_path)
        self.networks = load_networks(scenario_path, self.machines)
        self.planned = prescan(self.machines, self.steps, self.networks)
        self.multi = len(self.machines) > 1
        self.created = []          # namespaces this run created, in order
        self.owned = {m: [] for m in self.machines}  # scenario namespaces per machine
        self.background = []
        self.captures = []
        self.transcript = []
        self.mismatches = 0
        self.tmp = tempfile.mkdtemp(prefix="fidelity-")
        self.env = stdbuf_env()

    # MARK: namespaces

    def create_ns(self, name):
        if ns_exists(name):
            raise Refused("namespace %s appeared before it was created" % name)
        r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Refused("cannot create namespace %s: %s" % (name, r.stderr.strip()))
        self.created.append(name)
        self.disable_ipv6(name)

    def disable_ipv6(self, name):
        for setting in (IPV6_OFF, TCP_RMEM):
            r = subprocess.run(["ip", "netns", "exec", name] + setting, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                warn("could not set %s in %s: %s" % (" ".join(setting[2:]), name, r.stderr.strip()))

    def cleanup(self):
        for b in self.background:
            stop(b.proc, signal.SIGKILL)
        for name in reversed(self.created):
            if not ns_exists(name):
                continue
            r = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
            if r.returncode != 0:
                warn("could not delete namespace %s: %s -- delete it by hand: ip netns del %s" % (name, r.stderr.strip(), name))
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_refs(self, st, refs):
        """At run time: every namespace a step names is ours, or does not exist at all."""
        for r in refs:
            if r not in self.owned[st.machine] and ns_exists(r):
                raise Refused("%s: namespace `%s` exists but was not created by this scenario" % (st.where(), r))

    # MARK: transcript

    def out(self, text):
        if text:
            self.transcript.append(text)

    def flush_background(self):
        for b in self.background:
            self.out(self.fix_tcpdump_stderr(b, b.new_output()))

    def fix_tcpdump_stderr(self, b, text):
        if not b.capture or not text:
            return text
        # -w with -v prints "Got N\r" once a second; the user's command (no -w) would not.
        text = re.sub(r"Got \d+\r", "", text)
        if b.capture["banner_verbose"]:
            # Without -w and -v, tcpdump announces the suppressed decode and prints
            # "listening on" without its "tcpdump: " prefix (tcpdump.c); we added the -w.
            text = text.replace("tcpdump: listening on ", VERBOSE_LINE + "listening on ", 1)
        return text

    # MARK: steps

    def run(self):
        for m in self.machines:
            self.create_ns("fid_" + m)
        self.build_networks()
        for st in self.steps:
            if self.pause:
                time.sleep(self.pause)
                self.flush_background()
            self.run_step(st)
            self.flush_background()
        # The lab is over: Ctrl-C what still runs, other programs first, then captures, each in
        # the order it started (as the simulator's runner does).
        for group in ([b for b in self.background if not b.capture], [b for b in self.background if b.capture]):
            for b in group:
                stop(b.proc)
                self.out(self.fix_tcpdump_stderr(b, b.new_output()))
        self.write_output()

    def setup(self, ns, argv):
        """One command of the underlay's boot, inside namespace `ns` (always one of ours)."""
        assert ns in self.created
        r = subprocess.run(["ip", "netns", "exec", ns] + argv, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Refused("building the underlay: `%s` in %s failed: %s" % (" ".join(argv), ns, r.stderr.strip()))

    def build_networks(self):
        """The underlay as the simulator boots it (Runner.buildNetworks): per network a bridge
        br0 (no multicast snooping) in namespace fid_net_<network>; per attachment a veth whose end in the machine is
        the attachment's device, with its address (brd + below /31), up, a default route via
        the gateway; lo up in each attached machine once."""
        booted = set()
        for name, attach in self.networks:
            net = "fid_net_" + name
            self.create_ns(net)
            # Without multicast snooping: a snooping bridge joins 224.0.0.106 and floods its
            # IGMP report to every machine, which the simulator's ideal switch does not.
            self.setup(net, ["ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"])
            self.setup(net, ["ip", "link", "set", "br0", "up"])
            for k, a in enumerate(attach):
                mns = "fid_" + a.machine
                port = "p%d" % k
                self.setup(net, ["ip", "link", "add", port, "type", "veth", "peer", "name", a.device, "netns", mns])
                self.setup(net, ["ip", "link", "set", port, "master", "br0"])
                self.setup(net, ["ip", "link", "set", port, "up"])
                if a.address:
                    brd = ["brd", "+"] if int(a.address.split("/")[1]) < 31 else []
                    self.setup(mns, ["ip", "addr", "add", a.address] + brd + ["dev", a.device])
                self.setup(mns, ["ip", "link", "set", a.device, "up"])
                if a.gateway:
                    self.setup(mns, ["ip", "route", "add", "default", "via", a.gateway, "dev", a.device])
                if a.machine not in booted:
                    booted.add(a.machine)
                    self.setup(mns, ["ip", "link", "set", "lo", "up"])

    def command(self, st, chain, inner):
        argv = ["ip", "netns", "exec", "fid_" + st.machine]
        for ns in chain:
            argv += ["ip", "netns", "exec", ns]
        return argv + inner

    def run_step(self, st):
        self.out(("%s$ " % st.machine if self.multi else "$ ") + st.text + "\n")
        if not strip_sudo(st.argv):
            return
        chain, inner, refs = step_refs(st.argv)
        self.check_refs(st, refs)
        prog = prog_name(inner)
        ip = IpCommand(inner) if prog == "ip" else None

        if prog == "sleep" and not st.background:
            secs = parse_seconds(inner[1]) if len(inner) == 2 else None
            if secs is None:
                self.out("sleep: invalid time interval '%s'\n" % (inner[1] if len(inner) > 1 else ""))
                return self.status(st, 1)
            time.sleep(secs)
            return self.status(st, 0)

        if ip is not None and ip.is_netns() and ip.sub in ("add", "delete") and ip.netns_opt is None:
            # Named namespaces live in the root mount namespace's /run/netns: a nested
            # `ip netns exec` has a private mount namespace, so add/delete run from here.
            # Neither touches the root network namespace.
            rc, text = self.foreground(st, inner)
            name = ip.rest[0] if ip.rest else None
            if ip.sub == "add" and rc == 0 and name:
                self.created.append(name)
                self.owned[st.machine].append(name)
                self.disable_ipv6(name)
            if ip.sub == "delete" and rc == 0 and name in self.owned[st.machine]:
                self.owned[st.machine].remove(name)
                self.created.remove(name)
            self.out(text)
            return self.status(st, rc)

        argv = self.command(st, chain, inner)
        if prog == "tcpdump" and TcpdumpCommand(inner).is_live():
            # Like the simulator, a live tcpdump is a capture that runs beside the next steps.
            return self.start_capture(st, chain, inner)
        if st.background:
            log = os.path.join(self.tmp, "bg-%d.log" % st.index)
            with open(log, "wb") as f:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                        start_new_session=True, env=self.env)
            self.background.append(Background(st, proc, log))
            time.sleep(0.2)
            return
        if st.pipe:
            data = b""
            for cmd in st.pipe:
                data = subprocess.run(strip_sudo(cmd), input=data, capture_output=True).stdout
            rc, text = self.foreground(st, argv, stdin_data=data)
            self.out(text)
            return self.status(st, rc)
        if st.typed is not None:
            rc, text = self.typed_session(st, argv)
            self.out(text)
            return self.status(st, rc)
        rc, text = self.foreground(st, argv)
        if ip is not None and ip.is_netns() and ip.sub == "list":
            text = self.filter_netns_list(st, text)
        self.out(text)
        self.status(st, rc)

    def typed_session(self, st, argv):
        """A person at a terminal: a line a second (echoed, as the terminal shows what is
        typed), then for telnet ^] and quit. Output and echoes are merged in time order."""
        import threading
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, env=self.env)
        events = []
        lock = threading.Lock()

        def reader():
            while True:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    return
                with lock:
                    events.append((time.monotonic(), chunk.decode("utf-8", "replace")))

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        prog = prog_name(strip_sudo(unwrap(st.argv)[1]))
        try:
            for line in st.typed:
                time.sleep(1.0)
                if proc.poll() is not None:
                    break
                with lock:
                    events.append((time.monotonic(), line + "\n"))
                proc.stdin.write((line + "\n").encode())
                proc.stdin.flush()
            time.sleep(1.0)
            if proc.poll() is None and prog == "telnet":
                proc.stdin.write(b"\x1d")
                proc.stdin.flush()
                time.sleep(0.01)
                proc.stdin.write(b"quit\n")
                proc.stdin.flush()
            proc.stdin.close()
            proc.wait(timeout=FOREGROUND_TIMEOUT)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            stop(proc)
        t.join(timeout=2)
        text = "".join(chunk for _, chunk in sorted(events, key=lambda e: e[0]))
        # A pipe is not a terminal: show the escape and `quit` as a terminal echoes them.
        text = text.replace("\ntelnet> Connection closed.", "^]\ntelnet> quit\nConnection closed.")
        return proc.returncode, text.replace("\r\n", "\n")

    def foreground(self, st, argv, stdin_data=None):
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, env=self.env)
        try:
            data, _ = proc.communicate(input=stdin_data, timeout=FOREGROUND_TIMEOUT)
            note = ""
        except subprocess.TimeoutExpired:
            stop(proc)
            data, _ = proc.communicate()
            note = "[replay: interrupted after %d s]\n" % FOREGROUND_TIMEOUT
            warn("%s: still running after %d s, interrupted" % (st.where(), FOREGROUND_TIMEOUT))
        except BaseException:
            stop(proc, signal.SIGKILL)
            raise
        return proc.returncode, data.decode("utf-8", "replace") + note

    def filter_netns_list(self, st, text):
        # Other namespaces of this machine (other people's, and fid_*) are not part of the
        # scenario: the simulated machine has only the scenario's own.
        keep = set(self.owned[st.machine])
        return "".join(l for l in text.splitlines(True) if l.split(" ", 1)[0].strip() in keep)

    def status(self, st, rc):
        if rc != st.status:
            self.mismatches += 1
            warn("%s exited with status %d, expected %d" % (st.where(), rc, st.status))

    def start_capture(self, st, chain, inner):
        td = TcpdumpCommand(inner)
        iface = td.value("i") or "any"
        user_w = td.value("w")
        name = st.capture or (capture_stem(user_w) if user_w else iface)
        if st.capture is None and self.multi:
            name = "%s-%s" % (st.machine, name)
        taken = {c["name"] for c in self.captures}
        if name in taken:
            k = 2
            while "%s-%d" % (name, k) in taken:
                k += 1
            name = "%s-%d" % (name, k)
        pcap = os.path.join(self.tmp, name + ".pcap")
        cmd = td.with_write_file(pcap)
        if "--immediate-mode" not in cmd:
            # Without it libpcap hands packets over in blocks (up to 1 s late), and packets still
            # in the kernel's ring when the capture is stopped are counted but never written.
            cmd.insert(1, "--immediate-mode")
        argv = self.command(st, chain, cmd)
        log = os.path.join(self.tmp, "capture-%d.log" % st.index)
        with open(log, "wb") as f:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=self.env)
        cap = {"name": name, "pcap": pcap, "link_header": td.link_header, "verbose": td.verbose,
               "banner_verbose": user_w is None and td.verbose == 0}
        self.captures.append(cap)
        b = Background(st, proc, log, capture=cap)
        self.background.append(b)
        # Wait until the capture is live before the next step sends anything.
        deadline = time.monotonic() + CAPTURE_START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            with open(log, "rb") as f:
                if b"listening on" in f.read():
                    break
            time.sleep(0.02)
        else:
            if proc.poll() is None:
                warn("%s: tcpdump did not report `listening on` within %d s" % (st.where(), CAPTURE_START_TIMEOUT))
        if proc.poll() is not None and proc.returncode != st.status:
            self.status(st, proc.returncode)

    # MARK: output

    def write_output(self):
        out = os.path.abspath(self.out_dir)
        parent = os.path.dirname(out)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".%s.tmp-" % os.path.basename(out), dir=parent)
        try:
            with open(os.path.join(staging, "transcript.txt"), "w", encoding="utf-8") as f:
                f.write("".join(self.transcript))
            for c in self.captures:
                if not os.path.exists(c["pcap"]):
                    warn("capture %s wrote no pcap" % c["name"])
                    continue
                args = ["tcpdump", "-r", c["pcap"], "-n"]
                if c["link_header"]:
                    args.append("-e")
                if c["verbose"]:
                    args.append("-" + "v" * min(c["verbose"], 3))
                r = subprocess.run(args, capture_output=True, env=dict(os.environ, TZ="UTC", LC_ALL="C"), timeout=60)
                with open(os.path.join(staging, c["name"] + ".txt"), "wb") as f:
                    f.write(r.stdout)
                shutil.copyfile(c["pcap"], os.path.join(staging, c["name"] + ".pcap"))
            if os.path.exists(out):
                old = out + ".old-%d" % os.getpid()
                os.rename(out, old)
                os.rename(staging, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def main():
    ap = argparse.ArgumentParser(description="Replay a swnetsim scenario on the real kernel, inside namespaces fid_<machine>.")
    ap.add_argument("scenario")
    ap.add_argument("--out", required=True, help="output folder (transcript.txt, NAME.txt, NAME.pcap)")
    ap.add_argument("--check", action="store_true", help="only run the safety checks, create nothing")
    ap.add_argument("--pause", type=float, default=0.0, metavar="SECONDS",
                    help="wait this long before each step, as a person typing would (default 0: back to back)")
    args = ap.parse_args()
    try:
        replay = Replay(args.scenario, args.out, pause=max(0.0, args.pause))
    except Refused as e:
        warn("refused: %s" % e)
        return 2
    except (OSError, yaml.YAMLError) as e:
        warn(str(e))
        return 2
    if args.check:
        shutil.rmtree(replay.tmp, ignore_errors=True)
        print("ok: %d steps, namespaces fid_%s%s%s" % (len(replay.steps), ", fid_".join(replay.machines),
              "".join(", fid_net_" + n for n, _ in replay.networks),
              "".join(", " + n for ns in replay.planned.values() for n in sorted(ns))))
        return 0
    if os.geteuid() != 0:
        shutil.rmtree(replay.tmp, ignore_errors=True)
        warn("must run as root (network namespaces)")
        return 2

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    code = 0
    try:
        replay.run()
        code = 1 if replay.mismatches else 0
    except Refused as e:
        warn("refused: %s" % e)
        code = 2
    except KeyboardInterrupt:
        warn("interrupted; cleaning up")
        code = 130
    finally:
        # Cleanup must finish even if Ctrl-C is pressed again.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        replay.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
