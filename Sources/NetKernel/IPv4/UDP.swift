// UDP: net/ipv4/udp.c and datagram.c. Sockets bound to ports, datagrams in and out, ICMP port
// unreachable for a closed port, and ICMP errors reported to the sockets that caused them.
// Models, as Linux 6.18 does them (each checked in a namespace lab, see the tests):
// - bind(): EADDRNOTAVAIL for an address that is not ours (broadcast and multicast are
//   allowed), EINVAL when already bound, EADDRINUSE when another socket holds the port on the
//   same or a wildcard address (unless both set SO_REUSEADDR); port 0 picks an ephemeral port
//   as udp_lib_get_port() does: a random start in ip_local_port_range, then the same hash
//   chain (steps of 16384, the UDP hash size of the reference machine), then the next chain;
// - connect(): binds a port first (kept even when the route lookup then fails), route errors
//   as ip_route_output gives them, EACCES for a broadcast without SO_BROADCAST; the socket's
//   local address becomes the route's source and its IP ids a counter from a random start;
// - sending: DF as IP_MTU_DISCOVER says (default "want": DF when the datagram fits), IP id 0
//   for DF datagrams of an unconnected socket in "do"/"probe" mode, the hashed counter
//   otherwise, the socket's own counter when connected; through a device with checksum
//   offload (veth, bridge, lo) the checksum field holds only the pseudo-header sum, as
//   captures on Linux show it, and receivers accept that (CHECKSUM_PARTIAL);
// - receiving (__udp4_lib_rcv): length checks, then the lookup (a socket bound to the exact
//   address beats a wildcard one, then the best score: a connected socket's peer must match;
//   ties go to the newest socket), checksum verified before delivery and before answering a
//   closed port with ICMP port unreachable; broadcasts go to every matching socket and are
//   never answered;
// - errors (__udp4_lib_err): the socket is found by the quoted datagram; without IP_RECVERR
//   only a connected socket learns of hard errors (port unreachable -> ECONNREFUSED on its
//   next send or receive, once); with IP_RECVERR every error is queued and set.
// Guarantees: every drop is traced with its SKB_DROP_REASON name; ports and IP id starts come
// from the namespace's seeded stream "udp/<machine>/<namespace>"; sockets are kept in arrays,
// so nothing depends on hash order.
// Leaves out: SO_REUSEPORT groups, SO_BINDTODEVICE, multicast sending and IP_ADD_MEMBERSHIP,
// fragmentation (a datagram bigger than the MTU without DF is dropped by ip_output and
// traced), the receive buffer limit, UDP GSO/GRO. Encapsulation sockets (encap_rcv) hand their
// datagrams to the tunnel driver (Drivers/VXLANSocket.swift).

import SimCore
import Wire

/// IP_MTU_DISCOVER.
public enum PMTUDiscovery: Int, Sendable {
    case dont = 0, want = 1, `do` = 2, probe = 3
}

/// A datagram waiting in a socket's receive queue.
public struct UDPReceived: Sendable {
    public let data: [UInt8]
    public let from: IPv4Address
    public let port: UInt16
    /// The IP TTL it arrived with (IP_RECVTTL).
    public let ttl: UInt8
}

/// Kernel: struct udp_table for one namespace: the bound sockets, newest first, as
/// udp_lib_get_port() adds each at the head of its hash chains.
final class UDPTable {
    /// Kernel: UDP_HTABLE_SIZE on the reference machine ("UDP hash table entries: 16384").
    static let hashSize = 16384
    var bound: [UDPSocket] = []
    /// Every socket not yet closed, in creation order.
    var all: [UDPSocket] = []
    var rng: SplitMix64

    init(rng: SplitMix64) { self.rng = rng }
}

