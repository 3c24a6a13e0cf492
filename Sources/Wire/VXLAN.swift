// VXLAN (RFC 7348) as real bytes: the 8-byte header that follows the outer UDP header and
// precedes the inner Ethernet frame: flags (the I bit says the VNI is valid), 24 reserved bits,
// the 24-bit VNI, 8 reserved bits.
// Guarantees: parse checks only that the 8 bytes are there (a receiver decides what a missing
// I bit or a set reserved bit means: vxlan_rcv() drops both); emit writes exactly 8 bytes,
// reserved bits included, as the fields hold them; a VNI wider than 24 bits is cut to 24 bits.
// Leaves out: the GBP and GPE extensions and remote checksum offload (they reuse reserved bits).

/// Well-known VXLAN UDP ports.
public enum VXLANPort {
    /// The IANA assignment (RFC 7348), what tcpdump decodes as VXLAN.
    public static let iana: UInt16 = 4789
    /// Linux's default when `dstport` is not given (the vxlan module's udp_port parameter,
    /// kept for early adopters); flannel uses it too. tcpdump decodes it as OTV.
    public static let linux: UInt16 = 8472
}

/// The VXLAN header as fields.
public struct VXLANHeader: Equatable, Sendable {
    public static let length = 8
    /// The I flag: the VNI field is valid (Kernel: VXLAN_HF_VNI).
    public static let flagVNI: UInt8 = 0x08
    /// The largest VNI (Kernel: VXLAN_N_VID - 1).
    public static let maxVNI: UInt32 = 0xff_ffff

    public var flags: UInt8
    /// The 24 bits between the flags and the VNI (reserved, sent as 0).
    public var reserved1: UInt32
    /// The 24-bit VXLAN network identifier.
    public var vni: UInt32
    /// The last byte (reserved, sent as 0).
    public var reserved2: UInt8

    public init(vni: UInt32, flags: UInt8 = VXLANHeader.flagVNI, reserved1: UInt32 = 0, reserved2: UInt8 = 0) {
        self.flags = flags
        self.reserved1 = reserved1 & 0xff_ffff
        self.vni = vni & VXLANHeader.maxVNI
        self.reserved2 = reserved2
    }

    /// True when the I flag is set.
    public var hasVNI: Bool { flags & VXLANHeader.flagVNI != 0 }

    /// Parses the header at `o`; throws when fewer than 8 bytes are left.
    public static func parse(_ b: [UInt8], at o: Int = 0) throws -> VXLANHeader {
        guard o >= 0, b.count - o >= length else { throw WireError("vxlan: truncated header") }
        let w0 = b.u32(at: o), w1 = b.u32(at: o + 4)
        return VXLANHeader(vni: w1 >> 8, flags: UInt8(w0 >> 24), reserved1: w0 & 0xff_ffff,
                           reserved2: UInt8(truncatingIfNeeded: w1))
    }

    /// Writes the 8 header bytes at `o`.
    public func emit(into b: inout [UInt8], at o: Int = 0) {
        b.setU32(UInt32(flags) << 24 | reserved1 & 0xff_ffff, at: o)
        b.setU32((vni & VXLANHeader.maxVNI) << 8 | UInt32(reserved2), at: o + 4)
    }

    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: VXLANHeader.length)
        emit(into: &b)
        return b
    }
}

/// In-place access to a VXLAN header inside a buffer (callers check the 8 bytes are there).
public enum VXLANView {
    @inlinable public static func flags(_ b: [UInt8], at o: Int) -> UInt8 { b[o] }
    @inlinable public static func vni(_ b: [UInt8], at o: Int) -> UInt32 { b.u32(at: o + 4) >> 8 }
    /// The reserved bits of both words (Kernel: what cfg.reserved_bits does not allow).
    @inlinable public static func reservedBits(_ b: [UInt8], at o: Int) -> (flags: UInt32, vni: UInt32) {
        (b.u32(at: o) & ~(UInt32(VXLANHeader.flagVNI) << 24), b.u32(at: o + 4) & 0xff)
    }
}
