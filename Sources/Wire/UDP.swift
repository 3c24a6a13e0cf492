// UDP (RFC 768) as real bytes: the 8-byte header, the datagram it heads, and the checksum over
// the IPv4 pseudo header that Linux always fills in (udp_send_skb() with no_check_tx off).
// Guarantees: parse checks only that the 8 header bytes are there (the length and checksum
// checks are the receiver's, udp_rcv()'s, so that a printer can show a bad datagram); emit
// writes exactly `length` bytes; a computed checksum of 0 is sent as 0xffff, and a received
// 0 means "no checksum" (RFC 768). A sender with checksum offload leaves only the folded
// pseudo-header sum in the field (udp4_hwcsum(), CHECKSUM_PARTIAL), which is what a capture
// on the sending host shows and what tcpdump -vv calls "bad udp cksum".
// Leaves out: UDP-Lite's partial coverage, IPv6's pseudo header.

/// The UDP header as fields.
public struct UDPHeader: Equatable, Sendable {
    public static let headerLength = 8

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus payload, in bytes (uh->len).
    public var length: UInt16
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
    }

    /// Parses the header at `o`; throws when fewer than 8 bytes are left.
    public static func parse(_ b: [UInt8], at o: Int = 0) throws -> UDPHeader {
        guard o >= 0, b.count - o >= headerLength else { throw WireError("udp: truncated header") }
        return UDPHeader(sourcePort: b.u16(at: o), destinationPort: b.u16(at: o + 2),
                         length: b.u16(at: o + 4), checksum: b.u16(at: o + 6))
    }

    /// Writes the 8 header bytes at `o` exactly as the fields hold them.
    public func emit(into b: inout [UInt8], at o: Int = 0) {
        b.setU16(sourcePort, at: o)
        b.setU16(destinationPort, at: o + 2)
        b.setU16(length, at: o + 4)
        b.setU16(checksum, at: o + 6)
    }

    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: UDPHeader.headerLength)
        emit(into: &b)
        return b
    }
}

/// What the checksum of a received datagram says (udp4_csum_init() + __skb_checksum_complete()).
public enum UDPChecksumStatus: Equatable, Sendable {
    /// It verifies.
    case valid
    /// The field is 0: the sender computed none, which IPv4 allows.
    case absent
    /// The field holds the folded pseudo-header sum of an offloaded checksum (CHECKSUM_PARTIAL).
    case partial
    /// It does not verify; `expected` is what the field should have held.
    case invalid(expected: UInt16)
}

/// In-place access to a UDP header inside a buffer, and the checksum over the pseudo header.
public enum UDPView {
    @inlinable public static func sourcePort(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o) }
    @inlinable public static func destinationPort(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o + 2) }
    @inlinable public static func length(_ b: [UInt8], at o: Int) -> Int { Int(b.u16(at: o + 4)) }
    @inlinable public static func checksum(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o + 6) }

    /// The checksum field value for the datagram `b[o..<o+length]` (its field counted as 0),
    /// with the kernel's 0 -> 0xffff substitution (CSUM_MANGLED_0).
    public static func computeChecksum(_ b: [UInt8], at o: Int, length: Int,
                                       source: IPv4Address, destination: IPv4Address) -> UInt16 {
        let pseudo = IPv4Header.pseudoHeaderSum(source: source, destination: destination, proto: .udp, length: length)
        let field = UInt32(b.u16(at: o + 6))
        // Sum everything, then take the field back out in one's complement arithmetic.
        var s = InternetChecksum.sum(b, o..<(o + length), initial: pseudo)
        s = s &+ (~field & 0xffff)
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        let c = ~UInt16(truncatingIfNeeded: s)
        return c == 0 ? 0xffff : c
    }

    /// Computes and stores the checksum of the datagram at `o` (length from its header).
    public static func fillChecksum(_ b: inout [UInt8], at o: Int, source: IPv4Address, destination: IPv4Address) {
        b.setU16(0, at: o + 6)
        let c = computeChecksum(b, at: o, length: length(b, at: o), source: source, destination: destination)
        b.setU16(c, at: o + 6)
    }

    /// The folded pseudo-header sum: what udp4_hwcsum() leaves in the field for a device that
    /// completes the checksum itself.
    public static func partialValue(source: IPv4Address, destination: IPv4Address, length: Int) -> UInt16 {
        var s = IPv4Header.pseudoHeaderSum(source: source, destination: destination, proto: .udp, length: length)
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return UInt16(s)
    }

    /// Stores the offloaded form of the checksum of the datagram at `o` (length from its header).
    public static func fillPartialChecksum(_ b: inout [UInt8], at o: Int, source: IPv4Address, destination: IPv4Address) {
        b.setU16(partialValue(source: source, destination: destination, length: length(b, at: o)), at: o + 6)
    }

    /// Verifies the datagram `b[o..<o+length]` against the pseudo header.
    public static func verifyChecksum(_ b: [UInt8], at o: Int, length: Int,
                                      source: IPv4Address, destination: IPv4Address) -> UDPChecksumStatus {
        let field = b.u16(at: o + 6)
        if field == 0 { return .absent }
        let pseudo = IPv4Header.pseudoHeaderSum(source: source, destination: destination, proto: .udp, length: length)
        if InternetChecksum.verify(b, o..<(o + length), initial: pseudo) { return .valid }
        if field == partialValue(source: source, destination: destination, length: length) { return .partial }
        return .invalid(expected: computeChecksum(b, at: o, length: length, source: source, destination: destination))
    }
}

