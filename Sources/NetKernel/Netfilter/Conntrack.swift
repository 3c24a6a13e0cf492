// Conntrack: net/netfilter/nf_conntrack_core.c and nf_nat_core.c, the state the iptables
// matches and NAT targets rely on. (Interface for the rule engine; the tracking itself
// comes with the NAT work.)

import SimCore
import Wire

/// Kernel: IP_CT_* as the conntrack/state matches see them (xt_conntrack's ctstate bits).
public struct CTStateSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let invalid = CTStateSet(rawValue: 1)
    public static let established = CTStateSet(rawValue: 2)
    public static let related = CTStateSet(rawValue: 4)
    public static let new = CTStateSet(rawValue: 8)
    public static let untracked = CTStateSet(rawValue: 16)
    public static let snat = CTStateSet(rawValue: 32)
    public static let dnat = CTStateSet(rawValue: 64)
}

/// A NAT binding a target asks for (Kernel: struct nf_nat_range2).
public enum NATRequest: Sendable, Equatable {
    /// SNAT --to-source ADDR[-ADDR][:PORT[-PORT]]
    case snat(addresses: ClosedRange<UInt32>, ports: ClosedRange<UInt16>?, random: Bool, persistent: Bool)
    /// DNAT --to-destination ADDR[-ADDR][:PORT[-PORT]]
    case dnat(addresses: ClosedRange<UInt32>, ports: ClosedRange<UInt16>?, random: Bool, persistent: Bool)
    /// MASQUERADE [--to-ports PORT[-PORT]]: the out device's primary address.
    case masquerade(ports: ClosedRange<UInt16>?, random: Bool)
    /// REDIRECT [--to-ports PORT[-PORT]]: the in device's primary address (or 127.0.0.1 locally).
    case redirect(ports: ClosedRange<UInt16>?, random: Bool)
}

extension NetNamespace {
    /// The conntrack state of a packet as the state/conntrack matches test it (Kernel:
    /// nf_ct_get() + the ctinfo bits). Untracked until connection tracking runs here.
    public func conntrackState(of p: Packet) -> CTStateSet { .untracked }

    /// Kernel: nf_nat_setup_info(), called by the SNAT/DNAT/MASQUERADE/REDIRECT targets on the
    /// first packet of a connection. The verdict is ACCEPT on success, DROP when no binding
    /// can be made (MASQUERADE on a device without an address...).
    public func natSetup(_ p: inout Packet, _ state: NFHookState, _ request: NATRequest) -> NFVerdict { .accept }
}
