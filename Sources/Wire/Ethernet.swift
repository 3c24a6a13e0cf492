// Ethernet II framing (IEEE 802.3 with an EtherType), the link layer of every device we model.
// Guarantees: parse/emit are exact inverses over the 14-byte header; unknown EtherTypes parse.
// Leaves out: 802.1Q tags (later), the FCS (never seen by taps or pcap on Linux).

/// An EtherType, open so that unknown values still parse and print.
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86dd)
}

public struct EthernetHeader: Equatable, Sendable {
    public static let length = 14
    /// Frames shorter than this are padded on real wires; veth and bridges do not pad.
    public static let minimumFrameLength = 60

    public var destination: MACAddress
    public var source: MACAddress
    public var etherType: EtherType

    public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
    }

    public static func parse(_ b: [UInt8], at o: Int = 0) throws -> EthernetHeader {
        guard b.count - o >= length else { throw WireError("ethernet: truncated header (\(b.count - o) bytes)") }
        return EthernetHeader(destination: MACAddress(bytes: b, at: o),
                              source: MACAddress(bytes: b, at: o + 6),
                              etherType: EtherType(rawValue: b.u16(at: o + 12)))
    }

    public func emit(into b: inout [UInt8], at o: Int = 0) {
        destination.write(into: &b, at: o)
        source.write(into: &b, at: o + 6)
        b.setU16(etherType.rawValue, at: o + 12)
    }

    /// A whole frame: this header followed by `payload`.
    public func frame(payload: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: EthernetHeader.length)
        emit(into: &b)
        b.append(contentsOf: payload)
        return b
    }
}

/// In-place access to an Ethernet header inside a frame (for forwarding paths that rewrite MACs).
public enum EthernetView {
    @inlinable public static func destination(_ b: [UInt8]) -> MACAddress { MACAddress(bytes: b, at: 0) }
    @inlinable public static func source(_ b: [UInt8]) -> MACAddress { MACAddress(bytes: b, at: 6) }
    @inlinable public static func etherType(_ b: [UInt8]) -> EtherType { EtherType(rawValue: b.u16(at: 12)) }
    public static func setDestination(_ b: inout [UInt8], _ m: MACAddress) { m.write(into: &b, at: 0) }
    public static func setSource(_ b: inout [UInt8], _ m: MACAddress) { m.write(into: &b, at: 6) }
}
