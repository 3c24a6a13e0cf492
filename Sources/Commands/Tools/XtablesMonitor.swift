// XtablesMonitor: xtables-monitor of iptables 1.8.9 (nf_tables), a process that listens to the
// nf_tables multicast groups of its namespace (NetKernel's NFNetlink.swift) until it is
// interrupted: --trace prints the walk of packets a TRACE rule marked, --event the tables,
// chains and rules each committed batch changed and the generation it made.
// Guarantees, as observed on Linux 6.18 with iptables 1.8.9-2 (CommandsTests/
// XtablesMonitorTests): a trace message that carries the packet prints a "PACKET:" line
// first (devices, ether_ntoa()'s unpadded MACs or LOOPBACK, SRC DST LEN TOS TTL ID and the
// IP flags, SPORT/DPORT and TCP flags, MARK), a rule message " TRACE: 2 ID table:chain:rule:
// 0xHANDLE:VERDICT  " followed by the rule in iptables-save form after "-4 -t TABLE " (as
// NFT_MSG_GETRULE finds it now), a policy message ":policy:VERDICT "; RETURN prints as
// 0xfffffffb (print_verdict() knows no NFT_RETURN). Options as getopt_long() parses
// "ceht46V" with opterr 0: a bad one is "Bad argument." (status 2), none of -t/-e prints the
// usage (status 1, also for -h).
// Leaves out: IPv6, arptables and ebtables messages (none are modelled).

import SimCore
import NetKernel
import Wire

public final class XtablesMonitor: SimProcess {
    struct Options {
        var counters = false
        var trace = false
        var events = false
        /// -4 / -6: only messages of this family (2 or 10).
        var family: Int?
    }

    public let name = "xtables-monitor"
    public let pid: Int32
    public private(set) var isFinished = false
    public private(set) var exitStatus: Int32 = 0
    public var onExit: ((Int32) -> Void)?
    public var endsOnItsOwn: Bool { false }
    public var stallHint: String? { "xtables-monitor runs until it is interrupted: start it in the background with a trailing &" }

    private let ctx: ToolContext
    private let opts: Options
    private var listener: NFNetlinkListener?

    private init(ctx: ToolContext, opts: Options) {
        self.ctx = ctx
        self.opts = opts
        pid = ctx.machine.allocatePID()
    }

    static let version = "1.8.9"

    static let usage = """
    xtables-monitor \(version) (nf_tables)
    Usage: xtables-monitor [ -t | -e ]
            --trace    -t    trace ruleset traversal of packets tagged via -j TRACE rule
            --event    -e    show events that modify the ruleset
    Optional arguments:
            --ipv4     -4    only monitor IPv4
            --ipv6     -6    only monitor IPv6
    \t--counters -c    show counters in rules

    """

    static let longOptions: [(name: String, short: Character)] = [
        ("counters", "c"), ("trace", "t"), ("event", "e"), ("ipv4", "4"), ("ipv6", "6"), ("version", "V"), ("help", "h"),
    ]