/// A whole datagram: header and payload.
public struct UDPDatagram: Equatable, Sendable {
    public var header: UDPHeader
    public var payload: [UInt8]

    /// A datagram whose length field covers `payload`; the checksum is filled by `emit`.
    public init(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        header = UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort,
                           length: UInt16(truncatingIfNeeded: UDPHeader.headerLength + payload.count))
        self.payload = payload
    }

    public init(header: UDPHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    public var length: Int { UDPHeader.headerLength + payload.count }

    /// Parses the datagram at `o`, whose IP payload ends at `end`. The payload is what the
    /// length field covers (the kernel trims to uh->len); a length field past `end` or below 8
    /// throws, as udp_rcv() drops such a datagram.
    public static func parse(_ b: [UInt8], at o: Int = 0, end: Int? = nil,
                             source: IPv4Address, destination: IPv4Address) throws -> (datagram: UDPDatagram, checksum: UDPChecksumStatus) {
        let e = end ?? b.count
        guard e <= b.count else { throw WireError("udp: truncated datagram (\(b.count - o) of \(e - o) bytes)") }
        let h = try UDPHeader.parse(b, at: o)
        guard e - o >= UDPHeader.headerLength else { throw WireError("udp: truncated header") }
        let len = Int(h.length)
        guard len >= UDPHeader.headerLength else { throw WireError("udp: length \(len) < 8") }
        guard len <= e - o else { throw WireError("udp: length \(len) exceeds the \(e - o) bytes of the packet") }
        let status = UDPView.verifyChecksum(b, at: o, length: len, source: source, destination: destination)
        return (UDPDatagram(header: h, payload: Array(b[(o + UDPHeader.headerLength)..<(o + len)])), status)
    }

    /// Writes header and payload at `o` with a freshly computed checksum (stored back in the header).
    public mutating func emit(into b: inout [UInt8], at o: Int = 0, source: IPv4Address, destination: IPv4Address) {
        header.checksum = 0
        header.emit(into: &b, at: o)
        for (k, x) in payload.enumerated() { b[o + UDPHeader.headerLength + k] = x }
        header.checksum = UDPView.computeChecksum(b, at: o, length: Int(header.length), source: source, destination: destination)
        b.setU16(header.checksum, at: o + 6)
    }

    /// The datagram's bytes with its checksum for the given addresses.
    public func bytes(source: IPv4Address, destination: IPv4Address) -> [UInt8] {
        var d = self
        var b = [UInt8](repeating: 0, count: length)
        d.emit(into: &b, source: source, destination: destination)
        return b
    }
}
