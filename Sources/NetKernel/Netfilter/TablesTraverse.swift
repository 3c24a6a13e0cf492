// TablesTraverse: one packet's walk through one table's chain for a hook, as nft_do_chain()
// (net/netfilter/nf_tables_core.c) runs the rules iptables-nft made.
// Guarantees: rules are tried in order, their matches ANDed; a matching rule counts one
// packet and the IP total length before its target runs; -j pushes a return point, -g does
// not; RETURN (or the end of a user chain) pops, and at the bottom of the stack falls to the
// built-in chain's policy, which is counted (when the chain has counters) like a rule; a
// packet marked by TRACE sends nf_tables trace messages at each step (NFTablesTrace.swift);
// every decision is traced for the explain view.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: nft_do_chain(). The filter, raw, mangle and security hooks call it; the NAT core
    /// calls it for the nat table on the first packet of a connection (see enableNAT).
    public func iptablesTraverse(table kind: XTTableKind, hook: NFHook, packet p: inout Packet, state s: NFHookState) -> NFVerdict {
        guard let st = xtables, let table = st.tables[kind.rawValue],
              let base = table.builtinIndex(hook), table.chains[base].exists else { return .accept }
        guard let view = XTPacketView(p) else { return .accept }
        var v = view
        let inName = s.inDevice?.name ?? "", outName = s.outDevice?.name ?? ""
        let dev = s.inDevice ?? s.outDevice
        let length = UInt64(v.length)
        var stack: [(chain: Int, rule: Int)] = []
        var ci = base, ri = 0
        var budget = 100_000  // a guard only; validation keeps chains 15 jumps deep and loop-free
        var info = NFTraceInfo()

        func chainName(_ c: Int) -> String { st.tables[kind.rawValue]!.chains[c].name }
        /// Kernel: nft_trace_packet() / nft_trace_verdict() for a rule (nil: the chain's end).
        func trace(_ rule: XTRule?, _ verdict: NFTVerdict) {
            guard p.nfTrace else { return }
            nftTraceNotify(&info, p, s, table: kind, chain: chainName(ci), rule: rule, verdict: verdict)
        }

        while budget > 0 {
            budget -= 1
            let count = st.tables[kind.rawValue]!.chains[ci].rules.count
            if ri >= count {
                trace(nil, .continue)
                if ci != base && !st.tables[kind.rawValue]!.chains[ci].isBuiltin {
                    // The end of a user chain: back to the rule after the jump.
                    kernel.trace(self, dev, .netfilter, "\(kind.name) \(chainName(ci)): end of chain, return")
                    if let top = stack.popLast() {
                        ci = top.chain; ri = top.rule
                        continue
                    }
                }
                return policy(kind, base, &p, s, length: length, &info)
            }
            let rule = st.tables[kind.rawValue]!.chains[ci].rules[ri]
            guard rule.ip.matches(v, inName: inName, outName: outName) else { ri += 1; continue }
            var matched = true
            for m in rule.matches {
                switch m.evaluate(p, v, s) {
                case .match: continue
                case .noMatch: matched = false
                case .hotdrop:
                    kernel.trace(self, dev, .netfilter, "\(kind.name) \(chainName(ci)) rule \(ri + 1): malformed \(m.name) header, dropped")
                    trace(rule, .drop)
                    return .drop("\(kind.name) \(chainName(ci)) rule \(ri + 1): hotdrop (\(DropReason.netfilterDrop.rawValue))")
                }
                break
            }
            guard matched else { ri += 1; continue }
            st.tables[kind.rawValue]!.chains[ci].rules[ri].counters.packets += 1
            st.tables[kind.rawValue]!.chains[ci].rules[ri].counters.bytes += length
            let here = "\(kind.name) \(chainName(ci)) rule \(ri + 1)"
            switch rule.target {
            case .none:
                kernel.trace(self, dev, .netfilter, "\(here): matched (no target)")
                trace(rule, .continue)
                ri += 1
            case .accept:
                kernel.trace(self, dev, .netfilter, "\(here): ACCEPT")
                trace(rule, .accept)
                return .accept
            case .drop:
                kernel.trace(self, dev, .netfilter, "\(here): DROP")
                trace(rule, .drop)
                return .drop("\(here) DROP (\(DropReason.netfilterDrop.rawValue))")
            case .returnTarget:
                kernel.trace(self, dev, .netfilter, "\(here): RETURN")
                trace(rule, .return)
                if let top = stack.popLast() {
                    ci = top.chain; ri = top.rule
                } else {
                    return policy(kind, base, &p, s, length: length, &info)
                }
            case .jump(let name), .goto(let name):
                guard let target = st.tables[kind.rawValue]!.chainIndex(name) else { ri += 1; continue }
                let isGoto: Bool
                if case .goto = rule.target { isGoto = true } else { isGoto = false }
                kernel.trace(self, dev, .netfilter, "\(here): \(isGoto ? "goto" : "jump to") \(name)")
                trace(rule, isGoto ? .goto(name) : .jump(name))
                if !isGoto { stack.append((ci, ri + 1)) }
                ci = target; ri = 0
            default:
                if let verdict = runTarget(rule.target, &p, s, table: kind, where: here) {
                    kernel.trace(self, dev, .netfilter, "\(here): \(rule.target.name) -> \(NetNamespace.verdictText(verdict))")
                    trace(rule, NetNamespace.traceVerdict(verdict))
                    return verdict
                }
                kernel.trace(self, dev, .netfilter, "\(here): \(rule.target.name), continue")
                trace(rule, .continue)
                // Kernel: "Target might have changed stuff."
                if let nv = XTPacketView(p) { v = nv }
                ri += 1
            }
        }
        return .drop("\(kind.name): rule walk did not end (\(DropReason.loopDetected.rawValue))")
    }

    /// The built-in chain's policy: counted like the underflow rule legacy keeps for it.
    private func policy(_ kind: XTTableKind, _ base: Int, _ p: inout Packet, _ s: NFHookState, length: UInt64,
                        _ info: inout NFTraceInfo) -> NFVerdict {
        let st = xtables!
        let c = st.tables[kind.rawValue]!.chains[base]
        if c.countsPolicy {
            st.tables[kind.rawValue]!.chains[base].policyCounters.packets += 1
            st.tables[kind.rawValue]!.chains[base].policyCounters.bytes += length
        }
        if p.nfTrace { nftTraceNotify(&info, p, s, table: kind, chain: c.name, rule: nil, verdict: nil, policy: c.policy) }
        kernel.trace(self, s.inDevice ?? s.outDevice, .netfilter, "\(kind.name) \(c.name): policy \(c.policy.name)")
        if c.policy == .drop {
            return .drop("\(kind.name) \(c.name) policy DROP (\(DropReason.netfilterDrop.rawValue))")
        }
        return .accept
    }

    static func verdictText(_ v: NFVerdict) -> String {
        switch v {
        case .accept: return "ACCEPT"
        case .drop: return "DROP"
        case .stolen: return "STOLEN"
        }
    }

    static func traceVerdict(_ v: NFVerdict) -> NFTVerdict {
        switch v {
        case .accept: return .accept
        case .drop: return .drop
        case .stolen: return .stolen
        }
    }
}
