// ICMPv4Packet: the four byte-level tests over captured echo request/reply and error messages,
// and whole captured frames rebuilt from fields to the identical bytes.

import XCTest
import Wire

final class ICMPTests: XCTestCase {
    static let mac02 = MACAddress(raw: 0x0200_0000_0002)
    static let mac03 = MACAddress(raw: 0x0200_0000_0003)
    static let ip02 = IPv4Address(172, 18, 0, 2)
    static let ip03 = IPv4Address(172, 18, 0, 3)

    /// iputils ping's 56-byte payload: a little-endian struct timeval {u64 sec, u64 usec}, then
    /// byte i = i for i in 16..<56 (see the research notes, section 1c).
    static func pingPayload(sec: UInt64, usec: UInt64) -> [UInt8] {
        var p: [UInt8] = []
        for k in 0..<8 { p.append(UInt8(truncatingIfNeeded: sec >> (8 * UInt64(k)))) }
        for k in 0..<8 { p.append(UInt8(truncatingIfNeeded: usec >> (8 * UInt64(k)))) }
        for i in 16..<56 { p.append(UInt8(i)) }
        return p
    }

    /// The ICMP part (offset 34 on) of a captured frame.
    static func icmp(_ frame: [UInt8]) -> [UInt8] { Array(frame[34...]) }

    // MARK: - bytes -> fields

