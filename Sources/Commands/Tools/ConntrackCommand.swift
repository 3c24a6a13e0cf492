// ConntrackCommand: conntrack-tools 1.4.7's `conntrack` over a namespace's table: -L (dump),
// -D (delete), -F (flush), -C (count), -V, and the usage text, in /proc/net/nf_conntrack's
// line format; the filters of the original and reply tuples (-s -d -r -q, -p with its port,
// TCP state and ICMP options), -f, -u, -m, the NAT filters -n -g -j, and -o extended.
// Guarantees: conntrack's own messages and exit statuses for bad input (2), and for a
// delete that found nothing (1).
// Leaves out: events (-E), statistics (-S), -G/-I/-U, the expectation table (always empty),
// output formats other than extended, IPv6 entries (an IPv6 filter matches nothing), the
// kernel's hash order of a dump (entries are listed oldest first).

import NetKernel
import Wire

enum ConntrackCommand {
    static let banner = "conntrack v1.4.7 (conntrack-tools)"

    /// What a dump or delete selects (struct nf_conntrack used as a filter).
    struct Filter {
        var family6 = false
        var origSrc: IPv4Address?, origDst: IPv4Address?, replySrc: IPv4Address?, replyDst: IPv4Address?
        var anyIPv6 = false
        var proto: IPProtocol?
        var origSport: UInt16?, origDport: UInt16?, replySport: UInt16?, replyDport: UInt16?
        var tcpState: TCPConntrackState?
        var icmpType: UInt8?, icmpCode: UInt8?, icmpID: UInt16?
        var status: (assured: Bool, seenReply: Bool, none: Bool)?
        var mark: (value: UInt32, mask: UInt32)?
        /// -n, -g, -j, each with the address it may name.
        var srcNAT: IPv4Address??, dstNAT: IPv4Address??, anyNAT: IPv4Address??

        /// libnetfilter_conntrack's NFCT_GOPT_IS_SNAT / IS_DNAT: a binding that changed the
        /// address; IS_SPAT / IS_DPAT: one that changed the port word of the tuple (an ICMP
        /// id never equals the reply's type and code, so every ICMP flow with a binding has
        /// one). Without an address a filter takes either; with one, the address kind only.
        static func snat(_ e: ConntrackEntry, _ a: IPv4Address?) -> Bool {
            guard e.natDone.src else { return false }
            if let a { return e.reply.dst != e.original.src && e.reply.dst == a }
            return e.reply.dst != e.original.src || e.reply.dstPort != e.original.srcPort
        }
        static func dnat(_ e: ConntrackEntry, _ a: IPv4Address?) -> Bool {
            guard e.natDone.dst else { return false }
            if let a { return e.reply.src != e.original.dst && e.reply.src == a }
            return e.reply.src != e.original.dst || e.reply.srcPort != e.original.dstPort
        }

