// TCP: net/ipv4/tcp_ipv4.c and inet_hashtables.c. The receive entry point (socket lookup
// by 4-tuple, then listener), resets for segments nobody wants, ICMP errors for sockets,
// the per-namespace sysctls and the port allocator. The socket itself is in TCPSocket.swift,
// its input and output paths in TCPInput.swift and TCPOutput.swift.
// Models: Linux 6.18 as seen on the wire: initial windows from net.ipv4.tcp_rmem (default
// "4096 131072 6291456", so window scale 7, SYN window 64240, SYN-ACK 65160; a host whose
// tcp_rmem max is 32 MiB gets wscale 10), MSS from the route's device MTU, timestamps with a
// per-connection offset, SACK-permitted, ISNs as secure_tcp_seq() makes them (a keyed hash of
// the 4-tuple plus the clock in 64 ns units), ephemeral ports as __inet_hash_connect() picks
// them, RST for closed ports, SYN retransmission with tcp_syn_linear_timeouts (6.18: four
// linear 1 s retries before the exponential backoff: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35,
// 67 s and ETIMEDOUT near 131 s), delayed ACKs, FIN teardown, TIME_WAIT.
// Guarantees: every random value is drawn from seeded streams; lookups by 4-tuple and by port
// are O(1) dictionary accesses, and nothing iterates a dictionary into behaviour; every drop
// is traced with the kernel's SKB_DROP_REASON name.
// Leaves out: IPv6, out-of-order queueing (a segment past rcv_nxt is dropped and answered
// with a duplicate ACK; the model never reorders), SACK scoreboard and fast retransmit,
// congestion control beyond slow start from an initial window of 10, ECN (tcp_ecn 2 never
// asks for it), TSO/GSO (segments are at most one MSS), urgent data, keepalive, syncookies,
// TCP Fast Open, PAWS.

import SimCore
import Wire

/// net.ipv4.tcp_* of one namespace, with the kernel's defaults.
public struct TCPNetConfig: Sendable {
    /// net.ipv4.tcp_rmem: min, default (the initial sk_rcvbuf), max. The max sets the window
    /// scale (tcp_select_initial_window: ilog2(max) - 15, so 7 for 6 MiB, 10 for 32 MiB).
    public var rmem = (4096, 131072, 6291456)
    /// net.ipv4.tcp_wmem.
    public var wmem = (4096, 16384, 4194304)
    /// net.core.rmem_max (also bounds the window scale).
    public var coreRmemMax = 212992
    public var synRetries = 6
    public var synackRetries = 5
    /// net.ipv4.tcp_syn_linear_timeouts (6.18): SYN retransmissions that keep the initial RTO
    /// before the exponential backoff starts; they add to tcp_syn_retries.
    public var synLinearTimeouts = 4
    /// net.ipv4.tcp_retries2: retransmissions of data before the connection is dropped.
    public var retries2 = 15
    /// net.ipv4.tcp_fin_timeout: how long an orphaned FIN-WAIT-2 socket lives.
    public var finTimeout = SimTime.seconds(60)
    public var timestamps = true
    public var sack = true
    public var windowScaling = true
    /// net.ipv4.tcp_pingpong_thresh.
    public var pingpongThresh = 1
    /// net.core.somaxconn: the cap on listen()'s backlog.
    public var somaxconn = 4096
    public init() {}
}

/// Kernel: TCP_* states; `ssName` is what `ss` prints.
public enum TCPState: Int, Sendable {
    case established = 1, synSent, synRecv, finWait1, finWait2, timeWait, close, closeWait, lastAck, listen, closing

    public var ssName: String {
        switch self {
        case .established: return "ESTAB"
        case .synSent: return "SYN-SENT"
        case .synRecv: return "SYN-RECV"
        case .finWait1: return "FIN-WAIT-1"
        case .finWait2: return "FIN-WAIT-2"
        case .timeWait: return "TIME-WAIT"
        case .close: return "UNCONN"
        case .closeWait: return "CLOSE-WAIT"
        case .lastAck: return "LAST-ACK"
        case .listen: return "LISTEN"
        case .closing: return "CLOSING"
        }
    }

