// Netcat: OpenBSD netcat as Debian ships it (1.219): `nc -l [-p] PORT`, `nc HOST PORT`, -u,
// -z, -v, -w, -N, -q, -k, -s, with its messages. Data read from the network goes to standard
// output; standard input (a pipe or typed lines) goes to the network.
// As on Linux: without -N (or -q) the connection stays open after the input ends, so
// `echo hello | nc HOST PORT` only ends when the other side closes, or after -w seconds
// without traffic (poll()'s timeout in readwrite()); `nc -lk` serves one client after another.

import SimCore
import NetKernel
import Wire

public final class Netcat: SimProcess {
    struct Options {
        var listen = false
        var udp = false
        var zero = false
        var verbose = false
        var keep = false
        var shutdownOnEOF = false
        var quitAfterEOF: SimTime?
        var timeout: SimTime?
        var sourcePort: UInt16?
        var sourcePortText: String?
        var sourceAddress: IPv4Address?
        var host: String?
        var port: UInt16?
        /// Destination ports in scan order (a LOW-HIGH range with -z).
        var ports: [UInt16] = []
    }

    public let name = "nc"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    public var endsOnItsOwn: Bool { true }
    public var stallHint: String? {
        opts.listen ? "a listening nc waits for a client: run it in the background with a trailing &"
            : "nc keeps the connection open after its input ends: add -N (or -q 0) to close it, or run it in the background"
    }

    private let ctx: ToolContext
    private let opts: Options
    private var listener: TCPSocket?
    private var conn: TCPSocket?
    private var timer: EventID?
    private var pendingInput: [UInt8] = []
    private var inputDone = false

    private init(ctx: ToolContext, opts: Options) {
        self.ctx = ctx
        self.opts = opts
        pid = ctx.machine.allocatePID()
    }

