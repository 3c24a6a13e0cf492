// ICMP: net/ipv4/icmp.c. Answering echo requests, and sending the errors the stack raises
// (unreachable, time exceeded, fragmentation needed) with the kernel's addressing and limits.
// Guarantees: no error about an ICMP error, a broadcast or a non-first fragment; errors carry
// the offending IP header plus data up to 576 bytes in all; TOS 0xc0 on errors.
// Leaves out (for now): the per-destination rate limit.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: icmp_rcv().
    func icmpReceive(_ dev: NetDevice, _ p: Packet) {
        let o = p.network
        let ihl = IPv4View.headerLength(p.bytes, at: o)
        let end = o + IPv4View.totalLength(p.bytes, at: o)
        guard let (icmp, ok) = try? ICMPv4Packet.parse(p.bytes, at: o + ihl, end: end), ok else {
            kernel.trace(self, dev, .drop, "bad icmp checksum")
            return
        }
        let dst = IPv4View.destination(p.bytes, at: o)
        let src = IPv4View.source(p.bytes, at: o)
        switch icmp.type {
        case .echoRequest:
            if ipv4.icmpEchoIgnoreAll { return }
            if !isLocalAddress(dst) && ipv4.icmpEchoIgnoreBroadcasts { return }
            icmpEchoReply(to: src, from: dst, request: icmp, tos: p.bytes[o + 1])
        case .destinationUnreachable, .timeExceeded, .parameterProblem:
            kernel.trace(self, dev, .icmp, "icmp type \(icmp.type.rawValue) code \(icmp.code) from \(src)")
            icmpUnreach(icmp, from: src)
        default:
            kernel.trace(self, dev, .icmp, "icmp type \(icmp.type.rawValue) code \(icmp.code) from \(src)")
        }
    }

    /// Kernel: icmp_unreach() -> icmp_socket_deliver(): hand the error to the protocol of the
    /// packet it quotes (raw sockets here; UDP and TCP sockets with the transport layer).
    func icmpUnreach(_ icmp: ICMPv4Packet, from src: IPv4Address) {
        guard let (inner, _) = try? IPv4Header.parse(icmp.payload, at: 0),
              icmp.payload.count >= inner.headerLength + 8 else { return }
        let e = SocketError(offender: src, type: icmp.type.rawValue, code: icmp.code,
                            info: icmp.type == .destinationUnreachable && icmp.code == 4 ? icmp.rest & 0xffff : (icmp.type == .parameterProblem ? icmp.rest : 0),
                            originalProto: inner.proto, original: Array(icmp.payload[inner.headerLength...]),
                            originalDestination: inner.destination)
        rawError(e)
        transportError(e)
    }

    /// Kernel: icmp_echo() -> icmp_reply(): same payload, the request's destination as source.
    func icmpEchoReply(to dst: IPv4Address, from src: IPv4Address, request: ICMPv4Packet, tos: UInt8) {
        guard let route = try? routeOutput(to: dst, source: isLocalAddress(src) ? src : nil) else {
            kernel.trace(self, nil, .drop, "no route for echo reply to \(dst)")
            return
        }
        let payload = ICMPv4Packet(type: .echoReply, code: 0, rest: request.rest, payload: request.payload).bytes
        var h = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + payload.count), dontFragment: false,
                           ttl: ipv4.defaultTTL, proto: .icmp, source: route.source, destination: dst, tos: tos)
        h.identification = selectIdent(h)
        ipSendLocal(h, payload: payload, route: route)
    }

    /// Kernel: __icmp_send(): an error about packet `p` (which starts at p.network).
    func icmpSendError(_ p: Packet, type: ICMPv4Type, code: UInt8, inDevice: NetDevice?, nextHopMTU: UInt16 = 0) {
        let o = p.network
        guard let (orig, _) = try? IPv4Header.parse(p.bytes, at: o) else { return }
        // Never about a broadcast/multicast, a non-first fragment, or an ICMP error.
        if orig.destination.isMulticast || orig.destination.isLimitedBroadcast || orig.fragmentOffset != 0 { return }
        if p.pktType == .broadcast || p.pktType == .multicast { return }
        if orig.proto == .icmp {
            let t = p.bytes.count > o + orig.headerLength ? p.bytes[o + orig.headerLength] : 0
            if ICMPv4Type(rawValue: t).isError { return }
        }
        var src: IPv4Address? = isLocalAddress(orig.destination) ? orig.destination : nil
        if src == nil, let d = inDevice {
            src = selectSourceAddress(dev: d, dst: orig.source, scope: .link)
        }
        guard let route = try? routeOutput(to: orig.source, source: nil) else { return }
        let source = src ?? route.source
        let room = 576 - IPv4Header.minimumLength - ICMPv4Packet.headerLength
        let quoted = Array(p.bytes[o..<min(p.bytes.count, o + room)])
        let rest: UInt32 = (type == .destinationUnreachable && code == 4) ? UInt32(nextHopMTU) : 0
        let payload = ICMPv4Packet(type: type, code: code, rest: rest, payload: quoted).bytes
        var h = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + payload.count), dontFragment: false,
                           ttl: ipv4.defaultTTL, proto: .icmp, source: source, destination: orig.source,
                           tos: (orig.tos & 0x1e) | 0xc0)
        h.identification = selectIdent(h)
        kernel.trace(self, route.device, .icmp, "sending icmp type \(type.rawValue) code \(code) to \(orig.source)")
        ipSendLocal(h, payload: payload, route: route)
    }

    /// Kernel: arp_error_report() -> ipv4_link_failure(): the sender of a packet whose next hop
    /// never answered learns it through ICMP host unreachable.
    func neighbourFailed(_ p: Packet, device: NetDevice) {
        icmpSendError(p, type: .destinationUnreachable, code: 1, inDevice: nil)
    }
}
