// Matches: the xt matches a rule can carry (net/netfilter/xt_tcpudp.c, xt_multiport.c,
// ipt icmp in ip_tables.c, xt_conntrack.c, xt_state.c, xt_addrtype.c, xt_comment.c,
// xt_physdev.c, xt_mark.c, xt_iprange.c, xt_length.c, xt_mac.c), each with its test on the packet bytes and the two texts
// iptables prints for it: the -L column (libxt_*'s print) and the -S/iptables-save options
// (libxt_*'s save).
// Guarantees: ports and ICMP types are read from the packet (the transport header starts
// at the IP header length); a non-first fragment never matches a port, flag or ICMP test;
// a truncated transport header drops the packet (hotdrop), as the kernel does; address
// types come from the namespace's local routing table as inet_dev_addr_type() finds them.
// Leaves out: --tcp-option matching beyond presence, other xt matches.

import Wire

public struct XTPortRange: Sendable, Equatable {
    public var low: UInt16
    public var high: UInt16
    public init(_ low: UInt16, _ high: UInt16) {
        self.low = low
        self.high = high
    }
    public static let all = XTPortRange(0, 0xffff)
    public var isAll: Bool { low == 0 && high == 0xffff }
    @inline(__always) func contains(_ p: UInt16) -> Bool { p >= low && p <= high }
}

/// Kernel: struct xt_tcp.
public struct XTTCPMatch: Sendable, Equatable {
    public var sourcePorts = XTPortRange.all
    public var destinationPorts = XTPortRange.all
    public var option: UInt8 = 0
    public var flagMask: UInt8 = 0
    public var flagCompare: UInt8 = 0
    public var invertSourcePorts = false
    public var invertDestinationPorts = false
    public var invertOption = false
    public var invertFlags = false
    public init() {}
}

/// Kernel: struct xt_udp.
public struct XTUDPMatch: Sendable, Equatable {
    public var sourcePorts = XTPortRange.all
    public var destinationPorts = XTPortRange.all
    public var invertSourcePorts = false
    public var invertDestinationPorts = false
    public init() {}
}

/// Kernel: struct ipt_icmp. Type 0xFF is "any".
public struct XTICMPMatch: Sendable, Equatable {
    public var type: UInt8 = 0xff
    public var codeMin: UInt8 = 0
    public var codeMax: UInt8 = 0xff
    public var invert = false
    public init() {}
}

/// Kernel: struct xt_multiport_v1.
public struct XTMultiportMatch: Sendable, Equatable {
    public enum Direction: Sendable { case source, destination, either }
    public var direction: Direction
    /// Single ports have low == high.
    public var ports: [XTPortRange]
    public var invert = false
    public init(direction: Direction, ports: [XTPortRange], invert: Bool = false) {
        self.direction = direction
        self.ports = ports
        self.invert = invert
    }
}

/// Kernel: RTN_* as xt_addrtype tests them (bit n = 1 << RTN_n).
public struct XTAddrTypes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let names = ["UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
                               "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"]
    public static func named(_ n: String) -> XTAddrTypes? {
        guard let i = names.firstIndex(of: n) else { return nil }
        return XTAddrTypes(rawValue: 1 << UInt16(i))
    }
    /// "LOCAL,BROADCAST" in RTN order.
    public var text: String {
        XTAddrTypes.names.indices.filter { rawValue & (1 << UInt16($0)) != 0 }.map { XTAddrTypes.names[$0] }.joined(separator: ",")
    }
}

/// Kernel: struct xt_iprange_mtinfo (IPv4): inclusive address ranges.
public struct XTIPRangeMatch: Sendable, Equatable {
    public var source: (low: IPv4Address, high: IPv4Address)?
    public var destination: (low: IPv4Address, high: IPv4Address)?
    public var invertSource = false
    public var invertDestination = false
    public init() {}
    public static func == (a: XTIPRangeMatch, b: XTIPRangeMatch) -> Bool {
        a.source?.low == b.source?.low && a.source?.high == b.source?.high
            && a.destination?.low == b.destination?.low && a.destination?.high == b.destination?.high
            && a.invertSource == b.invertSource && a.invertDestination == b.invertDestination
    }
}

/// Kernel: struct xt_addrtype_info_v1.
public struct XTAddrTypeMatch: Sendable, Equatable {
    public var source: XTAddrTypes = []
    public var destination: XTAddrTypes = []
    public var invertSource = false
    public var invertDestination = false
    public var limitIfaceIn = false
    public var limitIfaceOut = false
    public init() {}
}

/// Kernel: struct xt_physdev_info.
public struct XTPhysdevMatch: Sendable, Equatable {
    public var physIn: XTIface?
    public var physOut: XTIface?
    public var isIn = false
    public var isOut = false
    public var isBridged = false
    public var invertIn = false
    public var invertOut = false
    public var invertIsIn = false
    public var invertIsOut = false
    public var invertIsBridged = false
    /// The options in the order they were given (libxt_physdev prints them in bitmask
    /// order: in, out, is-in, is-out, is-bridged).
    public init() {}
}

