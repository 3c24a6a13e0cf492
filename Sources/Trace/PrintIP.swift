// PrintIP: tcpdump's print-ip.c: "SRC > DST: " then the transport printer, or
// "SRC > DST: ip-proto-N LEN" for protocols without one. With -v, the header fields in
// parentheses first and the addresses on an indented second line.

import Wire

enum IPPrinter {
    static func print(_ b: [UInt8], at o: Int, options: PrintOptions, state: PrinterState = PrinterState()) -> String {
        guard let (h, _) = try? IPv4Header.parse(b, at: o) else { return "[|ip]" }
        let payloadStart = o + h.headerLength
        let end = min(b.count, o + Int(h.totalLength))
        var addrs = "\(h.source) > \(h.destination): "
        var body: String
        if h.fragmentOffset != 0 {
            body = "ip-proto-\(h.proto.rawValue)"
        } else {
            switch h.proto {
            case .icmp: body = ICMPPrinter.print(b, at: payloadStart, end: end, ip: h, options: options, state: state)
            case .igmp: body = IGMPPrinter.print(b, at: payloadStart, end: end, options: options)
            // The transport printers write the addresses themselves ("10.0.0.1.80 > ...").
            case .udp:
                addrs = ""
                body = UDPPrinter.print(b, at: payloadStart, end: end, ip: h, options: options, state: state)
            case .tcp:
                addrs = ""
                body = TCPPrinter.print(b, at: payloadStart, end: end, ip: h, options: options, state: state,
                                        fragmented: h.moreFragments)
            default: body = "ip-proto-\(h.proto.rawValue) \(Int(h.totalLength) - h.headerLength)"
            }
        }
        guard options.verbose > 0 else { return addrs + body }
        return verboseHeader(h) + "\n    " + addrs + body
    }

    static func protoName(_ p: IPProtocol) -> String {
        switch p {
        case .icmp: return "ICMP"
        case .igmp: return "IGMP"
        case .tcp: return "TCP"
        case .udp: return "UDP"
        case .gre: return "GRE"
        default: return "unknown"
        }
    }

    /// "(tos 0x0, ttl 64, id 14552, offset 0, flags [DF], proto ICMP (1), length 84)".
    static func verboseHeader(_ h: IPv4Header) -> String {
        var flags = ""
        if h.dontFragment { flags += "DF" }
        if h.moreFragments { flags += "+" }
        if flags.isEmpty { flags = "none" }
        var s = "(tos 0x\(String(h.tos, radix: 16)), ttl \(h.ttl), id \(h.identification), offset \(h.fragmentOffset), flags [\(flags)], proto \(protoName(h.proto)) (\(h.proto.rawValue)), length \(h.totalLength)"
        if !h.options.isEmpty {
            s += ", options (" + optionNames(h.options).joined(separator: ",") + ")"
        }
        return s + ")"
    }

    static func optionNames(_ o: [UInt8]) -> [String] {
        var names: [String] = []
        var i = 0
        while i < o.count {
            switch o[i] {
            case 0: names.append("EOL"); return names
            case 1: names.append("NOP"); i += 1
            case 0x94: names.append("RA"); i += max(2, Int(o.count > i + 1 ? o[i + 1] : 2))
            default:
                names.append("unknown \(o[i])")
                i += max(2, Int(o.count > i + 1 ? o[i + 1] : 2))
            }
        }
        return names
    }
}