public final class UDPSocket {
    public unowned(unsafe) let namespace: NetNamespace
    /// inet_rcv_saddr: the address datagrams must be sent to (0: any of ours).
    public private(set) var localAddress: IPv4Address = .any
    /// inet_saddr: the source of datagrams sent (0: the route's choice).
    var sourceAddress: IPv4Address = .any
    public private(set) var localPort: UInt16 = 0
    /// inet_daddr / inet_dport, set by connect().
    public private(set) var remoteAddress: IPv4Address = .any
    public private(set) var remotePort: UInt16 = 0
    /// sk_state == TCP_ESTABLISHED.
    public private(set) var isConnected = false
    /// IP_TTL; nil uses net.ipv4.ip_default_ttl.
    public var ttl: UInt8?
    /// IP_TOS.
    public var tos: UInt8 = 0
    /// SO_BROADCAST.
    public var broadcast = false
    /// SO_BINDTODEVICE: datagrams leave through this device.
    public var boundDevice: NetDevice?
    /// SO_REUSEADDR (set before bind).
    public var reuseAddress = false
    /// IP_MTU_DISCOVER (default IP_PMTUDISC_WANT, net.ipv4.ip_no_pmtu_disc 0).
    public var pmtuDiscovery: PMTUDiscovery = .want
    /// IP_RECVERR: ICMP errors about datagrams this socket sent land on its error queue.
    public var recvErr = false
    /// Called with each datagram as it arrives; when nil, datagrams wait in `receiveQueue`.
    public var onReceive: ((_ data: [UInt8], _ from: IPv4Address, _ port: UInt16) -> Void)?
    /// Called with each error-queue entry as it arrives (a MSG_ERRQUEUE read); when nil,
    /// entries wait in `errorQueue`.
    public var onError: ((SocketError) -> Void)?
    /// sk_error_report(): called when an error becomes pending (poll() reports POLLERR).
    public var onErrorReport: ((Errno) -> Void)?
    /// sk_err: returned, once, by the next send or receive (or SO_ERROR).
    public private(set) var pendingError: Errno?
    public private(set) var receiveQueue: [UDPReceived] = []
    public private(set) var errorQueue: [SocketError] = []
    private var errorQueueErrnos: [Errno] = []
    /// The TTL of the packet behind the last datagram or error handed over (IP_RECVTTL).
    public private(set) var lastTTL: UInt8?
    public private(set) var isClosed = false
    /// inet_id: the IP id counter of a connected socket.
    var inetID: UInt16 = 0
    /// sk_user_data of a kernel tunnel socket (setup_udp_tunnel_sock()): its driver's state.
    var tunnelOwner: AnyObject?
    /// encap_rcv of a kernel tunnel socket: a datagram whose checksum verified goes to the
    /// tunnel driver (VXLAN) with its whole packet instead of to the receive queue.
    var encapReceive: ((_ packet: Packet, _ inDevice: NetDevice) -> Void)?
    /// SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK: what bind() set explicitly.
    private var addressLocked = false
    private var portLocked = false

    init(namespace: NetNamespace) {
        self.namespace = namespace
    }

    private var table: UDPTable { namespace.inetState.udp }

    // MARK: - bind / connect

    /// Kernel: inet_bind() -> __inet_bind() in net/ipv4/af_inet.c -> udp_v4_get_port().
    public func bind(address: IPv4Address = .any, port: UInt16 = 0) throws {
        guard !isClosed else { throw KernelError(.EBADF) }
        let ns = namespace
        let isBroadcast = address.isLimitedBroadcast
            || ns.fib.lookup(address, table: RouteTable.local, oif: nil)?.type == .broadcast
        guard address.isZero || address.isMulticast || isBroadcast || ns.isLocalAddress(address) else {
            throw KernelError(.EADDRNOTAVAIL)
        }
        guard localPort == 0 else { throw KernelError(.EINVAL) }
        let chosen = try getPort(port, address: address)
        localAddress = address
        sourceAddress = (address.isMulticast || isBroadcast) ? .any : address
        attach(chosen)
        addressLocked = !address.isZero
        portLocked = port != 0
        ns.kernel.trace(ns, nil, .socket, "udp bind \(address):\(chosen)")
    }

    /// Kernel: inet_dgram_connect() -> ip4_datagram_connect() in net/ipv4/datagram.c.
    public func connect(to address: IPv4Address, port: UInt16) throws {
        guard !isClosed else { throw KernelError(.EBADF) }
        let ns = namespace
        try autobind()
        let route = try outputRoute(to: address)
        if sourceAddress.isZero { sourceAddress = route.source }
        if localAddress.isZero { localAddress = route.source }  // udp_lib_rehash()
        remoteAddress = address.isZero ? route.nextHop : address
        remotePort = port
        isConnected = true
        inetID = UInt16(truncatingIfNeeded: table.rng.next())
        ns.kernel.trace(ns, nil, .socket, "udp connect \(localAddress):\(localPort) -> \(remoteAddress):\(port)")
    }

