// IGMP (RFC 3376 version 3 membership reports, RFC 2236 v2 messages): what Linux sends when a
// device joins a group (a bridge joins 224.0.0.106 when it comes up).
// Guarantees: parse/emit are inverses over the report and its group records; the checksum
// covers the whole message; unknown types parse with their body kept.

public struct IGMPType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let membershipQuery = IGMPType(rawValue: 0x11)
    public static let v1Report = IGMPType(rawValue: 0x12)
    public static let v2Report = IGMPType(rawValue: 0x16)
    public static let v2Leave = IGMPType(rawValue: 0x17)
    public static let v3Report = IGMPType(rawValue: 0x22)
}

/// One group record of a v3 report.
public struct IGMPv3GroupRecord: Equatable, Sendable {
    /// RFC 3376 4.2.12 record types.
    public enum Kind: UInt8, Sendable {
        case modeIsInclude = 1, modeIsExclude = 2, changeToInclude = 3, changeToExclude = 4
        case allowNewSources = 5, blockOldSources = 6
    }
    public var type: UInt8
    public var group: IPv4Address
    public var sources: [IPv4Address]
    public var auxData: [UInt8] = []

    public init(type: Kind, group: IPv4Address, sources: [IPv4Address] = []) {
        self.type = type.rawValue
        self.group = group
        self.sources = sources
    }

    public var length: Int { 8 + 4 * sources.count + auxData.count }
}

public struct IGMPv3Report: Equatable, Sendable {
    public var checksum: UInt16 = 0
    public var records: [IGMPv3GroupRecord]

    public init(records: [IGMPv3GroupRecord]) { self.records = records }

    public var length: Int { 8 + records.reduce(0) { $0 + $1.length } }

    public static func parse(_ b: [UInt8], at o: Int = 0, end: Int? = nil) throws -> (report: IGMPv3Report, checksumOK: Bool) {
        let e = end ?? b.count
        guard e - o >= 8 else { throw WireError("igmp: truncated header") }
        guard b[o] == IGMPType.v3Report.rawValue else { throw WireError("igmp: type 0x\(String(b[o], radix: 16)) is not a v3 report") }
        let n = Int(b.u16(at: o + 6))
        var records: [IGMPv3GroupRecord] = []
        var i = o + 8
        for _ in 0..<n {
            guard e - i >= 8 else { throw WireError("igmp: truncated group record") }
            let aux = Int(b[i + 1]) * 4, nsrc = Int(b.u16(at: i + 2))
            guard e - i >= 8 + 4 * nsrc + aux else { throw WireError("igmp: truncated group record") }
            var r = IGMPv3GroupRecord(type: .modeIsInclude, group: IPv4Address(bytes: b, at: i + 4),
                                      sources: (0..<nsrc).map { IPv4Address(bytes: b, at: i + 8 + 4 * $0) })
            r.type = b[i]
            r.auxData = Array(b[(i + 8 + 4 * nsrc)..<(i + 8 + 4 * nsrc + aux)])
            records.append(r)
            i += 8 + 4 * nsrc + aux
        }
        var rep = IGMPv3Report(records: records)
        rep.checksum = b.u16(at: o + 2)
        return (rep, InternetChecksum.verify(b, o..<e))
    }

    /// Writes the report at `o` with a freshly computed checksum.
    public mutating func emit(into b: inout [UInt8], at o: Int = 0) {
        b[o] = IGMPType.v3Report.rawValue
        b[o + 1] = 0
        b.setU16(0, at: o + 2)
        b.setU16(0, at: o + 4)
        b.setU16(UInt16(records.count), at: o + 6)
        var i = o + 8
        for r in records {
            b[i] = r.type
            b[i + 1] = UInt8(r.auxData.count / 4)
            b.setU16(UInt16(r.sources.count), at: i + 2)
            r.group.write(into: &b, at: i + 4)
            for (k, s) in r.sources.enumerated() { s.write(into: &b, at: i + 8 + 4 * k) }
            for (k, x) in r.auxData.enumerated() { b[i + 8 + 4 * r.sources.count + k] = x }
            i += r.length
        }
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

/// IPv4 option bytes the stack uses.
public enum IPv4Options {
    /// RFC 2113 Router Alert, value 0: "examine this packet" (carried by every IGMP message).
    public static let routerAlert: [UInt8] = [0x94, 0x04, 0x00, 0x00]
}
