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

    /// Inserts a user chain keeping strcmp order.
    mutating func addUserChain(_ name: String) {
        var i = builtinCount
        while i < chains.count, XTTable.strcmpLess(chains[i].name, name) { i += 1 }
        chains.insert(XTChain(name: name, hook: nil, exists: true), at: i)
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
    /// Files `iptables-save -f` wrote (only the machine's root namespace keeps them).
    public var files: [String: String] = [:]

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
    case zero
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
        case .zero, .zeroRule: return "CHAIN_ZERO"
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
    /// A new rule needs connection tracking (a state or conntrack match).
    var needsConntrack = false

    init(_ state: NetfilterState?) {
        tables = state?.tables ?? Array(repeating: nil, count: XTTableKind.allCases.count)
    }

    public func table(_ k: XTTableKind) -> XTTable { tables[k.rawValue] ?? XTTable(kind: k) }
    public func tableExists(_ k: XTTableKind) -> Bool { tables[k.rawValue] != nil }

    private mutating func withTable<R>(_ k: XTTableKind, create: Bool, _ body: (inout XTTable) throws -> R) rethrows -> R {
        var t = tables[k.rawValue] ?? XTTable(kind: k)
        let r = try body(&t)
        if create || tables[k.rawValue] != nil { tables[k.rawValue] = t }
        return r
    }

    /// Kernel side of one iptables command on `chain` (nil: every chain, for -F -Z -X).
    public mutating func apply(_ op: XTOperation, table k: XTTableKind, chain: String?) throws {
        switch op {
        case .append(let rule):
            try withTable(k, create: true) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: true)
                t.chains[i].rules.append(rule)
            }
            noteRule(rule, op, chain!, k)
        case .insert(let rule, let at):
            try withTable(k, create: true) { t in
                // Kernel (nft_rule_insert): position count+1 appends; beyond is E2BIG.
                if let i = t.chainIndex(chain!), t.chains[i].exists || !t.chains[i].isBuiltin {
                    guard at <= t.chains[i].rules.count else { throw XTError.indexTooBig("insertion") }
                } else if at > 0 {
                    throw XTError.indexTooBig("insertion")
                }
                let i = try XTTransaction.ruleChain(&t, chain!, create: true)
                t.chains[i].rules.insert(rule, at: at)
            }
            noteRule(rule, op, chain!, k)
        case .replace(let rule, let at):
            try withTable(k, create: false) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: false)
                guard at < t.chains[i].rules.count else { throw XTError.indexTooBig("replacement") }
                t.chains[i].rules[at] = rule
            }
            noteRule(rule, op, chain!, k)
        case .delete(let spec):
            try withTable(k, create: false) { t in
                guard let i = t.chainIndex(chain!), t.chains[i].exists,
                      let r = t.chains[i].rules.firstIndex(where: { $0.sameSpec(spec) }) else { throw XTError.badRule }
                t.chains[i].rules.remove(at: r)
            }
        case .deleteAt(let at):
            try withTable(k, create: false) { t in
                let i = try XTTransaction.ruleChain(&t, chain!, create: false)
                guard at < t.chains[i].rules.count else { throw XTError.indexTooBig("deletion") }
                t.chains[i].rules.remove(at: at)
            }
        case .flush:
            if let c = chain {
                // Kernel: flushing a built-in chain that does not exist yet creates it.
                try withTable(k, create: true) { t in
                    let i = try XTTransaction.ruleChain(&t, c, create: true)
                    t.chains[i].rules.removeAll()
                }
            } else {
                withTable(k, create: false) { t in
                    for i in t.chains.indices { t.chains[i].rules.removeAll() }
                }
            }
        case .zero:
            if let c = chain {
                try withTable(k, create: false) { t in
                    guard let i = t.chainIndex(c), t.chains[i].exists else { throw XTError.noChain }
                    XTTransaction.zeroChain(&t.chains[i])
                }
            } else {
                withTable(k, create: false) { t in
                    for i in t.chains.indices where t.chains[i].exists { XTTransaction.zeroChain(&t.chains[i]) }
                }
            }
        case .zeroRule(let at):
            try withTable(k, create: false) { t in
                guard let i = t.chainIndex(chain!), t.chains[i].exists else { throw XTError.noChain }
                if at < t.chains[i].rules.count { t.chains[i].rules[at].counters = XTCounters() }
            }
        case .newChain:
            try withTable(k, create: true) { t in
                if t.chainIndex(chain!) != nil { throw XTError.chainExists }
                t.addUserChain(chain!)
            }
        case .deleteChain:
            try withTable(k, create: false) { t in
                let names: [String]
                if let c = chain {
                    guard let i = t.chainIndex(c), !t.chains[i].isBuiltin else { throw XTError.noChain }
                    names = [c]
                } else {
                    names = t.userChains.map(\.name)
                }
                for n in names {
                    // Kernel (nf_tables_delchain): a chain that still has rules or is still
                    // jumped to is busy; the first one in name order fails the batch.
                    let i = t.chainIndex(n)!
                    if t.references(to: n) > 0 || !t.chains[i].rules.isEmpty {
                        throw XTError.batch(op: "CHAIN_DEL", error: "Device or resource busy", object: "chain \(n)")
                    }
                }
                t.chains.removeAll { !$0.isBuiltin && names.contains($0.name) }
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
            }
        case .policy(let p, let counters):
            try withTable(k, create: true) { t in
                guard let i = t.chainIndex(chain!), t.chains[i].isBuiltin else { throw XTError.badBuiltinChain }
                t.chains[i].exists = true
                t.chains[i].policy = p
                t.chains[i].countsPolicy = true
                t.chains[i].policyCounters = counters ?? XTCounters()
            }
        }
    }

    /// iptables-restore: a table is flushed (rules and user chains go) before it is loaded.
    public mutating func flushTable(_ k: XTTableKind) {
        withTable(k, create: false) { t in
            for i in t.chains.indices { t.chains[i].rules.removeAll() }
            t.chains.removeAll { !$0.isBuiltin }
        }
    }

    /// iptables-restore's ":CHAIN - [0:0]" for a user chain (an existing one is kept).
    public mutating func restoreChain(_ k: XTTableKind, _ name: String) {
        withTable(k, create: true) { t in
            if t.chainIndex(name) == nil { t.addUserChain(name) }
        }
    }

    private static func zeroChain(_ c: inout XTChain) {
        for r in c.rules.indices { c.rules[r].counters = XTCounters() }
        c.policyCounters = XTCounters()
        if c.isBuiltin { c.countsPolicy = true }
    }

    /// The chain a rule goes into; a built-in chain is created on first use.
    private static func ruleChain(_ t: inout XTTable, _ name: String, create: Bool) throws -> Int {
        guard let i = t.chainIndex(name) else { throw XTError.noChain }
        if t.chains[i].isBuiltin && !t.chains[i].exists {
            guard create else { throw XTError.noChain }
            t.chains[i].exists = true
        }
        return i
    }

    private mutating func noteRule(_ rule: XTRule, _ op: XTOperation, _ chain: String, _ k: XTTableKind) {
        ops.append((op.batchName, chain, k))
        if rule.needsConntrack { needsConntrack = true }
    }

    /// Kernel: nft_table_validate() and the x_tables target checks: no chain may be reached
    /// 16 jumps deep (a loop never ends), and a target must be allowed at every hook that
    /// reaches it. Only chains reachable from an existing built-in chain are checked.
    func validate() throws {
        for k in XTTableKind.allCases {
            guard let t = tables[k.rawValue] else { continue }
            let opsHere = ops.filter { $0.table == k }
            guard !opsHere.isEmpty else { continue }
            let (op, chain) = (opsHere.last!.op, opsHere.last!.chain)
            // Every rule: its matches' protocol and its target's table (checkentry), and no
            // jump to a base chain (nft_verdict_init(): EOPNOTSUPP).
            for c in t.chains {
                for r in c.rules {
                    if !r.matchesValid || !r.target.allowed(table: k, hook: nil, rule: r) {
                        throw XTError.batch(op: op, error: "Invalid argument", object: "rule in chain \(chain)")
                    }
                    if let n = r.target.chainTarget, t.chain(n)?.isBuiltin == true {
                        throw XTError.batch(op: op, error: "Operation not supported", object: "rule in chain \(chain)")
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
                if depth(base) >= 16 { throw XTError.batch(op: op, error: "Too many links", object: "rule in chain \(chain)") }
                // Targets must be allowed at the hook of every chain that reaches them.
                let hook = t.chains[base].hook!
                var seen = Set<Int>()
                var todo = [base]
                while let ci = todo.popLast() {
                    guard seen.insert(ci).inserted else { continue }
                    for r in t.chains[ci].rules {
                        if !r.target.allowed(table: k, hook: hook, rule: r) {
                            throw XTError.batch(op: op, error: "Invalid argument", object: "rule in chain \(chain)")
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
    /// all of it is applied, or none of it.
    public func xtCommit(_ body: (inout XTTransaction) throws -> Void) throws {
        var tx = XTTransaction(xtables)
        try body(&tx)
        try tx.validate()
        let st = netfilter
        st.tables = tx.tables
        if tx.needsConntrack { enableConntrack() }
        syncHooks()
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
