// Tables: the iptables tables of a namespace as iptables-nft 1.8.9 keeps them in nf_tables on
// Linux 6.18: raw, mangle, nat, filter and security, each with its built-in chains at the
// kernel's priorities (raw -300, mangle -150, nat -100/+100, filter 0, security 50), plus
// user chains. The rule walk is TablesTraverse.swift; the rules, matches and targets are
// Rules.swift, Matches.swift, Targets.swift.
// Guarantees:
// - Nothing exists until iptables writes something (lazy module loading): a table appears
//   with its first chain; a built-in chain appears (and its hook is registered) the first
//   time a rule or policy is written to it, as iptables-nft creates base chains on demand.
//   Listing never creates anything.
// - A built-in chain counts policy packets only once -P, -Z or iptables-restore gave it
//   counters (nft base chains created by -A/-I have none): observed on 6.18.
// - Every change is one transaction, as one iptables command is one nf_tables batch: it is
//   applied to a copy, validated (jump depth below 16, targets allowed at every hook that
//   reaches them) and only then committed; a failing command changes nothing.
// - User chains are kept sorted by name (strcmp), as iptables-nft lists and saves them.
// - Handles as nf_tables allocates them: a table's from a per-namespace counter, chains and
//   rules from one counter per table, in batch order (built-in chains included when they are
//   created); -R and -Z keep a rule's handle, -E a chain's; iptables-restore deletes the table
//   and builds a new one (new handles from 1). A batch the kernel refuses still uses up the
//   handles it allocated, twice when the refusal comes from the commit-time validation (the
//   batch is replayed): observed on 6.18.
// - -X deletes, besides user chains, the built-in chains that are empty with policy ACCEPT.
// - Connection tracking runs while some rule needs it (state/conntrack matches, NAT
//   targets), as nf_ct_netns_get()/put() count; a nat chain alone does not start it.
// - Every committed batch that changed something bumps the generation and notifies
//   NFNLGRP_NFTABLES listeners (NFNetlink.swift), object by object in batch order.
// Leaves out: the legacy (x_tables) backend, IPv6 tables, the arp/bridge families.

import SimCore
import Wire

/// The iptables tables, in the order iptables-save prints them (iptables-nft's table list).
public enum XTTableKind: Int, CaseIterable, Sendable, Comparable {
    case mangle = 0, security, raw, filter, nat

    public var name: String {
        switch self {
        case .mangle: return "mangle"
        case .security: return "security"
        case .raw: return "raw"
        case .filter: return "filter"
        case .nat: return "nat"
        }
    }

    public init?(name: String) {
        guard let k = XTTableKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = k
    }

    /// Kernel: the valid_hooks of iptable_<name>.c, in hook order (the order -L lists them).
    public var builtinHooks: [NFHook] {
        switch self {
        case .raw: return [.preRouting, .localOut]
        case .mangle: return [.preRouting, .localIn, .forward, .localOut, .postRouting]
        case .nat: return [.preRouting, .localIn, .localOut, .postRouting]
        case .filter, .security: return [.localIn, .forward, .localOut]
        }
    }

    /// Kernel: NF_IP_PRI_* of the table's hooks.
    public func priority(_ hook: NFHook) -> Int {
        switch self {
        case .raw: return NFPriority.raw
        case .mangle: return NFPriority.mangle
        case .filter: return NFPriority.filter
        case .security: return NFPriority.security
        case .nat: return (hook == .preRouting || hook == .localOut) ? NFPriority.natDst : NFPriority.natSrc
        }
    }

    public static func < (a: XTTableKind, b: XTTableKind) -> Bool { a.rawValue < b.rawValue }
}

public enum XTPolicy: Sendable, Equatable {
    case accept, drop
    public var name: String { self == .accept ? "ACCEPT" : "DROP" }
}

public struct XTCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public init(packets: UInt64 = 0, bytes: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
    }
}

