// IPv4Header and IPv4View: the four byte-level tests, the checks ip_rcv_core() relies on, and the
// incremental checksum patches of the forwarding and NAT paths against a full recomputation.

import XCTest
import Wire

final class IPv4HeaderTests: XCTestCase {
    /// IPv4 header of the captured echo request: tos 0, len 84, id 36090, DF, ttl 64, ICMP, 0x5585.
    static let requestHeader: [UInt8] = [
        0x45, 0x00, 0x00, 0x54, 0x8c, 0xfa, 0x40, 0x00, 0x40, 0x01, 0x55, 0x85,
        0xac, 0x12, 0x00, 0x02, 0xac, 0x12, 0x00, 0x03,
    ]
    /// IPv4 header of the captured echo reply: id 27459, no DF, checksum 0xb73c.
    static let replyHeader: [UInt8] = [
        0x45, 0x00, 0x00, 0x54, 0x6b, 0x43, 0x00, 0x00, 0x40, 0x01, 0xb7, 0x3c,
        0xac, 0x12, 0x00, 0x03, 0xac, 0x12, 0x00, 0x02,
    ]
    /// A hand-made middle fragment: UDP, len 1500, id 0x1c46, MF, offset 1480 (185 units),
    /// 192.168.0.1 > 192.168.0.199; checksum 0xb5f9 computed independently (Python).
    static let fragmentHeader: [UInt8] = [
        0x45, 0x00, 0x05, 0xdc, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x11, 0xb5, 0xf9,
        0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ]
    /// A hand-made IGMP header with one option word (Router Alert 94 04 00 00): IHL 6, tos 0xc0,
    /// len 32, DF, ttl 1, 10.0.0.1 > 224.0.0.22; checksum 0xfa00 computed independently (Python).
    static let optionsHeader: [UInt8] = [
        0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xfa, 0x00,
        0x0a, 0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00,
    ]

    func testFixturesAreTheCapturedBytes() {
        XCTAssertEqual(Array(Captured.echoRequest1[14..<34]), Self.requestHeader)
        XCTAssertEqual(Array(Captured.echoReply1[14..<34]), Self.replyHeader)
    }

    // MARK: - bytes -> fields

    func testRequestBytesToFields() throws {
        let (h, ok) = try IPv4Header.parse(Captured.echoRequest1, at: 14)
        XCTAssertTrue(ok)
        XCTAssertEqual(h.headerLength, 20)
        XCTAssertEqual(h.tos, 0)
        XCTAssertEqual(h.totalLength, 84)
        XCTAssertEqual(h.identification, 36090)
        XCTAssertEqual(h.flagsAndOffset, 0x4000)
        XCTAssertTrue(h.dontFragment)
        XCTAssertFalse(h.moreFragments)
        XCTAssertEqual(h.fragmentOffset, 0)
        XCTAssertFalse(h.isFragment)
        XCTAssertEqual(h.ttl, 64)
        XCTAssertEqual(h.proto, .icmp)
        XCTAssertEqual(h.checksum, 0x5585)
        XCTAssertEqual(h.source.description, "172.18.0.2")
        XCTAssertEqual(h.destination.description, "172.18.0.3")
        XCTAssertEqual(h.options, [])
    }

    func testReplyBytesToFields() throws {
        let (h, ok) = try IPv4Header.parse(Self.replyHeader)
        XCTAssertTrue(ok)
        XCTAssertEqual(h.tos, 0)
        XCTAssertEqual(h.totalLength, 84)
        XCTAssertEqual(h.identification, 27459)
        XCTAssertEqual(h.flagsAndOffset, 0)
        XCTAssertFalse(h.dontFragment)
        XCTAssertEqual(h.ttl, 64)
        XCTAssertEqual(h.proto.rawValue, 1)
        XCTAssertEqual(h.checksum, 0xb73c)
        XCTAssertEqual(h.source, IPv4Address(172, 18, 0, 3))
        XCTAssertEqual(h.destination, IPv4Address(172, 18, 0, 2))
    }

