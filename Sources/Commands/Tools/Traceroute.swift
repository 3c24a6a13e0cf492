// Traceroute: the "modern traceroute for Linux" 2.1.2 (Debian's `traceroute` package) on the
// virtual clock. Its main loop (do_it) is followed step by step:
// - probes are numbered hop by hop (nqueries per hop, from first_ttl) and sent in a sliding
//   window of `-N` (16) unanswered probes, all at once when they are due: the first window of
//   `traceroute HOST` is hops 1-5 and the first probe of hop 6;
// - the default method opens one UDP socket per probe (bound to an ephemeral port, IP_TTL,
//   IP_MTU_DISCOVER "dont", connected, IP_RECVERR) and sends 32 bytes of 0x40 + (i & 0x3f) to
//   port 33434 + probe number; -U sends to port 53 every time; -I sends ICMP echoes
//   (identifier = pid, sequence from 1) from one raw socket;
// - a probe is answered by the error on its socket's error queue (time exceeded: the hop;
//   unreachable: the end, with !H, !N, !X, !P, !F-mtu... for all but "port unreachable"), and
//   times out after min(MAX, HERE x the RTT of an answered probe of the same hop, NEAR x the
//   RTT of an answered later probe) (-w 5.0,3,10); expired probes print `*`;
// - the lines are printed as probes resolve, in order: "%2u " then " ADDR  %.3f ms" per probe
//   (the address again only when it changed), and the run stops at the hop that answered
//   with "port unreachable" (or any final error);
// - poll() waits ceil(timeout) milliseconds plus the kernel's 0.1% timer slack; RTTs are
//   differences of gettimeofday() and the error's SO_TIMESTAMP in microseconds.
// Observed on Linux 6.18 (see CommandsTests/TracerouteTests): the destination's ICMP rate
// limit answers only 6 of a window's probes; a second run right after sees `* * *` until the
// 5 s timeout lets new probes through.
// Leaves out: names (no DNS: without -n an address prints as "10.0.1.1 (10.0.1.1)"), -T/-D/
// -P/--mtu/--back/-e/-A/-g/-i/-r and IPv6; the ICMP method's probes carry DF (the raw socket
// model sets it; traceroute asks for "dont").

import SimCore
import NetKernel
import Wire

public final class Traceroute: SimProcess {
    enum Method { case udpDefault, udp, icmp }

    struct Options {
        var firstHop = 1
        var maxHops = 30
        var simProbes = 16
        var probesPerHop = 3
        var waitSecs = 5.0
        var hereFactor = 3.0
        var nearFactor = 10.0
        var sendSecs = 0.0
        var portSeq = 0
        var tos = 0
        var numeric = false
        var dontFragment = false
        var method = Method.udpDefault
        var packetLen: Int?
        var source: IPv4Address?
        /// -i: SO_BINDTODEVICE on every probe socket.
        var device: String?
        var host = ""
    }

    struct Probe {
        var done = false
        var final = false
        var res: IPv4Address?
        var sendTime = 0.0
        var recvTime = 0.0
        var recvTTL = 0
        var errStr = ""
        var seq = 0
        var socket: UDPSocket?
    }

    public let name = "traceroute"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    public let endsOnItsOwn = true

    private let ctx: ToolContext
    private let opts: Options
    private let target: IPv4Address
    private let headerLen: Int
    private let data: [UInt8]
    private var probes: [Probe]
    private var start = 0
    private var end = 0
    private var lastSend = 0.0
    private var currPort = 0
    private var icmpSeq = 1
    private var icmpIdent: UInt16 = 0
    private var icmpSocket: RawSocket?
    private var lastTTL = 0
    private var pollTimer: EventID?
    private var wakePending = false
    private var sending = false
    /// Answers in the sockets that poll() has not yet handed to the loop.
    private var replies: [Reply] = []

    struct Reply {
        var idx: Int
        var from: IPv4Address
        var ttl: Int
        var error: SocketError?
        var final: Bool
        var time: Double
    }
    private var running = false

    static let defaultStartPort = 33434
    static let defaultUDPPort = 53

