// Addresses: MAC and IPv4 addresses and prefixes, with the text forms the tools print and accept.
// Guarantees: parsing is strict (what inet_pton and ether_aton accept), printing is canonical.

/// A 48-bit IEEE 802 MAC address, stored in the low 48 bits.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt64

    @inlinable public init(raw: UInt64) { self.raw = raw & 0xffff_ffff_ffff }
    public init(bytes b: [UInt8], at i: Int = 0) {
        var v: UInt64 = 0
        for k in 0..<6 { v = v << 8 | UInt64(b[i + k]) }
        raw = v
    }

    /// Accepts "aa:bb:cc:dd:ee:ff" (hex digits, one or two per group), like ether_aton.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            // UInt8(_:radix:) alone would also take a sign ("+f", "-0"); ether_aton takes hex digits only.
            guard (1...2).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isHexDigit }),
                  let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        raw = v
    }

    public static let broadcast = MACAddress(raw: 0xffff_ffff_ffff)
    public static let zero = MACAddress(raw: 0)

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: raw >> (40 - 8 * UInt64($0))) } }
    @inlinable public var isBroadcast: Bool { raw == 0xffff_ffff_ffff }
    /// The I/G bit: group (multicast or broadcast) address.
    @inlinable public var isMulticast: Bool { raw & 0x0100_0000_0000 != 0 }
    @inlinable public var isZero: Bool { raw == 0 }

    public func write(into b: inout [UInt8], at i: Int) {
        for k in 0..<6 { b[i + k] = UInt8(truncatingIfNeeded: raw >> (40 - 8 * UInt64(k))) }
    }

    @inlinable public static func < (a: MACAddress, b: MACAddress) -> Bool { a.raw < b.raw }

    private static let hex: [Character] = Array("0123456789abcdef")
    public var description: String {
        var s = ""
        s.reserveCapacity(17)
        for k in 0..<6 {
            if k > 0 { s.append(":") }
            let byte = Int(truncatingIfNeeded: raw >> (40 - 8 * UInt64(k))) & 0xff
            s.append(MACAddress.hex[byte >> 4]); s.append(MACAddress.hex[byte & 0xf])
        }
        return s
    }

    /// A random unicast, locally administered address, as the kernel's eth_random_addr() makes.
    public static func random<R: RandomNumberGenerator>(using rng: inout R) -> MACAddress {
        var v = rng.next() & 0xffff_ffff_ffff
        v &= ~0x0100_0000_0000 // clear multicast
        v |= 0x0200_0000_0000  // set local assignment
        return MACAddress(raw: v)
    }
}

/// An IPv4 address in host order.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt32

    @inlinable public init(raw: UInt32) { self.raw = raw }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        raw = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    public init(bytes: [UInt8], at i: Int) { raw = bytes.u32(at: i) }

    /// Dotted quad, four decimal parts 0-255, as inet_pton(AF_INET) accepts.
    public init?(_ text: String) {
        var v: UInt32 = 0
        var parts = 0
        var cur: UInt32 = 0
        var digits = 0
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                v = v << 8 | cur; parts += 1; cur = 0; digits = 0
            } else if c >= 48 && c <= 57 {
                // inet_pton rejects a leading zero followed by more digits.
                if digits == 1 && cur == 0 { return nil }
                cur = cur * 10 + UInt32(c - 48); digits += 1
                guard cur <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        raw = v << 8 | cur
    }

    public static let any = IPv4Address(raw: 0)
    public static let broadcast = IPv4Address(raw: 0xffff_ffff)

    public var bytes: [UInt8] { [UInt8(raw >> 24), UInt8(truncatingIfNeeded: raw >> 16), UInt8(truncatingIfNeeded: raw >> 8), UInt8(truncatingIfNeeded: raw)] }
    @inlinable public var isMulticast: Bool { raw >> 28 == 0xe }
    @inlinable public var isLoopback: Bool { raw >> 24 == 127 }
    @inlinable public var isZero: Bool { raw == 0 }
    @inlinable public var isLimitedBroadcast: Bool { raw == 0xffff_ffff }

    public func write(into b: inout [UInt8], at i: Int) { b.setU32(raw, at: i) }

    @inlinable public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.raw < b.raw }

    public var description: String {
        "\(raw >> 24).\((raw >> 16) & 0xff).\((raw >> 8) & 0xff).\(raw & 0xff)"
    }
}

/// An address with a prefix length: "172.18.0.2/24". The address part keeps its host bits.
public struct IPv4Prefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var length: Int

    public init(address: IPv4Address, length: Int) {
        precondition((0...32).contains(length))
        self.address = address
        self.length = length
    }

    /// "A.B.C.D/N" or "A.B.C.D" (a /32), as iproute2 reads an address argument.
    public init?(_ text: String, defaultLength: Int = 32) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let a = IPv4Address(String(parts[0])) else { return nil }
        var len = defaultLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(parts[1]), (0...32).contains(n) else { return nil }
            len = n
        }
        address = a
        length = len
    }

    @inlinable public static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }
    public var netmask: IPv4Address { IPv4Address(raw: IPv4Prefix.mask(length)) }
    public var network: IPv4Address { IPv4Address(raw: address.raw & IPv4Prefix.mask(length)) }
    public var broadcast: IPv4Address { IPv4Address(raw: address.raw | ~IPv4Prefix.mask(length)) }
    /// The same prefix with host bits cleared.
    public var masked: IPv4Prefix { IPv4Prefix(address: network, length: length) }

    @inlinable public func contains(_ a: IPv4Address) -> Bool {
        let m = IPv4Prefix.mask(length)
        return a.raw & m == address.raw & m
    }

    public var description: String { "\(address)/\(length)" }
}
