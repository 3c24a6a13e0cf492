// PrintICMP: tcpdump's print-icmp.c for the types Linux sends and receives.

import Wire

enum ICMPPrinter {
    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header) -> String {
        let len = end - o
        guard let (m, _) = try? ICMPv4Packet.parse(b, at: o, end: end) else { return "[|icmp]" }
        let text: String
        switch m.type {
        case .echoRequest, .echoReply:
            text = "ICMP echo \(m.type == .echoRequest ? "request" : "reply"), id \(m.identifier), seq \(m.sequence)"
        case .destinationUnreachable:
            text = "ICMP " + unreachable(m)
        case .timeExceeded:
            text = "ICMP time exceeded in-transit" + (m.code == 1 ? " reassembly" : "")
        default:
            text = "ICMP type-#\(m.type.rawValue)"
        }
        return text + ", length \(len)"
    }

    static func unreachable(_ m: ICMPv4Packet) -> String {
        let inner = try? IPv4Header.parse(m.payload, at: 0)
        let dst = inner.map { "\($0.header.destination)" } ?? "?"
        switch m.code {
        case 0: return "net \(dst) unreachable"
        case 1: return "host \(dst) unreachable"
        case 2: return "\(dst) protocol \(inner?.header.proto.rawValue ?? 0) unreachable"
        case 3:
            if let i = inner?.header, m.payload.count >= i.headerLength + 4 {
                let port = m.payload.u16(at: i.headerLength + 2)
                let p = i.proto == .udp ? "udp" : (i.proto == .tcp ? "tcp" : "ip-proto-\(i.proto.rawValue)")
                return "\(dst) \(p) port \(port) unreachable"
            }
            return "\(dst) port unreachable"
        case 4: return "\(dst) unreachable - need to frag (mtu \(m.rest & 0xffff))"
        case 9, 10: return "net \(dst) unreachable - admin prohibited"
        case 13: return "\(dst) unreachable - admin prohibited filter"
        default: return "\(dst) unreachable - code \(m.code)"
        }
    }
}
