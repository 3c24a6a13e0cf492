// TCPSocket: struct tcp_sock and the socket calls a program makes (net/ipv4/af_inet.c,
// tcp.c: bind, listen, connect, sendmsg, recvmsg, shutdown, close). A userland tool drives it
// through callbacks instead of blocking calls: onAccept, onConnected, onData, onPeerClosed,
// onError, onClosed.
// Guarantees: errors a call detects at once are thrown (EADDRINUSE, EADDRNOTAVAIL, EINVAL,
// EISCONN, ENETUNREACH/EHOSTUNREACH/EACCES/EINVAL from the route); errors that come later
// (ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH from ICMP) arrive through onError once,
// after which the socket is in CLOSE. A socket with onData set reads as soon as data arrives
// (a program blocked in read()); without it data waits in the receive queue for read().
// Leaves out: socket options other than SO_REUSEADDR/SO_REUSEPORT/TCP_NODELAY, SO_LINGER
// other than abort(), MSG_PEEK/OOB, blocking semantics (a tool sequences its own steps).

import SimCore
import Wire

public final class TCPSocket {
    public unowned(unsafe) let namespace: NetNamespace
    /// Creation order in the namespace (stable ordering for listings).
    public let id: Int
    public internal(set) var state: TCPState = .close {
        didSet {
            if oldValue != state {
                namespace.kernel.trace(namespace, nil, .socket,
                    "tcp: \(describe) \(oldValue.kernelName) -> \(state.kernelName)")
            }
        }
    }
    public internal(set) var localAddress = IPv4Address.any
    public internal(set) var localPort: UInt16 = 0
    public internal(set) var remoteAddress = IPv4Address.any
    public internal(set) var remotePort: UInt16 = 0

    /// SO_REUSEADDR, SO_REUSEPORT (nc sets both on its listening socket), TCP_NODELAY.
    public var reuseAddress = false
    public var reusePort = false
    public var noDelay = false

    /// A listener's new connection, ESTABLISHED (accept() returning). Without it, new
    /// connections wait in `acceptQueue` for accept().
    public var onAccept: ((TCPSocket) -> Void)?
    /// The handshake of connect() completed.
    public var onConnected: (() -> Void)?
    /// Bytes in order as they arrive (the program reads them at once).
    public var onData: (([UInt8]) -> Void)?
    /// The peer's FIN: read() would now return 0 (EOF).
    public var onPeerClosed: (() -> Void)?
    /// A connection error (sk_err): ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH...
    public var onError: ((KernelError) -> Void)?
    /// The socket reached CLOSE (or TIME-WAIT) for good.
    public var onClosed: (() -> Void)?

    /// The error that ended the connection, if any (SO_ERROR).
    public internal(set) var error: KernelError?
    /// sk_err_soft: an ICMP error kept until the retransmissions time out.
    var softError: Errno?

    // MARK: Socket-level state

    var bindBucketPort: UInt16?
    var boundByBind = false
    var userBound = false
    /// The program closed it (the socket is an orphan that finishes on its own).
    public internal(set) var isClosedByUser = false
    /// Gone from every table.
    public internal(set) var isGone = false
    var hashed = false
    var backlog = 0
    /// Children in SYN-RECV (request socks) and children waiting to be accepted.
    var pendingChildren = 0
    public internal(set) var acceptQueue: [TCPSocket] = []
    /// A listener's children still in SYN-RECV.
    var requestSocks: [Int: TCPSocket] = [:]
    weak var listener: TCPSocket?
    /// Data received but not read (only when onData is nil).
    public internal(set) var receiveQueue: [UInt8] = []
    /// Truesize charged for received data the program has not read yet (sk_rmem_alloc).
    var rmemCharged = 0
    var shutdownSend = false
    var shutdownReceive = false
    /// inet_sk(sk)->inet_id: the IP id counter of a connected socket.
    var ipID: UInt16 = 0

    // MARK: Send sequence space

    var iss: UInt32 = 0
    var sndUna: UInt32 = 0
    var sndNxt: UInt32 = 0
    /// The peer's window in bytes (already scaled).
    var sndWnd: UInt32 = 0
    var sndWl1: UInt32 = 0
    var maxWindow: UInt32 = 0
    /// Bytes written and not yet acknowledged, starting at sequence `sndBufSeq`.
    var sndBuf: [UInt8] = []
    var sndBufSeq: UInt32 = 0
    /// write_seq: the sequence after the last byte written.
    var writeSeq: UInt32 = 0
    /// Sent segments not yet fully acknowledged (the retransmit queue).
    var inFlight: [TCPSentSegment] = []
    /// The FIN's sequence number once shutdown queued it.
    var finSeq: UInt32?
    var finSent = false
    /// Minshall's Nagle: the end of the last small segment sent.
    var sndSml: UInt32 = 0
    var cwnd: UInt32 = 10
    var ssthresh: UInt32 = 0x7fff_ffff
    /// Our MSS for sending: the peer's MSS option, less our options (mss_cache).
    var mssCache = 536
    /// What we advertise (tp->advmss).
    var advmss = 1460
    var peerMSS = 536