    /// getopt_long(argc, argv, "ceht46V", options) with opterr 0: each option in turn; "?" for
    /// an unknown, ambiguous or argument-carrying one. Operands are skipped.
    static func options(_ args: [String]) -> [Character] {
        var out: [Character] = []
        for a in args {
            if a == "--" { break }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                // No option takes an argument: "--trace=x" is as wrong as an unknown name.
                if body.contains("=") {
                    out.append("?")
                    continue
                }
                if let exact = longOptions.first(where: { $0.name == body }) {
                    out.append(exact.short)
                    continue
                }
                let hits = longOptions.filter { $0.name.hasPrefix(body) }
                out.append(hits.count == 1 ? hits[0].short : "?")
            } else if a.hasPrefix("-") && a.count > 1 {
                for c in a.dropFirst() { out.append("ceht46V".contains(c) ? c : "?") }
            }
        }
        return out
    }

    static func start(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var o = Options()
        for c in options(args) {
            switch c {
            case "c": o.counters = true
            case "t": o.trace = true
            case "e": o.events = true
            case "4": o.family = 2
            case "6": o.family = 10
            case "h":
                ctx.out.stdout(usage)
                return .finished(1)
            case "V":
                ctx.println("xtables-monitor \(version)")
                return .finished(0)
            default:
                ctx.eprintln("xtables-monitor \(version): Bad argument.")
                ctx.eprintln("Try `xtables-monitor -h' for more information.")
                return .finished(2)
            }
        }
        guard o.trace || o.events else {
            ctx.out.stdout(usage)
            return .finished(1)
        }
        let m = XtablesMonitor(ctx: ctx, opts: o)
        var groups: NFNetlinkGroups = []
        if o.trace { groups.insert(.nftrace) }
        if o.events { groups.insert(.nftables) }
        m.listener = ctx.namespace.nfnetlinkSubscribe(groups) { [weak m] msg in m?.receive(msg) }
        return .process(m)
    }

    public func interrupt() {
        guard !isFinished else { return }
        isFinished = true
        if let l = listener { ctx.namespace.nfnetlinkUnsubscribe(l) }
        listener = nil
        // Killed by SIGINT: no summary, the shell's status 130.
        exitStatus = 130
        onExit?(exitStatus)
    }

    /// monitor_cb(): one message.
    func receive(_ m: NFNetlinkMessage) {
        guard !isFinished else { return }
        let text: String
        switch m {
        case .trace(let e):
            if let f = opts.family, f != 2 { return }
            text = traceText(e)
        case .table(let new, let kind, let handle, let use):
            if let f = opts.family, f != 2 { return }
            // nftnl_table_snprintf(): "table NAME FAMILY flags %x use %d handle %llu".
            text = " EVENT: nft: \(new ? "NEW" : "DEL") table: table \(kind.name) ip flags 0 use \(use) handle \(handle)\n"
        case .chain(let new, let kind, let c, let use):
            if let f = opts.family, f != 2 { return }
            if new && c.isBuiltin {
                // A message with the hook (only NEWCHAIN of a base chain) prints in nft's words.
                text = " EVENT: # nft: ip \(kind.name) \(c.name) use \(use) type \(XtablesMonitor.chainType(kind, c.hook!)) hook "
                    + "\(c.hook!.chainName.lowercased()) prio \(kind.priority(c.hook!)) policy \(c.policy == .accept ? "accept" : "drop") "
                    + "packets \(c.policyCounters.packets) bytes \(c.policyCounters.bytes) flags 1\n"
            } else {
                text = " EVENT: -4 -t \(kind.name) -\(new ? "N" : "X") \(c.name)\n"
            }
        case .rule(let new, let kind, let chain, let r):
            if let f = opts.family, f != 2 { return }
            text = " EVENT: " + ruleText(kind, chain, r, op: new ? "A" : "D")
        case .newGeneration(let id, let pid, let name):
            text = "NEWGEN: GENID=\(id) PID=\(pid) NAME=\(name)\n"
        }
        ctx.out.stdout(text)
    }

    /// The chain types iptables-nft gives its base chains (mangle's OUTPUT reroutes).
    static func chainType(_ k: XTTableKind, _ h: NFHook) -> String {
        switch k {
        case .nat: return "nat"
        case .mangle where h == .localOut: return "route"
        default: return "filter"
        }
    }

    /// rule_cb(): "-4 -t TABLE " and nft_rule_print_save().
    func ruleText(_ k: XTTableKind, _ chain: String, _ r: XTRule, op: String) -> String {
        "-4 -t \(k.name) " + IptablesFormat.saveLine(r, chain: chain, bracketCounters: opts.counters, op: op)
    }

    /// trace_cb().
    func traceText(_ e: NFTTraceEvent) -> String {
        let head = " TRACE: 2 \(XtablesMonitor.hex8(e.id)) \(e.table.name):\(e.chain)"
        switch e.kind {
        case .rule:
            var s = ""
            if let p = e.packet { s += packetText(e, p) }
            if let h = e.ruleHandle {
                s += head + ":rule:0x\(String(h, radix: 16)):" + XtablesMonitor.verdictText(e.verdict ?? .continue) + "  "
                // trace_print_rule(): NFT_MSG_GETRULE for the handle, printed as an event is.
                if let (c, r) = ctx.namespace.nftGetRule(e.table, handle: h) {
                    s += ruleText(e.table, c.name, r, op: "A")
                } else {
                    s += "\n"
                }
            }
            return s
        case .policy:
            return head + ":policy:" + XtablesMonitor.verdictText(e.policy == .drop ? .drop : .accept) + " \n"
        case .return:
            return head + ":return:\n"
        }
    }

    /// print_verdict().
    static func verdictText(_ v: NFTVerdict) -> String {
        switch v {
        case .accept: return "ACCEPT"
        case .drop: return "DROP"
        case .stolen: return "STOLEN"
        case .continue: return "CONTINUE"
        case .return: return "0xfffffffb"
        case .jump(let c): return "JUMP:" + c
        case .goto(let c): return "GOTO:" + c
        }
    }

    /// trace_print_packet().
    func packetText(_ e: NFTTraceEvent, _ p: NFTTracePacket) -> String {
        var s = "PACKET: 2 \(XtablesMonitor.hex8(e.id)) "
        func ifname(_ i: Int) -> String { ctx.namespace.device(index: i)?.name ?? "(null)" }
        if let i = p.inIfindex { s += "IN=\(ifname(i)) " }
        if let o = p.outIfindex { s += "OUT=\(ifname(o)) " }
        if let ll = p.link {
            switch p.inType ?? 0 {
            case 1:
                if ll.count >= 14 {
                    s += "MACSRC=\(XtablesMonitor.etherNtoa(ll, 6)) MACDST=\(XtablesMonitor.etherNtoa(ll, 0)) "
                    s += "MACPROTO=" + XtablesMonitor.hex(UInt32(ll.u16(at: 12)), width: 4) + " "
                }
            case 772:
                s += "LOOPBACK "
            default:
                s += "LL=0x\(String(p.inType ?? 0, radix: 16)) " + ll.map { XtablesMonitor.signedHex($0, upper: false) }.joined() + " "
            }
        }
        var l4: UInt8 = 0
        let n = p.network
        if n.count >= 20 {
            s += "SRC=\(n[12]).\(n[13]).\(n[14]).\(n[15]) DST=\(n[16]).\(n[17]).\(n[18]).\(n[19]) "
            let frag = n.u16(at: 6)
            s += "LEN=\(n.u16(at: 2)) TOS=0x\(String(n[1], radix: 16)) TTL=\(n[8]) ID=\(n.u16(at: 4)) "
            if frag & 0x8000 != 0 { s += "CE " }
            if frag & 0x4000 != 0 { s += "DF " }
            if frag & 0x2000 != 0 { s += "MF " }
            if frag & 0x1fff != 0 { s += "FRAG:\(frag & 0x1fff) " }
            l4 = n[9]
            let ihl = Int(n[0] & 0x0f) * 4
            if ihl > 20 {
                s += "OPT (" + (20..<ihl).map { $0 < n.count ? XtablesMonitor.signedHex(n[$0], upper: true) : "00" }.joined() + ") "
            }
        }
        let t = p.transport
        switch l4 {
        case 33, 132, 136, 17:
            if t.count >= 4 { s += "SPORT=\(t.u16(at: 0)) DPORT=\(t.u16(at: 2)) " }
        case 6:
            if t.count >= 20 {
                s += "SPORT=\(t.u16(at: 0)) DPORT=\(t.u16(at: 2)) "
                let f = t[13]
                if f & 0x02 != 0 { s += "SYN " }
                if f & 0x10 != 0 { s += "ACK " }
                if f & 0x01 != 0 { s += "FIN " }
                if f & 0x04 != 0 { s += "RST " }
                if f & 0x08 != 0 { s += "PSH " }
                if f & 0x20 != 0 { s += "URG " }
            }
        default:
            break
        }
        if e.mark != 0 { s += "MARK=0x\(String(e.mark, radix: 16)) " }
        return s + "\n"
    }

    /// ether_ntoa(): lowercase hex without leading zeros.
    static func etherNtoa(_ b: [UInt8], _ at: Int) -> String {
        (at..<at + 6).map { String(b[$0], radix: 16) }.joined(separator: ":")
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func hex8(_ v: UInt32) -> String { hex(v, width: 8) }

    /// printf("%02x", c) of a (signed) char: bytes from 0x80 sign-extend to eight digits.
    static func signedHex(_ b: UInt8, upper: Bool) -> String {
        let v = b >= 0x80 ? UInt32(0xffff_ff00) | UInt32(b) : UInt32(b)
        return String(hex(v, width: 2)).uppercased(upper)
    }
}

private extension String {
    func uppercased(_ yes: Bool) -> String { yes ? uppercased() : self }
}
