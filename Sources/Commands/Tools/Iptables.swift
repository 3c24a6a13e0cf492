// Iptables: iptables 1.8.9 (nf_tables backend): the command line (do_parse() in xshared.c,
// getopt_long with its "-:" ordering, prefix-abbreviated long options, implicit loading of
// the protocol's match on an unknown option), the checks it makes before and after parsing,
// and the commands -A -I -D -R -C -P -N -X -E -F -Z -L -S turned into one kernel transaction
// each. Listing and saving are in IptablesFormat.swift.
// Guarantees: every error is iptables' own text and exit status (2 for a parameter problem
// with "Try `iptables -h' ...", 1 for what nft_strerror() words as "iptables: ...", 3 for an
// unknown table, 4 for a batch the kernel refused); a command that fails changes nothing.
// Leaves out: -w/-W (accepted, no lock), -M, IPv6 (-6), ip6tables/arptables/ebtables.

import NetKernel
import Wire

/// A failed iptables command: how it ends.
enum IptFailure: Error {
    /// PARAMETER_PROBLEM: "PROG v1.8.9 (nf_tables): MSG" + "Try `PROG -h' ...", status 2.
    case parameter(String)
    /// A message printed by fprintf before exit_tryhelp(2) ("Bad argument `x'").
    case plainTryHelp(String)
    /// exit_tryhelp(2) alone.
    case tryHelp
    /// VERSION_PROBLEM, status 3.
    case version(String)
    /// OTHER_PROBLEM, status 1.
    case other(String)
    /// RESOURCE_PROBLEM, status 4.
    case resource(String)
    /// The command ran and the kernel (or the cache) said no: "PROG: MSG." status 1.
    case failed(String, einval: Bool)
}

/// The parsed command line (struct xt_cmd_parse + iptables_command_state + xtables_args).
struct IptCommand {
    struct Cmd: OptionSet {
        let rawValue: Int
        static let insert = Cmd(rawValue: 1 << 0), delete = Cmd(rawValue: 1 << 1), deleteNum = Cmd(rawValue: 1 << 2)
        static let replace = Cmd(rawValue: 1 << 3), append = Cmd(rawValue: 1 << 4), list = Cmd(rawValue: 1 << 5)
        static let flush = Cmd(rawValue: 1 << 6), zero = Cmd(rawValue: 1 << 7), newChain = Cmd(rawValue: 1 << 8)
        static let deleteChain = Cmd(rawValue: 1 << 9), setPolicy = Cmd(rawValue: 1 << 10), renameChain = Cmd(rawValue: 1 << 11)
        static let listRules = Cmd(rawValue: 1 << 12), zeroNum = Cmd(rawValue: 1 << 13), check = Cmd(rawValue: 1 << 14)
        /// cmd2char().
        var letter: Character {
            var i = 0, v = rawValue
            while v > 1 { v >>= 1; i += 1 }
            return Array("IDDRALFZNXPESZC")[min(i, 14)]
        }
    }
    struct Opt: OptionSet {
        let rawValue: Int
        static let numeric = Opt(rawValue: 1 << 0), source = Opt(rawValue: 1 << 1), destination = Opt(rawValue: 1 << 2)
        static let proto = Opt(rawValue: 1 << 3), jump = Opt(rawValue: 1 << 4), verbose = Opt(rawValue: 1 << 5)
        static let expanded = Opt(rawValue: 1 << 6), viaIn = Opt(rawValue: 1 << 7), viaOut = Opt(rawValue: 1 << 8)
        static let lineNumbers = Opt(rawValue: 1 << 9), counters = Opt(rawValue: 1 << 10), fragment = Opt(rawValue: 1 << 11)
        static let letters: [Character] = ["n", "s", "d", "p", "j", "v", "x", "i", "o", "0", "c", "f"]
        var letter: Character {
            var i = 0, v = rawValue
            while v > 1 { v >>= 1; i += 1 }
            return Opt.letters[i]
        }
    }

    var command: Cmd = []
    var chain: String?
    var rulenum = 0
    var newName: String?
    var policy: String?
    var table = "filter"
    var options: Opt = []
    var verbose = 0
    var ctx = IptParseContext()
    var ip = XTIPSpec()
    var sourceText: String?
    var destinationText: String?
    var jumpTo: String?
    var gotoSet = false
    var matches: [IptMatchParser] = []
    var target: IptTargetParser?
    var protoUsed = false
    var counters: XTCounters?
    var waitSet = false, waitIntervalSet = false
    /// Where the parser's warnings go (stderr).
    var warn: (String) -> Void = { _ in }
    /// Addresses after post_parse (-s/-d lists).
    var sources: [(IPv4Address, UInt32)] = [(.any, 0)]
    var destinations: [(IPv4Address, UInt32)] = [(.any, 0)]
}

enum Iptables {
    static let version = "1.8.9 (nf_tables)"

    /// Entry point for `iptables ARGS` (and iptables-nft).
    static func run(_ args: [String], _ ctx: ToolContext, program: String = "iptables") -> ShellOutcome {
        do {
            let cmd = try parse(args, restore: false, warn: { ctx.eprintln($0) })
            if cmd.command.isEmpty { return .finished(0) }  // -h / -V printed already
            try execute(cmd, ctx, program: program)
            return .finished(0)
        } catch let f as IptFailure {
            return .finished(report(f, ctx, program: program, line: nil))
        } catch let e as IptOutput {
            ctx.out.stdout(e.text)
            return .finished(0)
        } catch {
            return .finished(1)
        }
    }