    /// Kernel: __udp_disconnect() (connect() with AF_UNSPEC).
    public func disconnect() {
        guard isConnected else { return }
        isConnected = false
        remoteAddress = .any
        remotePort = 0
        if !addressLocked {
            localAddress = .any
            sourceAddress = .any
        }
        if !portLocked {
            table.bound.removeAll { $0 === self }
            localPort = 0
        }
    }

    /// Kernel: inet_autobind(): an unbound socket gets an ephemeral port on first use.
    private func autobind() throws {
        guard localPort == 0 else { return }
        do {
            attach(try getPort(0, address: localAddress))
        } catch {
            throw KernelError(.EAGAIN)
        }
    }

    private func attach(_ port: UInt16) {
        localPort = port
        table.bound.insert(self, at: 0)
    }

    /// Kernel: udp_lib_lport_inuse(): another socket holds `port` on the same address or on
    /// a wildcard one, and not both of them set SO_REUSEADDR.
    private func inUse(_ port: UInt16, address: IPv4Address) -> Bool {
        table.bound.contains { s in
            s !== self && s.localPort == port && !(s.reuseAddress && reuseAddress)
                && (s.localAddress == address || s.localAddress.isZero || address.isZero)
        }
    }

    /// Kernel: udp_lib_get_port() in net/ipv4/udp.c.
    private func getPort(_ port: UInt16, address: IPv4Address) throws -> UInt16 {
        if port != 0 {
            if inUse(port, address: address) { throw KernelError(.EADDRINUSE) }
            return port
        }
        let (lowI, highI) = namespace.ipv4.ipLocalPortRange
        let low = UInt16(clamping: lowI), high = UInt16(clamping: highI)
        let remaining = UInt64(high) - UInt64(low) + 1
        let rand = UInt32(truncatingIfNeeded: table.rng.next())
        var first = UInt16(truncatingIfNeeded: (UInt64(rand) * remaining) >> 32) &+ low
        // An odd multiple of the hash size: every port of the chain, in a random order.
        let step = UInt16(truncatingIfNeeded: (rand | 1) &* UInt32(UDPTable.hashSize))
        let last = first &+ UInt16(UDPTable.hashSize)
        repeat {
            var snum = first
            repeat {
                if low <= snum && snum <= high && !inUse(snum, address: address) { return snum }
                snum &+= step
            } while snum != first
            first &+= 1
        } while first != last
        throw KernelError(.EADDRINUSE)
    }

    // MARK: - send

    /// Kernel: udp_sendmsg() in net/ipv4/udp.c with a destination (sendto()).
    @discardableResult
    public func send(_ data: [UInt8], to address: IPv4Address, port: UInt16) throws -> Int {
        guard !isClosed else { throw KernelError(.EBADF) }
        guard data.count <= 0xffff else { throw KernelError(.EMSGSIZE) }
        guard port != 0 else { throw KernelError(.EINVAL) }
        try autobind()
        return try transmit(data, to: address, port: port)
    }

    /// Kernel: udp_sendmsg() on a connected socket (send()).
    @discardableResult
    public func send(_ data: [UInt8]) throws -> Int {
        guard !isClosed else { throw KernelError(.EBADF) }
        guard data.count <= 0xffff else { throw KernelError(.EMSGSIZE) }
        guard isConnected else { throw KernelError(.EDESTADDRREQ) }
        return try transmit(data, to: remoteAddress, port: remotePort)
    }

    /// The route for a datagram to `dst` from this socket: ip_route_output_flow() with the
    /// socket's source, then the broadcast permission check.
    private func outputRoute(to dst: IPv4Address) throws -> OutputRoute {
        let ns = namespace
        var route = try ns.routeOutput(to: dst, source: sourceAddress.isZero ? nil : sourceAddress, oif: boundDevice)
        if dst.isLimitedBroadcast || route.type == .broadcast {
            // arp_constructor() gives a broadcast route's neighbour the device's broadcast
            // address; the neighbour table here knows that for 255.255.255.255 (and for a
            // `brd` address), so the frame is addressed through it.
            route = OutputRoute(device: route.device, nextHop: .broadcast, source: route.source, type: .broadcast, route: route.route)
        }
        if route.type == .broadcast && !broadcast { throw KernelError(.EACCES) }
        return route
    }

