// Ping: iputils ping (20221126, Debian) as root: a raw ICMP socket, PID as identifier, a
// timeval and the 0x10.. pattern as payload, and iputils' exact output and timing:
// - the next probe goes `interval` after the previous one; while a reply came back within the
//   same millisecond ping sleeps in recvmsg() on SO_RCVTIMEO, a jiffies timer, so the interval
//   stretches to the timer wheel's granularity (1.004-1.032 s at HZ=250); otherwise poll()
//   wakes on time (plus the kernel's 0.1% timer slack);
// - after the last probe ping waits max(2*tmax, interval) if something came back, else -W;
// - statistics computed in integer microseconds as iputils does.

import SimCore
import NetKernel
import Wire

public final class Ping: SimProcess {
    struct Options {
        var count: Int?
        var interval = SimTime.seconds(1)
        var intervalMS: Int64 = 1000
        var deadline: SimTime?
        var linger = SimTime.seconds(10)
        var size = 56
        var ttl: UInt8?
        var quiet = false
        /// -D: each reply line starts with the receive time as [seconds.microseconds].
        var timestamps = false
        var broadcast = false
        var tos: UInt8 = 0
        /// -M: IP_MTU_DISCOVER (nil: the system default, "want").
        var pmtu: PMTUDiscovery?
        var host = ""
        /// -I: a device (SO_BINDTODEVICE) or a source address (bind()).
        var device: NetDevice?
        var source: IPv4Address?
    }

    /// iputils 20221126's usage (stderr, exit 2) after a bad option or a missing argument.
    static let usage = """

        Usage
          ping [options] <destination>

        Options:
          <destination>      dns name or ip address
          -a                 use audible ping
          -A                 use adaptive ping
          -B                 sticky source address
          -c <count>         stop after <count> replies
          -C                 call connect() syscall on socket creation
          -D                 print timestamps
          -d                 use SO_DEBUG socket option
          -e <identifier>    define identifier for ping session, default is random for
                             SOCK_RAW and kernel defined for SOCK_DGRAM
                             Imply using SOCK_RAW (for IPv4 only for identifier 0)
          -f                 flood ping
          -h                 print help and exit
          -I <interface>     either interface name or address
          -i <interval>      seconds between sending each packet
          -L                 suppress loopback of multicast packets
          -l <preload>       send <preload> number of packages while waiting replies
          -m <mark>          tag the packets going out
          -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
          -n                 no dns name resolution
          -O                 report outstanding replies
          -p <pattern>       contents of padding byte
          -q                 quiet output
          -Q <tclass>        use quality of service <tclass> bits
          -s <size>          use <size> as number of data bytes to be sent
          -S <size>          use <size> as SO_SNDBUF socket option value
          -t <ttl>           define time to live
          -U                 print user-to-user latency
          -v                 verbose output
          -V                 print version and exit
          -w <deadline>      reply wait <deadline> in seconds
          -W <timeout>       time to wait for response

        IPv4 options:
          -4                 use IPv4
          -b                 allow pinging broadcast
          -R                 record route
          -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

        IPv6 options:
          -6                 use IPv6
          -F <flowlabel>     define flow label, default is random
          -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

        For more details see ping(8).
        """

    public let name = "ping"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    public var endsOnItsOwn: Bool { opts.count != nil || opts.deadline != nil }

    private let ctx: ToolContext
    private let opts: Options
    private let target: IPv4Address
    private let socket: RawSocket
    private let ident: UInt16
    private var ntransmitted = 0, nreceived = 0, nerrors = 0, nrepeats = 0
    private var tmin: Int64 = .max, tmax: Int64 = 0, tsum: Int64 = 0, tsum2: Double = 0
    private var pipesize = 0
    private var received = Set<Int>()
    private var startTime = SimTime.zero
    private var lastSend = SimTime.zero
    private var timer: EventID?
    private var exitTimer: EventID?
    private var deadlineTimer: EventID?

    private init(ctx: ToolContext, opts: Options, target: IPv4Address) {
        self.ctx = ctx
        self.opts = opts
        self.target = target
        self.pid = ctx.machine.allocatePID()
        self.ident = UInt16(truncatingIfNeeded: pid)
        self.socket = ctx.namespace.openRawSocket(proto: .icmp)
        socket.ttl = opts.ttl
        socket.broadcast = opts.broadcast
        if let m = opts.pmtu { socket.pmtuDiscovery = m }
        socket.boundDevice = opts.device
        socket.boundAddress = opts.source
        // ICMP_FILTER as iputils installs it: replies and the errors about our probes.
        socket.icmpFilter = [0, 3, 4, 5, 11, 12]
        socket.recvErr = true
    }