    /// Writes a failure the way iptables does; returns the exit status.
    static func report(_ f: IptFailure, _ ctx: ToolContext, program: String, line: Int?) -> Int32 {
        let head = "\(program) v\(version): "
        let tryLine = (line.map { "Error occurred at line: \($0)\n" } ?? "") + "Try `\(program) -h' or '\(program) --help' for more information.\n"
        switch f {
        case .parameter(let m):
            ctx.out.stderr(head + m + "\n" + tryLine)
            return 2
        case .plainTryHelp(let m):
            ctx.out.stderr(m + "\n" + tryLine)
            return 2
        case .tryHelp:
            ctx.out.stderr(tryLine)
            return 2
        case .version(let m):
            ctx.out.stderr(head + m + "\nPerhaps \(program) or your kernel needs to be upgraded.\n")
            return 3
        case .other(let m):
            ctx.out.stderr(head + m + "\n")
            return 1
        case .resource(let m):
            ctx.out.stderr(head + m + "\n")
            return 4
        case .failed(let m, let einval):
            ctx.out.stderr("\(program): \(m).\(einval ? " Run `dmesg' for more information." : "")\n")
            return 1
        }
    }

    // MARK: - Parsing (do_parse)

    static let shortOptions: [Character: Int] = {
        var d: [Character: Int] = [:]
        let spec = Array("A:C:D:E:F::I:L::M:N:P:VX::Z::c:d:i:j:o:p:s:t:R:S::W::46bfg:h::m:nvw::x")
        var i = 0
        while i < spec.count {
            let c = spec[i]
            var n = 0
            if i + 1 < spec.count, spec[i + 1] == ":" { n = 1; i += 1; if i + 1 < spec.count, spec[i + 1] == ":" { n = 2; i += 1 } }
            d[c] = n
            i += 1
        }
        return d
    }()

    /// The long options of the base program: (name, has_arg, short equivalent).
    static let longOptions: [(String, Int, Character)] = [
        ("append", 1, "A"), ("delete", 1, "D"), ("check", 1, "C"), ("insert", 1, "I"), ("replace", 1, "R"),
        ("list", 2, "L"), ("list-rules", 2, "S"), ("flush", 2, "F"), ("zero", 2, "Z"), ("new-chain", 1, "N"),
        ("delete-chain", 2, "X"), ("rename-chain", 1, "E"), ("policy", 1, "P"), ("source", 1, "s"),
        ("destination", 1, "d"), ("src", 1, "s"), ("dst", 1, "d"), ("protocol", 1, "p"), ("in-interface", 1, "i"),
        ("jump", 1, "j"), ("table", 1, "t"), ("match", 1, "m"), ("numeric", 0, "n"), ("out-interface", 1, "o"),
        ("verbose", 0, "v"), ("wait", 2, "w"), ("wait-interval", 2, "W"), ("exact", 0, "x"), ("fragments", 0, "f"),
        ("version", 0, "V"), ("help", 2, "h"), ("line-numbers", 0, "0"), ("modprobe", 1, "M"), ("set-counters", 1, "c"),
        ("goto", 1, "g"), ("ipv4", 0, "4"), ("ipv6", 0, "6"),
    ]

    /// What getopt_long returned.
    enum Got {
        case nonOption(String)
        case option(Character, String?)
        case ext(IptMatchParser, IptOption, String?)
        case unknown(String)
        case missingArgument(String)
    }

    /// A getopt_long over argv with the merged option table, in RETURN_IN_ORDER mode.
    struct Getopt {
        let argv: [String]
        var optind = 0
        var cluster: Substring?
        var clusterArg = ""

        init(_ a: [String]) { argv = a }

        var hasArg: Bool { optind < argv.count && !argv[optind].hasPrefix("-") && !argv[optind].hasPrefix("!") }

        /// The candidates for a long name: exact first, else unique prefix (same option).
        static func lookup(_ name: String, _ cmd: IptCommand) -> (IptMatchParser?, IptOption?, (String, Int, Character)?)? {
            // Table order: the base options, then extensions newest first (target and
            // matches in the order they were loaded).
            var exts: [IptMatchParser] = cmd.matches
            if let t = cmd.target { exts.append(t) }
            exts.reverse()
            if let b = longOptions.first(where: { $0.0 == name }) { return (nil, nil, b) }
            for e in exts { if let o = e.options.first(where: { $0.name == name }) { return (e, o, nil) } }
            var found: (IptMatchParser?, IptOption?, (String, Int, Character)?)?
            var key: String?
            for b in longOptions where b.0.hasPrefix(name) {
                let k = "base:\(b.2):\(b.1)"
                if found == nil { found = (nil, nil, b); key = k } else if key != k { return nil }
            }
            for e in exts {
                for o in e.options where o.name.hasPrefix(name) {
                    let k = "\(ObjectIdentifier(e)):\(o.id):\(o.hasArg)"
                    if found == nil { found = (e, o, nil); key = k } else if key != k { return nil }
                }
            }
            return found
        }

        mutating func next(_ cmd: IptCommand) -> Got? {
            if let c = cluster, let ch = c.first {
                cluster = c.dropFirst()
                if cluster!.isEmpty { cluster = nil }
                return short(ch)
            }
            guard optind < argv.count else { return nil }
            let a = argv[optind]
            optind += 1
            if a.hasPrefix("--") && a.count > 2 {
                var name = String(a.dropFirst(2)), value: String?
                if let eq = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let (ext, opt, base) = Getopt.lookup(name, cmd) else { return .unknown(a) }
                let has = base?.1 ?? opt!.hasArg
                var arg = value
                if has == 0 && value != nil { return .unknown(a) }
                if has == 1 && arg == nil {
                    guard optind < argv.count else { return .missingArgument(a) }
                    arg = argv[optind]
                    optind += 1
                }
                if let b = base { return .option(b.2, arg) }
                return .ext(ext!, opt!, arg)
            }
            if a.hasPrefix("-") && a.count > 1 {
                clusterArg = a
                cluster = a.dropFirst()
                let ch = cluster!.first!
                cluster = cluster!.dropFirst()
                if cluster!.isEmpty { cluster = nil }
                return short(ch)
            }
            return .nonOption(a)
        }

        mutating func short(_ ch: Character) -> Got {
            guard let has = Iptables.shortOptions[ch] else { return .unknown(clusterArg) }
            if has == 0 { return .option(ch, nil) }
            if let rest = cluster {
                cluster = nil
                return .option(ch, String(rest))
            }
            if has == 2 { return .option(ch, nil) }
            guard optind < argv.count else { return .missingArgument(clusterArg) }
            optind += 1
            return .option(ch, argv[optind - 1])
        }
    }

    static func addCommand(_ p: inout IptCommand, _ new: IptCommand.Cmd, others: IptCommand.Cmd, invert: Bool) throws {
        if invert { throw IptFailure.parameter("unexpected '!' flag") }
        let clash = IptCommand.Cmd(rawValue: p.command.rawValue & ~others.rawValue)
        if !clash.isEmpty {
            throw IptFailure.parameter("Cannot use -\(new.letter) with -\(clash.letter)")
        }
        p.command.insert(new)
    }

    static func setOption(_ p: inout IptCommand, _ o: IptCommand.Opt, invert: Bool) throws {
        if p.options.contains(o) { throw IptFailure.parameter("multiple -\(o.letter) flags not allowed") }
        p.options.insert(o)
        if invert {
            switch o {
            case .source: p.ip.invertSource = true
            case .destination: p.ip.invertDestination = true
            case .proto: p.ip.invertProto = true
            case .viaIn: p.ip.invertIn = true
            case .viaOut: p.ip.invertOut = true
            case .fragment: p.ip.invertFragment = true
            default: throw IptFailure.parameter("cannot have ! before -\(o.letter)")
            }
        }
    }

    static func ruleNumber(_ s: String) throws -> Int {
        guard let n = IptParse.strtoui(s), n >= 1, n <= UInt64(Int32.max) else { throw IptFailure.parameter("Invalid rule number `\(s)'") }
        return Int(n)
    }

    /// xtables_parse_protocol().
    static func parseProtocol(_ s: String) throws -> UInt8 {
        if let n = IptParse.strtoui(s), n <= 255 { return UInt8(n) }
        let chainProtos: [(String, UInt8)] = [("tcp", 6), ("sctp", 132), ("udp", 17), ("udplite", 136), ("icmp", 1),
                                              ("ipv6-icmp", 58), ("icmpv6", 58), ("esp", 50), ("ah", 51),
                                              ("mobility-header", 135), ("ipv6-mh", 135), ("mh", 135), ("all", 0)]
        if let p = chainProtos.first(where: { $0.0 == s }) { return p.1 }
        if let n = NameDB.protocolNumber(s) { return n }
        throw IptFailure.parameter("unknown protocol \"\(s)\" specified")
    }

    /// proto_to_name() over xtables_chain_protos (then /etc/protocols unless `nolookup`).
    static func protoName(_ p: UInt8, nolookup: Bool) -> String? {
        let chainProtos: [(String, UInt8)] = [("tcp", 6), ("sctp", 132), ("udp", 17), ("udplite", 136), ("icmp", 1),
                                              ("ipv6-icmp", 58), ("esp", 50), ("ah", 51), ("mobility-header", 135), ("all", 0)]
        if let n = chainProtos.first(where: { $0.1 == p }) { return n.0 }
        if p != 0 && !nolookup { return NameDB.protocolName(p) }
        return nil
    }

    /// load_proto(): -p NAME makes NAME's match available when an option is unknown.
    static func loadProto(_ p: inout IptCommand) -> Bool {
        guard let text = p.ctx.protocolText else { return false }
        var name = text
        if let n = IptParse.strtoui(text), n <= 255 {
            guard let pn = protoName(UInt8(n), nolookup: p.options.contains(.numeric)) else { return false }
            name = pn
        }
        if p.protoUsed { return false }
        if p.matches.contains(where: { $0.name == name }) { return false }
        guard let m = IptExtensions.match(name) else { return false }
        m.implicit = true
        p.matches.append(m)
        p.protoUsed = true
        return true
    }

    /// do_parse() and the checks after it. `restore`: a line of iptables-restore.
    /// `warn`: a line for stderr that does not stop the command (printed at once, as fprintf).
    /// sscanf("%u"): optional blanks and sign, then digits (what follows is ignored).
    static func scanUnsigned(_ s: String) -> UInt64? {
        var t = Substring(s.drop { $0 == " " || $0 == "\t" })
        var negative = false
        if t.first == "+" || t.first == "-" {
            negative = t.first == "-"
            t = t.dropFirst()
        }
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        let v = UInt64(digits.prefix(19)) ?? .max
        return negative ? UInt64(UInt32(truncatingIfNeeded: -Int64(truncatingIfNeeded: v))) : v
    }

    static func parse(_ args: [String], restore: Bool, warn: @escaping (String) -> Void = { _ in }) throws -> IptCommand {
        var p = IptCommand()
        p.warn = warn
        var g = Getopt(args)
        var invert = false
        var tableSet = false
        while let got = g.next(p) {
            switch got {
            case .missingArgument(let a):
                throw IptFailure.parameter("option \"\(a)\" requires an argument")
            case .unknown(let a):
                if loadProto(&p) {
                    // Run getopt again on the same argument with the new options.
                    g.optind -= 1
                    g.cluster = nil
                    continue
                }
                throw IptFailure.parameter("unknown option \"\(a)\"")
            case .nonOption(let a):
                if a == "!" {
                    if invert { throw IptFailure.parameter("multiple consecutive ! not allowed") }
                    invert = true
                    continue
                }
                throw IptFailure.plainTryHelp("Bad argument `\(a)'")
            case .ext(let e, let o, let arg):
                do {
                    try e.generic(o, arg, invert: invert)
                    try e.parse(o, arg, invert: invert, p.ctx) {
                        guard g.optind < g.argv.count else { return nil }
                        let v = g.argv[g.optind]
                        if !v.hasPrefix("-") && !v.hasPrefix("!") { g.optind += 1 }
                        return v
                    }
                    for w in e.warnings { p.warn(w) }
                    e.warnings = []
                } catch let e as IptParamError {
                    throw IptFailure.parameter(e.message)
                }
            case .option(let c, let arg):
                try parseOption(c, arg, &p, &g, invert: invert, tableSet: &tableSet, restore: restore)
            }
            invert = false
        }
        if p.table == "nat" && (p.policy == "DROP" || p.jumpTo == "DROP") {
            throw IptFailure.parameter("\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n")
        }
        if p.waitIntervalSet && !p.waitSet { throw IptFailure.parameter("--wait-interval only makes sense with --wait\n") }
        do {
            for m in p.matches { try m.finalCheck(p.ctx) }
            try p.target?.finalCheck(p.ctx)
        } catch let e as IptParamError {
            throw IptFailure.parameter(e.message)
        }
        if p.command.isEmpty { throw IptFailure.parameter("no command specified") }
        if invert { throw IptFailure.parameter("nothing appropriate following !") }
        try postParse(&p)
        if p.command == .replace && (p.sources.count != 1 || p.destinations.count != 1) {
            throw IptFailure.parameter("Replacement rule does not specify a unique address")
        }
        try genericOptionCheck(p)
        if let c = p.chain, c.utf8.count >= 29 {
            throw IptFailure.parameter("chain name `\(c)' too long (must be under 29 chars)")
        }
        let ruleCmds: IptCommand.Cmd = [.append, .delete, .deleteNum, .check, .insert, .replace]
        if ruleCmds.contains(p.command), let c = p.chain {
            if (c == "PREROUTING" || c == "INPUT") && p.options.contains(.viaOut) {
                throw IptFailure.parameter("Can't use -o with \(c)\n")
            }
            if (c == "POSTROUTING" || c == "OUTPUT") && p.options.contains(.viaIn) {
                throw IptFailure.parameter("Can't use -i with \(c)\n")
            }
        }
        return p
    }

    static func parseOption(_ c: Character, _ arg: String?, _ p: inout IptCommand, _ g: inout Getopt, invert: Bool,
                            tableSet: inout Bool, restore: Bool) throws {
        switch c {
        case "A":
            try addCommand(&p, .append, others: [], invert: invert)
            p.chain = arg
        case "C":
            try addCommand(&p, .check, others: [], invert: invert)
            p.chain = arg
        case "D":
            try addCommand(&p, .delete, others: [], invert: invert)
            p.chain = arg
            if g.hasArg {
                p.rulenum = try ruleNumber(g.argv[g.optind])
                g.optind += 1
                p.command = .deleteNum
            }
        case "R":
            try addCommand(&p, .replace, others: [], invert: invert)
            p.chain = arg
            guard g.hasArg else { throw IptFailure.parameter("-R requires a rule number") }
            p.rulenum = try ruleNumber(g.argv[g.optind])
            g.optind += 1
        case "I":
            try addCommand(&p, .insert, others: [], invert: invert)
            p.chain = arg
            if g.hasArg {
                p.rulenum = try ruleNumber(g.argv[g.optind])
                g.optind += 1
            } else {
                p.rulenum = 1
            }
        case "L", "S":
            try addCommand(&p, c == "L" ? .list : .listRules, others: [.zero, .zeroNum], invert: invert)
            if let a = arg { p.chain = a } else if g.hasArg { p.chain = g.argv[g.optind]; g.optind += 1 }
            if g.hasArg { p.rulenum = try ruleNumber(g.argv[g.optind]); g.optind += 1 }
        case "F":
            try addCommand(&p, .flush, others: [], invert: invert)
            if let a = arg { p.chain = a } else if g.hasArg { p.chain = g.argv[g.optind]; g.optind += 1 }
        case "Z":
            try addCommand(&p, .zero, others: [.list, .listRules], invert: invert)
            if let a = arg { p.chain = a } else if g.hasArg { p.chain = g.argv[g.optind]; g.optind += 1 }
            if g.hasArg {
                p.rulenum = try ruleNumber(g.argv[g.optind])
                g.optind += 1
                p.command.remove(.zero)
                p.command.insert(.zeroNum)
            }
        case "N":
            try assertValidChainName(arg!)
            try addCommand(&p, .newChain, others: [], invert: invert)
            p.chain = arg
        case "X":
            try addCommand(&p, .deleteChain, others: [], invert: invert)
            if let a = arg { p.chain = a } else if g.hasArg { p.chain = g.argv[g.optind]; g.optind += 1 }
        case "E":
            try addCommand(&p, .renameChain, others: [], invert: invert)
            p.chain = arg
            guard g.hasArg else { throw IptFailure.parameter("-E requires old-chain-name and new-chain-name") }
            p.newName = g.argv[g.optind]
            g.optind += 1
        case "P":
            try addCommand(&p, .setPolicy, others: [], invert: invert)
            p.chain = arg
            guard g.hasArg else { throw IptFailure.parameter("-P requires a chain and a policy") }
            p.policy = g.argv[g.optind]
            g.optind += 1
        case "h":
            throw IptOutput(text: helpText)
        case "p":
            try setOption(&p, .proto, invert: invert)
            let text = arg!.lowercased()
            p.ctx.protocolText = text
            p.ctx.proto = try parseProtocol(text)
            p.ip.proto = p.ctx.proto
            p.ctx.invertProto = p.ip.invertProto
            if p.ctx.proto == 0 && p.ip.invertProto { throw IptFailure.parameter("rule would never match protocol") }
        case "s":
            try setOption(&p, .source, invert: invert)
            p.sourceText = arg
        case "d":
            try setOption(&p, .destination, invert: invert)
            p.destinationText = arg
        case "g":
            try setOption(&p, .jump, invert: invert)
            p.gotoSet = true
            p.jumpTo = try targetName(arg!)
        case "j":
            try setOption(&p, .jump, invert: invert)
            p.jumpTo = try targetName(arg!)
            if let t = IptExtensions.target(arg!) { p.target = t }
        case "i", "o":
            if arg!.isEmpty { throw IptFailure.parameter("Empty interface is likely to be undesired") }
            try setOption(&p, c == "i" ? .viaIn : .viaOut, invert: invert)
            if arg!.utf8.count + 1 > 16 {
                throw IptFailure.parameter("interface name `\(arg!)' must be shorter than IFNAMSIZ (15)")
            }
            // xtables_parse_interface() warns and goes on.
            if arg!.contains(where: { $0 == "/" || $0 == " " }) {
                p.warn("Warning: weird character in interface `\(arg!)' ('/' and ' ' are not allowed by the kernel).")
            }
            // "+" alone matches every name: the rule then has no interface condition.
            let iface: XTIface? = arg! == "+" ? nil : XTIface(arg!)
            if c == "i" { p.ip.inInterface = iface; if iface == nil { p.ip.invertIn = false } } else { p.ip.outInterface = iface; if iface == nil { p.ip.invertOut = false } }
        case "f":
            try setOption(&p, .fragment, invert: invert)
            p.ip.fragment = true
        case "v":
            if p.verbose == 0 { try setOption(&p, .verbose, invert: invert) }
            p.verbose += 1
        case "m":
            if invert { throw IptFailure.parameter("unexpected ! flag before --match") }
            let name = arg!
            if let existing = p.matches.first(where: { $0.name == name && $0.implicit }) {
                existing.implicit = false
                break
            }
            guard let m = IptExtensions.match(name) else {
                throw IptFailure.parameter("Couldn't load match `\(name)':No such file or directory\n")
            }
            p.matches.append(m)
        case "n":
            try setOption(&p, .numeric, invert: invert)
        case "t":
            if invert { throw IptFailure.parameter("unexpected ! flag before --table") }
            if restore && tableSet { throw IptFailure.parameter("The -t option cannot be used in iptables-restore.\n") }
            p.table = arg!
            tableSet = true
        case "x":
            try setOption(&p, .expanded, invert: invert)
        case "V":
            throw IptOutput(text: invert ? "Not \(version) ;-)\n" : "iptables v\(version)\n")
        case "w", "W":
            if restore { throw IptFailure.parameter("You cannot use `-\(c)' from iptables-restore") }
            var value = arg
            if arg == nil && g.hasArg {
                value = g.argv[g.optind]
                g.optind += 1
            }
            if c == "w" {
                // parse_wait_time(): a number of seconds, when given.
                if let v = value, scanUnsigned(v) == nil { throw IptFailure.parameter("wait seconds not numeric") }
                p.waitSet = true
            } else {
                // parse_wait_interval() of 1.8.9: the value is checked, then ignored.
                guard let v = value else { throw IptFailure.parameter("wait interval value required") }
                guard let usec = scanUnsigned(v) else { throw IptFailure.parameter("wait interval not numeric") }
                if usec > 999_999 { throw IptFailure.parameter("too long usec wait \(usec) > 999999 usec") }
                p.warn("Ignoring deprecated --wait-interval option.")
                p.waitIntervalSet = true
            }
        case "0":
            try setOption(&p, .lineNumbers, invert: invert)
        case "M":
            break
        case "c":
            try setOption(&p, .counters, invert: invert)
            let a = arg!
            var pc = a, bc: String?
            if let comma = a.dropFirst().firstIndex(of: ",") {
                pc = String(a[..<comma])
                bc = String(a[a.index(after: comma)...])
            }
            if bc == nil && g.hasArg { bc = g.argv[g.optind]; g.optind += 1 }
            guard let b = bc else { throw IptFailure.parameter("-c requires packet and byte counter") }
            guard let pn = UInt64(pc.prefix { $0.isNumber }), !pc.isEmpty else { throw IptFailure.parameter("-c packet counter not numeric") }
            guard let bn = UInt64(b.prefix { $0.isNumber }), !b.isEmpty else { throw IptFailure.parameter("-c byte counter not numeric") }
            p.counters = XTCounters(packets: pn, bytes: bn)
        case "4":
            break
        case "6":
            throw IptFailure.tryHelp
        default:
            throw IptFailure.parameter("unknown option \"\(g.clusterArg)\"")
        }
    }

    /// xt_parse_target().
    static func targetName(_ s: String) throws -> String {
        if s.isEmpty { throw IptFailure.parameter("Invalid target name (too short)") }
        if s.utf8.count >= 29 { throw IptFailure.parameter("Invalid target name `\(s)' (28 chars max)") }
        if s.contains(" ") || s.contains("\t") { throw IptFailure.parameter("Invalid target name `\(s)'") }
        return s
    }

    /// assert_valid_chain_name().
    static func assertValidChainName(_ s: String) throws {
        if s.utf8.count >= 29 { throw IptFailure.parameter("chain name `\(s)' too long (must be under 29 chars)") }
        if s.hasPrefix("-") || s.hasPrefix("!") { throw IptFailure.parameter("chain name not allowed to start with `\(s.first!)'") }
        if IptExtensions.target(s) != nil || ["QUEUE", "NFQUEUE", "MARK", "CT", "NOTRACK", "CONNMARK", "NFLOG", "TCPMSS", "MASQUERADE", "CLASSIFY"].contains(s) {
            throw IptFailure.parameter("chain name may not clash with target name")
        }
        if s.contains(" ") || s.contains("\t") { throw IptFailure.parameter("Invalid chain name `\(s)'") }
    }

    /// ipv4_post_parse(): addresses (xtables_ipparse_multiple()).
    static func postParse(_ p: inout IptCommand) throws {
        let rule: IptCommand.Cmd = [.replace, .insert, .delete, .append, .check]
        var s = p.sourceText, d = p.destinationText
        if !rule.isDisjoint(with: p.command) {
            if s == nil { s = "0.0.0.0/0" }
            if d == nil { d = "0.0.0.0/0" }
        }
        if let s { p.sources = try parseAddresses(s) }
        if let d { p.destinations = try parseAddresses(d) }
        if (p.sources.count > 1 || p.destinations.count > 1) && (p.ip.invertSource || p.ip.invertDestination) {
            throw IptFailure.parameter("! not allowed with multiple source or destination IP addresses")
        }
    }

    /// xtables_ipparse_multiple(): "ADDR[/MASK][,ADDR[/MASK]...]".
    static func parseAddresses(_ text: String) throws -> [(IPv4Address, UInt32)] {
        var out: [(IPv4Address, UInt32)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var addrPart = String(item), mask: UInt32 = 0xffff_ffff
            if let slash = item.firstIndex(of: "/") {
                addrPart = String(item[..<slash])
                let m = String(item[item.index(after: slash)...])
                if let dotted = numericAddress(m), m.contains(".") {
                    mask = dotted.raw
                } else if let n = IptParse.strtoui(m), n <= 32 {
                    mask = n == 0 ? 0 : UInt32.max << (32 - UInt32(n))
                } else {
                    throw IptFailure.parameter("invalid mask `\(m)' specified")
                }
            }
            let addr: IPv4Address
            if let a = numericAddress(addrPart) {
                addr = a
            } else if let h = NameDB.hosts.first(where: { $0.name == addrPart }) {
                addr = IPv4Address(raw: h.address)
            } else {
                throw IptFailure.parameter("host/network `\(addrPart)' not found")
            }
            out.append((IPv4Address(raw: addr.raw & mask), mask))
        }
        return out
    }

    /// __numeric_to_ipaddr(): up to four dotted decimal parts, missing ones are 0.
    static func numericAddress(_ s: String) -> IPv4Address? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= 4 else { return nil }
        var v: UInt32 = 0
        for (i, part) in parts.enumerated() {
            guard !part.isEmpty, part.allSatisfy({ $0.isNumber }), let n = UInt32(part), n <= 255 else { return nil }
            v |= n << (24 - 8 * UInt32(i))
        }
        return IPv4Address(raw: v)
    }

    /// generic_opt_check(): which options each command allows.
    static func genericOptionCheck(_ p: IptCommand) throws {
        // Columns: n s d p j v x i o --line c f; rows in command-bit order.
        let table: [String] = [
            "x.....x..x..", // INSERT
            "x.....x..xx.", // DELETE
            "xxxxx.xxxxxx", // DELETE_NUM
            "x.....x..x..", // REPLACE
            "x.....x..x..", // APPEND
            ".xxxx..xx.xx", // LIST
            "xxxxx.xxxxxx", // FLUSH
            "xxxxx.xxxxxx", // ZERO
            "xxxxx.xxxxxx", // NEW_CHAIN
            "xxxxx.xxxxxx", // DEL_CHAIN
            "xxxxx.xxxx.x", // SET_POLICY
            "xxxxx.xxxxxx", // RENAME
            "xxxxx.xxxxxx", // LIST_RULES
            "xxxxx.xxxxxx", // ZERO_NUM
            "x.....x..xx.", // CHECK
        ]
        for i in 0..<12 {
            let opt = IptCommand.Opt(rawValue: 1 << i)
            guard p.options.contains(opt) else { continue }
            var legal = 0
            for j in 0..<15 where p.command.rawValue & (1 << j) != 0 {
                let row = Array(table[j])
                if row[i] != "x" { legal = 1 } else if legal == 0 { legal = -1 }
            }
            if legal == -1 { throw IptFailure.parameter("Illegal option `-\(opt.letter)' with this command") }
        }
    }

    // MARK: - Running a command (do_commandx)

    /// The rules a command describes: one per source/destination pair.
    static func rules(_ p: IptCommand) -> [XTRule] {
        var out: [XTRule] = []
        let matches = p.matches.map { $0.build(p.ctx) }
        var target: XTTarget = .none
        if let t = p.target {
            target = t.buildTarget(p.ctx)
        } else if let j = p.jumpTo {
            target = p.gotoSet ? .goto(j) : .jump(j)
        }
        for s in p.sources {
            for d in p.destinations {
                var ip = p.ip
                ip.source = s.0
                ip.sourceMask = s.1
                ip.destination = d.0
                ip.destinationMask = d.1
                out.append(XTRule(ip: ip, matches: matches, target: target, counters: p.counters ?? XTCounters()))
            }
        }
        return out
    }

    /// The chain a jump names must exist (assert_chain_exists()): a user chain or a built-in.
    static func checkJumpTarget(_ p: IptCommand, _ t: XTTable) throws {
        guard p.target == nil, let j = p.jumpTo else { return }
        if t.chainIndex(j) == nil { throw IptFailure.parameter("Chain '\(j)' does not exist") }
    }

    static func execute(_ p: IptCommand, _ ctx: ToolContext, program: String) throws {
        guard let kind = XTTableKind(name: p.table) else { throw IptFailure.version("table '\(p.table)' does not exist") }
        let ns = ctx.namespace
        let chain = p.chain
        let view = ns.xtTableView(kind)
        func kernel(_ body: (inout XTTransaction) throws -> Void) throws {
            do {
                // NEWGEN names the committing process (a pid is drawn only while a monitor listens).
                try ns.xtCommit(process: { (ctx.machine.allocatePID(), String(program.prefix(15))) }, body)
            } catch let e as XTError {
                throw failure(e, p)
            }
        }
        let cmd = p.command
        switch cmd {
        case .append, .insert, .replace, .delete, .check:
            try checkJumpTarget(p, view)
            let rs = rules(p)
            if p.options.contains(.verbose) { for r in rs { ctx.out.stdout(IptablesFormat.verboseRule(r)) } }
            if cmd == .check {
                guard let c = view.chain(chain!), c.exists || !c.isBuiltin,
                      rs.allSatisfy({ r in c.rules.contains { $0.sameSpec(r) } }) else {
                    throw IptFailure.failed("Bad rule (does a matching rule exist in that chain?)", einval: false)
                }
                return
            }
            try kernel { tx in
                for r in rs {
                    switch cmd {
                    case .append: try tx.apply(.append(r), table: kind, chain: chain)
                    case .insert: try tx.apply(.insert(r, at: p.rulenum - 1), table: kind, chain: chain)
                    case .replace: try tx.apply(.replace(r, at: p.rulenum - 1), table: kind, chain: chain)
                    default: try tx.apply(.delete(r), table: kind, chain: chain)
                    }
                }
            }
        case .deleteNum:
            try kernel { try $0.apply(.deleteAt(p.rulenum - 1), table: kind, chain: chain) }
        case .flush:
            if p.options.contains(.verbose) {
                for c in view.chains where chain == nil || c.name == chain { ctx.println("Flushing chain `\(c.name)'") }
            }
            try kernel { tx in
                // nft_rule_flush(): -v creates the table and its built-in chains first, and
                // walks the chains sorted by name.
                if chain == nil && p.options.contains(.verbose) { try tx.apply(.initBuiltins, table: kind, chain: nil) }
                tx.sortedChains = p.options.contains(.verbose)
                try tx.apply(.flush, table: kind, chain: chain)
            }
        case .zero:
            if p.options.contains(.verbose) {
                // nft_chain_zero_counters(): the chains in the kernel, the cache sorted by name.
                for c in view.chains where c.exists && (chain == nil || c.name == chain) {
                    ctx.println("Zeroing chain `\(c.name)'")
                }
            }
            try kernel { tx in
                tx.sortedChains = p.options.contains(.verbose)
                try tx.apply(.zero, table: kind, chain: chain)
            }
        case .zeroNum:
            try kernel { try $0.apply(.zeroRule(p.rulenum - 1), table: kind, chain: chain) }
        case .newChain:
            try kernel { try $0.apply(.newChain, table: kind, chain: chain) }
        case .deleteChain:
            if p.options.contains(.verbose) {
                for c in view.userChains where chain == nil || c.name == chain { ctx.println("Deleting chain `\(c.name)'") }
            }
            try kernel { tx in
                tx.sortedChains = p.options.contains(.verbose)
                try tx.apply(.deleteChain, table: kind, chain: chain)
            }
        case .renameChain:
            // iptables-nft 1.8.9 does not check the new name (`-E X ACCEPT` succeeds).
            try kernel { try $0.apply(.rename(to: p.newName!), table: kind, chain: chain) }
        case .setPolicy:
            let pol: XTPolicy
            guard view.chain(chain!)?.isBuiltin == true else { throw IptFailure.failed("Bad built-in chain name", einval: false) }
            switch p.policy! {
            case "ACCEPT": pol = .accept
            case "DROP": pol = .drop
            default: throw IptFailure.failed("Bad policy name", einval: true)
            }
            try kernel { try $0.apply(.policy(pol, counters: p.counters), table: kind, chain: chain) }
        default:
            if !cmd.isDisjoint(with: [.list, .listRules]) {
                try IptablesFormat.list(p, kind, ctx)
                if cmd.contains(.zero) {
                    // The listing filled the cache with every built-in chain: all are zeroed.
                    if p.options.contains(.verbose) {
                        for c in view.chains where chain == nil || c.name == chain { ctx.println("Zeroing chain `\(c.name)'") }
                    }
                    try kernel { try $0.apply(.zeroListed, table: kind, chain: chain) }
                }
                if cmd.contains(.zeroNum) { try kernel { try $0.apply(.zeroRule(p.rulenum - 1), table: kind, chain: chain) } }
            }
        }
    }

    /// How iptables words a refused change.
    static func failure(_ e: XTError, _ p: IptCommand) -> IptFailure {
        switch e {
        case .noChain: return .failed("No chain/target/match by that name", einval: false)
        case .badRule: return .failed("Bad rule (does a matching rule exist in that chain?)", einval: false)
        case .indexTooBig(let what): return .failed("Index of \(what) too big", einval: false)
        case .chainExists: return .failed("Chain already exists", einval: false)
        case .fileExists: return .failed("File exists", einval: false)
        case .notEmpty: return .failed("Directory not empty", einval: false)
        case .badBuiltinChain: return .failed("Bad built-in chain name", einval: false)
        case .badPolicy: return .failed("Bad policy name", einval: true)
        case .batch(let op, let err, let obj): return .resource(" \(op) failed (\(err)): \(obj)")
        }
    }

    static let helpText = """
    iptables v\(version)

    Usage: iptables -[ACD] chain rule-specification [options]
           iptables -I chain [rulenum] rule-specification [options]
           iptables -R chain rulenum rule-specification [options]
           iptables -D chain rulenum [options]
           iptables -[LS] [chain [rulenum]] [options]
           iptables -[FZ] [chain] [options]
           iptables -[NX] chain
           iptables -E old-chain-name new-chain-name
           iptables -P chain target [options]
           iptables -h (print this help information)

    Commands:
    Either long or short options are allowed.
      --append  -A chain\t\tAppend to chain
      --check   -C chain\t\tCheck for the existence of a rule
      --delete  -D chain\t\tDelete matching rule from chain
      --delete  -D chain rulenum
    \t\t\t\tDelete rule rulenum (1 = first) from chain
      --insert  -I chain [rulenum]
    \t\t\t\tInsert in chain as rulenum (default 1=first)
      --replace -R chain rulenum
    \t\t\t\tReplace rule rulenum (1 = first) in chain
      --list    -L [chain [rulenum]]
    \t\t\t\tList the rules in a chain or all chains
      --list-rules -S [chain [rulenum]]
    \t\t\t\tPrint the rules in a chain or all chains
      --flush   -F [chain]\t\tDelete all rules in  chain or all chains
      --zero    -Z [chain [rulenum]]
    \t\t\t\tZero counters in chain or all chains
      --new     -N chain\t\tCreate a new user-defined chain
      --delete-chain
                -X [chain]\t\tDelete a user-defined chain
      --policy  -P chain target
    \t\t\t\tChange policy on chain to target
      --rename-chain
                -E old-chain new-chain
    \t\t\t\tChange chain name, (moving any references)

    Options:
        --ipv4\t-4\t\tNothing (line is ignored by ip6tables-restore)
        --ipv6\t-6\t\tError (line is ignored by iptables-restore)
    [!] --protocol\t-p proto\tprotocol: by number or name, eg. `tcp'
    [!] --source\t-s address[/mask][...]
    \t\t\t\tsource specification
    [!] --destination -d address[/mask][...]
    \t\t\t\tdestination specification
    [!] --in-interface -i input name[+]
    \t\t\t\tnetwork interface name ([+] for wildcard)
     --jump\t-j target
    \t\t\t\ttarget for rule (may load target extension)
      --goto      -g chain
    \t\t\t       jump to chain with no return
      --match\t-m match
    \t\t\t\textended match (may load extension)
      --numeric\t-n\t\tnumeric output of addresses and ports
    [!] --out-interface -o output name[+]
    \t\t\t\tnetwork interface name ([+] for wildcard)
      --table\t-t table\ttable to manipulate (default: `filter')
      --verbose\t-v\t\tverbose mode
      --wait\t-w [seconds]\tmaximum wait to acquire xtables lock before give up
      --line-numbers\t\tprint line numbers when listing
      --exact\t-x\t\texpand numbers (display exact values)
    [!] --fragment\t-f\t\tmatch second or further fragments only
      --modprobe=<command>\t\ttry to insert modules using this command
      --set-counters -c PKTS BYTES\tset the counter during insert/append
    [!] --version\t-V\t\tprint package version.

    """
}

/// Output that ends the command successfully (-h, -V).
struct IptOutput: Error {
    let text: String
}