    func testAllCapturedIPv4HeadersVerify() throws {
        let frames = [Captured.echoRequest1, Captured.echoReply1, Captured.echoRequest2, Captured.echoReply2,
                      Captured.echoRequest3, Captured.echoReply3, Captured.timeExceeded, Captured.hostUnreachable]
        let ids: [UInt16] = [36090, 27459, 36139, 27706, 36157, 27846, 17129, 32025]
        for (f, id) in zip(frames, ids) {
            let (h, ok) = try IPv4Header.parse(f, at: 14)
            XCTAssertTrue(ok, "id \(id)")
            XCTAssertEqual(h.identification, id)
            XCTAssertEqual(Int(h.totalLength), f.count - 14)
        }
    }

    func testFragmentBytesToFields() throws {
        let (h, ok) = try IPv4Header.parse(Self.fragmentHeader)
        XCTAssertTrue(ok)
        XCTAssertEqual(h.totalLength, 1500)
        XCTAssertEqual(h.identification, 0x1c46)
        XCTAssertEqual(h.flagsAndOffset, 0x20b9)
        XCTAssertFalse(h.dontFragment)
        XCTAssertTrue(h.moreFragments)
        XCTAssertEqual(h.fragmentOffset, 1480)
        XCTAssertTrue(h.isFragment)
        XCTAssertEqual(h.proto, .udp)
        XCTAssertEqual(h.checksum, 0xb5f9)
        // The last fragment: no MF but an offset is still a fragment.
        var last = Self.fragmentHeader
        last[6] = 0x00
        XCTAssertTrue(try IPv4Header.parse(last).header.isFragment)
        XCTAssertFalse(try IPv4Header.parse(last).header.moreFragments)
        XCTAssertFalse(try IPv4Header.parse(last).checksumOK)
    }

    func testOptionsBytesToFields() throws {
        let (h, ok) = try IPv4Header.parse(Self.optionsHeader)
        XCTAssertTrue(ok)
        XCTAssertEqual(h.headerLength, 24)
        XCTAssertEqual(h.options, [0x94, 0x04, 0x00, 0x00])
        XCTAssertEqual(h.tos, 0xc0)
        XCTAssertEqual(h.totalLength, 32)
        XCTAssertTrue(h.dontFragment)
        XCTAssertEqual(h.ttl, 1)
        XCTAssertEqual(h.proto, .igmp)
        XCTAssertEqual(h.checksum, 0xfa00)
        XCTAssertEqual(h.source, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(h.destination, IPv4Address(224, 0, 0, 22))
    }

    // MARK: - fields -> bytes

    func testFieldsToBytes() {
        var h = IPv4Header(totalLength: 84, identification: 36090, dontFragment: true, ttl: 64, proto: .icmp,
                           source: IPv4Address(172, 18, 0, 2), destination: IPv4Address(172, 18, 0, 3))
        var b = [UInt8](repeating: 0, count: 20)
        h.emit(into: &b)
        XCTAssertEqual(b, Self.requestHeader)
        XCTAssertEqual(h.checksum, 0x5585, "emit stores the checksum it wrote")

        var r = IPv4Header(totalLength: 84, identification: 27459, proto: .icmp,
                           source: IPv4Address(172, 18, 0, 3), destination: IPv4Address(172, 18, 0, 2))
        b = [UInt8](repeating: 0, count: 20)
        r.emit(into: &b)
        XCTAssertEqual(b, Self.replyHeader)
    }

    func testFieldsToBytesFragmentAndOptions() {
        var f = IPv4Header(totalLength: 1500, identification: 0x1c46, proto: .udp,
                           source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 199))
        f.flagsAndOffset = IPv4Header.flagMF | 185
        var b = [UInt8](repeating: 0, count: 20)
        f.emit(into: &b)
        XCTAssertEqual(b, Self.fragmentHeader)

        var o = IPv4Header(totalLength: 32, dontFragment: true, ttl: 1, proto: .igmp,
                           source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(224, 0, 0, 22), tos: 0xc0)
        o.options = [0x94, 0x04, 0x00, 0x00]
        b = [UInt8](repeating: 0, count: 24)
        o.emit(into: &b)
        XCTAssertEqual(b, Self.optionsHeader)
    }

    func testEmitIgnoresAStaleChecksumField() throws {
        // The value's checksum is recomputed, never copied.
        var h = try IPv4Header.parse(Self.requestHeader).header
        h.checksum = 0x1234
        h.ttl = 63
        var b = [UInt8](repeating: 0, count: 20)
        h.emit(into: &b)
        XCTAssertEqual(b.u16(at: 10), 0x5685)
        XCTAssertEqual(h.checksum, 0x5685)
    }

