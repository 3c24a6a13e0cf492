// PrintIP: tcpdump's print-ip.c: "SRC > DST: " then the transport printer, or
// "SRC > DST: ip-proto-N LEN" for protocols without one.

import Wire

enum IPPrinter {
    static func print(_ b: [UInt8], at o: Int, options: PrintOptions) -> String {
        guard let (h, _) = try? IPv4Header.parse(b, at: o) else { return "[|ip]" }
        let payloadStart = o + h.headerLength
        let end = min(b.count, o + Int(h.totalLength))
        let head = "\(h.source) > \(h.destination): "
        if h.fragmentOffset != 0 {
            return head + "ip-proto-\(h.proto.rawValue)"
        }
        switch h.proto {
        case .icmp:
            return head + ICMPPrinter.print(b, at: payloadStart, end: end, ip: h)
        default:
            return head + "ip-proto-\(h.proto.rawValue) \(Int(h.totalLength) - h.headerLength)"
        }
    }
}