    func testEchoRequestBytesToFields() throws {
        let (m, ok) = try ICMPv4Packet.parse(Captured.echoRequest1, at: 34)
        XCTAssertTrue(ok)
        XCTAssertEqual(m.type, .echoRequest)
        XCTAssertEqual(m.type.rawValue, 8)
        XCTAssertEqual(m.code, 0)
        XCTAssertEqual(m.checksum, 0x1878)
        XCTAssertEqual(m.rest, 0x0e5d_0001)
        XCTAssertEqual(m.identifier, 3677)
        XCTAssertEqual(m.sequence, 1)
        XCTAssertEqual(m.length, 64)
        XCTAssertEqual(m.payload.count, 56)
        // tv_sec 0x6b0358d7 = 1795381463, tv_usec 889642, little-endian as the notes decode them.
        XCTAssertEqual(Array(m.payload[0..<8]), [0xd7, 0x58, 0x03, 0x6b, 0, 0, 0, 0])
        XCTAssertEqual(Array(m.payload[8..<16]), [0x2a, 0x93, 0x0d, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(m.payload[16...]), (16..<56).map { UInt8($0) })
        XCTAssertEqual(m.payload, Self.pingPayload(sec: 1_795_381_463, usec: 889_642))
        XCTAssertFalse(m.type.isError)
    }

    func testEchoReplyBytesToFields() throws {
        let (m, ok) = try ICMPv4Packet.parse(Captured.echoReply1, at: 34)
        XCTAssertTrue(ok)
        XCTAssertEqual(m.type, .echoReply)
        XCTAssertEqual(m.type.rawValue, 0)
        XCTAssertEqual(m.code, 0)
        XCTAssertEqual(m.checksum, 0x2078)
        XCTAssertEqual(m.identifier, 3677)
        XCTAssertEqual(m.sequence, 1)
        // The kernel copies identifier, sequence and the whole payload from the request.
        XCTAssertEqual(m.payload, Array(Captured.echoRequest1[42...]))
    }

    func testAllCapturedEchoesVerifyAndCarrySequences() throws {
        let pairs = [(Captured.echoRequest1, Captured.echoReply1),
                     (Captured.echoRequest2, Captured.echoReply2),
                     (Captured.echoRequest3, Captured.echoReply3)]
        for (k, (req, rep)) in pairs.enumerated() {
            let (q, qok) = try ICMPv4Packet.parse(req, at: 34)
            let (r, rok) = try ICMPv4Packet.parse(rep, at: 34)
            XCTAssertTrue(qok); XCTAssertTrue(rok)
            XCTAssertEqual(q.sequence, UInt16(k + 1))
            XCTAssertEqual(r.sequence, UInt16(k + 1))
            XCTAssertEqual(q.identifier, 3677)
            XCTAssertEqual(r.identifier, 3677)
            XCTAssertEqual(q.payload, r.payload)
        }
    }

    /// The reply checksum is the request's plus 0x0800 in one's complement: only the type byte
    /// changed (8 -> 0). Observed pairs: 0x1878 -> 0x2078, 0x8df6 -> 0x95f6, 0xc097 -> 0xc897.
    func testReplyChecksumIsRequestChecksumPlus0x0800() throws {
        let pairs = [(Captured.echoRequest1, Captured.echoReply1, UInt16(0x1878), UInt16(0x2078)),
                     (Captured.echoRequest2, Captured.echoReply2, UInt16(0x8df6), UInt16(0x95f6)),
                     (Captured.echoRequest3, Captured.echoReply3, UInt16(0xc097), UInt16(0xc897))]
        for (req, rep, qsum, rsum) in pairs {
            let q = try ICMPv4Packet.parse(req, at: 34).packet
            let r = try ICMPv4Packet.parse(rep, at: 34).packet
            XCTAssertEqual(q.checksum, qsum)
            XCTAssertEqual(r.checksum, rsum)
            XCTAssertEqual(onesComplementAdd(q.checksum, 0x0800), r.checksum)
            XCTAssertEqual(InternetChecksum.update(q.checksum, old: UInt16(0x0800), new: UInt16(0x0000)), r.checksum)
            // And a reply built from the request's fields gets the kernel's checksum.
            var reply = ICMPv4Packet.echo(request: false, identifier: q.identifier, sequence: q.sequence, payload: q.payload)
            XCTAssertEqual(reply.bytes, Self.icmp(rep))
            var b = [UInt8](repeating: 0, count: reply.length)
            reply.emit(into: &b)
            XCTAssertEqual(reply.checksum, rsum)
        }
    }

    func testTimeExceededBytesToFields() throws {
        let f = Captured.timeExceeded
        let (ip, ipok) = try IPv4Header.parse(f, at: 14)
        XCTAssertTrue(ipok)
        XCTAssertEqual(ip.tos, 0xc0)
        XCTAssertEqual(ip.totalLength, 112)
        XCTAssertEqual(ip.identification, 17129)
        XCTAssertEqual(ip.flagsAndOffset, 0)
        XCTAssertEqual(ip.ttl, 64)
        XCTAssertEqual(ip.proto, .icmp)
        XCTAssertEqual(ip.checksum, 0xddbf)
        XCTAssertEqual(ip.source, IPv4Address(172, 18, 0, 254))
        XCTAssertEqual(ip.destination, Self.ip02)

        let (m, ok) = try ICMPv4Packet.parse(f, at: 34, end: 14 + Int(ip.totalLength))
        XCTAssertTrue(ok)
        XCTAssertEqual(m.type, .timeExceeded)
        XCTAssertEqual(m.code, 0)
        XCTAssertEqual(m.checksum, 0xf4ff)
        XCTAssertEqual(m.rest, 0)
        XCTAssertEqual(m.length, 92)
        XCTAssertTrue(m.type.isError)
        XCTAssertEqual(m.payload.count, 84, "the whole original datagram is quoted")

        let (inner, innerOK) = try IPv4Header.parse(m.payload)
        XCTAssertTrue(innerOK)
        XCTAssertEqual(inner.tos, 0)
        XCTAssertEqual(inner.totalLength, 84)
        XCTAssertEqual(inner.identification, 35286)
        XCTAssertTrue(inner.dontFragment)
        XCTAssertEqual(inner.ttl, 1)
        XCTAssertEqual(inner.proto, .icmp)
        XCTAssertEqual(inner.checksum, 0x395a)
        XCTAssertEqual(inner.source, Self.ip02)
        XCTAssertEqual(inner.destination, IPv4Address(10, 99, 0, 2))

        let (echo, echoOK) = try ICMPv4Packet.parse(m.payload, at: inner.headerLength)
        XCTAssertTrue(echoOK)
        XCTAssertEqual(echo.type, .echoRequest)
        XCTAssertEqual(echo.checksum, 0x6fb3)
        XCTAssertEqual(echo.identifier, 6648)
        XCTAssertEqual(echo.sequence, 1)
        XCTAssertEqual(echo.payload, Self.pingPayload(sec: 0x6b03_59be, usec: 0x04_bbe9))
    }

    func testHostUnreachableBytesToFields() throws {
        let f = Captured.hostUnreachable
        let (ip, ipok) = try IPv4Header.parse(f, at: 14)
        XCTAssertTrue(ipok)
        XCTAssertEqual(ip.tos, 0xc0)
        XCTAssertEqual(ip.totalLength, 112)
        XCTAssertEqual(ip.identification, 32025)
        XCTAssertFalse(ip.dontFragment)
        XCTAssertEqual(ip.ttl, 64)
        XCTAssertEqual(ip.checksum, 0xa48b)
        XCTAssertEqual(ip.source, Self.ip02)
        XCTAssertEqual(ip.destination, Self.ip02)

        let (m, ok) = try ICMPv4Packet.parse(f, at: 34)
        XCTAssertTrue(ok)
        XCTAssertEqual(m.type, .destinationUnreachable)
        XCTAssertEqual(m.code, 1) // host unreachable
        XCTAssertEqual(m.checksum, 0xfcfe)
        XCTAssertEqual(m.rest, 0)
        XCTAssertTrue(m.type.isError)

        let (inner, innerOK) = try IPv4Header.parse(m.payload)
        XCTAssertTrue(innerOK)
        XCTAssertEqual(inner.identification, 14750)
        XCTAssertTrue(inner.dontFragment)
        XCTAssertEqual(inner.ttl, 64)
        XCTAssertEqual(inner.checksum, 0xa8db)
        XCTAssertEqual(inner.source, Self.ip02)
        XCTAssertEqual(inner.destination, IPv4Address(172, 18, 0, 9))
        let (echo, echoOK) = try ICMPv4Packet.parse(m.payload, at: 20)
        XCTAssertTrue(echoOK)
        XCTAssertEqual(echo.checksum, 0xbcdb)
        XCTAssertEqual(echo.identifier, 18894)
        XCTAssertEqual(echo.sequence, 1)
        XCTAssertEqual(echo.payload, Self.pingPayload(sec: 0x6b03_635e, usec: 0x0e_b3c2))
    }

    // MARK: - fields -> bytes

    func testEchoFieldsToBytes() {
        let payload = Self.pingPayload(sec: 1_795_381_463, usec: 889_642)
        XCTAssertEqual(ICMPv4Packet.echo(request: true, identifier: 3677, sequence: 1, payload: payload).bytes,
                       Self.icmp(Captured.echoRequest1))
        XCTAssertEqual(ICMPv4Packet.echo(request: false, identifier: 3677, sequence: 1, payload: payload).bytes,
                       Self.icmp(Captured.echoReply1))
    }

    func testOddLengthEchoFieldsToBytes() {
        // ping -s 3 shape: id 0x1234, seq 1, payload 00 01 02; checksum 0xe3c9 computed independently (Python).
        var m = ICMPv4Packet.echo(request: true, identifier: 0x1234, sequence: 1, payload: [0, 1, 2])
        XCTAssertEqual(m.bytes, [0x08, 0x00, 0xe3, 0xc9, 0x12, 0x34, 0x00, 0x01, 0x00, 0x01, 0x02])
        var b = canaryBuffer(11)
        m.emit(into: &b)
        XCTAssertEqual(b, [0x08, 0x00, 0xe3, 0xc9, 0x12, 0x34, 0x00, 0x01, 0x00, 0x01, 0x02])
        XCTAssertEqual(m.checksum, 0xe3c9)
    }

    /// Rebuilds each captured echo frame from fields (Ethernet, IPv4, ICMP) and compares all bytes.
    func testCapturedEchoFramesReEmitIdentically() {
        struct Echo { let frame: [UInt8]; let request: Bool; let ipID: UInt16; let seq: UInt16; let sec: UInt64; let usec: UInt64 }
        let echoes = [
            Echo(frame: Captured.echoRequest1, request: true, ipID: 36090, seq: 1, sec: 0x6b03_58d7, usec: 0x0d_932a),
            Echo(frame: Captured.echoReply1, request: false, ipID: 27459, seq: 1, sec: 0x6b03_58d7, usec: 0x0d_932a),
            Echo(frame: Captured.echoRequest2, request: true, ipID: 36139, seq: 2, sec: 0x6b03_58d8, usec: 0x0e_13b3),
            Echo(frame: Captured.echoReply2, request: false, ipID: 27706, seq: 2, sec: 0x6b03_58d8, usec: 0x0e_13b3),
            Echo(frame: Captured.echoRequest3, request: true, ipID: 36157, seq: 3, sec: 0x6b03_58d9, usec: 0x0e_717f),
            Echo(frame: Captured.echoReply3, request: false, ipID: 27846, seq: 3, sec: 0x6b03_58d9, usec: 0x0e_717f),
        ]
        for e in echoes {
            let (src, dst, smac, dmac) = e.request ? (Self.ip02, Self.ip03, Self.mac02, Self.mac03)
                                                   : (Self.ip03, Self.ip02, Self.mac03, Self.mac02)
            var b = [UInt8](repeating: 0, count: 98)
            EthernetHeader(destination: dmac, source: smac, etherType: .ipv4).emit(into: &b)
            // Requests carry DF (PMTU discovery); the kernel's replies do not.
            var ip = IPv4Header(totalLength: 84, identification: e.ipID, dontFragment: e.request, ttl: 64,
                                proto: .icmp, source: src, destination: dst)
            ip.emit(into: &b, at: 14)
            var m = ICMPv4Packet.echo(request: e.request, identifier: 3677, sequence: e.seq,
                                      payload: Self.pingPayload(sec: e.sec, usec: e.usec))
            m.emit(into: &b, at: 34)
            XCTAssertEqual(b, e.frame, "ip id \(e.ipID)")
        }
    }

    func testTimeExceededReEmitsIdentically() {
        // The quoted datagram, itself rebuilt from fields.
        var quoted = [UInt8](repeating: 0, count: 84)
        var inner = IPv4Header(totalLength: 84, identification: 35286, dontFragment: true, ttl: 1, proto: .icmp,
                               source: Self.ip02, destination: IPv4Address(10, 99, 0, 2))
        inner.emit(into: &quoted)
        var echo = ICMPv4Packet.echo(request: true, identifier: 6648, sequence: 1,
                                     payload: Self.pingPayload(sec: 0x6b03_59be, usec: 0x04_bbe9))
        echo.emit(into: &quoted, at: 20)
        XCTAssertEqual(quoted, Array(Captured.timeExceeded[42...]))

        var b = [UInt8](repeating: 0, count: 126)
        EthernetHeader(destination: Self.mac02, source: MACAddress(raw: 0x0200_0000_00fe), etherType: .ipv4).emit(into: &b)
        var ip = IPv4Header(totalLength: 112, identification: 17129, ttl: 64, proto: .icmp,
                            source: IPv4Address(172, 18, 0, 254), destination: Self.ip02, tos: 0xc0)
        ip.emit(into: &b, at: 14)
        var m = ICMPv4Packet(type: .timeExceeded, code: 0, payload: quoted)
        m.emit(into: &b, at: 34)
        XCTAssertEqual(b, Captured.timeExceeded)
        XCTAssertEqual(m.checksum, 0xf4ff)
    }

    func testHostUnreachableReEmitsIdentically() {
        var quoted = [UInt8](repeating: 0, count: 84)
        var inner = IPv4Header(totalLength: 84, identification: 14750, dontFragment: true, ttl: 64, proto: .icmp,
                               source: Self.ip02, destination: IPv4Address(172, 18, 0, 9))
        inner.emit(into: &quoted)
        var echo = ICMPv4Packet.echo(request: true, identifier: 18894, sequence: 1,
                                     payload: Self.pingPayload(sec: 0x6b03_635e, usec: 0x0e_b3c2))
        echo.emit(into: &quoted, at: 20)

        var b = [UInt8](repeating: 0, count: 126)
        EthernetHeader(destination: .zero, source: .zero, etherType: .ipv4).emit(into: &b)
        var ip = IPv4Header(totalLength: 112, identification: 32025, ttl: 64, proto: .icmp,
                            source: Self.ip02, destination: Self.ip02, tos: 0xc0)
        ip.emit(into: &b, at: 14)
        var m = ICMPv4Packet(type: .destinationUnreachable, code: 1, payload: quoted)
        m.emit(into: &b, at: 34)
        XCTAssertEqual(b, Captured.hostUnreachable)
    }

    // MARK: - parse: round trip and errors

    func testParseEmitRoundTrip() throws {
        for f in [Captured.echoRequest1, Captured.echoReply3, Captured.timeExceeded, Captured.hostUnreachable] {
            let m = try ICMPv4Packet.parse(f, at: 34).packet
            XCTAssertEqual(m.bytes, Self.icmp(f))
        }
    }

    func testTruncatedThrows() {
        assertWireError("icmp: truncated header") { try ICMPv4Packet.parse([0x08, 0x00, 0x18, 0x78, 0x0e, 0x5d, 0x00]) }
        assertWireError("icmp: truncated header") { try ICMPv4Packet.parse(Captured.echoRequest1, at: 91) }
        assertWireError("icmp: truncated header") { try ICMPv4Packet.parse(Captured.echoRequest1, at: 34, end: 41) }
        // An end past the buffer (an IP total length longer than what was captured) throws, not traps.
        assertWireError("icmp: truncated message (64 of 100 bytes)") {
            try ICMPv4Packet.parse(Captured.echoRequest1, at: 34, end: 134)
        }
        assertWireError { try ICMPv4Packet.parse(Array(Captured.echoRequest1[0..<60]), at: 34, end: 98) }
    }

    func testEndLimitsThePayload() throws {
        // Trailing bytes (e.g. link padding) past `end` are not part of the message.
        let padded = Captured.echoRequest1 + [0, 0, 0, 0]
        let (m, ok) = try ICMPv4Packet.parse(padded, at: 34, end: 98)
        XCTAssertTrue(ok)
        XCTAssertEqual(m.payload.count, 56)
        // A message cut short no longer verifies.
        let (cut, cutOK) = try ICMPv4Packet.parse(Captured.echoRequest1, at: 34, end: 90)
        XCTAssertFalse(cutOK)
        XCTAssertEqual(cut.payload.count, 48)
    }

    func testBadChecksumParsesButIsReported() throws {
        var f = Captured.echoRequest1
        f[97] ^= 0x40 // last payload byte
        let (m, ok) = try ICMPv4Packet.parse(f, at: 34)
        XCTAssertFalse(ok)
        XCTAssertEqual(m.checksum, 0x1878)
        XCTAssertEqual(m.payload.last, 0x37 ^ 0x40)
    }

    func testUnknownTypesParseAndKeepTheirRest() throws {
        // Type 42 (extended echo request), code 0, rest 0xdeadbeef: kept for printers.
        var b: [UInt8] = [42, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2]
        b.setU16(referenceChecksum(b[...]), at: 2)
        let (m, ok) = try ICMPv4Packet.parse(b)
        XCTAssertTrue(ok)
        XCTAssertEqual(m.type.rawValue, 42)
        XCTAssertEqual(m.rest, 0xdead_beef)
        XCTAssertEqual(m.payload, [1, 2])
        XCTAssertFalse(m.type.isError)
        XCTAssertEqual(m.bytes, b)
    }

    func testErrorTypes() {
        for t: UInt8 in [3, 4, 5, 11, 12] { XCTAssertTrue(ICMPv4Type(rawValue: t).isError, "type \(t)") }
        for t: UInt8 in [0, 8, 9, 10, 13, 14, 42, 255] { XCTAssertFalse(ICMPv4Type(rawValue: t).isError, "type \(t)") }
        XCTAssertEqual(ICMPv4Type.redirect.rawValue, 5)
        XCTAssertEqual(ICMPv4Type.parameterProblem.rawValue, 12)
    }

    // MARK: - emit into a canary buffer

    func testEmitWritesExactlyTheMessage() throws {
        for f in [Captured.echoRequest1, Captured.echoReply1, Captured.timeExceeded, Captured.hostUnreachable] {
            var m = try ICMPv4Packet.parse(f, at: 34).packet
            m.checksum = 0
            let n = 34 + m.length + 7
            var b = canaryBuffer(n)
            m.emit(into: &b, at: 34)
            assertEmitted(b, at: 34, equals: Self.icmp(f), totalCount: n)
        }
        var echo = ICMPv4Packet.echo(request: true, identifier: 3677, sequence: 1,
                                     payload: Self.pingPayload(sec: 1_795_381_463, usec: 889_642))
        var b = canaryBuffer(3 + 64 + 3)
        echo.emit(into: &b, at: 3)
        assertEmitted(b, at: 3, equals: Self.icmp(Captured.echoRequest1), totalCount: 70)
    }
}
