// IptablesExtensions: iptables 1.8.9's match and target extensions as the command line sees
// them (libxt_tcp, libxt_udp, libipt_icmp, libxt_multiport, libxt_conntrack (--ctstate),
// libxt_state, libxt_addrtype, libxt_comment, libxt_physdev, libxt_mark, libxt_iprange,
// libxt_length, libxt_mac; libxt_standard,
// libipt_REJECT, libxt_LOG, libxt_TRACE, libxt_NAT's SNAT/DNAT/MASQUERADE/REDIRECT): their
// options, their parse errors word for word, and the two texts each prints (the -L column
// and the -S/iptables-save options).
// Guarantees: the texts are libxt_*'s print()/save() (e.g. "tcp dpt:8080", "ctstate
// RELATED,ESTABLISHED", "ADDRTYPE match dst-type LOCAL", "to:172.17.0.2:80", "LOG flags 0
// level 4"); port and protocol names come from the machine's /etc/services and
// /etc/protocols (IptablesServices.swift).
// Leaves out: the other extensions (they fail as if not installed: "Couldn't load match"),
// conntrack options other than --ctstate, TCP option matching beyond presence.

import NetKernel
import Wire

/// An option of an extension (struct option / xt_option_entry).
struct IptOption {
    let name: String
    /// 0 none, 1 required, 2 optional.
    let hasArg: Int
    let id: Int
    var invertible = false
    var mandatory = false
}

/// What the parser knows about the rule so far (struct iptables_command_state + ipt_ip).
struct IptParseContext {
    var proto: UInt8 = 0
    var invertProto = false
    var protocolText: String?
}

/// An error iptables reports; `message` is the text after "iptables v1.8.9 (nf_tables): ".
struct IptParamError: Error {
    let message: String
}

/// A match being parsed.
class IptMatchParser {
    let name: String
    var options: [IptOption] { [] }
    /// Loaded by -p (implicit) rather than -m.
    var implicit = false
    /// Options seen (for "can only be used once" and mandatory checks).
    var seen = Set<Int>()
    /// Lines for stderr that do not stop the command (printed as the option is parsed).
    var warnings: [String] = []
    /// xtoptions-style checks (once, invertible, mandatory); old-style parsers do their own.
    var xtoptions: Bool { true }

    init(name: String) { self.name = name }

    func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {}
    func finalCheck(_ c: IptParseContext) throws {}
    func build(_ c: IptParseContext) -> XTMatch { .comment("") }

    /// The generic checks xtables_option_parse() makes before an extension sees an option.
    func generic(_ o: IptOption, _ arg: String?, invert: Bool) throws {
        guard xtoptions else { return }
        // The messages name the option table's first entry with this id (--dports is
        // reported as --destination-ports), as xtables_option_lookup() finds it.
        if seen.contains(o.id) { throw IptParamError(message: "\(name): option \"--\(optionName(o.id))\" can only be used once.\n") }
        if invert && !o.invertible { throw IptParamError(message: "\(name): option \"--\(optionName(o.id))\" cannot be inverted.\n") }
        seen.insert(o.id)
    }

    /// The first entry of the option table with this id.
    func optionName(_ id: Int) -> String { options.first { $0.id == id }?.name ?? "" }

    /// Option ids each option id cannot be used with (struct xt_option_entry's excl).
    var exclusions: [Int: [Int]] { [:] }

    /// xtables_options_fcheck(), after all options are parsed: entry by entry of the table,
    /// a mandatory option missing, then an excluded one used as well.
    func mandatoryCheck() throws {
        for o in options {
            if o.mandatory && !seen.contains(o.id) {
                throw IptParamError(message: "\(name): option \"--\(optionName(o.id))\" must be specified\n")
            }
            for other in exclusions[o.id] ?? [] where seen.contains(o.id) && seen.contains(other) {
                throw IptParamError(message: "\(name): option \"--\(optionName(o.id))\" cannot be used together with \"--\(optionName(other))\".\n")
            }
        }
    }
}

/// A target being parsed.
class IptTargetParser: IptMatchParser {
    func buildTarget(_ c: IptParseContext) -> XTTarget { .none }
}

enum IptParse {
    /// Kernel of xtables_parse_port(): a number or a service name.
    static func port(_ s: String, proto: String) throws -> UInt16 {
        if let n = strtoui(s), n <= 65535 { return UInt16(n) }
        if let p = NameDB.servicePort(s, proto: proto) { return p }
        throw IptParamError(message: "invalid port/service `\(s)' specified")
    }

    /// xtables_strtoui(): decimal, 0x hex or 0 octal, nothing after.
    static func strtoui(_ s: String) -> UInt64? {
        guard !s.isEmpty else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        if s.count > 1 && s.hasPrefix("0") { return UInt64(s.dropFirst(), radix: 8) }
        return UInt64(s)
    }

    /// parse_tcp_ports() / parse_udp_ports(): "P", "P:Q", ":Q", "P:".
    static func portRange(_ s: String, proto: String) throws -> XTPortRange {
        guard let colon = s.firstIndex(of: ":") else {
            let p = try port(s, proto: proto)
            return XTPortRange(p, p)
        }
        let a = String(s[..<colon]), b = String(s[s.index(after: colon)...])
        let lo = a.isEmpty ? 0 : try port(a, proto: proto)
        let hi = b.isEmpty ? 0xffff : try port(b, proto: proto)
        if lo > hi { throw IptParamError(message: "invalid portrange (min > max)") }
        return XTPortRange(lo, hi)
    }

