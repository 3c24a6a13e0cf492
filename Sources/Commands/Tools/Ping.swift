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
        var broadcast = false
        var tos: UInt8 = 0
        var host = ""
    }

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
                case "n", "v", "U", "D", "A", "a": break
                case "b": o.broadcast = true
                case "c", "i", "W", "w", "s", "t", "Q":
                    chars = []
                    guard let v = value(String(f), inline) else { return bad("option requires an argument -- '\(f)'", 2) }
                    switch f {
                    case "c":
                        guard let n = Int(v), n >= 1 else {
                            return bad("invalid argument: '\(v)': out of range: 1 <= value <= 9223372036854775807")
                        }
                        o.count = n
                    case "i":
                        guard let t = SimTime.parseSeconds(v) else { return bad("bad timing interval: \(v)", 2) }
                        o.interval = t
                        o.intervalMS = t.ns / 1_000_000
                        if o.intervalMS < 10 && o.intervalMS != 0 {
                            return bad("cannot flood, minimal interval for user must be >= 10 ms, use -i 0.010 (or higher)", 2)
                        }
                    case "W":
                        guard let t = SimTime.parseSeconds(v) else { return bad("bad linger time: \(v)", 2) }
                        o.linger = t
                    case "w":
                        guard let t = SimTime.parseSeconds(v) else { return bad("invalid argument: '\(v)'", 1) }
                        o.deadline = t
                    case "s":
                        guard let n = Int(v), (0...65507).contains(n) else {
                            return bad("invalid argument: '\(v)': out of range: 0 <= value <= 2147483647")
                        }
                        o.size = n
                    case "t":
                        guard let n = Int(v), (1...255).contains(n) else {
                            return bad("invalid argument: '\(v)': out of range: 1 <= value <= 255")
                        }
                        o.ttl = UInt8(n)
                    case "Q":
                        guard let n = Int(v, radix: v.hasPrefix("0x") ? 16 : 10) ?? Int(v.dropFirst(2), radix: 16), (0...255).contains(n) else {
                            return bad("the decimal value of TOS bits must be in range 0-255: \(v)", 2)
                        }
                        o.tos = UInt8(n)
                    default: break
                    }
                default:
                    return bad("invalid option -- '\(f)'", 2)
                }
            }
        }
        guard let host = dest else { return bad("usage error: Destination address required") }
        o.host = host
        guard let addr = IPv4Address(host) else { return bad("\(host): Name or service not known", 2) }
        // iputils connect()s a UDP probe socket to learn the source address: routing errors
        // surface here, before anything is printed.
        let route: OutputRoute
        do {
            route = try ctx.namespace.routeOutput(to: addr)
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
        let p = Ping(ctx: ctx, opts: o, target: addr)
        p.begin()
        return .process(p)
    }

    private func begin() {
        ctx.println("PING \(opts.host) (\(target)) \(opts.size)(\(opts.size + 28)) bytes of data.")
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
        do {
            try socket.send(to: target, payload: payload(seq: seq), tos: opts.tos)
        } catch {
            // pinger(): a failed send (EPERM from a netfilter DROP or REJECT at OUTPUT) with
            // nothing on the error queue is a "local error": counted as transmitted, not
            // printed, not an error of the statistics line (observed on Linux 6.18).
        }
        ntransmitted += 1
        lastSend = ctx.now
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
            ctx.println(line)
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
            ctx.println("From \(e.offender) icmp_seq=\(inner.sequence) " + Ping.describe(type: e.type, code: e.code, info: e.info))
        }
        scheduleNext()
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