    private init(ctx: ToolContext, opts: Options, target: IPv4Address) {
        self.ctx = ctx
        self.opts = opts
        self.target = target
        pid = ctx.machine.allocatePID()
        // header_len: IP header plus the method's own (UDP 8, ICMP none: its header is data).
        let methodHeader = opts.method == .icmp ? 0 : UDPHeader.headerLength
        headerLen = IPv4Header.minimumLength + methodHeader
        var dataLen = 0
        if let p = opts.packetLen {
            if p >= headerLen { dataLen = p - headerLen }
        } else {
            dataLen = 40 - methodHeader  // DEF_DATA_LEN
        }
        if opts.method == .icmp {
            dataLen = max(dataLen, ICMPv4Packet.headerLength)
            data = (0..<dataLen).map { $0 < 8 ? 0 : UInt8(0x40 + ($0 & 0x3f)) }
        } else {
            data = (0..<dataLen).map { UInt8(0x40 + ($0 & 0x3f)) }
        }
        probes = Array(repeating: Probe(), count: opts.maxHops * opts.probesPerHop)
        end = probes.count
        start = (opts.firstHop - 1) * opts.probesPerHop
    }

    // MARK: - Command line (libsupp/clif.c's parser and messages)

    static let usage = """
    Usage:
      traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]
    Options:
      -4                          Use IPv4
      -6                          Use IPv6
      -d  --debug                 Enable socket level debugging
      -F  --dont-fragment         Do not fragment packets
      -f first_ttl  --first=first_ttl
                                  Start from the first_ttl hop (instead from 1)
      -g gate,...  --gateway=gate,...
                                  Route packets through the specified gateway
                                  (maximum 8 for IPv4 and 127 for IPv6)
      -I  --icmp                  Use ICMP ECHO for tracerouting
      -T  --tcp                   Use TCP SYN for tracerouting (default port is 80)
      -i device  --interface=device
                                  Specify a network interface to operate with
      -m max_ttl  --max-hops=max_ttl
                                  Set the max number of hops (max TTL to be
                                  reached). Default is 30
      -N squeries  --sim-queries=squeries
                                  Set the number of probes to be tried
                                  simultaneously (default is 16)
      -n                          Do not resolve IP addresses to their domain names
      -p port  --port=port        Set the destination port to use. It is either
                                  initial udp port value for "default" method
                                  (incremented by each probe, default is 33434), or
                                  initial seq for "icmp" (incremented as well,
                                  default from 1), or some constant destination
                                  port for other methods (with default of 80 for
                                  "tcp", 53 for "udp", etc.)
      -t tos  --tos=tos           Set the TOS (IPv4 type of service) or TC (IPv6
                                  traffic class) value for outgoing packets
      -l flow_label  --flowlabel=flow_label
                                  Use specified flow_label for IPv6 packets
      -w MAX,HERE,NEAR  --wait=MAX,HERE,NEAR
                                  Wait for a probe no more than HERE (default 3)
                                  times longer than a response from the same hop,
                                  or no more than NEAR (default 10) times than some
                                  next hop, or MAX (default 5.0) seconds (float
                                  point values allowed too)
      -q nqueries  --queries=nqueries
                                  Set the number of probes per each hop. Default is
                                  3
      -r                          Bypass the normal routing and send directly to a
                                  host on an attached network
      -s src_addr  --source=src_addr
                                  Use source src_addr for outgoing packets
      -z sendwait  --sendwait=sendwait
                                  Minimal time interval between probes (default 0).
                                  If the value is more than 10, then it specifies a
                                  number in milliseconds, else it is a number of
                                  seconds (float point values allowed too)
      -e  --extensions            Show ICMP extensions (if present), including MPLS
      -A  --as-path-lookups       Perform AS path lookups in routing registries and
                                  print results directly after the corresponding
                                  addresses
      -M name  --module=name      Use specified module (either builtin or external)
                                  for traceroute operations. Most methods have
                                  their shortcuts (`-I' means `-M icmp' etc.)
      -O OPTS,...  --options=OPTS,...
                                  Use module-specific option OPTS for the
                                  traceroute module. Several OPTS allowed,
                                  separated by comma. If OPTS is "help", print info
                                  about available options
      --sport=num                 Use source port num for outgoing packets. Implies
                                  `-N 1'
      --fwmark=num                Set firewall mark for outgoing packets
      -U  --udp                   Use UDP to particular port for tracerouting
                                  (instead of increasing the port per each probe),
                                  default port is 53
      -UL                         Use UDPLITE for tracerouting (default dest port
                                  is 53)
      -D  --dccp                  Use DCCP Request for tracerouting (default port
                                  is 33434)
      -P prot  --protocol=prot    Use raw packet of protocol prot for tracerouting
      --mtu                       Discover MTU along the path being traced. Implies
                                  `-F -N 1'
      --back                      Guess the number of hops in the backward path and
                                  print if it differs
      -V  --version               Print version info and exit
      --help                      Read this help and exit

    Arguments:
    +     host          The host to traceroute to
          packetlen     The full packet length (default is the length of an IP
                        header plus 40). Can be ignored or increased to a minimal
                        allowed value
    """