        func matches(_ e: ConntrackEntry) -> Bool {
            if family6 || anyIPv6 { return false }
            let o = e.original, r = e.reply
            if let v = origSrc, o.src != v { return false }
            if let v = origDst, o.dst != v { return false }
            if let v = replySrc, r.src != v { return false }
            if let v = replyDst, r.dst != v { return false }
            if let p = proto, o.proto != p { return false }
            if let v = origSport, o.srcPort != v { return false }
            if let v = origDport, o.dstPort != v { return false }
            if let v = replySport, r.srcPort != v { return false }
            if let v = replyDport, r.dstPort != v { return false }
            if let s = tcpState, e.tcpState != s { return false }
            if let v = icmpType, o.icmpType != v { return false }
            if let v = icmpCode, o.icmpCode != v { return false }
            if let v = icmpID, o.srcPort != v { return false }
            if let s = status {
                if s.assured && !e.assured { return false }
                if s.seenReply && !e.seenReply { return false }
                if s.none && (e.assured || e.seenReply) { return false }
            }
            if let m = mark, e.mark & m.mask != m.value & m.mask { return false }
            if let a = srcNAT, !Filter.snat(e, a) { return false }
            if let a = dstNAT, !Filter.dnat(e, a) { return false }
            if let a = anyNAT, !Filter.snat(e, a) && !Filter.dnat(e, a) { return false }
            return true
        }
    }

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        func bad(_ m: String) -> ShellOutcome {
            ctx.eprintln("\(banner): \(m)")
            ctx.eprintln("Try `conntrack -h' or 'conntrack --help' for more information.")
            return .finished(2)
        }
        if args.isEmpty {
            ctx.println(usage)
            return .finished(0)
        }
        var command: Character?
        var table = "conntrack"
        var f = Filter()
        var extended = false
        var i = 0
        // getopt_long(): a long option may be abbreviated; `--name=value` carries its value.
        let longNames: [(String, Character)] = [
            ("dump", "L"), ("delete", "D"), ("flush", "F"), ("count", "C"), ("event", "E"), ("stats", "S"),
            ("get", "G"), ("create", "I"), ("update", "U"), ("version", "V"), ("help", "h"),
            ("orig-src", "s"), ("src", "s"), ("orig-dst", "d"), ("dst", "d"), ("reply-src", "r"), ("reply-dst", "q"),
            ("protonum", "p"), ("family", "f"), ("timeout", "t"), ("status", "u"), ("zone", "w"), ("mark", "m"),
            ("secmark", "c"), ("event-mask", "e"), ("zero", "z"), ("output", "o"), ("buffer-size", "b"),
            ("src-nat", "n"), ("dst-nat", "g"), ("any-nat", "j"), ("label", "l"),
        ]
        let withArg: Set<Character> = ["s", "d", "r", "q", "p", "f", "t", "u", "w", "m", "c", "e", "o", "b", "l"]
        let optionalArg: Set<Character> = ["n", "g", "j"]
        while i < args.count {
            let a = args[i]
            i += 1
            var letter: Character?
            var inline: String?
            var shown = a
            if a.hasPrefix("--") && a.count > 2 {
                var name = String(a.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                // Protocol options come from the -p protocol's own table.
                if let v = try? protoOption(name, f.proto) {
                    guard let arg = inline ?? (i < args.count ? args[i] : nil) else {
                        return bad("option `--\(name)' requires an argument")
                    }
                    if inline == nil { i += 1 }
                    do { try applyProtoOption(v, arg, &f) } catch let e as ConntrackError { return bad(e.message) } catch {}
                    continue
                }
                let exact = longNames.first { $0.0 == name }
                let prefixed = longNames.filter { $0.0.hasPrefix(name) }
                guard let hit = exact ?? (Set(prefixed.map(\.1)).count == 1 ? prefixed.first : nil) else {
                    return bad("unknown option `\(a)'")
                }
                letter = hit.1
                shown = "--" + hit.0
            } else if a.hasPrefix("-") && a.count == 2 {
                letter = a.last
            } else if a.hasPrefix("-") && a.count > 2, let l = a.dropFirst().first, withArg.contains(l) {
                letter = l
                inline = String(a.dropFirst(2))
            } else if let c = command, "LDFCE".contains(c), table == "conntrack", !a.hasPrefix("-"), args[i - 2].hasPrefix("-") {
                // The optional table after the command.
                guard ["conntrack", "expect", "dying", "unconfirmed"].contains(a) else { return bad("unknown type `\(a)'") }
                table = a
                continue
            } else {
                return bad("unknown option `\(a)'")
            }
            guard let l = letter else { return bad("unknown option `\(a)'") }
            var arg: String?
            if withArg.contains(l) {
                arg = inline ?? (i < args.count ? args[i] : nil)
                if arg == nil { return bad("option `\(shown)' requires an argument") }
                if inline == nil { i += 1 }
            } else if optionalArg.contains(l) {
                arg = inline ?? (i < args.count && !args[i].hasPrefix("-") ? args[i] : nil)
                if arg != nil && inline == nil { i += 1 }
            }
            switch l {
            case "L", "D", "F", "C", "E", "S", "G", "I", "U", "h", "V":
                if command != nil { return bad("Invalid commands combination") }
                command = l
            case "s", "d", "r", "q":
                guard let v = arg, let addr = parseAddress(v) else { return bad("Invalid IP address `\(arg ?? "")'") }
                switch addr {
                case .v4(let x):
                    switch l {
                    case "s": f.origSrc = x
                    case "d": f.origDst = x
                    case "r": f.replySrc = x
                    default: f.replyDst = x
                    }
                case .v6: f.anyIPv6 = true
                }
            case "p":
                guard let p = protocolNumber(arg!) else { return bad("`\(arg!)' unsupported protocol") }
                f.proto = IPProtocol(rawValue: p)
            case "f":
                switch arg! {
                case "ipv4": f.family6 = false
                case "ipv6": f.family6 = true
                default: return bad("`\(arg!)' unsupported protocol")
                }
            case "u":
                var st = (assured: false, seenReply: false, none: false)
                for name in arg!.split(separator: ",", omittingEmptySubsequences: false) {
                    switch name {
                    case "ASSURED": st.assured = true
                    case "SEEN_REPLY": st.seenReply = true
                    case "UNSET": st.none = true
                    default: return bad("Bad parameter `\(arg!)'")
                    }
                }
                f.status = st
            case "m":
                let parts = arg!.split(separator: "/", maxSplits: 1).map(String.init)
                guard let v = strtoul(parts[0]) else { return bad("Bad parameter `\(arg!)'") }
                let mask = parts.count == 2 ? strtoul(parts[1]) : 0xffff_ffff
                guard let m = mask else { return bad("Bad parameter `\(arg!)'") }
                f.mark = (UInt32(truncatingIfNeeded: v), UInt32(truncatingIfNeeded: m))
            case "o":
                let kinds = ["xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace", "save"]
                let names = arg!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard !names.isEmpty, names.allSatisfy({ kinds.contains($0) }) else { return bad("Bad parameter `\(arg!)'") }
                if let other = names.first(where: { $0 != "extended" }) {
                    ctx.eprintln("\(banner): output format `\(other)' is not modelled")
                    return .finished(1)
                }
                extended = true
            case "e":
                if command != "E" { return bad("Illegal option `--event-mask' with this command") }
            case "t":
                if command == "L" || command == "D" || command == "F" { return bad("Illegal option `--timeout' with this command") }
            case "n", "g", "j":
                var a: IPv4Address?
                if let v = arg {
                    guard let addr = parseAddress(v) else { return bad("Invalid IP address `\(v)'") }
                    if case .v4(let x) = addr { a = x } else { f.anyIPv6 = true }
                }
                if l == "n" { f.srcNAT = .some(a) } else if l == "g" { f.dstNAT = .some(a) } else { f.anyNAT = .some(a) }
            case "z", "w", "c", "b", "l":
                break
            default:
                return bad("unknown option `\(a)'")
            }
        }
        let ns = ctx.namespace
        let now = ctx.machine.jiffiesNow
        switch command ?? "L" {
        case "V":
            ctx.println(banner)
        case "h":
            ctx.println(usage)
        case "F":
            if table == "expect" {
                ctx.eprintln("\(banner): expectation table has been emptied.")
            } else {
                ns.flushConntrack()
                ctx.eprintln("\(banner): connection tracking table has been emptied.")
            }
        case "C":
            ctx.println(table == "expect" ? "0" : String(ns.conntrack.entries(now: now).count))
        case "D":
            var deleted = 0
            if table != "expect" {
                for e in ns.conntrack.entries(now: now) where f.matches(e) {
                    ctx.println((extended ? "ipv4     2 " : "") + line(e, now: now, hz: ctx.kernel.config.hz))
                    ns.deleteConntrack(e)
                    deleted += 1
                }
            }
            ctx.eprintln("\(banner): \(deleted) flow entries have been deleted.")
            return .finished(deleted == 0 ? 1 : 0)
        case "L":
            if table == "expect" {
                ctx.eprintln("\(banner): 0 expectations have been shown.")
                return .finished(0)
            }
            var shown = 0
            for e in ns.conntrack.entries(now: now) where f.matches(e) {
                ctx.println((extended ? "ipv4     2 " : "") + line(e, now: now, hz: ctx.kernel.config.hz))
                shown += 1
            }
            ctx.eprintln("\(banner): \(shown) flow entries have been shown.")
        default:
            ctx.eprintln("\(banner): conntrack -\(command!) is not modelled (-L, -D, -F, -C are)")
            return .finished(1)
        }
        return .finished(0)
    }

