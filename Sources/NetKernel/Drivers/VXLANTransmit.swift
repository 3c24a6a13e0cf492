// VXLANTransmit: what a vxlan device does with a frame it is given (vxlan_xmit(),
// vxlan_xmit_one(), udp_tunnel_xmit_skb(), iptunnel_xmit()): look the destination MAC up in
// the FDB (else the all-zeros default entry), and send one copy of the frame per remote inside
// outer IPv4 + UDP + VXLAN headers, routed and sent from the link namespace like any locally
// generated packet (LOCAL_OUT, POSTROUTING, the neighbour layer of the outer device).
// Models: the outer source port from the inner flow hash (VXLANFlowHash.swift), the TTL (the
// route's hop limit for "auto", 1 for a group, the inner TTL for "inherit"), TOS with ECN
// from the inner packet, DF (unset, set, inherit), the UDP checksum (the pseudo-header sum on
// a device that completes it, a full one otherwise, 0 with noudpcsum), the outer IP id from
// the hashed counters (__ip_select_ident()), the local bypass to a vxlan device of this machine,
// `proxy` (ARP requests answered from the device's own neighbour entries, arp_reduce()).
// Guarantees: every drop is traced with the kernel's drop reason.
// Leaves out: route short-circuit (rsc), the PMTU check of the outer route against an inner
// packet that fits the vxlan MTU but not the underlay (skb_tunnel_check_pmtu()): such an outer
// packet is dropped by ip_output as too big (fragmentation is not modelled), GSO.

import SimCore
import Wire

extension VXLANDevice {
    /// Kernel: vxlan_xmit().
    func vxlanXmit(_ p: Packet) {
        let ns = namespace
        let b = p.bytes
        guard b.count >= EthernetHeader.length else {
            ns.kernel.trace(ns, self, .drop, "vxlan: runt frame (PKT_TOO_SMALL)")
            return
        }
        if config.proxy && EthernetView.etherType(b) == .arp {
            arpReduce(p)
            return
        }
        let now = ns.machine.jiffiesNow
        let dst = EthernetView.destination(b)
        guard let f = fdb.findForTransmit(dst, now: now) ?? fdb.findForTransmit(.zero, now: now) else {
            if config.l2miss && !dst.isMulticast {
                // vxlan_fdb_miss(): an RTM_GETNEIGH notification for a listening daemon.
                ns.kernel.trace(ns, self, .neigh, "vxlan l2miss \(dst)")
            }
            stats.txDropped += 1
            ns.kernel.trace(ns, self, .drop, "vxlan: no fdb entry for \(dst) (NO_TX_TARGET)")
            return
        }
        // The first remote gets the original after the clones went to the others.
        for r in f.remotes.dropFirst() { xmitOne(p, r) }
        if let first = f.remotes.first { xmitOne(p, first) }
    }

    /// Kernel: vxlan_xmit_one() for an IPv4 underlay.
    func xmitOne(_ p: Packet, _ rdst: VXLANRemote) {
        let ns = namespace
        let net = linkNamespace
        let frame = p.bytes
        guard !rdst.ip.isZero else {
            stats.txDropped += 1
            ns.kernel.trace(ns, self, .drop, "vxlan: remote 0.0.0.0 (NOT_SPECIFIED)")
            return
        }
        let dport = rdst.port != 0 ? rdst.port : config.dstPort
        let vni = rdst.vni
        let innerType = EthernetView.etherType(frame)
        let innerIP = innerType == .ipv4 && frame.count >= EthernetHeader.length + IPv4Header.minimumLength
        let o = EthernetHeader.length
        var ttl: UInt8
        if config.ttlInherit {
            ttl = innerIP ? IPv4View.ttl(frame, at: o) : 0  // ip_tunnel_get_ttl()
        } else {
            ttl = config.ttl
            if ttl == 0 && rdst.ip.isMulticast { ttl = 1 }
        }
        var tos = config.tos
        if tos == 1 { tos = innerIP ? frame[o + 1] : 0 }  // ip_tunnel_get_dsfield()
        let sport = sourcePort(frame)

        // udp_tunnel_dst_lookup(): the outer route in the link namespace, through the entry's
        // (or the device's) lower device; a route back into this device is a loop.
        let oif = rdst.ifindex != 0 ? net.device(index: rdst.ifindex) : nil
        let route: OutputRoute
        do {
            route = try net.routeOutput(to: rdst.ip, source: config.local, oif: oif)
        } catch {
            stats.txDropped += 1
            ns.kernel.trace(ns, self, .drop, "vxlan: no route to \(rdst.ip) (IP_OUTNOROUTES)")
            return
        }
        if route.device === self {
            stats.txDropped += 1
            ns.kernel.trace(ns, self, .drop, "vxlan: circular route to \(rdst.ip) (IP_OUTNOROUTES)")
            return
        }
        if route.type == .local {
            encapBypass(p, port: dport, vni: vni)
            return
        }
        var df = false
        switch config.df {
        case .set: df = true
        case .inherit: df = innerType == .ipv6 || (innerIP && frame.u16(at: o + 6) & IPv4Header.flagDF != 0)
        case .unset: df = false
        }
        // ip_tunnel_ecn_encap(): the inner ECN bits (ECT(0) for CE).
        if innerIP {
            let inner = frame[o + 1] & 0x03
            tos = tos & ~0x03 | (inner == 0x03 ? 0x02 : inner)
        }
        if ttl == 0 { ttl = net.ipv4.defaultTTL }  // ip4_dst_hoplimit()

        // vxlan_build_skb() + udp_tunnel_xmit_skb(): UDP, VXLAN, then the frame.
        let udpLength = UDPHeader.headerLength + VXLANHeader.length + frame.count
        var payload = [UInt8](repeating: 0, count: UDPHeader.headerLength + VXLANHeader.length)
        payload.reserveCapacity(udpLength)
        UDPHeader(sourcePort: sport, destinationPort: dport, length: UInt16(truncatingIfNeeded: udpLength)).emit(into: &payload)
        VXLANHeader(vni: vni).emit(into: &payload, at: UDPHeader.headerLength)
        payload.append(contentsOf: frame)
        let src = route.source
        if config.udpChecksum {
            // udp_set_csum(): CHECKSUM_PARTIAL, completed by the device, or in software first.
            if tcpDeviceOffloadsChecksum(route.device) {
                UDPView.fillPartialChecksum(&payload, at: 0, source: src, destination: rdst.ip)
            } else {
                UDPView.fillChecksum(&payload, at: 0, source: src, destination: rdst.ip)
            }
        }
        var h = IPv4Header(totalLength: UInt16(truncatingIfNeeded: IPv4Header.minimumLength + udpLength),
                           dontFragment: df, ttl: ttl, proto: .udp, source: src, destination: rdst.ip, tos: tos)
        h.identification = net.selectIdent(h)
        ns.kernel.trace(ns, self, .tx, "vxlan vni \(vni) \(src).\(sport) > \(rdst.ip).\(dport) via \(route.device.name)")
        net.ipSendLocal(h, payload: payload, route: route)
    }

