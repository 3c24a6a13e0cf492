// ConntrackTuple: net/netfilter/nf_conntrack_core.c's view of a packet: the tuple (addresses,
// protocol, ports or ICMP id/type/code) and its inverse, read straight from the packet bytes.

import Wire

/// Kernel: struct nf_conntrack_tuple (IPv4 only).
public struct CTTuple: Hashable, Sendable {
    public var src: IPv4Address
    public var dst: IPv4Address
    public var proto: IPProtocol
    /// TCP/UDP source port; ICMP identifier.
    public var srcPort: UInt16
    /// TCP/UDP destination port; ICMP type << 8 | code.
    public var dstPort: UInt16

    public var icmpType: UInt8 { UInt8(dstPort >> 8) }
    public var icmpCode: UInt8 { UInt8(truncatingIfNeeded: dstPort) }

    /// Kernel: nf_ct_invert_tuple(): the tuple of the answers (echo request <-> reply).
    public var inverted: CTTuple {
        if proto == .icmp {
            let reply: [UInt8: UInt8] = [8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17]
            let t = reply[icmpType] ?? icmpType
            return CTTuple(src: dst, dst: src, proto: proto, srcPort: srcPort, dstPort: UInt16(t) << 8 | UInt16(icmpCode))
        }
        return CTTuple(src: dst, dst: src, proto: proto, srcPort: dstPort, dstPort: srcPort)
    }
}

/// What conntrack reads of a packet besides the tuple.
struct CTPacketInfo {
    var tuple: CTTuple
    /// Offset of the transport header.
    var l4: Int
    var tcpFlags: UInt8 = 0
    /// An ICMP error, with the tuple of the packet it quotes and where that packet starts.
    var icmpError: (inner: CTTuple, innerIP: Int)?
}

enum CTParse {
    static let tcpFIN: UInt8 = 0x01, tcpSYN: UInt8 = 0x02, tcpRST: UInt8 = 0x04, tcpACK: UInt8 = 0x10

    /// Kernel: nf_ct_get_tuple(): nil for fragments and for what it cannot follow; protocols
    /// without a tracker of their own (IGMP, GRE, ...) are tracked by address only, as
    /// nf_conntrack_generic does.
    static func info(_ b: [UInt8], ip o: Int) -> CTPacketInfo? {
        guard b.count >= o + 20 else { return nil }
        let ihl = IPv4View.headerLength(b, at: o)
        let l4 = o + ihl
        let src = IPv4View.source(b, at: o), dst = IPv4View.destination(b, at: o)
        let proto = IPv4View.proto(b, at: o)
        if b.u16(at: o + 6) & 0x1fff != 0 { return nil }
        switch proto {
        case .tcp, .udp:
            guard b.count >= l4 + 8 else { return nil }
            var i = CTPacketInfo(tuple: CTTuple(src: src, dst: dst, proto: proto, srcPort: b.u16(at: l4), dstPort: b.u16(at: l4 + 2)), l4: l4)
            if proto == .tcp {
                guard b.count >= l4 + 14 else { return nil }
                i.tcpFlags = b[l4 + 13]
            }
            return i
        case .icmp:
            guard b.count >= l4 + 8 else { return nil }
            let type = b[l4], code = b[l4 + 1]
            if ICMPv4Type(rawValue: type).isError {
                // The quoted packet: its own tuple, as it was sent.
                let inner = l4 + 8
                guard b.count >= inner + 20, let q = innerTuple(b, ip: inner) else { return nil }
                var i = CTPacketInfo(tuple: CTTuple(src: src, dst: dst, proto: proto, srcPort: 0, dstPort: UInt16(type) << 8 | UInt16(code)), l4: l4)
                i.icmpError = (q, inner)
                return i
            }
            guard [0, 8, 13, 14, 15, 16, 17, 18].contains(type) else { return nil }
            return CTPacketInfo(tuple: CTTuple(src: src, dst: dst, proto: proto, srcPort: b.u16(at: l4 + 4), dstPort: UInt16(type) << 8 | UInt16(code)), l4: l4)
        default:
            return CTPacketInfo(tuple: CTTuple(src: src, dst: dst, proto: proto, srcPort: 0, dstPort: 0), l4: l4)
        }
    }

    /// The tuple of a packet quoted in an ICMP error (its first 8 transport bytes suffice).
    static func innerTuple(_ b: [UInt8], ip o: Int) -> CTTuple? {
        let ihl = IPv4View.headerLength(b, at: o)
        let l4 = o + ihl
        guard b.count >= l4 + 8 else { return nil }
        let src = IPv4View.source(b, at: o), dst = IPv4View.destination(b, at: o)
        let proto = IPv4View.proto(b, at: o)
        switch proto {
        case .tcp, .udp: return CTTuple(src: src, dst: dst, proto: proto, srcPort: b.u16(at: l4), dstPort: b.u16(at: l4 + 2))
        case .icmp: return CTTuple(src: src, dst: dst, proto: proto, srcPort: b.u16(at: l4 + 4), dstPort: UInt16(b[l4]) << 8 | UInt16(b[l4 + 1]))
        default: return nil
        }
    }
}

/// Names conntrack-tools and /proc/net/nf_conntrack print.
public enum CTFormat {
    public static func protoName(_ p: IPProtocol) -> String {
        switch p {
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .icmp: return "icmp"
        default: return "unknown"
        }
    }
}
