// Hooks: net/netfilter/core.c. The five IPv4 hooks at the places the stack calls them, each
// running the functions registered on it (conntrack, the iptables tables, NAT) in priority
// order, as nf_hook_slow() does.
// Guarantees: every packet path passes its hooks in the kernel's order; with nothing
// registered (a namespace where iptables was never used) every verdict is ACCEPT at no cost.

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

/// Kernel: NF_IP_PRI_* (include/uapi/linux/netfilter_ipv4.h).
public enum NFPriority {
    public static let conntrackDefrag = -400
    public static let raw = -300
    public static let conntrack = -200
    public static let mangle = -150
    public static let natDst = -100
    public static let filter = 0
    public static let security = 50
    public static let natSrc = 100
    public static let conntrackHelper = 300
    public static let conntrackConfirm = Int(Int32.max)
}

public enum NFVerdict: Sendable, Equatable {
    case accept
    /// Dropped, with the reason an event log shows.
    case drop(String)
    /// Taken over by the hook (the packet was answered or queued elsewhere).
    case stolen
}

/// What a hook function sees besides the packet (Kernel: struct nf_hook_state).
public struct NFHookState {
    public let hook: NFHook
    public let inDevice: NetDevice?
    public let outDevice: NetDevice?
    public unowned(unsafe) let namespace: NetNamespace
    /// True when the packet is being bridged (br_netfilter calling the IPv4 hooks).
    public let bridged: Bool
}

/// Kernel: struct nf_hook_ops.
public struct NFHookOps {
    public let hook: NFHook
    public let priority: Int
    /// For event logs: "filter", "nat", "conntrack"...
    public let name: String
    public let run: (inout Packet, NFHookState) -> NFVerdict

    public init(hook: NFHook, priority: Int, name: String, run: @escaping (inout Packet, NFHookState) -> NFVerdict) {
        self.hook = hook
        self.priority = priority
        self.name = name
        self.run = run
    }
}

/// The hook functions registered in one namespace, per hook, sorted by priority.
public struct NFHookTable {
    var entries: [[NFHookOps]] = Array(repeating: [], count: NFHook.allCases.count)
    /// Asked for every bridged frame: a plain loop (a key path would cost a runtime lookup).
    public var isEmpty: Bool {
        for e in entries where !e.isEmpty { return false }
        return true
    }
}

extension NetNamespace {
    /// Kernel: nf_register_net_hook(). Functions of equal priority run in registration order.
    public func registerHook(_ ops: NFHookOps) {
        var list = nfHooks.entries[ops.hook.rawValue]
        let i = list.firstIndex { $0.priority > ops.priority } ?? list.count
        list.insert(ops, at: i)
        nfHooks.entries[ops.hook.rawValue] = list
    }

    /// Kernel: nf_unregister_net_hook().
    public func unregisterHooks(named name: String) {
        for h in nfHooks.entries.indices { nfHooks.entries[h].removeAll { $0.name == name } }
    }

    /// Kernel: NF_HOOK() -> nf_hook_slow().
    @inline(__always)
    func netfilterHook(_ hook: NFHook, _ p: inout Packet, inDevice: NetDevice?, outDevice: NetDevice?, bridged: Bool = false) -> NFVerdict {
        let list = nfHooks.entries[hook.rawValue]
        if list.isEmpty { return .accept }
        let state = NFHookState(hook: hook, inDevice: inDevice, outDevice: outDevice, namespace: self, bridged: bridged)
        for ops in list {
            let v = ops.run(&p, state)
            switch v {
            case .accept: continue
            case .drop(let why):
                kernel.trace(self, inDevice ?? outDevice, .netfilter, "\(ops.name) \(hook.chainName): drop (\(why))")
                return v
            case .stolen:
                return v
            }
        }
        return .accept
    }
}
