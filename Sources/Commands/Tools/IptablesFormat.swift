// IptablesFormat: the texts iptables 1.8.9 prints for a table: `-L` (print_header(),
// print_rule_details(), print_ifaces(), print_ipv4_addresses() and each extension's print,
// with -n -v -x --line-numbers), `-S` and iptables-save (the rule in command form).
// Guarantees: column widths and spacing are the C format strings' ("%-9s ", "%5llu ", ...);
// counters use the K/M/G/T suffixes of xtables_print_num() unless -x; chains come in the
// kernel's order (built-ins by hook, then user chains by name); "(N references)" counts
// the rules that jump or go to the chain.
// Deliberate difference: iptables 1.8.9 prints the prot column of -n listings as a number
// ("0", "6"), a bug fixed in 1.8.10 (the 1.8.9 change was reverted); we print the names
// "all", "tcp", "udp", "icmp" as 1.8.8 and 1.8.10+ do and as tutorials show.

import NetKernel
import Wire

struct IptFormat: OptionSet {
    let rawValue: Int
    static let noCounts = IptFormat(rawValue: 1 << 0)
    static let numeric = IptFormat(rawValue: 1 << 1)
    static let kmg = IptFormat(rawValue: 1 << 2)
    static let lineNumbers = IptFormat(rawValue: 1 << 3)
    static let via = IptFormat(rawValue: 1 << 4)
}