    static let version = """
    Modern traceroute for Linux, version 2.1.2
    Copyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later
    """

    /// An option taking a value: short letter, long name and what clif.c calls its argument.
    static let valued: [(short: Character, long: String, arg: String)] = [
        ("f", "first", "first_ttl"), ("m", "max-hops", "max_ttl"), ("N", "sim-queries", "squeries"),
        ("p", "port", "port"), ("t", "tos", "tos"), ("w", "wait", "MAX,HERE,NEAR"),
        ("q", "queries", "nqueries"), ("s", "source", "src_addr"), ("z", "sendwait", "sendwait"),
        ("i", "interface", "device"),
    ]
    static let flags: [(short: Character, long: String?)] = [
        ("4", nil), ("n", nil), ("I", "icmp"), ("U", "udp"), ("F", "dont-fragment"), ("d", "debug"),
    ]

    /// strtoul(arg, &q, 0) that must consume everything (clif.c's set_uint).
    static func parseUInt(_ s: String) -> Int? {
        var t = Substring(s.drop { $0 == " " || $0 == "\t" })
        var neg = false
        if t.first == "+" { t = t.dropFirst() } else if t.first == "-" { neg = true; t = t.dropFirst() }
        var radix = 10
        if t.hasPrefix("0x") || t.hasPrefix("0X") { radix = 16; t = t.dropFirst(2) } else if t.count > 1 && t.hasPrefix("0") { radix = 8 }
        guard !t.isEmpty, let v = UInt32(t, radix: radix) else { return nil }
        return Int(neg ? 0 &- v : v)
    }

    /// strtod(arg, &q) of a prefix; returns the value and the rest.
    static func parseDouble(_ s: Substring) -> (Double, Substring)? {
        var k = s.startIndex
        var t = ""
        if k < s.endIndex, s[k] == "-" || s[k] == "+" { t.append(s[k]); k = s.index(after: k) }
        var digits = 0
        while k < s.endIndex, s[k].isASCII, s[k].isNumber || s[k] == "." { t.append(s[k]); k = s.index(after: k); digits += 1 }
        guard digits > 0, let v = Double(t) else { return nil }
        return (v, s[k...])
    }

    /// set_wait_specs(): "MAX[,HERE[,NEAR]]"; the factors not given become 0.
    static func parseWait(_ s: String, into o: inout Options) -> Bool {
        o.hereFactor = 0
        o.nearFactor = 0
        guard let (w, r1) = parseDouble(Substring(s)) else { return false }
        o.waitSecs = w
        if r1.isEmpty { return true }
        guard r1.first == ",", let (h, r2) = parseDouble(r1.dropFirst()) else { return false }
        o.hereFactor = h
        if r2.isEmpty { return true }
        guard r2.first == ",", let (n, r3) = parseDouble(r2.dropFirst()), r3.isEmpty else { return false }
        o.nearFactor = n
        return true
    }