    static let usage = """
    usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
    \t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
    \t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
    \t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
    \t  [destination] [port]
    """

    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var o = Options()
        var positional: [String] = []
        var it = args.makeIterator()
        func fail(_ m: String, usage: Bool = false) -> ShellOutcome {
            ctx.eprintln("nc: " + m)
            if usage { ctx.eprintln(Netcat.usage) }
            return .finished(1)
        }
        if args.isEmpty {
            ctx.eprintln(Netcat.usage)
            return .finished(1)
        }
        while let a = it.next() {
            guard a.hasPrefix("-"), a.count > 1 else { positional.append(a); continue }
            var chars = Array(a.dropFirst())
            while !chars.isEmpty {
                let f = chars.removeFirst()
                switch f {
                case "l": o.listen = true
                case "u": o.udp = true
                case "z": o.zero = true
                case "v": o.verbose = true
                case "k": o.keep = true
                case "N": o.shutdownOnEOF = true
                case "n", "4", "d", "D", "C": break
                case "p", "w", "q", "s":
                    let inline = String(chars)
                    chars = []
                    guard let v = inline.isEmpty ? it.next() : inline else {
                        return fail("option requires an argument -- '\(f)'", usage: true)
                    }
                    switch f {
                    case "p":
                        o.sourcePortText = v
                    case "w":
                        guard let t = SimTime.parseSeconds(v) else { return fail("timeout invalid: \(v)") }
                        o.timeout = t
                    case "q":
                        guard let t = SimTime.parseSeconds(v) else { return fail("quit timer invalid: \(v)") }
                        o.quitAfterEOF = t
                    default:
                        guard let s = IPv4Address(v) else { return fail("getaddrinfo for host \"\(v)\" port 0: Name or service not known") }
                        o.sourceAddress = s
                    }
                case "I", "i", "M", "m", "O", "P", "T", "V", "W", "X", "x":
                    // Options with an argument that are not modelled.
                    if chars.isEmpty && it.next() == nil {
                        return fail("option requires an argument -- '\(f)'", usage: true)
                    }
                    return fail("invalid option -- '\(f)'", usage: true)
                default:
                    return fail("invalid option -- '\(f)'", usage: true)
                }
            }
        }
        if let v = o.sourcePortText {
            guard let p = Netcat.localPort(v, udp: o.udp) else { return fail("getaddrinfo: Servname not supported for ai_socktype") }
            o.sourcePort = p
        }
        if o.listen {
            if let p = positional.last, positional.count == 1 {
                guard let n = Netcat.localPort(p, udp: o.udp) else { return fail("getaddrinfo: Servname not supported for ai_socktype") }
                o.port = n
            } else if positional.isEmpty, let p = o.sourcePort {
                o.port = p
            } else {
                return fail("missing port number")
            }
        } else {
            guard positional.count == 2 else { return fail("missing port number") }
            o.host = positional[0]
            let text = positional[1]
            if let dash = text.firstIndex(of: "-"), dash != text.startIndex {
                // build_ports(): LOW-HIGH, either order, each 1-65535.
                guard let a = UInt16(text[..<dash]), let b = UInt16(text[text.index(after: dash)...]), a > 0, b > 0 else {
                    return fail("port range not valid")
                }
                o.ports = Array(min(a, b)...max(a, b))
            } else if let n = Int(text) {
                guard n >= 1 else { return fail("port number too small: \(text)") }
                guard n <= 65535 else { return fail("port number too large: \(text)") }
                o.ports = [UInt16(n)]
            } else if let n = NameDB.servicePort(text, proto: o.udp ? "udp" : "tcp") {
                o.ports = [n]
            } else {
                return fail("port number invalid: \(text)")
            }
            if !o.zero { o.ports = [o.ports[0]] }
            o.port = o.ports[0]
            guard IPv4Address(positional[0]) != nil else {
                return fail("getaddrinfo for host \"\(positional[0])\" port \(o.port!): Name or service not known")
            }
        }
        let nc = Netcat(ctx: ctx, opts: o)
        return o.udp ? nc.beginUDP() : nc.begin()
    }

    private func begin() -> ShellOutcome {
        switch ctx.input {
        case .pipe(let bytes)?:
            pendingInput = bytes
            inputDone = true
        case .typed(let lines)?:
            scheduleTyped(lines)
        case nil:
            // A listener in the background reads /dev/null; a client's terminal stays open.
            inputDone = opts.listen
        }
        let ns = ctx.namespace
        if opts.listen {
            let s = ns.openTCPSocket()
            s.reuseAddress = true
            s.reusePort = true
            do {
                try s.bind(address: opts.sourceAddress ?? .any, port: opts.port!)
                try s.listen(backlog: 1)
            } catch let e as KernelError {
                ctx.eprintln("nc: \(e.errno.message)")
                s.close()
                return .finished(1)
            } catch {
                return .finished(1)
            }
            listener = s
            s.onAccept = { [unowned self] c in self.accepted(c) }
            return .process(self)
        }
        return connectNext() ? .process(self) : .finished(anySucceeded ? 0 : 1)
    }

    private var portIndex = 0
    private var anySucceeded = false
    private var currentPort: UInt16 { opts.ports.isEmpty ? opts.port! : opts.ports[portIndex] }

    /// The next port of the list after one is done: its connection, or the end.
    private func nextPort() {
        portIndex += 1
        if portIndex < opts.ports.count {
            if !connectNext() { finish(anySucceeded ? 0 : 1) }
        } else {
            finish(anySucceeded ? 0 : 1)
        }
    }

    /// remote_connect() to the current port; false when it failed at once (and was reported).
    private func connectNext() -> Bool {
        let ns = ctx.namespace
        let dst = IPv4Address(opts.host!)!
        let s = ns.openTCPSocket()
        conn = s
        if opts.sourceAddress != nil || opts.sourcePort != nil {
            do {
                try s.bind(address: opts.sourceAddress ?? .any, port: opts.sourcePort ?? 0)
            } catch let e as KernelError {
                ctx.eprintln("nc: bind failed: \(e.errno.message)")
                s.close()
                return false
            } catch {
                return false
            }
        }
        do {
            try s.connect(to: dst, port: currentPort)
        } catch let e as KernelError {
            if opts.verbose {
                ctx.eprintln("nc: connect to \(dst) port \(currentPort) (tcp) failed: \(e.errno.message)")
            }
            s.close()
            if portIndex + 1 < opts.ports.count {
                portIndex += 1
                return connectNext()
            }
            return false
        } catch {
            return false
        }
        s.onConnected = { [unowned self] in self.connected() }
        s.onError = { [unowned self] e in self.connectFailed(e) }
        if let t = opts.timeout {
            timer = ctx.kernel.clock.schedule(after: t) { [unowned self] in
                self.timer = nil
                if self.conn?.state == .synSent {
                    if self.opts.verbose {
                        self.ctx.eprintln("nc: connect to \(dst) port \(self.currentPort) (tcp) timed out: Operation now in progress")
                    }
                    self.conn?.abort()
                    self.nextPort()
                }
            }
        }
        return true
    }

    // MARK: - UDP

    private var udp: UDPSocket?
    private var idleTimer: EventID?

    /// -u: datagrams. A client sends each piece of input as one datagram; a listener talks to
    /// the first peer that writes to it. -w ends an idle session (the only way one ends).
    private func beginUDP() -> ShellOutcome {
        let s = ctx.namespace.openUDPSocket()
        udp = s
        s.onReceive = { [unowned self] data, from, port in
            if self.opts.listen, self.peerConnected == false {
                self.peerConnected = true
                try? s.connect(to: from, port: port)
            }
            self.ctx.out.stdout(Terminal.render(data))
            self.touch()
        }
        // A port unreachable answer makes the next read fail with ECONNREFUSED, which nc takes
        // as the end of the network side: with its input at an end too, it exits (status 0).
        s.onErrorReport = { [unowned self] _ in
            if self.inputDone { self.finish(0) } else { self.networkDone = true }
        }
        do {
            if opts.listen {
                try s.bind(address: opts.sourceAddress ?? .any, port: opts.port!)
            } else {
                if opts.sourceAddress != nil || opts.sourcePort != nil {
                    try s.bind(address: opts.sourceAddress ?? .any, port: opts.sourcePort ?? 0)
                }
                try s.connect(to: IPv4Address(opts.host!)!, port: opts.port!)
                if opts.zero {
                    s.onReceive = nil
                    s.onErrorReport = nil
                    udpTest(s, write: 0, ok: true)
                    return .process(self)
                }
                if opts.verbose {
                    ctx.eprintln("Connection to \(opts.host!) \(opts.port!) port [udp/\(Netcat.service(opts.port!, udp: true))] succeeded!")
                }
            }
        } catch let e as KernelError {
            ctx.eprintln("nc: \(e.errno.message)")
            s.close()
            return .finished(1)
        } catch {
            return .finished(1)
        }
        switch ctx.input {
        case .pipe(let bytes)?:
            inputDone = true
            if !bytes.isEmpty, !opts.listen { _ = try? s.send(bytes) }
        case .typed(let lines)?:
            for (i, l) in lines.enumerated() {
                ctx.kernel.clock.schedule(after: .seconds(Int64(i + 1))) { [weak self] in
                    guard let self, !self.isFinished else { return }
                    self.ctx.println(l)
                    _ = try? s.send(Array((l + "\n").utf8))
                    self.touch()
                }
            }
        case nil:
            break
        }
        touch()
        return .process(self)
    }

    /// udptest(): up to four one-byte writes; a port unreachable back before the next one
    /// (sk_err: ECONNREFUSED) fails it and the scan, silently (one datagram on the wire, as
    /// observed on Linux 6.18). On Linux the round trip
    /// over veth pairs runs in the softirq of the first write(), so the answer is always in
    /// time there, even with an ARP exchange first; the writes here are 40 us apart, so that
    /// the model's veth round trips (8 us a hop, ARP included) end before the last one.
    private func udpTest(_ s: UDPSocket, write n: Int, ok: Bool) {
        guard n < 4 && ok else {
            s.close()
            if ok && opts.verbose {
                ctx.eprintln("Connection to \(opts.host!) \(opts.port!) port [udp/\(Netcat.service(opts.port!, udp: true))] succeeded!")
            }
            finish(ok ? 0 : 1)
            return
        }
        var sent = true
        do { try s.send(Array("X".utf8)) } catch { sent = false }
        ctx.kernel.clock.schedule(after: n == 3 ? .zero : .microseconds(40)) { [weak self] in
            self?.udpTest(s, write: n + 1, ok: sent)
        }
    }

    private var peerConnected = false
    private var networkDone = false

    /// -w: the session ends after this long without traffic.
    private func touch() {
        guard let w = opts.timeout else { return }
        if let t = idleTimer { ctx.kernel.clock.cancel(t) }
        idleTimer = ctx.kernel.clock.schedule(after: w) { [weak self] in
            guard let self, !self.isFinished else { return }
            self.idleTimer = nil
            self.udp?.close()
            self.conn?.close()
            self.sessionEnded()
        }
    }

    private func scheduleTyped(_ lines: [String]) {
        for (i, l) in lines.enumerated() {
            ctx.kernel.clock.schedule(after: .seconds(Int64(i + 1))) { [weak self] in
                guard let self, !self.isFinished else { return }
                self.ctx.println(l)
                self.write(Array((l + "\n").utf8))
                if i == lines.count - 1 { self.inputEnded() }
            }
        }
        if lines.isEmpty { inputDone = true }
    }

    private func write(_ bytes: [UInt8]) {
        if let c = conn, c.state == .established || c.state == .closeWait {
            try? c.send(bytes)
            touch()
        } else {
            pendingInput += bytes
        }
    }

    private func inputEnded() {
        inputDone = true
        afterInputEnd()
    }

    /// What -N and -q do once standard input has ended.
    private func afterInputEnd() {
        guard let c = conn, c.state == .established || c.state == .closeWait else { return }
        if opts.shutdownOnEOF { c.shutdownWrite() }
        if let q = opts.quitAfterEOF {
            ctx.kernel.clock.schedule(after: q) { [weak self] in
                guard let self, !self.isFinished else { return }
                self.conn?.close()
                self.finish(0)
            }
        }
    }

    /// Connections accepted while another is being served (-k takes them in turn).
    private var waiting: [TCPSocket] = []

    private func accepted(_ c: TCPSocket) {
        guard conn == nil else {
            // nc serves one client at a time: later ones wait in the backlog.
            waiting.append(c)
            return
        }
        conn = c
        if !opts.keep { listener?.close(); listener = nil }
        attach(c)
        touch()
        flushInput()
    }

    /// The current connection is over: a -k listener goes back to accept(); nc otherwise exits.
    private func sessionEnded() {
        if opts.listen && opts.keep && listener != nil {
            conn = nil
            if let t = idleTimer { ctx.kernel.clock.cancel(t); idleTimer = nil }
            if !waiting.isEmpty { accepted(waiting.removeFirst()) }
            return
        }
        finish(0)
    }

    private func connected() {
        if let t = timer { ctx.kernel.clock.cancel(t); timer = nil }
        guard let c = conn else { return }
        anySucceeded = true
        if opts.zero {
            if opts.verbose {
                ctx.eprintln("Connection to \(opts.host!) \(currentPort) port [tcp/\(Netcat.service(currentPort))] succeeded!")
            }
            c.close()
            nextPort()
            return
        }
        if opts.verbose {
            ctx.eprintln("Connection to \(opts.host!) \(opts.port!) port [tcp/\(Netcat.service(opts.port!))] succeeded!")
        }
        attach(c)
        touch()
        flushInput()
    }

    private func flushInput() {
        guard let c = conn else { return }
        if !pendingInput.isEmpty {
            try? c.send(pendingInput)
            pendingInput = []
            touch()
        }
        if inputDone { afterInputEnd() }
    }

    private func attach(_ c: TCPSocket) {
        c.onData = { [unowned self] bytes in
            self.ctx.out.stdout(Terminal.render(bytes))
            self.touch()
        }
        c.onPeerClosed = { [unowned self, unowned c] in
            // The peer is done; with standard input at its end too, nc exits.
            c.close()
            if self.conn === c { self.sessionEnded() }
        }
        c.onError = { [unowned self, unowned c] e in
            if e.errno != .ECONNRESET || self.opts.verbose { self.ctx.eprintln("nc: read(net): \(e.errno.message)") }
            if self.opts.listen && self.opts.keep && self.conn === c {
                self.sessionEnded()
                return
            }
            self.finish(1)
        }
    }

    private func connectFailed(_ e: KernelError) {
        if let t = timer { ctx.kernel.clock.cancel(t); timer = nil }
        // remote_connect() warns only with -v; without it a refused port is just exit status 1.
        if opts.verbose {
            ctx.eprintln("nc: connect to \(opts.host!) port \(currentPort) (tcp) failed: \(e.errno.message)")
        }
        conn?.close()
        nextPort()
    }

    public func interrupt() {
        conn?.close()
        listener?.close()
        udp?.close()
        finish(opts.listen ? 0 : 1)
    }

    private func finish(_ status: Int32) {
        guard !isFinished else { return }
        isFinished = true
        exitStatus = status
        if let t = timer { ctx.kernel.clock.cancel(t) }
        if let t = idleTimer { ctx.kernel.clock.cancel(t) }
        listener?.close()
        udp?.close()
        for c in waiting { c.close() }
        waiting = []
        onExit?(status)
    }

    /// /etc/services names nc -v prints.
    /// /etc/services' name for a port, "*" when it has none.
    static func service(_ port: UInt16, udp: Bool = false) -> String {
        NameDB.serviceName(port, proto: udp ? "udp" : "tcp") ?? "*"
    }

    /// A port nc binds (the listening port, or -p): unlike a destination port it goes straight
    /// to getaddrinfo(), which takes a service name, or a number that glibc's strtoul() reads
    /// and truncates to 16 bits (`nc -l 70000` listens on 4464, as observed with
    /// netcat-openbsd 1.219). Nil: no such service.
    static func localPort(_ text: String, udp: Bool) -> UInt16? {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // strtoul() saturates at ULONG_MAX, whose low 16 bits are 65535.
            guard let n = UInt64(text) else { return 65535 }
            return UInt16(truncatingIfNeeded: n)
        }
        return NameDB.servicePort(text, proto: udp ? "udp" : "tcp")
    }
}

/// How a terminal shows bytes a program writes: CR LF ends a line like LF.
enum Terminal {
    static func render(_ bytes: [UInt8]) -> String {
        var b: [UInt8] = []
        b.reserveCapacity(bytes.count)
        for (i, x) in bytes.enumerated() {
            if x == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { continue }
            b.append(x)
        }
        return String(decoding: b, as: UTF8.self)
    }
}