    // MARK: Receive sequence space

    var irs: UInt32 = 0
    var rcvNxt: UInt32 = 0
    var rcvWnd: UInt32 = 0
    var rcvWup: UInt32 = 0
    var rcvSsthresh: UInt32 = 0
    var windowClamp: UInt32 = 0
    var rcvWscale: UInt8 = 0
    var sndWscale: UInt8 = 0
    var wscaleOK = false
    var sackOK = false
    var tsOK = false
    var tsRecent: UInt32 = 0
    var tsOffset: UInt32 = 0
    /// tp->scaling_ratio: the share of sk_rcvbuf that becomes window (128/256 at start).
    var scalingRatio: UInt32 = 128
    var rcvbuf = 131072
    /// One-shot D-SACK block for the next ACK (a duplicate segment arrived).
    var dsack: TCPSackBlock?

    // MARK: Delayed ACK (struct inet_connection_sock icsk_ack)

    var ackPending: UInt8 = 0
    var ackQuick: UInt32 = 0
    var ackPingpong = 0
    /// ato in jiffies (0 until the first data segment).
    var ackATO: Int64 = 0
    var ackLrcvtime: Int64 = 0
    var ackTimeout: Int64 = 0
    var rcvMss = 536
    var lastSegSize = 0
    var delackTimer: EventID?

    // MARK: Retransmission

    /// icsk_rto in jiffies.
    var rto: Int64 = 250
    var retransmits = 0
    var backoff = 0
    var totalRTO = 0
    var retransmitTimer: EventID?
    /// Smoothed RTT in microseconds << 3 and its deviation (tcp_rtt_estimator).
    var srttUS: Int64 = 0
    var mdevUS: Int64 = 0
    var mdevMaxUS: Int64 = 0
    var rttvarUS: Int64 = 0
    var synSentAt: SimTime?
    var timeWaitTimer: EventID?
    var finWait2Timer: EventID?

    init(namespace: NetNamespace) {
        self.namespace = namespace
        self.id = namespace.tcp.nextSocketID
        namespace.tcp.nextSocketID += 1
    }

    var kernel: Kernel { namespace.kernel }
    var config: TCPNetConfig { namespace.ipv4.tcp }
    var tuple: TCPFourTuple {
        TCPFourTuple(localAddress: localAddress, localPort: localPort, remoteAddress: remoteAddress, remotePort: remotePort)
    }
    var describe: String { "\(localAddress):\(localPort)-\(remoteAddress):\(remotePort)" }

    /// Bytes written by the program and not yet acknowledged by the peer.
    public var unacknowledgedBytes: Int { sndBuf.count }

    // MARK: - bind / listen / connect

    /// Kernel: inet_bind() in net/ipv4/af_inet.c -> inet_csk_get_port(). Port 0 picks a free one.
    public func bind(address: IPv4Address = .any, port: UInt16) throws {
        guard state == .close, !userBound, bindBucketPort == nil, !isClosedByUser else { throw KernelError(.EINVAL) }
        let ns = namespace
        if !address.isZero && !ns.isLocalAddress(address) && !address.isMulticast && !address.isLimitedBroadcast {
            throw KernelError(.EADDRNOTAVAIL)
        }
        localAddress = address
        var p = port
        if p == 0 {
            guard let free = ns.tcpFindOpenPort(for: self) else {
                localAddress = .any
                throw KernelError(.EADDRINUSE)
            }
            p = free
        } else if ns.tcpBindConflict(self, address: address, port: p) {
            localAddress = .any
            kernel.trace(ns, nil, .socket, "tcp: bind \(address):\(p) refused, port in use (EADDRINUSE)")
            throw KernelError(.EADDRINUSE)
        }
        localPort = p
        userBound = true
        ns.tcpBindHash(self, port: p, byBind: true)
        kernel.trace(ns, nil, .socket, "tcp: bound \(address):\(p)")
    }

    /// Kernel: inet_listen() in net/ipv4/af_inet.c -> inet_csk_listen_start(). An unbound socket gets a port.
    public func listen(backlog: Int = 128) throws {
        guard !isClosedByUser else { throw KernelError(.EBADF) }
        if state == .listen {
            self.backlog = min(max(backlog, 0), config.somaxconn)
            return
        }
        guard state == .close, remotePort == 0 else { throw KernelError(.EINVAL) }
        let ns = namespace
        if bindBucketPort == nil {
            guard let p = ns.tcpFindOpenPort(for: self) else { throw KernelError(.EADDRINUSE) }
            localPort = p
            ns.tcpBindHash(self, port: p, byBind: true)
        } else if ns.tcpListenConflict(self) {
            throw KernelError(.EADDRINUSE)
        }
        self.backlog = min(max(backlog, 0), config.somaxconn)
        state = .listen
        ns.tcp.listeners[localPort, default: []].append(self)
        kernel.trace(ns, nil, .socket, "tcp: listening on \(localAddress):\(localPort) backlog \(self.backlog)")
    }

