// IPv4 header (RFC 791) as the kernel builds and checks it.
// Guarantees: parse checks what ip_rcv_core() checks (version, IHL, lengths) and reports whether
// the checksum holds; emit always writes a correct checksum; options are carried as bytes.
// Leaves out: interpreting options.

/// An IP protocol number, open so that unknown values still parse and print.
public struct IPProtocol: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let icmp = IPProtocol(rawValue: 1)
    public static let igmp = IPProtocol(rawValue: 2)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let gre = IPProtocol(rawValue: 47)
}

public struct IPv4Header: Equatable, Sendable {
    public static let minimumLength = 20
    public static let flagDF: UInt16 = 0x4000
    public static let flagMF: UInt16 = 0x2000

    public var tos: UInt8 = 0
    public var totalLength: UInt16
    public var identification: UInt16 = 0
    /// Flags and fragment offset as on the wire (DF 0x4000, MF 0x2000, offset in 8-byte units).
    public var flagsAndOffset: UInt16 = 0
    public var ttl: UInt8 = 64
    public var proto: IPProtocol
    public var checksum: UInt16 = 0
    public var source: IPv4Address
    public var destination: IPv4Address
    public var options: [UInt8] = []

    public init(totalLength: UInt16, identification: UInt16 = 0, dontFragment: Bool = false,
                ttl: UInt8 = 64, proto: IPProtocol, source: IPv4Address, destination: IPv4Address, tos: UInt8 = 0) {
        self.totalLength = totalLength
        self.identification = identification
        self.flagsAndOffset = dontFragment ? IPv4Header.flagDF : 0
        self.ttl = ttl
        self.proto = proto
        self.source = source
        self.destination = destination
        self.tos = tos
    }

    public var headerLength: Int { IPv4Header.minimumLength + options.count }
    public var dontFragment: Bool { flagsAndOffset & IPv4Header.flagDF != 0 }
    public var moreFragments: Bool { flagsAndOffset & IPv4Header.flagMF != 0 }
    public var fragmentOffset: Int { Int(flagsAndOffset & 0x1fff) * 8 }
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// Parses the header at `o`. Also returns whether the header checksum verified.
    public static func parse(_ b: [UInt8], at o: Int = 0) throws -> (header: IPv4Header, checksumOK: Bool) {
        guard b.count - o >= minimumLength else { throw WireError("ip: truncated header") }
        let vihl = b[o]
        guard vihl >> 4 == 4 else { throw WireError("ip: version \(vihl >> 4)") }
        let ihl = Int(vihl & 0x0f) * 4
        guard ihl >= minimumLength else { throw WireError("ip: bad header length \(ihl)") }
        guard b.count - o >= ihl else { throw WireError("ip: truncated options") }
        let total = b.u16(at: o + 2)
        guard Int(total) >= ihl else { throw WireError("ip: total length \(total) < header length \(ihl)") }
        var h = IPv4Header(totalLength: total, proto: IPProtocol(rawValue: b[o + 9]),
                           source: IPv4Address(bytes: b, at: o + 12), destination: IPv4Address(bytes: b, at: o + 16))
        h.tos = b[o + 1]
        h.identification = b.u16(at: o + 4)
        h.flagsAndOffset = b.u16(at: o + 6)
        h.ttl = b[o + 8]
        h.checksum = b.u16(at: o + 10)
        if ihl > minimumLength { h.options = Array(b[(o + minimumLength)..<(o + ihl)]) }
        let ok = InternetChecksum.verify(b, o..<(o + ihl))
        return (h, ok)
    }

    /// Writes the header at `o` with a freshly computed checksum (stored back into `checksum`).
    public mutating func emit(into b: inout [UInt8], at o: Int = 0) {
        precondition(options.count % 4 == 0, "IPv4 options must be padded to 32 bits")
        b[o] = 0x40 | UInt8(headerLength / 4)
        b[o + 1] = tos
        b.setU16(totalLength, at: o + 2)
        b.setU16(identification, at: o + 4)
        b.setU16(flagsAndOffset, at: o + 6)
        b[o + 8] = ttl
        b[o + 9] = proto.rawValue
        b.setU16(0, at: o + 10)
        source.write(into: &b, at: o + 12)
        destination.write(into: &b, at: o + 16)
        for (k, x) in options.enumerated() { b[o + 20 + k] = x }
        checksum = InternetChecksum.checksum(b, o..<(o + headerLength))
        b.setU16(checksum, at: o + 10)
    }

    /// The pseudo-header sum that TCP and UDP checksums start from.
    public static func pseudoHeaderSum(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, length: Int) -> UInt32 {
        var s: UInt32 = 0
        s &+= source.raw >> 16; s &+= source.raw & 0xffff
        s &+= destination.raw >> 16; s &+= destination.raw & 0xffff
        s &+= UInt32(proto.rawValue)
        s &+= UInt32(length)
        return s
    }
}

/// In-place access to an IPv4 header inside a buffer, for the forwarding and NAT paths, which
/// change a field and patch the checksum incrementally as the kernel does.
public enum IPv4View {
    @inlinable public static func headerLength(_ b: [UInt8], at o: Int) -> Int { Int(b[o] & 0x0f) * 4 }
    @inlinable public static func totalLength(_ b: [UInt8], at o: Int) -> Int { Int(b.u16(at: o + 2)) }
    @inlinable public static func ttl(_ b: [UInt8], at o: Int) -> UInt8 { b[o + 8] }
    @inlinable public static func proto(_ b: [UInt8], at o: Int) -> IPProtocol { IPProtocol(rawValue: b[o + 9]) }
    @inlinable public static func source(_ b: [UInt8], at o: Int) -> IPv4Address { IPv4Address(bytes: b, at: o + 12) }
    @inlinable public static func destination(_ b: [UInt8], at o: Int) -> IPv4Address { IPv4Address(bytes: b, at: o + 16) }

    /// Kernel: ip_decrease_ttl() in include/net/ip.h (checksum patched, not recomputed).
    public static func decrementTTL(_ b: inout [UInt8], at o: Int) {
        let oldWord = b.u16(at: o + 8)
        b[o + 8] &-= 1
        let newWord = b.u16(at: o + 8)
        b.setU16(InternetChecksum.update(b.u16(at: o + 10), old: oldWord, new: newWord), at: o + 10)
    }

    public static func setSource(_ b: inout [UInt8], at o: Int, _ a: IPv4Address) {
        let old = source(b, at: o)
        a.write(into: &b, at: o + 12)
        b.setU16(InternetChecksum.update(b.u16(at: o + 10), old: old.raw, new: a.raw), at: o + 10)
    }

    public static func setDestination(_ b: inout [UInt8], at o: Int, _ a: IPv4Address) {
        let old = destination(b, at: o)
        a.write(into: &b, at: o + 16)
        b.setU16(InternetChecksum.update(b.u16(at: o + 10), old: old.raw, new: a.raw), at: o + 10)
    }
}