/// One match of a rule.
public enum XTMatch: Sendable, Equatable {
    case tcp(XTTCPMatch)
    case udp(XTUDPMatch)
    case icmp(XTICMPMatch)
    case multiport(XTMultiportMatch)
    /// -m conntrack --ctstate.
    case conntrack(states: CTStateSet, invert: Bool)
    /// -m state --state.
    case state(states: CTStateSet, invert: Bool)
    case addrtype(XTAddrTypeMatch)
    case comment(String)
    case physdev(XTPhysdevMatch)
    case mark(value: UInt32, mask: UInt32, invert: Bool)
    case iprange(XTIPRangeMatch)
    /// -m length --length MIN:MAX: the IP total length.
    case length(min: UInt16, max: UInt16, invert: Bool)
    /// -m mac --mac-source: the Ethernet source of a received frame.
    case mac(source: MACAddress, invert: Bool)

    /// The extension name ("-m NAME").
    public var name: String {
        switch self {
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .icmp: return "icmp"
        case .multiport: return "multiport"
        case .conntrack: return "conntrack"
        case .state: return "state"
        case .addrtype: return "addrtype"
        case .comment: return "comment"
        case .physdev: return "physdev"
        case .mark: return "mark"
        case .iprange: return "iprange"
        case .length: return "length"
        case .mac: return "mac"
        }
    }
}

/// What a match decided: also "drop the packet now" for a malformed header (hotdrop).
enum XTMatchResult { case match, noMatch, hotdrop }

extension XTMatch {
    /// Kernel: the match function of each extension.
    func evaluate(_ p: Packet, _ v: XTPacketView, _ s: NFHookState) -> XTMatchResult {
        switch self {
        case .tcp(let m):
            // Kernel: tcp_mt(): fragments never match; offset 1 is an attack (hotdrop).
            if v.fragmentOffset != 0 { return v.fragmentOffset == 1 ? .hotdrop : .noMatch }
            guard v.transportLength >= 20 else { return .hotdrop }
            let b = p.bytes, t = v.transport
            let sport = b.u16(at: t), dport = b.u16(at: t + 2)
            if m.sourcePorts.contains(sport) == m.invertSourcePorts { return .noMatch }
            if m.destinationPorts.contains(dport) == m.invertDestinationPorts { return .noMatch }
            if ((b[t + 13] & m.flagMask) == m.flagCompare) == m.invertFlags { return .noMatch }
            if m.option != 0 {
                let doff = Int(b[t + 12] >> 4) * 4
                guard doff >= 20, v.transportLength >= doff else { return .hotdrop }
                if XTMatch.tcpHasOption(b, from: t + 20, to: t + doff, kind: m.option) == m.invertOption { return .noMatch }
            }
            return .match
        case .udp(let m):
            if v.fragmentOffset != 0 { return .noMatch }
            guard v.transportLength >= 8 else { return .hotdrop }
            let sport = p.bytes.u16(at: v.transport), dport = p.bytes.u16(at: v.transport + 2)
            if m.sourcePorts.contains(sport) == m.invertSourcePorts { return .noMatch }
            if m.destinationPorts.contains(dport) == m.invertDestinationPorts { return .noMatch }
            return .match
        case .icmp(let m):
            // Kernel: icmp_match() / icmp_type_code_match().
            if v.fragmentOffset != 0 { return .noMatch }
            guard v.transportLength >= 4 else { return .hotdrop }
            let type = p.bytes[v.transport], code = p.bytes[v.transport + 1]
            let hit = m.type == 0xff || (type == m.type && code >= m.codeMin && code <= m.codeMax)
            return hit != m.invert ? .match : .noMatch
        case .multiport(let m):
            // Kernel: multiport_mt() / ports_match_v1().
            if v.fragmentOffset != 0 { return .noMatch }
            guard v.transportLength >= 4 else { return .hotdrop }
            let sport = p.bytes.u16(at: v.transport), dport = p.bytes.u16(at: v.transport + 2)
            for r in m.ports {
                let hit: Bool
                switch m.direction {
                case .source: hit = r.contains(sport)
                case .destination: hit = r.contains(dport)
                case .either: hit = r.contains(sport) || r.contains(dport)
                }
                if hit { return m.invert ? .noMatch : .match }
            }
            return m.invert ? .match : .noMatch
        case .conntrack(let states, let invert):
            // Kernel: conntrack_mt() with XT_CONNTRACK_STATE.
            let have = s.namespace.conntrackState(of: p)
            return states.isDisjoint(with: have) == invert ? .match : .noMatch
        case .state(let states, let invert):
            // Kernel: state_mt(): only INVALID/NEW/RELATED/ESTABLISHED/UNTRACKED count.
            let have = s.namespace.conntrackState(of: p).intersection([.invalid, .new, .related, .established, .untracked])
            return states.isDisjoint(with: have) == invert ? .match : .noMatch
        case .addrtype(let m):
            // Kernel: addrtype_mt_v1().
            let ns = s.namespace
            var dev: NetDevice?
            if m.limitIfaceIn { dev = s.inDevice } else if m.limitIfaceOut { dev = s.outDevice }
            if !m.source.isEmpty {
                let t = ns.inetAddrType(v.source, dev: dev)
                if m.source.contains(t) == m.invertSource { return .noMatch }
            }
            if !m.destination.isEmpty {
                let t = ns.inetAddrType(v.destination, dev: dev)
                if m.destination.contains(t) == m.invertDestination { return .noMatch }
            }
            return .match
        case .comment:
            return .match
        case .physdev(let m):
            return XTMatch.physdevMatch(m, p) ? .match : .noMatch
        case .mark(let value, let mask, let invert):
            return ((p.mark & mask) == value) != invert ? .match : .noMatch
        case .iprange(let m):
            // Kernel: iprange_mt4(): host-order comparison of each address with its range.
            if let r = m.source, (v.source >= r.low && v.source <= r.high) == m.invertSource { return .noMatch }
            if let r = m.destination, (v.destination >= r.low && v.destination <= r.high) == m.invertDestination { return .noMatch }
            return .match
        case .length(let lo, let hi, let invert):
            // Kernel: length_mt(): ntohs(iph->tot_len).
            return (v.length >= Int(lo) && v.length <= Int(hi)) != invert ? .match : .noMatch
        case .mac(let source, let invert):
            // Kernel: mac_mt(): no Ethernet header in front of the IP header, no match.
            guard s.inDevice != nil, p.network >= EthernetHeader.length else { return .noMatch }
            return (EthernetView.source(p.bytes) == source) != invert ? .match : .noMatch
        }
    }