    /// Parses arguments and starts; returns the process, or the exit status.
    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var o = Options()
        var positional: [(String, Int)] = []
        func fail(_ m: String) -> ShellOutcome { ctx.eprintln(m); return .finished(2) }
        func apply(_ opt: Character, _ v: String, argc: Int) -> Bool {
            switch opt {
            case "w": return parseWait(v, into: &o)
            case "s":
                guard let a = IPv4Address(v) else {
                    ctx.eprintln("\(v): Name or service not known")
                    return false
                }
                o.source = a
                return true
            case "i":
                o.device = v
                return true
            case "z":
                guard let (d, rest) = parseDouble(Substring(v)), rest.isEmpty else { return false }
                o.sendSecs = d
                return true
            default:
                guard let n = parseUInt(v) else { return false }
                switch opt {
                case "f": o.firstHop = n
                case "m": o.maxHops = n
                case "N": o.simProbes = n
                case "p": o.portSeq = n
                case "t": o.tos = n
                case "q": o.probesPerHop = n
                default: return false
                }
                return true
            }
        }
        func setFlag(_ f: Character) {
            switch f {
            case "n": o.numeric = true
            case "I": o.method = .icmp
            case "U": o.method = .udp
            case "F": o.dontFragment = true
            default: break
            }
        }
        if args.isEmpty {
            // CLIF_HELP_EMPTY: no arguments at all prints the help.
            ctx.eprintln(usage)
            return .finished(0)
        }
        var i = 0
        let argv = args
        while i < argv.count {
            let a = argv[i]
            let argc = i + 1  // clif.c counts argv[0]
            if a == "--help" {
                ctx.eprintln(usage)
                return .finished(0)
            }
            if a == "-V" || a == "--version" {
                ctx.println(version)
                return .finished(0)
            }
            if a.hasPrefix("--") && a.count > 2 {
                let body = a.dropFirst(2)
                let name = String(body.split(separator: "=", maxSplits: 1)[0])
                let inline = body.contains("=") ? String(body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[1]) : nil
                if let f = flags.first(where: { $0.long == name }) {
                    setFlag(f.short)
                } else if let v = valued.first(where: { $0.long == name }) {
                    // A long option takes its value joined by "=" only.
                    guard let value = inline else {
                        return fail("Option `--\(v.long)' (argc \(argc)) requires an argument: `--\(v.long)=\(v.arg)'")
                    }
                    guard apply(v.short, value, argc: argc) else {
                        return fail("Cannot handle `--\(v.long)' option with arg `\(value)' (argc \(argc))")
                    }
                } else {
                    return fail(inline.map { "Bad option `--\(name)' (with arg `\($0)') (argc \(argc))" } ?? "Bad option `\(a)' (argc \(argc))")
                }
                i += 1
                continue
            }
            if a.hasPrefix("-") && a.count > 1 {
                var chars = Array(a.dropFirst())
                while !chars.isEmpty {
                    let c = chars.removeFirst()
                    if flags.contains(where: { $0.short == c }) {
                        setFlag(c)
                    } else if let v = valued.first(where: { $0.short == c }) {
                        var value: String
                        var at = argc
                        if chars.isEmpty {
                            guard i + 1 < argv.count else {
                                return fail("Option `-\(c)' (argc \(argc)) requires an argument: `-\(c) \(v.arg)'")
                            }
                            i += 1
                            value = argv[i]
                            at = i + 1
                        } else {
                            value = String(chars)
                            chars = []
                        }
                        guard apply(c, value, argc: at) else {
                            return fail("Cannot handle `-\(c)' option with arg `\(value)' (argc \(at))")
                        }
                    } else {
                        return fail("Bad option `-\(c)' (argc \(argc))")
                    }
                }
                i += 1
                continue
            }
            positional.append((a, argc))
            i += 1
        }
        guard let (host, hostArgc) = positional.first else { return fail("Specify \"host\" missing argument.") }
        if positional.count > 2 {
            let (extra, at) = positional[2]
            return fail("Extra arg `\(extra)' (position 3, argc \(at))")
        }
        guard let target = IPv4Address(host) else {
            ctx.eprintln("\(host): Name or service not known")
            return fail("Cannot handle \"host\" cmdline arg `\(host)' on position 1 (argc \(hostArgc))")
        }
        o.host = host
        if positional.count == 2 {
            let (len, at) = positional[1]
            guard let n = Int(len) else {
                return fail("Cannot handle \"packetlen\" cmdline arg `\(len)' on position 2 (argc \(at))")
            }
            o.packetLen = n
        }
        if o.firstHop == 0 || o.firstHop > o.maxHops { return fail("first hop out of range") }
        if o.maxHops > 255 { return fail("max hops cannot be more than 255") }
        if o.probesPerHop == 0 || o.probesPerHop > 10 { return fail("no more than 10 probes per hop") }
        if o.waitSecs < 0 || o.hereFactor < 0 || o.nearFactor < 0 {
            return fail("bad wait specifications `\(cg(o.waitSecs)),\(cg(o.hereFactor)),\(cg(o.nearFactor))' used")
        }
        if let p = o.packetLen, p > 65000 { return fail("too big packetlen \(p) specified") }
        if o.sendSecs < 0 { return fail("bad sendtime `\(cg(o.sendSecs))' specified") }
        if o.sendSecs >= 10 { o.sendSecs /= 1000 }
        if o.simProbes == 0 { o.simProbes = 1 }

