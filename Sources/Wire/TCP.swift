// TCP header (RFC 9293) with its options (RFC 7323 timestamps and window scale, RFC 2018
// SACK), as Linux writes and reads them.
// Guarantees: parse checks the data offset against the segment and keeps unknown options with
// their bytes, so every header that parses emits back to the same bytes (options are written
// in list order, then padded with zero (EOL) bytes to a 32-bit boundary); the checksum
// covers the IPv4 pseudo header, header and payload. A sender with checksum offload leaves
// only the folded pseudo-header sum in the field (CHECKSUM_PARTIAL, what tcpdump shows as
// "incorrect" on veth and lo); `TCPChecksum.status` tells that apart from a bad checksum.
// Leaves out: option semantics (the kernel decides), urgent data beyond the pointer field.

/// The flag bits of byte 13, open so that any combination parses and prints.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)
}

/// One SACK block: [start, end) in sequence space.
public struct TCPSackBlock: Equatable, Hashable, Sendable {
    public var start: UInt32
    public var end: UInt32
    public init(start: UInt32, end: UInt32) {
        self.start = start
        self.end = end
    }
}

/// A TCP option as it appears in the header, in order.
public enum TCPOption: Equatable, Hashable, Sendable {
    case eol
    case nop
    case mss(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack([TCPSackBlock])
    case timestamp(value: UInt32, echoReply: UInt32)
    /// Any other kind, with the bytes after its length byte.
    case unknown(kind: UInt8, data: [UInt8])

    public static let kindEOL: UInt8 = 0, kindNOP: UInt8 = 1, kindMSS: UInt8 = 2, kindWindowScale: UInt8 = 3
    public static let kindSackPermitted: UInt8 = 4, kindSack: UInt8 = 5, kindTimestamp: UInt8 = 8

    /// Bytes on the wire.
    public var length: Int {
        switch self {
        case .eol, .nop: return 1
        case .mss: return 4
        case .windowScale: return 3
        case .sackPermitted: return 2
        case .sack(let blocks): return 2 + 8 * blocks.count
        case .timestamp: return 10
        case .unknown(_, let data): return 2 + data.count
        }
    }

    func write(into b: inout [UInt8], at o: Int) {
        switch self {
        case .eol: b[o] = TCPOption.kindEOL
        case .nop: b[o] = TCPOption.kindNOP
        case .mss(let v):
            b[o] = TCPOption.kindMSS; b[o + 1] = 4; b.setU16(v, at: o + 2)
        case .windowScale(let s):
            b[o] = TCPOption.kindWindowScale; b[o + 1] = 3; b[o + 2] = s
        case .sackPermitted:
            b[o] = TCPOption.kindSackPermitted; b[o + 1] = 2
        case .sack(let blocks):
            b[o] = TCPOption.kindSack; b[o + 1] = UInt8(2 + 8 * blocks.count)
            for (k, blk) in blocks.enumerated() {
                b.setU32(blk.start, at: o + 2 + 8 * k)
                b.setU32(blk.end, at: o + 6 + 8 * k)
            }
        case .timestamp(let v, let e):
            b[o] = TCPOption.kindTimestamp; b[o + 1] = 10
            b.setU32(v, at: o + 2); b.setU32(e, at: o + 6)
        case .unknown(let kind, let data):
            b[o] = kind; b[o + 1] = UInt8(truncatingIfNeeded: 2 + data.count)
            for (k, x) in data.enumerated() { b[o + 2 + k] = x }
        }
    }

    /// Parses the options area `b[o..<end]`. Stops at EOL (what follows is padding). A known
    /// option whose length byte is wrong is kept as `.unknown`, so it re-emits unchanged.
    public static func parseList(_ b: [UInt8], from o: Int, to end: Int) throws -> [TCPOption] {
        var opts: [TCPOption] = []
        var i = o
        while i < end {
            let kind = b[i]
            if kind == kindEOL { opts.append(.eol); break }
            if kind == kindNOP { opts.append(.nop); i += 1; continue }
            guard i + 1 < end else { throw WireError("tcp: option \(kind) without length") }
            let len = Int(b[i + 1])
            guard len >= 2, i + len <= end else { throw WireError("tcp: option \(kind) has bad length \(len)") }
            let data = Array(b[(i + 2)..<(i + len)])
            switch (kind, len) {
            case (kindMSS, 4): opts.append(.mss(b.u16(at: i + 2)))
            case (kindWindowScale, 3): opts.append(.windowScale(b[i + 2]))
            case (kindSackPermitted, 2): opts.append(.sackPermitted)
            case (kindTimestamp, 10): opts.append(.timestamp(value: b.u32(at: i + 2), echoReply: b.u32(at: i + 6)))
            case (kindSack, _) where (len - 2) % 8 == 0 && len > 2:
                var blocks: [TCPSackBlock] = []
                var k = i + 2
                while k < i + len {
                    blocks.append(TCPSackBlock(start: b.u32(at: k), end: b.u32(at: k + 4)))
                    k += 8
                }
                opts.append(.sack(blocks))
            default: opts.append(.unknown(kind: kind, data: data))
            }
            i += len
        }
        return opts
    }
}

public struct TCPHeader: Equatable, Sendable {
    public static let minimumLength = 20

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    public var checksum: UInt16 = 0
    public var urgentPointer: UInt16 = 0
    /// The three reserved bits and the AccECN bit (byte 12's low nibble), kept as read.
    public var reserved: UInt8 = 0
    public var options: [TCPOption]