    /// The kernel's own name (tcp_state_name / /proc/net/tcp).
    public var kernelName: String {
        switch self {
        case .established: return "ESTABLISHED"
        case .synSent: return "SYN_SENT"
        case .synRecv: return "SYN_RECV"
        case .finWait1: return "FIN_WAIT1"
        case .finWait2: return "FIN_WAIT2"
        case .timeWait: return "TIME_WAIT"
        case .close: return "CLOSE"
        case .closeWait: return "CLOSE_WAIT"
        case .lastAck: return "LAST_ACK"
        case .listen: return "LISTEN"
        case .closing: return "CLOSING"
        }
    }
}

/// SKB_DROP_REASON_* names of the TCP receive path.
enum TCPDrop: String {
    case noSocket = "NO_SOCKET"
    case pktTooSmall = "PKT_TOO_SMALL"
    case checksum = "TCP_CSUM"
    case flags = "TCP_FLAGS"
    case invalidSequence = "TCP_INVALID_SEQUENCE"
    case oldData = "TCP_OLD_DATA"
    case ofoDrop = "TCP_OFO_DROP"
    case ackUnsentData = "TCP_ACK_UNSENT_DATA"
    case oldAck = "TCP_OLD_ACK"
    case reset = "TCP_RESET"
    case close = "TCP_CLOSE"
    case listenOverflow = "TCP_LISTEN_OVERFLOW"
    case overWindow = "TCP_OVERWINDOW"
    case invalidSyn = "TCP_INVALID_SYN"
    case socketFiltered = "SOCKET_FILTER"
    case tcpAbortOnData = "TCP_ABORT_ON_DATA"
}

// MARK: - Sequence arithmetic (include/net/tcp.h before()/after())

@inline(__always) func seqBefore(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
@inline(__always) func seqAfter(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: b &- a) < 0 }
@inline(__always) func seqBetween(_ x: UInt32, _ lo: UInt32, _ hi: UInt32) -> Bool { hi &- lo >= x &- lo }

/// A connection's addresses from the local side.
struct TCPFourTuple: Hashable {
    var localAddress: IPv4Address
    var localPort: UInt16
    var remoteAddress: IPv4Address
    var remotePort: UInt16
}

/// Kernel: struct inet_bind_bucket: who holds a local port.
final class TCPBindBucket {
    /// By socket id: only ever asked "is there a conflict", never walked into behaviour.
    var owners: [Int: TCPSocket] = [:]
    /// Sockets that got the port from bind() (tb->fastreuse >= 0); connect()'s ephemeral
    /// ports may not share such a port.
    var boundByBind: Int = 0
}

/// The namespace's TCP hash tables (struct inet_hashinfo) and port allocator state.
final class TCPTable {
    /// ehash: established, SYN-RECV and TIME-WAIT sockets by 4-tuple.
    var established: [TCPFourTuple: TCPSocket] = [:]
    /// lhash: listening sockets by port, in listen() order.
    var listeners: [UInt16: [TCPSocket]] = [:]
    /// bhash: bound ports.
    var bound: [UInt16: TCPBindBucket] = [:]
    /// Kernel: table_perturb[] of __inet_hash_connect (random at first use).
    var perturb: [Int: UInt32] = [:]
    /// Every socket not yet gone, by creation id (listings sort the ids, so hash order never
    /// shows; removal is O(1) for many connections).
    var all: [Int: TCPSocket] = [:]
    var nextSocketID = 0
    var rng: SplitMix64?
    var secret: UInt64 = 0
}

extension NetNamespace {
    public var tcpConfig: TCPNetConfig {
        get { ipv4.tcp }
        set { ipv4.tcp = newValue }
    }

