// ConntrackCommand: conntrack-tools 1.4.7's `conntrack -L|-F|-C` over a namespace's table,
// in /proc/net/nf_conntrack's line format.

import NetKernel
import Wire

enum ConntrackCommand {
    static let banner = "conntrack v1.4.7 (conntrack-tools)"

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var cmd = "-L"
        var proto: IPProtocol?
        var src: IPv4Address?, dst: IPv4Address?
        var extended = false
        var it = args.makeIterator()
        func bad(_ m: String) -> ShellOutcome {
            ctx.eprintln("\(banner): \(m)")
            ctx.eprintln("Try `conntrack -h' or 'conntrack --help' for more information.")
            return .finished(2)
        }
        while let a = it.next() {
            switch a {
            case "-L", "--dump", "-F", "--flush", "-C", "--count": cmd = a
            case "-p", "--proto":
                guard let v = it.next() else { return bad("option `\(a)' requires an argument") }
                switch v {
                case "tcp": proto = .tcp
                case "udp": proto = .udp
                case "icmp": proto = .icmp
                default:
                    guard let n = UInt8(v) else { return bad("unknown protocol `\(v)'") }
                    proto = IPProtocol(rawValue: n)
                }
            case "-s", "--src", "--orig-src":
                guard let v = it.next(), let x = IPv4Address(v) else { return bad("Bad parameter `\(a)'") }
                src = x
            case "-d", "--dst", "--orig-dst":
                guard let v = it.next(), let x = IPv4Address(v) else { return bad("Bad parameter `\(a)'") }
                dst = x
            case "-o", "--output":
                guard let v = it.next() else { return bad("option `\(a)' requires an argument") }
                extended = v.split(separator: ",").contains("extended")
            case "-n", "-z": break
            default:
                return bad("invalid option `\(a)'")
            }
        }
        let ns = ctx.namespace
        let now = ctx.machine.jiffiesNow
        switch cmd {
        case "-F", "--flush":
            ns.flushConntrack()
            ctx.eprintln("\(banner): connection tracking table has been emptied.")
        case "-C", "--count":
            ctx.println(String(ns.conntrack.entries(now: now).count))
        default:
            var shown = 0
            for e in ns.conntrack.entries(now: now) {
                if let p = proto, e.original.proto != p { continue }
                if let s = src, e.original.src != s { continue }
                if let d = dst, e.original.dst != d { continue }
                ctx.println((extended ? "ipv4     2 " : "") + line(e, now: now, hz: ctx.kernel.config.hz))
                shown += 1
            }
            ctx.eprintln("\(banner): \(shown) flow entries have been shown.")
        }
        return .finished(0)
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
}