    /// Parses arguments and starts; returns the process, or the exit status of a setup error.
    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var o = Options()
        var it = args.makeIterator()
        var dest: String?
        func bad(_ m: String, _ status: Int32 = 1) -> ShellOutcome { ctx.eprintln("ping: " + m); return .finished(status) }
        func usage(_ m: String) -> ShellOutcome { ctx.eprintln("ping: " + m + "\n" + Ping.usage); return .finished(2) }
        var interfaceArg: String?
        func value(_ flag: String, _ inline: String) -> String? { inline.isEmpty ? it.next() : inline }
        while let a = it.next() {
            guard a.hasPrefix("-"), a.count > 1 else {
                if dest != nil { return bad("usage error: Only one destination is allowed", 2) }
                dest = a
                continue
            }
            var chars = Array(a.dropFirst())
            while !chars.isEmpty {
                let f = chars.removeFirst()
                let inline = String(chars)
                switch f {
                case "q": o.quiet = true
                case "n", "v", "U", "A", "a", "4": break
                case "D": o.timestamps = true
                case "b": o.broadcast = true
                case "h":
                    ctx.eprintln(Ping.usage)
                    return .finished(2)
                case "c", "i", "W", "w", "s", "t", "Q", "I", "M":
                    chars = []
                    guard let v = value(String(f), inline) else { return usage("option requires an argument -- '\(f)'") }
                    switch f {
                    case "c":
                        guard let n = Int(v) else { return bad("invalid argument: '\(v)'") }
                        guard n >= 1 else {
                            return bad("invalid argument: '\(v)': out of range: 1 <= value <= 9223372036854775807")
                        }
                        o.count = n
                    case "i":
                        guard let t = SimTime.parseSeconds(v) else { return bad("bad timing interval: \(v)", 2) }
                        o.interval = t
                        o.intervalMS = t.ns / 1_000_000
                        // The 10 ms minimum is for users other than root.
                    case "W":
                        guard let t = SimTime.parseSeconds(v) else { return bad("bad linger time: \(v)", 2) }
                        o.linger = t
                    case "w":
                        guard let t = SimTime.parseSeconds(v) else { return bad("invalid argument: '\(v)'", 1) }
                        o.deadline = t
                    case "s":
                        guard let n = Int(v) else { return bad("invalid argument: '\(v)'") }
                        guard (0...Int(Int32.max)).contains(n) else {
                            return bad("invalid argument: '\(v)': out of range: 0 <= value <= 2147483647")
                        }
                        o.size = n
                    case "t":
                        guard let n = Int(v) else { return bad("invalid argument: '\(v)'") }
                        guard (0...255).contains(n) else {
                            return bad("invalid argument: '\(v)': out of range: 0 <= value <= 255")
                        }
                        // setsockopt(IP_TTL, 0) is EINVAL, found once the socket is set up.
                        if n == 0 { return bad("cannot set unicast time-to-live: Invalid argument", 2) }
                        o.ttl = UInt8(n)
                    case "I": interfaceArg = v
                    case "M":
                        switch v {
                        case "do": o.pmtu = .do
                        case "dont": o.pmtu = .dont
                        case "want": o.pmtu = .want
                        default: return bad("invalid -M argument: \(v)", 2)
                        }
                    case "Q":
                        guard let n = Int(v, radix: v.hasPrefix("0x") ? 16 : 10) ?? Int(v.dropFirst(2), radix: 16), (0...255).contains(n) else {
                            return bad("the decimal value of TOS bits must be in range 0-255: \(v)", 2)
                        }
                        o.tos = UInt8(n)
                    default: break
                    }
                default:
                    return usage("invalid option -- '\(f)'")
                }
            }
        }
        guard let host = dest else { return bad("usage error: Destination address required") }
        o.host = host
        guard let addr = IPv4Address(host) else { return bad("\(host): Name or service not known", 2) }
        if let i = interfaceArg {
            if let a = IPv4Address(i) {
                guard ctx.namespace.isLocalAddress(a) else { return bad("bind: Cannot assign requested address", 2) }
                o.source = a
            } else {
                guard let d = ctx.namespace.device(named: i) else { return bad("SO_BINDTODEVICE \(i): No such device", 2) }
                o.device = d
            }
        }
        // iputils connect()s a UDP probe socket to learn the source address: routing errors
        // surface here, before anything is printed.
        let route: OutputRoute
        do {
            route = try ctx.namespace.routeOutput(to: addr, source: o.source, oif: o.device)
        } catch let e as KernelError {
            // iputils takes EACCES from connect() (a prohibit route, as for a broadcast
            // address without SO_BROADCAST) for a broadcast ping; with -b it warns and retries,
            // which fails the same way.
            if e.errno == .EACCES {
                if !o.broadcast { return bad("Do you want to ping broadcast? Then -b. If not, check your local firewall rules", 2) }
                ctx.eprintln("WARNING: pinging broadcast address")
            }
            return bad("connect: \(e.errno.message)", 2)
        } catch {
            return bad("connect: \(error)", 2)
        }
        if route.type == .broadcast && !o.broadcast {
            return bad("Do you want to ping broadcast? Then -b. If not, check your local firewall rules", 2)
        }
        if route.type == .broadcast { ctx.eprintln("WARNING: pinging broadcast address") }
        if let d = o.device, !d.addresses.contains(where: { $0.local == route.source }) {
            ctx.eprintln("ping: Warning: source address might be selected on device other than: \(d.name)")
        }
        if o.device != nil || o.source != nil { o.source = route.source }
        // connect() to 0.0.0.0 reaches this host: iputils shows and pings the address it got.
        let p = Ping(ctx: ctx, opts: o, target: addr.isZero ? route.nextHop : addr)
        p.begin()
        return .process(p)
    }

    private func begin() {
        var from = ""
        if let s = opts.source { from = "from \(s) \(opts.device?.name ?? ""): " }
        ctx.println("PING \(opts.host) (\(target)) \(from)\(opts.size)(\(opts.size + 28)) bytes of data.")
        socket.onReceive = { [weak self] p in self?.receive(p) }
        socket.onError = { [weak self] e in self?.receiveError(e) }
        startTime = ctx.now
        if let d = opts.deadline {
            deadlineTimer = ctx.kernel.clock.schedule(after: d) { [weak self] in self?.finish() }
        }
        send()
    }

    private var timing: Bool { opts.size >= 16 }

    private func payload(seq: Int) -> [UInt8] {
        var data = (0..<opts.size).map { UInt8(truncatingIfNeeded: $0) }
        if timing {
            let wall = ctx.wallNow
            let sec = UInt64(wall.ns / 1_000_000_000), usec = UInt64((wall.ns % 1_000_000_000) / 1000)
            for k in 0..<8 {
                data[k] = UInt8(truncatingIfNeeded: sec >> (8 * UInt64(k)))
                data[8 + k] = UInt8(truncatingIfNeeded: usec >> (8 * UInt64(k)))
            }
        }
        return ICMPv4Packet.echo(request: true, identifier: ident, sequence: UInt16(truncatingIfNeeded: seq), payload: data).bytes
    }

    private func send() {
        guard !isFinished else { return }
        let seq = ntransmitted + 1
        let errorsBefore = nerrors
        do {
            if opts.size + 8 > 65535 {
                // raw_sendmsg(): EMSGSIZE before anything is queued; iputils says nothing.
                throw KernelError(.EMSGSIZE)
            }
            if opts.size + 28 > 65535 {
                // ip_append_data(): the datagram exceeds the IP maximum; IP_RECVERR queues a
                // local error that iputils prints and counts.
                ctx.eprintln("ping: local error: message too long, mtu=65535")
                nerrors += 1
                throw KernelError(.EMSGSIZE)
            }
            try socket.send(to: target, payload: payload(seq: seq), tos: opts.tos)
        } catch let e as KernelError where e.errno == .EMSGSIZE && opts.pmtu == .do {
            // ip_append_data() with DF demanded: IP_RECVERR queues a local error naming the
            // path MTU, which iputils prints and counts.
            ctx.eprintln("ping: local error: message too long, mtu=\(e.extack ?? "")")
            nerrors += 1
        } catch {
            // pinger(): a failed send (EPERM from a netfilter DROP or REJECT at OUTPUT) with
            // nothing on the error queue is a "local error": counted as transmitted, not
            // printed, not an error of the statistics line (observed on Linux 6.18).
        }
        ntransmitted += 1
        lastSend = ctx.now
        if nerrors > errorsBefore {
            // pinger() returns the interval after an error it printed: the main loop polls
            // that long before it checks whether to exit (observed on Linux 6.18: `ping -c 1
            // -M do -s 1473` ends after 1.01 s, `-c 2` after 2.04 s).
            let m = ctx.machine
            timer = m.addTimer(expires: m.jiffiesNow + m.toJiffies(opts.interval)) { [weak self] in self?.wake() }
            return
        }
        scheduleNext()
    }

    /// What the main loop does after a send or a received packet: wait for the next probe
    /// time, or (after the last probe) for the exit timer.
    private func scheduleNext() {
        if let t = timer { ctx.kernel.clock.cancel(t); timer = nil }
        if let c = opts.count, nreceived + nerrors >= c { finish(); return }
        if let c = opts.count, ntransmitted >= c {
            armExit()
            return
        }
        let elapsedMS = (ctx.now - lastSend).ns / 1_000_000
        let next = opts.intervalMS - elapsedMS
        if next <= 0 { send(); return }
        if next >= opts.intervalMS {
            // Blocking recvmsg() with SO_RCVTIMEO: a jiffies timer on the wheel.
            let m = ctx.machine
            timer = m.addTimer(expires: m.jiffiesNow + m.toJiffies(.milliseconds(next))) { [weak self] in self?.wake() }
        } else {
            // poll(next ms): an hrtimer with the default 0.1% slack (50 us minimum).
            let ns = next * 1_000_000
            let slack = min(max(ns / 1000, 50_000), 100_000_000)
            timer = ctx.kernel.clock.schedule(after: .nanoseconds(ns + slack)) { [weak self] in self?.wake() }
        }
    }

    private func wake() {
        timer = nil
        scheduleNext()
    }

    private func armExit() {
        guard exitTimer == nil else { return }
        let wait: SimTime
        if nreceived > 0 {
            wait = max(SimTime.microseconds(2 * tmax), opts.interval)
        } else {
            wait = opts.linger
        }
        exitTimer = ctx.kernel.clock.schedule(after: wait) { [weak self] in self?.finish() }
    }

    private func acknowledge(_ seq: Int) {
        let p = ntransmitted - seq + 1
        if p > pipesize { pipesize = p }
    }

    private func receive(_ p: Packet) {
        guard !isFinished else { return }
        let o = p.network
        let ihl = IPv4View.headerLength(p.bytes, at: o)
        let end = o + IPv4View.totalLength(p.bytes, at: o)
        guard let (icmp, ok) = try? ICMPv4Packet.parse(p.bytes, at: o + ihl, end: end) else { return }
        if icmp.type != .echoReply {
            return // errors are read from the error queue (receiveError)
        }
        guard icmp.identifier == ident, IPv4View.source(p.bytes, at: o) == target || target.isLimitedBroadcast else { return }
        let seq = Int(icmp.sequence)
        nreceived += 1
        if ok { acknowledge(seq) }
        var triptime: Int64 = 0
        if timing && icmp.payload.count >= 16 {
            var sec: UInt64 = 0, usec: UInt64 = 0
            for k in (0..<8).reversed() {
                sec = sec << 8 | UInt64(icmp.payload[k])
                usec = usec << 8 | UInt64(icmp.payload[8 + k])
            }
            let recvUS = ctx.wallNow.ns / 1000
            triptime = max(0, recvUS - Int64(sec) * 1_000_000 - Int64(usec))
            tsum += triptime
            tsum2 += Double(triptime * triptime)
            tmin = min(tmin, triptime)
            tmax = max(tmax, triptime)
        }
        var dup = false
        if received.contains(seq) { nrepeats += 1; nreceived -= 1; dup = true } else { received.insert(seq) }
        if !opts.quiet {
            var line = "\(icmp.length) bytes from \(IPv4View.source(p.bytes, at: o)): icmp_seq=\(seq) ttl=\(IPv4View.ttl(p.bytes, at: o))"
            if timing { line += " time=" + Ping.formatRTT(triptime) + " ms" }
            if dup { line += " (DUP!)" }
            ctx.println(stamp() + line)
        }
        scheduleNext()
    }

    private func receiveError(_ e: SocketError) {
        guard !isFinished, e.originalProto == .icmp, e.original.count >= 8 else { return }
        guard let (inner, _) = try? ICMPv4Packet.parse(e.original, at: 0), inner.type == .echoRequest,
              inner.identifier == ident else { return }
        nerrors += 1
        acknowledge(Int(inner.sequence))
        if !opts.quiet {
            ctx.println(stamp() + "From \(e.offender) icmp_seq=\(inner.sequence) " + Ping.describe(type: e.type, code: e.code, info: e.info))
        }
        scheduleNext()
    }

    /// iputils print_timestamp() for -D.
    private func stamp() -> String {
        guard opts.timestamps else { return "" }
        let w = ctx.wallNow.ns
        let us = String((w % 1_000_000_000) / 1000)
        return "[\(w / 1_000_000_000).\(String(repeating: "0", count: 6 - us.count))\(us)] "
    }

    /// iputils pr_icmph() wording.
    static func describe(type: UInt8, code: UInt8, info: UInt32) -> String {
        switch type {
        case 3:
            let texts = ["Destination Net Unreachable", "Destination Host Unreachable", "Destination Protocol Unreachable",
                         "Destination Port Unreachable", "Frag needed and DF set (mtu = \(info))", "Source Route Failed",
                         "Destination Net Unknown", "Destination Host Unknown", "Source Host Isolated",
                         "Destination Net Prohibited", "Destination Host Prohibited",
                         "Destination Net Unreachable for Type of Service", "Destination Host Unreachable for Type of Service",
                         "Packet filtered", "Precedence Violation", "Precedence Cutoff"]
            return Int(code) < texts.count ? texts[Int(code)] : "Dest Unreachable, Bad Code: \(code)"
        case 11:
            return code == 0 ? "Time to live exceeded" : (code == 1 ? "Frag reassembly time exceeded" : "Time exceeded, Bad Code: \(code)")
        case 12: return "Parameter problem: pointer = \(info >> 24)"
        case 4: return "Source Quench"
        case 5: return "Redirect Host(New nexthop: ...)"
        default: return "Bad ICMP type: \(type)"
        }
    }

    /// iputils' four magnitudes of time=.
    static func formatRTT(_ t: Int64) -> String {
        if t >= 100_000 - 50 { return "\((t + 500) / 1000)" }
        if t >= 10_000 - 5 { return "\((t + 50) / 1000).\(((t + 50) % 1000) / 100)" }
        if t >= 1000 {
            let f = ((t + 5) % 1000) / 10
            return "\((t + 5) / 1000)." + (f < 10 ? "0" : "") + "\(f)"
        }
        return "\(t / 1000).\(pad3(t % 1000))"
    }

    static func pad3(_ v: Int64) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, 3 - s.count)) + s
    }

    public func interrupt() { finish() }

    private func finish() {
        guard !isFinished else { return }
        isFinished = true
        for t in [timer, exitTimer, deadlineTimer].compactMap({ $0 }) { ctx.kernel.clock.cancel(t) }
        socket.close()
        var out = "\n--- \(opts.host) ping statistics ---\n"
        out += "\(ntransmitted) packets transmitted, \(nreceived) received"
        if nrepeats > 0 { out += ", +\(nrepeats) duplicates" }
        if nerrors > 0 { out += ", +\(nerrors) errors" }
        if ntransmitted > 0 {
            let loss = Float(Double(ntransmitted - nreceived) * 100.0 / Double(ntransmitted))
            let elapsed = lastSend - startTime
            let ms = 1000 * (elapsed.ns / 1_000_000_000) + (elapsed.ns % 1_000_000_000 + 500_000) / 1_000_000
            out += CFormat.format(", %g%% packet loss", Double(loss)) + ", time \(ms)ms"
        }
        out += "\n"
        var comma = ""
        if nreceived > 0 && timing {
            let total = Int64(nreceived + nrepeats)
            let avg = tsum / total
            let variance: Int64 = tsum < Int64(Int32.max)
                ? Int64((tsum2 - Double((tsum * tsum) / total)) / Double(total))
                : Int64(tsum2 / Double(total)) - avg * avg
            let mdev = Ping.llsqrt(variance)
            func f(_ v: Int64) -> String { "\(v / 1000).\(Ping.pad3(v % 1000))" }
            out += "rtt min/avg/max/mdev = \(f(tmin))/\(f(avg))/\(f(tmax))/\(f(mdev)) ms"
            comma = ", "
        }
        if pipesize > 1 { out += "\(comma)pipe \(pipesize)" }
        out += "\n"
        ctx.out.stdout(out)
        exitStatus = nreceived == 0 || (opts.deadline != nil && opts.count != nil && nreceived < opts.count!) ? 1 : 0
        onExit?(exitStatus)
    }

    /// Newton's integer square root, as iputils computes mdev.
    static func llsqrt(_ a: Int64) -> Int64 {
        var prev = Int64.max
        var x = a
        if x > 0 {
            while x < prev {
                prev = x
                x = (x + a / x) / 2
            }
        }
        return x
    }
}