    /// A new TCP socket (socket(AF_INET, SOCK_STREAM, 0)).
    public func openTCPSocket() -> TCPSocket {
        let s = TCPSocket(namespace: self)
        tcp.all[s.id] = s
        return s
    }

    /// Sockets not yet gone, in creation order: listeners, connections, SYN-RECV and
    /// TIME-WAIT entries (what `ss -ta` lists, in a stable order).
    public var tcpSockets: [TCPSocket] { tcp.all.keys.sorted().compactMap { tcp.all[$0] } }

    // MARK: - Randomness

    /// The namespace's TCP stream (ISN keys, ports, IP ids, timestamp offsets).
    func tcpRandom() -> UInt64 {
        if tcp.rng == nil {
            var r = SplitMix64(seed: kernel.seed, stream: "tcp/\(machine.name)/\(serial)")
            tcp.secret = r.next()
            tcp.rng = r
        }
        return tcp.rng!.next()
    }

    func tcpRandom(below n: UInt64) -> UInt64 {
        _ = tcpRandom()
        return tcp.rng!.below(n)
    }

    /// A keyed hash standing in for the kernel's siphash with a boot-time secret.
    func tcpHash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0) -> UInt64 {
        if tcp.rng == nil { _ = tcpRandom() }
        var m = SplitMix64(seed: tcp.secret ^ a &* 0x9E37_79B9_7F4A_7C15 ^ (b << 1) ^ (c &* 0xBF58_476D_1CE4_E5B9))
        _ = m.next()
        return m.next()
    }

    /// Kernel: secure_tcp_seq() in net/core/secure_seq.c: a keyed hash of the 4-tuple plus ktime_get_real_ns() >> 6.
    func tcpISN(_ t: TCPFourTuple) -> UInt32 {
        let h = tcpHash(UInt64(t.localAddress.raw) << 32 | UInt64(t.remoteAddress.raw),
                        UInt64(t.localPort) << 16 | UInt64(t.remotePort))
        return UInt32(truncatingIfNeeded: h) &+ UInt32(truncatingIfNeeded: UInt64(now.ns) >> 6)
    }

    /// The per-connection timestamp offset (tcp_sock->tsoffset): random for each 4-tuple, as
    /// observed on 6.18 (two connections between the same hosts show unrelated TS values).
    func tcpTSOffset(_ t: TCPFourTuple) -> UInt32 {
        UInt32(truncatingIfNeeded: tcpHash(UInt64(t.localAddress.raw) << 32 | UInt64(t.remoteAddress.raw),
                                          UInt64(t.localPort) << 16 | UInt64(t.remotePort), 0x7473))
    }

    /// Kernel: tcp_clock_ms() in include/net/tcp.h: the monotonic clock in ms (jiffies count from boot, so the
    /// machine's seeded uptime shows in it).
    var tcpClockMS: UInt32 {
        let bootNS = machine.jiffiesAtZero * machine.tickNS
        return UInt32(truncatingIfNeeded: (now.ns + bootNS) / 1_000_000)
    }

    /// The route a TCP socket sends on: RTCF_BROADCAST/MULTICAST routes are refused with
    /// ENETUNREACH as tcp_v4_connect() refuses them.
    func tcpRoute(to dst: IPv4Address, source: IPv4Address?) throws -> OutputRoute {
        let src = (source?.isZero ?? true) ? nil : source
        let r = try routeOutput(to: dst, source: src)
        if r.type == .broadcast || r.type == .multicast || dst.isMulticast || dst.isLimitedBroadcast {
            throw KernelError(.ENETUNREACH)
        }
        return r
    }

    // MARK: - Ports

    /// Kernel: __inet_hash_connect() in net/ipv4/inet_hashtables.c: the ephemeral port for a connect() from an unbound
    /// socket. The start comes from a keyed hash of (saddr, daddr, dport) plus a perturbation
    /// table; the first pass tries ports of the range's low parity (even ports for 32768),
    /// the second the others; a port taken by bind() is skipped, one used by other connects
    /// is shared when the 4-tuple is unique. After a success the table entry moves on by
    /// 2 plus a random amount, so consecutive connects to one destination climb in small
    /// random steps.
    func tcpEphemeralPort(local: IPv4Address, remote: IPv4Address, remotePort: UInt16) -> UInt16? {
        let (lowI, highI) = ipv4.ipLocalPortRange
        let low = UInt32(lowI)
        let high = UInt32(highI) + 1
        var remaining = high - low
        if remaining > 1 { remaining &= ~1 }
        let portOffset = tcpHash(UInt64(local.raw) << 32 | UInt64(remote.raw), UInt64(remotePort), 0x706f7274)
        let index = Int(portOffset & 0xffff)
        let perturb = tcp.perturb[index] ?? UInt32(truncatingIfNeeded: tcpRandom())
        tcp.perturb[index] = perturb
        var offset = (perturb &+ UInt32(truncatingIfNeeded: portOffset >> 32)) % remaining
        offset &= ~1
        let step: UInt32 = 2
        while true {
            var port = low + offset
            var i: UInt32 = 0
            while i < remaining {
                if port >= high { port -= remaining }
                let p = UInt16(port)
                var usable = true
                if let b = tcp.bound[p] {
                    if b.boundByBind > 0 {
                        usable = false
                    } else {
                        let t = TCPFourTuple(localAddress: local, localPort: p, remoteAddress: remote, remotePort: remotePort)
                        usable = tcp.established[t] == nil
                    }
                }
                if usable {
                    let extra = UInt32(tcpRandom(below: 8)) * step
                    tcp.perturb[index] = perturb &+ max(i, extra) &+ step
                    kernel.trace(self, nil, .socket, "tcp: ephemeral port \(p) for \(remote):\(remotePort) (__inet_hash_connect)")
                    return p
                }
                i += step
                port += step
            }
            offset += 1
            if offset & 1 == 1 && remaining > 1 { continue }
            return nil
        }
    }

    /// Kernel: inet_csk_find_open_port() in net/ipv4/inet_connection_sock.c: a free port for bind(port 0) or an autobinding
    /// listen(): random start, odd offsets first (the opposite parity of connect()).
    func tcpFindOpenPort(for s: TCPSocket) -> UInt16? {
        let (lowI, highI) = ipv4.ipLocalPortRange
        let low = UInt32(lowI)
        let high = UInt32(highI) + 1
        var remaining = high - low
        if remaining > 1 { remaining &= ~1 }
        var offset = UInt32(tcpRandom(below: UInt64(remaining)))
        offset |= 1
        for _ in 0..<2 {
            var port = low + offset % remaining
            var i: UInt32 = 0
            while i < remaining {
                if port >= high { port -= remaining }
                let p = UInt16(port)
                if tcp.bound[p] == nil || !tcpBindConflict(s, address: s.localAddress, port: p) { return p }
                i += 2
                port += 2
            }
            offset -= 1
        }
        return nil
    }

    /// Kernel: inet_csk_bind_conflict() in net/ipv4/inet_connection_sock.c: another socket on the port whose address overlaps,
    /// unless both set SO_REUSEADDR and the other is not listening, or both SO_REUSEPORT.
    func tcpBindConflict(_ s: TCPSocket, address: IPv4Address, port: UInt16) -> Bool {
        guard let b = tcp.bound[port] else { return false }
        for (_, o) in b.owners where o !== s && !o.isGone {
            let overlap = address.isZero || o.localAddress.isZero || o.localAddress == address
            if !overlap { continue }
            if s.reuseAddress && o.reuseAddress && o.state != .listen { continue }
            if s.reusePort && o.reusePort { continue }
            return true
        }
        return false
    }

    func tcpBindHash(_ s: TCPSocket, port: UInt16, byBind: Bool) {
        let b = tcp.bound[port] ?? TCPBindBucket()
        tcp.bound[port] = b
        b.owners[s.id] = s
        if byBind { b.boundByBind += 1 }
        s.bindBucketPort = port
        s.boundByBind = byBind
    }

    func tcpBindUnhash(_ s: TCPSocket) {
        guard let p = s.bindBucketPort, let b = tcp.bound[p] else { return }
        b.owners[s.id] = nil
        if s.boundByBind { b.boundByBind -= 1 }
        if b.owners.isEmpty { tcp.bound[p] = nil }
        s.bindBucketPort = nil
    }

    // MARK: - Lookup

    /// Kernel: __inet_lookup_listener() in net/ipv4/inet_hashtables.c: a listener bound to the exact address wins over one
    /// bound to INADDR_ANY (compute_score); among equals, the first to listen.
    func tcpLookupListener(_ dst: IPv4Address, _ port: UInt16) -> TCPSocket? {
        guard let l = tcp.listeners[port] else { return nil }
        var wildcard: TCPSocket?
        for s in l where s.state == .listen {
            if s.localAddress == dst { return s }
            if s.localAddress.isZero && wildcard == nil { wildcard = s }
        }
        return wildcard
    }

    // MARK: - Receive

    /// Kernel: tcp_v4_rcv() in net/ipv4/tcp_ipv4.c. Called from ip_local_deliver for protocol 6.
    func tcpReceive(_ dev: NetDevice, _ p: Packet) {
        let o = p.network
        let ihl = IPv4View.headerLength(p.bytes, at: o)
        let end = o + IPv4View.totalLength(p.bytes, at: o)
        let t = o + ihl
        let src = IPv4View.source(p.bytes, at: o)
        let dst = IPv4View.destination(p.bytes, at: o)
        guard end - t >= TCPHeader.minimumLength, TCPView.headerLength(p.bytes, at: t) >= TCPHeader.minimumLength,
              t + TCPView.headerLength(p.bytes, at: t) <= end else {
            kernel.trace(self, dev, .drop, "tcp: truncated segment from \(src) (\(TCPDrop.pktTooSmall.rawValue))")
            return
        }
        if p.pktType != .host && p.pktType != .loopback {
            kernel.trace(self, dev, .drop, "tcp: segment not addressed to this host (\(DropReason.otherHost.rawValue))")
            return
        }
        if TCPChecksum.status(p.bytes, at: t, length: end - t, source: src, destination: dst) == .bad {
            kernel.trace(self, dev, .drop, "tcp: bad checksum from \(src) (\(TCPDrop.checksum.rawValue))")
            return
        }
        guard let h = try? TCPHeader.parse(p.bytes, at: t, end: end) else {
            kernel.trace(self, dev, .drop, "tcp: bad options from \(src) (\(TCPDrop.pktTooSmall.rawValue))")
            return
        }
        let seg = TCPSegment(header: h, payload: Array(p.bytes[(t + h.headerLength)..<end]), source: src,
                             destination: dst, tos: p.bytes[o + 1], device: dev)
        let tuple = TCPFourTuple(localAddress: dst, localPort: h.destinationPort, remoteAddress: src, remotePort: h.sourcePort)
        if let s = tcp.established[tuple] {
            s.receive(seg)
            return
        }
        if let l = tcpLookupListener(dst, h.destinationPort) {
            l.listenReceive(seg)
            return
        }
        kernel.trace(self, dev, .drop, "tcp: no socket for \(dst):\(h.destinationPort) from \(src):\(h.sourcePort) (\(TCPDrop.noSocket.rawValue))")
        tcpSendReset(for: seg)
    }

    /// Kernel: tcp_v4_err() in net/ipv4/tcp_ipv4.c: an ICMP error about a segment we sent.
    func tcpError(_ e: SocketError) {
        guard e.original.count >= 8 else { return }
        let sport = e.original.u16(at: 0)
        let dport = e.original.u16(at: 2)
        let seq = e.original.u32(at: 4)
        // The quoted segment went from one of our addresses; the error's offender may be a
        // router, so find the socket by the quoted ports and destination.
        var found: TCPSocket?
        for (_, s) in tcp.all where s.localPort == sport && s.remotePort == dport && s.remoteAddress == e.originalDestination {
            // Several matches are possible only with different local addresses: take the oldest.
            if found == nil || s.id < found!.id { found = s }
        }
        guard let s = found else {
            kernel.trace(self, nil, .icmp, "tcp: icmp error for \(e.originalDestination):\(dport) matches no socket")
            return
        }
        s.icmpError(type: e.type, code: e.code, seq: seq, info: e.info)
    }

    // MARK: - Replies from the control socket

    /// Kernel: tcp_v4_send_reset() in net/ipv4/tcp_ipv4.c: the answer to a segment for no socket (or one we reject).
    /// A segment with ACK gets `RST seq=its ack`; otherwise `RST|ACK seq 0, ack seq+len`.
    /// Sent through the per-namespace control socket: full checksum, IP id 0, window 0.
    func tcpSendReset(for seg: TCPSegment) {
        let h = seg.header
        if h.flags.contains(.rst) { return }
        if seg.destination.isMulticast || seg.destination.isLimitedBroadcast { return }
        var rh: TCPHeader
        if h.flags.contains(.ack) {
            rh = TCPHeader(sourcePort: h.destinationPort, destinationPort: h.sourcePort, sequence: h.acknowledgment,
                           acknowledgment: 0, flags: [.rst], window: 0)
        } else {
            rh = TCPHeader(sourcePort: h.destinationPort, destinationPort: h.sourcePort, sequence: 0,
                           acknowledgment: h.sequence &+ UInt32(seg.length), flags: [.rst, .ack], window: 0)
        }
        kernel.trace(self, seg.device, .socket, "tcp: reset to \(seg.source):\(h.sourcePort) seq \(rh.sequence) ack \(rh.acknowledgment) (tcp_v4_send_reset)")
        tcpSendControl(rh, payload: [], from: seg.destination, to: seg.source)
    }

    /// Kernel: ip_send_unicast_reply() in net/ipv4/ip_output.c on the control socket (net->ipv4.tcp_sk): RSTs and
    /// TIME-WAIT ACKs. DF, id 0, default TTL, software checksum.
    func tcpSendControl(_ th: TCPHeader, payload: [UInt8], from src: IPv4Address, to dst: IPv4Address) {
        guard let route = try? routeOutput(to: dst, source: isLocalAddress(src) ? src : nil) else {
            kernel.trace(self, nil, .drop, "tcp: no route for a reply to \(dst) (\(DropReason.ipOutNoRoutes.rawValue))")
            return
        }
        var ih = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + th.headerLength + payload.count),
                            identification: 0, dontFragment: true, ttl: ipv4.defaultTTL, proto: .tcp,
                            source: src, destination: dst)
        ih.identification = 0
        tcpIPSend(ih, th, payload: payload, checksum: .full, route: route)
    }

    /// Kernel: ip_queue_xmit() in net/ipv4/ip_output.c / ip_local_out(): the segment with its checksum as the device
    /// will leave it, behind the IP header, through LOCAL_OUT and ip_output().
    func tcpIPSend(_ ih: IPv4Header, _ th: TCPHeader, payload: [UInt8], checksum: TCPChecksum.Mode, route: OutputRoute) {
        let seg = th.segment(payload: payload, source: ih.source, destination: ih.destination, checksum: checksum)
        ipSendLocal(ih, payload: seg, route: route)
    }
}