/// One chain: a built-in (with a hook and a policy) or a user chain.
public struct XTChain: Sendable {
    public internal(set) var name: String
    public let hook: NFHook?
    public internal(set) var policy: XTPolicy = .accept
    public internal(set) var rules: [XTRule] = []
    public internal(set) var policyCounters = XTCounters()
    /// nf_tables: the chain object exists (iptables-nft creates built-in chains on first use).
    public internal(set) var exists: Bool
    /// nf_tables: the base chain carries counters (set by -P, -Z, iptables-restore).
    public internal(set) var countsPolicy = false
    /// nf_tables' chain handle (0 while a built-in chain does not exist).
    public internal(set) var handle: UInt64 = 0

    public var isBuiltin: Bool { hook != nil }

    init(name: String, hook: NFHook?, exists: Bool) {
        self.name = name
        self.hook = hook
        self.exists = exists
    }
}

/// One table: its built-in chains (in hook order) followed by the user chains by name.
public struct XTTable: Sendable {
    public let kind: XTTableKind
    public internal(set) var chains: [XTChain]
    /// nf_tables' table handle.
    public internal(set) var handle: UInt64 = 0
    /// Kernel: table->hgenerator, the last chain or rule handle given out.
    var lastHandle: UInt64 = 0

    init(kind: XTTableKind) {
        self.kind = kind
        chains = kind.builtinHooks.map { XTChain(name: $0.chainName, hook: $0, exists: false) }
    }

    public var builtinCount: Int { kind.builtinHooks.count }
    public var userChains: ArraySlice<XTChain> { chains[builtinCount...] }

    public func chainIndex(_ name: String) -> Int? { chains.firstIndex { $0.name == name } }
    public func chain(_ name: String) -> XTChain? { chainIndex(name).map { chains[$0] } }
    public func builtinIndex(_ hook: NFHook) -> Int? { chains.firstIndex { $0.hook == hook } }

    /// How many rules jump or go to `name` (what -L shows as "(N references)").
    public func references(to name: String) -> Int {
        var n = 0
        for c in chains { for r in c.rules where r.target.chainTarget == name { n += 1 } }
        return n
    }

    /// Kernel: nf_tables_alloc_handle().
    mutating func allocHandle() -> UInt64 {
        lastHandle += 1
        return lastHandle
    }

    /// Inserts a user chain keeping strcmp order.
    mutating func addUserChain(_ name: String) {
        var i = builtinCount
        while i < chains.count, XTTable.strcmpLess(chains[i].name, name) { i += 1 }
        var c = XTChain(name: name, hook: nil, exists: true)
        c.handle = allocHandle()
        chains.insert(c, at: i)
    }

    /// Creates built-in chain `i` (nft_chain_builtin_add(): policy ACCEPT, no counters).
    mutating func createBuiltin(_ i: Int) {
        chains[i] = XTChain(name: chains[i].name, hook: chains[i].hook, exists: true)
        chains[i].handle = allocHandle()
    }

    /// A built-in chain is gone again (-X, a deleted table): as if never created.
    mutating func removeBuiltin(_ i: Int) {
        chains[i] = XTChain(name: chains[i].name, hook: chains[i].hook, exists: false)
    }

    /// The rule with nf_tables handle `h` and its chain (what NFT_MSG_GETRULE finds).
    public func rule(handle h: UInt64) -> (chain: XTChain, rule: XTRule)? {
        for c in chains where c.exists { for r in c.rules where r.handle == h { return (c, r) } }
        return nil
    }

    /// Existing chains as iptables-nft's chain cache walks them: built-in chains in hook
    /// order, then user chains in creation (handle) order, or by name once -v sorted the
    /// cache (nft_cache_sort_chains()).
    func chainsInCacheOrder(sorted: Bool = false) -> [Int] {
        let builtins = chains.indices.filter { chains[$0].isBuiltin && chains[$0].exists }
        let users = chains.indices.filter { !chains[$0].isBuiltin }
        return builtins + (sorted ? users : users.sorted { chains[$0].handle < chains[$1].handle })
    }