    /// Kernel: tcp_v4_connect() in net/ipv4/tcp_ipv4.c then tcp_connect(): route (errors thrown now), source address
    /// and port, ISN, then the SYN. The outcome arrives through onConnected or onError.
    public func connect(to address: IPv4Address, port: UInt16) throws {
        guard !isClosedByUser else { throw KernelError(.EBADF) }
        switch state {
        case .close: break
        case .synSent: throw KernelError(.EINVAL)
        case .listen: throw KernelError(.EINVAL)
        default: throw KernelError(.EISCONN)
        }
        guard port != 0 else { throw KernelError(.ECONNREFUSED) }
        let ns = namespace
        let route: OutputRoute
        do {
            route = try ns.tcpRoute(to: address, source: localAddress)
        } catch let e as KernelError {
            kernel.trace(ns, nil, .socket, "tcp: connect to \(address):\(port) failed at once: \(e.errno)")
            throw e
        }
        if localAddress.isZero { localAddress = route.source }
        remoteAddress = address
        remotePort = port
        if bindBucketPort == nil {
            guard let p = ns.tcpEphemeralPort(local: localAddress, remote: address, remotePort: port) else {
                remoteAddress = .any; remotePort = 0
                throw KernelError(.EADDRNOTAVAIL)
            }
            localPort = p
            ns.tcpBindHash(self, port: p, byBind: false)
        } else if ns.tcp.established[tuple] != nil {
            remoteAddress = .any; remotePort = 0
            throw KernelError(.EADDRNOTAVAIL)
        }
        ns.tcp.established[tuple] = self
        hashed = true
        iss = ns.tcpISN(tuple)
        tsOffset = ns.tcpTSOffset(tuple)
        ipID = UInt16(truncatingIfNeeded: ns.tcpRandom())
        state = .synSent
        connectInit(route: route)
        sendSYN()
    }

    // MARK: - Data

