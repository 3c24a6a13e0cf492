// Bytes: big-endian field access and the Internet checksum, shared by every header.
// Guarantees: reads are bounds-checked by the callers' length checks; writes never grow the buffer.

/// A malformed or truncated header.
public struct WireError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Array where Element == UInt8 {
    @inlinable public func u16(at i: Int) -> UInt16 { UInt16(self[i]) << 8 | UInt16(self[i + 1]) }
    @inlinable public func u32(at i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }
    @inlinable public mutating func setU16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(v >> 8); self[i + 1] = UInt8(truncatingIfNeeded: v)
    }
    @inlinable public mutating func setU32(_ v: UInt32, at i: Int) {
        self[i] = UInt8(v >> 24); self[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[i + 2] = UInt8(truncatingIfNeeded: v >> 8); self[i + 3] = UInt8(truncatingIfNeeded: v)
    }
    /// Writes `bytes` at `i`, growing the array only if it ends past the current end.
    @inlinable public mutating func write(_ bytes: [UInt8], at i: Int) {
        if i + bytes.count > count { append(contentsOf: repeatElement(0, count: i + bytes.count - count)) }
        for (k, b) in bytes.enumerated() { self[i + k] = b }
    }
}

/// RFC 1071 Internet checksum.
public enum InternetChecksum {
    /// One's-complement sum of 16-bit words of `bytes[range]`, folded, plus `initial`.
    @inlinable public static func sum(_ bytes: [UInt8], _ range: Range<Int>, initial: UInt32 = 0) -> UInt32 {
        var s = initial
        var i = range.lowerBound
        let end = range.upperBound
        while i + 1 < end {
            s &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < end { s &+= UInt32(bytes[i]) << 8 }
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return s
    }

    /// The checksum field value for `bytes[range]` (with the field itself zeroed by the caller).
    @inlinable public static func checksum(_ bytes: [UInt8], _ range: Range<Int>, initial: UInt32 = 0) -> UInt16 {
        ~UInt16(truncatingIfNeeded: sum(bytes, range, initial: initial))
    }

    /// True when the range, checksum field included, sums to 0xffff.
    @inlinable public static func verify(_ bytes: [UInt8], _ range: Range<Int>, initial: UInt32 = 0) -> Bool {
        sum(bytes, range, initial: initial) == 0xffff
    }

    /// RFC 1624 incremental update: the new checksum after a 16-bit word changes from old to new.
    @inlinable public static func update(_ check: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        var s = UInt32(~check) &+ UInt32(~old) &+ UInt32(new)
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return ~UInt16(s)
    }

    /// The incremental update for a changed 32-bit value (an address).
    @inlinable public static func update(_ check: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        let c = update(check, old: UInt16(old >> 16), new: UInt16(new >> 16))
        return update(c, old: UInt16(truncatingIfNeeded: old), new: UInt16(truncatingIfNeeded: new))
    }
}
