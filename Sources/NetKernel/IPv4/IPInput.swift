// Input: net/ipv4/ip_input.c and the input half of route.c. A received IPv4 packet is checked,
// passes PREROUTING, is routed, then delivered locally (LOCAL_IN, raw sockets, protocol) or
// forwarded (FORWARD, POSTROUTING).
// Guarantees: the checks and their order are ip_rcv_core()'s and ip_route_input_slow()'s;
// every drop is traced with its SKB_DROP_REASON.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: ip_rcv() / ip_rcv_core().
    func ipReceive(_ dev: NetDevice, _ p: Packet) {
        var p = p
        if p.pktType == .otherHost {
            kernel.trace(self, dev, .drop, "not addressed to \(dev.name) (\(DropReason.otherHost.rawValue))")
            return
        }
        guard let (h, ok) = try? IPv4Header.parse(p.bytes, at: p.network) else {
            kernel.trace(self, dev, .drop, "bad ip header (\(DropReason.ipInvalidHeader.rawValue))")
            return
        }
        guard ok else {
            kernel.trace(self, dev, .drop, "bad ip checksum (\(DropReason.ipChecksum.rawValue))")
            return
        }
        let end = p.network + Int(h.totalLength)
        guard end <= p.bytes.count else {
            kernel.trace(self, dev, .drop, "truncated ip packet (\(DropReason.pktTooSmall.rawValue))")
            return
        }
        if end < p.bytes.count { p.bytes.removeSubrange(end...) }  // strip link-layer padding
        guard netfilterHook(.preRouting, &p, inDevice: dev, outDevice: nil) == .accept else { return }
        ipRouteInput(dev, p)
    }

    /// Kernel: ip_route_input_slow() then dst_input().
    func ipRouteInput(_ dev: NetDevice, _ p: Packet) {
        let src = IPv4View.source(p.bytes, at: p.network)
        let dst = IPv4View.destination(p.bytes, at: p.network)
        if src.isMulticast || src.isLimitedBroadcast {
            kernel.trace(self, dev, .drop, "martian source \(src) (\(DropReason.ipInvalidSource.rawValue))")
            return
        }
        if dst.isLimitedBroadcast || (src.isZero && dst.isZero) {
            ipLocalDeliver(dev, p)
            return
        }
        if dst.isMulticast {
            // Kernel: ip_route_input_mc() after ip_check_mc_rcu(): local delivery for a
            // group joined on the receiving device.
            if dev.igmp.groups.contains(dst) {
                ipLocalDeliver(dev, p)
                return
            }
            kernel.trace(self, dev, .drop, "multicast \(dst) not joined")
            return
        }
        if src.isZero || dst.isZero || (!dev.isLoopback && (src.isLoopback || dst.isLoopback)) {
            kernel.trace(self, dev, .drop, "martian \(src) -> \(dst) (\(DropReason.ipInvalidSource.rawValue))")
            return
        }
        guard let res = fib.lookup(dst) else {
            kernel.trace(self, dev, .drop, "no route to \(dst) (\(DropReason.ipInNoRoutes.rawValue))")
            if forwardingEnabled(dev) { icmpSendError(p, type: .destinationUnreachable, code: 0, inDevice: dev) }
            return
        }
        if (res.type == .local || res.type == .unicast || res.type == .broadcast) && !validateSource(src, dev: dev) { return }
        switch res.type {
        case .broadcast, .local:
            ipLocalDeliver(dev, p)
        case .unicast:
            guard forwardingEnabled(dev) else {
                kernel.trace(self, dev, .drop, "\(dst) is not local and forwarding is off (\(DropReason.ipForwardDisabled.rawValue))")
                return
            }
            ipForward(dev, p, route: res.route)
        default:
            kernel.trace(self, dev, .drop, "\(res.type.rawValue) route to \(dst) (\(DropReason.ipInNoRoutes.rawValue))")
            if forwardingEnabled(dev) {
                let code: UInt8 = res.type == .prohibit ? 13 : (res.type == .unreachable ? 1 : 0)
                if res.type != .blackhole { icmpSendError(p, type: .destinationUnreachable, code: code, inDevice: dev) }
            }
        }
    }

    /// Kernel: IN_DEV_FORWARD(): the device's forwarding setting (conf.all.forwarding sets all).
    func forwardingEnabled(_ dev: NetDevice) -> Bool { dev.ipv4Conf.forwarding }

    /// Kernel: fib_validate_source(): a source that is one of our own addresses is a martian
    /// (unless accept_local); with rp_filter 1 the route back to the source must leave through
    /// the device the packet came in on, with 2 some route back must exist.
    func validateSource(_ src: IPv4Address, dev: NetDevice) -> Bool {
        let mode = rpFilterMode(dev)
        let acceptLocal = ipv4.allConf.acceptLocal || dev.ipv4Conf.acceptLocal
        if dev.isLoopback { return true }
        if !acceptLocal && isLocalAddress(src) {
            kernel.trace(self, dev, .drop, "source \(src) is one of our addresses (\(DropReason.ipLocalSource.rawValue))")
            return false
        }
        guard mode != 0 else { return true }
        let back = fib.lookup(src)
        let ok: Bool
        switch back?.type {
        case .unicast?: ok = mode == 2 || back?.device === dev
        default: ok = false
        }
        if !ok {
            kernel.trace(self, dev, .drop, "no route back to \(src) via \(dev.name), rp_filter \(mode) (\(DropReason.ipRPFilter.rawValue))")
        }
        return ok
    }

    /// Kernel: IN_DEV_RPFILTER(): the larger of conf.all and the device's rp_filter.
    func rpFilterMode(_ dev: NetDevice) -> Int { max(ipv4.allConf.rpFilter, dev.ipv4Conf.rpFilter) }

    /// Kernel: ip_local_deliver() -> LOCAL_IN -> ip_local_deliver_finish().
    func ipLocalDeliver(_ dev: NetDevice, _ p: Packet) {
        var p = p
        if p.bytes.u16(at: p.network + 6) & 0x3fff != 0 {
            // Kernel: ip_defrag(IP_DEFRAG_LOCAL_DELIVER) before LOCAL_IN.
            guard let whole = ipDefrag(p, dev: dev, user: .localDeliver) else { return }
            p = whole
        }
        guard netfilterHook(.localIn, &p, inDevice: dev, outDevice: nil) == .accept else { return }
        let proto = IPv4View.proto(p.bytes, at: p.network)
        let hadRaw = rawDeliver(p)
        switch proto {
        case .icmp: icmpReceive(dev, p)
        case .udp: udpReceive(dev, p, hadRawSocket: hadRaw)
        case .tcp: tcpReceive(dev, p)
        default:
            if !hadRaw {
                kernel.trace(self, dev, .drop, "protocol \(proto.rawValue) has no handler (\(DropReason.unhandledProto.rawValue))")
                icmpSendError(p, type: .destinationUnreachable, code: 2, inDevice: dev)
            }
        }
    }

    /// Kernel: ip_forward() -> FORWARD -> ip_forward_finish() -> ip_output().
    func ipForward(_ dev: NetDevice, _ p: Packet, route: Route) {
        var p = p
        if p.pktType != .host {
            kernel.trace(self, dev, .drop, "forwarding a frame not addressed to us (\(DropReason.otherHost.rawValue))")
            return
        }
        let o = p.network
        if IPv4View.ttl(p.bytes, at: o) <= 1 {
            kernel.trace(self, dev, .drop, "ttl expired (\(DropReason.ipTTLExpired.rawValue))")
            icmpSendError(p, type: .timeExceeded, code: 0, inDevice: dev)
            return
        }
        guard let out = route.device else { return }
        let len = IPv4View.totalLength(p.bytes, at: o)
        let df = p.bytes.u16(at: o + 6) & IPv4Header.flagDF != 0
        if len > out.mtu && df {
            kernel.trace(self, dev, .drop, "needs fragmentation, DF set (mtu \(out.mtu))")
            icmpSendError(p, type: .destinationUnreachable, code: 4, inDevice: dev, nextHopMTU: UInt16(out.mtu))
            return
        }
        IPv4View.decrementTTL(&p.bytes, at: o)
        guard netfilterHook(.forward, &p, inDevice: dev, outDevice: out) == .accept else { return }
        let dst = IPv4View.destination(p.bytes, at: o)
        kernel.trace(self, out, .forward, "\(dst) via \(route.gateway.map { "\($0)" } ?? "direct") dev \(out.name)")
        let src = route.preferredSource ?? selectSourceAddress(dev: out, dst: dst, scope: .universe) ?? .any
        ipOutput(p, route: OutputRoute(device: out, nextHop: route.gateway ?? dst, source: src, type: .unicast, route: route), inDevice: dev)
    }
}