    static func strcmpLess(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
}

/// The sysctls br_netfilter adds to every namespace (net.bridge.*).
public struct BridgeNFSysctls: Sendable {
    public var callIPTables = true
    public var callIP6Tables = true
    public var callARPTables = true
    public var filterVLANTagged = false
    public var filterPPPoETagged = false
    public var passVLANInputDev = false
    public init() {}
}

/// A namespace's iptables state (net->xt plus the nf_tables tables iptables-nft made).
public final class NetfilterState {
    /// Indexed by XTTableKind.rawValue; nil until the table exists.
    public internal(set) var tables: [XTTable?] = Array(repeating: nil, count: XTTableKind.allCases.count)
    public var bridgeNF = BridgeNFSysctls()
    /// net.netfilter.nf_log_all_netns (only init_net has it).
    public var logAllNetns = false
    /// Hooks registered so far, as table * 8 + hook.
    var registered = Set<Int>()
    /// ip_sabotage_in() registered (br_netfilter's guard against a second PREROUTING).
    var sabotageRegistered = false
    /// Kernel: nft_net->table_handle, the last table handle given out.
    var lastTableHandle: UInt64 = 0
    /// Kernel: nft_net->base_seq, the ruleset generation (NEWGEN's GENID); 1 in a new namespace.
    public internal(set) var generation: UInt32 = 1
    /// NFNLGRP_NFTABLES and NFNLGRP_NFTRACE subscribers (NFNetlink.swift).
    var listeners: [NFNetlinkListener] = []
    /// Packets a trace message was sent for lately, to keep their trace id (NFTablesTrace.swift).
    var traceContexts = NFTraceContexts()

    public func table(_ k: XTTableKind) -> XTTable? { tables[k.rawValue] }
    public var existingTables: [XTTable] { tables.compactMap { $0 } }
}

extension NetNamespace {
    /// This namespace's iptables state, created on first use.
    public var netfilter: NetfilterState {
        if let s = xtables { return s }
        let s = NetfilterState()
        xtables = s
        return s
    }

    /// A table as iptables sees it: the kernel's, or an empty one (built-ins only) when the
    /// table does not exist yet (iptables lists those without creating them).
    public func xtTableView(_ k: XTTableKind) -> XTTable {
        xtables?.table(k) ?? XTTable(kind: k)
    }

    /// Whether the table exists in the kernel (iptables-save prints only those).
    public func xtTableExists(_ k: XTTableKind) -> Bool { xtables?.table(k) != nil }
}

// MARK: - Transactions (one iptables command = one nf_tables batch)

/// Why a change was refused. The messages are what iptables prints for each.
public enum XTError: Error, Equatable, Sendable {
    /// ENOENT: "No chain/target/match by that name".
    case noChain
    /// ENOENT from a delete or check: "Bad rule (does a matching rule exist in that chain?)".
    case badRule
    /// E2BIG: "Index of insertion too big" (insert), "... replacement ..." (replace),
    /// "... deletion ..." (delete).
    case indexTooBig(String)
    /// EEXIST on -N: "Chain already exists".
    case chainExists
    /// EEXIST on -E: "File exists".
    case fileExists
    /// -X of a built-in chain whose policy is not ACCEPT: "Directory not empty".
    case notEmpty
    /// ENOENT on -P: "Bad built-in chain name".
    case badBuiltinChain
    /// EINVAL on -P: "Bad policy name".
    case badPolicy
    /// A batch operation the kernel refused: e.g. ("RULE_APPEND", "Too many links",
    /// "rule in chain INPUT") or ("CHAIN_DEL", "Device or resource busy", "chain FOO").
    case batch(op: String, error: String, object: String)
}

/// The operations of a transaction, in the kernel's terms.
public enum XTOperation: Sendable {
    case append(XTRule)
    /// 0-based position.
    case insert(XTRule, at: Int)
    case replace(XTRule, at: Int)
    case delete(XTRule)
    case deleteAt(Int)
    case flush
    /// Creates every built-in chain of the table that does not exist (iptables -F -v).
    case initBuiltins
    case zero
    /// -Z after -L or -S: the listing put every built-in chain into iptables' cache, so
    /// each is zeroed, and so created, whether it existed or not.
    case zeroListed
    case zeroRule(Int)
    case newChain
    case deleteChain
    case rename(to: String)
    case policy(XTPolicy, counters: XTCounters?)

