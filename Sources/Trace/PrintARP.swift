// PrintARP: tcpdump's print-arp.c for Ethernet/IPv4 ARP.

import Wire

enum ARPPrinter {
    static func print(_ b: [UInt8], at o: Int, verbose: Bool = false) -> String {
        let len = b.count - o
        guard let a = try? ARPPacket.parse(b, at: o) else { return "[|ARP]" }
        guard a.isEthernetIPv4 else {
            return "ar_pro 0x\(String(a.protocolType.rawValue, radix: 16)), length \(len)"
        }
        if verbose { return "Ethernet (len 6), IPv4 (len 4), " + print(b, at: o) }
        switch a.operation {
        case .request:
            var s = "Request who-has \(a.targetIP)"
            if !a.targetMAC.isZero { s += " (\(a.targetMAC))" }
            return s + " tell \(a.senderIP), length \(len)"
        case .reply:
            return "Reply \(a.senderIP) is-at \(a.senderMAC), length \(len)"
        default:
            return "ar_op \(a.operation.rawValue), length \(len)"
        }
    }
}
