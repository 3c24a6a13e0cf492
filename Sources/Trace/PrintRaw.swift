// PrintRaw: tcpdump's print-raw.c, the printer for DLT_RAW captures (a tun device): the packet
// starts with its IP header. Without -e the line is what an Ethernet capture prints after its
// link part ("IP ..."); with -e tcpdump writes "ip: " where the link header would go.
// Guarantees: the text equals `tcpdump -r FILE -n [-e] [-v]` of the pcap we write (observed
// with tcpdump 4.99.3 on a tun device of Linux 6.18).

import NetKernel
import Wire

extension PacketPrinter {
    /// The text after the timestamp for one raw-IP packet.
    public static func raw(_ b: [UInt8], options: PrintOptions, state: PrinterState = PrinterState()) -> String {
        guard let first = b.first else { return "[|ip]" }
        let etherType: EtherType = first >> 4 == 6 ? .ipv6 : .ipv4
        let body = network(b, at: 0, etherType: etherType, options: options, state: state)
        return options.linkHeader ? "ip: " + body.afterLink : body.bare
    }
}

extension LinkType {
    /// The link type tcpdump reports for a device: DLT_RAW for ARPHRD_NONE (tun), Ethernet
    /// otherwise (libpcap's map of ARPHRD types).
    public static func of(_ dev: NetDevice) -> LinkType {
        dev.linkTypeName == "none" ? .raw : .ethernet
    }
}