    var batchName: String {
        switch self {
        case .append: return "RULE_APPEND"
        case .insert: return "RULE_INSERT"
        case .replace: return "RULE_REPLACE"
        case .delete, .deleteAt: return "RULE_DELETE"
        case .flush: return "RULE_FLUSH"
        case .initBuiltins: return "CHAIN_ADD"
        case .zero, .zeroListed, .zeroRule: return "CHAIN_ZERO"
        case .newChain: return "CHAIN_USER_ADD"
        case .deleteChain: return "CHAIN_DEL"
        case .rename: return "CHAIN_RENAME"
        case .policy: return "CHAIN_UPDATE"
        }
    }
}

/// A batch being built: changes go to a copy of the tables until commit.
public struct XTTransaction {
    var tables: [XTTable?]
    /// Rule-changing operations, for error messages: (op name, chain, table).
    var ops: [(op: String, chain: String, table: XTTableKind)] = []
    /// Kernel: nft_net->table_handle as the batch advances it.
    var lastTableHandle: UInt64
    /// What the commit will announce to NFNLGRP_NFTABLES, in batch order.
    var notes: [NFTNote] = []
    /// -v: iptables sorted its chain cache by name before walking every chain (-F, -Z, -X).
    public var sortedChains = false

    init(_ state: NetfilterState?) {
        tables = state?.tables ?? Array(repeating: nil, count: XTTableKind.allCases.count)
        lastTableHandle = state?.lastTableHandle ?? 0
    }

    public func table(_ k: XTTableKind) -> XTTable { tables[k.rawValue] ?? XTTable(kind: k) }
    public func tableExists(_ k: XTTableKind) -> Bool { tables[k.rawValue] != nil }

    private mutating func withTable<R>(_ k: XTTableKind, create: Bool, _ body: (inout XTTable) throws -> R) rethrows -> R {
        let existed = tables[k.rawValue] != nil
        var t = tables[k.rawValue] ?? XTTable(kind: k)
        if !existed && create {
            // Kernel: nf_tables_newtable() takes the namespace's next table handle.
            lastTableHandle += 1
            t.handle = lastTableHandle
            tables[k.rawValue] = t
            notes.append(.newTable(k))
        }
        let r = try body(&t)
        if create || existed { tables[k.rawValue] = t }
        return r
    }