    private func transmit(_ data: [UInt8], to dst: IPv4Address, port: UInt16) throws -> Int {
        let ns = namespace
        let route = try outputRoute(to: dst)
        let total = IPv4Header.minimumLength + UDPHeader.headerLength + data.count
        // Kernel: __ip_append_data(): 65535 bytes at most; DF demanded and too big -> EMSGSIZE.
        guard total <= 0xffff else { throw KernelError(.EMSGSIZE) }
        let mtu = route.device.mtu
        let dfDemanded = pmtuDiscovery == .do || pmtuDiscovery == .probe
        if dfDemanded && total > mtu { throw KernelError(.EMSGSIZE) }
        // Kernel: sock_alloc_send_pskb(): a pending error fails the send, once.
        if let e = takeError() { throw KernelError(e) }
        let df = dfDemanded || (pmtuDiscovery == .want && total <= mtu)
        var h = IPv4Header(totalLength: UInt16(total), dontFragment: df,
                           ttl: ttl ?? ns.ipv4.defaultTTL, proto: .udp, source: route.source,
                           destination: dst, tos: tos)
        if isConnected {
            inetID &+= 1
            h.identification = ns.selectIdent(h, connectedSocketID: inetID)
        } else {
            h.identification = ns.selectIdent(h, pmtuDo: dfDemanded)
        }
        var udp = UDPDatagram(sourcePort: localPort, destinationPort: port, payload: data).bytes(source: route.source, destination: dst)
        // udp_send_skb(): a device that completes checksums gets only the pseudo-header sum
        // (veth, bridge, lo: what a capture on the sending host shows).
        if tcpDeviceOffloadsChecksum(route.device) {
            UDPView.fillPartialChecksum(&udp, at: 0, source: route.source, destination: dst)
        }
        ns.kernel.trace(ns, route.device, .socket, "udp \(route.source):\(localPort) > \(dst):\(port) length \(data.count)")
        if let e = ns.ipSendLocal(h, payload: udp, route: route) { throw KernelError(e) }
        return data.count
    }

    // MARK: - receive and errors

    /// Kernel: udp_recvmsg(): a pending error first (once), then the oldest datagram; nil
    /// when the queue is empty (EAGAIN for a non-blocking socket).
    public func receive() throws -> UDPReceived? {
        if let e = takeError() { throw KernelError(e) }
        guard !receiveQueue.isEmpty else { return nil }
        let d = receiveQueue.removeFirst()
        lastTTL = d.ttl
        return d
    }

    /// Kernel: sock_error() (also SO_ERROR): the pending error, cleared.
    public func takeError() -> Errno? {
        defer { pendingError = nil }
        return pendingError
    }

    /// Kernel: ip_recv_error(): the oldest error-queue entry; sk_err becomes the next one's.
    public func readErrorQueue() -> SocketError? {
        guard !errorQueue.isEmpty else { return nil }
        let e = errorQueue.removeFirst()
        errorQueueErrnos.removeFirst()
        pendingError = errorQueueErrnos.first
        return e
    }

    func deliver(_ d: UDPReceived) {
        if let cb = onReceive {
            lastTTL = d.ttl
            cb(d.data, d.from, d.port)
        } else {
            receiveQueue.append(d)
        }
    }

    /// The end of __udp4_lib_err(): queue (IP_RECVERR) and/or set sk_err.
    func reportError(_ e: SocketError, errno: Errno, hard: Bool, ttl: UInt8) {
        if !recvErr {
            guard hard && isConnected else { return }
        } else {
            errorQueue.append(e)
            errorQueueErrnos.append(errno)
        }
        pendingError = errno
        onErrorReport?(errno)
        if recvErr, let cb = onError, let entry = readErrorQueue() {
            lastTTL = ttl
            cb(entry)
        }
    }

    /// Kernel: udp_lib_close(): the port is released; queued data and errors are dropped.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        table.bound.removeAll { $0 === self }
        table.all.removeAll { $0 === self }
        receiveQueue.removeAll()
        errorQueue.removeAll()
        errorQueueErrnos.removeAll()
        onReceive = nil
        onError = nil
        onErrorReport = nil
        encapReceive = nil
    }
}