        let t = Traceroute(ctx: ctx, opts: o, target: target)
        if let status = t.begin() { return .finished(status) }
        return .process(t)
    }

    /// printf's %g for the few values these messages show.
    static func cg(_ v: Double) -> String {
        CFormat.format("%g", v)
    }

    // MARK: - Running

    /// print_header(), the method's init, then the first pass of the loop. Returns an exit
    /// status when it is all over already (an error, or nothing to wait for).
    private var boundDevice: NetDevice?

    private func begin() -> Int32? {
        ctx.out.stdout("traceroute to \(opts.host) (\(target)), \(opts.maxHops) hops max, \(headerLen + data.count) byte packets")
        currPort = opts.method == .udpDefault ? (opts.portSeq != 0 ? opts.portSeq : Traceroute.defaultStartPort)
            : (opts.portSeq != 0 ? opts.portSeq : Traceroute.defaultUDPPort)
        if let name = opts.device {
            // tune_socket(): SO_BINDTODEVICE fails for an unknown device.
            guard let d = ctx.namespace.device(named: name) else {
                ctx.out.stderr("\nsetsockopt SO_BINDTODEVICE: No such device\n")
                finish(1)
                return exitStatus
            }
            boundDevice = d
        }
        if opts.method == .icmp {
            if opts.portSeq != 0 { icmpSeq = opts.portSeq }
            icmpIdent = UInt16(truncatingIfNeeded: pid)
            let s = ctx.namespace.openRawSocket(proto: .icmp)
            s.boundDevice = boundDevice
            s.recvErr = true
            s.onReceive = { [weak self] p in self?.icmpReceived(p) }
            s.onError = { [weak self] e in self?.icmpError(e) }
            icmpSocket = s
        }
        running = true
        loop()
        return isFinished ? exitStatus : nil
    }

    /// The user-space time one probe takes to set up and send (measured on Linux 6.18, where
    /// the answers of a router two veths away arrive between consecutive probes).
    static let probeSetupTime = SimTime.microseconds(40)

    /// gettimeofday() as traceroute's get_time() turns it into a double.
    private func getTime() -> Double {
        let w = ctx.wallNow.ns
        return Double((w % 1_000_000_000) / 1000) / 1_000_000 + Double(w / 1_000_000_000)
    }

    /// Kernel-side wake-up: poll() returns because a socket has something. While a pass of
    /// the loop is still sending, the answer waits in its socket until that pass polls.
    private func wake() {
        guard running, !isFinished, !sending else { return }
        if let t = pollTimer {
            ctx.kernel.clock.cancel(t)
            pollTimer = nil
        }
        guard !wakePending else { return }
        wakePending = true
        ctx.kernel.clock.schedule(after: .zero) { [weak self] in
            guard let self else { return }
            self.wakePending = false
            self.takeReplies()
            self.loop()
        }
    }

    /// do_it(): the `while (start < end)` loop, up to the next poll() that has to wait.
    private func loop() {
        var spins = 0
        while !isFinished {
            guard start < end else {
                ctx.out.stdout("\n")  // print_end()
                finish(0)
                return
            }
            let q = opts.probesPerHop
            var num = 0
            var nextTime = 0.0
            let nowTime = getTime()
            var n = start
            while n < end {
                if n == start && !probes[n].done && probes[n].sendTime != 0 {
                    let expire = probes[n].sendTime + getTimeout(n)
                    if expire > nowTime {
                        nextTime = expire
                    } else {
                        probeDone(n)  // expire_probe()
                        checkExpired(n)
                    }
                }
                if probes[n].done {
                    if n == start {
                        printProbe(n)
                        start += 1
                    }
                    if probes[n].final { end = (n / q + 1) * q }
                    n += 1
                    continue
                }
                if probes[n].sendTime == 0 {
                    if opts.sendSecs > 0 && lastSend + opts.sendSecs > nowTime {
                        nextTime = lastSend + opts.sendSecs
                        break
                    }
                    sendProbe(n, ttl: n / q + 1)
                    if isFinished { return }
                    if probes[n].sendTime == 0 {
                        if nextTime != 0 { break }
                        fatal("send probe", .ENOBUFS)
                        return
                    }
                    lastSend = probes[n].sendTime
                    // Each UDP probe costs its own socket, options, connect() and send(): the
                    // answers of near hops come back while the next probes are being made.
                    if opts.method != .icmp {
                        sending = true
                        pollTimer = ctx.kernel.clock.schedule(after: Traceroute.probeSetupTime) { [weak self] in
                            guard let self else { return }
                            self.pollTimer = nil
                            self.sending = false
                            self.loop()
                        }
                        return
                    }
                }
                if nextTime == 0 { nextTime = probes[n].sendTime + getTimeout(n) }
                num += 1
                if num >= opts.simProbes { break }
                n += 1
            }
            if nextTime == 0 {
                // Nothing to wait for: do_it() goes round again (a guard against a model bug
                // spinning at one instant).
                spins += 1
                if spins < 1000 { continue }
                nextTime = getTime() + 0.001
            }
            // poll() returns at once for answers that came while this pass was sending.
            if !replies.isEmpty {
                takeReplies()
                continue
            }
            var timeout = nextTime - getTime()
            if timeout < 0 { timeout = 0 }
            // do_poll(): nothing to poll returns at once; else poll(ceil(ms)).
            let open = opts.method == .icmp ? 1 : probes.filter { $0.socket != nil }.count
            if open == 0 { continue }
            let ms = Int64((timeout * 1000).rounded(.up))
            if ms == 0 {
                spins += 1
                if spins < 1000 { continue }
            }
            // poll()'s hrtimer: the timeout plus the default 0.1% slack (50 us at least).
            let ns = max(ms, 1) * 1_000_000
            let slack = min(max(ns / 1000, 50_000), 100_000_000)
            pollTimer = ctx.kernel.clock.schedule(after: .nanoseconds(ns + slack)) { [weak self] in
                guard let self else { return }
                self.pollTimer = nil
                self.loop()
            }
            return
        }
    }

    /// get_timeout(): MAX, or HERE times an answered probe of the same hop, or NEAR times an
    /// answered later probe.
    private func getTimeout(_ idx: Int) -> Double {
        let q = opts.probesPerHop
        if opts.hereFactor != 0 {
            let first = idx - idx % q
            for p in first..<(first + q) where probes[p].done {
                var value = probes[p].recvTime - probes[p].sendTime
                if value > 0 {
                    value += 0.001  // DEF_WAIT_PREC
                    value *= opts.hereFactor
                    return value < opts.waitSecs ? value : opts.waitSecs
                }
            }
        }
        if opts.nearFactor != 0 {
            var p = idx + 1
            while p < probes.count && probes[p].sendTime != 0 {
                if probes[p].done {
                    var value = probes[p].recvTime - probes[p].sendTime
                    if value > 0 {
                        value += 0.001
                        value *= opts.nearFactor
                        return value < opts.waitSecs ? value : opts.waitSecs
                    }
                }
                p += 1
            }
        }
        return opts.waitSecs
    }

    /// check_expired(): an expired probe followed by a final answer that probably belongs at
    /// its place (the last hop answering only the later probes) takes that answer.
    private func checkExpired(_ idx: Int) {
        let q = opts.probesPerHop
        guard probes[idx].done else { return }
        var pfp: Int?
        for p in (idx - idx % q)..<idx {
            if !probes[p].done || !probes[p].final { return }
            pfp = p
        }
        var fp: Int?
        var p = idx + 1
        while p < probes.count && probes[p].sendTime != 0 {
            if probes[p].done {
                if !probes[p].final { return }
                fp = p
                break
            }
            p += 1
        }
        guard let f = fp else { return }
        guard !probes[f].errStr.isEmpty else { return }
        var replace = pfp != nil || (idx % q) + (f - idx) < q
        if !replace {
            replace = (0..<idx).reversed().contains { probes[$0].res != nil && probes[$0].res == probes[f].res }
        }
        if !replace && probes[f].recvTTL != 0 {
            var backHops = Traceroute.ttl2hops(probes[f].recvTTL)
            for p in (0..<idx).reversed() where probes[p].done && !probes[p].final && probes[p].recvTTL != 0 {
                let hops = Traceroute.ttl2hops(probes[p].recvTTL)
                if hops < backHops {
                    backHops = (backHops - hops) + (p / q + 1)
                    break
                }
            }
            replace = backHops <= idx / q + 1
        }
        guard replace else { return }
        probes[idx] = probes[f]
        probes[f] = Probe()
        probes[f].sendTime = 1  // block an extra re-send
    }

    static func ttl2hops(_ x: Int) -> Int { (x <= 64 ? 65 : (x <= 128 ? 129 : 256)) - x }

    /// print_probe().
    private func printProbe(_ idx: Int) {
        let q = opts.probesPerHop
        let ttl = idx / q + 1
        var np = idx % q
        var out = ""
        if np == 0 { out += "\n" + CFormat.padLeft(String(ttl), 2) + " " }
        let pb = probes[idx]
        if let res = pb.res {
            var prn = np == 0
            if np != 0 {
                var p = idx - 1
                while np != 0 && probes[p].res == nil { p -= 1; np -= 1 }
                if np == 0 || probes[p].res != res { prn = true }
            }
            if prn { out += opts.numeric ? " \(res)" : " \(res) (\(res))" }
        } else {
            out += " *"
        }
        if pb.recvTime != 0 {
            out += CFormat.format("  %.3f ms", (pb.recvTime - pb.sendTime) * 1000)
        }
        if !pb.errStr.isEmpty { out += " " + pb.errStr }
        ctx.out.stdout(out)
    }

    // MARK: - Probes

    private func sendProbe(_ idx: Int, ttl: Int) {
        if opts.method == .icmp {
            sendICMPProbe(idx, ttl: ttl)
            return
        }
        let ns = ctx.namespace
        let s = ns.openUDPSocket()
        s.boundDevice = boundDevice
        // tune_socket(): bind_socket() to the source (or any) and port 0, IP_MTU_DISCOVER,
        // IP_TOS; then IP_TTL, connect(), IP_RECVERR.
        do {
            try s.bind(address: opts.source ?? .any, port: 0)
        } catch let e as KernelError {
            s.close()
            fatal("bind", e.errno)
            return
        } catch { return }
        s.pmtuDiscovery = opts.dontFragment ? .probe : .dont
        s.tos = UInt8(truncatingIfNeeded: opts.tos)
        s.ttl = UInt8(truncatingIfNeeded: ttl)
        do {
            try s.connect(to: target, port: UInt16(truncatingIfNeeded: currPort))
        } catch let e as KernelError {
            s.close()
            fatal("connect", e.errno)
            return
        } catch { return }
        s.recvErr = true
        probes[idx].sendTime = getTime()
        do {
            try s.send(data)
        } catch let e as KernelError {
            switch e.errno {
            case .ENOBUFS, .EAGAIN:
                s.close()
                probes[idx].sendTime = 0
                return
            case .EMSGSIZE, .EHOSTUNREACH:
                break  // "recverr will say more"
            default:
                s.close()
                fatal("send", e.errno)
                return
            }
        } catch { return }
        probes[idx].socket = s
        probes[idx].seq = currPort
        s.onError = { [weak self, unowned s] e in self?.udpError(s, e) }
        s.onReceive = { [weak self, unowned s] _, from, port in self?.udpReply(s, from: from, port: port) }
        if opts.method == .udpDefault { currPort += 1 }
    }

    private func probeIndex(of s: UDPSocket) -> Int? {
        probes.firstIndex { $0.socket === s }
    }

    /// udp_check_reply() + recv_reply() for an error-queue message.
    private func udpError(_ s: UDPSocket, _ e: SocketError) {
        guard let idx = probeIndex(of: s), e.original.count >= 4,
              Int(e.original.u16(at: 2)) == probes[idx].seq else { return }
        recordReply(idx, from: e.offender, ttl: Int(s.lastTTL ?? 0), error: e)
    }

    /// udp_check_reply() + recv_reply() for a datagram: the destination answered.
    private func udpReply(_ s: UDPSocket, from: IPv4Address, port: UInt16) {
        guard let idx = probeIndex(of: s), Int(port) == probes[idx].seq else { return }
        recordReply(idx, from: from, ttl: Int(s.lastTTL ?? 0), error: nil, final: true)
    }

    /// The answer is stamped on arrival (SO_TIMESTAMP) and read when poll() next returns.
    private func recordReply(_ idx: Int, from: IPv4Address, ttl: Int, error: SocketError?, final: Bool = false) {
        replies.append(Reply(idx: idx, from: from, ttl: ttl, error: error, final: final, time: getTime()))
        wake()
    }

    /// recv_reply() for each answer waiting in the sockets, in arrival order.
    private func takeReplies() {
        let waiting = replies
        replies = []
        for r in waiting where !probes[r.idx].done {
            probes[r.idx].recvTime = r.time
            probes[r.idx].recvTTL = r.ttl
            probes[r.idx].res = r.from
            if r.final { probes[r.idx].final = true }
            if let e = r.error { parseICMPRes(r.idx, type: e.type, code: e.code, info: e.info) }
            probeDone(r.idx)
        }
    }

    /// parse_icmp_res(): the annotation and whether the probe ends the trace.
    private func parseICMPRes(_ idx: Int, type: UInt8, code: UInt8, info: UInt32) {
        var str: String?
        if type == 11 {
            if code == 0 { return }
        } else if type == 3 {
            switch code {
            case 0, 6, 8, 11: str = "!N"
            case 1, 7, 12: str = "!H"
            case 9, 10, 13: str = "!X"
            case 3: str = ""
            case 2: str = "!P"
            case 4: str = "!F-\(info)"
            case 5: str = "!S"
            case 14: str = "!V"
            case 15: str = "!C"
            default: str = "!<\(code)>"
            }
        }
        probes[idx].errStr = str ?? "!<\(type)-\(code)>"
        probes[idx].final = true
    }

    /// probe_done(): the probe's socket is closed.
    private func probeDone(_ idx: Int) {
        if let s = probes[idx].socket {
            s.close()
            probes[idx].socket = nil
        }
        probes[idx].seq = 0
        probes[idx].done = true
    }

    // MARK: - ICMP method (mod-icmp.c)

    private func sendICMPProbe(_ idx: Int, ttl: Int) {
        guard let s = icmpSocket else { return }
        if ttl != lastTTL {
            s.ttl = UInt8(truncatingIfNeeded: ttl)
            lastTTL = ttl
        }
        let seq = UInt16(truncatingIfNeeded: icmpSeq)
        let msg = ICMPv4Packet.echo(request: true, identifier: icmpIdent, sequence: seq, payload: Array(data[8...])).bytes
        probes[idx].sendTime = getTime()
        do {
            try s.send(to: target, payload: msg, tos: UInt8(truncatingIfNeeded: opts.tos))
        } catch let e as KernelError {
            switch e.errno {
            case .ENOBUFS, .EAGAIN:
                probes[idx].sendTime = 0
                return
            case .EMSGSIZE, .EHOSTUNREACH: break
            default:
                fatal("send", e.errno)
                return
            }
        } catch { return }
        probes[idx].seq = Int(seq)
        icmpSeq += 1
    }

    private func probeIndex(seq: Int) -> Int? {
        guard seq > 0 else { return nil }
        return probes.firstIndex { $0.seq == seq && !$0.done }
    }

    /// icmp_check_reply() for a packet on the raw socket: an echo reply from the target
    /// (the socket is connected to it) ends the trace.
    private func icmpReceived(_ p: Packet) {
        let o = p.network
        guard IPv4View.source(p.bytes, at: o) == target else { return }
        let ihl = IPv4View.headerLength(p.bytes, at: o)
        let icmp = o + ihl
        guard p.bytes.count >= icmp + 8, p.bytes[icmp] == 0,
              p.bytes.u16(at: icmp + 4) == icmpIdent,
              let idx = probeIndex(seq: Int(p.bytes.u16(at: icmp + 6))) else { return }
        recordReply(idx, from: target, ttl: Int(IPv4View.ttl(p.bytes, at: o)), error: nil, final: true)
    }

    private func icmpError(_ e: SocketError) {
        guard e.originalProto == .icmp, e.original.count >= 8, e.original.u16(at: 4) == icmpIdent,
              let idx = probeIndex(seq: Int(e.original.u16(at: 6))) else { return }
        recordReply(idx, from: e.offender, ttl: 0, error: e)
    }

    // MARK: - Ending

    /// error(): "\n" then perror(), exit 1.
    private func fatal(_ what: String, _ errno: Errno) {
        ctx.out.stderr("\n\(what): \(errno.message)\n")
        finish(1)
    }

    /// SIGINT: the default action; what was printed stays, nothing more is.
    public func interrupt() { finish(130) }

    private func finish(_ status: Int32) {
        guard !isFinished else { return }
        isFinished = true
        running = false
        if let t = pollTimer { ctx.kernel.clock.cancel(t) }
        pollTimer = nil
        for i in probes.indices {
            probes[i].socket?.close()
            probes[i].socket = nil
        }
        icmpSocket?.close()
        exitStatus = status
        onExit?(status)
    }
}