    /// Kernel side of one iptables command on `chain` (nil: every chain, for -F -Z -X).
    public mutating func apply(_ op: XTOperation, table k: XTTableKind, chain: String?) throws {
        var notes: [NFTNote] = []
        defer { self.notes += notes }
        switch op {
        case .append(var rule):
            try withTable(k, create: true) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: true, &notes)
                rule.handle = t.allocHandle()
                t.chains[i].rules.append(rule)
                notes.append(.newRule(k, chain: chain!, rule))
            }
            noteRule(op, chain!, k)
        case .insert(var rule, let at):
            try withTable(k, create: true) { t in
                // Kernel (nft_rule_insert): position count+1 appends; beyond is E2BIG.
                if let i = t.chainIndex(chain!), t.chains[i].exists || !t.chains[i].isBuiltin {
                    guard at <= t.chains[i].rules.count else { throw XTError.indexTooBig("insertion") }
                } else if at > 0 {
                    throw XTError.indexTooBig("insertion")
                }
                let i = try XTTransaction.ruleChain(&t, chain!, create: true, &notes)
                rule.handle = t.allocHandle()
                t.chains[i].rules.insert(rule, at: at)
                notes.append(.newRule(k, chain: chain!, rule))
            }
            noteRule(op, chain!, k)
        case .replace(var rule, let at):
            try withTable(k, create: false) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: false, &notes)
                guard at < t.chains[i].rules.count else { throw XTError.indexTooBig("replacement") }
                // Kernel (nf_tables_newrule with NLM_F_REPLACE): the new rule keeps the handle.
                let old = t.chains[i].rules[at]
                rule.handle = old.handle
                t.chains[i].rules[at] = rule
                notes.append(.delRule(k, chain: chain!, old))
                notes.append(.newRule(k, chain: chain!, rule))
            }
            noteRule(op, chain!, k)
        case .delete(let spec):
            try withTable(k, create: false) { t in
                guard let i = t.chainIndex(chain!), t.chains[i].exists,
                      let r = t.chains[i].rules.firstIndex(where: { $0.sameSpec(spec) }) else { throw XTError.badRule }
                notes.append(.delRule(k, chain: chain!, t.chains[i].rules.remove(at: r)))
            }
        case .deleteAt(let at):
            try withTable(k, create: false) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: false, &notes)
                guard at < t.chains[i].rules.count else { throw XTError.indexTooBig("deletion") }
                notes.append(.delRule(k, chain: chain!, t.chains[i].rules.remove(at: at)))
            }
        case .flush:
            if let c = chain {
                // Kernel: flushing a built-in chain that does not exist yet creates it.
                try withTable(k, create: true) { t in
                    let i = try XTTransaction.ruleChain(&t, c, create: true, &notes)
                    XTTransaction.flushRules(&t, i, k, &notes)
                }
            } else {
                let sorted = sortedChains
                withTable(k, create: false) { t in
                    for i in t.chainsInCacheOrder(sorted: sorted) { XTTransaction.flushRules(&t, i, k, &notes) }
                }
            }
        case .initBuiltins:
            // iptables -F -v: nft_xt_builtin_init() for the whole table.
            withTable(k, create: true) { t in
                for i in 0..<t.builtinCount where !t.chains[i].exists {
                    t.createBuiltin(i)
                    notes.append(.newChain(k, t.chains[i]))
                }
            }
        case .zero:
            if let c = chain {
                try withTable(k, create: false) { t in
                    guard let i = t.chainIndex(c), t.chains[i].exists else { throw XTError.noChain }
                    XTTransaction.zeroChain(&t, i, k, &notes)
                }
            } else {
                let sorted = sortedChains
                withTable(k, create: false) { t in
                    for i in t.chainsInCacheOrder(sorted: sorted) { XTTransaction.zeroChain(&t, i, k, &notes) }
                }
            }
        case .zeroListed:
            // A chain update in a table that does not exist: the kernel's ENOENT names the
            // first chain of the batch.
            guard tables[k.rawValue] != nil else {
                let first = chain ?? XTTable(kind: k).chains[0].name
                throw XTError.batch(op: "CHAIN_ZERO", error: "No such file or directory", object: "chain \(first)")
            }
            try withTable(k, create: false) { t in
                if let c = chain, t.chainIndex(c) == nil { throw XTError.noChain }
                for i in t.chains.indices where chain == nil || t.chains[i].name == chain {
                    // One NEWCHAIN (the zeroing one below) creates it.
                    if t.chains[i].isBuiltin && !t.chains[i].exists { t.createBuiltin(i) }
                }
                for i in t.chainsInCacheOrder(sorted: true) where chain == nil || t.chains[i].name == chain {
                    XTTransaction.zeroChain(&t, i, k, &notes)
                }
            }
        case .zeroRule(let at):
            try withTable(k, create: false) { t in
                // iptables 1.8.9 (nft_rule_zero_counters()): a chain it cannot find fails
                // with ENOENT, worded as for a delete; a rule number past the end is ignored.
                guard let i = t.chainIndex(chain!), t.chains[i].exists else { throw XTError.badRule }
                if at < t.chains[i].rules.count {
                    let old = t.chains[i].rules[at]
                    t.chains[i].rules[at].counters = XTCounters()
                    notes.append(.delRule(k, chain: chain!, old))
                    notes.append(.newRule(k, chain: chain!, t.chains[i].rules[at]))
                }
            }
        case .newChain:
            try withTable(k, create: true) { t in
                if t.chainIndex(chain!) != nil { throw XTError.chainExists }
                t.addUserChain(chain!)
                notes.append(.newChain(k, t.chain(chain!)!))
            }
        case .deleteChain:
            let sorted = sortedChains
            try withTable(k, create: false) { t in
                try XTTransaction.deleteChains(&t, chain, k, sorted: sorted, &notes)
            }
        case .rename(let new):
            try withTable(k, create: false) { t in
                guard let i = t.chainIndex(chain!), !t.chains[i].isBuiltin else { throw XTError.noChain }
                if t.chainIndex(new) != nil { throw XTError.fileExists }
                var c = t.chains.remove(at: i)
                c.name = new
                var j = t.builtinCount
                while j < t.chains.count, XTTable.strcmpLess(t.chains[j].name, new) { j += 1 }
                t.chains.insert(c, at: j)
                for ci in t.chains.indices {
                    for ri in t.chains[ci].rules.indices where t.chains[ci].rules[ri].target.chainTarget == chain! {
                        t.chains[ci].rules[ri].target.retarget(to: new)
                    }
                }
                notes.append(.newChain(k, c))
            }
        case .policy(let p, let counters):
            try withTable(k, create: true) { t in
                guard let i = t.chainIndex(chain!), t.chains[i].isBuiltin else { throw XTError.badBuiltinChain }
                if !t.chains[i].exists {
                    t.createBuiltin(i)
                    notes.append(.newChain(k, t.chains[i]))
                }
                t.chains[i].policy = p
                t.chains[i].countsPolicy = true
                t.chains[i].policyCounters = counters ?? XTCounters()
                notes.append(.newChain(k, t.chains[i]))
            }
        }
    }

    /// iptables-restore without --noflush: the table is deleted (its rules, then its chains,
    /// then itself) and built again from the file (TABLE_FLUSH is NFT_MSG_DELTABLE).
    public mutating func flushTable(_ k: XTTableKind) {
        guard let t = tables[k.rawValue] else { return }
        // Kernel: nft_flush_table() walks table->chains, the order the chains were created in.
        let order = t.chains.indices.filter { t.chains[$0].exists }.sorted { t.chains[$0].handle < t.chains[$1].handle }
        for i in order { for r in t.chains[i].rules { notes.append(.delRule(k, chain: t.chains[i].name, r)) } }
        for i in order { notes.append(.delChain(k, t.chains[i])) }
        notes.append(.delTable(k, handle: t.handle))
        tables[k.rawValue] = nil
    }

    /// iptables-restore's ":CHAIN - [0:0]" for a user chain (an existing one is kept).
    public mutating func restoreChain(_ k: XTTableKind, _ name: String) {
        var added: XTChain?
        withTable(k, create: true) { t in
            if t.chainIndex(name) == nil {
                t.addUserChain(name)
                added = t.chain(name)
            }
        }
        if let c = added { notes.append(.newChain(k, c)) }
    }

    private static func flushRules(_ t: inout XTTable, _ i: Int, _ k: XTTableKind, _ notes: inout [NFTNote]) {
        for r in t.chains[i].rules { notes.append(.delRule(k, chain: t.chains[i].name, r)) }
        t.chains[i].rules.removeAll()
    }

    /// iptables-nft's __nft_chain_zero_counters(): a base chain is updated with zero counters
    /// (and counts its policy from then on); each rule whose counters are not zero is
    /// replaced by a zeroed copy (same handle).
    private static func zeroChain(_ t: inout XTTable, _ i: Int, _ k: XTTableKind, _ notes: inout [NFTNote]) {
        for r in t.chains[i].rules.indices where t.chains[i].rules[r].counters != XTCounters() {
            let old = t.chains[i].rules[r]
            t.chains[i].rules[r].counters = XTCounters()
            notes.append(.delRule(k, chain: t.chains[i].name, old))
            notes.append(.newRule(k, chain: t.chains[i].name, t.chains[i].rules[r]))
        }
        t.chains[i].policyCounters = XTCounters()
        if t.chains[i].isBuiltin {
            t.chains[i].countsPolicy = true
            notes.append(.newChain(k, t.chains[i]))
        }
    }

    /// -X: one chain, or every user chain plus every built-in chain that nft_may_delete_chain()
    /// allows (empty, policy ACCEPT); a named built-in chain with another policy is refused
    /// by iptables itself, one with rules by the kernel.
    private static func deleteChains(_ t: inout XTTable, _ chain: String?, _ k: XTTableKind, sorted: Bool, _ notes: inout [NFTNote]) throws {
        var doomed: [Int] = []
        if let c = chain {
            guard let i = t.chainIndex(c), t.chains[i].exists else { throw XTError.noChain }
            if t.chains[i].isBuiltin && t.chains[i].policy != .accept { throw XTError.notEmpty }
            doomed = [i]
        } else {
            doomed = t.chainsInCacheOrder(sorted: sorted).filter { i in
                !t.chains[i].isBuiltin || (t.chains[i].policy == .accept && t.chains[i].rules.isEmpty)
            }
        }
        // Kernel (nf_tables_delchain): a chain that still has rules or is still jumped to is
        // busy; the first user chain in name order fails the batch.
        let builtins = doomed.filter { t.chains[$0].isBuiltin }
        let users = doomed.filter { !t.chains[$0].isBuiltin }.sorted { XTTable.strcmpLess(t.chains[$0].name, t.chains[$1].name) }
        for i in builtins + users {
            let n = t.chains[i].name
            if t.references(to: n) > 0 || !t.chains[i].rules.isEmpty {
                throw XTError.batch(op: "CHAIN_DEL", error: "Device or resource busy", object: "chain \(n)")
            }
        }
        for i in doomed { notes.append(.delChain(k, t.chains[i])) }
        let names = Set(doomed.filter { !t.chains[$0].isBuiltin }.map { t.chains[$0].name })
        for i in doomed where t.chains[i].isBuiltin { t.removeBuiltin(i) }
        t.chains.removeAll { !$0.isBuiltin && names.contains($0.name) }
    }

    /// The chain a rule goes into; a built-in chain is created on first use.
    private static func ruleChain(_ t: inout XTTable, _ name: String, create: Bool, _ notes: inout [NFTNote]) throws -> Int {
        guard let i = t.chainIndex(name) else { throw XTError.noChain }
        if t.chains[i].isBuiltin && !t.chains[i].exists {
            guard create else { throw XTError.noChain }
            t.createBuiltin(i)
            notes.append(.newChain(t.kind, t.chains[i]))
        }
        return i
    }

    private mutating func noteRule(_ op: XTOperation, _ chain: String, _ k: XTTableKind) {
        ops.append((op.batchName, chain, k))
    }

    /// Whether any rule of the batch's ruleset needs connection tracking.
    var needsConntrack: Bool {
        tables.contains { t in t?.chains.contains { c in c.rules.contains { $0.needsConntrack } } ?? false }
    }

    /// How a refused batch failed: `replayed` when the commit-time validation refused it,
    /// after nfnetlink had replayed the whole batch once (its handles are used up twice).
    struct Refusal: Error {
        let error: XTError
        let replayed: Bool
    }

    /// Kernel: the x_tables checkentry of each rule at NFT_MSG_NEWRULE (matches' protocol,
    /// the target's table and, in a base chain, its hook; no jump to a base chain:
    /// nft_verdict_init()'s EOPNOTSUPP), then nft_table_validate() at commit: no chain may be
    /// reached 16 jumps deep (a loop never ends), and a target must be allowed at every hook
    /// that reaches it. Only chains reachable from an existing built-in chain are checked.
    func validate() throws {
        for k in XTTableKind.allCases {
            guard let t = tables[k.rawValue] else { continue }
            let opsHere = ops.filter { $0.table == k }
            guard !opsHere.isEmpty else { continue }
            let (op, chain) = (opsHere.last!.op, opsHere.last!.chain)
            func refuse(_ error: String, replayed: Bool) -> Refusal {
                Refusal(error: .batch(op: op, error: error, object: "rule in chain \(chain)"), replayed: replayed)
            }
            for c in t.chains {
                for r in c.rules {
                    if !r.matchesValid || !r.target.allowed(table: k, hook: c.hook, rule: r) {
                        throw refuse("Invalid argument", replayed: false)
                    }
                    if let n = r.target.chainTarget, t.chain(n)?.isBuiltin == true {
                        throw refuse("Operation not supported", replayed: false)
                    }
                }
            }
            // Depth: the longest jump path below each chain (a loop is endless), memoised.
            var height: [Int: Int] = [:]
            var onStack = Set<Int>()
            func depth(_ ci: Int) -> Int {
                if let h = height[ci] { return h }
                if onStack.contains(ci) { return Int.max / 2 }
                onStack.insert(ci)
                var h = 0
                for r in t.chains[ci].rules {
                    if let n = r.target.chainTarget, let j = t.chainIndex(n), !t.chains[j].isBuiltin {
                        h = max(h, min(Int.max / 2, depth(j) + 1))
                    }
                }
                onStack.remove(ci)
                height[ci] = h
                return h
            }
            for base in t.chains.indices where t.chains[base].isBuiltin && t.chains[base].exists {
                if depth(base) >= 16 { throw refuse("Too many links", replayed: true) }
                // Targets must be allowed at the hook of every chain that reaches them.
                let hook = t.chains[base].hook!
                var seen = Set<Int>()
                var todo = [base]
                while let ci = todo.popLast() {
                    guard seen.insert(ci).inserted else { continue }
                    for r in t.chains[ci].rules {
                        if !r.target.allowed(table: k, hook: hook, rule: r) {
                            throw refuse("Invalid argument", replayed: true)
                        }
                        if let n = r.target.chainTarget, let j = t.chainIndex(n) { todo.append(j) }
                    }
                }
            }
        }
    }
}

