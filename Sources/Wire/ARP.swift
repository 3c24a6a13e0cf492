// ARP (RFC 826) for Ethernet and IPv4, the only pair Linux's arp_rcv() accepts on Ethernet.
// Guarantees: 28-byte body parse/emit; other hardware/protocol types still parse (and are kept)
// so that a printer can show them, and callers decide whether to drop.

public struct ARPOperation: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let request = ARPOperation(rawValue: 1)
    public static let reply = ARPOperation(rawValue: 2)
}

public struct ARPPacket: Equatable, Sendable {
    public static let length = 28

    public var hardwareType: UInt16 = 1
    public var protocolType: EtherType = .ipv4
    public var hardwareLength: UInt8 = 6
    public var protocolLength: UInt8 = 4
    public var operation: ARPOperation
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public init(operation: ARPOperation, senderMAC: MACAddress, senderIP: IPv4Address,
                targetMAC: MACAddress, targetIP: IPv4Address) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    /// True for the Ethernet/IPv4 form whose address fields we decode.
    public var isEthernetIPv4: Bool {
        hardwareType == 1 && protocolType == .ipv4 && hardwareLength == 6 && protocolLength == 4
    }

    public static func parse(_ b: [UInt8], at o: Int = 0) throws -> ARPPacket {
        guard b.count - o >= 8 else { throw WireError("arp: truncated header") }
        let hlen = b[o + 4], plen = b[o + 5]
        guard hlen == 6, plen == 4 else {
            throw WireError("arp: unsupported address lengths hlen \(hlen) plen \(plen)")
        }
        guard b.count - o >= length else { throw WireError("arp: truncated body") }
        var p = ARPPacket(operation: ARPOperation(rawValue: b.u16(at: o + 6)),
                          senderMAC: MACAddress(bytes: b, at: o + 8),
                          senderIP: IPv4Address(bytes: b, at: o + 14),
                          targetMAC: MACAddress(bytes: b, at: o + 18),
                          targetIP: IPv4Address(bytes: b, at: o + 24))
        p.hardwareType = b.u16(at: o)
        p.protocolType = EtherType(rawValue: b.u16(at: o + 2))
        return p
    }

    public func emit(into b: inout [UInt8], at o: Int = 0) {
        b.setU16(hardwareType, at: o)
        b.setU16(protocolType.rawValue, at: o + 2)
        b[o + 4] = hardwareLength
        b[o + 5] = protocolLength
        b.setU16(operation.rawValue, at: o + 6)
        senderMAC.write(into: &b, at: o + 8)
        senderIP.write(into: &b, at: o + 14)
        targetMAC.write(into: &b, at: o + 18)
        targetIP.write(into: &b, at: o + 24)
    }

    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: ARPPacket.length)
        emit(into: &b)
        return b
    }
}
