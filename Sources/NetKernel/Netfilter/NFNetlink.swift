// NFNetlink: the two nfnetlink multicast groups of nf_tables a monitor can join in a namespace
// (net/netfilter/nfnetlink.c, nf_tables_api.c): NFNLGRP_NFTABLES, where every committed
// batch announces the tables, chains and rules it added or deleted and then its new
// generation (NFT_MSG_NEWGEN), and NFNLGRP_NFTRACE, where nft_trace_notify() reports the
// walk of packets marked for tracing (NFTablesTrace.swift).
// Guarantees: messages reach only subscribers of the namespace they happen in, in the order
// the kernel sends them, at the moment it sends them (the batch's commit, the packet's
// walk); a batch that changed nothing sends nothing and keeps the generation. A chain's
// message carries its policy and counters at that point of the batch but its use count at
// commit (nf_tables_fill_chain_info() reads the live chain), as observed on 6.18.
// Leaves out: sets, objects, flowtables, message sequence numbers and the socket buffer (a
// subscriber never loses a message).

/// Kernel: NFNLGRP_NFTABLES and NFNLGRP_NFTRACE as bits of a subscription.
public struct NFNetlinkGroups: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let nftables = NFNetlinkGroups(rawValue: 1)
    public static let nftrace = NFNetlinkGroups(rawValue: 2)
}

/// One object a committed batch changed, in batch order. Chains and rules are snapshots.
public enum NFTNote: Sendable {
    case newTable(XTTableKind)
    case delTable(XTTableKind, handle: UInt64)
    case newChain(XTTableKind, XTChain)
    case delChain(XTTableKind, XTChain)
    case newRule(XTTableKind, chain: String, XTRule)
    case delRule(XTTableKind, chain: String, XTRule)
}

/// A message of one of the groups, as a subscriber receives it.
public enum NFNetlinkMessage {
    /// NFT_MSG_NEWTABLE / DELTABLE: `use` is the number of chains.
    case table(new: Bool, kind: XTTableKind, handle: UInt64, use: Int)
    /// NFT_MSG_NEWCHAIN / DELCHAIN: `use` counts the chain's rules and the jumps to it.
    case chain(new: Bool, kind: XTTableKind, chain: XTChain, use: Int)
    /// NFT_MSG_NEWRULE / DELRULE.
    case rule(new: Bool, kind: XTTableKind, chain: String, rule: XTRule)
    /// NFT_MSG_NEWGEN: the generation a commit made and the process that committed it.
    case newGeneration(id: UInt32, pid: Int32, name: String)
    /// NFT_MSG_TRACE.
    case trace(NFTTraceEvent)
}

/// A socket bound to some of the groups (what xtables-monitor opens).
public final class NFNetlinkListener {
    public let groups: NFNetlinkGroups
    let deliver: (NFNetlinkMessage) -> Void

    init(groups: NFNetlinkGroups, deliver: @escaping (NFNetlinkMessage) -> Void) {
        self.groups = groups
        self.deliver = deliver
    }
}

extension NetNamespace {
    /// Kernel: bind() of an NETLINK_NETFILTER socket to `groups` in this namespace.
    public func nfnetlinkSubscribe(_ groups: NFNetlinkGroups, _ deliver: @escaping (NFNetlinkMessage) -> Void) -> NFNetlinkListener {
        let l = NFNetlinkListener(groups: groups, deliver: deliver)
        netfilter.listeners.append(l)
        return l
    }

    /// The socket is closed.
    public func nfnetlinkUnsubscribe(_ l: NFNetlinkListener) {
        xtables?.listeners.removeAll { $0 === l }
    }

    /// Kernel: NFT_MSG_GETRULE by handle (what xtables-monitor asks for each traced rule).
    public func nftGetRule(_ k: XTTableKind, handle: UInt64) -> (chain: XTChain, rule: XTRule)? {
        xtables?.table(k)?.rule(handle: handle)
    }

    /// Kernel: nfnetlink_has_listeners().
    @inline(__always)
    func nfnetlinkHasListeners(_ g: NFNetlinkGroups) -> Bool {
        guard let st = xtables, !st.listeners.isEmpty else { return false }
        return st.listeners.contains { $0.groups.contains(g) }
    }

    /// Kernel: nfnetlink_send() to every subscriber of the group.
    func nfnetlinkSend(_ g: NFNetlinkGroups, _ m: NFNetlinkMessage) {
        guard let st = xtables else { return }
        for l in st.listeners where l.groups.contains(g) { l.deliver(m) }
    }

    /// Kernel: the notifications of nf_tables_commit() (nf_tables_table_notify(),
    /// nf_tables_chain_notify(), nf_tables_rule_notify()) and nf_tables_gen_notify().
    func nftNotify(_ notes: [NFTNote], process: (() -> (pid: Int32, name: String))?) {
        guard nfnetlinkHasListeners(.nftables), let st = xtables else { return }
        func use(_ k: XTTableKind, _ c: XTChain) -> Int {
            guard let t = st.tables[k.rawValue], let now = t.chains.first(where: { $0.exists && $0.handle == c.handle }) else { return 0 }
            return now.rules.count + (now.isBuiltin ? 0 : t.references(to: now.name))
        }
        for n in notes {
            let m: NFNetlinkMessage
            switch n {
            case .newTable(let k):
                let t = st.tables[k.rawValue]
                m = .table(new: true, kind: k, handle: t?.handle ?? 0, use: t?.chains.filter(\.exists).count ?? 0)
            case .delTable(let k, let h):
                m = .table(new: false, kind: k, handle: h, use: 0)
            case .newChain(let k, let c):
                m = .chain(new: true, kind: k, chain: c, use: use(k, c))
            case .delChain(let k, let c):
                m = .chain(new: false, kind: k, chain: c, use: 0)
            case .newRule(let k, let c, let r):
                m = .rule(new: true, kind: k, chain: c, rule: r)
            case .delRule(let k, let c, let r):
                m = .rule(new: false, kind: k, chain: c, rule: r)
            }
            nfnetlinkSend(.nftables, m)
        }
        let who = process?() ?? (pid: 0, name: "")
        nfnetlinkSend(.nftables, .newGeneration(id: st.generation, pid: who.pid, name: who.name))
    }
}

extension NetfilterState {
    /// A refused batch: the handles it allocated stay used (table->hgenerator and
    /// nft_net->table_handle are not rolled back by the abort), `times` over when replayed.
    func useUpHandles(of tx: XTTransaction, times: UInt64) {
        lastTableHandle += (tx.lastTableHandle - lastTableHandle) * times
        for k in XTTableKind.allCases {
            guard let old = tables[k.rawValue], let new = tx.tables[k.rawValue], new.handle == old.handle else { continue }
            tables[k.rawValue]!.lastHandle += (new.lastHandle - old.lastHandle) * times
        }
    }
}
