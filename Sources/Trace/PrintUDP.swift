// PrintUDP: tcpdump's print-udp.c. Writes the addresses with their ports itself. (Skeleton: filled in with the transport layer.)

import Wire

enum UDPPrinter {
    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header, options: PrintOptions) -> String {
        "\(ip.source) > \(ip.destination): ip-proto-17 \(end - o)"
    }
}