    // MARK: - parse: round trip and errors

    func testParseEmitRoundTrip() throws {
        for bytes in [Self.requestHeader, Self.replyHeader, Self.fragmentHeader, Self.optionsHeader] {
            var (h, ok) = try IPv4Header.parse(bytes)
            XCTAssertTrue(ok)
            var b = [UInt8](repeating: 0, count: bytes.count)
            h.emit(into: &b)
            XCTAssertEqual(b, bytes)
        }
    }

    func testTruncatedThrows() {
        assertWireError("ip: truncated header") { try IPv4Header.parse(Array(Self.requestHeader[0..<19])) }
        assertWireError("ip: truncated header") { try IPv4Header.parse(Captured.echoRequest1, at: 80) }
        assertWireError("ip: truncated options") { try IPv4Header.parse(Array(Self.optionsHeader[0..<23])) }
    }

    func testBadVersionThrows() {
        var b = Self.requestHeader
        b[0] = 0x65
        assertWireError("ip: version 6") { try IPv4Header.parse(b) }
        b[0] = 0x05
        assertWireError("ip: version 0") { try IPv4Header.parse(b) }
    }

    func testHeaderLengthBelowFiveWordsThrows() {
        var b = Self.requestHeader
        b[0] = 0x44
        assertWireError("ip: bad header length 16") { try IPv4Header.parse(b) }
        b[0] = 0x40
        assertWireError("ip: bad header length 0") { try IPv4Header.parse(b) }
    }

    func testTotalLengthBelowHeaderLengthThrows() {
        var b = Self.requestHeader
        b[2] = 0; b[3] = 19
        assertWireError("ip: total length 19 < header length 20") { try IPv4Header.parse(b) }
        b = Self.optionsHeader
        b[2] = 0; b[3] = 20
        assertWireError("ip: total length 20 < header length 24") { try IPv4Header.parse(b) }
    }

    func testBadChecksumParsesButIsReported() throws {
        var b = Self.requestHeader
        b[11] ^= 0x01
        let (h, ok) = try IPv4Header.parse(b)
        XCTAssertFalse(ok)
        XCTAssertEqual(h.checksum, 0x5584)
        // A changed field under an unchanged checksum is also caught (here: the TTL).
        b = Self.requestHeader
        b[8] = 63
        XCTAssertFalse(try IPv4Header.parse(b).checksumOK)
    }

    func testParseIsHeaderOnly() throws {
        // The header of an 84-byte datagram parses from its 20 bytes alone: quoted headers in ICMP
        // errors may be cut short, and ip_rcv checks the total length against the packet itself.
        let (h, ok) = try IPv4Header.parse(Self.requestHeader)
        XCTAssertTrue(ok)
        XCTAssertEqual(h.totalLength, 84)
    }

    func testUnknownProtocolStillParses() throws {
        var h = try IPv4Header.parse(Self.requestHeader).header
        h.proto = IPProtocol(rawValue: 253)
        var b = [UInt8](repeating: 0, count: 20)
        h.emit(into: &b)
        let (back, ok) = try IPv4Header.parse(b)
        XCTAssertTrue(ok)
        XCTAssertEqual(back.proto.rawValue, 253)
        XCTAssertEqual(IPProtocol.tcp.rawValue, 6)
        XCTAssertEqual(IPProtocol.gre.rawValue, 47)
    }

    // MARK: - emit into a canary buffer

    func testEmitWritesExactlyTheHeader() throws {
        for bytes in [Self.requestHeader, Self.replyHeader, Self.fragmentHeader, Self.optionsHeader] {
            var h = try IPv4Header.parse(bytes).header
            var b = canaryBuffer(14 + bytes.count + 9)
            h.emit(into: &b, at: 14)
            assertEmitted(b, at: 14, equals: bytes, totalCount: 14 + bytes.count + 9)
        }
    }

    // MARK: - pseudo-header