    struct ConntrackError: Error { let message: String }

    enum ProtoOption { case sport, dport, replySport, replyDport, state, icmpType, icmpCode, icmpID }

    /// The options of conntrack's protocol helpers (proto_tcp.c, proto_udp.c, proto_icmp.c):
    /// known only after -p names their protocol.
    static func protoOption(_ name: String, _ proto: IPProtocol?) throws -> ProtoOption {
        switch proto {
        case .tcp?, .udp?:
            let ports: [(String, ProtoOption)] = [("orig-port-src", .sport), ("sport", .sport), ("orig-port-dst", .dport),
                                                  ("dport", .dport), ("reply-port-src", .replySport), ("reply-port-dst", .replyDport)]
            if let p = ports.first(where: { $0.0 == name }) { return p.1 }
            if proto == .tcp && name == "state" { return .state }
        case .icmp?:
            let opts: [(String, ProtoOption)] = [("icmp-type", .icmpType), ("icmp-code", .icmpCode), ("icmp-id", .icmpID)]
            if let p = opts.first(where: { $0.0 == name }) { return p.1 }
        default:
            break
        }
        throw ConntrackError(message: "")
    }

    static func applyProtoOption(_ o: ProtoOption, _ arg: String, _ f: inout Filter) throws {
        // The helpers read numbers with atoi() and keep the low bits.
        let n = atoi(arg)
        switch o {
        case .sport: f.origSport = UInt16(truncatingIfNeeded: n)
        case .dport: f.origDport = UInt16(truncatingIfNeeded: n)
        case .replySport: f.replySport = UInt16(truncatingIfNeeded: n)
        case .replyDport: f.replyDport = UInt16(truncatingIfNeeded: n)
        case .icmpType: f.icmpType = UInt8(truncatingIfNeeded: n)
        case .icmpCode: f.icmpCode = UInt8(truncatingIfNeeded: n)
        case .icmpID: f.icmpID = UInt16(truncatingIfNeeded: n)
        case .state:
            let names = ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "LISTEN"]
            guard let i = names.firstIndex(of: arg), let s = TCPConntrackState(rawValue: i) else {
                throw ConntrackError(message: "unknown TCP state `\(arg)'")
            }
            f.tcpState = s
        }
    }

    /// C's atoi(): optional sign, leading digits, 0 when there are none.
    static func atoi(_ s: String) -> Int64 {
        var chars = Substring(s.drop { $0 == " " || $0 == "\t" })
        var sign: Int64 = 1
        if chars.first == "-" || chars.first == "+" {
            if chars.first == "-" { sign = -1 }
            chars = chars.dropFirst()
        }
        var v: Int64 = 0
        for c in chars {
            guard let d = c.wholeNumberValue, c.isASCII else { break }
            v = (v &* 10) &+ Int64(d)
        }
        return sign &* v
    }

    static func strtoul(_ s: String) -> UInt64? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        return UInt64(s)
    }

    enum Address { case v4(IPv4Address), v6 }

    /// inet_pton() for AF_INET, then AF_INET6 (only whether it is one).
    static func parseAddress(_ s: String) -> Address? {
        if let a = IPv4Address(s) { return .v4(a) }
        if s.contains(":") && s.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) && s.filter({ $0 == ":" }).count <= 7 {
            return .v6
        }
        return nil
    }

    /// getprotobyname() or a number up to 255 (conntrack's -p).
    static func protocolNumber(_ s: String) -> UInt8? {
        if let n = Int(s) { return (0...255).contains(n) ? UInt8(n) : nil }
        return NameDB.protocolNumber(s.lowercased())
    }

    /// Kernel: ct_seq_show() in nf_conntrack_standalone.c.
    static func line(_ e: ConntrackEntry, now: Int64, hz: Int64) -> String {
        let proto = e.original.proto
        var s = CFormat.padRight(CTFormat.protoName(proto), 8) + " \(proto.rawValue) \(e.secondsLeft(now: now, hz: hz)) "
        if proto == .tcp { s += e.tcpState.name + " " }
        s += tuple(e.original)
        if !e.seenReply { s += "[UNREPLIED] " }
        s += tuple(e.reply)
        if e.assured { s += "[ASSURED] " }
        return s + "mark=\(e.mark) use=1"
    }

    static func tuple(_ t: CTTuple) -> String {
        var s = "src=\(t.src) dst=\(t.dst) "
        switch t.proto {
        case .tcp, .udp: s += "sport=\(t.srcPort) dport=\(t.dstPort) "
        case .icmp: s += "type=\(t.icmpType) code=\(t.icmpCode) id=\(t.srcPort) "
        default: break
        }
        return s
    }

    static let usage = """
    Command line interface for the connection tracking system. Version 1.4.7
    Usage: conntrack [commands] [options]

    Commands:
      -L [table] [options]\t\tList conntrack or expectation table
      -G [table] parameters\t\tGet conntrack or expectation
      -D [table] parameters\t\tDelete conntrack or expectation
      -I [table] parameters\t\tCreate a conntrack or expectation
      -U [table] parameters\t\tUpdate a conntrack
      -E [table] [options]\t\tShow events
      -F [table]\t\t\tFlush table
      -C [table]\t\t\tShow counter
      -S\t\t\t\tShow statistics

    Tables: conntrack, expect, dying, unconfirmed

    Conntrack parameters and options:
      -n, --src-nat ip\t\t\tsource NAT ip
      -g, --dst-nat ip\t\t\tdestination NAT ip
      -j, --any-nat ip\t\t\tsource or destination NAT ip
      -m, --mark mark\t\t\tSet mark
      -c, --secmark secmark\t\t\tSet selinux secmark
      -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
      -z, --zero \t\t\t\tZero counters while listing
      -o, --output type[,...]\t\tOutput format, eg. xml
      -l, --label label[,...]\t\tconntrack labels

    Expectation parameters and options:
      --tuple-src ip\tSource address in expect tuple
      --tuple-dst ip\tDestination address in expect tuple

    Updating parameters and options:
      --label-add label\tAdd label
      --label-del label\tDelete label

    Common parameters and options:
      -s, --src, --orig-src ip\t\tSource address from original direction
      -d, --dst, --orig-dst ip\t\tDestination address from original direction
      -r, --reply-src ip\t\tSource addres from reply direction
      -q, --reply-dst ip\t\tDestination address from reply direction
      -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
      -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
      -t, --timeout timeout\t\tSet timeout
      -u, --status status\t\tSet status, eg. ASSURED
      -w, --zone value\t\tSet conntrack zone
      --orig-zone value\t\tSet zone for original direction
      --reply-zone value\t\tSet zone for reply direction
      -b, --buffer-size\t\tNetlink socket buffer size
      --mask-src ip\t\t\tSource mask address
      --mask-dst ip\t\t\tDestination mask address

    """
}
