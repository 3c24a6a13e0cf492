// Output: net/ipv4/route.c (output routes) and ip_output.c. Choosing the device, next hop and
// source address for a locally generated packet, then LOCAL_OUT, POSTROUTING and the
// neighbour layer.
// Guarantees: the errors are the kernel's (ENETUNREACH with no route; EHOSTUNREACH, EACCES,
// EINVAL for unreachable, prohibit and blackhole routes); packets to a local address go
// through lo.

import SimCore
import Wire

/// Kernel: struct rtable for an output route, reduced to what the stack uses.
public struct OutputRoute {
    public let device: NetDevice
    public let nextHop: IPv4Address
    public let source: IPv4Address
    public let type: RouteType
    public let route: Route?
}

extension NetNamespace {
    /// Kernel: ip_route_output_key_hash_rcu().
    public func routeOutput(to dst: IPv4Address, source: IPv4Address? = nil, oif: NetDevice? = nil) throws -> OutputRoute {
        if let s = source, !s.isZero {
            // A multicast or broadcast source is invalid; one this host does not own finds no
            // route (rth = ERR_PTR(-ENETUNREACH) when __ip_dev_find() fails).
            if s.isMulticast || s.isLimitedBroadcast { throw KernelError(.EINVAL) }
            if !isLocalAddress(s) { throw KernelError(.ENETUNREACH) }
        }
        if dst.isLimitedBroadcast || dst.isMulticast, let o = oif {
            let src = source ?? selectSourceAddress(dev: o, dst: dst, scope: .link) ?? .any
            return OutputRoute(device: o, nextHop: dst, source: src, type: dst.isMulticast ? .multicast : .broadcast, route: nil)
        }
        if dst.isZero {
            // A zero destination means "this host": deliver through lo (as Linux does).
            let src = source ?? IPv4Address(127, 0, 0, 1)
            return OutputRoute(device: loopback, nextHop: src, source: src, type: .local, route: nil)
        }
        guard let res = fib.lookup(dst, oif: oif) else {
            if let o = oif {
                // "Apparently, routing tables are wrong. Assume, that the destination is on
                // link": a socket bound to a device reaches any address there.
                let src = source ?? selectSourceAddress(dev: o, dst: .any, scope: .link) ?? .any
                return OutputRoute(device: o, nextHop: dst, source: src, type: .unicast, route: nil)
            }
            kernel.trace(self, oif, .route, "no route to \(dst) (\(DropReason.ipOutNoRoutes.rawValue))")
            throw KernelError(.ENETUNREACH)
        }
        let r = res.route
        switch r.type {
        case .unreachable: throw KernelError(.EHOSTUNREACH)
        case .prohibit: throw KernelError(.EACCES)
        case .blackhole: throw KernelError(.EINVAL)
        case .throwRoute: throw KernelError(.ENETUNREACH)
        default: break
        }
        if r.type == .local {
            let src = source ?? r.preferredSource ?? dst
            return OutputRoute(device: loopback, nextHop: dst, source: src, type: .local, route: r)
        }
        guard let dev = r.device else { throw KernelError(.ENETUNREACH) }
        let src = source ?? r.preferredSource
            ?? selectSourceAddress(dev: dev, dst: r.gateway ?? dst, scope: r.gateway == nil ? .link : .universe)
            ?? .any
        return OutputRoute(device: dev, nextHop: r.gateway ?? dst, source: src, type: r.type, route: r)
    }

    /// Builds the IP header in front of `payload` (leaving room for the link header) and sends
    /// it: Kernel: ip_local_out() -> __ip_local_out() (LOCAL_OUT) -> ip_output().
    /// Returns the error sendmsg() reports: EPERM when a netfilter hook dropped the packet
    /// (nf_hook_slow()), the routing error when OUTPUT DNAT leads nowhere; nil once the
    /// packet is on its way (what happens past the hooks is not the sender's business).
    @discardableResult
    func ipSendLocal(_ header: IPv4Header, payload: [UInt8], route: OutputRoute) -> Errno? {
        var h = header
        let link = EthernetHeader.length
        var bytes = [UInt8](repeating: 0, count: link + h.headerLength + payload.count)
        h.emit(into: &bytes, at: link)
        let start = link + h.headerLength
        for (i, b) in payload.enumerated() { bytes[start + i] = b }
        var p = Packet(bytes: bytes, network: link)
        guard netfilterHook(.localOut, &p, inDevice: nil, outDevice: route.device) == .accept else { return .EPERM }
        var route = route
        if p.needsReroute {
            // Kernel: ip_route_me_harder(): OUTPUT DNAT changed the destination.
            p.needsReroute = false
            let dst = IPv4View.destination(p.bytes, at: p.network)
            do {
                route = try routeOutput(to: dst, source: IPv4View.source(p.bytes, at: p.network))
            } catch {
                kernel.trace(self, nil, .drop, "no route to \(dst) after DNAT (\(DropReason.ipOutNoRoutes.rawValue))")
                return (error as? KernelError)?.errno ?? .EHOSTUNREACH
            }
        }
        return ipOutput(p, route: route)
    }

    /// Kernel: ip_output() -> POSTROUTING -> ip_finish_output() -> ip_finish_output2().
    /// POSTROUTING sees the device a forwarded packet came in on (skb->dev before ip_output()
    /// replaces it); a local packet has none. Returns EPERM when POSTROUTING dropped the packet.
    @discardableResult
    func ipOutput(_ p: Packet, route: OutputRoute, inDevice: NetDevice? = nil) -> Errno? {
        var p = p
        guard netfilterHook(.postRouting, &p, inDevice: inDevice, outDevice: route.device) == .accept else { return .EPERM }
        let dev = route.device
        let ipLen = p.bytes.count - p.network
        // Kernel: ip_finish_output(): a reassembled datagram is cut to its largest fragment.
        let mtu = p.fragMaxSize > 0 ? min(dev.mtu, p.fragMaxSize) : dev.mtu
        if ipLen > mtu {
            // Kernel: ip_fragment(): DF forbids it (a local DF packet never gets this far).
            guard p.bytes.u16(at: p.network + 6) & IPv4Header.flagDF == 0 else {
                kernel.trace(self, dev, .drop, "packet of \(ipLen) bytes exceeds mtu \(mtu), DF set")
                return nil
            }
            for f in ipFragment(p, mtu: mtu) { neighbours.output(f, nextHop: route.nextHop, dev: dev) }
            return nil
        }
        neighbours.output(p, nextHop: route.nextHop, dev: dev)
        return nil
    }

    /// Kernel: ip_select_ident(): a connected socket counts its own IDs; a DF packet of a
    /// socket in PMTU mode "do" gets 0; everything else draws from the hashed counters.
    func selectIdent(_ h: IPv4Header, connectedSocketID: UInt16? = nil, pmtuDo: Bool = false) -> UInt16 {
        if let c = connectedSocketID { return c }
        if h.dontFragment && pmtuDo { return 0 }
        return ipIdents.next(source: h.source, destination: h.destination, proto: h.proto, jiffies: machine.jiffiesNow)
    }
}