enum IptablesFormat {
    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }

    /// xtables_print_num(): "%8llu " exact, else "%5llu " up to 99999 then K, M, G, T.
    static func num(_ n: UInt64, _ f: IptFormat, notable: Bool = false) -> String {
        if !f.contains(.kmg) { return notable ? "\(n) " : lpad("\(n)", 8) + " " }
        if n <= 99999 { return notable ? "\(n) " : lpad("\(n)", 5) + " " }
        var v = (n + 500) / 1000
        for suffix in ["K", "M", "G"] {
            if v <= 9999 { return (notable ? "\(v)" : lpad("\(v)", 4)) + suffix + " " }
            v = (v + 500) / 1000
        }
        return (notable ? "\(v)" : lpad("\(v)", 4)) + "T "
    }

    /// print_header().
    static func header(_ c: XTChain, refs: Int, _ f: IptFormat) -> String {
        var s = "Chain \(c.name)"
        if c.isBuiltin {
            s += " (policy \(c.policy.name)"
            if !f.contains(.noCounts) {
                s += " " + num(c.policyCounters.packets, f, notable: true) + "packets, " + num(c.policyCounters.bytes, f, notable: true) + "bytes"
            }
            s += ")\n"
        } else {
            s += " (\(refs) references)\n"
        }
        if f.contains(.lineNumbers) { s += pad("num", 4) + " " }
        if !f.contains(.noCounts) {
            if f.contains(.kmg) {
                s += lpad("pkts", 5) + " " + lpad("bytes", 5) + " "
            } else {
                s += lpad("pkts", 8) + " " + lpad("bytes", 10) + " "
            }
        }
        s += pad("target", 9) + " "
        s += " prot opt"
        if f.contains(.via) { s += " " + pad("in", 6) + " " + pad("out", 6) + " " }
        s += " " + pad("source", 19) + " "
        s += " " + pad("destination", 19) + " "
        return s + "\n"
    }

    /// xtables_ipaddr_to_anyname() / xtables_ipmask_to_numeric().
    static func address(_ a: IPv4Address, _ mask: UInt32, _ f: IptFormat) -> String {
        if mask == 0 && !f.contains(.numeric) { return "anywhere" }
        var s = "\(a)"
        if !f.contains(.numeric) {
            if let h = NameDB.hosts.first(where: { $0.address == a.raw }) {
                s = h.name
            } else if let n = NameDB.networks.first(where: { $0.address == a.raw }) {
                s = n.name
            }
        }
        return s + maskText(mask, numericOnly: true)
    }

    /// "" for /32, "/N" for a prefix, "/a.b.c.d" otherwise (listing); save uses "/32".
    static func maskText(_ mask: UInt32, numericOnly: Bool) -> String {
        if mask == 0xffff_ffff { return numericOnly ? "" : "/32" }
        var bits = 0
        var m = mask
        while m & 0x8000_0000 != 0 { bits += 1; m <<= 1 }
        if m == 0 { return "/\(bits)" }
        return "/\(IPv4Address(raw: mask))"
    }

    /// One rule line of -L (nft_ipv4_print_rule()).
    static func ruleLine(_ r: XTRule, num n: Int, _ f: IptFormat) -> String {
        var s = ""
        if f.contains(.lineNumbers) { s += pad("\(n)", 4) + " " }
        if !f.contains(.noCounts) { s += num(r.counters.packets, f) + num(r.counters.bytes, f) }
        s += pad(r.target.name, 9) + " "
        s += r.ip.invertProto ? "!" : " "
        let pname = Iptables.protoName(r.ip.proto, nolookup: f.contains(.numeric))
        s += pad(pname ?? "\(r.ip.proto)", 4) + " "
        s += (r.ip.invertFragment ? "!" : "-") + (r.ip.fragment ? "f" : "-") + " "
        if f.contains(.via) {
            let any = f.contains(.numeric) ? "*" : "any"
            s += " " + pad((r.ip.invertIn ? "!" : "") + (r.ip.inInterface?.text ?? any), 6) + " "
            s += pad((r.ip.invertOut ? "!" : "") + (r.ip.outInterface?.text ?? any), 6) + " "
        }
        s += (r.ip.invertSource ? "!" : " ") + pad(address(r.ip.source, r.ip.sourceMask, f), 19) + " "
        s += (r.ip.invertDestination ? "!" : " ") + pad(address(r.ip.destination, r.ip.destinationMask, f), 19) + " "
        if case .goto = r.target { s += "[goto] " }
        for m in r.matches { s += m.printText(proto: r.ip.proto, numeric: f.contains(.numeric)) }
        s += r.target.printText(numeric: f.contains(.numeric))
        return s + "\n"
    }

    /// The rule as `-v` echoes it for -A -I -D -R -C (FMT_PRINT_RULE: numeric, no table).
    static func verboseRule(_ r: XTRule) -> String {
        var s = r.target.name + " "
        s += r.ip.invertProto ? "!" : " "
        s += (Iptables.protoName(r.ip.proto, nolookup: false) ?? "\(r.ip.proto)") + " "
        s += "opt " + (r.ip.invertFragment ? "!" : "-") + (r.ip.fragment ? "f" : "-") + " "
        s += "in " + (r.ip.invertIn ? "!" : "") + (r.ip.inInterface?.text ?? "*") + " "
        s += "out " + (r.ip.invertOut ? "!" : "") + (r.ip.outInterface?.text ?? "*") + " "
        s += (r.ip.invertSource ? "!" : " ") + address(r.ip.source, r.ip.sourceMask, .numeric) + " "
        s += (r.ip.invertDestination ? "!" : " ") + "-> " + address(r.ip.destination, r.ip.destinationMask, .numeric)
        s += "  "
        if case .goto = r.target { s += "[goto] " }
        for m in r.matches { s += m.printText(proto: r.ip.proto, numeric: true) }
        s += r.target.printText(numeric: true)
        return s + "\n"
    }

    /// nft_rule_print_save(): "-A CHAIN ..." (with "-c P B" for -S -v; "[P:B] " for save -c);
    /// `op` "D" for a deleted rule as xtables-monitor prints it.
    static func saveLine(_ r: XTRule, chain: String, cCounters: Bool = false, bracketCounters: Bool = false, op: String = "A") -> String {
        var s = bracketCounters ? "[\(r.counters.packets):\(r.counters.bytes)] " : ""
        s += "-\(op) \(chain)"
        let ip = r.ip
        if !(ip.sourceMask == 0 && !ip.invertSource && ip.source == .any) {
            s += (ip.invertSource ? " !" : "") + " -s \(ip.source)" + maskText(ip.sourceMask, numericOnly: false)
        }
        if !(ip.destinationMask == 0 && !ip.invertDestination && ip.destination == .any) {
            s += (ip.invertDestination ? " !" : "") + " -d \(ip.destination)" + maskText(ip.destinationMask, numericOnly: false)
        }
        if let i = ip.inInterface { s += (ip.invertIn ? " !" : "") + " -i " + i.text }
        if let o = ip.outInterface { s += (ip.invertOut ? " !" : "") + " -o " + o.text }
        if ip.proto != 0 {
            s += ip.invertProto ? " !" : ""
            s += " -p " + (Iptables.protoName(ip.proto, nolookup: false) ?? "\(ip.proto)")
        }
        if ip.fragment { s += (ip.invertFragment ? " !" : "") + " -f" }
        for m in r.matches { s += " -m \(m.name)" + m.saveText }
        if cCounters { s += " -c \(r.counters.packets) \(r.counters.bytes)" }
        switch r.target {
        case .none: break
        case .goto(let c): s += " -g \(c)"
        case .jump(let c): s += " -j \(c)"
        default: s += " -j \(r.target.name)" + r.target.saveText
        }
        return s + "\n"
    }

    /// -L and -S for one table (nft_rule_list() / nft_rule_list_save()).
    static func list(_ p: IptCommand, _ kind: XTTableKind, _ ctx: ToolContext) throws {
        let t = ctx.namespace.xtTableView(kind)
        var chains = t.chains
        if let name = p.chain {
            guard let c = t.chain(name) else {
                throw IptFailure.other("chain `\(name)' in table `\(kind.name)' is incompatible, use 'nft' tool.")
            }
            chains = [c]
        }
        var out = ""
        if p.command.contains(.listRules) {
            let counters = p.options.contains(.verbose)
            if p.rulenum == 0 {
                for c in chains {
                    if c.isBuiltin {
                        out += "-P \(c.name) \(c.policy.name)"
                        if counters { out += " -c \(c.policyCounters.packets) \(c.policyCounters.bytes)" }
                        out += "\n"
                    } else {
                        out += "-N \(c.name)\n"
                    }
                }
            }
            for c in chains {
                if p.rulenum > 0 {
                    if p.rulenum <= c.rules.count { out += saveLine(c.rules[p.rulenum - 1], chain: c.name, cCounters: counters) }
                } else {
                    for r in c.rules { out += saveLine(r, chain: c.name, cCounters: counters) }
                }
            }
            ctx.out.stdout(out)
            return
        }
        var f: IptFormat = []
        if !p.options.contains(.verbose) { f.insert(.noCounts) } else { f.insert(.via) }
        if p.options.contains(.numeric) { f.insert(.numeric) }
        if !p.options.contains(.expanded) { f.insert(.kmg) }
        if p.options.contains(.lineNumbers) { f.insert(.lineNumbers) }
        var first = true
        for c in chains {
            if p.rulenum > 0 {
                if p.rulenum <= c.rules.count { out += ruleLine(c.rules[p.rulenum - 1], num: p.rulenum, f) }
                continue
            }
            if !first { out += "\n" }
            first = false
            out += header(c, refs: t.references(to: c.name), f)
            for (i, r) in c.rules.enumerated() { out += ruleLine(r, num: i + 1, f) }
        }
        ctx.out.stdout(out)
    }

    /// ctime(): "Sun Nov 22 22:29:27 2026\n" (UTC).
    static func ctime(_ wall: Int64) -> String {
        let secs = wall >= 0 ? wall : 0
        let days = Int(secs / 86400)
        let rem = Int(secs % 86400)
        // H. Hinnant's civil_from_days.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        let wd = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let wdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(wdays[wd]) \(months[m - 1]) \(lpad("\(d)", 2)) \(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60)) \(y)\n"
    }

    /// One table as iptables-save prints it.
    static func save(_ t: XTTable, counters: Bool, date: String) -> String {
        var s = "# Generated by iptables-save v\(Iptables.version) on \(date)"
        s += "*\(t.kind.name)\n"
        for c in t.chains {
            if c.isBuiltin {
                s += ":\(c.name) \(c.policy.name) [\(c.policyCounters.packets):\(c.policyCounters.bytes)]\n"
            } else {
                s += ":\(c.name) - [0:0]\n"
            }
        }
        for c in t.chains {
            for r in c.rules { s += saveLine(r, chain: c.name, bracketCounters: counters) }
        }
        s += "COMMIT\n"
        s += "# Completed on \(date)"
        return s
    }
}
