// Rules: one iptables rule as the kernel keeps it: the fixed IPv4 part (struct ipt_ip:
// addresses with masks, interfaces with `+` wildcards, protocol, fragment flag, each with
// its `!`), a list of matches ANDed in order, one target, and the rule's counters.
// Guarantees: ip_packet_match() semantics (masked compare, ifname_compare_aligned() with the
// wildcard, protocol 0 = any); two rules are "the same" for -D and -C when everything but
// the counters is equal, as iptables compares them.

import Wire

/// An interface name as -i/-o give it: "eth0", or "eth+" (every name starting with "eth").
public struct XTIface: Sendable, Equatable {
    public var name: String
    public var wildcard: Bool

    public init(name: String, wildcard: Bool) {
        self.name = name
        self.wildcard = wildcard
    }

    /// Parses what -i/-o were given ("eth+" is a prefix; "+" alone matches everything).
    public init(_ text: String) {
        if text.hasSuffix("+") {
            name = String(text.dropLast())
            wildcard = true
        } else {
            name = text
            wildcard = false
        }
    }

    /// The text iptables prints ("eth+").
    public var text: String { wildcard ? name + "+" : name }

    /// Kernel: ifname_compare_aligned() with the rule's mask.
    @inline(__always)
    public func matches(_ dev: String) -> Bool {
        wildcard ? dev.hasPrefix(name) : dev == name
    }
}

/// Kernel: struct ipt_ip (the part every rule has).
public struct XTIPSpec: Sendable, Equatable {
    public var source = IPv4Address.any
    public var sourceMask: UInt32 = 0
    public var destination = IPv4Address.any
    public var destinationMask: UInt32 = 0
    public var inInterface: XTIface?
    public var outInterface: XTIface?
    /// 0: any protocol.
    public var proto: UInt8 = 0
    /// -f: second and further fragments only.
    public var fragment = false
    public var invertSource = false
    public var invertDestination = false
    public var invertIn = false
    public var invertOut = false
    public var invertProto = false
    public var invertFragment = false

    public init() {}

    /// No address, interface, protocol or fragment condition (Kernel: unconditional()).
    public var isUnconditional: Bool { self == XTIPSpec() }
}

/// One rule.
public struct XTRule: Sendable {
    public var ip: XTIPSpec
    public var matches: [XTMatch]
    public var target: XTTarget
    public var counters: XTCounters
    /// nf_tables' rule handle, unique in its table (0 until the rule is added to one).
    public internal(set) var handle: UInt64 = 0

    public init(ip: XTIPSpec = XTIPSpec(), matches: [XTMatch] = [], target: XTTarget = .none, counters: XTCounters = XTCounters()) {
        self.ip = ip
        self.matches = matches
        self.target = target
        self.counters = counters
    }

    /// Equal for -D and -C: everything but the counters.
    public func sameSpec(_ o: XTRule) -> Bool { ip == o.ip && matches == o.matches && target == o.target }

    /// Kernel: xt_check_match()'s protocol check: tcp, udp and icmp only for their own
    /// (not inverted) -p, multiport only for port protocols.
    var matchesValid: Bool {
        for m in matches {
            switch m {
            case .tcp: if ip.proto != 6 || ip.invertProto { return false }
            case .udp: if ip.proto != 17 || ip.invertProto { return false }
            case .icmp: if ip.proto != 1 || ip.invertProto { return false }
            case .multiport: if ![6, 17, 136, 132, 33].contains(ip.proto) || ip.invertProto { return false }
            default: break
            }
        }
        return true
    }

    /// Kernel: the checkentry functions that call nf_ct_netns_get(): the state and conntrack
    /// matches and the NAT targets. While one such rule exists the namespace tracks
    /// connections; a nat chain alone does not (observed on 6.18: its rules then count nothing).
    var needsConntrack: Bool {
        switch target {
        case .snat, .dnat, .masquerade, .redirect: return true
        default: break
        }
        return matches.contains { m in
            switch m {
            case .conntrack, .state: return true
            default: return false
            }
        }
    }
}

/// The parts of an IPv4 packet every rule looks at, read once per traversal.
struct XTPacketView {
    let source: IPv4Address
    let destination: IPv4Address
    let proto: UInt8
    /// Fragment offset in 8-byte units (Kernel: par->fragoff is in bytes; only != 0 matters).
    let fragmentOffset: Int
    /// Offset of the transport header in the packet bytes.
    let transport: Int
    /// End of the IP packet in the bytes.
    let end: Int
    /// IP total length (what counters count).
    let length: Int

    init?(_ p: Packet) {
        let o = p.network
        guard p.bytes.count >= o + IPv4Header.minimumLength else { return nil }
        source = IPv4View.source(p.bytes, at: o)
        destination = IPv4View.destination(p.bytes, at: o)
        proto = p.bytes[o + 9]
        fragmentOffset = Int(p.bytes.u16(at: o + 6) & 0x1fff)
        transport = o + Int(p.bytes[o] & 0x0f) * 4
        let total = Int(p.bytes.u16(at: o + 2))
        end = min(p.bytes.count, o + total)
        length = p.bytes.count - o
    }

    var transportLength: Int { max(0, end - transport) }
}

extension XTIPSpec {
    /// Kernel: ip_packet_match().
    @inline(__always)
    func matches(_ v: XTPacketView, inName: String, outName: String) -> Bool {
        if (sourceMask != 0 && (v.source.raw & sourceMask) != source.raw) != invertSource { return false }
        if (destinationMask != 0 && (v.destination.raw & destinationMask) != destination.raw) != invertDestination { return false }
        if let i = inInterface, i.matches(inName) == invertIn { return false }
        if let o = outInterface, o.matches(outName) == invertOut { return false }
        if proto != 0 && ((v.proto != proto) != invertProto) { return false }
        if fragment && ((v.fragmentOffset == 0) != invertFragment) { return false }
        return true
    }
}
