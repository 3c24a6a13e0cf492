// PrintEther: what tcpdump's print-ether.c prints for an Ethernet frame, and the dispatch to
// the network-layer printers (one file per protocol, as in tcpdump).
// Guarantees: with -n, the text equals `tcpdump -r FILE -n [-e]` for every frame we emit.

import Wire

public struct PrintOptions: Sendable {
    /// -e: print the link-level header.
    public var linkHeader = false
    /// -v count.
    public var verbose = 0
    public init(linkHeader: Bool = false, verbose: Int = 0) {
        self.linkHeader = linkHeader
        self.verbose = verbose
    }
}

public enum PacketPrinter {
    /// The text after the timestamp for one Ethernet frame.
    public static func ethernet(_ b: [UInt8], options: PrintOptions, state: PrinterState = PrinterState()) -> String {
        guard let eth = try? EthernetHeader.parse(b) else { return "[|ether]" }
        let body = network(b, at: EthernetHeader.length, etherType: eth.etherType, options: options, state: state)
        guard options.linkHeader else {
            return body.bare
        }
        let typeName: String
        switch eth.etherType {
        case .ipv4: typeName = "IPv4"
        case .arp: typeName = "ARP"
        case .ipv6: typeName = "IPv6"
        case .vlan: typeName = "802.1Q"
        default: typeName = "Unknown"
        }
        let hex = String(eth.etherType.rawValue, radix: 16)
        return "\(eth.source) > \(eth.destination), ethertype \(typeName) (0x\(String(repeating: "0", count: 4 - hex.count))\(hex)), length \(b.count): \(body.afterLink)"
    }

    /// A network-layer rendering in the two shapes tcpdump uses: without -e it starts with the
    /// protocol name ("ARP, ", "IP "); with -e the protocol name is in the link part.
    struct Rendered {
        var bare: String
        var afterLink: String
    }

    static func network(_ b: [UInt8], at o: Int, etherType: EtherType, options: PrintOptions,
                        state: PrinterState = PrinterState()) -> Rendered {
        switch etherType {
        case .arp:
            let t = ARPPrinter.print(b, at: o, verbose: options.verbose > 0)
            return Rendered(bare: "ARP, " + t, afterLink: t)
        case .ipv4:
            let t = IPPrinter.print(b, at: o, options: options, state: state)
            return Rendered(bare: "IP " + t, afterLink: t)
        default:
            let hex = String(etherType.rawValue, radix: 16)
            let t = "ethertype Unknown (0x\(String(repeating: "0", count: 4 - hex.count))\(hex)), length \(b.count): "
            return Rendered(bare: t, afterLink: "")
        }
    }
}