/// One received segment (what tcp_v4_rcv hands to the socket).
struct TCPSegment {
    let header: TCPHeader
    let payload: [UInt8]
    let source: IPv4Address
    let destination: IPv4Address
    let tos: UInt8
    let device: NetDevice?

    var seq: UInt32 { header.sequence }
    /// Sequence space used: data plus one each for SYN and FIN.
    var length: Int { payload.count + (header.flags.contains(.syn) ? 1 : 0) + (header.flags.contains(.fin) ? 1 : 0) }
    var endSeq: UInt32 { seq &+ UInt32(length) }
}

/// Kernel: dev->features & NETIF_F_HW_CSUM: lo, veth and the bridge take the checksum off the
/// stack, which then leaves only the pseudo-header sum in the segment (what captures show).
func tcpDeviceOffloadsChecksum(_ dev: NetDevice) -> Bool {
    dev.isLoopback || dev is VethDevice || dev is BridgeDevice
}

// MARK: - sysctl keys (net.ipv4.tcp_*, net.core.rmem_max, net.core.somaxconn)

extension SysctlTable {
    static func tcpInt(_ name: String, _ kp: WritableKeyPath<TCPNetConfig, Int>, min lo: Int = 0) -> Global {
        Global(name: name, get: { String($0.ipv4.tcp[keyPath: kp]) }, set: { ns, v in
            let n = try int(v)
            guard n >= lo else { throw KernelError(.EINVAL) }
            ns.ipv4.tcp[keyPath: kp] = n
        })
    }

