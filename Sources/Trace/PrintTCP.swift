// PrintTCP: tcpdump's print-tcp.c. (Skeleton: filled in with the transport layer.)

import Wire

enum TCPPrinter {
    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header, options: PrintOptions) -> String {
        "ip-proto-6 \(end - o)"
    }
}