    public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32, acknowledgment: UInt32 = 0,
                flags: TCPFlags, window: UInt16, options: [TCPOption] = [], urgentPointer: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.options = options
        self.urgentPointer = urgentPointer
    }

    /// Options bytes before padding.
    public var optionsLength: Int { options.reduce(0) { $0 + $1.length } }
    /// Header bytes including options padded to 32 bits (the data offset times 4).
    public var headerLength: Int { TCPHeader.minimumLength + (optionsLength + 3) / 4 * 4 }

    /// Parses the header at `o` of a segment ending at `end`; the payload is b[o+headerLength..<end].
    public static func parse(_ b: [UInt8], at o: Int = 0, end: Int? = nil) throws -> TCPHeader {
        let e = end ?? b.count
        guard e <= b.count else { throw WireError("tcp: segment end \(e) past buffer (\(b.count))") }
        guard e - o >= minimumLength else { throw WireError("tcp: truncated header") }
        let doff = Int(b[o + 12] >> 4) * 4
        guard doff >= minimumLength else { throw WireError("tcp: data offset \(doff) < 20") }
        guard o + doff <= e else { throw WireError("tcp: data offset \(doff) past segment end") }
        var h = TCPHeader(sourcePort: b.u16(at: o), destinationPort: b.u16(at: o + 2),
                          sequence: b.u32(at: o + 4), acknowledgment: b.u32(at: o + 8),
                          flags: TCPFlags(rawValue: b[o + 13]), window: b.u16(at: o + 14),
                          options: try TCPOption.parseList(b, from: o + minimumLength, to: o + doff))
        h.reserved = b[o + 12] & 0x0f
        h.checksum = b.u16(at: o + 16)
        h.urgentPointer = b.u16(at: o + 18)
        return h
    }

    /// Writes the header at `o` with the `checksum` field as it is (see `TCPChecksum.fill`).
    public func emit(into b: inout [UInt8], at o: Int = 0) {
        let hl = headerLength
        b.setU16(sourcePort, at: o)
        b.setU16(destinationPort, at: o + 2)
        b.setU32(sequence, at: o + 4)
        b.setU32(acknowledgment, at: o + 8)
        b[o + 12] = UInt8(hl / 4) << 4 | (reserved & 0x0f)
        b[o + 13] = flags.rawValue
        b.setU16(window, at: o + 14)
        b.setU16(checksum, at: o + 16)
        b.setU16(urgentPointer, at: o + 18)
        var i = o + TCPHeader.minimumLength
        for opt in options {
            opt.write(into: &b, at: i)
            i += opt.length
        }
        while i < o + hl { b[i] = 0; i += 1 }
    }

    /// Header, payload and a checksum for the given addresses: a whole segment.
    public func segment(payload: [UInt8], source: IPv4Address, destination: IPv4Address,
                        checksum mode: TCPChecksum.Mode = .full) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: headerLength + payload.count)
        emit(into: &b)
        for (k, x) in payload.enumerated() { b[headerLength + k] = x }
        TCPChecksum.fill(&b, at: 0, length: b.count, source: source, destination: destination, mode: mode)
        return b
    }

    // MARK: - Option accessors

    public var mss: UInt16? {
        for case .mss(let v) in options { return v }
        return nil
    }
    public var windowScale: UInt8? {
        for case .windowScale(let v) in options { return v }
        return nil
    }
    public var sackPermitted: Bool { options.contains(.sackPermitted) }
    public var timestamp: (value: UInt32, echoReply: UInt32)? {
        for case .timestamp(let v, let e) in options { return (v, e) }
        return nil
    }
}

/// The TCP checksum over the IPv4 pseudo header (RFC 9293 3.1).
public enum TCPChecksum {
    public enum Mode: Sendable {
        /// The complete checksum (what software checksumming writes).
        case full
        /// Only the folded pseudo-header sum, as __tcp_v4_send_check() leaves it for a device
        /// with checksum offload (skb->ip_summed == CHECKSUM_PARTIAL).
        case partial
    }

    public enum Status: Equatable, Sendable {
        case valid
        /// The field holds the pseudo-header sum of an offloaded checksum.
        case partial
        case bad
    }

    public static func pseudoSum(source: IPv4Address, destination: IPv4Address, length: Int) -> UInt32 {
        IPv4Header.pseudoHeaderSum(source: source, destination: destination, proto: .tcp, length: length)
    }