    /// Kernel: tcp_sendmsg() in net/ipv4/tcp.c: queue the bytes and push what the windows and Nagle allow.
    public func send(_ bytes: [UInt8]) throws {
        if let e = error { throw e }
        guard !shutdownSend, !isClosedByUser else { throw KernelError(.EPIPE) }
        switch state {
        case .established, .closeWait: break
        case .synSent, .synRecv:
            // Blocking send waits for the handshake; the data goes out once it completes.
            break
        default: throw KernelError(.ENOTCONN)
        }
        guard !bytes.isEmpty else { return }
        if sndBuf.isEmpty { sndBufSeq = writeSeq }
        sndBuf.append(contentsOf: bytes)
        writeSeq = writeSeq &+ UInt32(bytes.count)
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) write of \(bytes.count) bytes")
        if state == .established || state == .closeWait { pushPendingFrames() }
    }

    /// recv(): takes what the receive queue holds (for sockets without onData).
    public func read(max: Int = Int.max) -> [UInt8] {
        let n = min(max, receiveQueue.count)
        let out = Array(receiveQueue.prefix(n))
        receiveQueue.removeFirst(n)
        rmemCharged = receiveQueue.isEmpty ? 0 : Swift.max(0, rmemCharged - n)
        if n > 0 { cleanupRbuf(copied: n) }
        return out
    }

    /// accept(): the oldest established child, if any.
    public func accept() -> TCPSocket? {
        guard !acceptQueue.isEmpty else { return nil }
        let c = acceptQueue.removeFirst()
        pendingChildren -= 1
        c.listener = nil
        return c
    }

    /// Kernel: tcp_shutdown(SHUT_WR): queue a FIN after the data.
    public func shutdownWrite() {
        guard !shutdownSend else { return }
        shutdownSend = true
        switch state {
        case .established:
            state = .finWait1
            queueFIN()
        case .closeWait:
            state = .lastAck
            queueFIN()
        case .synSent:
            // tcp_close_state(SYN_SENT) goes to CLOSE without a FIN.
            done()
        default: break
        }
    }

    /// Kernel: tcp_close() in net/ipv4/tcp.c: a listener stops (children get RST), unread data aborts with RST,
    /// otherwise FIN (the socket lingers as an orphan through FIN-WAIT and TIME-WAIT).
    public func close() {
        guard !isClosedByUser else { return }
        isClosedByUser = true
        shutdownReceive = true
        onData = nil; onAccept = nil; onConnected = nil; onPeerClosed = nil
        let ns = namespace
        switch state {
        case .listen:
            listenStop()
        case .close:
            unhashAll()
        case .synSent:
            done()
        case .established, .closeWait, .synRecv:
            if !receiveQueue.isEmpty {
                kernel.trace(ns, nil, .socket, "tcp: \(describe) closed with \(receiveQueue.count) unread bytes: reset (tcp_close)")
                receiveQueue.removeAll()
                sendActiveReset()
                done()
            } else if state == .closeWait {
                shutdownSend = true
                state = .lastAck
                queueFIN()
            } else {
                shutdownSend = true
                state = .finWait1
                queueFIN()
            }
        case .finWait1, .closing, .lastAck, .timeWait:
            break
        case .finWait2:
            armFinWait2Timer()
        }
    }

    /// close() with SO_LINGER {on, 0}: RST instead of FIN, at once.
    public func abort() {
        let wasClosed = isClosedByUser
        isClosedByUser = true
        onData = nil; onAccept = nil; onConnected = nil; onPeerClosed = nil
        switch state {
        case .listen: listenStop()
        case .established, .closeWait, .finWait1, .finWait2, .synRecv:
            kernel.trace(namespace, nil, .socket, "tcp: \(describe) aborted: reset (tcp_disconnect)")
            sendActiveReset()
            done()
        case .close:
            if !wasClosed { unhashAll() }
        default:
            done()
        }
    }

    // MARK: - Teardown helpers

    /// Kernel: inet_csk_listen_stop() in net/ipv4/inet_connection_sock.c: request socks vanish; accepted-but-unclaimed children
    /// are reset.
    func listenStop() {
        let ns = namespace
        ns.tcp.listeners[localPort]?.removeAll { $0 === self }
        if ns.tcp.listeners[localPort]?.isEmpty == true { ns.tcp.listeners[localPort] = nil }
        for c in acceptQueue {
            c.isClosedByUser = true
            c.sendActiveReset()
            c.done()
        }
        acceptQueue.removeAll()
        for k in requestSocks.keys.sorted() {
            if let c = requestSocks[k], c.state == .synRecv, !c.isGone { c.done() }
        }
        requestSocks.removeAll()
        state = .close
        unhashAll()
    }

    /// Kernel: tcp_done() in net/ipv4/tcp.c: CLOSE, out of every table, timers stopped.
    func done() {
        cancelTimers()
        if state != .close { state = .close }
        unhashAll()
        if let l = listener, let i = l.acceptQueue.firstIndex(where: { $0 === self }) {
            l.acceptQueue.remove(at: i)
            l.pendingChildren -= 1
        } else if let l = listener, l.pendingChildren > 0 {
            l.pendingChildren -= 1
        }
        listener = nil
        onClosed?()
        onClosed = nil
    }

    func unhashAll() {
        let ns = namespace
        if hashed {
            if ns.tcp.established[tuple] === self { ns.tcp.established[tuple] = nil }
            hashed = false
        }
        ns.tcpBindUnhash(self)
        if !isGone {
            isGone = true
            ns.tcp.all[id] = nil
            listener?.requestSocks[id] = nil
        }
    }

    func cancelTimers() {
        let q = kernel.clock
        if let t = delackTimer { q.cancel(t); delackTimer = nil }
        if let t = retransmitTimer { q.cancel(t); retransmitTimer = nil }
        if let t = timeWaitTimer { q.cancel(t); timeWaitTimer = nil }
        if let t = finWait2Timer { q.cancel(t); finWait2Timer = nil }
    }

    /// Reports an error once (sk_err + sk_error_report), then the socket is done.
    func fail(_ e: Errno, _ why: String) {
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) error \(e): \(why)")
        let err = KernelError(e)
        error = err
        let cb = onError
        onError = nil
        done()
        cb?(err)
    }
}

extension NetNamespace {
    /// listen() on a port bound by bind(): another listener on an overlapping address is a
    /// conflict unless both use SO_REUSEPORT (inet_csk_listen_start -> get_port).
    func tcpListenConflict(_ s: TCPSocket) -> Bool {
        for o in tcp.listeners[s.localPort] ?? [] where o !== s && o.state == .listen {
            let overlap = s.localAddress.isZero || o.localAddress.isZero || o.localAddress == s.localAddress
            if overlap && !(s.reusePort && o.reusePort) { return true }
        }
        return false
    }
}

/// One segment on the retransmit queue.
struct TCPSentSegment {
    var start: UInt32
    var end: UInt32
    var syn: Bool
    var fin: Bool
    /// When it was first sent (for the RTT sample; nil once retransmitted, as Karn says).
    var sentAt: SimTime?
}