extension NetNamespace {
    /// Runs one iptables command (or one iptables-restore table) as a single nf_tables batch:
    /// all of it is applied, or none of it. `process` names the program for NEWGEN (asked
    /// only while someone listens).
    public func xtCommit(process: (() -> (pid: Int32, name: String))? = nil,
                         _ body: (inout XTTransaction) throws -> Void) throws {
        let st = netfilter
        var tx = XTTransaction(xtables)
        do {
            try body(&tx)
            try tx.validate()
        } catch let e as XTTransaction.Refusal {
            st.useUpHandles(of: tx, times: e.replayed ? 2 : 1)
            throw e.error
        } catch let e as XTError {
            // Refused while the kernel processed the batch: its handles are gone all the same.
            if case .batch = e { st.useUpHandles(of: tx, times: 1) }
            throw e
        }
        st.tables = tx.tables
        st.lastTableHandle = tx.lastTableHandle
        syncConntrack(needed: tx.needsConntrack)
        syncHooks()
        guard !tx.notes.isEmpty else { return }
        // Kernel: nf_tables_commit() bumps the generation and notifies object by object.
        st.generation &+= 1
        nftNotify(tx.notes, process: process)
    }

    /// Registers the hook of every built-in chain that exists (nf_tables registers a base
    /// chain's hook when the chain is created); the nat table goes through the NAT core.
    func syncHooks() {
        guard let st = xtables else { return }
        for t in st.existingTables {
            for c in t.chains where c.isBuiltin && c.exists {
                let hook = c.hook!
                let key = t.kind.rawValue * 8 + hook.rawValue
                guard !st.registered.contains(key) else { continue }
                st.registered.insert(key)
                let kind = t.kind
                if kind == .nat {
                    enableNAT { [unowned(unsafe) self] p, s in
                        self.iptablesTraverse(table: .nat, hook: s.hook, packet: &p, state: s)
                    }
                    continue
                }
                kernel.trace(self, nil, .netfilter, "table \(kind.name): chain \(hook.chainName) registered at priority \(kind.priority(hook))")
                registerHook(NFHookOps(hook: hook, priority: kind.priority(hook), name: kind.name) { [unowned(unsafe) self] p, s in
                    self.iptablesTraverse(table: kind, hook: s.hook, packet: &p, state: s)
                })
            }
        }
    }

    /// Invariants for tests: every jump names an existing user chain, user chains are
    /// sorted, built-ins come first and in hook order, hooks are registered for every
    /// existing built-in chain.
    public func checkNetfilterInvariants() -> [String] {
        guard let st = xtables else { return [] }
        var problems: [String] = []
        for t in st.existingTables {
            let hooks = t.chains.prefix(t.builtinCount).map(\.hook)
            if hooks != t.kind.builtinHooks.map(Optional.some) { problems.append("\(t.kind.name): built-in chains out of order") }
            let users = t.userChains.map(\.name)
            for i in users.indices.dropFirst() where !XTTable.strcmpLess(users[i - 1], users[i]) {
                problems.append("\(t.kind.name): user chains not sorted at \(users[i])")
            }
            for c in t.chains {
                if c.isBuiltin && c.exists && !st.registered.contains(t.kind.rawValue * 8 + c.hook!.rawValue) {
                    problems.append("\(t.kind.name) \(c.name): exists but its hook is not registered")
                }
                for r in c.rules {
                    if let n = r.target.chainTarget, t.chain(n)?.isBuiltin != false {
                        problems.append("\(t.kind.name) \(c.name): jump to missing chain \(n)")
                    }
                }
            }
        }
        return problems
    }
}