    /// The folded pseudo-header sum, the value a CHECKSUM_PARTIAL segment carries.
    public static func partialValue(source: IPv4Address, destination: IPv4Address, length: Int) -> UInt16 {
        var s = pseudoSum(source: source, destination: destination, length: length)
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return UInt16(s)
    }

    /// The checksum of `b[o..<o+length]` (its checksum field taken as zero).
    public static func compute(_ b: [UInt8], at o: Int, length: Int, source: IPv4Address, destination: IPv4Address) -> UInt16 {
        var s = InternetChecksum.sum(b, o..<(o + 16), initial: pseudoSum(source: source, destination: destination, length: length))
        s = InternetChecksum.sum(b, (o + 18)..<(o + length), initial: s)
        return ~UInt16(truncatingIfNeeded: s)
    }

    /// Writes the checksum field of the segment at `o`.
    public static func fill(_ b: inout [UInt8], at o: Int, length: Int, source: IPv4Address, destination: IPv4Address, mode: Mode = .full) {
        let v: UInt16
        switch mode {
        case .full: v = compute(b, at: o, length: length, source: source, destination: destination)
        case .partial: v = partialValue(source: source, destination: destination, length: length)
        }
        b.setU16(v, at: o + 16)
    }

    /// What the receive path makes of the checksum field (tcp_v4_rcv's checksum init).
    public static func status(_ b: [UInt8], at o: Int, length: Int, source: IPv4Address, destination: IPv4Address) -> Status {
        let field = b.u16(at: o + 16)
        if InternetChecksum.verify(b, o..<(o + length), initial: pseudoSum(source: source, destination: destination, length: length)) {
            return .valid
        }
        if field == partialValue(source: source, destination: destination, length: length) { return .partial }
        return .bad
    }
}

/// In-place access to a TCP header inside a buffer (NAT rewrites ports and sequence numbers
/// and patches the checksum incrementally, as inet_proto_csum_replace*() does). `partial`
/// says the field holds a CHECKSUM_PARTIAL pseudo-header sum: then only pseudo-header
/// changes (addresses) touch it.
public enum TCPView {
    @inlinable public static func sourcePort(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o) }
    @inlinable public static func destinationPort(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o + 2) }
    @inlinable public static func sequence(_ b: [UInt8], at o: Int) -> UInt32 { b.u32(at: o + 4) }
    @inlinable public static func acknowledgment(_ b: [UInt8], at o: Int) -> UInt32 { b.u32(at: o + 8) }
    @inlinable public static func headerLength(_ b: [UInt8], at o: Int) -> Int { Int(b[o + 12] >> 4) * 4 }
    @inlinable public static func flags(_ b: [UInt8], at o: Int) -> TCPFlags { TCPFlags(rawValue: b[o + 13]) }
    @inlinable public static func window(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o + 14) }
    @inlinable public static func checksum(_ b: [UInt8], at o: Int) -> UInt16 { b.u16(at: o + 16) }

    static func replace16(_ b: inout [UInt8], at o: Int, field: Int, _ v: UInt16, partial: Bool) {
        let old = b.u16(at: o + field)
        b.setU16(v, at: o + field)
        if !partial { b.setU16(InternetChecksum.update(b.u16(at: o + 16), old: old, new: v), at: o + 16) }
    }

    static func replace32(_ b: inout [UInt8], at o: Int, field: Int, _ v: UInt32, partial: Bool) {
        let old = b.u32(at: o + field)
        b.setU32(v, at: o + field)
        if !partial { b.setU16(InternetChecksum.update(b.u16(at: o + 16), old: old, new: v), at: o + 16) }
    }

    public static func setSourcePort(_ b: inout [UInt8], at o: Int, _ p: UInt16, partial: Bool = false) {
        replace16(&b, at: o, field: 0, p, partial: partial)
    }
    public static func setDestinationPort(_ b: inout [UInt8], at o: Int, _ p: UInt16, partial: Bool = false) {
        replace16(&b, at: o, field: 2, p, partial: partial)
    }
    public static func setSequence(_ b: inout [UInt8], at o: Int, _ v: UInt32, partial: Bool = false) {
        replace32(&b, at: o, field: 4, v, partial: partial)
    }
    public static func setAcknowledgment(_ b: inout [UInt8], at o: Int, _ v: UInt32, partial: Bool = false) {
        replace32(&b, at: o, field: 8, v, partial: partial)
    }

    /// The checksum after an address of the pseudo header changed from `old` to `new` (the
    /// IP header itself is patched by IPv4View). A partial checksum is a plain sum, so it
    /// moves the other way round from a complemented one.
    public static func addressChanged(_ b: inout [UInt8], at o: Int, old: IPv4Address, new: IPv4Address, partial: Bool = false) {
        let c = b.u16(at: o + 16)
        if partial {
            b.setU16(~InternetChecksum.update(~c, old: old.raw, new: new.raw), at: o + 16)
        } else {
            b.setU16(InternetChecksum.update(c, old: old.raw, new: new.raw), at: o + 16)
        }
    }
}