    func testPseudoHeaderSumGivesTheUDPChecksum() {
        // UDP 12345 > 53, length 12, payload "ping", 192.168.0.1 > 192.168.0.199: checksum 0x6e7e
        // (computed independently with Python over pseudo-header + datagram).
        let udp: [UInt8] = [0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x70, 0x69, 0x6e, 0x67]
        let ph = IPv4Header.pseudoHeaderSum(source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 199),
                                            proto: .udp, length: udp.count)
        XCTAssertEqual(ph, 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 12)
        XCTAssertEqual(InternetChecksum.checksum(udp, 0..<udp.count, initial: ph), 0x6e7e)
        var withSum = udp
        withSum.setU16(0x6e7e, at: 6)
        XCTAssertTrue(InternetChecksum.verify(withSum, 0..<udp.count, initial: ph))
    }
}

final class IPv4ViewTests: XCTestCase {
    /// Full recomputation with the independent reference, for comparison with the patched value.
    func fullChecksum(_ b: [UInt8], at o: Int) -> UInt16 {
        var c = b
        let ihl = Int(b[o] & 0x0f) * 4
        c[o + 10] = 0; c[o + 11] = 0
        return referenceChecksum(c[o..<(o + ihl)])
    }

    func testGettersOnTheCapturedFrame() {
        let f = Captured.echoRequest1
        XCTAssertEqual(IPv4View.headerLength(f, at: 14), 20)
        XCTAssertEqual(IPv4View.totalLength(f, at: 14), 84)
        XCTAssertEqual(IPv4View.ttl(f, at: 14), 64)
        XCTAssertEqual(IPv4View.proto(f, at: 14), .icmp)
        XCTAssertEqual(IPv4View.source(f, at: 14), IPv4Address(172, 18, 0, 2))
        XCTAssertEqual(IPv4View.destination(f, at: 14), IPv4Address(172, 18, 0, 3))
        XCTAssertEqual(IPv4View.headerLength(IPv4HeaderTests.optionsHeader, at: 0), 24)
    }

    // MARK: - decrementTTL

    func testDecrementTTLOnTheCapturedRequest() {
        var f = Captured.echoRequest1
        IPv4View.decrementTTL(&f, at: 14)
        XCTAssertEqual(f[22], 63)
        XCTAssertEqual(f.u16(at: 24), 0x5685) // 0x5585 + 0x0100
        XCTAssertEqual(f.u16(at: 24), fullChecksum(f, at: 14))
        // Only the TTL and the checksum changed.
        for i in 0..<f.count where ![22, 24, 25].contains(i) {
            XCTAssertEqual(f[i], Captured.echoRequest1[i], "byte \(i)")
        }
        XCTAssertTrue(InternetChecksum.verify(f, 14..<34))
    }

    func testDecrementTTLToAZeroChecksum() {
        // RFC 1624's corner: the new checksum is 0x0000, which eqn. 2 would give as 0xffff.
        // Both headers and checksums computed independently (Python); id chosen to hit the corner.
        var b: [UInt8] = [0x45, 0x00, 0x00, 0x54, 0xe3, 0x7f, 0x40, 0x00, 0x40, 0x01, 0xfe, 0xff,
                          0xac, 0x12, 0x00, 0x02, 0xac, 0x12, 0x00, 0x03]
        IPv4View.decrementTTL(&b, at: 0)
        XCTAssertEqual(b, [0x45, 0x00, 0x00, 0x54, 0xe3, 0x7f, 0x40, 0x00, 0x3f, 0x01, 0x00, 0x00,
                           0xac, 0x12, 0x00, 0x02, 0xac, 0x12, 0x00, 0x03])
    }

    func testDecrementTTLEqualsRecomputationForEveryTTL() throws {
        for start in [Self.header(Captured.echoRequest1), Self.header(Captured.echoReply1),
                      Self.header(Captured.timeExceeded), IPv4HeaderTests.optionsHeader, IPv4HeaderTests.fragmentHeader] {
            for ttl in 1...255 {
                var b = start
                b[8] = UInt8(ttl)
                b.setU16(fullChecksum(b, at: 0), at: 10)
                IPv4View.decrementTTL(&b, at: 0)
                XCTAssertEqual(b[8], UInt8(ttl - 1))
                XCTAssertEqual(b.u16(at: 10), fullChecksum(b, at: 0), "ttl \(ttl)")
            }
        }
    }

    func testDecrementTTLOnSeededRandomHeaders() {
        var rng = SplitMix64(seed: 0x7711)
        for _ in 0..<2000 {
            var b = (0..<20).map { _ in rng.byte() }
            b[0] = 0x45
            if b[8] == 0 { b[8] = 1 }
            b.setU16(fullChecksum(b, at: 0), at: 10)
            IPv4View.decrementTTL(&b, at: 0)
            XCTAssertEqual(b.u16(at: 10), fullChecksum(b, at: 0))
        }
    }