    /// The outer source port: udp_flow_src_port() over the device's `srcport` range, or the
    /// link namespace's ip_local_port_range when the range is empty.
    func sourcePort(_ frame: [UInt8]) -> UInt16 {
        var lo = config.sourcePortLow, hi = config.sourcePortHigh
        if lo >= hi {
            let r = linkNamespace.ipv4.ipLocalPortRange
            lo = UInt16(clamping: r.0)
            hi = UInt16(clamping: r.1)
        }
        return flowKey.sourcePort(frame: frame, min: lo, max: hi)
    }

    /// Kernel: encap_bypass_if_local() -> vxlan_encap_bypass(): a remote that is one of this
    /// machine's addresses gets the frame straight on the vxlan device of that port and VNI,
    /// learned (if it learns) as coming from 127.0.0.1.
    func encapBypass(_ p: Packet, port: UInt16, vni: UInt32) {
        let ns = namespace
        guard let dst = VXLANSocket.find(in: linkNamespace, port: port)?.device(vni: vni) else {
            stats.txDropped += 1
            ns.kernel.trace(ns, self, .drop, "vxlan: local bypass, no device for vni \(vni) (VXLAN_VNI_NOT_FOUND)")
            return
        }
        guard dst.adminUp else {
            ns.kernel.trace(ns, dst, .drop, "vxlan: local bypass to a device that is down (DEV_READY)")
            return
        }
        if dst.config.learning { _ = dst.snoop(EthernetView.source(p.bytes), from: IPv4Address(127, 0, 0, 1)) }
        var q = Packet(bytes: p.bytes)
        q.hops = p.hops + 1
        let k = ns.kernel
        k.deliver(q, to: dst, at: k.clock.now)
    }

    /// Kernel: arp_reduce(): with `proxy`, an ARP request is answered from this device's own
    /// neighbour table (entries the control plane installed) and never sent; without an entry,
    /// l3miss tells a listening daemon.
    func arpReduce(_ p: Packet) {
        let ns = namespace
        guard !flags.contains(.noARP),
              let arp = try? ARPPacket.parse(p.bytes, at: EthernetHeader.length), arp.isEthernetIPv4,
              arp.operation == .request, !arp.targetIP.isLoopback, !arp.targetIP.isMulticast else { return }
        guard let n = ns.neighbours.lookup(arp.targetIP, self) else {
            if config.l3miss { ns.kernel.trace(ns, self, .neigh, "vxlan l3miss \(arp.targetIP)") }
            return
        }
        guard !n.state.isDisjoint(with: .connected), let ll = n.lladdr else { return }
        // A bridge-local neighbour (its FDB entry has no remote) is left to the bridge.
        if let f = fdb.find(ll), let r = f.remotes.first, r.ip.isZero { return }
        // arp_create(ARPOP_REPLY, ...) then netif_rx(): the reply arrives on this device.
        var frame = [UInt8](repeating: 0, count: EthernetHeader.length + ARPPacket.length)
        EthernetHeader(destination: arp.senderMAC, source: ll, etherType: .arp).emit(into: &frame)
        ARPPacket(operation: .reply, senderMAC: ll, senderIP: arp.targetIP,
                  targetMAC: arp.senderMAC, targetIP: arp.senderIP).emit(into: &frame, at: EthernetHeader.length)
        ns.kernel.trace(ns, self, .arp, "vxlan proxy: \(arp.targetIP) is-at \(ll)")
        var q = Packet(bytes: frame)
        q.hops = p.hops + 1
        let k = ns.kernel
        k.deliver(q, to: self, at: k.clock.now)
    }
}
