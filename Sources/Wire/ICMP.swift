// ICMPv4 (RFC 792): echo and the error messages Linux sends, as real bytes.
// Guarantees: the checksum covers header and payload; unknown types parse and keep their
// 4-byte rest-of-header, so printers and the kernel can decide what to do with them.

public struct ICMPv4Type: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let echoReply = ICMPv4Type(rawValue: 0)
    public static let destinationUnreachable = ICMPv4Type(rawValue: 3)
    public static let redirect = ICMPv4Type(rawValue: 5)
    public static let echoRequest = ICMPv4Type(rawValue: 8)
    public static let timeExceeded = ICMPv4Type(rawValue: 11)
    public static let parameterProblem = ICMPv4Type(rawValue: 12)

    /// True for the error types, which carry the offending datagram's header.
    public var isError: Bool { [3, 4, 5, 11, 12].contains(rawValue) }
}

public struct ICMPv4Packet: Equatable, Sendable {
    public static let headerLength = 8

    public var type: ICMPv4Type
    public var code: UInt8
    public var checksum: UInt16 = 0
    /// Bytes 4-7: identifier and sequence for echo; unused / next-hop MTU / gateway for errors.
    public var rest: UInt32
    public var payload: [UInt8]

    public init(type: ICMPv4Type, code: UInt8, rest: UInt32 = 0, payload: [UInt8] = []) {
        self.type = type
        self.code = code
        self.rest = rest
        self.payload = payload
    }

    public static func echo(request: Bool, identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> ICMPv4Packet {
        ICMPv4Packet(type: request ? .echoRequest : .echoReply, code: 0,
                     rest: UInt32(identifier) << 16 | UInt32(sequence), payload: payload)
    }

    public var identifier: UInt16 { UInt16(rest >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: rest) }
    public var length: Int { ICMPv4Packet.headerLength + payload.count }

    /// Parses `b[o..<end]`; also returns whether the checksum verified.
    public static func parse(_ b: [UInt8], at o: Int = 0, end: Int? = nil) throws -> (packet: ICMPv4Packet, checksumOK: Bool) {
        let e = end ?? b.count
        guard e - o >= headerLength else { throw WireError("icmp: truncated header") }
        guard e <= b.count else { throw WireError("icmp: truncated message (\(b.count - o) of \(e - o) bytes)") }
        var p = ICMPv4Packet(type: ICMPv4Type(rawValue: b[o]), code: b[o + 1], rest: b.u32(at: o + 4),
                             payload: Array(b[(o + headerLength)..<e]))
        p.checksum = b.u16(at: o + 2)
        return (p, InternetChecksum.verify(b, o..<e))
    }

    /// Writes header and payload at `o` with a freshly computed checksum.
    public mutating func emit(into b: inout [UInt8], at o: Int = 0) {
        b[o] = type.rawValue
        b[o + 1] = code
        b.setU16(0, at: o + 2)
        b.setU32(rest, at: o + 4)
        for (k, x) in payload.enumerated() { b[o + ICMPv4Packet.headerLength + k] = x }
        checksum = InternetChecksum.checksum(b, o..<(o + length))
        b.setU16(checksum, at: o + 2)
    }

    public var bytes: [UInt8] {
        var c = self
        var b = [UInt8](repeating: 0, count: length)
        c.emit(into: &b)
        return b
    }
}