    // MARK: - setSource / setDestination

    func testSetSourceOnTheCapturedRequest() {
        var f = Captured.echoRequest1
        IPv4View.setSource(&f, at: 14, IPv4Address(198, 51, 100, 1))
        XCTAssertEqual(Array(f[26..<30]), [198, 51, 100, 1])
        XCTAssertEqual(f.u16(at: 24), fullChecksum(f, at: 14))
        XCTAssertTrue(InternetChecksum.verify(f, 14..<34))
        for i in 0..<f.count where !(24..<30).contains(i) {
            XCTAssertEqual(f[i], Captured.echoRequest1[i], "byte \(i)")
        }
    }

    func testSetDestinationOnTheCapturedReply() {
        var f = Captured.echoReply1
        IPv4View.setDestination(&f, at: 14, IPv4Address(10, 99, 0, 2))
        XCTAssertEqual(Array(f[30..<34]), [10, 99, 0, 2])
        XCTAssertEqual(f.u16(at: 24), fullChecksum(f, at: 14))
        XCTAssertTrue(InternetChecksum.verify(f, 14..<34))
        for i in 0..<f.count where !([24, 25].contains(i) || (30..<34).contains(i)) {
            XCTAssertEqual(f[i], Captured.echoReply1[i], "byte \(i)")
        }
    }

    func testAddressRewritesToAZeroChecksum() {
        // Literal before/after pairs whose new checksum is 0x0000 (computed independently, Python).
        var s: [UInt8] = [0x45, 0x00, 0x00, 0x54, 0x84, 0x93, 0x40, 0x00, 0x40, 0x01, 0x5d, 0xec,
                          0xac, 0x12, 0x00, 0x02, 0xac, 0x12, 0x00, 0x03]
        IPv4View.setSource(&s, at: 0, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(s, [0x45, 0x00, 0x00, 0x54, 0x84, 0x93, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
                           0x0a, 0x00, 0x00, 0x01, 0xac, 0x12, 0x00, 0x03])
        var d: [UInt8] = [0x45, 0x00, 0x00, 0x54, 0xcc, 0xeb, 0x40, 0x00, 0x40, 0x01, 0x15, 0x94,
                          0xac, 0x12, 0x00, 0x02, 0xac, 0x12, 0x00, 0x03]
        IPv4View.setDestination(&d, at: 0, IPv4Address(192, 168, 1, 1))
        XCTAssertEqual(d, [0x45, 0x00, 0x00, 0x54, 0xcc, 0xeb, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
                           0xac, 0x12, 0x00, 0x02, 0xc0, 0xa8, 0x01, 0x01])
    }

    func testAddressRewritesOnSeededRandomHeaders() {
        var rng = SplitMix64(seed: 0x5a7)
        for _ in 0..<2000 {
            var b = (0..<20).map { _ in rng.byte() }
            b[0] = 0x45
            b.setU16(fullChecksum(b, at: 0), at: 10)
            let a = IPv4Address(raw: UInt32(truncatingIfNeeded: rng.next()))
            if rng.next() & 1 == 0 {
                IPv4View.setSource(&b, at: 0, a)
                XCTAssertEqual(IPv4View.source(b, at: 0), a)
            } else {
                IPv4View.setDestination(&b, at: 0, a)
                XCTAssertEqual(IPv4View.destination(b, at: 0), a)
            }
            XCTAssertEqual(b.u16(at: 10), fullChecksum(b, at: 0))
        }
    }

    func testRewriteBackRestoresTheCapturedBytes() {
        var f = Captured.echoRequest1
        IPv4View.setSource(&f, at: 14, IPv4Address(203, 0, 113, 7))
        IPv4View.setDestination(&f, at: 14, IPv4Address(203, 0, 113, 8))
        IPv4View.setDestination(&f, at: 14, IPv4Address(172, 18, 0, 3))
        IPv4View.setSource(&f, at: 14, IPv4Address(172, 18, 0, 2))
        XCTAssertEqual(f, Captured.echoRequest1)
    }

    static func header(_ frame: [UInt8]) -> [UInt8] { Array(frame[14..<34]) }
}