extension NetNamespace {
    /// socket(AF_INET, SOCK_DGRAM, 0).
    public func openUDPSocket() -> UDPSocket {
        let s = UDPSocket(namespace: self)
        inetState.udp.all.append(s)
        return s
    }

    /// Open UDP sockets in creation order (what `ss -u` walks, in a stable order).
    public var udpSockets: [UDPSocket] { inetState.udp.all }

    /// Kernel: __udp4_lib_lookup() in net/ipv4/udp.c: sockets bound to `daddr` itself first, then wildcard ones;
    /// in each, the best compute_score() (a connected socket must match the peer and scores
    /// higher), the newest on a tie.
    func udpLookup(saddr: IPv4Address, sport: UInt16, daddr: IPv4Address, dport: UInt16) -> UDPSocket? {
        let bound = inetState.udp.bound
        func best(_ addr: IPv4Address) -> UDPSocket? {
            var result: UDPSocket?
            var badness = 0
            for s in bound where s.localPort == dport && s.localAddress == addr {
                var score = 2
                if !s.remoteAddress.isZero {
                    if s.remoteAddress != saddr { continue }
                    score += 4
                }
                if s.remotePort != 0 {
                    if s.remotePort != sport { continue }
                    score += 4
                }
                if score > badness {
                    result = s
                    badness = score
                }
            }
            return result
        }
        if let s = best(daddr) { return s }
        return best(.any)
    }

    /// Kernel: udp_rcv() -> __udp4_lib_rcv() in net/ipv4/udp.c. Called from ip_local_deliver for protocol 17;
    /// raw sockets that took a copy do not stop the port unreachable.
    func udpReceive(_ dev: NetDevice, _ p: Packet, hadRawSocket: Bool) {
        let o = p.network
        let u = o + IPv4View.headerLength(p.bytes, at: o)
        let ipEnd = min(p.bytes.count, o + IPv4View.totalLength(p.bytes, at: o))
        guard ipEnd - u >= UDPHeader.headerLength else {
            kernel.trace(self, dev, .drop, "udp: short packet (\(DropReason.pktTooSmall.rawValue))")
            return
        }
        let ulen = UDPView.length(p.bytes, at: u)
        guard ulen >= UDPHeader.headerLength, ulen <= ipEnd - u else {
            kernel.trace(self, dev, .drop, "udp: length \(ulen) of \(ipEnd - u) bytes (\(DropReason.pktTooSmall.rawValue))")
            return
        }
        let src = IPv4View.source(p.bytes, at: o), dst = IPv4View.destination(p.bytes, at: o)
        let sport = UDPView.sourcePort(p.bytes, at: u), dport = UDPView.destinationPort(p.bytes, at: u)
        let checksum = UDPView.verifyChecksum(p.bytes, at: u, length: ulen, source: src, destination: dst)
        let badChecksum: Bool
        if case .invalid = checksum { badChecksum = true } else { badChecksum = false }
        // Built only for a socket that queues it (a tunnel socket takes the packet itself).
        func datagram() -> UDPReceived {
            UDPReceived(data: Array(p.bytes[(u + UDPHeader.headerLength)..<(u + ulen)]),
                        from: src, port: sport, ttl: IPv4View.ttl(p.bytes, at: o))
        }
        // Only built when a tracepoint is listened to.
        var what: String { "\(src).\(sport) > \(dst).\(dport)" }

        /// Kernel: udp_queue_rcv_one_skb(): an encapsulation socket's encap_rcv takes the
        /// packet; any other socket queues the datagram.
        func queue(_ sk: UDPSocket) {
            if let encap = sk.encapReceive {
                kernel.trace(self, dev, .deliver, "udp \(what) to tunnel socket \(sk.localAddress):\(sk.localPort)")
                encap(p, dev)
                return
            }
            kernel.trace(self, dev, .deliver, "udp \(what) to socket \(sk.localAddress):\(sk.localPort)")
            sk.deliver(datagram())
        }

        // Kernel: __udp4_lib_mcast_deliver(): broadcasts and multicasts go to every match.
        if dst.isLimitedBroadcast || dst.isMulticast || p.pktType == .broadcast
            || fib.lookup(dst, table: RouteTable.local, oif: nil)?.type == .broadcast {
            let matches = inetState.udp.bound.filter { s in
                s.localPort == dport && (s.localAddress.isZero || s.localAddress == dst)
                    && (s.remoteAddress.isZero || s.remoteAddress == src) && (s.remotePort == 0 || s.remotePort == sport)
            }
            guard !matches.isEmpty else {
                kernel.trace(self, dev, .drop, "udp \(what): no socket for a broadcast (\(DropReason.noSocket.rawValue))")
                return
            }
            guard !badChecksum else {
                kernel.trace(self, dev, .drop, "udp \(what): bad checksum (UDP_CSUM)")
                return
            }
            for s in matches where !s.isClosed { queue(s) }
            return
        }

        guard let sk = udpLookup(saddr: src, sport: sport, daddr: dst, dport: dport) else {
            // Kernel: the checksum is verified before the port is declared closed.
            guard !badChecksum else {
                kernel.trace(self, dev, .drop, "udp \(what): bad checksum (UDP_CSUM)")
                return
            }
            kernel.trace(self, dev, .drop, "udp \(what): port \(dport) closed (\(DropReason.noSocket.rawValue))")
            icmpSendError(p, type: .destinationUnreachable, code: 3, inDevice: dev)
            return
        }
        guard !badChecksum else {
            kernel.trace(self, dev, .drop, "udp \(what): bad checksum (UDP_CSUM)")
            return
        }
        queue(sk)
    }