    /// Kernel: tcp_find_option().
    static func tcpHasOption(_ b: [UInt8], from: Int, to: Int, kind: UInt8) -> Bool {
        var i = from
        while i < to {
            let k = b[i]
            if k == kind { return true }
            if k == 0 { return false }
            if k == 1 { i += 1; continue }
            guard i + 1 < to, b[i + 1] >= 2 else { return false }
            i += Int(b[i + 1])
        }
        return false
    }

    /// Kernel: physdev_mt().
    static func physdevMatch(_ m: XTPhysdevMatch, _ p: Packet) -> Bool {
        guard let nb = p.nfBridge else {
            // Not a bridged packet: only inverted options can match.
            if m.isBridged && !m.invertIsBridged { return false }
            if m.isIn && !m.invertIsIn { return false }
            if m.isOut && !m.invertIsOut { return false }
            if m.physIn != nil && !m.invertIn { return false }
            if m.physOut != nil && !m.invertOut { return false }
            return true
        }
        let indev = nb.physIn?.name, outdev = nb.physOut?.name
        if m.isBridged && ((outdev != nil) == m.invertIsBridged) { return false }
        if m.isIn && ((indev == nil) != m.invertIsIn) { return false }
        if m.isOut && ((outdev == nil) != m.invertIsOut) { return false }
        if let want = m.physIn, let d = indev {
            if want.matches(d) == m.invertIn { return false }
        }
        guard let want = m.physOut, let d = outdev else { return true }
        return want.matches(d) != m.invertOut
    }
}

extension NetNamespace {
    /// Kernel: inet_dev_addr_type(): the type of `addr` in this namespace's local table;
    /// with `dev`, a local route through another device counts as plain unicast.
    public func inetAddrType(_ addr: IPv4Address, dev: NetDevice? = nil) -> XTAddrTypes {
        if addr.raw >> 24 == 0 || addr.isLimitedBroadcast { return .named("BROADCAST")! }
        if addr.isMulticast { return .named("MULTICAST")! }
        guard let r = fib.lookup(addr, table: RouteTable.local, oif: nil) else { return .named("UNICAST")! }
        if let d = dev, r.device !== d { return .named("UNICAST")! }
        switch r.type {
        case .unicast: return .named("UNICAST")!
        case .local: return .named("LOCAL")!
        case .broadcast: return .named("BROADCAST")!
        case .anycast: return .named("ANYCAST")!
        case .multicast: return .named("MULTICAST")!
        case .blackhole: return .named("BLACKHOLE")!
        case .unreachable: return .named("UNREACHABLE")!
        case .prohibit: return .named("PROHIBIT")!
        case .throwRoute: return .named("THROW")!
        }
    }
}