    /// libxt_tcp's flag names.
    static let tcpFlagNames: [(String, UInt8)] = [("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08),
                                                  ("ACK", 0x10), ("URG", 0x20), ("ALL", 0x3f), ("NONE", 0)]

    static func tcpFlags(_ s: String) throws -> UInt8 {
        var v: UInt8 = 0
        for part in s.split(separator: ",", omittingEmptySubsequences: true) {
            guard let f = tcpFlagNames.first(where: { $0.0.lowercased() == part.lowercased() }) else {
                throw IptParamError(message: "Unknown TCP flag `\(part)'")
            }
            v |= f.1
        }
        return v
    }

    /// print_tcpf(): "FIN,SYN,RST,ACK" or "NONE".
    static func tcpFlagsText(_ f: UInt8) -> String {
        var names: [String] = []
        var flags = f
        while flags != 0 {
            let i = tcpFlagNames.firstIndex { flags & $0.1 != 0 }!
            names.append(tcpFlagNames[i].0)
            flags &= ~tcpFlagNames[i].1
        }
        return names.isEmpty ? "NONE" : names.joined(separator: ",")
    }

    /// libxt_icmp.h's table.
    static let icmpCodes: [(name: String, type: UInt8, min: UInt8, max: UInt8)] = [
        ("any", 0xff, 0, 0xff), ("echo-reply", 0, 0, 0xff), ("pong", 0, 0, 0xff),
        ("destination-unreachable", 3, 0, 0xff), ("network-unreachable", 3, 0, 0), ("host-unreachable", 3, 1, 1),
        ("protocol-unreachable", 3, 2, 2), ("port-unreachable", 3, 3, 3), ("fragmentation-needed", 3, 4, 4),
        ("source-route-failed", 3, 5, 5), ("network-unknown", 3, 6, 6), ("host-unknown", 3, 7, 7),
        ("network-prohibited", 3, 9, 9), ("host-prohibited", 3, 10, 10), ("TOS-network-unreachable", 3, 11, 11),
        ("TOS-host-unreachable", 3, 12, 12), ("communication-prohibited", 3, 13, 13),
        ("host-precedence-violation", 3, 14, 14), ("precedence-cutoff", 3, 15, 15),
        ("source-quench", 4, 0, 0xff),
        ("redirect", 5, 0, 0xff), ("network-redirect", 5, 0, 0), ("host-redirect", 5, 1, 1),
        ("TOS-network-redirect", 5, 2, 2), ("TOS-host-redirect", 5, 3, 3),
        ("echo-request", 8, 0, 0xff), ("ping", 8, 0, 0xff),
        ("router-advertisement", 9, 0, 0xff), ("router-solicitation", 10, 0, 0xff),
        ("time-exceeded", 11, 0, 0xff), ("ttl-exceeded", 11, 0, 0xff), ("ttl-zero-during-transit", 11, 0, 0),
        ("ttl-zero-during-reassembly", 11, 1, 1),
        ("parameter-problem", 12, 0, 0xff), ("ip-header-bad", 12, 0, 0), ("required-option-missing", 12, 1, 1),
        ("timestamp-request", 13, 0, 0xff), ("timestamp-reply", 14, 0, 0xff),
        ("address-mask-request", 17, 0, 0xff), ("address-mask-reply", 18, 0, 0xff),
    ]

    /// __parse_icmp(): a (prefix of a) name, or TYPE[/CODE[:CODE]].
    static func icmpType(_ s: String) throws -> (UInt8, UInt8, UInt8) {
        var match: Int?
        for (i, c) in icmpCodes.enumerated() where c.name.lowercased().hasPrefix(s.lowercased()) {
            if let m = match {
                throw IptParamError(message: "Ambiguous ICMP type `\(s)': `\(icmpCodes[m].name)' or `\(c.name)'?")
            }
            match = i
        }
        if let m = match { return (icmpCodes[m].type, icmpCodes[m].min, icmpCodes[m].max) }
        func range(_ t: Substring) -> (UInt8, UInt8, Substring)? {
            var digits = t.prefix { $0.isNumber }
            guard !digits.isEmpty, let a = UInt64(digits), a <= 255 else { return nil }
            var rest = t.dropFirst(digits.count)
            var b = a
            if rest.first == ":" {
                digits = rest.dropFirst().prefix { $0.isNumber }
                guard !digits.isEmpty, let v = UInt64(digits), v <= 255 else { return nil }
                b = v
                rest = rest.dropFirst(1 + digits.count)
            }
            return (UInt8(a), UInt8(b), rest)
        }
        guard let (t0, t1, rest) = range(Substring(s)) else { throw IptParamError(message: "Unknown ICMP type `\(s)'") }
        if t0 != t1 { throw IptParamError(message: "ICMP type range not supported") }
        if rest.isEmpty { return (t0, 0, 0xff) }
        guard rest.first == "/" else { throw IptParamError(message: "unknown character \(rest.first!)") }
        guard let (c0, c1, r2) = range(rest.dropFirst()) else { throw IptParamError(message: "Unknown ICMP code `\(s)'") }
        if !r2.isEmpty { throw IptParamError(message: "unknown character \(r2.first!)") }
        return (t0, c0, c1)
    }

    static let ctStateNames: [(String, CTStateSet)] = [("INVALID", .invalid), ("NEW", .new), ("RELATED", .related),
                                                       ("ESTABLISHED", .established), ("UNTRACKED", .untracked),
                                                       ("SNAT", .snat), ("DNAT", .dnat)]

    static func ctStates(_ s: String, option: String, states allowed: Int, bad: String) throws -> CTStateSet {
        var v: CTStateSet = []
        // The message quotes the list from the bad name on (",ESTABLISHED" for "NEW,,ESTABLISHED");
        // libxt_state words an empty last name as a missing list.
        var rest = Substring(s)
        while true {
            let part = rest.prefix { $0 != "," }
            if part.isEmpty && part.endIndex == rest.endIndex && option == "state" {
                throw IptParamError(message: "\"--\(option)\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED")
            }
            guard let f = ctStateNames.prefix(allowed).first(where: { $0.0.lowercased() == part.lowercased() }) else {
                throw IptParamError(message: "Bad \(bad) \"\(rest)\"")
            }
            v.insert(f.1)
            guard part.endIndex < rest.endIndex else { return v }
            rest = rest[rest.index(after: part.endIndex)...]
        }
    }

    static func ctStatesText(_ s: CTStateSet) -> String {
        ctStateNames.filter { s.contains($0.1) }.map(\.0).joined(separator: ",")
    }

    /// syslog priority names (prioritynames[] order for printing).
    static let logLevels: [(String, UInt8)] = [("alert", 1), ("crit", 2), ("debug", 7), ("emerg", 0), ("err", 3),
                                               ("error", 3), ("info", 6), ("notice", 5), ("panic", 0), ("warn", 4),
                                               ("warning", 4)]
    static func logLevelName(_ l: UInt8) -> String? { logLevels.first { $0.1 == l }?.0 }
    /// The names --log-level accepts (xtopt_parse_sysloglevel()).
    static let logLevelInput: [(String, UInt8)] = [("alert", 1), ("crit", 2), ("debug", 7), ("emerg", 0), ("error", 3),
                                                   ("info", 6), ("notice", 5), ("panic", 0), ("warning", 4)]

    /// libxtables' xtables_save_string().
    static func saveString(_ v: String) -> String {
        let plain = v.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
        if plain && !v.isEmpty { return " " + v }
        var out = " \""
        for c in v {
            if c == "\"" || c == "\\" || c == "'" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    static func portName(_ p: UInt16, proto: String?, numeric: Bool) -> String {
        if !numeric, let proto, let n = NameDB.serviceName(p, proto: proto) { return n }
        return String(p)
    }
}

// MARK: - Matches

final class TCPMatchParser: IptMatchParser {
    var m = XTTCPMatch()
    init() { super.init(name: "tcp") }
    override var xtoptions: Bool { false }
    override var options: [IptOption] {
        [IptOption(name: "source-port", hasArg: 1, id: 1), IptOption(name: "sport", hasArg: 1, id: 1),
         IptOption(name: "destination-port", hasArg: 1, id: 2), IptOption(name: "dport", hasArg: 1, id: 2),
         IptOption(name: "syn", hasArg: 0, id: 3), IptOption(name: "tcp-flags", hasArg: 1, id: 4),
         IptOption(name: "tcp-option", hasArg: 1, id: 5)]
    }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        switch o.id {
        case 1:
            if seen.contains(1) { throw IptParamError(message: "Only one `--source-port' allowed") }
            m.sourcePorts = try IptParse.portRange(arg!, proto: "tcp")
            m.invertSourcePorts = invert
        case 2:
            if seen.contains(2) { throw IptParamError(message: "Only one `--destination-port' allowed") }
            m.destinationPorts = try IptParse.portRange(arg!, proto: "tcp")
            m.invertDestinationPorts = invert
        case 3, 4:
            if seen.contains(3) { throw IptParamError(message: "Only one of `--syn' or `--tcp-flags'  allowed") }
            if o.id == 3 {
                m.flagMask = 0x17; m.flagCompare = 0x02
            } else {
                guard let cmp = next(), !cmp.hasPrefix("-"), !cmp.hasPrefix("!") else {
                    throw IptParamError(message: "--tcp-flags requires two args.")
                }
                m.flagMask = try IptParse.tcpFlags(arg!)
                m.flagCompare = try IptParse.tcpFlags(cmp)
            }
            m.invertFlags = invert
            seen.insert(3)
        case 5:
            if seen.contains(5) { throw IptParamError(message: "Only one `--tcp-option' allowed") }
            guard let v = IptParse.strtoui(arg!), v >= 1, v <= 255 else { throw IptParamError(message: "Bad TCP option \"\(arg!)\"") }
            m.option = UInt8(v)
            m.invertOption = invert
        default: break
        }
        seen.insert(o.id)
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if !seen.isEmpty && (c.proto != 6 || c.invertProto) { throw IptParamError(message: "TCP match requires '-p tcp'") }
    }
    override func build(_ c: IptParseContext) -> XTMatch { .tcp(m) }
}

final class UDPMatchParser: IptMatchParser {
    var m = XTUDPMatch()
    init() { super.init(name: "udp") }
    override var xtoptions: Bool { false }
    override var options: [IptOption] {
        [IptOption(name: "source-port", hasArg: 1, id: 1), IptOption(name: "sport", hasArg: 1, id: 1),
         IptOption(name: "destination-port", hasArg: 1, id: 2), IptOption(name: "dport", hasArg: 1, id: 2)]
    }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        if o.id == 1 {
            if seen.contains(1) { throw IptParamError(message: "Only one `--source-port' allowed") }
            m.sourcePorts = try IptParse.portRange(arg!, proto: "udp")
            m.invertSourcePorts = invert
        } else {
            if seen.contains(2) { throw IptParamError(message: "Only one `--destination-port' allowed") }
            m.destinationPorts = try IptParse.portRange(arg!, proto: "udp")
            m.invertDestinationPorts = invert
        }
        seen.insert(o.id)
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if !seen.isEmpty && (c.proto != 17 || c.invertProto) { throw IptParamError(message: "UDP match requires '-p udp'") }
    }
    override func build(_ c: IptParseContext) -> XTMatch { .udp(m) }
}

final class ICMPMatchParser: IptMatchParser {
    var m = XTICMPMatch()
    init() { super.init(name: "icmp") }
    override var options: [IptOption] { [IptOption(name: "icmp-type", hasArg: 1, id: 0, invertible: true, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        let (t, lo, hi) = try IptParse.icmpType(arg!)
        m.type = t; m.codeMin = lo; m.codeMax = hi
        m.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .icmp(m) }
}

final class MultiportMatchParser: IptMatchParser {
    var m = XTMultiportMatch(direction: .destination, ports: [])
    init() { super.init(name: "multiport") }
    override var options: [IptOption] {
        [IptOption(name: "source-ports", hasArg: 1, id: 0, invertible: true), IptOption(name: "sports", hasArg: 1, id: 0, invertible: true),
         IptOption(name: "destination-ports", hasArg: 1, id: 1, invertible: true), IptOption(name: "dports", hasArg: 1, id: 1, invertible: true),
         IptOption(name: "ports", hasArg: 1, id: 2, invertible: true)]
    }
    override var exclusions: [Int: [Int]] { [0: [1, 2], 1: [0, 2], 2: [0, 1]] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        if c.invertProto { throw IptParamError(message: "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP") }
        let proto: String
        switch c.proto {
        case 6: proto = "tcp"
        case 17: proto = "udp"
        case 136: proto = "udplite"
        case 132: proto = "sctp"
        case 33: proto = "dccp"
        case 0: throw IptParamError(message: "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
        default: throw IptParamError(message: "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
        }
        var ports: [XTPortRange] = []
        var count = 0
        for part in arg!.split(separator: ",", omittingEmptySubsequences: false) {
            if count >= 15 { throw IptParamError(message: "too many ports specified") }
            if let colon = part.firstIndex(of: ":") {
                if count == 14 { throw IptParamError(message: "too many ports specified") }
                let lo = try IptParse.port(String(part[..<colon]), proto: proto)
                let hi = try IptParse.port(String(part[part.index(after: colon)...]), proto: proto)
                if lo >= hi { throw IptParamError(message: "invalid portrange specified") }
                ports.append(XTPortRange(lo, hi))
                count += 2
            } else {
                let p = try IptParse.port(String(part), proto: proto)
                ports.append(XTPortRange(p, p))
                count += 1
            }
        }
        m.ports = ports
        m.direction = o.id == 0 ? .source : (o.id == 1 ? .destination : .either)
        m.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if seen.isEmpty { throw IptParamError(message: "multiport expection an option") }
        try mandatoryCheck()
    }
    override func build(_ c: IptParseContext) -> XTMatch { .multiport(m) }
}

final class ConntrackMatchParser: IptMatchParser {
    var states: CTStateSet = []
    var invert = false
    init() { super.init(name: "conntrack") }
    override var options: [IptOption] { [IptOption(name: "ctstate", hasArg: 1, id: 0, invertible: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        states = try IptParse.ctStates(arg!, option: "ctstate", states: 7, bad: "ctstate")
        self.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if seen.isEmpty { throw IptParamError(message: "conntrack: At least one option is required") }
    }
    override func build(_ c: IptParseContext) -> XTMatch { .conntrack(states: states, invert: invert) }
}

final class StateMatchParser: IptMatchParser {
    var states: CTStateSet = []
    var invert = false
    init() { super.init(name: "state") }
    override var options: [IptOption] { [IptOption(name: "state", hasArg: 1, id: 0, invertible: true, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        states = try IptParse.ctStates(arg!, option: "state", states: 5, bad: "state")
        self.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .state(states: states, invert: invert) }
}

final class AddrTypeMatchParser: IptMatchParser {
    var m = XTAddrTypeMatch()
    init() { super.init(name: "addrtype") }
    override var options: [IptOption] {
        [IptOption(name: "src-type", hasArg: 1, id: 0, invertible: true), IptOption(name: "dst-type", hasArg: 1, id: 1, invertible: true),
         IptOption(name: "limit-iface-in", hasArg: 0, id: 2), IptOption(name: "limit-iface-out", hasArg: 0, id: 3)]
    }
    static func types(_ s: String) throws -> XTAddrTypes {
        var v: XTAddrTypes = []
        var parts = s.split(separator: ",", omittingEmptySubsequences: false)
        let last = parts.removeLast()
        for (i, p) in parts.enumerated() {
            guard !p.isEmpty, let t = XTAddrTypes.named(p.uppercased()) else {
                throw IptParamError(message: "addrtype: bad type `\(parts[i...].joined(separator: ",")),\(last)'")
            }
            v.insert(t)
        }
        guard !last.isEmpty, let t = XTAddrTypes.named(last.uppercased()) else { throw IptParamError(message: "addrtype: bad type \"\(last)\"") }
        v.insert(t)
        return v
    }
    override var exclusions: [Int: [Int]] { [2: [3], 3: [2]] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        switch o.id {
        case 0: m.source = try AddrTypeMatchParser.types(arg!); m.invertSource = invert
        case 1: m.destination = try AddrTypeMatchParser.types(arg!); m.invertDestination = invert
        case 2: m.limitIfaceIn = true
        default: m.limitIfaceOut = true
        }
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if !seen.contains(0) && !seen.contains(1) { throw IptParamError(message: "addrtype: you must specify --src-type or --dst-type") }
        try mandatoryCheck()
    }
    override func build(_ c: IptParseContext) -> XTMatch { .addrtype(m) }
}

final class CommentMatchParser: IptMatchParser {
    var text = ""
    init() { super.init(name: "comment") }
    override var options: [IptOption] { [IptOption(name: "comment", hasArg: 1, id: 0, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        if arg!.utf8.count > 255 { throw IptParamError(message: "Argument must have a maximum length of 255 characters\n") }
        text = arg!
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .comment(text) }
}

final class PhysdevMatchParser: IptMatchParser {
    var m = XTPhysdevMatch()
    init() { super.init(name: "physdev") }
    override var options: [IptOption] {
        [IptOption(name: "physdev-in", hasArg: 1, id: 0, invertible: true), IptOption(name: "physdev-out", hasArg: 1, id: 1, invertible: true),
         IptOption(name: "physdev-is-in", hasArg: 0, id: 2, invertible: true), IptOption(name: "physdev-is-out", hasArg: 0, id: 3, invertible: true),
         IptOption(name: "physdev-is-bridged", hasArg: 0, id: 4, invertible: true)]
    }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        switch o.id {
        case 0: m.physIn = XTIface(arg!); m.invertIn = invert
        case 1: m.physOut = XTIface(arg!); m.invertOut = invert
        case 2: m.isIn = true; m.invertIsIn = invert
        case 3: m.isOut = true; m.invertIsOut = invert
        default: m.isBridged = true; m.invertIsBridged = invert
        }
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if seen.isEmpty { throw IptParamError(message: "PHYSDEV: no physdev option specified") }
    }
    override func build(_ c: IptParseContext) -> XTMatch { .physdev(m) }
}

final class MarkMatchParser: IptMatchParser {
    var value: UInt32 = 0, mask: UInt32 = 0xffff_ffff, invert = false
    init() { super.init(name: "mark") }
    override var options: [IptOption] { [IptOption(name: "mark", hasArg: 1, id: 0, invertible: true, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        let parts = arg!.split(separator: "/", maxSplits: 1).map(String.init)
        guard let v = IptParse.strtoui(parts[0]), v <= UInt32.max else {
            throw IptParamError(message: "mark: bad value for option \"--mark\", or out of range (0-4294967295).\n")
        }
        value = UInt32(v)
        if parts.count == 2 {
            guard let mk = IptParse.strtoui(parts[1]), mk <= UInt32.max else {
                throw IptParamError(message: "mark: bad value for option \"--mark\", or out of range (0-4294967295).\n")
            }
            mask = UInt32(mk)
        }
        self.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .mark(value: value, mask: mask, invert: invert) }
}

final class IPRangeMatchParser: IptMatchParser {
    var m = XTIPRangeMatch()
    init() { super.init(name: "iprange") }
    override var options: [IptOption] {
        [IptOption(name: "src-range", hasArg: 1, id: 0, invertible: true), IptOption(name: "dst-range", hasArg: 1, id: 1, invertible: true)]
    }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        let text = arg!
        // "A-B" or "A" (A-A); each address as xtables_numeric_to_ipaddr() reads it.
        let dash = text.firstIndex(of: "-")
        let lowText = dash.map { String(text[..<$0]) } ?? text
        let highText = dash.map { String(text[text.index(after: $0)...]) } ?? text
        func bad(_ v: String) -> IptParamError { IptParamError(message: "iprange: Bad value for \"--\(o.name)\" option: \"\(v)\"") }
        guard let low = Iptables.numericAddress(lowText) else { throw bad(text) }
        guard let high = Iptables.numericAddress(highText) else { throw bad(highText) }
        if high < low { warnings.append("xt_iprange: range \(low)-\(high) is reversed and will never match") }
        if o.id == 0 { m.source = (low, high); m.invertSource = invert } else { m.destination = (low, high); m.invertDestination = invert }
    }
    override func finalCheck(_ c: IptParseContext) throws {
        if seen.isEmpty { throw IptParamError(message: "iprange match: You must specify `--src-range' or `--dst-range'") }
    }
    override func build(_ c: IptParseContext) -> XTMatch { .iprange(m) }
}

final class LengthMatchParser: IptMatchParser {
    var low: UInt16 = 0, high: UInt16 = 0xffff, invert = false
    init() { super.init(name: "length") }
    override var options: [IptOption] { [IptOption(name: "length", hasArg: 1, id: 0, invertible: true, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        // xtopt_parse_mint() with XTTYPE_UINT16RC: "N", "N:M", ":M", "N:".
        let parts = arg!.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 2 { throw IptParamError(message: "length: Too many components for option \"--length\" (max: 2)\n") }
        func value(_ t: String) throws -> UInt16 {
            guard let v = IptParse.strtoui(t), v <= 0xffff else {
                throw IptParamError(message: "length: bad value for option \"--length\" near \"\(t)\", or out of range (0-65535).\n")
            }
            return UInt16(v)
        }
        low = parts[0].isEmpty ? 0 : try value(parts[0])
        high = parts.count == 1 ? low : (parts[1].isEmpty ? 0xffff : try value(parts[1]))
        self.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .length(min: low, max: high, invert: invert) }
}

final class MACMatchParser: IptMatchParser {
    var source = MACAddress.zero, invert = false
    init() { super.init(name: "mac") }
    override var options: [IptOption] { [IptOption(name: "mac-source", hasArg: 1, id: 0, invertible: true, mandatory: true)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        guard let m = MACAddress(arg!) else { throw IptParamError(message: "Invalid MAC address specified.") }
        source = m
        self.invert = invert
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func build(_ c: IptParseContext) -> XTMatch { .mac(source: source, invert: invert) }
}

enum IptExtensions {
    /// The matches `-m NAME` can load.
    static func match(_ name: String) -> IptMatchParser? {
        switch name {
        case "tcp": return TCPMatchParser()
        case "udp": return UDPMatchParser()
        case "icmp": return ICMPMatchParser()
        case "multiport": return MultiportMatchParser()
        case "conntrack": return ConntrackMatchParser()
        case "state": return StateMatchParser()
        case "addrtype": return AddrTypeMatchParser()
        case "comment": return CommentMatchParser()
        case "physdev": return PhysdevMatchParser()
        case "mark": return MarkMatchParser()
        case "iprange": return IPRangeMatchParser()
        case "length": return LengthMatchParser()
        case "mac": return MACMatchParser()
        default: return nil
        }
    }

    /// The targets `-j NAME` can load (nil: a chain name).
    static func target(_ name: String) -> IptTargetParser? {
        switch name {
        case "ACCEPT", "DROP", "RETURN": return StandardTargetParser(name: name)
        case "REJECT": return RejectTargetParser()
        case "LOG": return LogTargetParser()
        case "TRACE": return StandardTargetParser(name: "TRACE")
        case "SNAT", "DNAT", "MASQUERADE", "REDIRECT": return NATTargetParser(name: name)
        default: return nil
        }
    }
}

// MARK: - Targets

final class StandardTargetParser: IptTargetParser {
    override func buildTarget(_ c: IptParseContext) -> XTTarget {
        switch name {
        case "ACCEPT": return .accept
        case "DROP": return .drop
        case "RETURN": return .returnTarget
        default: return .trace
        }
    }
}

final class RejectTargetParser: IptTargetParser {
    var with = XTRejectWith.portUnreachable
    init() { super.init(name: "REJECT") }
    override var options: [IptOption] { [IptOption(name: "reject-with", hasArg: 1, id: 0)] }
    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        let a = arg!.lowercased()
        for w in XTRejectWith.allCases where w != .echoReply && (w.name.hasPrefix(a) || w.alias.hasPrefix(a)) {
            with = w
            return
        }
        throw IptParamError(message: "unknown reject type \"\(arg!)\"")
    }
    override func buildTarget(_ c: IptParseContext) -> XTTarget { .reject(with) }
}

final class LogTargetParser: IptTargetParser {
    var o = XTLogOptions()
    init() { super.init(name: "LOG") }
    override var options: [IptOption] {
        [IptOption(name: "log-level", hasArg: 1, id: 6), IptOption(name: "log-prefix", hasArg: 1, id: 7),
         IptOption(name: "log-tcp-sequence", hasArg: 0, id: 0), IptOption(name: "log-tcp-options", hasArg: 0, id: 1),
         IptOption(name: "log-ip-options", hasArg: 0, id: 2), IptOption(name: "log-uid", hasArg: 0, id: 3),
         IptOption(name: "log-macdecode", hasArg: 0, id: 5)]
    }
    override func parse(_ opt: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        switch opt.id {
        case 6:
            if let v = IptParse.strtoui(arg!), v <= 7 {
                o.level = UInt8(v)
            } else if let l = IptParse.logLevelInput.first(where: { $0.0 == arg! }) {
                o.level = l.1
            } else {
                throw IptParamError(message: "log level \"\(arg!)\" unknown\n")
            }
        case 7:
            if arg!.isEmpty { throw IptParamError(message: "Argument must have a minimum length of 1 characters\n") }
            if arg!.contains("\n") { throw IptParamError(message: "Newlines not allowed in --log-prefix") }
            // struct xt_log_info keeps 29 characters and the terminating zero.
            o.prefix = String(decoding: Array(arg!.utf8.prefix(29)), as: UTF8.self)
        default:
            o.flags |= UInt8(1 << opt.id)
        }
    }
    override func buildTarget(_ c: IptParseContext) -> XTTarget { .log(o) }
}

final class NATTargetParser: IptTargetParser {
    var range = XTNATRange()
    var portsGiven = false
    override var options: [IptOption] {
        switch name {
        case "SNAT":
            return [IptOption(name: "to-source", hasArg: 1, id: 0, mandatory: true), IptOption(name: "random", hasArg: 0, id: 2),
                    IptOption(name: "random-fully", hasArg: 0, id: 3), IptOption(name: "persistent", hasArg: 0, id: 4)]
        case "DNAT":
            return [IptOption(name: "to-destination", hasArg: 1, id: 0, mandatory: true), IptOption(name: "random", hasArg: 0, id: 2),
                    IptOption(name: "persistent", hasArg: 0, id: 4)]
        case "MASQUERADE":
            return [IptOption(name: "to-ports", hasArg: 1, id: 1), IptOption(name: "random", hasArg: 0, id: 2),
                    IptOption(name: "random-fully", hasArg: 0, id: 3)]
        default:
            return [IptOption(name: "to-ports", hasArg: 1, id: 1), IptOption(name: "random", hasArg: 0, id: 2)]
        }
    }

    /// libxt_NAT's parse_ports().
    func ports(_ arg: String, portOK: Bool) throws {
        guard portOK else { throw IptParamError(message: "Need TCP, UDP, SCTP or DCCP with port specification") }
        portsGiven = true
        var digits = arg.prefix { $0.isNumber }
        var lo: UInt16
        var rest: Substring
        if !digits.isEmpty, let v = UInt64(digits), v <= 65535 {
            lo = UInt16(v)
            rest = arg.dropFirst(digits.count)
        } else {
            guard let p = NameDB.servicePort(arg, proto: nil) else { throw IptParamError(message: "Port `\(arg)' not valid") }
            range.ports = p...p
            return
        }
        switch rest.first {
        case nil:
            range.ports = lo...lo
            return
        case "-": rest = rest.dropFirst()
        case ":": throw IptParamError(message: "Invalid port:port syntax - use dash")
        default: throw IptParamError(message: "Garbage after port value: `\(rest)'")
        }
        digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, let v = UInt64(digits), v <= 65535 else { throw IptParamError(message: "Port `\(rest)' not valid") }
        let hi = UInt16(v)
        if hi < lo { throw IptParamError(message: "Port range `\(rest)' funky") }
        rest = rest.dropFirst(digits.count)
        if !rest.isEmpty {
            if rest.first == "/" { throw IptParamError(message: "Shifted portmap ranges not supported with this kernel") }
            throw IptParamError(message: "Garbage after port range: `\(rest)'")
        }
        lo = min(lo, hi)
        range.ports = lo...hi
    }

    override func parse(_ o: IptOption, _ arg: String?, invert: Bool, _ c: IptParseContext, next: () -> String?) throws {
        let portOK = [6, 17, 132, 33, 1].contains(c.proto)
        switch o.id {
        case 0:
            // parse_to(): ADDR[-ADDR][:PORT[-PORT]]
            var a = arg!
            if let colon = a.firstIndex(of: ":") {
                try ports(String(a[a.index(after: colon)...]), portOK: portOK)
                if colon == a.startIndex { return }
                a = String(a[..<colon])
            }
            let ends = a.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let lo = IPv4Address(ends[0]) else { throw IptParamError(message: "Bad IP address \"\(ends[0])\"") }
            var hi = lo
            if ends.count == 2 {
                guard let h = IPv4Address(ends[1]) else { throw IptParamError(message: "Bad IP address \"\(ends[1])\"") }
                hi = h
            }
            range.addresses = lo.raw...max(lo.raw, hi.raw)
        case 1: try ports(arg!, portOK: portOK)
        case 2: range.random = true
        case 3: range.randomFully = true
        default: range.persistent = true
        }
    }
    override func finalCheck(_ c: IptParseContext) throws { try mandatoryCheck() }
    override func buildTarget(_ c: IptParseContext) -> XTTarget {
        switch name {
        case "SNAT": return .snat(range)
        case "DNAT": return .dnat(range)
        case "MASQUERADE": return .masquerade(range)
        default: return .redirect(range)
        }
    }
}

// MARK: - Texts: -L (print) and -S / iptables-save (save)

extension XTMatch {
    /// libxt_*'s print(): the text after the addresses in -L (starts with a space).
    func printText(proto: UInt8, numeric: Bool) -> String {
        func ports(_ label: String, _ r: XTPortRange, _ inv: Bool, _ p: String) -> String {
            guard !r.isAll || inv else { return "" }
            let i = inv ? "!" : ""
            if r.low == r.high { return " \(label):\(i)\(IptParse.portName(r.low, proto: p, numeric: numeric))" }
            return " \(label)s:\(i)\(IptParse.portName(r.low, proto: p, numeric: numeric)):\(IptParse.portName(r.high, proto: p, numeric: numeric))"
        }
        switch self {
        case .tcp(let m):
            var s = " tcp" + ports("spt", m.sourcePorts, m.invertSourcePorts, "tcp") + ports("dpt", m.destinationPorts, m.invertDestinationPorts, "tcp")
            if m.option != 0 || m.invertOption { s += " option=\(m.invertOption ? "!" : "")\(m.option)" }
            if m.flagMask != 0 || m.invertFlags {
                s += " flags:" + (m.invertFlags ? "!" : "")
                if numeric {
                    s += "0x" + NetNamespaceHex.upper(m.flagMask) + "/0x" + NetNamespaceHex.upper(m.flagCompare)
                } else {
                    s += IptParse.tcpFlagsText(m.flagMask) + "/" + IptParse.tcpFlagsText(m.flagCompare)
                }
            }
            return s
        case .udp(let m):
            return " udp" + ports("spt", m.sourcePorts, m.invertSourcePorts, "udp") + ports("dpt", m.destinationPorts, m.invertDestinationPorts, "udp")
        case .icmp(let m):
            var s = " icmp"
            if !numeric, let n = IptParse.icmpCodes.first(where: { $0.type == m.type && $0.min == m.codeMin && $0.max == m.codeMax }) {
                return s + " " + (m.invert ? "!" : "") + n.name
            }
            if m.invert { s += " !" }
            s += "type \(m.type)"
            if m.codeMin == m.codeMax { s += " code \(m.codeMin)" } else if m.codeMin != 0 || m.codeMax != 0xff { s += " codes \(m.codeMin)-\(m.codeMax)" }
            return s
        case .multiport(let m):
            var s = " multiport "
            switch m.direction {
            case .source: s += "sports "
            case .destination: s += "dports "
            case .either: s += "ports "
            }
            if m.invert { s += " !" }
            let pname: String? = proto == 6 ? "tcp" : (proto == 17 ? "udp" : (proto == 136 ? "udplite" : (proto == 132 ? "sctp" : (proto == 33 ? "dccp" : nil))))
            s += m.ports.map { r in
                r.low == r.high ? IptParse.portName(r.low, proto: pname, numeric: numeric)
                    : IptParse.portName(r.low, proto: pname, numeric: numeric) + ":" + IptParse.portName(r.high, proto: pname, numeric: numeric)
            }.joined(separator: ",")
            return s
        case .conntrack(let st, let inv):
            return (inv ? " !" : "") + " ctstate " + IptParse.ctStatesText(st)
        case .state(let st, let inv):
            return (inv ? " !" : "") + " state " + IptParse.ctStatesText(st)
        case .addrtype(let m):
            var s = " ADDRTYPE match"
            if !m.source.isEmpty { s += " src-type " + (m.invertSource ? "!" : "") + m.source.text }
            if !m.destination.isEmpty { s += " dst-type " + (m.invertDestination ? "!" : "") + m.destination.text }
            if m.limitIfaceIn { s += " limit-in" }
            if m.limitIfaceOut { s += " limit-out" }
            return s
        case .comment(let c):
            return " /* \(c) */"
        case .physdev(let m):
            return " PHYSDEV match" + m.optionText
        case .mark(let v, let mask, let inv):
            // libxt_mark prints " !" on its own before the value.
            var s = " mark match" + (inv ? " !" : "") + " 0x" + String(v, radix: 16)
            if mask != 0xffff_ffff { s += "/0x" + String(mask, radix: 16) }
            return s
        case .iprange(let m):
            var s = ""
            if let r = m.source { s += " source IP range" + (m.invertSource ? " !" : "") + " \(r.low)-\(r.high)" }
            if let r = m.destination { s += " destination IP range" + (m.invertDestination ? " !" : "") + " \(r.low)-\(r.high)" }
            return s
        case .length(let lo, let hi, let inv):
            return " length " + (inv ? "!" : "") + (lo == hi ? "\(lo)" : "\(lo):\(hi)")
        case .mac(let m, let inv):
            return " MAC" + (inv ? " !" : "") + " \(m)"
        }
    }

    /// libxt_*'s save(): the options after "-m NAME" (starts with a space or is empty).
    var saveText: String {
        func ports(_ opt: String, _ r: XTPortRange, _ inv: Bool) -> String {
            guard !r.isAll else { return "" }
            return (inv ? " !" : "") + " --\(opt) " + (r.low == r.high ? "\(r.low)" : "\(r.low):\(r.high)")
        }
        switch self {
        case .tcp(let m):
            var s = ports("sport", m.sourcePorts, m.invertSourcePorts) + ports("dport", m.destinationPorts, m.invertDestinationPorts)
            if m.option != 0 || m.invertOption { s += (m.invertOption ? " !" : "") + " --tcp-option \(m.option)" }
            if m.flagMask != 0 || m.invertFlags {
                s += (m.invertFlags ? " !" : "") + " --tcp-flags " + IptParse.tcpFlagsText(m.flagMask) + " " + IptParse.tcpFlagsText(m.flagCompare)
            }
            return s
        case .udp(let m):
            return ports("sport", m.sourcePorts, m.invertSourcePorts) + ports("dport", m.destinationPorts, m.invertDestinationPorts)
        case .icmp(let m):
            var s = m.invert ? " !" : ""
            if m.type == 0xff { return s + " --icmp-type any" }
            s += " --icmp-type \(m.type)"
            if m.codeMin != 0 || m.codeMax != 0xff { s += "/\(m.codeMin)" }
            return s
        case .multiport(let m):
            var s = m.invert ? " !" : ""
            switch m.direction {
            case .source: s += " --sports "
            case .destination: s += " --dports "
            case .either: s += " --ports "
            }
            return s + m.ports.map { $0.low == $0.high ? "\($0.low)" : "\($0.low):\($0.high)" }.joined(separator: ",")
        case .conntrack(let st, let inv):
            return (inv ? " !" : "") + " --ctstate " + IptParse.ctStatesText(st)
        case .state(let st, let inv):
            return (inv ? " !" : "") + " --state " + IptParse.ctStatesText(st)
        case .addrtype(let m):
            var s = ""
            if !m.source.isEmpty { s += (m.invertSource ? " !" : "") + " --src-type " + m.source.text }
            if !m.destination.isEmpty { s += (m.invertDestination ? " !" : "") + " --dst-type " + m.destination.text }
            if m.limitIfaceIn { s += " --limit-iface-in" }
            if m.limitIfaceOut { s += " --limit-iface-out" }
            return s
        case .comment(let c):
            return " --comment" + IptParse.saveString(c)
        case .physdev(let m):
            return m.optionText
        case .mark(let v, let mask, let inv):
            var s = (inv ? " !" : "") + " --mark 0x" + String(v, radix: 16)
            if mask != 0xffff_ffff { s += "/0x" + String(mask, radix: 16) }
            return s
        case .iprange(let m):
            var s = ""
            if let r = m.source { s += (m.invertSource ? " !" : "") + " --src-range \(r.low)-\(r.high)" }
            if let r = m.destination { s += (m.invertDestination ? " !" : "") + " --dst-range \(r.low)-\(r.high)" }
            return s
        case .length(let lo, let hi, let inv):
            return (inv ? " !" : "") + " --length " + (lo == hi ? "\(lo)" : "\(lo):\(hi)")
        case .mac(let m, let inv):
            return (inv ? " !" : "") + " --mac-source \(m)"
        }
    }
}

extension XTPhysdevMatch {
    /// libxt_physdev prints the same options in -L and -S (physdev_save()'s order).
    var optionText: String {
        var s = ""
        if isIn { s += (invertIsIn ? " !" : "") + " --physdev-is-in" }
        if let i = physIn { s += (invertIn ? " !" : "") + " --physdev-in " + i.text }
        if isOut { s += (invertIsOut ? " !" : "") + " --physdev-is-out" }
        if let o = physOut { s += (invertOut ? " !" : "") + " --physdev-out " + o.text }
        if isBridged { s += (invertIsBridged ? " !" : "") + " --physdev-is-bridged" }
        return s
    }
}

enum NetNamespaceHex {
    static func upper(_ v: UInt8) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }
}

extension XTTarget {
    /// libxt_NAT's sprint_range().
    static func rangeText(_ r: XTNATRange) -> String {
        var s = ""
        if let a = r.addresses {
            s += "\(IPv4Address(raw: a.lowerBound))"
            if a.upperBound != a.lowerBound { s += "-\(IPv4Address(raw: a.upperBound))" }
        }
        if let p = r.ports {
            s += ":\(p.lowerBound)"
            if p.upperBound != p.lowerBound { s += "-\(p.upperBound)" }
        }
        return s
    }

    /// __NAT_print().
    static func natText(_ r: XTNATRange, rangeOpt: String, flagPrefix: String, skipColon: Bool) -> String {
        var s = ""
        var rs = rangeText(r)
        if !rs.isEmpty {
            if skipColon && rs.hasPrefix(":") { rs.removeFirst() }
            s += " " + rangeOpt + rs
        }
        if r.random { s += " \(flagPrefix)random" }
        if r.randomFully { s += " \(flagPrefix)random-fully" }
        if r.persistent { s += " \(flagPrefix)persistent" }
        return s
    }

    /// The target's print() in -L (starts with a space, or empty).
    func printText(numeric: Bool) -> String {
        switch self {
        case .reject(let w): return " reject-with \(w.name)"
        case .log(let o):
            var s = " LOG"
            if numeric {
                s += " flags \(o.flags) level \(o.level)"
            } else {
                if let n = IptParse.logLevelName(o.level) { s += " level \(n)" } else { s += " UNKNOWN level \(o.level)" }
                if o.flags & 0x01 != 0 { s += " tcp-sequence" }
                if o.flags & 0x02 != 0 { s += " tcp-options" }
                if o.flags & 0x04 != 0 { s += " ip-options" }
                if o.flags & 0x08 != 0 { s += " uid" }
                if o.flags & 0x20 != 0 { s += " macdecode" }
            }
            if !o.prefix.isEmpty { s += " prefix \"\(o.prefix)\"" }
            return s
        case .snat(let r), .dnat(let r): return XTTarget.natText(r, rangeOpt: "to:", flagPrefix: "", skipColon: false)
        case .masquerade(let r): return XTTarget.natText(r, rangeOpt: "masq ports: ", flagPrefix: "", skipColon: true)
        case .redirect(let r): return XTTarget.natText(r, rangeOpt: "redir ports ", flagPrefix: "", skipColon: true)
        default: return ""
        }
    }

    /// The target's save() (after "-j NAME").
    var saveText: String {
        switch self {
        case .reject(let w): return " --reject-with \(w.name)"
        case .log(let o):
            var s = ""
            if !o.prefix.isEmpty { s += " --log-prefix" + IptParse.saveString(o.prefix) }
            if o.level != 4 { s += " --log-level \(o.level)" }
            if o.flags & 0x01 != 0 { s += " --log-tcp-sequence" }
            if o.flags & 0x02 != 0 { s += " --log-tcp-options" }
            if o.flags & 0x04 != 0 { s += " --log-ip-options" }
            if o.flags & 0x08 != 0 { s += " --log-uid" }
            if o.flags & 0x20 != 0 { s += " --log-macdecode" }
            return s
        case .snat(let r): return XTTarget.natText(r, rangeOpt: "--to-source ", flagPrefix: "--", skipColon: false)
        case .dnat(let r): return XTTarget.natText(r, rangeOpt: "--to-destination ", flagPrefix: "--", skipColon: false)
        case .masquerade(let r), .redirect(let r): return XTTarget.natText(r, rangeOpt: "--to-ports ", flagPrefix: "--", skipColon: true)
        default: return ""
        }
    }
}