    static func tcpBool(_ name: String, _ kp: WritableKeyPath<TCPNetConfig, Bool>) -> Global {
        Global(name: name, get: { $0.ipv4.tcp[keyPath: kp] ? "1" : "0" }, set: { ns, v in ns.ipv4.tcp[keyPath: kp] = try bool(v) })
    }

    static func tcpTriple(_ name: String, _ kp: WritableKeyPath<TCPNetConfig, (Int, Int, Int)>) -> Global {
        Global(name: name, get: { let t = $0.ipv4.tcp[keyPath: kp]; return "\(t.0)\t\(t.1)\t\(t.2)" }, set: { ns, v in
            let r = try ints(v, count: 3)
            guard r.count == 3, r.allSatisfy({ $0 >= 1 }) else { throw KernelError(.EINVAL) }
            ns.ipv4.tcp[keyPath: kp] = (r[0], r[1], r[2])
        })
    }

    /// The TCP knobs the model reads (net.ipv4.tcp_rmem sets the window scale: "4096 131072
    /// 6291456" by default, wscale 7).
    static let tcpGlobals: [Global] = [
        tcpTriple("net.ipv4.tcp_rmem", \.rmem),
        tcpTriple("net.ipv4.tcp_wmem", \.wmem),
        tcpInt("net.ipv4.tcp_syn_retries", \.synRetries, min: 1),
        tcpInt("net.ipv4.tcp_synack_retries", \.synackRetries),
        tcpInt("net.ipv4.tcp_syn_linear_timeouts", \.synLinearTimeouts),
        tcpInt("net.ipv4.tcp_retries2", \.retries2),
        Global(name: "net.ipv4.tcp_fin_timeout", get: { String($0.ipv4.tcp.finTimeout.seconds) }, set: { ns, v in
            let n = try int(v)
            guard n >= 0 else { throw KernelError(.EINVAL) }
            ns.ipv4.tcp.finTimeout = .seconds(Int64(n))
        }),
        tcpBool("net.ipv4.tcp_timestamps", \.timestamps),
        tcpBool("net.ipv4.tcp_sack", \.sack),
        tcpBool("net.ipv4.tcp_window_scaling", \.windowScaling),
        tcpInt("net.ipv4.tcp_pingpong_thresh", \.pingpongThresh, min: 1),
        tcpInt("net.core.rmem_max", \.coreRmemMax),
        tcpInt("net.core.somaxconn", \.somaxconn),
    ]
}