    /// Kernel: udp_err(): an ICMP error about a datagram we sent (entry for transportError,
    /// which does not know the quoted source address).
    func udpError(_ e: SocketError) {
        udpError(e, source: nil, errorTTL: 0)
    }

    /// Kernel: __udp4_lib_err() in net/ipv4/udp.c: find the socket that sent the quoted datagram, map the error
    /// to an errno (icmp_err_convert[]) and report it. `source` is the quoted source address.
    func udpError(_ e: SocketError, source: IPv4Address?, errorTTL: UInt8) {
        guard e.original.count >= 8 else { return }
        let sport = e.original.u16(at: 0), dport = e.original.u16(at: 2)
        let sk: UDPSocket?
        if let source {
            sk = udpLookup(saddr: e.originalDestination, sport: dport, daddr: source, dport: sport)
        } else {
            sk = inetState.udp.bound.first { $0.localPort == sport
                && ($0.remoteAddress.isZero || $0.remoteAddress == e.originalDestination) }
        }
        guard let sk, !sk.isClosed else {
            kernel.trace(self, nil, .icmp, "icmp error for udp port \(sport): no socket")
            return
        }
        var err: Errno
        var hard = false
        switch e.type {
        case 11:
            err = .EHOSTUNREACH
        case 12:
            err = .EPROTO
            hard = true
        case 3:
            if e.code == 4 {
                // ipv4_sk_update_pmtu(); only a socket doing PMTU discovery hears of it.
                guard sk.pmtuDiscovery != .dont else { return }
                err = .EMSGSIZE
                hard = true
            } else {
                guard let c = UDPSocket.unreachErrors[safe: Int(e.code)] else { return }
                err = c.errno
                hard = c.fatal
            }
        default:
            return  // source quench, redirect: not reported
        }
        kernel.trace(self, nil, .socket, "udp \(sk.localAddress):\(sk.localPort): \(err.message)")
        sk.reportError(e, errno: err, hard: hard, ttl: errorTTL)
    }
}

extension UDPSocket {
    /// Kernel: icmp_err_convert[] in net/ipv4/icmp.c, by destination-unreachable code.
    static let unreachErrors: [(errno: Errno, fatal: Bool)] = [
        (.ENETUNREACH, false), (.EHOSTUNREACH, false), (.ENOPROTOOPT, true), (.ECONNREFUSED, true),
        (.EMSGSIZE, false), (.ENOTSUP, false), (.ENETUNREACH, true), (.EHOSTDOWN, true),
        (.ENONET, true), (.ENETUNREACH, true), (.EHOSTUNREACH, true), (.ENETUNREACH, false),
        (.EHOSTUNREACH, false), (.EHOSTUNREACH, true), (.EHOSTUNREACH, true), (.EHOSTUNREACH, true),
    ]
}

private extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
