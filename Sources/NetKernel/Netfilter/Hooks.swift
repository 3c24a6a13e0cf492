// Hooks: net/netfilter/core.c. The five IPv4 hooks at the places the stack calls them.
// Guarantees: every packet path passes its hooks in the kernel's order; with no tables
// registered every verdict is ACCEPT.

import Wire

/// Kernel: enum nf_inet_hooks.
public enum NFHook: Int, Sendable, CaseIterable {
    case preRouting = 0, localIn = 1, forward = 2, localOut = 3, postRouting = 4
    public var chainName: String {
        switch self {
        case .preRouting: return "PREROUTING"
        case .localIn: return "INPUT"
        case .forward: return "FORWARD"
        case .localOut: return "OUTPUT"
        case .postRouting: return "POSTROUTING"
        }
    }
}

public enum NFVerdict: Sendable { case accept, drop, stolen }

extension NetNamespace {
    /// Kernel: NF_HOOK(): runs the hook's registered tables in priority order.
    @inline(__always)
    func netfilterHook(_ hook: NFHook, _ p: inout Packet, inDevice: NetDevice?, outDevice: NetDevice?) -> NFVerdict {
        .accept
    }
}
