// Raw: net/ipv4/raw.c. SOCK_RAW sockets: what ping (running as root) uses. Each gets a copy
// of every arriving packet of its protocol that passes its ICMP filter; sending builds the IP
// header as raw_sendmsg() does without IP_HDRINCL.

import SimCore
import Wire

/// An entry of a socket's error queue (struct sock_extended_err with SO_EE_ORIGIN_ICMP).
public struct SocketError {
    /// Who sent the ICMP error.
    public let offender: IPv4Address
    public let type: UInt8
    public let code: UInt8
    /// ee_info: the next-hop MTU for "fragmentation needed".
    public let info: UInt32
    /// Protocol of the packet the error is about, and that packet's transport header and
    /// data (what recvmsg(MSG_ERRQUEUE) returns as the payload).
    public let originalProto: IPProtocol
    public let original: [UInt8]
    public let originalDestination: IPv4Address
}

public final class RawSocket {
    public unowned(unsafe) let namespace: NetNamespace
    public let proto: IPProtocol
    /// IP_TTL; nil uses net.ipv4.ip_default_ttl.
    public var ttl: UInt8?
    /// SO_BROADCAST: sending to a broadcast address is allowed (else EACCES).
    public var broadcast = false
    /// IP_MTU_DISCOVER.
    public var pmtuDiscovery: PMTUDiscovery = .want
    /// SO_BINDTODEVICE: output goes through this device (a route through another is not used).
    public var boundDevice: NetDevice?
    /// bind(): the source address of what the socket sends.
    public var boundAddress: IPv4Address?
    /// ICMP_FILTER: types that are delivered (nil: all).
    public var icmpFilter: Set<UInt8>?
    /// Called with the packet (IP header at `network`) when one arrives.
    public var onReceive: ((Packet) -> Void)?
    /// IP_RECVERR: ICMP errors about packets this socket sent land on its error queue.
    public var recvErr = false
    /// Called with each error-queue entry (MSG_ERRQUEUE read).
    public var onError: ((SocketError) -> Void)?
    public private(set) var isClosed = false

    init(namespace: NetNamespace, proto: IPProtocol) {
        self.namespace = namespace
        self.proto = proto
    }

    /// Kernel: raw_sendmsg(): route, header (DF when it fits and PMTU discovery is "want";
    /// ID 0 for DF packets of an unconnected socket), then ip_local_out.
    public func send(to dst: IPv4Address, payload: [UInt8], tos: UInt8 = 0) throws {
        let ns = namespace
        var route = try ns.routeOutput(to: dst, source: boundAddress, oif: boundDevice)
        if route.type == .broadcast {
            guard broadcast else { throw KernelError(.EACCES) } // SO_BROADCAST not set
            // The neighbour of a broadcast route has the device's broadcast address
            // (arp_constructor()), whether or not the address was added with `brd`.
            route = OutputRoute(device: route.device, nextHop: .broadcast, source: route.source, type: .broadcast, route: route.route)
        }
        let total = IPv4Header.minimumLength + payload.count
        guard total <= 65535 else { throw KernelError(.EMSGSIZE) }
        // A zero destination is this host: the lookup rewrote it to the source (fl4->daddr).
        let daddr = dst.isZero ? route.nextHop : dst
        // Kernel: ip_append_data(): DF demanded and too big is EMSGSIZE (the MTU goes to the
        // error queue: here in the error's text); "want" sets DF when the packet fits.
        let mtu = route.device.mtu
        let dfDemanded = pmtuDiscovery == .do || pmtuDiscovery == .probe
        if dfDemanded && total > mtu { throw KernelError(.EMSGSIZE, "\(mtu)") }
        let df = dfDemanded || (pmtuDiscovery == .want && total <= mtu)
        var h = IPv4Header(totalLength: UInt16(total), dontFragment: df,
                           ttl: ttl ?? ns.ipv4.defaultTTL, proto: proto, source: route.source, destination: daddr, tos: tos)
        h.identification = ns.selectIdent(h)
        if let e = ns.ipSendLocal(h, payload: payload, route: route) { throw KernelError(e) }
    }

    public func close() {
        isClosed = true
        namespace.rawSockets.removeAll { $0 === self }
    }
}

extension NetNamespace {
    public func openRawSocket(proto: IPProtocol) -> RawSocket {
        let s = RawSocket(namespace: self, proto: proto)
        rawSockets.append(s)
        return s
    }

    /// Kernel: raw_icmp_error() -> raw_err() -> ip_icmp_error(): an ICMP error about a packet
    /// of protocol `proto` goes to the error queue of every raw socket of that protocol with
    /// IP_RECVERR on.
    func rawError(_ e: SocketError) {
        for s in rawSockets where s.proto == e.originalProto && s.recvErr && !s.isClosed {
            s.onError?(e)
        }
    }

    /// Kernel: raw_local_deliver(): a copy to every matching raw socket. True if any matched.
    func rawDeliver(_ p: Packet) -> Bool {
        guard !rawSockets.isEmpty else { return false }
        let proto = IPv4View.proto(p.bytes, at: p.network)
        var matched = false
        for s in rawSockets where s.proto == proto && !s.isClosed {
            matched = true
            if proto == .icmp, let f = s.icmpFilter {
                let ihl = IPv4View.headerLength(p.bytes, at: p.network)
                guard p.bytes.count > p.network + ihl, f.contains(p.bytes[p.network + ihl]) else { continue }
            }
            s.onReceive?(p)
        }
        return matched
    }
}

extension NetNamespace {
    /// Kernel: icmp_socket_deliver(): the error goes to the protocol of the quoted packet.
    func transportError(_ e: SocketError) {
        if e.originalProto == .udp { udpError(e) }
        if e.originalProto == .tcp { tcpError(e) }
    }
}
