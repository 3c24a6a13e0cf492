// Telnet: GNU inetutils telnet 2.4 (what Debian's `telnet` is now) as a client to a plain
// TCP service, with its argument errors: "Trying", "Connected to",
// the escape character line, typed lines sent with CR LF, and the way a session ends:
// "Connection closed by foreign host." when the server closes, or ^] then `quit` when the
// person has typed everything (the step's `input:` lines).

import SimCore
import NetKernel
import Wire

public final class Telnet: SimProcess {
    public let name = "telnet"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    public var endsOnItsOwn: Bool { true }
    public var stallHint: String? { "give the session `input:` lines; after the last one it is closed with ^] quit" }

    private let ctx: ToolContext
    private let host: String
    private let socket: TCPSocket
    private var lines: [String] = []

    private init(ctx: ToolContext, host: String, socket: TCPSocket) {
        self.ctx = ctx
        self.host = host
        self.socket = socket
        pid = ctx.machine.allocatePID()
    }

    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var positional: [String] = []
        for a in args {
            guard a.hasPrefix("-"), a.count > 1 else { positional.append(a); continue }
            for c in a.dropFirst() where !"468EKLacdFfrx".contains(c) {
                // argp's complaint (inetutils 2.4), exit 64 (EX_USAGE).
                ctx.eprintln("telnet: invalid option -- '\(c)'")
                ctx.eprintln("Try 'telnet --help' or 'telnet --usage' for more information.")
                return .finished(64)
            }
        }
        guard let host = positional.first else {
            ctx.println("Usage: telnet [-4] [-6] [-8] [-E] [-L] [-a] [-d] [-e char] [-l user]")
            return .finished(1)
        }
        guard positional.count <= 2 else {
            ctx.eprintln("telnet: too many arguments")
            return .finished(1)
        }
        var port: UInt16 = 23
        let portText = positional.count == 2 ? positional[1] : "telnet"
        if positional.count == 2 {
            if let n = Int(portText) {
                guard (1...65535).contains(n) else {
                    ctx.println("Port number \(portText) is out of range.")
                    return .finished(1)
                }
                port = UInt16(n)
            } else if let n = NameDB.servicePort(portText, proto: "tcp") {
                port = n
            } else {
                ctx.println("Server lookup failure:  \(host):\(portText), Servname not supported for ai_socktype")
                return .finished(1)
            }
        }
        guard let addr = IPv4Address(host) else {
            ctx.println("Server lookup failure:  \(host):\(portText), Name or service not known")
            return .finished(1)
        }
        ctx.println("Trying \(addr)...")
        let s = ctx.namespace.openTCPSocket()
        let t = Telnet(ctx: ctx, host: host, socket: s)
        if case .typed(let l)? = ctx.input { t.lines = l }
        do {
            try s.connect(to: addr, port: port)
        } catch let e as KernelError {
            ctx.eprintln("telnet: Unable to connect to remote host: \(e.errno.message)")
            return .finished(1)
        } catch {
            return .finished(1)
        }
        s.onConnected = { [unowned t] in t.connected(addr) }
        s.onError = { [unowned t] e in
            if t.socket.state == .close && !t.wasConnected {
                t.ctx.eprintln("telnet: Unable to connect to remote host: \(e.errno.message)")
                t.finish(1)
            } else {
                t.ctx.eprintln("Connection closed by foreign host.")
                t.finish(1)
            }
        }
        return .process(t)
    }

    private var wasConnected = false

    private func connected(_ addr: IPv4Address) {
        wasConnected = true
        ctx.println("Connected to \(host).")
        ctx.println("Escape character is '^]'.")
        socket.onData = { [unowned self] b in self.ctx.out.stdout(Terminal.render(b)) }
        socket.onPeerClosed = { [unowned self] in
            self.ctx.eprintln("Connection closed by foreign host.")
            self.socket.close()
            self.finish(0)
        }
        // The person types a line a second, then leaves with ^] and quit.
        for (i, l) in lines.enumerated() {
            ctx.kernel.clock.schedule(after: .seconds(Int64(i + 1))) { [weak self] in
                guard let self, !self.isFinished else { return }
                self.ctx.println(l)
                try? self.socket.send(Array((l + "\r\n").utf8))
            }
        }
        ctx.kernel.clock.schedule(after: .seconds(Int64(lines.count + 1))) { [weak self] in
            guard let self, !self.isFinished else { return }
            self.quit()
        }
    }

    private func quit() {
        ctx.println("^]")
        ctx.println("telnet> quit")
        ctx.println("Connection closed.")
        socket.close()
        finish(0)
    }

    public func interrupt() {
        if wasConnected && !isFinished { quit() } else { socket.close(); finish(1) }
    }

    private func finish(_ status: Int32) {
        guard !isFinished else { return }
        isFinished = true
        exitStatus = status
        onExit?(status)
    }
}
